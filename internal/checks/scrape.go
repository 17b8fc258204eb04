package checks

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
)

var scrapeFields = []config.Field{
	{Name: "job", Kind: config.KindStrings, Required: true, Doc: "The scrape job, or a list of jobs."},
	{Name: "interval", Kind: config.KindDuration, Doc: "Every target's scrape interval must equal this."},
	{Name: "max_interval", Kind: config.KindDuration, Doc: "Every target's scrape interval must be at most this."},
	{Name: "max_samples", Kind: config.KindNumber, Min: config.Bound(0), Doc: "scrape_samples_scraped per target."},
	{Name: "max_body_bytes", Kind: config.KindSize, Doc: "scrape_body_size_bytes per target."},
	{Name: "up", Kind: config.KindAnyOf, AnyOf: []config.Field{{Kind: config.KindBool}, {Kind: config.KindShare}}, Doc: "true (default): every target up; a share such as 90%: that share of each job's targets; false: not checked."},
}

// ScrapeCheck holds a job's scrape targets to their budget: up, scraped at
// the interval (exactly, with `interval`, or at most, with `max_interval`),
// within a number of samples and a body size per scrape. Targets, their
// health and their intervals come from /api/v1/targets; samples and body
// sizes from the scrape metrics Prometheus writes for every target.
//
// The interval is read from the target's discovered label
// __scrape_interval__: client_golang's ActiveTarget does not carry the
// scrapeInterval field of the API's answer, and the discovered label holds
// the same value unless relabeling rewrites it.
type ScrapeCheck struct {
	jobs         []string
	interval     time.Duration // exact; 0: not checked
	maxInterval  time.Duration // at most; 0: not checked
	maxSamples   *float64
	maxBody      *float64
	up           upRule
	samplesQuery string
	bodyQuery    string
	onMissing    config.OnMissing
}

// upRule says how targets must be up: all of them (the default), a share of
// each job's targets, or not at all (off).
type upRule struct {
	off      bool
	minShare *float64
}

// scrapeTargetsQuery is what Queries shows for the targets API.
const scrapeTargetsQuery = "GET /api/v1/targets"

func buildScrape(b *config.Budget, f *config.Fields) Check {
	c := &ScrapeCheck{onMissing: b.OnMissing}
	if f.Require("job") {
		if jobs, ok := f.Strings("job"); ok {
			if len(jobs) == 0 {
				f.Errorf("job", "no job: name the scrape job (or a list of jobs)")
			}
			first := make(map[string]int, len(jobs))
			for i, j := range jobs {
				_, dup := first[j]
				switch {
				case j == "":
					f.Errorf("job", "empty job name")
				case dup:
					f.ErrorfTwice("job", first[j], i, "job %q listed twice", j)
					continue
				}
				first[j] = i
			}
			c.jobs = jobs
		}
	}
	if f.Has("interval") {
		c.interval, _ = f.Duration("interval")
	}
	if f.Has("max_interval") {
		c.maxInterval, _ = f.Duration("max_interval")
		if f.Has("interval") {
			f.Errorf("max_interval", "set interval (the scrape interval must equal it) or max_interval (it must be at most that), not both")
		}
	}
	if f.Has("max_samples") {
		if v, ok := f.Float("max_samples"); ok {
			if v < 0 {
				f.Errorf("max_samples", "a number of samples cannot be negative")
			}
			c.maxSamples = F(v)
		}
	}
	if f.Has("max_body_bytes") {
		if v, ok := f.Size("max_body_bytes"); ok {
			c.maxBody = F(v)
		}
	}
	c.up = readUpRule(f)
	if c.up.off && !f.Has("interval") && !f.Has("max_interval") && !f.Has("max_samples") && !f.Has("max_body_bytes") {
		f.Errorf("up", "nothing to check: with up: false, set interval, max_interval, max_samples or max_body_bytes")
	}
	if len(c.jobs) > 0 {
		sel := []*labels.Matcher{jobMatcher(c.jobs)}
		c.samplesQuery = selector("scrape_samples_scraped", sel)
		c.bodyQuery = selector("scrape_body_size_bytes", sel)
	}
	return c
}

