// Package starter writes a starter budgets.yaml from what the sources hold
// now (secflow-budget init): the metrics there are, their series count,
// each histogram's percentiles, each service's log volume and level
// shares, the redaction presets, the loaded alerts, the scrape targets and
// the retention, each limit today's value with headroom, each budget under
// a comment saying what was observed.
//
// It observes through the budget checks themselves: a probe budget with
// limits no value reaches is evaluated by package checks, and the file it
// writes is evaluated again before it is returned, so that `check` on the
// same data passes by construction (a budget that would not is left out,
// with a comment saying why). It reads sources only through the
// interfaces of package sources, live or offline alike, and never writes
// a file (the cli does).
package starter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/sources"
)

// Sources are what init observes; any may be nil.
type Sources struct {
	Prometheus sources.PromQL
	PromAPI    sources.PromAPI
	// LogQL answers the given LogQL queries (offline, a snapshot answers
	// only the queries it is given, in one pass over its logs).
	LogQL   func(ctx context.Context, queries []string) (sources.LogQL, error)
	LokiAPI sources.LokiAPI
	At      time.Time
}

// Options shape the file.
type Options struct {
	// Prefix selects the metrics by name; empty: every metric of a
	// scrape job (a series with a job label) but Prometheus' own per-target
	// series (up, scrape_*).
	Prefix string
	// Headroom multiplies each observed value into its limit (1.25: 25%).
	Headroom float64
	// ServiceLabel is the stream label that names a service in Loki.
	ServiceLabel string
	// Window is the evaluation window of every budget (defaults.window).
	Window time.Duration
	// Header lines (without "# "): where the data came from.
	Header []string
	// SchemaRef is the yaml-language-server $schema reference.
	SchemaRef string
	// Sources are written as the file's sources section, when set.
	PrometheusURL, LokiURL string
	// SourcesYAML, when set, is written as the sources section instead
	// (the sources of the budgets file init read them from).
	SourcesYAML string
}

// DefaultSchemaURL is the schema a written file names: the repository's
// committed schema, which resolves wherever the file lives (a relative
// path would only resolve inside this repository).
const DefaultSchemaURL = "https://raw.githubusercontent.com/secflow/secflow-budget/main/schema/budgets.schema.json"

// SchemaComment is the first line of a budgets file that names its schema.
func SchemaComment(ref string) string { return "# yaml-language-server: $schema=" + ref }

// The report areas, in the order the file lists them.
const (
	secMetrics     = "🔍 metrics"
	secLogs        = "📊 logs"
	secPerformance = "⚡ performance"
	secAlerting    = "🚨 alerting"
	secRetention   = "🗄️ retention"
)

var sections = []string{secMetrics, secLogs, secPerformance, secAlerting, secRetention}

// budget is one budget of the file: its comment and its keys.
type budget struct {
	section string   // the area comment before it, e.g. "🔍 metrics"
	comment []string // what was observed
	name    string
	typ     string
	lines   []string // "key: value" after name and type
	needs   string   // "prometheus" or "loki"
}

// Generate observes src and returns the starter file.
func Generate(ctx context.Context, src Sources, o Options) ([]byte, error) {
	if o.Headroom < 1 {
		o.Headroom = 1.25
	}
	if o.ServiceLabel == "" {
		o.ServiceLabel = "service"
	}
	if o.Window <= 0 {
		o.Window = time.Hour
	}
	g := &generator{src: src, o: o, at: src.At.UTC().Format(time.RFC3339)}
	steps := []func(context.Context) error{g.metrics, g.scrape, g.alerts, g.logs, g.retention}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return nil, err
		}
	}
	if len(g.budgets) == 0 {
		return nil, errors.New("nothing observed to budget: no metrics, logs, alerts, targets or retention in the sources given")
	}
	// The file must pass on the data it came from: evaluate it, and leave
	// out (saying why) any budget that would not.
	for range 2 {
		outs, err := g.evaluate(ctx, g.budgets)
		if err != nil {
			return nil, err
		}
		var kept []budget
		for i, b := range g.budgets {
			if s := outs[i].Status; s == checks.Fail || s == checks.Error {
				g.leftOut = append(g.leftOut, fmt.Sprintf("%s (%s): would not pass today: %s", b.name, b.typ, outs[i].Message))
				continue
			}
			kept = append(kept, b)
		}
		if len(kept) == len(g.budgets) {
			break
		}
		g.budgets = kept
	}
	if len(g.budgets) == 0 {
		return nil, errors.New("no budget would pass on the data observed: " + strings.Join(g.leftOut, "; "))
	}
	sort.SliceStable(g.budgets, func(i, j int) bool {
		return slices.Index(sections, g.budgets[i].section) < slices.Index(sections, g.budgets[j].section)
	})
	return g.render(), nil
}

