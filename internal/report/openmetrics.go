package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/secflow/secflow-budget/internal/checks"
)

// The metrics of the openmetrics report and of check --push (SPEC "Results
// as metrics"). All are gauges: each run replaces the last.
const (
	MetricStatus       = "secflow_budget_status"
	MetricValue        = "secflow_budget_value"
	MetricLimit        = "secflow_budget_limit"
	MetricWarnLimit    = "secflow_budget_warn_limit"
	MetricHeadroom     = "secflow_budget_headroom_ratio"
	MetricRunTimestamp = "secflow_budget_run_timestamp_seconds"
	MetricRunExitCode  = "secflow_budget_run_exit_code"
	MetricSourceInfo   = "secflow_budget_source_info"
)

// metricHelp is each metric's HELP text, in the order the report lists the
// families.
var metricHelp = []struct{ name, help string }{
	{MetricStatus, "1 for the budget's status, 0 for every other status."},
	{MetricValue, "The value a budget measured for a result, in the result's unit."},
	{MetricLimit, "The hard limit of a budget's result."},
	{MetricWarnLimit, "The warn (soft) limit of a budget's result."},
	{MetricHeadroom, "How far a result is from its hard limit, as a fraction of the limit; negative when past it."},
	{MetricRunTimestamp, "The evaluation time of the run, in unix seconds."},
	{MetricRunExitCode, "The exit code of the run."},
	{MetricSourceInfo, "The engine that computed a source's numbers (offline: the one the snapshot was recorded from), in its labels; always 1."},
}

// MetricLabels are the labels the metrics set themselves; a result label
// of the same name is renamed result_<name>.
var MetricLabels = []string{"budget", "type", "category", "subject", "status"}

// targetLabels are the labels a scrape (and the Pushgateway's grouping)
// sets: a result's job label would be lost or refused there, so it is
// renamed too.
var targetLabels = []string{"job", "instance"}

// lintLabels are the labels Prometheus reserves for histograms (le) and
// summaries (quantile): on a gauge, promtool check metrics refuses them.
// A metric budget over bucket or quantile series has results with them.
var lintLabels = []string{"le", "quantile"}

// metricStatuses are the statuses a budget may have, one
// secflow_budget_status series each.
var metricStatuses = []checks.Status{checks.Pass, checks.Waived, checks.Skip, checks.Warn, checks.Error, checks.Fail}

// WriteOpenMetrics writes the run as OpenMetrics text (MetricFamilies),
// ending with "# EOF".
func WriteOpenMetrics(w io.Writer, run *Run, opts Options) error {
	for _, mf := range MetricFamilies(run, opts) {
		if _, err := expfmt.MetricFamilyToOpenMetrics(w, mf); err != nil {
			return err
		}
	}
	_, err := expfmt.FinalizeOpenMetrics(w)
	return err
}

// MetricFamilies are the run's metrics, for the openmetrics report and the
// Pushgateway: one secflow_budget_status series per budget and status; per
// result its value, limits and headroom; the run's time and exit code; one
// secflow_budget_source_info series per source the run names.
//
// What is left out rather than written as a number that would mislead: the
// value (and so the headroom) of a result without data or whose value is
// NaN or infinite, whatever status on_missing gave it; a limit that is not
// set; the headroom of a limit that is 0, of a result with no <= or >=
// limit (an exact interval, a presence), and of a value too far out to be
// finite. A result whose labels equal an earlier one's of the same budget
// (which checks do not produce) is written once, the first.
//
// Families without series are left out; families and series are in a
// fixed order: the families as metricHelp lists them, series in
// budgets.yaml order and each budget's results in their order.
func MetricFamilies(run *Run, opts Options) []*dto.MetricFamily {
	series := map[string][]*dto.Metric{}
	seen := map[string]bool{}
	add := func(name string, labels []*dto.LabelPair, v float64) {
		key := name + "\xff" + labelsKey(labels)
		if seen[key] {
			return
		}
		seen[key] = true
		series[name] = append(series[name], &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: ptrTo(v)}})
	}
	reserved := slices.Concat(MetricLabels, targetLabels, lintLabels, opts.PushLabels)
	for i := range run.Outcomes {
		o := &run.Outcomes[i]
		for _, s := range metricStatuses {
			v := 0.0
			if o.Status == s {
				v = 1
			}
			add(MetricStatus, sortedPairs(map[string]string{
				"budget": o.Name, "type": o.Type, "category": o.Category, "status": s.String(),
			}), v)
		}
		for _, r := range o.Results {
			labels := resultLabels(o, &r, reserved)
			value, hasValue := finiteValue(r.Value)
			if r.Missing {
				hasValue = false
			}
			if hasValue {
				add(MetricValue, labels, value)
			}
			if l, ok := finiteValue(r.Limit); ok {
				add(MetricLimit, labels, l)
				if h, ok := headroom(value, l, r.Op); ok && hasValue {
					add(MetricHeadroom, labels, h)
				}
			}
			if l, ok := finiteValue(r.WarnLimit); ok {
				add(MetricWarnLimit, labels, l)
			}
		}
	}
	if !run.EvaluatedAt.IsZero() {
		t := run.EvaluatedAt
		add(MetricRunTimestamp, nil, float64(t.Unix())+float64(t.Nanosecond())/1e9)
	}
	add(MetricRunExitCode, nil, float64(run.ExitCode))
	for _, src := range run.Sources {
		add(MetricSourceInfo, sourceInfoLabels(src, opts.PushLabels), 1)
	}

	var out []*dto.MetricFamily
	for _, m := range metricHelp {
		if len(series[m.name]) == 0 {
			continue
		}
		out = append(out, &dto.MetricFamily{
			Name: ptrTo(m.name), Help: ptrTo(m.help),
			Type: dto.MetricType_GAUGE.Enum(), Metric: series[m.name],
		})
	}
	return out
}