func readUpRule(f *config.Fields) upRule {
	s, ok := f.String("up")
	if !ok {
		return upRule{}
	}
	switch s {
	case "true":
		return upRule{}
	case "false":
		return upRule{off: true}
	}
	v, err := config.ParseShare(s)
	if err != nil {
		f.Errorf("up", "invalid value %q: want true (every target up), false, or the share of each job's targets that must be up, e.g. 90%%", s)
		return upRule{}
	}
	return upRule{minShare: F(v)}
}

// jobMatcher matches the jobs exactly: job="api", or job=~"api|worker"
// with each name's regexp characters escaped.
func jobMatcher(jobs []string) *labels.Matcher {
	if len(jobs) == 1 {
		return labels.MustNewMatcher(labels.MatchEqual, "job", jobs[0])
	}
	quoted := make([]string, len(jobs))
	for i, j := range jobs {
		quoted[i] = regexp.QuoteMeta(j)
	}
	return labels.MustNewMatcher(labels.MatchRegexp, "job", strings.Join(quoted, "|"))
}

// Queries implements Check.
func (c *ScrapeCheck) Queries() []Query {
	q := []Query{{Lang: "http", Text: scrapeTargetsQuery}}
	if c.maxSamples != nil {
		q = append(q, Query{Lang: "promql", Text: c.samplesQuery})
	}
	if c.maxBody != nil {
		q = append(q, Query{Lang: "promql", Text: c.bodyQuery})
	}
	return q
}

// targetKey identifies a target among the series of its scrape metrics.
type targetKey struct{ job, instance string }

// Evaluate implements Check.
func (c *ScrapeCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	if env.PromAPI == nil {
		return Evaluation{}, sources.Errorf(sources.NotConfigured, "prometheus", "no source of Prometheus' targets (/api/v1/targets) was configured")
	}
	tr, err := env.PromAPI.Targets(ctx)
	if err != nil {
		return Evaluation{}, err
	}
	byJob := map[string][]v1.ActiveTarget{}
	for _, t := range tr.Active {
		if j := string(t.Labels[model.JobLabel]); slices.Contains(c.jobs, j) {
			byJob[j] = append(byJob[j], t)
		}
	}
	if len(byJob) == 0 {
		return Evaluation{Missing: fmt.Sprintf("no active target of job %s in /api/v1/targets", strings.Join(c.jobs, ", "))}, nil
	}

	var ev Evaluation
	var samples, bodies map[targetKey]float64
	if c.maxSamples != nil {
		if samples, err = c.scrapeMetric(ctx, env, c.samplesQuery); err != nil {
			return Evaluation{}, err
		}
	}
	if c.maxBody != nil {
		if bodies, err = c.scrapeMetric(ctx, env, c.bodyQuery); err != nil {
			return Evaluation{}, err
		}
		if len(bodies) == 0 {
			bodies = nil
			ev.Notes = append(ev.Notes, "scrape_body_size_bytes is not exposed by this server "+
				"(Prometheus writes it only with --enable-feature=extra-scrape-metrics): max_body_bytes was not checked")
		}
	}

	for _, job := range c.jobs {
		ts := byJob[job]
		if len(ts) == 0 {
			ev.Results = append(ev.Results, Result{Subject: "targets", Labels: map[string]string{"job": job},
				Missing: true, Note: "no active target of this job in /api/v1/targets"})
			continue
		}
		sort.SliceStable(ts, func(i, j int) bool { return ts[i].Labels[model.InstanceLabel] < ts[j].Labels[model.InstanceLabel] })
		up := 0
		for _, t := range ts {
			instance := string(t.Labels[model.InstanceLabel])
			key := targetKey{job, instance}
			lbl := func() map[string]string { return map[string]string{"job": job, "instance": instance} }
			if t.Health == v1.HealthGood {
				up++
			}
			if !c.up.off {
				ev.Results = append(ev.Results, c.upResult(t, lbl()))
			}
			if c.interval > 0 || c.maxInterval > 0 {
				ev.Results = append(ev.Results, c.intervalResult(t, lbl()))
			}
			if c.maxSamples != nil {
				ev.Results = append(ev.Results, perTarget("samples", "samples", lbl(), samples, key, c.maxSamples,
					"no scrape_samples_scraped series for this target at the evaluation time"))
			}
			if bodies != nil {
				ev.Results = append(ev.Results, perTarget("body_bytes", "bytes", lbl(), bodies, key, c.maxBody,
					"no scrape_body_size_bytes series for this target at the evaluation time"))
			}
		}
		if c.up.minShare != nil {
			r := Result{Subject: "up_share", Labels: map[string]string{"job": job}, Unit: "ratio",
				Extra: []KV{{"up", float64(up)}, {"targets", float64(len(ts))}}}
			Limits{Min: c.up.minShare}.Judge(&r, float64(up)/float64(len(ts)))
			ev.Results = append(ev.Results, r)
		}
	}
	ev.Message = c.message(ev.Results)
	return ev, nil
}

