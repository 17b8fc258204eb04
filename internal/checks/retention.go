package checks

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

var retentionFields = []config.Field{
	{Name: "source", Kind: config.KindEnum, Required: true, Enum: []string{"prometheus", "loki"}, Doc: "Whose retention: prometheus or loki."},
	{Name: "min", Kind: config.KindDuration, Required: true, Doc: "The configured retention must be at least this, e.g. 15d."},
	{Name: "warn_min", Kind: config.KindDuration, Doc: "Warn below this."},
}

// The sources a retention budget can read.
const (
	retentionPrometheus = "prometheus"
	retentionLoki       = "loki"
)

// RetentionCheck holds a source's configured retention to a minimum:
// Prometheus' storage retention (/api/v1/status/runtimeinfo) or Loki's
// limits_config.retention_period (/config). It reads configuration, not
// data: a Prometheus that keeps 15 days but was started yesterday passes.
type RetentionCheck struct {
	source string
	limits Limits // in seconds
}

func buildRetention(b *config.Budget, f *config.Fields) Check {
	c := &RetentionCheck{source: retentionPrometheus}
	if f.Require("source") {
		if s, ok := f.String("source"); ok {
			switch s {
			case retentionPrometheus, retentionLoki:
				c.source = s
			default:
				f.Errorf("source", "invalid source %q: want prometheus or loki", s)
			}
		}
	}
	if f.Require("min") {
		if d, ok := f.Duration("min"); ok {
			c.limits.Min = F(d.Seconds())
		}
	}
	if d, ok := f.Duration("warn_min"); ok {
		c.limits.WarnMin = F(d.Seconds())
		if c.limits.Min != nil && d.Seconds() < *c.limits.Min {
			f.Errorf("warn_min", "warn_min %s is below min %s: it would never warn", formatRetention(d.Seconds()), formatRetention(*c.limits.Min))
		}
	}
	return c
}

// Needs is the source the budget reads, which depends on its `source`
// field rather than on its type: the runner must provide that source's API.
func (c *RetentionCheck) Needs() string { return c.source }

// Queries implements Check.
func (c *RetentionCheck) Queries() []Query {
	if c.source == retentionLoki {
		return []Query{{Lang: "http", Text: "GET /config", Note: "limits_config.retention_period and compactor.retention_enabled"}}
	}
	return []Query{{Lang: "http", Text: "GET /api/v1/status/runtimeinfo", Note: "storageRetention"}}
}

// Evaluate implements Check.
func (c *RetentionCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	r := Result{Subject: "retention", Labels: map[string]string{}, Unit: "seconds"}
	var notes []string
	switch c.source {
	case retentionLoki:
		if env.LokiAPI == nil {
			return Evaluation{}, sources.Errorf(sources.NotConfigured, "loki", "no Loki source to read the retention from: set sources.loki.url, --loki or SECFLOW_LOKI_URL")
		}
		d, err := env.LokiAPI.RetentionPeriod(ctx)
		if err != nil {
			return Evaluation{}, err
		}
		if d <= 0 {
			// Loki's rule: retention_period 0 disables retention.
			c.limits.Judge(&r, math.Inf(1))
			r.Note = "Loki deletes no logs (retention_period 0, or compactor retention disabled): they are kept forever"
		} else {
			c.limits.Judge(&r, d.Seconds())
		}
	default:
		if env.PromAPI == nil {
			return Evaluation{}, sources.Errorf(sources.NotConfigured, "prometheus", "no Prometheus API to read the retention from")
		}
		info, err := env.PromAPI.Runtimeinfo(ctx)
		if err != nil {
			return Evaluation{}, err
		}
		pr, err := parsePromRetention(info.StorageRetention)
		if err != nil {
			return Evaluation{}, err
		}
		switch {
		case pr.time > 0:
			c.limits.Judge(&r, pr.time.Seconds())
			if len(pr.sizes) > 0 {
				notes = append(notes, fmt.Sprintf("Prometheus also deletes the oldest data once its TSDB exceeds %s: it keeps less than %s when that size is reached first",
					strings.Join(pr.sizes, " or "), formatRetention(pr.time.Seconds())))
			}
		case len(pr.sizes) > 0:
			r.Missing, r.Limit, r.Op, r.WarnLimit = true, c.limits.Min, ">=", c.limits.WarnMin
			r.Note = fmt.Sprintf("Prometheus retains by size only (%s): how much time that keeps depends on the ingestion rate, so its retention in time is unknown",
				strings.Join(pr.sizes, " or "))
		default:
			r.Missing, r.Limit, r.Op, r.WarnLimit = true, c.limits.Min, ">=", c.limits.WarnMin
			r.Note = "Prometheus reports no storage retention (storageRetention is empty in /api/v1/status/runtimeinfo)"
		}
	}
	ev := Evaluation{Results: []Result{r}, Notes: notes}
	if !r.Missing {
		ev.Message = c.message(r)
	}
	return ev, nil
}

// message is "prometheus retention 15d >= 15d", in days rather than the
// seconds the value is in.
func (c *RetentionCheck) message(r Result) string {
	v := formatRetention(*r.Value)
	switch {
	case r.Status == Fail:
		return fmt.Sprintf("%s retention %s < %s", c.source, v, formatRetention(*r.Limit))
	case r.Status == Warn && r.WarnLimit != nil:
		return fmt.Sprintf("%s retention %s < warn %s", c.source, v, formatRetention(*r.WarnLimit))
	case r.Limit != nil:
		return fmt.Sprintf("%s retention %s >= %s", c.source, v, formatRetention(*r.Limit))
	}
	return fmt.Sprintf("%s retention %s", c.source, v)
}

// formatRetention renders seconds as a person counts retention: 15d, 7d,
// 36h, 100y; forever for +Inf.
func formatRetention(sec float64) string {
	const day = 24 * 3600
	switch {
	case math.IsInf(sec, 1):
		return "forever"
	case sec >= 365*day && math.Mod(sec, 365*day) == 0:
		return fmt.Sprintf("%.0fy", sec/(365*day))
	case sec >= day && math.Mod(sec, day) == 0:
		return fmt.Sprintf("%.0fd", sec/day)
	case sec >= 2*day:
		return trimFloat(sec/day, 1) + "d"
	}
	return model.Duration(time.Duration(sec * float64(time.Second))).String()
}

// promRetention is Prometheus' storageRetention taken apart.
type promRetention struct {
	time  time.Duration
	sizes []string // "10GiB", "80%": limits on disk use
}

// parsePromRetention reads storageRetention as Prometheus writes it: the
// time limit, the size limit and (3.x) the share of the disk, each only
// when set, joined by " or ": "15d", "15d or 10GiB", "10GiB", "30d or 80%".
// Whichever is reached first deletes data.
func parsePromRetention(s string) (promRetention, error) {
	limit, sizes, bad := sources.ParseStorageRetention(s)
	if bad != "" {
		return promRetention{}, sources.Errorf(sources.BadResponse, "prometheus", "cannot read storageRetention %q of /api/v1/status/runtimeinfo: %q is neither a duration nor a size", s, bad)
	}
	return promRetention{time: limit, sizes: sizes}, nil
}
