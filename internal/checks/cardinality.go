package checks

import (
	"context"
	"fmt"
	"sort"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/secflow/secflow-budget/internal/config"
)

var cardinalityFields = []config.Field{
	{Name: "selector", Kind: config.KindString, Required: true, Doc: "PromQL label matchers in braces, e.g. {__name__=~\"secflow_.*\"}."},
	{Name: "by", Kind: config.KindStrings, Pattern: labelNamePattern, Doc: "Labels to count per group, e.g. [job]."},
	{Name: "max", Kind: config.KindNumber, Min: config.Bound(0), Doc: "At most this many series (per group)."},
	{Name: "warn_max", Kind: config.KindNumber, Min: config.Bound(0), Doc: "Warn above this many series."},
}

// topOffenders is how many groups a failing cardinality budget lists.
const topOffenders = 5

// CardinalityCheck counts the series a selector returns at the evaluation
// time, per `by` group.
type CardinalityCheck struct {
	by       []string
	limits   Limits
	query    string
	topQuery string // breaks a failing total down by metric name
}

func buildCardinality(b *config.Budget, f *config.Fields) Check {
	c := &CardinalityCheck{}
	var ms []*labels.Matcher
	if f.Require("selector") {
		var ok bool
		if ms, ok = readSelector(f, "selector", ""); ok && !selectsSome(ms) {
			f.Errorf("selector", "the selector matches every series: name at least one label with a value it must have, e.g. {job=\"api\"} or {__name__=~\"secflow_.*\"} (a matcher that matches the empty string, such as job=~\".*\", selects nothing out)")
		}
	}
	c.by = readLabelNames(f, "by")
	if !f.Has("max") && !f.Has("warn_max") {
		f.Errorf("max", "required field is missing")
	}
	count := func(key string) *float64 {
		v, ok := f.Float(key)
		if !ok {
			return nil
		}
		if v < 0 {
			f.Errorf(key, "a number of series cannot be negative")
		}
		return F(v)
	}
	c.limits = Limits{Max: count("max"), WarnMax: count("warn_max")}
	c.limits.checkOrder(f, limitKeys{max: "max", warnMax: "warn_max"}, "")
	sel := selector("", ms)
	c.query = fmt.Sprintf("count%s(%s)", byClause(c.by...), sel)
	if len(c.by) == 0 {
		c.topQuery = fmt.Sprintf("topk(%d, count by (__name__) (%s))", topOffenders, sel)
	}
	return c
}

// selectsSome is Prometheus' rule for a selector: some matcher must not
// match the empty string, else it selects every series there is.
func selectsSome(ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches("") {
			return true
		}
	}
	return false
}

// Queries implements Check.
func (c *CardinalityCheck) Queries() []Query {
	q := []Query{{Lang: "promql", Text: c.query}}
	if c.topQuery != "" {
		q = append(q, Query{Lang: "promql", Text: c.topQuery, Note: "only when the budget is over its limit"})
	}
	return q
}

// Evaluate implements Check.
func (c *CardinalityCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	vec, err := env.Prometheus.Query(ctx, c.query, env.At)
	if err != nil {
		return Evaluation{}, err
	}
	if err := foreignLabels("prometheus", c.query, vec, c.by...); err != nil {
		return Evaluation{}, err
	}
	if len(vec) == 0 {
		return Evaluation{Missing: "the selector matched no series"}, nil
	}
	sortVector(vec)
	ev := Evaluation{}
	type group struct {
		labels string
		n      float64
	}
	var over []group
	for _, s := range vec {
		r := Result{Subject: "series", Labels: labelMap(s.Metric), Unit: "series"}
		if note := countProblem(float64(s.Value), "series", ""); note != "" {
			judgeImpossible(&r, float64(s.Value), note)
			ev.Results = append(ev.Results, r)
			continue
		}
		c.limits.Judge(&r, float64(s.Value))
		if r.Status == Fail || r.Status == Warn {
			over = append(over, group{FormatLabels(r.Labels), float64(s.Value)})
		}
		ev.Results = append(ev.Results, r)
	}
	if len(over) == 0 {
		return ev, nil
	}
	if len(c.by) > 0 {
		sort.SliceStable(over, func(i, j int) bool { return over[i].n > over[j].n })
		for i, g := range over {
			if i == topOffenders {
				ev.Details = append(ev.Details, fmt.Sprintf("... and %d more groups over the limit", len(over)-topOffenders))
				break
			}
			ev.Details = append(ev.Details, fmt.Sprintf("%s: %s series", g.labels, groupThousands(g.n)))
		}
		return ev, nil
	}
	top, err := env.Prometheus.Query(ctx, c.topQuery, env.At)
	if err == nil {
		err = foreignLabels("prometheus", c.topQuery, top, "__name__")
	}
	if err != nil {
		ev.Notes = append(ev.Notes, fmt.Sprintf("could not list the largest metrics: %v", err))
		return ev, nil
	}
	sort.SliceStable(top, func(i, j int) bool {
		if top[i].Value != top[j].Value {
			return top[i].Value > top[j].Value
		}
		return top[i].Metric.Before(top[j].Metric)
	})
	ev.Details = append(ev.Details, fmt.Sprintf("largest metrics (top %d):", topOffenders))
	for _, s := range top {
		ev.Details = append(ev.Details, fmt.Sprintf("%s: %s series", s.Metric["__name__"], groupThousands(float64(s.Value))))
	}
	return ev, nil
}
