package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/lokitest"
	"github.com/secflow/secflow-budget/internal/promtest"
)

// The snapshot command, end to end: record from a real Prometheus and the
// Loki test server, then check offline and compare with the live check.

const roundTripAt = "2026-11-26T12:00:07Z"

// liveFixture backfills a shipped snapshot into a real Prometheus that
// also evaluates SecFlow's alert rules (deploy/alerts.yaml), and serves the
// snapshot's logs from the Loki test server.
type liveFixture struct {
	prom   *promtest.Server
	loki   *lokitest.Server
	config string // budgets.yaml with the endpoint budget pointed at a local /metrics
}

func startFixture(t *testing.T, name string) liveFixture {
	t.Helper()
	snap := filepath.Join(repo, "testdata", "snapshots", name)
	logs, _ := filepath.Glob(filepath.Join(snap, "logs.jsonl*"))
	if len(logs) != 1 {
		t.Fatalf("want one logs file in %s, got %v", snap, logs)
	}
	var opts []promtest.Option
	if rules := filepath.Join(repo, "deploy", "alerts.yaml"); fileExists(rules) {
		opts = append(opts, promtest.WithRulesFiles(rules))
	}
	f := liveFixture{
		prom:   promtest.StartWith(t, opts, filepath.Join(snap, "metrics.om")),
		loki:   lokitest.Start(t, lokitest.WithJSONL(logs[0])),
		config: localBudgets(t, filepath.Join(snap, "endpoints", "secflow-metrics.prom")),
	}
	if len(opts) > 0 {
		waitForRules(t, f.prom.URL)
	}
	return f
}