// headroom is (limit − value) / limit for a <= limit and (value − limit) /
// limit for a >= one: 0.29 is 29% of the limit left, negative is past it.
// Not defined for a limit of 0, another op, or a result that is not finite.
func headroom(value, limit float64, op string) (float64, bool) {
	var h float64
	switch {
	case limit == 0:
		return 0, false
	case op == "<=":
		h = (limit - value) / limit
	case op == ">=":
		h = (value - limit) / limit
	default:
		return 0, false
	}
	return h, !math.IsNaN(h) && !math.IsInf(h, 0)
}

func finiteValue(p *float64) (float64, bool) {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		return 0, false
	}
	return *p, true
}

// resultLabels are a result's labels: ours (budget, type, category,
// subject), then the result's own, each made a valid Prometheus label name
// (metricLabelName). A result label whose name is reserved (ours, job,
// instance, le, quantile, the push's grouping labels, names starting with
// __), or taken
// by another label after that, is prefixed result_ (as often as it takes):
// labels that need no change keep their names, whatever their order.
func resultLabels(o *checks.Outcome, r *checks.Result, reserved []string) []*dto.LabelPair {
	set := map[string]string{"budget": o.Name, "type": o.Type, "category": o.Category, "subject": r.Subject}
	taken := func(n string) bool {
		_, ok := set[n]
		return ok || slices.Contains(reserved, n) || strings.HasPrefix(n, "__")
	}
	names := make([]string, 0, len(r.Labels))
	for n := range r.Labels {
		names = append(names, n)
	}
	slices.Sort(names)
	var renamed []string
	for _, n := range names {
		if m := metricLabelName(n); m == n && !taken(n) {
			set[n] = r.Labels[n]
		} else {
			renamed = append(renamed, n)
		}
	}
	for _, n := range renamed {
		m := metricLabelName(n)
		for taken(m) {
			m = "result_" + m
		}
		set[m] = r.Labels[n]
	}
	return sortedPairs(set)
}

// metricLabelName makes n a valid Prometheus label name in the classic
// character set ([a-zA-Z_][a-zA-Z0-9_]*), which every parser and the
// Pushgateway accept: any other character becomes _, and a leading digit
// (or an empty name) gets a leading _.
func metricLabelName(n string) string {
	var b strings.Builder
	for i, c := range n {
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			b.WriteRune(c)
		case '0' <= c && c <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "_"
	}
	return b.String()
}

// sortedPairs turns a label set into label pairs sorted by name, as
// client_golang's own metrics are. Values are made valid UTF-8 (the
// Pushgateway refuses anything else); the encoder escapes them.
func sortedPairs(set map[string]string) []*dto.LabelPair {
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]*dto.LabelPair, len(names))
	for i, n := range names {
		out[i] = &dto.LabelPair{Name: ptrTo(n), Value: ptrTo(strings.ToValidUTF8(set[n], "\uFFFD"))}
	}
	return out
}

func labelsKey(labels []*dto.LabelPair) string {
	var b strings.Builder
	for _, l := range labels {
		fmt.Fprintf(&b, "%s\xfe%s\xff", l.GetName(), l.GetValue())
	}
	return b.String()
}

func ptrTo[T any](v T) *T { return &v }
