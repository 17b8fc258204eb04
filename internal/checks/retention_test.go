package checks

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/secflow/secflow-budget/internal/sources"
)

// retentionAPI is a fake of both state APIs, answering retention only.
type retentionAPI struct {
	storageRetention string
	lokiPeriod       time.Duration
	err              error
}

func (r *retentionAPI) Runtimeinfo(context.Context) (v1.RuntimeinfoResult, error) {
	return v1.RuntimeinfoResult{StorageRetention: r.storageRetention, ReloadConfigSuccess: true}, r.err
}
func (r *retentionAPI) RetentionPeriod(context.Context) (time.Duration, error) {
	return r.lokiPeriod, r.err
}
func (r *retentionAPI) Rules(context.Context) (v1.RulesResult, error) {
	return v1.RulesResult{}, fmt.Errorf("retention must not read rules")
}
func (r *retentionAPI) Alerts(context.Context) (v1.AlertsResult, error) {
	return v1.AlertsResult{}, fmt.Errorf("retention must not read alerts")
}
func (r *retentionAPI) Targets(context.Context) (v1.TargetsResult, error) {
	return v1.TargetsResult{}, fmt.Errorf("retention must not read targets")
}

func TestRetention(t *testing.T) {
	tests := []struct {
		name    string
		budget  string
		api     *retentionAPI
		status  Status
		message string
		value   float64 // seconds; NaN: no value
		note    string  // the result's note, substring
		notes   string  // the budget's notes, substring
	}{
		{
			name:    "prometheus 15d",
			budget:  "source: prometheus\nmin: 15d\n",
			api:     &retentionAPI{storageRetention: "15d"},
			status:  Pass,
			message: "prometheus retention 15d >= 15d",
			value:   15 * 86400,
		},
		{
			name:    "prometheus as Prometheus prints 2 weeks",
			budget:  "source: prometheus\nmin: 15d\n",
			api:     &retentionAPI{storageRetention: "2w"},
			status:  Fail,
			message: "prometheus retention 14d < 15d",
			value:   14 * 86400,
		},
		{
			name:    "prometheus 100y",
			budget:  "source: prometheus\nmin: 15d\n",
			api:     &retentionAPI{storageRetention: "100y"},
			status:  Pass,
			message: "prometheus retention 100y >= 15d",
			value:   100 * 365 * 86400,
		},
		{
			name:    "time or size: the time counts, the size is noted",
			budget:  "source: prometheus\nmin: 15d\n",
			api:     &retentionAPI{storageRetention: "30d or 10GiB"},
			status:  Pass,
			message: "prometheus retention 30d >= 15d",
			value:   30 * 86400,
			notes:   "Prometheus also deletes the oldest data once its TSDB exceeds 10GiB: it keeps less than 30d when that size is reached first",
		},
		{
			name:    "3.x disk share",
			budget:  "source: prometheus\nmin: 15d\n",
			api:     &retentionAPI{storageRetention: "15d or 512MiB or 80%"},
			status:  Pass,
			message: "prometheus retention 15d >= 15d",
			value:   15 * 86400,
			notes:   "exceeds 512MiB or 80%",
		},
		{
			name:    "size only: unknown in time, on_missing decides",
			budget:  "source: prometheus\nmin: 15d\n",
			api:     &retentionAPI{storageRetention: "1GiB512MiB"},
			status:  Fail,
			message: "retention: Prometheus retains by size only (1GiB512MiB): how much time that keeps depends on the ingestion rate, so its retention in time is unknown (on_missing: fail)",
			value:   math.NaN(),
			note:    "retains by size only",
		},
		{
			name:    "size only with on_missing: warn",
			budget:  "source: prometheus\nmin: 15d\non_missing: warn\n",
			api:     &retentionAPI{storageRetention: "10GiB"},
			status:  Warn,
			message: "retention: Prometheus retains by size only (10GiB): how much time that keeps depends on the ingestion rate, so its retention in time is unknown (on_missing: warn)",
			value:   math.NaN(),
			note:    "retains by size only (10GiB)",
		},
		{
			name:    "empty storageRetention",
			budget:  "source: prometheus\nmin: 15d\n",
			api:     &retentionAPI{},
			status:  Fail,
			message: "retention: Prometheus reports no storage retention (storageRetention is empty in /api/v1/status/runtimeinfo) (on_missing: fail)",
			value:   math.NaN(),
			note:    "storageRetention is empty",
		},
		{
			name:    "warn band",
			budget:  "source: prometheus\nmin: 7d\nwarn_min: 15d\n",
			api:     &retentionAPI{storageRetention: "10d"},
			status:  Warn,
			message: "prometheus retention 10d < warn 15d",
			value:   10 * 86400,
		},
		{
			name:    "loki 7d",
			budget:  "source: loki\nmin: 7d\n",
			api:     &retentionAPI{lokiPeriod: 168 * time.Hour},
			status:  Pass,
			message: "loki retention 7d >= 7d",
			value:   7 * 86400,
		},
		{
			name:    "loki 3d",
			budget:  "source: loki\nmin: 7d\n",
			api:     &retentionAPI{lokiPeriod: 72 * time.Hour},
			status:  Fail,
			message: "loki retention 3d < 7d",
			value:   3 * 86400,
		},
		{
			name:    "loki 0: retention disabled, kept forever",
			budget:  "source: loki\nmin: 7d\n",
			api:     &retentionAPI{},
			status:  Pass,
			message: "loki retention forever >= 7d",
			value:   math.Inf(1),
			note:    "Loki deletes no logs (retention_period 0, or compactor retention disabled): they are kept forever",
		},
		{
			name:    "fractions of days",
			budget:  "source: prometheus\nmin: 7d\n",
			api:     &retentionAPI{storageRetention: "10d12h"},
			status:  Pass,
			message: "prometheus retention 10.5d >= 7d",
			value:   10.5 * 86400,
		},
		{
			name:    "severity warning",
			budget:  "source: loki\nmin: 7d\nseverity: warning\n",
			api:     &retentionAPI{lokiPeriod: 36 * time.Hour},
			status:  Warn,
			message: "loki retention 1d12h < 7d (severity: warning)",
			value:   36 * 3600,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := loadOne(t, "- name: r\n  type: retention\n"+indentBy(tt.budget, "  "))[0]
			out, _ := Run(context.Background(), []*Planned{p}, Env{PromAPI: tt.api, LokiAPI: tt.api}, 1, time.Now)
			o := out[0]
			if o.Status != tt.status || o.Message != tt.message {
				t.Errorf("outcome %s %q, want %s %q", o.Status, o.Message, tt.status, tt.message)
			}
			if o.Category != "retention" || len(o.Results) != 1 {
				t.Fatalf("category %q, results %+v", o.Category, o.Results)
			}
			r := o.Results[0]
			if r.Subject != "retention" || r.Unit != "seconds" || r.Op != ">=" || r.Limit == nil {
				t.Errorf("result %+v", r)
			}
			switch {
			case math.IsNaN(tt.value):
				if r.Value != nil || !r.Missing {
					t.Errorf("value %v missing %v, want no value", ptrVal(r.Value), r.Missing)
				}
			case r.Value == nil || *r.Value != tt.value:
				t.Errorf("value %v, want %v", ptrVal(r.Value), tt.value)
			}
			if !strings.Contains(r.Note, tt.note) || (tt.note == "" && r.Note != "") {
				t.Errorf("note %q, want %q", r.Note, tt.note)
			}
			if notes := strings.Join(o.Notes, "\n"); !strings.Contains(notes, tt.notes) || (tt.notes == "" && notes != "") {
				t.Errorf("notes %q, want %q", notes, tt.notes)
			}
			c := p.Check.(*RetentionCheck)
			if c.Needs() != strings.TrimPrefix(strings.SplitN(tt.budget, "\n", 2)[0], "source: ") {
				t.Errorf("Needs() = %q", c.Needs())
			}
		})
	}
}

