package checks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

// dashTestDashboard has a good Prometheus target, a broken one, one with
// an unknown variable, one whose metric has no data, a hidden one, a
// collapsed row with a Loki log query and a Loki metric query outside
// internal/logql's subset.
const dashTestDashboard = `{
  "title": "Shop",
  "time": {"from": "now-1h", "to": "now"},
  "templating": {"list": [
    {"name": "job", "type": "custom", "multi": true, "current": {"text": ["api", "web"], "value": ["api", "web"]}},
    {"name": "loki", "type": "datasource", "query": "loki"}
  ]},
  "panels": [
    {"id": 1, "title": "Requests", "datasource": {"type": "prometheus", "uid": "p"}, "targets": [
      {"refId": "A", "expr": "sum by (job) (rate(http_requests_total{job=~\"$job\"}[$__rate_interval]))"},
      {"refId": "B", "expr": "sum(rate(http_requests_total[5m]", "hide": false},
      {"refId": "C", "expr": "up{cluster=\"$cluster\"}"},
      {"refId": "D", "expr": "up", "hide": true}
    ]},
    {"id": 2, "title": "Errors", "targets": [
      {"refId": "A", "expr": "sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m]))"}
    ]},
    {"id": 3, "type": "row", "title": "Logs", "collapsed": true, "panels": [
      {"id": 4, "title": "API logs", "datasource": "$loki", "targets": [
        {"refId": "A", "expr": "{service=\"api\"} |= \"error\""},
        {"refId": "B", "expr": "sum by (service) (rate({service=\"api\"}[5m]))"},
        {"refId": "C", "expr": "sum(count_over_time({service=\"api\"}[5m]"},
        {"refId": "D", "expr": "{service=\"api\"} | json | level=~"}
      ]}
    ]}
  ]
}`

