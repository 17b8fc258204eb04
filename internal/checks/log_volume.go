package checks

import (
	"context"
	"fmt"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
)

var logVolumeFields = []config.Field{
	{Name: "selector", Kind: config.KindString, Required: true, Doc: "LogQL stream selector, e.g. {env=\"prod\"}."},
	{Name: "by", Kind: config.KindStrings, Pattern: labelNamePattern, Doc: "Groups (default [service]; [] for one total)."},
	{Name: "per", Kind: config.KindDuration, Doc: "Bytes are scaled to this period (default 1h)."},
	{Name: "max", Kind: config.KindSize, Doc: "At most this many bytes per period, e.g. 100MB."},
	{Name: "warn_max", Kind: config.KindSize, Doc: "Warn above this size."},
}

// LogVolumeCheck holds the bytes of log lines per group, scaled to `per`,
// within limits. Bytes are what Loki's bytes_over_time counts: the UTF-8
// length of each line as pushed, labels excluded.
type LogVolumeCheck struct {
	window time.Duration
	per    time.Duration
	by     []string
	limits Limits
	query  string
}

func buildLogVolume(b *config.Budget, f *config.Fields) Check {
	c := &LogVolumeCheck{window: b.Window, per: time.Hour}
	sel, _ := readStreamSelector(f)
	c.by = readLogBy(f, []string{"service"})
	if d, ok := f.Duration("per"); ok {
		c.per = d
	}
	c.limits = Limits{}
	if v, ok := f.Size("max"); ok {
		c.limits.Max = F(v)
	}
	if v, ok := f.Size("warn_max"); ok {
		c.limits.WarnMax = F(v)
	}
	if !f.Has("max") && !f.Has("warn_max") {
		f.Errorf("max", "required field is missing: a size such as 100MB")
	}
	c.limits.checkOrder(f, limitKeys{max: "max", warnMax: "warn_max"}, "")
	c.query = fmt.Sprintf("sum%s(bytes_over_time(%s))", byClause(c.by...), logRange(sel, "", c.window))
	return c
}

// Queries implements Check.
func (c *LogVolumeCheck) Queries() []Query { return []Query{{Lang: "logql", Text: c.query}} }

// Evaluate implements Check.
func (c *LogVolumeCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	vec, err := env.Loki.Query(ctx, c.query, env.At)
	if err != nil {
		return Evaluation{}, err
	}
	if err := foreignLabels("loki", c.query, vec, c.by...); err != nil {
		return Evaluation{}, err
	}
	if len(vec) == 0 {
		return Evaluation{Missing: fmt.Sprintf("no log lines in the last %s", promDuration(c.window))}, nil
	}
	sortVector(vec)
	scale := c.per.Seconds() / c.window.Seconds()
	subject := "bytes_per_" + promDuration(c.per)
	ev := Evaluation{}
	for _, s := range vec {
		r := Result{Subject: subject, Labels: labelMap(s.Metric), Unit: "bytes"}
		if note := bytesProblem(float64(s.Value)); note != "" {
			judgeImpossible(&r, float64(s.Value)*scale, note)
		} else {
			c.limits.Judge(&r, float64(s.Value)*scale)
		}
		r.Extra = append(r.Extra, KV{"bytes_in_window", float64(s.Value)})
		ev.Results = append(ev.Results, r)
	}
	if scale != 1 {
		ev.Notes = append(ev.Notes, fmt.Sprintf("bytes over %s scaled ×%s to %s", promDuration(c.window), significant(scale), promDuration(c.per)))
	}
	return ev, nil
}
