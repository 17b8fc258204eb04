package report

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/config"
)

// symbols are the characters that differ between an emoji/UTF-8 report and
// an ASCII one (--no-emoji, or a locale that cannot show them).
type symbols struct {
	le, ge, dash, arrow, dot, bullet, ellipsis string
}

var (
	unicodeSymbols = symbols{le: "≤", ge: "≥", dash: "–", arrow: "→", dot: "·", bullet: "·", ellipsis: "…"}
	asciiSymbols   = symbols{le: "<=", ge: ">=", dash: "-", arrow: "->", dot: "|", bullet: "-", ellipsis: "..."}
)

func symbolsFor(emoji bool) symbols {
	if emoji {
		return unicodeSymbols
	}
	return asciiSymbols
}

// Areas are the report groups, in display order, with their headers.
// Outcomes of any other category follow them, alphabetically.
var Areas = config.Categories

var areaEmoji = map[string]string{
	"metrics":     "🔍",
	"logs":        "📊",
	"performance": "⚡",
	"alerting":    "🚨",
	"retention":   "🗄️",
}

// otherArea holds outcomes without a category; checks should always set one.
const otherArea = "other"

// areaHeader is an area's title: "🔍 metrics", or "metrics" without emoji.
func areaHeader(area string, emoji bool) string {
	if !emoji {
		return area
	}
	e, ok := areaEmoji[area]
	if !ok {
		e = "📦"
	}
	return e + " " + area
}

// areaGroup is one area's outcomes, in budgets.yaml order.
type areaGroup struct {
	Area     string
	Outcomes []*checks.Outcome
}

// groupByArea splits the outcomes into areas: the known ones in their order,
// then any other category alphabetically. Within an area outcomes keep the
// run's order (budgets.yaml).
func groupByArea(outcomes []checks.Outcome) []areaGroup {
	byArea := map[string][]*checks.Outcome{}
	for i := range outcomes {
		a := outcomes[i].Category
		if a == "" {
			a = otherArea
		}
		byArea[a] = append(byArea[a], &outcomes[i])
	}
	var groups []areaGroup
	for _, a := range Areas {
		if list := byArea[a]; len(list) > 0 {
			groups = append(groups, areaGroup{Area: a, Outcomes: list})
			delete(byArea, a)
		}
	}
	rest := make([]string, 0, len(byArea))
	for a := range byArea {
		rest = append(rest, a)
	}
	sort.Strings(rest)
	for _, a := range rest {
		groups = append(groups, areaGroup{Area: a, Outcomes: byArea[a]})
	}
	return groups
}

// statusEmoji is the marker of a status in emoji reports.
func statusEmoji(s checks.Status) string {
	switch s {
	case checks.Pass:
		return "✅"
	case checks.Warn:
		return "⚠️"
	case checks.Fail:
		return "❌"
	case checks.Error:
		return "💥"
	case checks.Skip:
		return "⏭️"
	case checks.Waived:
		return "🏳️"
	}
	return "❓"
}

// statusTag is the marker of a status in ASCII reports; all are six wide.
func statusTag(s checks.Status) string {
	switch s {
	case checks.Pass:
		return "[PASS]"
	case checks.Warn:
		return "[WARN]"
	case checks.Fail:
		return "[FAIL]"
	case checks.Error:
		return "[ERR ]"
	case checks.Skip:
		return "[SKIP]"
	case checks.Waived:
		return "[WAIV]"
	}
	return "[????]"
}

// shownResults is how many results of a budget reporters list: all of them
// for a small budget, otherwise only the ones that did not pass (a passing
// 200-group cardinality budget says everything in its message).
const shownResults = 6

// maxListedResults caps the non-passing results listed for one budget; the
// JSON report always has all of them.
const maxListedResults = 20

// resultsWorthShowing picks the results a person should read, in the check's
// order, and how many passing and non-passing ones were left out.
func resultsWorthShowing(o *checks.Outcome) (shown []checks.Result, hiddenPass, hiddenOther int) {
	all := len(o.Results) <= shownResults
	for _, r := range o.Results {
		switch {
		case r.Status != checks.Pass && len(shown) >= maxListedResults:
			hiddenOther++
		case all || r.Status != checks.Pass:
			shown = append(shown, r)
		default:
			hiddenPass++
		}
	}
	return shown, hiddenPass, hiddenOther
}