type generator struct {
	src     Sources
	o       Options
	at      string // the evaluation time, RFC3339
	budgets []budget
	leftOut []string // what was not budgeted, and why
}

// note records why something was not budgeted.
func (g *generator) note(format string, args ...any) {
	g.leftOut = append(g.leftOut, fmt.Sprintf(format, args...))
}

// missing reports whether err is a source's "no such data" (a snapshot
// without the file): the step is skipped with a note; other errors stop
// init.
func missing(err error) bool { return sources.KindOf(err) == sources.Missing }

// probe evaluates budgets (rendered alone in a file) and returns their
// outcomes, in order.
func (g *generator) evaluate(ctx context.Context, bs []budget) ([]checks.Outcome, error) {
	text := renderBudgets(bs, g.o.Window)
	_, plan, err := checks.Parse("init-probe.yaml", []byte(text))
	if err != nil {
		return nil, fmt.Errorf("internal error: the budgets init wrote do not load: %w\n%s", err, text)
	}
	env := checks.Env{Prometheus: g.src.Prometheus, PromAPI: g.src.PromAPI, LokiAPI: g.src.LokiAPI, At: g.src.At}
	var logQueries []string
	for _, p := range plan {
		for _, q := range p.Check.Queries() {
			if q.Lang == "logql" {
				logQueries = append(logQueries, q.Text)
			}
		}
	}
	if len(logQueries) > 0 {
		if g.src.LogQL == nil {
			return nil, errors.New("internal error: a log budget without a log source")
		}
		q, err := g.src.LogQL(ctx, logQueries)
		if err != nil {
			return nil, err
		}
		env.Loki = q
	}
	outs, _ := checks.Run(ctx, plan, env, 4, time.Now)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return outs, nil
}

// probeOne evaluates one budget and returns its outcome, or the source's
// error.
func (g *generator) probeOne(ctx context.Context, b budget) (checks.Outcome, error) {
	outs, err := g.evaluate(ctx, []budget{b})
	if err != nil {
		return checks.Outcome{}, err
	}
	o := outs[0]
	if o.Err != nil && o.Err.Kind != "missing_data" {
		return o, fmt.Errorf("%s", o.Err.Message)
	}
	return o, nil
}

// query runs a PromQL instant query at the evaluation time.
func (g *generator) query(ctx context.Context, q string) (model.Vector, error) {
	v, err := g.src.Prometheus.Query(ctx, q, g.src.At)
	if err != nil {
		return nil, fmt.Errorf("asking Prometheus %s: %w", q, err)
	}
	return v, nil
}

// internalMetric: series Prometheus writes for every target, not the
// job's own metrics.
func internalMetric(name string) bool {
	return name == "up" || strings.HasPrefix(name, "scrape_") || strings.HasPrefix(name, "ALERTS")
}

