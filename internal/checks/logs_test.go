package checks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func runLoki(t *testing.T, p *Planned, f *fakeProm) Outcome {
	t.Helper()
	out, _ := Run(context.Background(), []*Planned{p}, Env{Loki: f, At: time.Unix(1795694407, 0)}, 1, time.Now)
	return out[0]
}

func TestLogVolumeCheck(t *testing.T) {
	plan := loadOne(t, `- name: vol
  type: log_volume
  selector: '{env="prod"}'
  window: 5m
  max: 100MB
  warn_max: 80MB
`)
	q := `sum by (service) (bytes_over_time({env="prod"}[5m]))`
	if got := plan[0].Check.Queries()[0].Text; got != q {
		t.Fatalf("query = %s, want %s", got, q)
	}
	f := &fakeProm{t: t, answers: map[string]model.Vector{q: {
		sample(9e6, "service", "api"),     // ×12 = 108 MB: over
		sample(7e6, "service", "worker"),  // 84 MB: warn
		sample(1e6, "service", "scanner"), // 12 MB
	}}}
	o := runLoki(t, plan[0], f)
	if o.Status != Fail {
		t.Fatalf("status = %s, want fail", o.Status)
	}
	want := map[string]Status{"api": Fail, "worker": Warn, "scanner": Pass}
	for _, r := range o.Results {
		if r.Subject != "bytes_per_1h" || r.Unit != "bytes" || r.Status != want[r.Labels["service"]] {
			t.Errorf("result %s%v = %v %s, want status %s", r.Subject, r.Labels, *r.Value, r.Status, want[r.Labels["service"]])
		}
	}
	if *o.Results[0].Value != 108e6 { // api sorts first
		t.Errorf("api bytes per hour = %v, want 1.08e8", *o.Results[0].Value)
	}
}

func TestLogLevelsCheckJSON(t *testing.T) {
	plan := loadOne(t, `- name: levels
  type: log_levels
  selector: '{env="prod"}'
  parser: json
  max_share: {WARNING: 25%, error: 10%, Crit: 5%}
`)
	levelsQ := `sum by (service, level) (count_over_time({env="prod"} | json | __error__="" [1h]))`
	totalQ := `sum by (service) (count_over_time({env="prod"}[1h]))`
	f := &fakeProm{t: t, answers: map[string]model.Vector{
		levelsQ: {
			sample(50, "service", "api", "level", "INFO"),
			sample(10, "service", "api", "level", "info"),
			sample(20, "service", "api", "level", "Warning"),
			sample(12, "service", "api", "level", "err"),
			sample(3, "service", "api", "level", "fatal"),
			sample(2, "service", "api", "level", "verbose"), // not in the table: UNKNOWN
			sample(1, "service", "api"),                     // no level: UNKNOWN
		},
		// 2 more lines than the parser saw: not JSON, so UNKNOWN too.
		totalQ: {sample(100, "service", "api")},
	}}
	o := runLoki(t, plan[0], f)
	got := map[string][2]float64{}
	for _, r := range o.Results {
		got[r.Subject] = [2]float64{*r.Value, extra(r, "count").(float64)}
		if extra(r, "total") != 100.0 {
			t.Errorf("%s total = %v, want 100", r.Subject, extra(r, "total"))
		}
	}
	want := map[string][2]float64{"INFO": {0.6, 60}, "WARNING": {0.2, 20}, "ERROR": {0.12, 12}, "CRITICAL": {0.03, 3}, "UNKNOWN": {0.05, 5}}
	for l, w := range want {
		if got[l] != w {
			t.Errorf("%s = %v, want %v", l, got[l], w)
		}
	}
	if len(got) != len(want) || o.Status != Fail || !strings.HasPrefix(o.Message, `ERROR{service="api"} 12% > 10%`) {
		t.Errorf("status %s, message %q, results %v", o.Status, o.Message, got)
	}
}

