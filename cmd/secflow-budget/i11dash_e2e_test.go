package main

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/lokitest"
	"github.com/secflow/secflow-budget/internal/promtest"
)

// The dashboards budget end to end: SecFlow's shipped dashboards on the
// snapshots, a dashboard with a broken expression, an unknown variable
// and a missing metric offline and against a real Prometheus, the
// budgets dashboard checked by deploy/grafana/budgets.yaml, and a
// recorded snapshot that answers the dashboards' queries.

const dashAt = "2026-11-26T12:00:07Z"

// dashReport is a JSON report's view of dashboards results.
type dashReport struct {
	ExitCode int `json:"exit_code"`
	Budgets  []struct {
		Name    string
		Status  string
		Message string
		Queries []string
		Results []struct {
			Subject string
			Value   *float64
			Status  string
			Note    string
			File    string
			Series  *float64
		}
		Error *struct{ Kind, Message string }
	}
}

func TestI11DashShippedDashboardOnSnapshots(t *testing.T) {
	r := run(t, nil, "check", "--offline", "testdata/snapshots/healthy", "--only", "secflow-dashboards")
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "📈 dashboards\n  ✅ secflow-dashboards  13/13 panel targets parse and have data\n") {
		t.Errorf("healthy:\n%s", r.stdout)
	}

	// degraded lacks secflow_gc_reclaimed_bytes_total: the two GC panels
	// that read it fail, naming the file, the panel and the metric.
	r = run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "secflow-dashboards")
	expectCode(t, r, 1)
	for _, want := range []string{
		"❌ secflow-dashboards  11/13 panel targets parse and have data; SecFlow / Bytes reclaimed per GC run / A (deploy/grafana/secflow.json): no data: no series for secflow_gc_reclaimed_bytes_total (and 1 more)\n",
		"     SecFlow / Bytes reclaimed per GC run / A 0 (file deploy/grafana/secflow.json, series 0); no data: no series for secflow_gc_reclaimed_bytes_total\n",
		"     SecFlow / GC runs and reclaimed bytes per hour / B 0 (file deploy/grafana/secflow.json, series 0); no data: no series for secflow_gc_reclaimed_bytes_total\n",
		"     … 11 passing results not shown\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("degraded: stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

// dashSnapshotWithout copies the healthy snapshot's manifest and metrics
// without the series (and metadata) of the metric family named.
func dashSnapshotWithout(t *testing.T, family string) string {
	t.Helper()
	src := filepath.Join(repo, "testdata", "snapshots", "healthy")
	dir := t.TempDir()
	m, err := os.ReadFile(filepath.Join(src, "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), m, 0o644); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(filepath.Join(src, "metrics.om"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(dir, "metrics.om"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	dropped := 0
	for sc.Scan() {
		line := sc.Text()
		name := strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE ")
		if strings.HasPrefix(name, family+"_") || strings.HasPrefix(name, family+"{") || strings.HasPrefix(name, family+" ") {
			dropped++
			continue
		}
		w.WriteString(line + "\n")
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	if dropped == 0 {
		t.Fatalf("the healthy snapshot has no %s series: update this test", family)
	}
	return dir
}

func TestI11DashFixtureMetricGone(t *testing.T) {
	snap := dashSnapshotWithout(t, "secflow_scan_duration_seconds")
	r := run(t, nil, "check", "--offline", snap, "--only", "secflow-dashboards", "--format", "json")
	expectCode(t, r, 1)
	var rep dashReport
	mustJSON(t, r.stdout, &rep)
	b := rep.Budgets[0]
	want := "11/13 panel targets parse and have data; SecFlow / Scan duration P95 / P99 by kind / A (deploy/grafana/secflow.json): no data: no series for secflow_scan_duration_seconds_bucket{kind=~\".+\"} (and 1 more)"
	if b.Status != "fail" || b.Message != want {
		t.Errorf("got %s %q\nwant fail %q", b.Status, b.Message, want)
	}
	failed := map[string]string{}
	for _, res := range b.Results {
		if res.Status != "pass" {
			failed[res.Subject] = res.Note
		}
		if res.File != "deploy/grafana/secflow.json" {
			t.Errorf("%s: file %q", res.Subject, res.File)
		}
	}
	note := `no data: no series for secflow_scan_duration_seconds_bucket{kind=~".+"}`
	if len(failed) != 2 || failed["SecFlow / Scan duration P95 / P99 by kind / A"] != note || failed["SecFlow / Scan duration P95 / P99 by kind / B"] != note {
		t.Errorf("failed results %v, want the two scan percentile targets with %q", failed, note)
	}
}

// dashBadDashboard has one good panel and a broken expression, an
// unknown variable, a metric that has no series, and (in a collapsed row)
// a Loki log query and a Loki query outside the offline LogQL subset.
const dashBadDashboard = `{
  "title": "Bad",
  "time": {"from": "now-1h", "to": "now"},
  "templating": {"list": [
    {"name": "job", "type": "custom", "multi": true, "includeAll": true, "current": {"text": ["api", "worker"], "value": ["api", "worker"]}},
    {"name": "ds", "type": "datasource", "query": "prometheus"}
  ]},
  "panels": [
    {"id": 1, "title": "Good", "datasource": "${ds}", "targets": [
      {"refId": "A", "expr": "sum by (job) (rate(secflow_requests_total{job=~\"$job\"}[$__rate_interval]))"}]},
    {"id": 2, "title": "Broken", "datasource": {"type": "prometheus"}, "targets": [
      {"refId": "A", "expr": "sum(rate(secflow_requests_total[5m])"}]},
    {"id": 3, "title": "Unknown variable", "targets": [
      {"refId": "A", "expr": "secflow_queue_depth{cluster=\"$cluster\"}"}]},
    {"id": 4, "title": "Missing metric", "targets": [
      {"refId": "A", "expr": "sum(rate(secflow_gone_total[5m])) / sum(rate(secflow_requests_total[5m]))"}]},
    {"id": 5, "type": "row", "title": "Logs", "collapsed": true, "panels": [
      {"id": 6, "title": "API errors", "datasource": {"type": "loki", "uid": "l"}, "targets": [
        {"refId": "A", "expr": "{service=\"api\"} | json | level=\"ERROR\""},
        {"refId": "B", "expr": "sum by (service) (rate({service=\"api\"}[5m]))"}]}
    ]}
  ]
}`

// dashWriteBudgets writes the bad dashboard and a budgets file for it
// into a new directory and returns the budgets file's path.
func dashWriteBudgets(t *testing.T, requireData bool) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "dashboards"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "dashboards", "bad.json"), []byte(dashBadDashboard), 0o644); err != nil {
		t.Fatal(err)
	}
	text := "version: 1\nbudgets:\n  - name: bad-dashboards\n    type: dashboards\n    files: ['dashboards/*.json']\n"
	if !requireData {
		text += "    require_data: false\n"
	}
	path := filepath.Join(dir, "budgets.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

type dashWant struct{ status, note string }

func dashExpect(t *testing.T, mode string, rep dashReport, wantMsg string, want map[string]dashWant) {
	t.Helper()
	if len(rep.Budgets) != 1 {
		t.Fatalf("%s: %d budgets", mode, len(rep.Budgets))
	}
	b := rep.Budgets[0]
	if b.Message != wantMsg {
		t.Errorf("%s: message\n %s\nwant\n %s", mode, b.Message, wantMsg)
	}
	got := map[string]dashWant{}
	for _, r := range b.Results {
		got[r.Subject] = dashWant{r.Status, r.Note}
		if r.File != "dashboards/bad.json" {
			t.Errorf("%s: %s: file %q", mode, r.Subject, r.File)
		}
	}
	for subj, w := range want {
		if got[subj] != w {
			t.Errorf("%s: %s: %+v\nwant %+v", mode, subj, got[subj], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: results %v, want %d", mode, got, len(want))
	}
}

func TestI11DashBadDashboardOfflineAndLive(t *testing.T) {
	budgets := dashWriteBudgets(t, true)
	healthy, err := filepath.Abs(filepath.Join(repo, "testdata", "snapshots", "healthy"))
	if err != nil {
		t.Fatal(err)
	}
	common := map[string]dashWant{
		"Bad / Good / A":             {"pass", ""},
		"Bad / Broken / A":           {"fail", "invalid PromQL: 1:37: parse error: unclosed left parenthesis"},
		"Bad / Unknown variable / A": {"fail", "unknown variable $cluster: the dashboard's templating defines no such variable"},
		"Bad / Missing metric / A":   {"fail", "no data: no series for secflow_gone_total"},
		"Bad / API errors / A":       {"pass", ""},
	}
	msg := "; Bad / Broken / A (dashboards/bad.json): invalid PromQL: 1:37: parse error: unclosed left parenthesis"

	// Offline: the LogQL target outside the subset is undecided, not failed.
	r := run(t, nil, "check", "-c", budgets, "--offline", healthy, "--format", "json")
	expectCode(t, r, 1)
	var off dashReport
	mustJSON(t, r.stdout, &off)
	want := map[string]dashWant{}
	for k, v := range common {
		want[k] = v
	}
	want["Bad / API errors / B"] = dashWant{"error", "LogQL unsupported by the offline evaluator (parse error at line 1, col 19: unsupported: rate (offline LogQL evaluates sum [by|without] of count_over_time and bytes_over_time, with line filters, json, logfmt, drop and string label filters)): check it against a live Loki"}
	dashExpect(t, "offline", off, "2/6 panel targets parse and have data, 1 not decided"+msg+" (and 2 more)", want)
	if q := off.Budgets[0].Queries; len(q) != 7 || q[0] != `sum by (job) (rate(secflow_requests_total{job=~"(api|worker)"}[1m15s]))` || q[2] != `count_over_time({service="api"} | json | level="ERROR" [1h])` {
		t.Errorf("queries %q", q)
	}

	// Live, against a real Prometheus holding the same samples and the
	// Loki test server holding the same logs: Loki answers the query the
	// offline evaluator cannot (the test server, like offline, refuses
	// rate(), so here the target fails as refused by the source).
	prom := promtest.Start(t, filepath.Join(healthy, "metrics.om"))
	loki := lokitest.Start(t, lokitest.WithJSONL(filepath.Join(healthy, "logs.jsonl")))
	r = run(t, nil, "check", "-c", budgets, "--prometheus", prom.URL, "--loki", loki.URL, "--at", dashAt, "--format", "json")
	expectCode(t, r, 1)
	var live dashReport
	mustJSON(t, r.stdout, &live)
	b := live.Budgets[0]
	for _, res := range b.Results {
		if res.Subject == "Bad / API errors / B" && (res.Status != "fail" || !strings.HasPrefix(res.Note, "invalid LogQL: the source refused the query: ")) {
			t.Errorf("live: the rate() target: %s %q, want a failure saying Loki refused it", res.Status, res.Note)
		}
	}
	want["Bad / API errors / B"] = dashWant{"fail", ""}
	for i := range live.Budgets[0].Results {
		if live.Budgets[0].Results[i].Subject == "Bad / API errors / B" {
			live.Budgets[0].Results[i].Note = ""
		}
	}
	dashExpect(t, "live", live, "2/6 panel targets parse and have data"+msg+" (and 3 more)", want)
	// Series counts agree with offline.
	for i, res := range live.Budgets[0].Results {
		o := off.Budgets[0].Results[i]
		if res.Subject == "Bad / API errors / B" {
			continue // refused live, undecided offline
		}
		if (res.Series == nil) != (o.Series == nil) || res.Series != nil && *res.Series != *o.Series {
			t.Errorf("%s: series live %v, offline %v", res.Subject, res.Series, o.Series)
		}
	}

	// The console names the panel and what is wrong.
	r = run(t, nil, "check", "-c", budgets, "--offline", healthy)
	expectCode(t, r, 1)
	for _, line := range []string{
		"     Bad / Broken / A 0 (file dashboards/bad.json); invalid PromQL: 1:37: parse error: unclosed left parenthesis\n",
		"     Bad / Unknown variable / A 0 (file dashboards/bad.json); unknown variable $cluster: the dashboard's templating defines no such variable\n",
		"     Bad / Missing metric / A 0 (file dashboards/bad.json, series 0); no data: no series for secflow_gone_total\n",
	} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("console lacks %q:\n%s", line, r.stdout)
		}
	}

	// require_data: false parses only and asks no source.
	r = run(t, nil, "check", "-c", dashWriteBudgets(t, false), "--format", "json")
	expectCode(t, r, 1)
	var parse dashReport
	mustJSON(t, r.stdout, &parse)
	if m := parse.Budgets[0].Message; m != "3/6 panel targets parse, 1 not decided; Bad / Broken / A (dashboards/bad.json): invalid PromQL: 1:37: parse error: unclosed left parenthesis (and 1 more)" {
		t.Errorf("require_data false: %s", m)
	}
}

func TestI11DashConfigErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "alerts.json"), []byte(`{"groups": []}`), 0o644)
	cfg := filepath.Join(dir, "budgets.yaml")
	os.WriteFile(cfg, []byte("version: 1\nbudgets:\n  - {name: d, type: dashboards, files: ['grafana/*.json', alerts.json]}\n"), 0o644)
	r := run(t, nil, "validate", "-c", cfg)
	expectCode(t, r, 2)
	for _, want := range []string{
		cfg + `:3:41: budgets[0].files[0]: "grafana/*.json" matches no file (files are relative to the budgets file's directory, ` + dir + ")",
		cfg + `:3:59: budgets[0].files[1]: alerts.json: not a Grafana dashboard: no "panels" or "rows" list at the top`,
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// The budgets dashboard of deploy/grafana is checked by its own budgets
// file, offline on pushed budget results and against a real Prometheus
// holding them.
func TestI11DashBudgetDashboard(t *testing.T) {
	snap := "deploy/grafana/testdata/budget-metrics"
	r := run(t, nil, "check", "-c", "deploy/grafana/budgets.yaml", "--offline", snap)
	expectCode(t, r, 0)
	for _, want := range []string{
		"✅ grafana-dashboards-parse  20/20 panel targets parse\n",
		"✅ budget-dashboard-data     7/7 panel targets parse and have data\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("offline: stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	prom := promtest.Start(t, filepath.Join(repo, snap, "metrics.om"))
	r = run(t, nil, "check", "-c", "deploy/grafana/budgets.yaml", "--prometheus", prom.URL, "--at", dashAt, "--format", "json")
	expectCode(t, r, 0)
	var rep dashReport
	mustJSON(t, r.stdout, &rep)
	series := map[string]float64{}
	for _, res := range rep.Budgets[1].Results {
		if res.Series != nil {
			series[res.Subject] = *res.Series
		}
	}
	// 2 budgets' statuses; 3 results; 1 pushing job.
	want := map[string]float64{
		"SecFlow budgets / Budget status over time / A":        2,
		"SecFlow budgets / Budgets not passing / A":            1,
		"SecFlow budgets / Headroom per result / A":            3,
		"SecFlow budgets / Value and limit per result / A":     3,
		"SecFlow budgets / Value and limit per result / B":     3,
		"SecFlow budgets / Failed runs: exit code per run / A": 1,
		"SecFlow budgets / Time since the last run / A":        1,
	}
	for k, v := range want {
		if series[k] != v {
			t.Errorf("live: %s: %v series, want %v", k, series[k], v)
		}
	}
	if len(series) != len(want) {
		t.Errorf("live: %v", series)
	}
}

// A snapshot recorded for the repo's dashboards budget answers its
// queries offline with the live verdict.
func TestI11DashSnapshotRecordsDashboardQueries(t *testing.T) {
	healthy := filepath.Join(repo, "testdata", "snapshots", "healthy")
	prom := promtest.Start(t, filepath.Join(healthy, "metrics.om"))
	dir := filepath.Join(t.TempDir(), "snap")
	r := run(t, nil, "snapshot", "--out", dir, "--prometheus", prom.URL, "--at", dashAt, "--only", "secflow-dashboards")
	expectCode(t, r, 0)
	live := run(t, nil, "check", "--prometheus", prom.URL, "--at", dashAt, "--only", "secflow-dashboards", "--format", "json")
	expectCode(t, live, 0)
	off := run(t, nil, "check", "--offline", dir, "--only", "secflow-dashboards", "--format", "json")
	expectCode(t, off, 0)
	var l, o dashReport
	mustJSON(t, live.stdout, &l)
	mustJSON(t, off.stdout, &o)
	if l.Budgets[0].Message != "13/13 panel targets parse and have data" || o.Budgets[0].Message != l.Budgets[0].Message {
		t.Errorf("live %q, offline from the recording %q", l.Budgets[0].Message, o.Budgets[0].Message)
	}
	for i, res := range o.Budgets[0].Results {
		lr := l.Budgets[0].Results[i]
		if res.Subject != lr.Subject || res.Series == nil || lr.Series == nil || *res.Series != *lr.Series {
			t.Errorf("result %d: offline %s %v, live %s %v", i, res.Subject, res.Series, lr.Subject, lr.Series)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(manifest), "sum by (job, status) (rate(secflow_requests_total[5m]))") {
		t.Errorf("the manifest does not list the dashboard's queries:\n%s", manifest)
	}
}

// dashCopyGrafana copies deploy/grafana/*.json into dir/deploy/grafana, for
// a test that runs a copy of budgets.yaml from dir: its dashboards budget
// names deploy/grafana/secflow.json relative to itself.
func dashCopyGrafana(t *testing.T, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repo, "deploy", "grafana", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards in deploy/grafana: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "deploy", "grafana"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "deploy", "grafana", filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