func (g *generator) metrics(ctx context.Context) error {
	if g.src.Prometheus == nil {
		return nil
	}
	sel := `{job=~".+"}`
	what := "every scrape job's metrics"
	if g.o.Prefix != "" {
		sel = fmt.Sprintf(`{__name__=~%s}`, strconv.Quote(regexpQuote(g.o.Prefix)+".*"))
		what = fmt.Sprintf("metrics named %s*", g.o.Prefix)
	}
	vec, err := g.query(ctx, "count by (__name__, job) ("+sel+")")
	if err != nil {
		if missing(err) {
			g.note("metrics: %v", err)
			return nil
		}
		return err
	}
	names := map[string]bool{}
	jobs := map[string]bool{}
	for _, s := range vec {
		n := string(s.Metric[model.MetricNameLabel])
		if internalMetric(n) {
			continue
		}
		names[n] = true
		if j := string(s.Metric["job"]); j != "" {
			jobs[j] = true
		}
	}
	if len(names) == 0 {
		g.note("metrics: no series of %s at %s", what, g.at)
		return nil
	}
	families, histograms := metricFamilies(names)
	g.budgets = append(g.budgets, budget{
		section: secMetrics,
		comment: []string{fmt.Sprintf("observed %s: %d metrics (%s) with series, from jobs %s", g.at, len(families), what, strings.Join(sortedKeys(jobs), ", "))},
		name:    "metrics-present", typ: "metrics_present",
		lines: append([]string{"metrics:"}, listLines(families)...),
		needs: "prometheus",
	})

	// Cardinality: the series of the same selector, with headroom.
	card := budget{section: secMetrics, name: "series-cardinality", typ: "cardinality", needs: "prometheus", lines: []string{"selector: " + yamlString(cardSelector(g.o.Prefix)), "max: 1e15"}}
	o, err := g.probeOne(ctx, card)
	if err != nil {
		return err
	}
	if n, ok := firstValue(o, "series"); ok {
		max := niceCeil(n * g.o.Headroom)
		card.lines[1] = "max: " + strconv.FormatFloat(max, 'f', -1, 64)
		card.comment = []string{fmt.Sprintf("observed %s: %s series matching %s; max is that plus %s, rounded up", g.at, checks.FormatValue(n, "series"), cardSelector(g.o.Prefix), headroomText(g.o.Headroom))}
		g.budgets = append(g.budgets, card)
	}

	for _, h := range histograms {
		if err := g.latency(ctx, h); err != nil {
			return err
		}
	}
	return nil
}

// cardSelector is the cardinality budget's selector: the prefix's
// metrics, or every job's series.
func cardSelector(prefix string) string {
	if prefix == "" {
		return `{job=~".+"}`
	}
	return fmt.Sprintf(`{__name__=~%s}`, strconv.Quote(regexpQuote(prefix)+".*"))
}

// metricFamilies folds histogram and summary series into their family
// names; histograms are the classic histograms among them.
func metricFamilies(names map[string]bool) (families, histograms []string) {
	fam := map[string]bool{}
	hist := map[string]bool{}
	for n := range names {
		base := n
		for _, suf := range []string{"_bucket", "_count", "_sum"} {
			if b, ok := strings.CutSuffix(n, suf); ok && (names[b+"_bucket"] || (names[b] && names[b+"_count"])) {
				base = b
				if names[b+"_bucket"] {
					hist[b] = true
				}
			}
		}
		fam[base] = true
	}
	return sortedKeys(fam), sortedKeys(hist)
}

// latency budgets a histogram's p95 and p99 at the bucket bound at or
// above today's value with headroom.
func (g *generator) latency(ctx context.Context, h string) error {
	probe := budget{name: "latency-probe", typ: "latency", needs: "prometheus", lines: []string{"histogram: " + h, "percentiles: {p95: 1000w, p99: 1000w}"}}
	o, err := g.probeOne(ctx, probe)
	if err != nil {
		return err
	}
	bounds, err := g.bucketBounds(ctx, h)
	if err != nil {
		return err
	}
	var limits, seen []string
	obs := math.NaN()
	for _, r := range o.Results {
		if r.Value == nil || math.IsNaN(*r.Value) || r.Status != checks.Pass {
			g.note("%s: no %s today (no observations in the last %s?): no latency budget", h, r.Subject, promDuration(g.o.Window))
			return nil
		}
		v := *r.Value
		limit := bucketAtLeast(bounds, v*g.o.Headroom)
		limits = append(limits, fmt.Sprintf("%s: %s", r.Subject, formatSeconds(limit)))
		s := fmt.Sprintf("%s %s", r.Subject, checks.FormatValue(v, "seconds"))
		if lo, hi := extra(r, "bucket_lower"), extra(r, "bucket_upper"); lo != "" && hi != "" {
			s += fmt.Sprintf(" (bucket %s–%s)", lo, hi)
		}
		seen = append(seen, s)
		for _, kv := range r.Extra {
			if x, ok := kv.Value.(float64); ok && kv.Key == "observations" {
				obs = x
			}
		}
	}
	if len(limits) == 0 {
		g.note("%s: no percentile today: no latency budget", h)
		return nil
	}
	c := fmt.Sprintf("observed %s over %s: %s", g.at, promDuration(g.o.Window), strings.Join(seen, ", "))
	if !math.IsNaN(obs) {
		c += fmt.Sprintf("; %s observations", checks.FormatValue(math.Round(obs), "series"))
	}
	g.budgets = append(g.budgets, budget{
		section: secPerformance,
		comment: []string{c, fmt.Sprintf("limits: today's value plus %s, up to the next bucket bound", headroomText(g.o.Headroom))},
		name:    "latency-" + budgetName(strings.TrimSuffix(h, "_seconds")), typ: "latency", needs: "prometheus",
		lines: []string{"histogram: " + h, "percentiles: {" + strings.Join(limits, ", ") + "}"},
	})
	return nil
}