// localBudgets writes a copy of budgets.yaml (and the rules file it names)
// whose endpoint budget reads a local server serving exposition, so that
// no test ever resolves the example host name.
func localBudgets(t *testing.T, exposition string) string {
	t.Helper()
	body, err := os.ReadFile(exposition)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(body)
	}))
	t.Cleanup(srv.Close)
	budgets, err := os.ReadFile(filepath.Join(repo, "budgets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(budgets), "http://api:8080/metrics", srv.URL+"/metrics", 1)
	if text == string(budgets) {
		t.Fatal("budgets.yaml no longer holds the endpoint URL http://api:8080/metrics: update this test")
	}
	dir := t.TempDir()
	rules, err := os.ReadFile(filepath.Join(repo, "deploy", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	os.Mkdir(filepath.Join(dir, "deploy"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "deploy", "alerts.yaml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	dashCopyGrafana(t, dir) // and deploy/grafana, for the dashboards budget
	path := filepath.Join(dir, "budgets.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// waitForRules waits until Prometheus has evaluated every rule once, so
// that the live check and the recording see the same rule states.
func waitForRules(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "/api/v1/rules")
		if err == nil {
			var body struct {
				Data struct {
					Groups []struct {
						Rules []struct{ Health string }
					}
				}
			}
			err = json.NewDecoder(resp.Body).Decode(&body)
			resp.Body.Close()
			evaluated := err == nil && len(body.Data.Groups) > 0
			for _, g := range body.Data.Groups {
				for _, r := range g.Rules {
					if r.Health == "unknown" || r.Health == "" {
						evaluated = false
					}
				}
			}
			if evaluated {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus at %s did not evaluate its rules within 20s (%v)", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// compareDecided compares, with compareReports, two checks that must
// decide every budget alike. A budget left undecided (status error) in
// either, even in both, is a failure: two errors agree on nothing, and a
// budget the environment cannot decide belongs in the test's --skip, named.
func compareDecided(t *testing.T, off, live report) {
	t.Helper()
	if len(off.Budgets) != len(live.Budgets) {
		t.Fatalf("%d budgets offline, %d live", len(off.Budgets), len(live.Budgets))
	}
	if len(live.Budgets) == 0 {
		t.Fatal("no budget was checked: nothing compared")
	}
	for i, lb := range live.Budgets {
		if ob := off.Budgets[i]; lb.Status == "error" || ob.Status == "error" {
			t.Errorf("%s: undecided (live %s: %s; offline %s %s: %s)", lb.Name, lb.Status, lb.Message, ob.Name, ob.Status, ob.Message)
		}
	}
	compareReports(t, off, live)
}

func (f liveFixture) check(t *testing.T, args ...string) result {
	t.Helper()
	return run(t, nil, append([]string{"check", "-c", f.config, "--prometheus", f.prom.URL, "--loki", f.loki.URL, "--at", roundTripAt, "--format", "json"}, args...)...)
}

func (f liveFixture) snapshot(t *testing.T, dir string, args ...string) result {
	t.Helper()
	r := run(t, nil, append([]string{"snapshot", "-c", f.config, "--out", dir, "--at", roundTripAt, "--prometheus", f.prom.URL, "--loki", f.loki.URL}, args...)...)
	expectCode(t, r, 0)
	return r
}

// TestSnapshotRoundTrip records the degraded fixture from live sources,
// raw and aggregated, and checks that `check --offline` on the recording
// equals the live check budget by budget, value by value. The recorded
// metrics.om is then backfilled with promtool into a second Prometheus,
// which must answer the live check with the same values again.
func TestSnapshotRoundTrip(t *testing.T) {
	fx := startFixture(t, "degraded")
	live := fx.check(t)
	if live.code != 1 {
		t.Fatalf("live check of the degraded fixture: exit %d, want 1\n%s\n%s", live.code, live.stdout, live.stderr)
	}
	var liveRep report
	mustJSON(t, live.stdout, &liveRep)

	for _, mode := range []string{"raw", "aggregate"} {
		t.Run(mode, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "snap")
			r := fx.snapshot(t, dir, "--logs", mode)
			if !strings.Contains(r.stdout, "recorded "+dir) {
				t.Errorf("stdout should summarize the recording:\n%s", r.stdout)
			}
			logsFile := map[string]string{"raw": "logs.jsonl", "aggregate": "logs.aggregate.json"}[mode]
			for _, f := range []string{"manifest.yaml", "metrics.om", logsFile} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("the snapshot lacks %s: %v", f, err)
				}
			}
			manifest, _ := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
			for _, want := range []string{"evaluated_at: 2026-11-26T12:00:07Z", "captured_from: prometheus=http://127.0.0.1:", "config_sha256: ", "queries:\n  - "} {
				if !strings.Contains(string(manifest), want) {
					t.Errorf("manifest.yaml lacks %q:\n%s", want, manifest)
				}
			}

			off := run(t, nil, "check", "-c", fx.config, "--offline", dir, "--format", "json")
			if off.code != live.code {
				t.Errorf("exit codes differ: offline %d, live %d\n%s", off.code, live.code, off.stdout)
			}
			var offRep report
			mustJSON(t, off.stdout, &offRep)
			compareDecided(t, offRep, liveRep)
		})
	}

	t.Run("promtool backfill", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "snap")
		fx.snapshot(t, dir, "--only", "metrics,performance")
		again := liveFixture{prom: promtest.Start(t, filepath.Join(dir, "metrics.om")), loki: fx.loki, config: fx.config}
		a := again.check(t, "--only", "metrics,performance")
		b := fx.check(t, "--only", "metrics,performance")
		var ra, rb report
		mustJSON(t, a.stdout, &ra)
		mustJSON(t, b.stdout, &rb)
		compareDecided(t, ra, rb)
		// The raw samples themselves, not only what the budgets make of
		// them: every recorded series of the histogram, every sample.
		at, _ := time.Parse(time.RFC3339, roundTripAt)
		for _, q := range []string{
			`sum(count_over_time(secflow_task_duration_seconds_bucket{job="worker"}[1h]))`,
			`sum(sum_over_time(secflow_task_duration_seconds_bucket{job="worker"}[1h]))`,
			`count({__name__=~"secflow_.*"})`,
		} {
			if got, want := again.prom.QueryValue(t, q, at), fx.prom.QueryValue(t, q, at); got != want {
				t.Errorf("%s: %v after the round trip, %v before", q, got, want)
			}
		}
	})
}

// TestSnapshotStaleness records the healthy fixture, then changes one
// budget's query: offline, that budget is an error that says the snapshot
// was recorded for other queries (exit 3), and the others still pass.
func TestSnapshotStaleness(t *testing.T) {
	fx := startFixture(t, "healthy")
	dir := filepath.Join(t.TempDir(), "snap")
	fx.snapshot(t, dir)

	// Two budgets cannot pass in this environment, for reasons that are
	// not the snapshot's: the fixture's Prometheus scrapes no target, and
	// the local /metrics of localBudgets answers anonymous requests. They
	// are named here, with why they fail; every other budget must pass.
	envFails := map[string]string{
		"scrape-targets":  "no active target of job api, worker, scanner",
		"secflow-metrics": "an anonymous GET got HTTP 200 OK: want 401 or 403",
	}
	skip := []string{"--skip", "scrape-targets,secflow-metrics"}
	var kept []string
	for _, name := range testsRepoBudgets {
		if envFails[name] == "" {
			kept = append(kept, name)
		}
	}
	r := run(t, nil, "check", "-c", fx.config, "--offline", dir, "--format", "json")
	expectCode(t, r, 1)
	var before report
	mustJSON(t, r.stdout, &before)
	testsExpectBudgets(t, "before", before, testsRepoBudgets)
	for _, b := range before.Budgets {
		switch why, envFail := envFails[b.Name]; {
		case envFail && (b.Status != "fail" || !strings.Contains(b.Message, why)):
			t.Errorf("%s: %s (%s), want fail saying %q", b.Name, b.Status, b.Message, why)
		case !envFail && b.Status != "pass":
			t.Errorf("%s: %s (%s), want pass", b.Name, b.Status, b.Message)
		}
	}
	r = run(t, nil, append([]string{"check", "-c", fx.config, "--offline", dir, "--format", "json"}, skip...)...)
	expectCode(t, r, 0)
	var rest report
	mustJSON(t, r.stdout, &rest)
	testsExpectBudgets(t, "with --skip", rest, kept)

	budgets, err := os.ReadFile(fx.config)
	if err != nil {
		t.Fatal(err)
	}
	const oldExpr, newExpr = "expr: max by (queue) (secflow_queue_depth)", "expr: max by (queue) (secflow_queue_depth offset 1h)"
	changed := strings.Replace(string(budgets), oldExpr, newExpr, 1)
	if changed == string(budgets) {
		t.Fatalf("budgets.yaml no longer has %q: update this test", oldExpr)
	}
	cfgDir := t.TempDir()
	cfg := filepath.Join(cfgDir, "budgets.yaml")
	if err := os.WriteFile(cfg, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	// Files budgets.yaml names (rules_files) are relative to it.
	if abs, err := filepath.Abs(filepath.Join(repo, "deploy")); err == nil && fileExists(abs) {
		if err := os.Symlink(abs, filepath.Join(cfgDir, "deploy")); err != nil {
			t.Fatal(err)
		}
	}
	r = run(t, nil, append([]string{"check", "-c", cfg, "--offline", dir, "--format", "json"}, skip...)...)
	expectCode(t, r, 3)
	var rep report
	mustJSON(t, r.stdout, &rep)
	testsExpectBudgets(t, "after the change", rep, kept)
	for _, b := range rep.Budgets {
		if b.Name != "queue-depth" {
			if b.Status != "pass" {
				t.Errorf("%s: %s (%s), want pass", b.Name, b.Status, b.Message)
			}
			continue
		}
		want := "was recorded for other queries: budgets.yaml changed since (query max by (queue) (secflow_queue_depth offset 1h) not recorded); re-record with secflow-budget snapshot"
		if b.Status != "error" || b.Error == nil || b.Error.Kind != "missing_data" || !strings.Contains(b.Error.Message, dir+" "+want) {
			t.Errorf("queue-depth: %s %+v, want an error of kind missing_data saying %q", b.Status, b.Error, want)
		}
	}

	// Another evaluation time reads windows the snapshot does not hold.
	r = run(t, nil, "check", "--offline", dir, "--only", "queue-depth", "--at", "2026-11-26T13:00:07Z")
	expectCode(t, r, 3)
	if !strings.Contains(r.stdout, "was recorded for evaluation at 2026-11-26T12:00:07Z") {
		t.Errorf("stdout should say for which time the snapshot was recorded:\n%s", r.stdout)
	}

	// Recording again replaces the snapshot as a whole; a directory that
	// holds something else is refused.
	fx.snapshot(t, dir, "--only", "performance")
	r = run(t, nil, "check", "--offline", dir, "--only", "core-metrics")
	expectCode(t, r, 3)
	if !strings.Contains(r.stdout, "was recorded for other queries") {
		t.Errorf("a budget left out of the recording should be reported as such:\n%s", r.stdout)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "notes.txt"), []byte("mine"), 0o644)
	r = run(t, nil, "snapshot", "--out", other, "--prometheus", fx.prom.URL, "--loki", fx.loki.URL)
	expectCode(t, r, 2)
	if !strings.Contains(r.stderr, "holds no snapshot") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

// testsRepoBudgets are the budgets of the repository's budgets.yaml, in
// file order (internal/checks TestLoadRepoBudgets pins what each holds).
var testsRepoBudgets = []string{
	"core-metrics", "series-cardinality", "scrape-targets", "secflow-metrics",
	"log-volume", "log-levels", "log-redaction",
	"task-duration", "request-latency", "task-throughput", "sandbox-failure-ratio", "queue-depth",
	"budget-alerts", "prometheus-retention", "loki-retention",
	"secflow-dashboards", "log-structure",
}

// testsExpectBudgets fails unless rep holds exactly the budgets names, in
// that order: no budget may drop out of a report unnoticed.
func testsExpectBudgets(t *testing.T, what string, rep report, names []string) {
	t.Helper()
	var got []string
	for _, b := range rep.Budgets {
		got = append(got, b.Name)
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s: the report holds budgets %v, want %v", what, got, names)
	}
	if rep.Summary["total"] != len(names) {
		t.Errorf("%s: summary total %d, want %d", what, rep.Summary["total"], len(names))
	}
}
