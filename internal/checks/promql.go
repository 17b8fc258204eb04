package checks

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/secflow/secflow-budget/internal/config"
)

func newParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// checkPromQL parses expr and records a positioned error under key when it
// does not parse.
func checkPromQL(f *config.Fields, key, expr string) bool {
	_, err := newParser().ParseExpr(expr)
	if err == nil {
		return true
	}
	recordParseError(f, key, err)
	return false
}

func recordParseError(f *config.Fields, key string, err error) {
	var perrs parser.ParseErrors
	if errors.As(err, &perrs) && len(perrs) > 0 {
		pe := perrs[0]
		f.ErrorfAtOffset(key, int(pe.PositionRange.Start), "invalid PromQL: %v", pe.Err)
		return
	}
	f.Errorf(key, "invalid PromQL: %v", err)
}

var metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// readSelector reads an optional selector such as {job="worker"} and returns
// its matchers. name, when set, is the metric the selector is applied to,
// so that a selector may consist of empty-matching matchers only.
func readSelector(f *config.Fields, key, name string) ([]*labels.Matcher, bool) {
	sel, ok := f.String(key)
	if !ok {
		return nil, true
	}
	sel = strings.TrimSpace(sel)
	if sel == "" || sel == "{}" {
		return nil, true
	}
	if !strings.HasPrefix(sel, "{") {
		f.Errorf(key, "invalid selector %q: want label matchers in braces, e.g. {job=\"worker\"}", sel)
		return nil, false
	}
	ms, err := newParser().ParseMetricSelector(name + sel)
	if err != nil {
		var perrs parser.ParseErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			f.ErrorfAtOffset(key, int(perrs[0].PositionRange.Start)-len(name), "invalid selector: %v", perrs[0].Err)
		} else {
			f.Errorf(key, "invalid selector: %v", err)
		}
		return nil, false
	}
	var out []*labels.Matcher
	for _, m := range ms {
		if m.Name == model.MetricNameLabel && name != "" {
			if m.Type == labels.MatchEqual && m.Value == name {
				continue
			}
			f.Errorf(key, "the selector must not match on __name__ here: the metric is set by another field")
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

// selector renders name{matchers...}; extra matchers come first.
func selector(name string, ms []*labels.Matcher, extra ...*labels.Matcher) string {
	all := append(append([]*labels.Matcher{}, extra...), ms...)
	parts := make([]string, len(all))
	for i, m := range all {
		parts[i] = m.String()
	}
	if len(parts) == 0 {
		return name
	}
	return name + "{" + strings.Join(parts, ", ") + "}"
}

// readMetricNames reads a list of metric names.
func readMetricNames(f *config.Fields, key string) ([]string, bool) {
	names, ok := f.Strings(key)
	if !ok {
		return nil, false
	}
	for _, n := range names {
		if !metricNameRE.MatchString(n) {
			f.Errorf(key, "invalid metric name %q", n)
			return nil, false
		}
	}
	return names, true
}

// readLabelNames reads `by`.
func readLabelNames(f *config.Fields, key string) []string {
	names, ok := f.Strings(key)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	for _, n := range names {
		if !model.LegacyValidation.IsValidLabelName(n) {
			f.Errorf(key, "invalid label name %q", n)
			return nil
		}
		if seen[n] {
			f.Errorf(key, "label %q listed twice", n)
			return nil
		}
		seen[n] = true
	}
	return names
}

// byClause renders " by (a, b) " or "" for no labels, to follow an
// aggregation operator: "sum"+byClause(...)+"(...)".
func byClause(labels ...string) string {
	var ls []string
	for _, l := range labels {
		if l != "" {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		return ""
	}
	return fmt.Sprintf(" by (%s) ", strings.Join(ls, ", "))
}

// labelMap turns a series' labels into a plain map.
func labelMap(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

// groupKey identifies a group by the values of its `by` labels.
func groupKey(m model.Metric, by []string) string {
	var b strings.Builder
	for _, l := range by {
		b.WriteString(string(m[model.LabelName(l)]))
		b.WriteByte(0xff)
	}
	return b.String()
}

// sortVector orders samples by their labels so that results are stable.
func sortVector(v model.Vector) {
	sort.Slice(v, func(i, j int) bool { return v[i].Metric.Before(v[j].Metric) })
}

// promDuration renders a window the way PromQL writes it (1h, 30m, 90s).
func promDuration(d interface{ Seconds() float64 }) string {
	return model.Duration(int64(d.Seconds()*1000) * int64(1e6)).String()
}