func TestRetentionQueries(t *testing.T) {
	for source, want := range map[string]string{
		"prometheus": "GET /api/v1/status/runtimeinfo",
		"loki":       "GET /config",
	} {
		p := loadOne(t, "- name: r\n  type: retention\n  source: "+source+"\n  min: 7d\n")[0]
		if qs := p.Check.Queries(); len(qs) != 1 || qs[0].Text != want || qs[0].Lang != "http" {
			t.Errorf("%s: queries %+v", source, qs)
		}
	}
}

func TestRetentionErrors(t *testing.T) {
	prom := loadOne(t, "- name: r\n  type: retention\n  source: prometheus\n  min: 15d\n")[0]
	lok := loadOne(t, "- name: r\n  type: retention\n  source: loki\n  min: 7d\n")[0]
	tests := []struct {
		name string
		p    *Planned
		env  Env
		kind string
		msg  string
	}{
		{"source failure", prom, Env{PromAPI: &retentionAPI{err: sources.Errorf(sources.Unauthorized, "prometheus", "refused our credentials")}}, "unauthorized", "refused our credentials"},
		{"snapshot lacks runtime.json", lok, Env{LokiAPI: &retentionAPI{err: sources.Errorf(sources.Missing, "snapshot", "no runtime.json in snap")}}, "missing_data", "no runtime.json"},
		{"unreadable retention", prom, Env{PromAPI: &retentionAPI{storageRetention: "15 days"}}, "bad_response", `cannot read storageRetention "15 days"`},
		{"no Prometheus", prom, Env{LokiAPI: &retentionAPI{}}, "not_configured", "no Prometheus API"},
		{"no Loki", lok, Env{PromAPI: &retentionAPI{}}, "not_configured", "no Loki source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := Run(context.Background(), []*Planned{tt.p}, tt.env, 1, time.Now)
			o := out[0]
			if o.Status != Error || o.Err == nil || o.Err.Kind != tt.kind || !strings.Contains(o.Message, tt.msg) {
				t.Errorf("outcome %s %q %+v, want error %s %q", o.Status, o.Message, o.Err, tt.kind, tt.msg)
			}
		})
	}
}

