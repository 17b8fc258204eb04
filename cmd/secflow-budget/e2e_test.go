package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/lokitest"
	"github.com/secflow/secflow-budget/internal/promtest"
)

// The end-to-end tests run the built binary, as users and CI do, and assert
// exit codes, stdout and stderr.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "secflow-budget-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "secflow-budget")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic("building the binary: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const repo = "../.."

type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary from the repository root with a clean environment.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return runIn(t, repo, env, args...)
}

// runIn runs the binary in dir with a clean environment plus env.
func runIn(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func expectCode(t *testing.T, r result, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, r.stdout, r.stderr)
	}
}

func TestOfflineHealthyPasses(t *testing.T) {
	r := run(t, nil, "check", "--offline", "testdata/snapshots/healthy")
	expectCode(t, r, 0)
	for _, want := range []string{"🔍 metrics", "📊 logs", "⚡ performance", "✅ core-metrics", "✅ task-duration", "9/9 metrics present", "✅ log-volume", "✅ log-levels", "✅ log-redaction", "✅ log-structure"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("color codes on a non-terminal:\n%q", r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("unexpected stderr: %s", r.stderr)
	}
}

func TestOfflineDegradedFails(t *testing.T) {
	r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded")
	expectCode(t, r, 1)
	for _, want := range []string{
		"❌ core-metrics", "missing: secflow_gc_reclaimed_bytes_total",
		"❌ series-cardinality", "❌ task-duration", "⚠️ sandbox-failure-ratio", "✅ queue-depth",
		"📊 logs", `❌ log-volume             bytes_per_1h{service="api"} 113.7 MB > 100 MB`,
		`❌ log-structure          structured{service="worker"} 30.11% < 90% (and 1 more fail)`,
		`❌ log-levels             ERROR{service="worker"} 14.17% > 10%`,
		"aws_access_key{service=\"api\"} 1 > 0", "bearer_token{service=\"worker\"} 1 > 0",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestJSONReportAndFiles(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "report.json")
	junitPath := filepath.Join(dir, "junit.xml")
	r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--format", "json", "-o", jsonPath, "--report", "junit="+junitPath, "--no-emoji")
	expectCode(t, r, 1)
	if r.stdout != "" {
		t.Errorf("stdout should be empty with -o, got:\n%s", r.stdout)
	}
	rep := readReport(t, jsonPath)
	if rep.SchemaVersion != 1 || rep.Mode != "offline" || rep.Status != "fail" || rep.ExitCode != 1 {
		t.Errorf("report header = %+v", rep)
	}
	if rep.EvaluatedAt != "2026-11-26T12:00:07Z" {
		t.Errorf("evaluated_at = %s", rep.EvaluatedAt)
	}
	if rep.Summary["total"] != 17 || rep.Summary["pass"] != 6 || rep.Summary["warn"] != 1 || rep.Summary["fail"] != 10 || rep.Summary["error"] != 0 || rep.Summary["skip"] != 0 {
		t.Errorf("summary = %v, want total 17: pass 6, warn 1, fail 10", rep.Summary)
	}
	// Every budget of budgets.yaml, in file order, with its verdict on the
	// degraded fixture; failures with their headline.
	want := []struct{ name, class, status, failure string }{
		{"core-metrics", "metrics", "fail", "8/9 metrics present; missing: secflow_gc_reclaimed_bytes_total"},
		{"series-cardinality", "metrics", "fail", "series 10,388 > 10,000"},
		{"scrape-targets", "metrics", "fail", "api:8080 scraped 10,388 samples > 10,000"},
		{"secflow-metrics", "metrics", "pass", ""},
		{"log-volume", "logs", "fail", `bytes_per_1h{service="api"} 113.7 MB > 100 MB`},
		{"log-levels", "logs", "fail", `ERROR{service="worker"} 14.17% > 10%`},
		{"log-redaction", "logs", "fail", `lines matching secret patterns: aws_access_key{service="api"}: 1, bearer_token{service="worker"}: 1 (matched text is never shown)`},
		{"task-duration", "performance", "fail", "p99 769.7s > 600s"},
		{"request-latency", "performance", "pass", ""},
		{"task-throughput", "performance", "pass", ""},
		{"sandbox-failure-ratio", "performance", "warn", ""},
		{"queue-depth", "performance", "pass", ""},
		{"budget-alerts", "alerting", "fail", "SecflowTaskDurationP99High firing; SecflowErrorShareHigh firing"},
		{"prometheus-retention", "retention", "pass", ""},
		{"loki-retention", "retention", "pass", ""},
		{"secflow-dashboards", "dashboards", "fail", "11/13 panel targets parse and have data; SecFlow / Bytes reclaimed per GC run / A (deploy/grafana/secflow.json): no data: no series for secflow_gc_reclaimed_bytes_total (and 1 more)"},
		{"log-structure", "logs", "fail", `structured{service="worker"} 30.11% < 90% (and 1 more fail)`},
	}
	if len(rep.Budgets) != len(want) {
		t.Errorf("JSON report holds %d budgets, want %d", len(rep.Budgets), len(want))
	}
	for i, b := range rep.Budgets {
		if i < len(want) && (b.Name != want[i].name || b.Status != want[i].status) {
			t.Errorf("JSON budget %d: %s %s, want %s %s", i, b.Name, b.Status, want[i].name, want[i].status)
		}
	}

	b, err := os.ReadFile(junitPath)
	if err != nil {
		t.Fatal(err)
	}
	var junit testsJUnitSuites
	if err := xml.Unmarshal(b, &junit); err != nil {
		t.Fatalf("junit report is not XML: %v\n%s", err, b)
	}
	if junit.Tests != 17 || junit.Failures != 10 || junit.Errors != 0 || junit.Skipped != 0 || len(junit.Suites) != 1 {
		t.Errorf("<testsuites> tests=%d failures=%d errors=%d skipped=%d with %d suites, want 17, 10, 0, 0 and one suite", junit.Tests, junit.Failures, junit.Errors, junit.Skipped, len(junit.Suites))
	}
	if len(junit.Suites) == 0 {
		t.Fatalf("junit report has no <testsuite>:\n%s", b)
	}
	suite := junit.Suites[0]
	if suite.Tests != 17 || suite.Failures != 10 || suite.Errors != 0 || suite.Skipped != 0 || suite.Timestamp != "2026-11-26T12:00:07" {
		t.Errorf("<testsuite> tests=%d failures=%d errors=%d skipped=%d timestamp=%s, want 17, 10, 0, 0, 2026-11-26T12:00:07", suite.Tests, suite.Failures, suite.Errors, suite.Skipped, suite.Timestamp)
	}
	if len(suite.Cases) != len(want) {
		t.Errorf("junit report holds %d testcases, want %d", len(suite.Cases), len(want))
	}
	for i, c := range suite.Cases {
		if i >= len(want) {
			break
		}
		w := want[i]
		if c.Name != w.name || c.Classname != "secflow-budget."+w.class {
			t.Errorf("testcase %d: %s (%s), want %s (secflow-budget.%s)", i, c.Name, c.Classname, w.name, w.class)
		}
		switch {
		case c.Error != nil || c.Skipped != nil:
			t.Errorf("testcase %s: an error or skip element, want %s", c.Name, w.status)
		case w.status == "fail" && (c.Failure == nil || c.Failure.Message != w.failure):
			t.Errorf("testcase %s: failure %+v, want message %q", c.Name, c.Failure, w.failure)
		case w.status != "fail" && c.Failure != nil:
			t.Errorf("testcase %s: failure %q, want %s", c.Name, c.Failure.Message, w.status)
		case w.status == "warn" && !strings.Contains(c.SystemOut, "1.48%"):
			t.Errorf("testcase %s: system-out %q should carry the warning with its value 1.48%%", c.Name, c.SystemOut)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("report dir holds %d files, want 2 (no temp files left)", len(entries))
	}
}

// testsJUnitSuites is the part of a JUnit XML report the tests read.
type testsJUnitSuites struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Tests     int    `xml:"tests,attr"`
		Failures  int    `xml:"failures,attr"`
		Errors    int    `xml:"errors,attr"`
		Skipped   int    `xml:"skipped,attr"`
		Timestamp string `xml:"timestamp,attr"`
		Cases     []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
			} `xml:"failure"`
			Error     *struct{} `xml:"error"`
			Skipped   *struct{} `xml:"skipped"`
			SystemOut string    `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestFailOnWarn(t *testing.T) {
	r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "sandbox-failure-ratio")
	expectCode(t, r, 0)
	r = run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "sandbox-failure-ratio", "--fail-on", "warn")
	expectCode(t, r, 1)
}

func TestSelection(t *testing.T) {
	r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--skip", "metrics,logs,alerting,retention,dashboards,task-duration", "--format", "json")
	expectCode(t, r, 0)
	var rep report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	// --skip takes tags and names: what is left is the performance area
	// without task-duration.
	want := []string{"request-latency pass", "task-throughput pass", "sandbox-failure-ratio warn", "queue-depth pass"}
	var got []string
	for _, b := range rep.Budgets {
		got = append(got, b.Name+" "+b.Status)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("selected budgets: %v, want %v", got, want)
	}
	if rep.Summary["total"] != 4 || rep.Summary["pass"] != 3 || rep.Summary["warn"] != 1 || rep.Summary["skip"] != 0 {
		t.Errorf("summary = %v, want total 4: pass 3, warn 1, skip 0", rep.Summary)
	}
	r = run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "metrics,queue-depth", "--format", "json")
	expectCode(t, r, 1)
	var only report
	mustJSON(t, r.stdout, &only)
	want = []string{"core-metrics fail", "series-cardinality fail", "scrape-targets fail", "secflow-metrics pass", "queue-depth pass"}
	got = nil
	for _, b := range only.Budgets {
		got = append(got, b.Name+" "+b.Status)
	}
	if strings.Join(got, ", ") != strings.Join(want, ", ") {
		t.Errorf("--only metrics,queue-depth selected: %v, want %v", got, want)
	}
	r = run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "no-such-budget")
	expectCode(t, r, 2)
	if !strings.Contains(r.stderr, `--only: no budget or tag named "no-such-budget"`) {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestBrokenBudgetsExit2(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "budgets.yaml")
	text := "version: 1\nbudgets:\n  - name: task-duration\n    type: latency\n    histogram: secflow_task_duration_seconds\n    percentiles:\n      p95: 30O s\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "check", "-c", path, "--offline", "testdata/snapshots/healthy")
	expectCode(t, r, 2)
	want := path + `:7:12: budgets[0].percentiles.p95: invalid duration "30O s"`
	if !strings.HasPrefix(strings.TrimPrefix(r.stderr, "error: "), want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr = %q, want one line starting %q", r.stderr, want)
	}
	r = run(t, nil, "validate", "-c", path)
	expectCode(t, r, 2)
}

func TestCorruptSnapshotExit2(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("manifest.yaml", "version: 1\nevaluated_at: 2026-11-26T12:00:07Z\n")
	write("metrics.om", "# TYPE secflow_queue_depth gauge\nsecflow_queue_depth{queue=\"a\"} 1 1795708800\nsecflow_queue_depth{queue=\"a\"} oops 1795708815\n# EOF\n")
	r := run(t, nil, "check", "--offline", dir)
	expectCode(t, r, 2)
	if !strings.Contains(r.stderr, "metrics.om:3") {
		t.Errorf("stderr should name metrics.om line 3: %s", r.stderr)
	}

	write("metrics.om", "# EOF\n")
	write("logs.jsonl", `{"ts":"1795694400000000000","labels":{"service":"api"},"line":"ok"}`+"\n"+`{"ts":"1795694401000000000","labels":{"service":"api"},"line":`+"\n")
	r = run(t, nil, "check", "--offline", dir, "--only", "logs")
	expectCode(t, r, 2)
	if !strings.Contains(r.stderr, "logs.jsonl:2") {
		t.Errorf("stderr should name logs.jsonl line 2: %s", r.stderr)
	}
}

func TestClosedPortExit3(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	r := run(t, nil, "check", "--prometheus", "http://"+addr, "--loki", "http://"+addr, "--only", "core-metrics,task-duration,log-volume")
	expectCode(t, r, 3)
	if !strings.Contains(r.stdout, "💥") || !strings.Contains(r.stdout, "connection refused") {
		t.Errorf("stdout should show the refused connection:\n%s", r.stdout)
	}
}

func TestHungPrometheusExit4(t *testing.T) {
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
	start := time.Now()
	r := run(t, nil, "check", "--prometheus", "http://"+l.Addr().String(), "--loki", "http://"+l.Addr().String(), "--timeout", "1s")
	expectCode(t, r, 4)
	if !strings.Contains(r.stderr, "--timeout") {
		t.Errorf("stderr should say the run timed out: %s", r.stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the run took %s despite --timeout 1s", d)
	}
}

// TestLiveOfflineParity backfills each snapshot into a real Prometheus and
// serves its logs from the Loki test server, and asserts that the live
// check and the offline check agree on every verdict and value.
func TestLiveOfflineParity(t *testing.T) {
	for _, name := range []string{"healthy", "degraded"} {
		t.Run(name, func(t *testing.T) {
			snap := filepath.Join(repo, "testdata", "snapshots", name)
			srv := promtest.Start(t, filepath.Join(snap, "metrics.om"))
			logs, _ := filepath.Glob(filepath.Join(snap, "logs.jsonl*"))
			if len(logs) != 1 {
				t.Fatalf("want one logs file in %s, got %v", snap, logs)
			}
			loki := lokitest.Start(t, lokitest.WithJSONL(logs[0]))
			at := "2026-11-26T12:00:07Z"
			// Alerting, retention, scrape and endpoint budgets read state the
			// throwaway Prometheus does not share with the fixtures (its own
			// rules, runtime, targets); their live/offline agreement is
			// tested by the snapshot round trip and in internal/checks.
			skip := "alerting,retention,scrape-targets,secflow-metrics"
			offline := run(t, nil, "check", "--offline", "testdata/snapshots/"+name, "--skip", skip, "--format", "json")
			live := run(t, nil, "check", "--prometheus", srv.URL, "--loki", loki.URL, "--at", at, "--skip", skip, "--format", "json")
			if offline.code != live.code {
				t.Errorf("exit codes differ: offline %d, live %d\n%s", offline.code, live.code, live.stdout)
			}
			var off, liv report
			mustJSON(t, offline.stdout, &off)
			mustJSON(t, live.stdout, &liv)
			compareReports(t, off, liv)
		})
	}
}

type report struct {
	SchemaVersion int            `json:"schema_version"`
	Mode          string         `json:"mode"`
	EvaluatedAt   string         `json:"evaluated_at"`
	Status        string         `json:"status"`
	ExitCode      int            `json:"exit_code"`
	Summary       map[string]int `json:"summary"`
	Budgets       []struct {
		Name    string   `json:"name"`
		Status  string   `json:"status"`
		Message string   `json:"message"`
		Queries []string `json:"queries"`
		Results []map[string]any
		Error   *struct{ Kind, Message string }
	} `json:"budgets"`
}

func readReport(t *testing.T, path string) report {
	t.Helper()
	return readJSONFile[report](t, path)
}

// readJSONFile decodes the JSON file at path into a T (a test's own view
// of a report).
func readJSONFile[T any](t *testing.T, path string) T {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	mustJSON(t, string(b), &v)
	return v
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("invalid JSON report: %v\n%s", err, s)
	}
}

func compareReports(t *testing.T, off, live report) {
	t.Helper()
	if len(off.Budgets) != len(live.Budgets) {
		t.Fatalf("%d budgets offline, %d live", len(off.Budgets), len(live.Budgets))
	}
	compared := 0
	defer func() {
		// Guard against a vacuous pass: every budget has numbers to compare.
		if compared < 2*len(off.Budgets) {
			t.Errorf("compared only %d numbers over %d budgets", compared, len(off.Budgets))
		}
	}()
	for i, o := range off.Budgets {
		l := live.Budgets[i]
		if o.Name != l.Name || o.Status != l.Status {
			t.Errorf("%s: offline %s, live %s %s (%s | %s)", o.Name, o.Status, l.Name, l.Status, o.Message, l.Message)
			continue
		}
		if o.Error != nil || l.Error != nil {
			t.Errorf("%s: errors offline %v, live %v", o.Name, o.Error, l.Error)
		}
		if len(o.Results) != len(l.Results) {
			t.Errorf("%s: %d results offline, %d live", o.Name, len(o.Results), len(l.Results))
			continue
		}
		for j, or := range o.Results {
			lr := l.Results[j]
			for k, ov := range or {
				lv := lr[k]
				of, ok1 := ov.(float64)
				lf, ok2 := lv.(float64)
				if ok1 && ok2 {
					compared++
					if !closeRel(of, lf, 1e-9) {
						t.Errorf("%s result %d %s: offline %v, live %v", o.Name, j, k, of, lf)
					}
					continue
				}
				if js(ov) != js(lv) {
					t.Errorf("%s result %d %s: offline %s, live %s", o.Name, j, k, js(ov), js(lv))
				}
			}
		}
	}
}

func closeRel(a, b, tol float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b))
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestLokiTenant runs the log budgets against a Loki that demands a tenant:
// without one, Loki's own text comes through and the run exits 3; with the
// tenant of budgets.yaml it passes.
func TestLokiTenant(t *testing.T) {
	loki := lokitest.Start(t, lokitest.WithJSONL(filepath.Join(repo, "testdata/snapshots/healthy/logs.jsonl")), lokitest.WithAuth())
	budgets, err := os.ReadFile(filepath.Join(repo, "budgets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// budgets.yaml names deploy/alerts.yaml relative to itself.
	rules, err := os.ReadFile(filepath.Join(repo, "deploy/alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "deploy"), 0o755)
	os.WriteFile(filepath.Join(dir, "deploy/alerts.yaml"), rules, 0o644)
	dashCopyGrafana(t, dir) // and deploy/grafana, for the dashboards budget
	noTenant := filepath.Join(dir, "no-tenant.yaml")
	withTenant := filepath.Join(dir, "tenant.yaml")
	text := strings.Replace(string(budgets), "    tenant: secflow\n", "", 1)
	if text == string(budgets) {
		t.Fatal("budgets.yaml no longer sets sources.loki.tenant: update this test")
	}
	os.WriteFile(noTenant, []byte(text), 0o644)
	os.WriteFile(withTenant, []byte(strings.Replace(string(budgets), "tenant: secflow", "tenant: fake", 1)), 0o644)

	r := run(t, nil, "check", "-c", noTenant, "--loki", loki.URL, "--only", "logs", "--at", "2026-11-26T12:00:07Z")
	expectCode(t, r, 3)
	if !strings.Contains(r.stdout, "401 Unauthorized: no org id") {
		t.Errorf("stdout should carry Loki's 401 text:\n%s", r.stdout)
	}
	r = run(t, nil, "check", "-c", withTenant, "--loki", loki.URL, "--only", "logs", "--at", "2026-11-26T12:00:07Z")
	expectCode(t, r, 0)
}