// omittedLine says what resultsWorthShowing left out, or "" when nothing was.
func omittedLine(o *checks.Outcome, hiddenPass, hiddenOther int, sym symbols) string {
	if hiddenOther > 0 {
		return fmt.Sprintf("%s %d more not passing and %d passing not shown (the JSON report has all)", sym.ellipsis, hiddenOther, hiddenPass)
	}
	if hiddenPass > 0 && o.Status != checks.Pass {
		return fmt.Sprintf("%s %s not shown", sym.ellipsis, plural(hiddenPass, "passing result", "passing results"))
	}
	return ""
}

// resultText is one result described for a person, in parts so that each
// format can set them differently (markdown puts Subject in code).
type resultText struct {
	Subject string // the subject and its labels: p95{job="worker"}
	Measure string // 212s ≤ 300s, 29% headroom
	Extras  string // bucket 240s–300s, 1,234 observations
	Note    string
}

func (t resultText) String() string {
	var b strings.Builder
	b.WriteString(t.Subject)
	if t.Measure != "" {
		b.WriteString(" ")
		b.WriteString(t.Measure)
	}
	if t.Extras != "" {
		b.WriteString(" (")
		b.WriteString(t.Extras)
		b.WriteString(")")
	}
	if t.Note != "" {
		b.WriteString("; ")
		b.WriteString(t.Note)
	}
	return b.String()
}

func describeResult(r checks.Result, sym symbols) resultText {
	t := resultText{
		Subject: r.Subject + checks.FormatLabels(r.Labels),
		Measure: describeMeasure(r, sym),
		Extras:  describeExtras(r, sym),
		Note:    r.Note,
	}
	// --baseline: the baseline and the change follow the value.
	if b := checks.BaselineText(r); b != "" {
		if t.Measure != "" {
			t.Measure += ", "
		}
		t.Measure += b
	}
	if r.Waiver != nil {
		if t.Note != "" {
			t.Note += "; "
		}
		t.Note += checks.WaiverText(r.Waiver)
	}
	return t
}

// describeMeasure compares the value with its limit: "212s ≤ 300s, 29%
// headroom", "712s > 600s, 19% over", "10% < 50%, 80% under".
func describeMeasure(r checks.Result, sym symbols) string {
	limit, soft := r.Limit, false
	if limit == nil && r.WarnLimit != nil {
		limit, soft = r.WarnLimit, true
	}
	limitText := ""
	if limit != nil {
		limitText = checks.FormatValue(*limit, r.Unit)
		if soft {
			limitText += " warn limit"
		}
	}
	if r.Value == nil || math.IsNaN(*r.Value) {
		v := "no data"
		if r.Value != nil {
			v = "NaN"
		}
		if limit == nil {
			return v
		}
		return fmt.Sprintf("%s (limit %s %s)", v, opSymbol(r.Op, true, sym), limitText)
	}
	v := *r.Value
	if limit == nil || (r.Op != "<=" && r.Op != ">=") {
		if limit == nil {
			return checks.FormatValue(v, r.Unit)
		}
		return fmt.Sprintf("%s (limit %s %s)", checks.FormatValue(v, r.Unit), r.Op, limitText)
	}
	within := holds(v, r.Op, *limit)
	if soft {
		// Only a warn limit: say so in words rather than as a hard bound.
		side := "above"
		if r.Op == ">=" {
			side = "below"
		}
		if within {
			return fmt.Sprintf("%s (warns %s %s)", checks.FormatValue(v, r.Unit), side, checks.FormatValue(*limit, r.Unit))
		}
		return fmt.Sprintf("%s, %s the warn limit %s", checks.FormatValue(v, r.Unit), side, checks.FormatValue(*limit, r.Unit))
	}
	s := fmt.Sprintf("%s %s %s", checks.FormatPlain(v, r.Unit), opSymbol(r.Op, within, sym), limitText)
	rr := r
	rr.Limit = limit
	if h, ok := checks.Headroom(rr); ok {
		switch {
		case h >= 0:
			s += ", " + formatPercent(h) + " headroom"
		case r.Op == ">=":
			s += ", " + formatPercent(h) + " under"
		default:
			s += ", " + formatPercent(h) + " over"
		}
	}
	if !soft && within && r.WarnLimit != nil && !holds(v, r.Op, *r.WarnLimit) {
		side := "over"
		if r.Op == ">=" {
			side = "under"
		}
		s += fmt.Sprintf(", %s warn limit %s", side, checks.FormatValue(*r.WarnLimit, r.Unit))
	}
	return s
}

