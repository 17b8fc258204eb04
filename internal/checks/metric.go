package checks

import (
	"context"
	"math"

	"github.com/secflow/secflow-budget/internal/config"
)

var metricFields = []config.Field{
	{Name: "expr", Kind: config.KindString, Required: true, Doc: "PromQL instant query; every series it returns is a result."},
	{Name: "min", Kind: config.KindNumber, Doc: "Each value must be at least this."},
	{Name: "max", Kind: config.KindNumber, Doc: "Each value must be at most this."},
	{Name: "warn_min", Kind: config.KindNumber, Doc: "Warn below this."},
	{Name: "warn_max", Kind: config.KindNumber, Doc: "Warn above this."},
	{Name: "unit", Kind: config.KindString, Doc: "For display: ratio, seconds, bytes, series, or any word."},
}

// MetricCheck runs a PromQL instant query and holds every returned series
// within limits.
type MetricCheck struct {
	name   string
	expr   string
	unit   string
	limits Limits
}

func buildMetric(b *config.Budget, f *config.Fields) Check {
	c := &MetricCheck{name: b.Name}
	if f.Require("expr") {
		if e, ok := f.String("expr"); ok {
			checkPromQL(f, "expr", e)
			c.expr = e
		}
	}
	c.unit, _ = f.String("unit")
	c.limits = readLimits(f, f.Float)
	return c
}

// Queries implements Check.
func (c *MetricCheck) Queries() []Query { return []Query{{Lang: "promql", Text: c.expr}} }

// Evaluate implements Check.
func (c *MetricCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	vec, err := env.Prometheus.Query(ctx, c.expr, env.At)
	if err != nil {
		return Evaluation{}, err
	}
	if len(vec) == 0 {
		return Evaluation{Missing: "the query returned no series"}, nil
	}
	sortVector(vec)
	ev := Evaluation{}
	for _, s := range vec {
		r := Result{Subject: c.name, Labels: labelMap(s.Metric), Unit: c.unit}
		v := float64(s.Value)
		if math.IsNaN(v) {
			// Not missing data: the series exists and its value is no
			// number, which must not pass (nor skip) a limit.
			r.Note = "the source returned NaN (not a number; a division by zero, e.g. no events in the window?): it cannot be judged against a limit"
		}
		c.limits.Judge(&r, v)
		ev.Results = append(ev.Results, r)
	}
	return ev, nil
}
