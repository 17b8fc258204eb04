package checks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

// Run evaluates the planned checks, at most concurrency at a time, and
// returns their outcomes in plan order. Failed queries become error
// outcomes; other budgets still run. When ctx ends (--timeout or an
// interrupt), the budgets not decided within cutShortGrace are error
// outcomes of kind "timeout" or "interrupted", and timedOut tells which:
// a check that ignores ctx cannot hold the run (and its reports) back.
func Run(ctx context.Context, plan []*Planned, env Env, concurrency int, now func() time.Time) (out []Outcome, timedOut bool) {
	if concurrency < 1 {
		concurrency = 1
	}
	out = make([]Outcome, len(plan))
	decided := make([]bool, len(plan))
	var mu sync.Mutex
	returned := false
	decide := func(i int, o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		if !returned {
			out[i], decided[i] = o, true
		}
	}
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, p := range plan {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				decide(i, maskOutcome(judge(ctx, p, Evaluation{}, ctx.Err(), 0, nil)))
				return
			}
			start := now()
			wctx, warnings := sources.WithWarnings(ctx)
			ev, err := p.Check.Evaluate(wctx, env)
			decide(i, maskOutcome(judge(ctx, p, ev, err, now().Sub(start), warnings.List())))
		}()
	}
	finished := make(chan struct{})
	go func() {
		wg.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-ctx.Done():
		select {
		case <-finished:
		case <-time.After(cutShortGrace):
		}
	}
	mu.Lock()
	defer mu.Unlock()
	returned = true
	for i, p := range plan {
		if !decided[i] {
			out[i] = maskOutcome(judge(ctx, p, Evaluation{}, ctx.Err(), 0, nil))
		}
	}
	return out, errors.Is(ctx.Err(), context.DeadlineExceeded)
}

// cutShortGrace is how long Run waits, once ctx has ended, for checks to
// notice and return.
const cutShortGrace = 200 * time.Millisecond

// judge turns a check's evaluation into an outcome: on_missing for absent
// data, severity for violations (severity: warning turns every fail of
// the budget, a broken limit or on_missing: fail, into a warn, whether
// the whole budget or one result lacks data; a source's error stays an
// error), the worst result for the status. warnings
// are what the sources said beside their answers (partial data): they
// become notes too, since a verdict may rest on incomplete data.
func judge(ctx context.Context, p *Planned, ev Evaluation, err error, d time.Duration, warnings []string) Outcome {
	b := p.Budget
	o := Outcome{
		Name: b.Name, Type: b.Type, Category: p.Category, Description: b.Description,
		Runbook: b.Runbook, Severity: b.Severity.String(), Tags: b.Tags, Duration: d,
		Notes: ev.Notes, Details: ev.Details, Line: b.Line, Column: b.Col, Warnings: warnings,
		onMissing: b.OnMissing, remessage: ev.Remessage,
	}
	if len(warnings) > 0 {
		o.Notes = append([]string(nil), ev.Notes...)
		for _, w := range warnings {
			o.Notes = append(o.Notes, "warning from "+w+" (the answer may be partial data)")
		}
	}
	if b.Fields != nil {
		o.File = b.Fields.File()
	}
	for _, q := range p.Check.Queries() {
		o.Queries = append(o.Queries, q.Text)
	}
	if err != nil {
		o.Status = Error
		o.Err = &OutcomeError{Kind: sources.KindOf(err).String(), Message: err.Error()}
		if kind, msg, ok := cutShort(ctx, err); ok {
			o.Err = &OutcomeError{Kind: kind, Message: msg}
		}
		if o.Err.Kind == "unknown" {
			o.Err.Kind = "error"
		}
		o.Message = o.Err.Message
		return o
	}
	if ev.Missing != "" {
		o.Status = missingStatus(b.OnMissing)
		o.Message = fmt.Sprintf("no data: %s (on_missing: %s)", ev.Missing, b.OnMissing)
		if o.Status == Fail && b.Severity == config.SeverityWarning {
			// As for a single missing result below: severity: warning
			// makes any failure of the budget a warning.
			o.Status = Warn
			o.Message += SeveritySuffix
		}
		return o
	}
	bySeverity := false
	for _, r := range ev.Results {
		if r.Missing {
			r.Status = missingStatus(b.OnMissing)
		}
		if r.Status == Fail && b.Severity == config.SeverityWarning {
			r.Status, r.BySeverity = Warn, true
			bySeverity = true
		}
		o.Results = append(o.Results, r)
		o.Status = max(o.Status, r.Status)
	}
	o.Message = ev.Message
	if o.Message == "" {
		o.Message = summarize(o.Results, b.OnMissing, b.Name)
		o.derived = !bySeverity
	}
	if bySeverity && o.Status == Warn {
		// The message shows the broken limit as broken ("769.7s > 600s");
		// say why it is only a warning.
		o.Message += SeveritySuffix
	}
	return o
}

