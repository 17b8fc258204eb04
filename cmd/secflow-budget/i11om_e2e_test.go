package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/secflow/secflow-budget/internal/promtest"
)

// Issue 11, item 4: budget results as metrics (--format openmetrics,
// --report openmetrics=FILE, --push to a Pushgateway).

// omBudgets are the degraded snapshot's budgets whose metrics the tests
// pin: a failing and a passing latency budget (one with a result label
// named job), a failing log budget with a result per service, and an
// endpoint budget with results without limits and a warn limit of 0.
const omBudgets = "task-duration,request-latency,log-volume,secflow-metrics"

// omDegradedSeries is every series of the openmetrics report of omBudgets
// on the degraded snapshot, as omParse renders them.
var omDegradedSeries = func() map[string]float64 {
	m := map[string]float64{
		`secflow_budget_value{budget="secflow-metrics",category="metrics",subject="bytes",type="endpoint"}`:                             881636,
		`secflow_budget_value{budget="secflow-metrics",category="metrics",subject="series",type="endpoint"}`:                            10388,
		`secflow_budget_value{budget="secflow-metrics",category="metrics",subject="auth",type="endpoint"}`:                              401,
		`secflow_budget_value{budget="secflow-metrics",category="metrics",subject="lint",type="endpoint"}`:                              0,
		`secflow_budget_value{budget="log-volume",category="logs",service="api",subject="bytes_per_1h",type="log_volume"}`:              113702940,
		`secflow_budget_value{budget="log-volume",category="logs",service="scanner",subject="bytes_per_1h",type="log_volume"}`:          530076,
		`secflow_budget_value{budget="log-volume",category="logs",service="worker",subject="bytes_per_1h",type="log_volume"}`:           752376,
		`secflow_budget_value{budget="task-duration",category="performance",subject="p95",type="latency"}`:                              186.8571428571431,
		`secflow_budget_value{budget="task-duration",category="performance",subject="p99",type="latency"}`:                              769.7142857142844,
		`secflow_budget_value{budget="request-latency",category="performance",result_job="api",subject="p99",type="latency"}`:           0.28804012345679386,
		`secflow_budget_limit{budget="secflow-metrics",category="metrics",subject="bytes",type="endpoint"}`:                             1e6,
		`secflow_budget_limit{budget="log-volume",category="logs",service="api",subject="bytes_per_1h",type="log_volume"}`:              1e8,
		`secflow_budget_limit{budget="log-volume",category="logs",service="scanner",subject="bytes_per_1h",type="log_volume"}`:          1e8,
		`secflow_budget_limit{budget="log-volume",category="logs",service="worker",subject="bytes_per_1h",type="log_volume"}`:           1e8,
		`secflow_budget_limit{budget="task-duration",category="performance",subject="p95",type="latency"}`:                              300,
		`secflow_budget_limit{budget="task-duration",category="performance",subject="p99",type="latency"}`:                              600,
		`secflow_budget_limit{budget="request-latency",category="performance",result_job="api",subject="p99",type="latency"}`:           1,
		`secflow_budget_warn_limit{budget="secflow-metrics",category="metrics",subject="lint",type="endpoint"}`:                         0,
		`secflow_budget_warn_limit{budget="log-volume",category="logs",service="api",subject="bytes_per_1h",type="log_volume"}`:         8e7,
		`secflow_budget_warn_limit{budget="log-volume",category="logs",service="scanner",subject="bytes_per_1h",type="log_volume"}`:     8e7,
		`secflow_budget_warn_limit{budget="log-volume",category="logs",service="worker",subject="bytes_per_1h",type="log_volume"}`:      8e7,
		`secflow_budget_warn_limit{budget="task-duration",category="performance",subject="p95",type="latency"}`:                         240,
		`secflow_budget_warn_limit{budget="request-latency",category="performance",result_job="api",subject="p99",type="latency"}`:      0.5,
		`secflow_budget_headroom_ratio{budget="secflow-metrics",category="metrics",subject="bytes",type="endpoint"}`:                    0.118364,
		`secflow_budget_headroom_ratio{budget="log-volume",category="logs",service="api",subject="bytes_per_1h",type="log_volume"}`:     -0.1370294,
		`secflow_budget_headroom_ratio{budget="log-volume",category="logs",service="scanner",subject="bytes_per_1h",type="log_volume"}`: 0.99469924,
		`secflow_budget_headroom_ratio{budget="log-volume",category="logs",service="worker",subject="bytes_per_1h",type="log_volume"}`:  0.99247624,
		`secflow_budget_headroom_ratio{budget="task-duration",category="performance",subject="p95",type="latency"}`:                     0.3771428571428564,
		`secflow_budget_headroom_ratio{budget="task-duration",category="performance",subject="p99",type="latency"}`:                     -0.2828571428571407,
		`secflow_budget_headroom_ratio{budget="request-latency",category="performance",result_job="api",subject="p99",type="latency"}`:  0.7119598765432061,
		`secflow_budget_run_timestamp_seconds`: 1795694407, // 2026-11-26T12:00:07Z
		`secflow_budget_run_exit_code`:         1,
	}
	status := map[string]string{"secflow-metrics": "pass", "log-volume": "fail", "task-duration": "fail", "request-latency": "pass"}
	types := map[string]string{"secflow-metrics": "endpoint", "log-volume": "log_volume", "task-duration": "latency", "request-latency": "latency"}
	cats := map[string]string{"secflow-metrics": "metrics", "log-volume": "logs", "task-duration": "performance", "request-latency": "performance"}
	for b, st := range status {
		for _, s := range []string{"pass", "waived", "skip", "warn", "error", "fail"} {
			v := 0.0
			if s == st {
				v = 1
			}
			m[`secflow_budget_status{budget="`+b+`",category="`+cats[b]+`",status="`+s+`",type="`+types[b]+`"}`] = v
		}
	}
	return m
}()