// scrapeMetric runs one of the per-target scrape metric queries and indexes
// the answer by target.
func (c *ScrapeCheck) scrapeMetric(ctx context.Context, env Env, query string) (map[targetKey]float64, error) {
	if env.Prometheus == nil {
		return nil, sources.Errorf(sources.NotConfigured, "prometheus", "no PromQL source was configured")
	}
	vec, err := env.Prometheus.Query(ctx, query, env.At)
	if err != nil {
		return nil, err
	}
	out := make(map[targetKey]float64, len(vec))
	for _, s := range vec {
		out[targetKey{string(s.Metric[model.JobLabel]), string(s.Metric[model.InstanceLabel])}] = float64(s.Value)
	}
	return out, nil
}

func perTarget(subject, unit string, lbl map[string]string, values map[targetKey]float64, key targetKey, limit *float64, missing string) Result {
	r := Result{Subject: subject, Labels: lbl, Unit: unit}
	v, ok := values[key]
	if !ok {
		r.Missing, r.Note, r.Limit, r.Op = true, missing, limit, "<="
		return r
	}
	Limits{Max: limit}.Judge(&r, v)
	return r
}

func (c *ScrapeCheck) upResult(t v1.ActiveTarget, lbl map[string]string) Result {
	r := Result{Subject: "up", Labels: lbl}
	tolerated := c.up.minShare != nil
	switch t.Health {
	case v1.HealthGood:
		r.Value, r.Status = F(1), Pass
	case v1.HealthBad:
		r.Value, r.Status, r.Note = F(0), Fail, "down: "+lastError(t.LastError)
		if tolerated {
			r.Status = Pass
			r.Note += " (up_share judges the job)"
		}
	default:
		r.Note = fmt.Sprintf("not scraped yet (health %q)", t.Health)
		if tolerated {
			r.Value, r.Status = F(0), Pass
			r.Note += " (up_share judges the job)"
		} else {
			r.Missing = true
		}
	}
	return r
}

func (c *ScrapeCheck) intervalResult(t v1.ActiveTarget, lbl map[string]string) Result {
	r := Result{Subject: "interval", Labels: lbl, Unit: "seconds"}
	want := c.maxInterval
	if c.interval > 0 {
		want = c.interval
	}
	raw := t.DiscoveredLabels[model.ScrapeIntervalLabel]
	d, err := model.ParseDuration(raw)
	if raw == "" || err != nil {
		r.Missing, r.Limit, r.Op = true, F(want.Seconds()), "<="
		r.Note = "the server reports no scrape interval for this target (no " + model.ScrapeIntervalLabel + " among its discovered labels)"
		if c.interval > 0 {
			r.Op = "=="
		}
		return r
	}
	got := time.Duration(d)
	if c.interval > 0 {
		r.Value, r.Limit, r.Op, r.Status = F(got.Seconds()), F(want.Seconds()), "==", Pass
		if got != want {
			r.Status = Fail
		}
		return r
	}
	Limits{Max: F(want.Seconds())}.Judge(&r, got.Seconds())
	return r
}

// lastError is Prometheus' lastError of a target, shortened, with what
// secret.Text masks (the scrape URL's userinfo and credential parameters).
func lastError(s string) string {
	if s == "" {
		return "no error reported"
	}
	s = secret.Text(s)
	if len(s) > 300 {
		s = strings.ToValidUTF8(s[:300], "") + "..."
	}
	return s
}