// holds reports whether v satisfies "v op limit".
func holds(v float64, op string, limit float64) bool {
	if op == ">=" {
		return v >= limit
	}
	return v <= limit
}

// opSymbol is the relation shown between value and limit: the budget's own
// when it holds, its negation when it does not.
func opSymbol(op string, within bool, sym symbols) string {
	switch {
	case op == ">=" && within:
		return sym.ge
	case op == ">=":
		return "<"
	case within:
		return sym.le
	default:
		return ">"
	}
}

// formatPercent renders a fraction as a percentage without sign: whole
// percents from 10% up, one decimal below.
func formatPercent(f float64) string {
	p := math.Abs(f * 100)
	if p >= 9.95 || p == 0 {
		return strconv.FormatFloat(math.Round(p), 'f', 0, 64) + "%"
	}
	s := strconv.FormatFloat(p, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + "%"
}

// describeExtras renders a result's extra facts in their order; bucket bounds
// become one "bucket 240s–300s" and count/total one "1,234 of 10,000 lines".
func describeExtras(r checks.Result, sym symbols) string {
	extra := map[string]any{}
	for _, kv := range r.Extra {
		if _, dup := extra[kv.Key]; !dup {
			extra[kv.Key] = kv.Value
		}
	}
	var parts []string
	done := map[string]bool{}
	for _, kv := range r.Extra {
		if done[kv.Key] {
			continue
		}
		done[kv.Key] = true
		switch kv.Key {
		case "bucket_lower", "bucket_upper":
			done["bucket_lower"], done["bucket_upper"] = true, true
			if s := describeBucket(extra, r.Unit, sym); s != "" {
				parts = append(parts, s)
			}
		case "observations":
			if f, ok := kv.Value.(float64); ok {
				parts = append(parts, formatCount(f)+" "+pluralWord(math.Round(f), "observation", "observations"))
				continue
			}
			parts = append(parts, "observations "+formatExtra(kv.Value))
		case "count", "total":
			c, okc := extra["count"].(float64)
			t, okt := extra["total"].(float64)
			if okc && okt {
				done["count"], done["total"] = true, true
				parts = append(parts, formatCount(c)+" of "+formatCount(t)+" lines")
				continue
			}
			parts = append(parts, kv.Key+" "+formatExtra(kv.Value))
		default:
			parts = append(parts, kv.Key+" "+formatExtra(kv.Value))
		}
	}
	return strings.Join(parts, ", ")
}

func describeBucket(extra map[string]any, unit string, sym symbols) string {
	lo, okl := extra["bucket_lower"].(float64)
	hi, okh := extra["bucket_upper"].(float64)
	switch {
	case okl && okh && math.IsInf(hi, 1):
		return "bucket > " + checks.FormatValue(lo, unit)
	case okl && okh:
		return "bucket " + checks.FormatPlain(lo, unit) + sym.dash + checks.FormatValue(hi, unit)
	case okh:
		return "bucket " + sym.le + " " + checks.FormatValue(hi, unit)
	case okl:
		return "bucket > " + checks.FormatValue(lo, unit)
	}
	return ""
}

// formatCount renders a count of things (observations come from rates and
// are rarely whole) rounded, with thousands separators.
func formatCount(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return checks.FormatValue(f, "")
	}
	return checks.FormatValue(math.Round(f), "series")
}

func formatExtra(v any) string {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) {
			return checks.FormatValue(x, "series")
		}
		return checks.FormatValue(x, "")
	case string:
		return x
	case nil:
		return "none"
	}
	return fmt.Sprint(v)
}