// omParse reads an OpenMetrics text with Prometheus' own parser and returns
// each series as name{labels sorted} with its value; it fails the test on
// a parse error, a timestamp, a duplicate series or a missing # EOF.
func omParse(t *testing.T, text string) map[string]float64 {
	t.Helper()
	if !strings.HasSuffix(text, "\n# EOF\n") {
		t.Fatalf("the report does not end with # EOF:\n%s", text)
	}
	p := textparse.NewOpenMetricsParser([]byte(text), labels.NewSymbolTable())
	out := map[string]float64{}
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("parsing the report: %v\n%s", err, text)
		}
		if e != textparse.EntrySeries {
			continue
		}
		_, ts, v := p.Series()
		if ts != nil {
			t.Errorf("series with a timestamp (%d)", *ts)
		}
		var l labels.Labels
		p.Labels(&l)
		key := omSeriesKey(l.Map())
		if _, dup := out[key]; dup {
			t.Errorf("series %s written twice", key)
		}
		out[key] = v
	}
	return out
}

// omSeriesKey renders a label set as name{a="x",b="y"} (labels sorted,
// values unescaped), the form omDegradedSeries uses.
func omSeriesKey(ls map[string]string) string {
	name := ls["__name__"]
	var parts []string
	for k, v := range ls {
		if k != "__name__" {
			parts = append(parts, k+`="`+v+`"`)
		}
	}
	if len(parts) == 0 {
		return name
	}
	slices.Sort(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// omSameSeries compares two parsed reports, listing every difference.
func omSameSeries(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("missing series %s (want %v)", k, w)
		case g != w:
			t.Errorf("%s = %v, want %v", k, strconv.FormatFloat(g, 'g', -1, 64), w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected series %s = %v", k, g)
		}
	}
}

// omPromtool runs `promtool check metrics` on text and fails the test on
// any complaint (promtool's linter prints one line per problem).
func omPromtool(t *testing.T, text string) {
	t.Helper()
	cmd := exec.Command(promtest.Promtool(t), "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

// TestI11omOpenMetricsDegraded: --format openmetrics on the degraded
// snapshot is accepted by promtool and holds exactly the expected series
// and values; --report openmetrics=FILE writes the same bytes.
func TestI11omOpenMetricsDegraded(t *testing.T) {
	r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", omBudgets, "--format", "openmetrics")
	expectCode(t, r, 1)
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	omPromtool(t, r.stdout)
	omSameSeries(t, omParse(t, r.stdout), omDegradedSeries)
	if strings.Contains(r.stdout, "NaN") || strings.Contains(r.stdout, "Inf") {
		t.Errorf("report holds NaN or Inf:\n%s", r.stdout)
	}

	file := filepath.Join(t.TempDir(), "budgets.om")
	r2 := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", omBudgets, "--report", "openmetrics="+file, "--no-emoji")
	expectCode(t, r2, 1)
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != r.stdout {
		t.Errorf("--report openmetrics=FILE differs from --format openmetrics:\n%s\n--- stdout:\n%s", b, r.stdout)
	}
	if !strings.Contains(r2.stdout, "task-duration") {
		t.Errorf("the console report is not on stdout beside the file:\n%s", r2.stdout)
	}
}

// TestI11omOpenMetricsWholeRun: every budget of the repository's
// budgets.yaml on both snapshots gives a report promtool accepts, with one
// status series set to 1 per budget, matching the JSON report's statuses.
func TestI11omOpenMetricsWholeRun(t *testing.T) {
	for _, snap := range []string{"healthy", "degraded"} {
		dir := t.TempDir()
		jsonPath := filepath.Join(dir, "r.json")
		r := run(t, nil, "check", "--offline", "testdata/snapshots/"+snap, "--format", "openmetrics", "--report", "json="+jsonPath)
		if r.code != 0 && r.code != 1 {
			t.Fatalf("%s: exit %d\n%s", snap, r.code, r.stderr)
		}
		omPromtool(t, r.stdout)
		series := omParse(t, r.stdout)
		type budget struct{ Name, Type, Category, Status string }
		rep := readJSONFile[struct {
			ExitCode int `json:"exit_code"`
			Budgets  []budget
		}](t, jsonPath)
		if got := series["secflow_budget_run_exit_code"]; got != float64(r.code) || rep.ExitCode != r.code {
			t.Errorf("%s: secflow_budget_run_exit_code %v, JSON %d, process %d", snap, got, rep.ExitCode, r.code)
		}
		ones := 0
		for k, v := range series {
			if strings.HasPrefix(k, "secflow_budget_status{") && v == 1 {
				ones++
			}
		}
		if ones != len(rep.Budgets) || len(rep.Budgets) == 0 {
			t.Errorf("%s: %d status series at 1 for %d budgets", snap, ones, len(rep.Budgets))
		}
		for _, b := range rep.Budgets {
			k := `secflow_budget_status{budget="` + b.Name + `",category="` + b.Category + `",status="` + b.Status + `",type="` + b.Type + `"}`
			if series[k] != 1 {
				t.Errorf("%s: %s = %v, want 1", snap, k, series[k])
			}
		}
	}
}

// omDeadURL is an http:// URL (with credentials) where nothing listens.
func omDeadURL(t *testing.T) (url, addr string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = l.Addr().String()
	l.Close()
	return "http://ci:pa55w0rd-x@" + addr, addr
}

// TestI11omPushScrapedByPrometheus: check --push sends the run to a real
// Pushgateway, which a real Prometheus scrapes (honor_labels): the value of
// task-duration's p99 is queryable with its labels, the grouping labels
// and job="secflow_budget"; a result label named job arrives as
// result_job. The README's alerting rules, loaded into that Prometheus,
// fire for the failing budget. A second push replaces the group.
func TestI11omPushScrapedByPrometheus(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "secflow-budget.rules.yml")
	if err := os.WriteFile(rules, []byte(docsBlock(t, docsReadme(t), "om-alerts")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtest.Promtool(t), "check", "rules", rules).CombinedOutput(); err != nil {
		t.Fatalf("promtool check rules on the README's rules: %v\n%s", err, out)
	}
	pg := promtest.StartPushgateway(t)
	prom := promtest.StartWith(t, []promtest.Option{
		promtest.WithScrapeConfig(pg.ScrapeJob("pushgateway", 500*time.Millisecond)),
		promtest.WithRulesFiles(rules),
	})

	r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", omBudgets,
		"--push", pg.URL, "--push-label", "branch=main", "--push-label", "pipeline=1234", "-q")
	expectCode(t, r, 1)
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}

	const expr = `secflow_budget_value{budget="task-duration",subject="p99"}`
	var got []promtest.Sample
	deadline := time.Now().Add(30 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		got = prom.Query(t, expr, time.Now())
		if len(got) == 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	if len(got) != 1 {
		t.Fatalf("%s: %v after 30s\n--- pushgateway log:\n%s\n--- prometheus log:\n%s", expr, got, pg.Log(), prom.Log())
	}
	wantLabels := map[string]string{
		"__name__": "secflow_budget_value", "budget": "task-duration", "type": "latency", "category": "performance",
		"subject": "p99", "job": "secflow_budget", "branch": "main", "pipeline": "1234",
	}
	if got[0].Value != 769.7142857142844 || omSeriesKey(got[0].Labels) != omSeriesKey(wantLabels) {
		t.Errorf("%s = %v, want %s 769.7142857142844", expr, got[0], omSeriesKey(wantLabels))
	}
	for q, want := range map[string]float64{
		`secflow_budget_status{budget="task-duration",status="fail",job="secflow_budget",branch="main"}`: 1,
		`secflow_budget_status{budget="task-duration",status="pass"}`:                                    0,
		`secflow_budget_headroom_ratio{budget="log-volume",service="api"}`:                               -0.1370294,
		`secflow_budget_value{budget="request-latency",result_job="api",job="secflow_budget"}`:           0.28804012345679386,
		`secflow_budget_run_exit_code{job="secflow_budget",branch="main",pipeline="1234"}`:               1,
		`secflow_budget_run_timestamp_seconds{job="secflow_budget"}`:                                     1795694407,
		`count({job="secflow_budget",__name__=~"secflow_budget_.*"})`:                                    float64(len(omDegradedSeries)),
	} {
		if v := prom.QueryValue(t, q, time.Now()); v != want {
			t.Errorf("%s = %v, want %v", q, v, want)
		}
	}

	// The README's first alert fires for the failing budgets, on the
	// pushed branch, and not for the passing ones.
	const alerts = `ALERTS{alertname="SecflowBudgetFailing",alertstate="firing"}`
	var firing []promtest.Sample
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if firing = prom.Query(t, alerts, time.Now()); len(firing) == 2 {
			break
		}
	}
	var fired []string
	for _, s := range firing {
		fired = append(fired, s.Labels["budget"]+"@"+s.Labels["branch"]+"/"+s.Labels["severity"])
	}
	slices.Sort(fired)
	if strings.Join(fired, ",") != "log-volume@main/warning,task-duration@main/warning" {
		t.Errorf("%s: %v, want log-volume and task-duration on main", alerts, firing)
	}

	// PUT replaces the group: after a push of one passing budget, the
	// Pushgateway holds only its series.
	r = run(t, nil, "check", "--offline", "testdata/snapshots/healthy", "--only", "task-duration",
		"--push", pg.URL, "--push-label", "branch=main", "--push-label", "pipeline=1234", "-q")
	expectCode(t, r, 0)
	resp, err := http.Get(pg.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Contains(string(body), `budget="log-volume"`) || strings.Contains(string(body), `budget="request-latency"`) {
		t.Errorf("the second push did not replace the group:\n%s", body)
	}
	for _, want := range []string{
		`secflow_budget_status{branch="main",budget="task-duration",category="performance",instance="",job="secflow_budget",pipeline="1234",status="pass",type="latency"} 1`,
		`secflow_budget_run_exit_code{branch="main",instance="",job="secflow_budget",pipeline="1234"} 0`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the Pushgateway lacks %s:\n%s", want, body)
		}
	}
}

// TestI11omPushFailure: a push nobody takes is one warning line (URL
// masked) and leaves the exit code alone; with --push-required it is an
// error line and exit 3, which the JSON report states too; a violation
// still exits 1.
func TestI11omPushFailure(t *testing.T) {
	url, addr := omDeadURL(t)
	masked := "http://xxxxx@" + addr
	refused := "pushing the metrics to " + masked + ": dial tcp " + addr + ": connect: connection refused"

	r := run(t, nil, "check", "--offline", "testdata/snapshots/healthy", "--only", "task-duration", "--push", url, "-q")
	expectCode(t, r, 0)
	if want := "warning: " + refused + "; the exit code is unchanged (--push-required makes it 3)\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}

	jsonPath := filepath.Join(t.TempDir(), "r.json")
	r = run(t, nil, "check", "--offline", "testdata/snapshots/healthy", "--only", "task-duration", "--push", url, "--push-required",
		"--report", "json="+jsonPath, "-q")
	expectCode(t, r, 3)
	if want := "error: " + refused + " (--push-required)\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	if rep := readJSONFile[struct {
		ExitCode int `json:"exit_code"`
	}](t, jsonPath); rep.ExitCode != 3 {
		t.Errorf("JSON report exit_code %d, want 3 (the code the process returns)", rep.ExitCode)
	}

	r = run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "task-duration", "--push", url, "--push-required", "-q")
	expectCode(t, r, 1)
	if want := "error: " + refused + " (--push-required)\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	for _, out := range []string{r.stdout, r.stderr} {
		if strings.Contains(out, "pa55w0rd") {
			t.Errorf("output leaks the URL's password: %s", out)
		}
	}
}

