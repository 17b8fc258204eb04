package checks

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/secflow/secflow-budget/internal/config"
)

var presentFields = []config.Field{
	{Name: "metrics", Kind: config.KindStrings, Required: true, Pattern: metricNamePattern, Doc: "Metric names that must each have a series (a histogram or summary family by its name)."},
	{Name: "selector", Kind: config.KindString, Doc: "Label matchers in braces, e.g. {job=~\"api|worker\"}."},
}

// familySuffixes are the series names a histogram or summary family exposes
// besides its own name.
var familySuffixes = []string{"_bucket", "_count", "_sum"}

// PresentCheck holds that each named metric has at least one series at the
// evaluation time. A missing metric is the violation itself, so on_missing
// does not apply to it.
type PresentCheck struct {
	metrics  []string
	matchers []*labels.Matcher
	query    string
}

func buildPresent(b *config.Budget, f *config.Fields) Check {
	c := &PresentCheck{}
	if f.Require("metrics") {
		var ok bool
		// Only a list read without error can be empty: a bad name or
		// a bad value was said already.
		if c.metrics, ok = readMetricNames(f, "metrics"); ok && len(c.metrics) == 0 {
			f.Errorf("metrics", "the list is empty: name at least one metric")
		}
	}
	c.matchers, _ = readSelector(f, "selector", "")
	nameRE := fmt.Sprintf("(%s)(%s)?", strings.Join(c.metrics, "|"), strings.Join(familySuffixes, "|"))
	name := labels.MustNewMatcher(labels.MatchRegexp, model.MetricNameLabel, nameRE)
	c.query = "count by (__name__) (" + selector("", c.matchers, name) + ")"
	return c
}

// Queries implements Check.
func (c *PresentCheck) Queries() []Query { return []Query{{Lang: "promql", Text: c.query}} }

// Evaluate implements Check.
func (c *PresentCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	vec, err := env.Prometheus.Query(ctx, c.query, env.At)
	if err != nil {
		return Evaluation{}, err
	}
	counts := map[string]float64{}
	for _, s := range vec {
		counts[string(s.Metric[model.MetricNameLabel])] += float64(s.Value)
	}
	ev := Evaluation{}
	var missing, bad []string
	for _, m := range c.metrics {
		n := counts[m]
		for _, suf := range familySuffixes {
			n += counts[m+suf]
		}
		r := Result{Subject: m, Labels: map[string]string{}, Value: F(n), Unit: "series"}
		if math.IsNaN(n) {
			judgeNaN(&r)
			bad = append(bad, m)
			ev.Results = append(ev.Results, r)
			continue
		}
		if n < 1 {
			r.Status = Fail
			r.Note = "missing: no series at the evaluation time"
			missing = append(missing, m)
		}
		ev.Results = append(ev.Results, r)
	}
	present := len(c.metrics) - len(missing) - len(bad)
	ev.Message = fmt.Sprintf("%d/%d metrics present", present, len(c.metrics))
	if len(missing) > 0 {
		ev.Message += "; missing: " + strings.Join(missing, ", ")
	}
	if len(bad) > 0 {
		ev.Message += "; the source returned NaN as the number of series of " + strings.Join(bad, ", ")
	}
	return ev, nil
}