// cutShort tells whether err comes from the run ending (--timeout or an
// interrupt) rather than from the source, and says so in the budget's words.
func cutShort(ctx context.Context, err error) (kind, msg string, ok bool) {
	if ctx.Err() == nil || !(errors.Is(err, ctx.Err()) || sources.KindOf(err) == sources.Timeout) {
		return "", "", false
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "timeout", "the run's --timeout expired before this budget was decided", true
	}
	return "interrupted", "the run was interrupted before this budget was decided", true
}

func missingStatus(m config.OnMissing) Status {
	switch m {
	case config.MissingPass:
		return Pass
	case config.MissingWarn:
		return Warn
	case config.MissingSkip:
		return Skip
	}
	return Fail
}

// summarize describes the worst result, the one nearest its limit among
// equals, and how many others share its status.
func summarize(rs []Result, onMissing config.OnMissing, budget string) string {
	if len(rs) == 0 {
		return "no results"
	}
	worst := 0
	for i, r := range rs {
		w := rs[worst]
		if r.Status > w.Status || r.Status == w.Status && closer(r, w) {
			worst = i
		}
	}
	w := rs[worst]
	shown := w
	if shown.Subject == budget {
		shown.Subject = "" // a metric budget's results are named after it: don't say it twice
	}
	msg := DescribeResult(shown, onMissing)
	same := 0
	for _, r := range rs {
		if r.Status == w.Status {
			same++
		}
	}
	if same > 1 && w.Status != Pass {
		msg += fmt.Sprintf(" (and %d more %s)", same-1, w.Status)
	}
	return msg
}

func closer(a, b Result) bool {
	ha, oka := Headroom(a)
	hb, okb := Headroom(b)
	return oka && (!okb || ha < hb)
}

// DescribeResult renders one result as "p95 212s <= 300s" or
// "p99 712s > 600s" or "p95 250s > warn 240s".
func DescribeResult(r Result, onMissing config.OnMissing) string {
	subject := r.Subject + FormatLabels(r.Labels)
	if r.Value == nil || r.Missing {
		note := r.Note
		if note == "" {
			note = "no data"
		}
		if subject == "" {
			return fmt.Sprintf("%s (on_missing: %s)", note, onMissing)
		}
		return fmt.Sprintf("%s: %s (on_missing: %s)", subject, note, onMissing)
	}
	if r.Status == Error {
		// No comparison: an error result has no value to compare (NaN).
		note := r.Note
		if note == "" {
			note = "error"
		}
		if subject == "" {
			return note
		}
		return subject + ": " + note
	}
	v := FormatValue(*r.Value, r.Unit)
	st := r.Status
	if r.Adjusted {
		st = r.ByLimits // a regression or a waiver: the limits said otherwise
	}
	hard, soft := r.Op, r.Op
	switch {
	case st == Fail || r.BySeverity:
		hard = negate(r.Op)
	case st == Warn:
		soft = negate(r.Op)
	}
	var s string
	switch {
	case st == Warn && r.WarnLimit != nil && !r.BySeverity:
		s = fmt.Sprintf("%s %s warn %s", v, soft, FormatValue(*r.WarnLimit, r.Unit))
	case r.Limit != nil:
		s = fmt.Sprintf("%s %s %s", v, hard, FormatValue(*r.Limit, r.Unit))
	case r.WarnLimit != nil:
		s = fmt.Sprintf("%s %s warn %s", v, soft, FormatValue(*r.WarnLimit, r.Unit))
	default:
		s = v
	}
	if b := BaselineText(r); b != "" {
		s += ", " + b
	}
	if r.Waiver != nil {
		s += " (" + WaiverText(r.Waiver) + ")"
	}
	if subject == "" {
		return s
	}
	return subject + " " + s
}

// SeveritySuffix follows the message of a budget that broke a hard limit
// and only warns because of its severity.
const SeveritySuffix = " (severity: warning)"

func negate(op string) string {
	if op == ">=" {
		return "<"
	}
	return ">"
}