// message names the worst result, or sums up a passing job:
// "3 targets up, scraped every 15s, at most 589 samples <= 10,000".
func (c *ScrapeCheck) message(rs []Result) string {
	if len(rs) == 0 {
		return "no results"
	}
	worst, others := headline(rs, c.onMissing)
	w := rs[worst]
	if effectiveStatus(w, c.onMissing) == Pass {
		return c.passMessage(rs)
	}
	inst := w.Labels["instance"]
	var msg string
	switch {
	case w.Subject == "targets":
		msg = fmt.Sprintf("job %s: %s", w.Labels["job"], w.Note)
	case w.Missing:
		msg = fmt.Sprintf("%s: %s", inst, w.Note)
	case w.Status == Error:
		msg = fmt.Sprintf("%s %s: %s", inst, w.Subject, w.Note)
	case w.Subject == "up":
		msg = inst + " " + w.Note
	case w.Subject == "interval" && w.Op == "==":
		msg = fmt.Sprintf("%s scraped every %s, want %s", inst, FormatValue(*w.Value, "seconds"), FormatValue(*w.Limit, "seconds"))
	case w.Subject == "samples" || w.Subject == "body_bytes":
		what, v := "scrape body", FormatValue(*w.Value, w.Unit)
		if w.Subject == "samples" {
			what, v = "scraped", FormatPlain(*w.Value, w.Unit)+" samples"
		}
		msg = fmt.Sprintf("%s %s %s %s %s", inst, what, v, opWord(w), FormatPlain(*w.Limit, w.Unit))
	case w.Subject == "up_share":
		msg = fmt.Sprintf("job %s: %s", w.Labels["job"], DescribeResult(Result{Subject: "up", Value: w.Value, Unit: w.Unit,
			Limit: w.Limit, Op: w.Op, Status: w.Status}, c.onMissing))
	default:
		shown := w
		shown.Subject, shown.Labels = inst+" "+w.Subject, nil
		msg = DescribeResult(shown, c.onMissing)
	}
	if others > 0 {
		msg += fmt.Sprintf(" (and %d more not passing)", others)
	}
	return msg
}

func (c *ScrapeCheck) passMessage(rs []Result) string {
	targets := map[targetKey]bool{}
	var maxOf = map[string]*Result{}
	for i, r := range rs {
		if inst, ok := r.Labels["instance"]; ok {
			targets[targetKey{r.Labels["job"], inst}] = true
		}
		if r.Value == nil {
			continue
		}
		if m := maxOf[r.Subject]; m == nil || *r.Value > *m.Value {
			maxOf[r.Subject] = &rs[i]
		}
	}
	n := countNoun(len(targets), "target", "targets")
	var parts []string
	switch {
	case c.up.off:
		parts = append(parts, n)
	case c.up.minShare != nil:
		up := 0
		for _, r := range rs {
			if r.Subject == "up" && r.Value != nil && *r.Value == 1 {
				up++
			}
		}
		parts = append(parts, fmt.Sprintf("%d of %s up", up, n))
	default:
		parts = append(parts, n+" up")
	}
	if r := maxOf["interval"]; r != nil {
		if c.interval > 0 {
			parts = append(parts, "scraped every "+FormatValue(c.interval.Seconds(), "seconds"))
		} else {
			parts = append(parts, fmt.Sprintf("scraped at most every %s <= %s", FormatValue(*r.Value, "seconds"), FormatValue(*r.Limit, "seconds")))
		}
	}
	for _, s := range []struct{ subject, what string }{{"samples", "samples"}, {"body_bytes", "per scrape"}} {
		if r := maxOf[s.subject]; r != nil && r.Limit != nil {
			v := FormatValue(*r.Value, r.Unit)
			if s.subject == "samples" {
				v = FormatPlain(*r.Value, r.Unit) + " samples"
			} else {
				v += " " + s.what
			}
			parts = append(parts, fmt.Sprintf("at most %s <= %s", v, FormatPlain(*r.Limit, r.Unit)))
		}
	}
	return strings.Join(parts, ", ")
}

// opWord is the relation of a judged result's value to its limit as it
// stands: the limit's own op when within, its negation past it.
func opWord(r Result) string {
	if r.Status == Fail {
		return negate(r.Op)
	}
	return r.Op
}

// effectiveStatus is a result's status once on_missing has spoken.
func effectiveStatus(r Result, onMissing config.OnMissing) Status {
	if r.Missing {
		return missingStatus(onMissing)
	}
	return r.Status
}

// headline picks the result a budget's message should be about, the first
// one of the worst status, and counts the others that did not pass.
func headline(rs []Result, onMissing config.OnMissing) (worst, others int) {
	for i, r := range rs {
		if effectiveStatus(r, onMissing) > effectiveStatus(rs[worst], onMissing) {
			worst = i
		}
	}
	for i, r := range rs {
		if i != worst && effectiveStatus(r, onMissing) != Pass {
			others++
		}
	}
	return worst, others
}