func TestLogLevelsLabelQuery(t *testing.T) {
	plan := loadOne(t, `- name: levels
  type: log_levels
  selector: '{service="api"}'
  level_label: severity
  by: []
  min_share: {INFO: 50%}
`)
	if got, want := plan[0].Check.Queries()[0].Text, `sum by (severity) (count_over_time({service="api"}[1h]))`; got != want || len(plan[0].Check.Queries()) != 1 {
		t.Errorf("queries = %v, want only %s", plan[0].Check.Queries(), want)
	}
}

func TestLogRedactionCheck(t *testing.T) {
	plan := loadOne(t, `- name: secrets
  type: log_redaction
  selector: '{env="prod"}'
  by: [service]
  presets: [aws_access_key]
  patterns:
    - {name: internal-token, regex: 'sf_[a-f0-9]{32}'}
`)
	aws := "sum by (service) (count_over_time({env=\"prod\"} |~ `AKIA[0-9A-Z]{16}` [1h]))"
	custom := "sum by (service) (count_over_time({env=\"prod\"} |~ `sf_[a-f0-9]{32}` [1h]))"
	total := `sum(count_over_time({env="prod"}[1h]))`
	t.Run("one leak", func(t *testing.T) {
		f := &fakeProm{t: t, answers: map[string]model.Vector{aws: {sample(2, "service", "api")}, custom: {}}}
		o := runLoki(t, plan[0], f)
		if o.Status != Fail || len(o.Results) != 2 {
			t.Fatalf("status %s with %d results, want fail with 2", o.Status, len(o.Results))
		}
		if o.Results[1].Subject != "internal-token" || *o.Results[1].Value != 0 {
			t.Errorf("a pattern with no match must report 0: %+v", o.Results[1])
		}
		if o.Message != `lines matching secret patterns: aws_access_key{service="api"}: 2 (matched text is never shown)` {
			t.Errorf("message = %q", o.Message)
		}
	})
	t.Run("clean", func(t *testing.T) {
		f := &fakeProm{t: t, answers: map[string]model.Vector{aws: {}, custom: {}, total: {sample(1000)}}}
		if o := runLoki(t, plan[0], f); o.Status != Pass {
			t.Errorf("status = %s (%s), want pass", o.Status, o.Message)
		}
	})
	t.Run("no lines at all", func(t *testing.T) {
		f := &fakeProm{t: t, answers: map[string]model.Vector{aws: {}, custom: {}, total: {}}}
		if o := runLoki(t, plan[0], f); o.Status != Fail || !strings.Contains(o.Message, "no log lines") {
			t.Errorf("got %s %q, want fail on missing data", o.Status, o.Message)
		}
	})
}

func TestLogConfigErrors(t *testing.T) {
	tests := []struct{ budget, want string }{
		{"type: log_volume\n    selector: '{service=~\".*\"}'\n    max: 100MB", "budgets[0].selector: invalid LogQL stream selector"},
		{"type: log_volume\n    selector: '{service=\"api\"}'\n    max: 100Mb", `budgets[0].max: invalid size "100Mb"`},
		{"type: log_levels\n    selector: '{service=\"api\"}'\n    max_share: {ERRORS: 10%}", `budgets[0].max_share.ERRORS: unknown level "ERRORS"`},
		{"type: log_levels\n    selector: '{service=\"api\"}'\n    max_share: {ERROR: 110%}", `budgets[0].max_share.ERROR: invalid share "110%"`},
		{"type: log_redaction\n    selector: '{service=\"api\"}'\n    presets: [aws_key]", `budgets[0].presets: unknown preset "aws_key"`},
		{"type: log_redaction\n    selector: '{service=\"api\"}'\n    patterns: [{name: x, regex: 'AKIA[0-9'}]", "budgets[0].patterns[0].regex: invalid regular expression"},
	}
	for _, tt := range tests {
		_, _, err := loadText(t, "version: 1\nbudgets:\n  - name: b\n    "+tt.budget+"\n")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s\nerror %v, want %q", tt.budget, err, tt.want)
		}
	}
}