func pluralWord(n float64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// summaryLine is the last line of the console report and the GitHub notice:
// "12 budgets: 9 passed, 1 warning, 1 failed, 1 error, 0 skipped".
func summaryCounts(s Summary) string {
	out := fmt.Sprintf("%s: %d passed, %s, %d failed, %s, %d skipped",
		plural(s.Total, "budget", "budgets"), s.Pass,
		plural(s.Warn, "warning", "warnings"), s.Fail,
		plural(s.Error, "error", "errors"), s.Skip)
	if s.Waived > 0 {
		// Only when there are: runs without waivers read as before.
		out += fmt.Sprintf(", %d waived", s.Waived)
	}
	return out
}

// verdict is the run's verdict as a word: PASS, WARN, FAIL, ERROR, SKIP.
func verdict(run *Run) string {
	return strings.ToUpper(run.Verdict().String())
}

// warningsFail is the note a report adds when the run's warnings fail it,
// so that a reader seeing FAIL over a table of warnings knows why.
func warningsFail(run *Run) bool {
	return run.FailOn == checks.Warn && run.Summarize().Warn > 0
}

// errorText is "unavailable: connection refused", or the message alone.
func errorText(e *checks.OutcomeError) string {
	if e == nil {
		return ""
	}
	if e.Kind == "" {
		return e.Message
	}
	return e.Kind + ": " + e.Message
}

// evaluatedAt renders the evaluation time in RFC3339 UTC, "" when unset.
func evaluatedAt(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// toolName defaults to the binary's name for hand-built runs.
func toolName(run *Run) string {
	if run.ToolName == "" {
		return "secflow-budget"
	}
	return run.ToolName
}

// runHeader is "secflow-budget 1.2.3 · offline · testdata/snap · evaluated at
// 2026-11-26T12:00:00Z", leaving out what the run does not know.
func runHeader(run *Run, sym symbols) string {
	parts := []string{toolName(run)}
	if run.Version != "" {
		parts[0] += " " + run.Version
	}
	if run.Mode != "" {
		parts = append(parts, run.Mode)
	}
	if run.Target != "" {
		parts = append(parts, run.Target)
	}
	if e := enginesText(run); e != "" {
		parts = append(parts, e)
	}
	if at := evaluatedAt(run.EvaluatedAt); at != "" {
		parts = append(parts, "evaluated at "+at)
	}
	return strings.Join(parts, " "+sym.dot+" ")
}

// lineKind says what a line under a budget is, so the console can color it.
type lineKind int

const (
	resultLine lineKind = iota
	omittedResultsLine
	noteLine
	detailLine
	errorLine
	severityLine
	runbookLine
)

// outcomeLine is one line explaining a budget.
type outcomeLine struct {
	Kind   lineKind
	Status checks.Status // of the result, for result lines
	Text   string
}

// outcomeLines explain a budget to a person: the results worth reading,
// notes, details (e.g. the top offending groups), the error, and for a
// budget that did not pass its severity and runbook. The plain-text formats
// share them; markdown sets the same facts its own way.
func outcomeLines(o *checks.Outcome, sym symbols) []outcomeLine {
	var lines []outcomeLine
	add := func(k lineKind, s checks.Status, text string) {
		lines = append(lines, outcomeLine{Kind: k, Status: s, Text: text})
	}
	shown, hiddenPass, hiddenOther := resultsWorthShowing(o)
	for _, r := range shown {
		add(resultLine, r.Status, describeResult(r, sym).String())
	}
	if s := omittedLine(o, hiddenPass, hiddenOther, sym); s != "" {
		add(omittedResultsLine, checks.Pass, s)
	}
	for _, n := range o.Notes {
		add(noteLine, checks.Pass, "note: "+n)
	}
	for _, d := range o.Details {
		add(detailLine, checks.Pass, sym.bullet+" "+d)
	}
	if o.Err != nil && o.Err.Message != o.Message {
		add(errorLine, checks.Error, "error: "+errorText(o.Err))
	}
	if o.Status != checks.Pass && o.Severity == "warning" {
		add(severityLine, checks.Pass, "severity warning: a violation only warns")
	}
	if o.Status != checks.Pass && o.Runbook != "" {
		add(runbookLine, checks.Pass, "runbook: "+o.Runbook)
	}
	return lines
}

// printable keeps text from a source or a check from driving the terminal
// or breaking a format: line breaks become "\n", tabs stay, and every other
// control character (ESC of an ANSI sequence, NUL, C1 codes) becomes U+FFFD,
// or "?" in an ASCII report. Other UTF-8 in labels and messages is the
// user's data and stays.
func printable(s string, ascii bool) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r) || r == unicode.ReplacementChar:
			if ascii {
				return '?'
			}
			return unicode.ReplacementChar
		}
		return r
	}, s)
}