func TestRetentionLoadErrors(t *testing.T) {
	for budget, want := range map[string]string{
		"min: 7d\n":                               "budgets[0].source: required field is missing",
		"source: mimir\nmin: 7d\n":                `budgets[0].source: invalid source "mimir": want prometheus or loki`,
		"source: loki\n":                          "budgets[0].min: required field is missing",
		"source: loki\nmin: 7\n":                  "budgets[0].min: invalid duration",
		"source: loki\nmin: 7d\nwarn_min: 3d\n":   "budgets[0].warn_min: warn_min 3d is below min 7d: it would never warn",
		"source: loki\nmin: 7d\nmax: 30d\n":       `budgets[0].max: unknown field "max"`,
		"source: prometheus\nmin: 15d\nwarn: 1\n": `:7:5: budgets[0]: an unknown field (not shown) (known: category, description, min, name, on_missing, regression, runbook, severity, source, tags, type, warn_min, window)`,
	} {
		_, _, err := loadText(t, "version: 1\nbudgets:\n  - name: r\n    type: retention\n"+indentBy(budget, "    "))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", budget, err, want)
		}
	}
}

func TestParsePromRetention(t *testing.T) {
	for in, want := range map[string]string{
		"15d":                  "360h0m0s []",
		"1y":                   "8760h0m0s []",
		"4w3d":                 "744h0m0s []",
		"15d or 10GiB":         "360h0m0s [10GiB]",
		"10GiB":                "0s [10GiB]",
		"10GiB or 80%":         "0s [10GiB 80%]",
		"1d12h or 1TiB512GiB":  "36h0m0s [1TiB512GiB]",
		"  30d or 1.5GB  ":     "720h0m0s [1.5GB]",
		"":                     "0s []",
		"15 days":              "error",
		"15d and 10GiB":        "error",
		"15d or ten gigabytes": "error",
	} {
		pr, err := parsePromRetention(in)
		got := fmt.Sprintf("%s %v", pr.time, pr.sizes)
		if err != nil {
			got = "error"
		}
		if got != want {
			t.Errorf("parsePromRetention(%q) = %s, want %s", in, got, want)
		}
	}
}