// TestI11omPushFlagErrors: bad --push/--push-label values are usage errors
// (exit 2), named by their flag, and nothing is pushed.
func TestI11omPushFlagErrors(t *testing.T) {
	url, _ := omDeadURL(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--push", url, "--push-label", "9branch=main"}, `error: --push-label: invalid label name "9branch": want [a-zA-Z_][a-zA-Z0-9_]*`},
		{[]string{"--push", url, "--push-label", "branch-name=main"}, `error: --push-label: invalid label name "branch-name": want [a-zA-Z_][a-zA-Z0-9_]*`},
		{[]string{"--push", url, "--push-label", "branch"}, `error: --push-label: invalid value "branch": want NAME=VALUE, e.g. branch=main`},
		{[]string{"--push", url, "--push-label", "branch="}, `error: --push-label: label branch: empty value (is a variable unset?)`},
		{[]string{"--push", url, "--push-label", "job=ci"}, `error: --push-label: label name "job": the push's job is always secflow_budget`},
		{[]string{"--push", url, "--push-label", "subject=x"}, `error: --push-label: label name "subject": every metric has a label of that name; pick another`},
		{[]string{"--push", url, "--push-label", "a=1", "--push-label", "a=2"}, `error: --push-label: label a given twice`},
		{[]string{"--push-label", "branch=main"}, `error: --push-label: needs --push URL`},
		{[]string{"--push-required"}, `error: --push-required: needs --push URL`},
		{[]string{"--push", "pushgateway:9091"}, `error: --push: pushgateway:9091: want an http:// or https:// URL of the Pushgateway, e.g. http://pushgateway:9091`},
	} {
		args := append([]string{"check", "--offline", "testdata/snapshots/healthy", "--only", "task-duration"}, tc.args...)
		r := run(t, nil, args...)
		if r.code != 2 || r.stderr != tc.want+"\n" {
			t.Errorf("%v: exit %d, stderr %q; want 2, %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestI11omPushAfterTimeout: a run whose --timeout expired (a Prometheus
// that never answers) is still pushed, with exit code 4 and its budgets
// as errors: --timeout bounds the evaluation, not the push.
func TestI11omPushAfterTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // accept and never answer
		}
	}()
	pg := promtest.StartPushgateway(t)
	r := run(t, nil, "check", "--prometheus", "http://"+l.Addr().String(), "--only", "task-duration",
		"--timeout", "1s", "--push", pg.URL, "--push-label", "branch=main", "-q")
	expectCode(t, r, 4)
	resp, err := http.Get(pg.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`secflow_budget_run_exit_code{branch="main",instance="",job="secflow_budget"} 4`,
		`secflow_budget_status{branch="main",budget="task-duration",category="performance",instance="",job="secflow_budget",status="error",type="latency"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the Pushgateway lacks %s:\n%s", want, body)
		}
	}
	if strings.Contains(string(body), "secflow_budget_value{") {
		t.Errorf("a budget that timed out has a value on the Pushgateway:\n%s", body)
	}
}

// TestI11omPushAfterSignal: a run stopped by SIGINT while waiting on
// Prometheus writes its reports and still pushes them (exit code 130, the
// undecided budget as an error) within its second.
func TestI11omPushAfterSignal(t *testing.T) {
	pg := promtest.StartPushgateway(t)
	srv, hits := cliHangingServer(t)
	p := cliStart(t, nil, "check", "-c", cliWriteBudgets(t, srv.URL), "--at", faultAt, "--push", pg.URL, "-q")
	cliWaitFor(t, "the query to reach the server", func() bool { return hits.Load() > 0 })
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	r, took := p.wait(t, 10*time.Second)
	t.Logf("exited %s after the signal", took.Round(time.Millisecond))
	expectCode(t, r, 130)
	if strings.Contains(r.stderr, "push") {
		t.Errorf("the push after the signal failed: %s", r.stderr)
	}
	resp, err := http.Get(pg.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`secflow_budget_run_exit_code{instance="",job="secflow_budget"} 130`,
		`secflow_budget_status{budget="queue-depth",category="metrics",instance="",job="secflow_budget",status="error",type="metric"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the Pushgateway lacks %s:\n%s", want, body)
		}
	}
}