func dashWrite(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// dashBudgets is a budgets file holding the one budget given as its
// fields.
func dashBudgets(budget string) string {
	return "version: 1\nbudgets:\n" + indent("- "+strings.ReplaceAll(strings.TrimRight(budget, "\n"), "\n", "\n  "))
}

func dashLoad(t *testing.T, dir, budget string) *Planned {
	t.Helper()
	path := filepath.Join(dir, "budgets.yaml")
	dashWrite(t, dir, "budgets.yaml", dashBudgets(budget))
	_, plan, err := Load(path)
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	return plan[0]
}

func TestDashboardsQueries(t *testing.T) {
	dir := t.TempDir()
	dashWrite(t, dir, "grafana/shop.json", dashTestDashboard)
	p := dashLoad(t, dir, "name: dash\ntype: dashboards\nfiles: ['grafana/*.json']\n")
	if p.Needs != "prometheus,loki" || p.Category != "dashboards" {
		t.Errorf("needs %q, category %q", p.Needs, p.Category)
	}
	var got []string
	for _, q := range p.Check.Queries() {
		got = append(got, q.Lang+": "+q.Text)
	}
	want := []string{
		`promql: sum by (job) (rate(http_requests_total{job=~"(api|web)"}[1m15s]))`,
		`promql: sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m]))`,
		`logql: count_over_time({service="api"} |= "error" [1h])`,
		`promql: count(count_over_time(http_requests_total{job=~"(api|web)"}[1m15s]))`,
		`promql: count(count_over_time(http_errors_total[5m]))`,
		`promql: count(count_over_time(http_requests_total[5m]))`,
		`logql: sum(count_over_time({service="api"}[1h]))`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("queries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// dashAnswers are a source's answers to the dashboard's queries: the
// errors panel has no data because http_errors_total has none.
func dashAnswers(t *testing.T) (*fakeProm, *fakeProm) {
	prom := &fakeProm{t: t, answers: map[string]model.Vector{
		`sum by (job) (rate(http_requests_total{job=~"(api|web)"}[1m15s]))`:     {sample(2, "job", "api"), sample(1, "job", "web")},
		`sum(rate(http_errors_total[5m])) / sum(rate(http_requests_total[5m]))`: {},
		`count(count_over_time(http_errors_total[5m]))`:                         {},
		`count(count_over_time(http_requests_total[5m]))`:                       {sample(4)},
		`count(count_over_time(http_requests_total{job=~"(api|web)"}[1m15s]))`:  {sample(4)},
	}}
	loki := &fakeProm{t: t, answers: map[string]model.Vector{
		`count_over_time({service="api"} |= "error" [1h])`: {sample(3, "service", "api")},
		`sum by (service) (rate({service="api"}[5m]))`:     {sample(0.1, "service", "api")},
	}}
	return prom, loki
}

func dashResults(o Outcome) map[string]Result {
	m := map[string]Result{}
	for _, r := range o.Results {
		m[r.Subject] = r
	}
	return m
}

func dashExtra(r Result, key string) any {
	for _, kv := range r.Extra {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

func TestDashboardsEvaluate(t *testing.T) {
	dir := t.TempDir()
	dashWrite(t, dir, "grafana/shop.json", dashTestDashboard)
	p := dashLoad(t, dir, "name: dash\ntype: dashboards\nfiles: ['grafana/shop.json']\n")
	at := time.Unix(1795694407, 0)

	for _, offline := range []bool{false, true} {
		prom, loki := dashAnswers(t)
		out, _ := Run(context.Background(), []*Planned{p}, Env{Prometheus: prom, Loki: loki, At: at, Offline: offline}, 1, time.Now)
		o := out[0]
		if o.Status != Fail {
			t.Errorf("offline=%t: status %s, want fail", offline, o.Status)
		}
		rs := dashResults(o)
		type want struct {
			status Status
			value  float64 // -1: none
			series float64 // -1: none
			note   string
		}
		wants := map[string]want{
			"Shop / Requests / A": {Pass, 1, 2, ""},
			"Shop / Requests / B": {Fail, 0, -1, "invalid PromQL: 1:33: parse error: unclosed left parenthesis"},
			"Shop / Requests / C": {Fail, 0, -1, "unknown variable $cluster: the dashboard's templating defines no such variable"},
			"Shop / Errors / A":   {Fail, 0, 0, "no data: no series for http_errors_total"},
			"Shop / API logs / A": {Pass, 1, 1, ""},
			"Shop / API logs / B": {Pass, 1, 1, ""},
			"Shop / API logs / C": {Fail, 0, -1, "invalid LogQL: parse error at line 1, col 40: syntax error: unexpected $end"},
			"Shop / API logs / D": {Fail, 0, -1, "invalid LogQL: parse error at line 1, col 34: syntax error: unexpected RANGE"},
		}
		if offline {
			wants["Shop / API logs / B"] = want{Error, -1, -1, "LogQL unsupported by the offline evaluator (parse error at line 1, col 19: unsupported: rate (offline LogQL evaluates sum [by|without] of count_over_time and bytes_over_time, with line filters, json, logfmt, drop and string label filters)): check it against a live Loki"}
		}
		if len(rs) != len(wants) {
			t.Errorf("offline=%t: %d results, want %d: %v", offline, len(rs), len(wants), o.Results)
		}
		for subj, w := range wants {
			r, ok := rs[subj]
			if !ok {
				t.Errorf("offline=%t: no result %q", offline, subj)
				continue
			}
			v := -1.0
			if r.Value != nil {
				v = *r.Value
			}
			s, _ := dashExtra(r, "series").(float64)
			if dashExtra(r, "series") == nil {
				s = -1
			}
			if r.Status != w.status || v != w.value || s != w.series || r.Note != w.note || dashExtra(r, "file") != "grafana/shop.json" {
				t.Errorf("offline=%t: %s: %s value %g series %g note %q file %v\nwant %s value %g series %g note %q", offline, subj, r.Status, v, s, r.Note, dashExtra(r, "file"), w.status, w.value, w.series, w.note)
			}
		}
		wantMsg := "3/8 panel targets parse and have data; Shop / Requests / B (grafana/shop.json): invalid PromQL: 1:33: parse error: unclosed left parenthesis (and 4 more)"
		if offline {
			wantMsg = "2/8 panel targets parse and have data, 1 not decided; Shop / Requests / B (grafana/shop.json): invalid PromQL: 1:33: parse error: unclosed left parenthesis (and 4 more)"
		}
		if o.Message != wantMsg {
			t.Errorf("offline=%t: message\n %s\nwant\n %s", offline, o.Message, wantMsg)
		}
		if offline && slicesContains(loki.asked, `sum by (service) (rate({service="api"}[5m]))`) {
			t.Errorf("offline: the unsupported LogQL query was sent: %v", loki.asked)
		}
	}
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestDashboardsSourceErrors(t *testing.T) {
	dir := t.TempDir()
	dashWrite(t, dir, "d.json", `{"title": "D", "panels": [{"title": "P", "targets": [{"refId": "A", "expr": "up"}]}]}`)
	p := dashLoad(t, dir, "name: dash\ntype: dashboards\nfiles: [d.json]\n")
	// A query the source refuses fails its target; an unreachable source
	// is the budget's error.
	refused := &fakeProm{t: t, errs: map[string]error{"up": sources.Errorf(sources.BadQuery, "prometheus", "bad_data: parse error")}}
	o := runOne(t, p, refused)
	r := o.Results[0]
	if o.Status != Fail || r.Subject != "D / P / A" || r.Note != "invalid PromQL: the source refused the query: prometheus: bad_data: parse error" {
		t.Errorf("refused: %s %s %q", o.Status, r.Subject, r.Note)
	}
	down := &fakeProm{t: t, errs: map[string]error{"up": sources.Errorf(sources.Unavailable, "prometheus", "connection refused")}}
	o = runOne(t, p, down)
	if o.Status != Error || o.Err == nil || o.Err.Kind != "unavailable" {
		t.Errorf("down: %s %+v", o.Status, o.Err)
	}
}

func TestDashboardsRequireDataFalse(t *testing.T) {
	dir := t.TempDir()
	dashWrite(t, dir, "grafana/shop.json", dashTestDashboard)
	p := dashLoad(t, dir, "name: dash\ntype: dashboards\nfiles: ['grafana/shop.json']\nrequire_data: false\n")
	if qs := p.Check.Queries(); len(qs) != 0 || p.Needs != "" {
		t.Errorf("require_data false: queries %v, needs %q", qs, p.Needs)
	}
	out, _ := Run(context.Background(), []*Planned{p}, Env{At: time.Unix(1795694407, 0)}, 1, time.Now)
	rs := dashResults(out[0])
	for subj, st := range map[string]Status{
		"Shop / Requests / A": Pass, "Shop / Requests / B": Fail, "Shop / Requests / C": Fail,
		"Shop / Errors / A": Pass, "Shop / API logs / A": Pass, "Shop / API logs / B": Error,
		"Shop / API logs / C": Fail, "Shop / API logs / D": Fail,
	} {
		if rs[subj].Status != st {
			t.Errorf("%s: %s, want %s (%s)", subj, rs[subj].Status, st, rs[subj].Note)
		}
	}
	if out[0].Message != "3/8 panel targets parse, 1 not decided; Shop / Requests / B (grafana/shop.json): invalid PromQL: 1:33: parse error: unclosed left parenthesis (and 3 more)" {
		t.Errorf("message %q", out[0].Message)
	}
}

func TestDashboardsConfigErrors(t *testing.T) {
	dir := t.TempDir()
	dashWrite(t, dir, "rules.yaml", "groups: []\n")
	if err := os.Mkdir(filepath.Join(dir, "grafana"), 0o755); err != nil {
		t.Fatal(err)
	}
	dashWrite(t, dir, "notdash.json", `{"title": "x"}`)
	dashWrite(t, dir, "broken.json", "{\n  \"panels\": [\n    oops\n  ]\n}")
	tests := []struct{ budget, want string }{
		{"files: ['grafana/*.json']", `budgets.yaml:5:13: budgets[0].files[0]: "grafana/*.json" matches no file (files are relative to the budgets file's directory, ` + dir + `)`},
		{"files: [rules.yaml]", `budgets.yaml:5:13: budgets[0].files[0]: rules.yaml: not JSON: line 1, column 1: invalid character 'g' looking for beginning of value`},
		{"files: [notdash.json]", `budgets.yaml:5:13: budgets[0].files[0]: notdash.json: not a Grafana dashboard: no "panels" or "rows" list at the top`},
		{"files: [broken.json]", `budgets.yaml:5:13: budgets[0].files[0]: broken.json: not JSON: line 3, column 5: invalid character 'o' looking for beginning of value`},
		{"files: ['[']", `budgets.yaml:5:13: budgets[0].files[0]: "[" is not a valid glob: syntax error in pattern`},
		{"files: []", `budgets[0].files: no files: list the dashboard JSON files (globs) to check`},
		{"files: [notdash.json]\nrequire_data: maybe", `budgets[0].require_data`},
		{"files: ['/dev/null']", `budgets.yaml:5:13: budgets[0].files[0]: /dev/null is not a regular file`},
		{"files: [grafana, notdash.json]", `budgets.yaml:5:13: budgets[0].files[0]: grafana is a directory, not a dashboard JSON file`},
		{"files: [grafana, notdash.json]", `budgets.yaml:5:22: budgets[0].files[1]: notdash.json: not a Grafana dashboard`},
	}
	for _, tt := range tests {
		dashWrite(t, dir, "budgets.yaml", dashBudgets("name: dash\ntype: dashboards\n"+tt.budget))
		_, _, err := Load(filepath.Join(dir, "budgets.yaml"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v\nwant %s", tt.budget, err, tt.want)
		}
	}
}

func TestDashboardsDuplicateSubjects(t *testing.T) {
	dir := t.TempDir()
	dashWrite(t, dir, "d.json", `{"title": "D", "panels": [
	  {"title": "P", "targets": [{"refId": "A", "expr": "up"}]},
	  {"title": "P", "targets": [{"refId": "A", "expr": "up"}]}]}`)
	p := dashLoad(t, dir, "name: dash\ntype: dashboards\nfiles: [d.json]\nrequire_data: false\n")
	out, _ := Run(context.Background(), []*Planned{p}, Env{}, 1, time.Now)
	var subjects []string
	for _, r := range out[0].Results {
		subjects = append(subjects, r.Subject)
	}
	if strings.Join(subjects, ",") != "D / P / A #1,D / P / A #2" {
		t.Errorf("subjects %v", subjects)
	}
}

func TestDashboardsNoTargets(t *testing.T) {
	dir := t.TempDir()
	dashWrite(t, dir, "empty.json", `{"panels": [{"title": "Text", "type": "text"}, {"title": "Expr", "targets": [{"refId": "A", "datasource": {"type": "__expr__"}, "expr": "$A * 2"}]}]}`)
	dashWrite(t, dir, "untitled.json", `{"panels": [{"targets": [{"expr": "up"}]}]}`)
	p := dashLoad(t, dir, "name: dash\ntype: dashboards\nfiles: [empty.json]\n")
	out, _ := Run(context.Background(), []*Planned{p}, Env{}, 1, time.Now)
	if o := out[0]; o.Status != Fail || o.Message != "no data: the dashboards have no Prometheus or Loki panel target with an expression (on_missing: fail)" {
		t.Errorf("%s %q", o.Status, o.Message)
	}
	// A dashboard without a title is named by its file, a panel without
	// one by its id (none here), a target without a refId by Grafana's letter.
	p = dashLoad(t, dir, "name: dash\ntype: dashboards\nfiles: [untitled.json]\nrequire_data: false\n")
	out, _ = Run(context.Background(), []*Planned{p}, Env{}, 1, time.Now)
	if o := out[0]; o.Status != Pass || len(o.Results) != 1 || o.Results[0].Subject != "untitled / untitled panel / A" {
		t.Errorf("%s %+v", o.Status, o.Results)
	}
}

// TestDashboardsNonStringExpr: a target whose expr is not a string
// cannot be checked, so it fails naming its panel; it must not vanish
// and leave the budget passing on the other targets.
func TestDashboardsNonStringExpr(t *testing.T) {
	dir := t.TempDir()
	dashWrite(t, dir, "d.json", `{"title": "D", "panels": [
	  {"title": "Good", "targets": [{"refId": "A", "expr": "up"}]},
	  {"title": "Odd", "targets": [{"refId": "A", "expr": 42}]}]}`)
	p := dashLoad(t, dir, "name: dash\ntype: dashboards\nfiles: [d.json]\nrequire_data: false\n")
	out, _ := Run(context.Background(), []*Planned{p}, Env{}, 1, time.Now)
	o := out[0]
	if o.Status != Fail || !strings.Contains(o.Message, "D / Odd / A (d.json): the target's expr is a number, not a string") {
		t.Errorf("%s %q", o.Status, o.Message)
	}
}

// TestDashboardsExpansionBounded: many targets, each naming a long
// variable, must not expand to gigabytes; the file is refused by name.
func TestDashboardsExpansionBounded(t *testing.T) {
	dir := t.TempDir()
	val := strings.Repeat("x", 512<<10)
	targets := strings.Repeat(`{"expr": "up{a=\"$v\"}"},`, 130)
	dashWrite(t, dir, "big.json", `{"templating": {"list": [{"name": "v", "type": "constant", "query": "`+val+`"}]},
	  "panels": [{"title": "P", "targets": [`+targets+`{"expr": "up"}]}]}`)
	dashWrite(t, dir, "budgets.yaml", dashBudgets("name: dash\ntype: dashboards\nfiles: [big.json]\nrequire_data: false"))
	_, _, err := Load(filepath.Join(dir, "budgets.yaml"))
	want := "budgets[0].files[0]: big.json: the panel expressions with the dashboard's variables substituted add up to more than 64 MiB"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