func extra(r checks.Result, key string) string {
	for _, kv := range r.Extra {
		if kv.Key != key {
			continue
		}
		if f, ok := kv.Value.(float64); ok {
			return checks.FormatValue(f, "seconds")
		}
		return fmt.Sprint(kv.Value)
	}
	return ""
}

// bucketBounds lists a classic histogram's finite bucket bounds, sorted.
func (g *generator) bucketBounds(ctx context.Context, h string) ([]float64, error) {
	vec, err := g.query(ctx, fmt.Sprintf("count by (le) (%s_bucket)", h))
	if err != nil {
		return nil, err
	}
	var out []float64
	for _, s := range vec {
		if le, err := strconv.ParseFloat(string(s.Metric["le"]), 64); err == nil && !math.IsInf(le, 0) && le > 0 {
			out = append(out, le)
		}
	}
	sort.Float64s(out)
	return out, nil
}

// bucketAtLeast is the smallest bound at or above v, or v rounded up to a
// nice number past the last bound.
func bucketAtLeast(bounds []float64, v float64) float64 {
	for _, b := range bounds {
		if b >= v {
			return b
		}
	}
	return niceCeil(v)
}

func (g *generator) scrape(ctx context.Context) error {
	if g.src.PromAPI == nil {
		return nil
	}
	res, err := g.src.PromAPI.Targets(ctx)
	if err != nil {
		if missing(err) {
			g.note("scrape targets: %v", err)
			return nil
		}
		return fmt.Errorf("asking Prometheus for its targets: %w", err)
	}
	type job struct{ up, all int }
	jobs := map[string]*job{}
	intervals := map[string]bool{}
	for _, t := range res.Active {
		name := string(t.Labels["job"])
		if name == "" {
			continue
		}
		j := jobs[name]
		if j == nil {
			j = &job{}
			jobs[name] = j
		}
		j.all++
		if t.Health == v1.HealthGood {
			j.up++
		}
		intervals[t.DiscoveredLabels["__scrape_interval__"]] = true
	}
	if len(jobs) == 0 {
		g.note("scrape: Prometheus has no active targets")
		return nil
	}
	names := make([]string, 0, len(jobs))
	up, all := 0, 0
	minShare := 1.0
	for n, j := range jobs {
		names = append(names, n)
		up += j.up
		all += j.all
		minShare = math.Min(minShare, float64(j.up)/float64(j.all))
	}
	sort.Strings(names)
	b := budget{section: secMetrics, name: "scrape-targets", typ: "scrape", needs: "prometheus", lines: []string{"job: [" + strings.Join(yamlStrings(names), ", ") + "]"}}
	var interval string
	if len(intervals) == 1 {
		for i := range intervals {
			if d, err := model.ParseDuration(i); err == nil && d > 0 {
				interval = i
				b.lines = append(b.lines, "interval: "+i)
			}
		}
	}
	switch {
	case minShare >= 1:
		b.lines = append(b.lines, "up: true")
	case minShare > 0:
		b.lines = append(b.lines, fmt.Sprintf("up: %d%%", int(math.Floor(minShare*100))))
	default:
		b.lines = append(b.lines, "up: false")
	}
	probe := b
	probe.lines = append(append([]string{}, b.lines...), "max_samples: 1e15")
	o, err := g.probeOne(ctx, probe)
	if err != nil {
		return err
	}
	maxSamples := math.NaN()
	for _, r := range o.Results {
		if r.Subject == "samples" && r.Value != nil && !math.IsNaN(*r.Value) {
			if math.IsNaN(maxSamples) || *r.Value > maxSamples {
				maxSamples = *r.Value
			}
		}
	}
	c := fmt.Sprintf("observed %s: %d of %d targets up in jobs %s", g.at, up, all, strings.Join(names, ", "))
	if interval != "" {
		c += ", scraped every " + interval
	}
	if !math.IsNaN(maxSamples) {
		c += fmt.Sprintf(", at most %s samples a scrape", checks.FormatValue(maxSamples, "series"))
		b.lines = append(b.lines, "max_samples: "+strconv.FormatFloat(niceCeil(maxSamples*g.o.Headroom), 'f', -1, 64))
	}
	if minShare == 0 && interval == "" && math.IsNaN(maxSamples) {
		g.note("scrape: a job has no target up and nothing else can be checked")
		return nil
	}
	b.comment = []string{c}
	g.budgets = append(g.budgets, b)
	return nil
}

func (g *generator) alerts(ctx context.Context) error {
	if g.src.PromAPI == nil {
		return nil
	}
	res, err := g.src.PromAPI.Rules(ctx)
	if err != nil {
		if missing(err) {
			g.note("alert_rules: %v", err)
			return nil
		}
		return fmt.Errorf("asking Prometheus for its rules: %w", err)
	}
	seen := map[string]bool{}
	var require, firing, unhealthy []string
	for _, grp := range res.Groups {
		for _, r := range grp.Rules {
			a, ok := r.(v1.AlertingRule)
			if !ok || seen[a.Name] {
				continue
			}
			seen[a.Name] = true
			if a.Health == v1.RuleHealthBad {
				unhealthy = append(unhealthy, a.Name)
				continue
			}
			require = append(require, a.Name)
			if a.State == "firing" {
				firing = append(firing, a.Name)
			}
		}
	}
	if len(unhealthy) > 0 {
		g.note("alert_rules: left out the unhealthy rules %s (fix them, then require them)", strings.Join(unhealthy, ", "))
	}
	if len(require) == 0 {
		g.note("alert_rules: Prometheus has no healthy alerting rule loaded")
		return nil
	}
	sort.Strings(require)
	b := budget{section: secAlerting, name: "alert-rules", typ: "alert_rules", needs: "prometheus",
		lines: append([]string{"require:"}, listLines(require)...)}
	c := []string{fmt.Sprintf("observed %s: %d alerting rules loaded and healthy", g.at, len(require))}
	if len(firing) > 0 {
		sort.Strings(firing)
		b.lines = append(b.lines, "firing: warn")
		c = append(c, fmt.Sprintf("firing now: %s; firing: warn until they are quiet, then fail", strings.Join(firing, ", ")))
	} else {
		b.lines = append(b.lines, "firing: fail")
	}
	b.comment = c
	g.budgets = append(g.budgets, b)
	return nil
}

func (g *generator) retention(ctx context.Context) error {
	if g.src.PromAPI != nil {
		info, err := g.src.PromAPI.Runtimeinfo(ctx)
		switch {
		case err != nil && missing(err):
			g.note("prometheus retention: %v", err)
		case err != nil:
			return fmt.Errorf("asking Prometheus for its runtime information: %w", err)
		default:
			d, _, _ := sources.ParseStorageRetention(info.StorageRetention)
			if d > 0 {
				g.budgets = append(g.budgets, budget{section: secRetention,
					comment: []string{fmt.Sprintf("observed %s: storageRetention %q", g.at, info.StorageRetention)},
					name:    "prometheus-retention", typ: "retention", needs: "prometheus",
					lines: []string{"source: prometheus", "min: " + formatDays(d)}})
			} else {
				g.note("prometheus retention: %q holds no time", info.StorageRetention)
			}
		}
	}
	if g.src.LokiAPI != nil && g.src.LogQL != nil {
		d, err := g.src.LokiAPI.RetentionPeriod(ctx)
		switch {
		case err != nil && missing(err):
			g.note("loki retention: %v", err)
		case err != nil:
			return fmt.Errorf("asking Loki for its retention: %w", err)
		case d <= 0 || d == time.Duration(math.MaxInt64):
			g.note("loki retention: Loki deletes nothing (no retention_period): no retention budget")
		default:
			g.budgets = append(g.budgets, budget{section: secRetention,
				comment: []string{fmt.Sprintf("observed %s: retention_period %s", g.at, formatDays(d))},
				name:    "loki-retention", typ: "retention", needs: "loki",
				lines: []string{"source: loki", "min: " + formatDays(d)}})
		}
	}
	return nil
}

// firstValue is the value of the outcome's first result with subject.
func firstValue(o checks.Outcome, subject string) (float64, bool) {
	for _, r := range o.Results {
		if r.Subject == subject && r.Value != nil && !math.IsNaN(*r.Value) {
			return *r.Value, true
		}
	}
	return 0, false
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func headroomText(h float64) string {
	return strconv.FormatFloat(math.Round((h-1)*1000)/10, 'f', -1, 64) + "%"
}
