package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/lokitest"
	"github.com/secflow/secflow-budget/internal/promtest"
)

// `init` writes a starter budgets file from what the sources hold; the
// file validates, the schema accepts it, and check passes on the same data.

const initAt = "2026-11-26T12:00:07Z"

// initBlock is budget name's block in a file written by init: its
// comments, its name and its keys.
func initBlock(t *testing.T, text, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)((?:^  # .*\n)*^  - name: ` + regexp.QuoteMeta(name) + `\n(?:^    .*\n)*)`).FindString(text)
	if m == "" {
		t.Fatalf("no budget %s in:\n%s", name, text)
	}
	return m
}

// initBudgetNames lists the budgets of a file written by init, in order.
func initBudgetNames(text string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^  - name: (\S+)$`).FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// initHolds asserts what every file init writes must be: the schema
// comment first, valid for validate and for the schema, and passing check
// with checkArgs on the data it came from.
func initHolds(t *testing.T, path string, checkArgs ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if first, _, _ := strings.Cut(text, "\n"); first != "# yaml-language-server: $schema=https://raw.githubusercontent.com/secflow/secflow-budget/main/schema/budgets.schema.json" {
		t.Errorf("first line %q, want the yaml-language-server schema comment", first)
	}
	r := run(t, nil, "validate", "-c", path)
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, ": OK, ") {
		t.Errorf("validate says %q", r.stdout)
	}
	if err := schemaValidate(t, schemaCompile(t), text); err != nil {
		t.Errorf("the schema refuses the file init wrote: %v\n%s", err, text)
	}
	r = run(t, nil, append([]string{"check", "-c", path, "--no-emoji"}, checkArgs...)...)
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "0 failed, 0 errors") {
		t.Errorf("check on the data init observed:\n%s", r.stdout)
	}
	return text
}

func TestInitOfflineSnapshots(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		snap   string
		blocks []string // whole budgets the file must hold
		absent []string
		warns  string // the check's summary
	}{
		{"healthy", []string{
			"  # observed 2026-11-26T12:00:07Z: 595 series matching {job=~\".+\"}; max is that plus 25%, rounded up\n  - name: series-cardinality\n    type: cardinality\n    selector: '{job=~\".+\"}'\n    max: 800\n",
			"  # observed 2026-11-26T12:00:07Z over 1h: p95 185.5s (bucket 180s–240s), p99 357.6s (bucket 300s–450s); 1,144 observations\n  # limits: today's value plus 25%, up to the next bucket bound\n  - name: latency-secflow-task-duration\n    type: latency\n    histogram: secflow_task_duration_seconds\n    percentiles: {p95: 240s, p99: 450s}\n",
			"  # observed 2026-11-26T12:00:07Z over 1h: no line matches aws_access_key, bearer_token, email, jwt, password_assignment, private_key_block\n  - name: log-redaction\n",
			"  - name: prometheus-retention\n    type: retention\n    source: prometheus\n    min: 15d\n",
			"  - name: loki-retention\n    type: retention\n    source: loki\n    min: 7d\n",
			"    firing: fail\n",
			"  # observed 2026-11-26T12:00:07Z over 1h: lines with the JSON fields trace_id and span_id: api 98.74%, scanner 96.79%, worker 96.84%\n  # limit: today's lowest share divided by the headroom 1.25, rounded down to a whole percent\n  - name: log-structure\n    type: log_structure\n    selector: '{service=~\".+\"}'\n    by: [service]\n    parser: json\n    min_share: 77%\n",
		}, []string{"log-redaction-found", "firing: warn"}, "17 budgets: 17 passed, 0 warnings"},
		{"degraded", []string{
			"  # observed 2026-11-26T12:00:07Z: 8 metrics (every scrape job's metrics) with series, from jobs api, scanner, worker\n  - name: metrics-present\n    type: metrics_present\n    metrics:\n      - secflow_findings_total\n      - secflow_gc_runs_total\n      - secflow_queue_depth\n      - secflow_request_duration_seconds\n      - secflow_requests_total\n      - secflow_sandbox_failures_total\n      - secflow_scan_duration_seconds\n      - secflow_task_duration_seconds\n",
			"  # observed 2026-11-26T12:00:07Z: 10,394 series matching {job=~\".+\"}; max is that plus 25%, rounded up\n  - name: series-cardinality\n    type: cardinality\n    selector: '{job=~\".+\"}'\n    max: 15000\n",
			"  # observed 2026-11-26T12:00:07Z: 3 of 3 targets up in jobs api, scanner, worker, scraped every 15s, at most 10,388 samples a scrape\n  - name: scrape-targets\n    type: scrape\n    job: [api, scanner, worker]\n    interval: 15s\n    up: true\n    max_samples: 15000\n",
			"  # observed 2026-11-26T12:00:07Z over 1h: WARNING 21.12%, ERROR 14.17%, CRITICAL 1.03% of 3,006 lines (level from the JSON field level)\n  # limits: today's share plus 25%, rounded up to a whole percent, at least 1%\n  - name: log-levels-worker\n    type: log_levels\n    selector: '{service=\"worker\"}'\n    by: [service]\n    parser: json\n    level_field: level\n    max_share: {WARNING: 27%, ERROR: 18%, CRITICAL: 2%}\n",
			"  # observed 2026-11-26T12:00:07Z over 1h: lines matching aws_access_key {service=\"api\"} 1; bearer_token {service=\"worker\"} 1\n  # severity: warning so that today passes: remove the secrets from the logs, then move these presets to log-redaction\n  - name: log-redaction-found\n    type: log_redaction\n    severity: warning\n    selector: '{service=~\".+\"}'\n    by: [service]\n    presets: [aws_access_key, bearer_token]\n    max_matches: 0\n",
			"  # observed 2026-11-26T12:00:07Z over 1h: p95 186.9s (bucket 180s–240s), p99 769.7s (bucket 600s–900s); 1,221 observations\n  # limits: today's value plus 25%, up to the next bucket bound\n  - name: latency-secflow-task-duration\n    type: latency\n    histogram: secflow_task_duration_seconds\n    percentiles: {p95: 240s, p99: 1200s}\n",
			"  # firing now: SecflowErrorShareHigh, SecflowTaskDurationP99High; firing: warn until they are quiet, then fail\n",
			"  # observed 2026-11-26T12:00:07Z: storageRetention \"15d or 50GiB\"\n  - name: prometheus-retention\n",
			"  # observed 2026-11-26T12:00:07Z over 1h: lines with the JSON fields trace_id and span_id: api 67.81%, scanner 96.82%, worker 30.11%\n  # limit: today's lowest share divided by the headroom 1.25, rounded down to a whole percent\n  - name: log-structure\n",
		}, []string{"secflow_gc_reclaimed_bytes_total", "firing: fail"}, "18 budgets: 16 passed, 2 warnings, 0 failed, 0 errors"},
	} {
		t.Run(c.snap, func(t *testing.T) {
			out := filepath.Join(dir, c.snap+".yaml")
			r := run(t, nil, "init", "--offline", "testdata/snapshots/"+c.snap, "-o", out)
			expectCode(t, r, 0)
			if want := "wrote " + out + ": "; !strings.HasPrefix(r.stderr, want) || r.stdout != "" {
				t.Errorf("stdout %q, stderr %q; want nothing on stdout and %q... on stderr", r.stdout, r.stderr, want)
			}
			text := initHolds(t, out, "--offline", "testdata/snapshots/"+c.snap)
			for _, b := range c.blocks {
				if !strings.Contains(text, b) {
					t.Errorf("the file lacks\n%s\nit is:\n%s", b, text)
				}
			}
			for _, a := range c.absent {
				if strings.Contains(text, a) {
					t.Errorf("the file holds %q:\n%s", a, text)
				}
			}
			r = run(t, nil, "check", "-c", out, "--offline", "testdata/snapshots/"+c.snap, "--no-emoji", "--quiet")
			if !strings.Contains(r.stdout, c.warns) {
				t.Errorf("check summary: want %q in\n%s", c.warns, r.stdout)
			}
		})
	}
}

// TestInitOutputFlags: an existing file is refused (exit 2) and left as
// it was; --force replaces it; -o - prints the file; --prefix selects the
// metrics.
func TestInitOutputFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "budgets.yaml")
	os.WriteFile(path, []byte("mine\n"), 0o644)
	r := run(t, nil, "init", "--offline", "testdata/snapshots/healthy", "-o", path)
	expectCode(t, r, 2)
	if want := "error: " + path + " already exists: pass --force to overwrite it, or -o another file (- for stdout)\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	if b, _ := os.ReadFile(path); string(b) != "mine\n" {
		t.Errorf("the refused file now holds %q", b)
	}
	r = run(t, nil, "init", "--offline", "testdata/snapshots/healthy", "-o", path, "--force")
	expectCode(t, r, 0)
	written, _ := os.ReadFile(path)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("%d files in the directory, want only budgets.yaml (no temporary file left)", len(entries))
	}

	r = run(t, nil, "init", "--offline", "testdata/snapshots/healthy", "-o", "-")
	expectCode(t, r, 0)
	if r.stdout != string(written) || r.stderr != "" {
		t.Errorf("-o - printed a different file than -o FILE wrote, or said something on stderr: %q", r.stderr)
	}

	r = run(t, nil, "init", "--offline", "testdata/snapshots/healthy", "-o", "-", "--prefix", "secflow_task")
	expectCode(t, r, 0)
	if got := initBudgetNames(r.stdout); strings.Join(got[:3], ",") != "metrics-present,series-cardinality,scrape-targets" || strings.Contains(r.stdout, "latency-secflow-scan") {
		t.Errorf("--prefix secflow_task budgets %v", got)
	}
	for _, want := range []string{
		"    metrics:\n      - secflow_task_duration_seconds\n\n",
		"    selector: '{__name__=~\"secflow_task.*\"}'\n",
		"  - name: latency-secflow-task-duration\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("--prefix secflow_task: the file lacks %q:\n%s", want, r.stdout)
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "-o", "-"}, "error: nothing to observe: give --prometheus URL and/or --loki URL (or SECFLOW_PROMETHEUS_URL, SECFLOW_LOKI_URL, or -c FILE with sources), or --offline DIR\n"},
		{[]string{"init", "-o", "-", "--offline", "testdata/snapshots/healthy", "--headroom", "0.5"}, "error: --headroom: want a factor between 1 and 100 (1.25: 25% above today), got 0.5\n"},
		{[]string{"init", "-o", "-", "--offline", "testdata/snapshots/healthy", "--prometheus", "http://p:9090"}, "error: --offline: observe a snapshot or live sources (--prometheus, --loki, -c), not both\n"},
	} {
		r := run(t, nil, c.args...)
		expectCode(t, r, 2)
		if r.stderr != c.want {
			t.Errorf("%v: stderr %q, want %q", c.args, r.stderr, c.want)
		}
	}
	r = run(t, nil, "init", "-o", "-", "--prometheus", "http://"+closedAddr(t))
	expectCode(t, r, 3)
}

// TestInitLive observes the real Prometheus of the test harness (the
// degraded snapshot backfilled, SecFlow's alert rules loaded) and the Loki
// test server: the file validates, the schema accepts it, check passes
// against the same servers, and its metric and log budgets are the ones
// init writes offline from the same data.
func TestInitLive(t *testing.T) {
	snap := filepath.Join(repo, "testdata", "snapshots", "degraded")
	prom := promtest.StartWith(t, []promtest.Option{promtest.WithRulesFiles(filepath.Join(repo, "deploy/alerts.yaml"))}, filepath.Join(snap, "metrics.om"))
	// Until its first evaluation a rule's health is unknown, which init
	// rightly leaves out as unhealthy.
	waitForRules(t, prom.URL)
	loki := lokitest.Start(t, lokitest.WithJSONL(filepath.Join(snap, "logs.jsonl.gz")))
	dir := t.TempDir()
	path := filepath.Join(dir, "budgets.yaml")
	r := run(t, nil, "init", "--prometheus", prom.URL, "--loki", loki.URL, "--at", initAt, "-o", path)
	expectCode(t, r, 0)
	text := initHolds(t, path, "--at", initAt)
	if want := "sources:\n  prometheus:\n    url: '" + prom.URL + "'\n  loki:\n    url: '" + loki.URL + "'\n"; !strings.Contains(text, want) {
		t.Errorf("the file lacks the sources asked:\n%s\nit is:\n%s", want, text)
	}
	// Credentials in a URL are used, never written: not in the file's
	// sources, nor in its comments.
	withUser := strings.Replace(prom.URL, "http://", "http://ci:s3cr3t-pw@", 1)
	r = run(t, nil, "init", "--prometheus", withUser, "--at", initAt, "-o", "-", "--prefix", "secflow_queue")
	expectCode(t, r, 0)
	if strings.Contains(r.stdout+r.stderr, "s3cr3t-pw") || !strings.Contains(r.stdout, "    url: '"+prom.URL+"'\n") {
		t.Errorf("init with URL userinfo wrote:\n%s\nstderr: %s", r.stdout, r.stderr)
	}
	offline := filepath.Join(dir, "offline.yaml")
	expectCode(t, run(t, nil, "init", "--offline", "testdata/snapshots/degraded", "-o", offline), 0)
	ob, _ := os.ReadFile(offline)
	same := []string{"metrics-present", "latency-secflow-task-duration", "latency-secflow-request-duration", "latency-secflow-scan-duration",
		"log-volume-api", "log-levels-worker", "log-redaction", "log-redaction-found", "loki-retention"}
	for _, name := range same {
		if live, off := initBlock(t, text, name), initBlock(t, string(ob), name); live != off {
			t.Errorf("%s: live and offline init differ:\nlive:\n%s\noffline:\n%s", name, live, off)
		}
	}
	// The harness' Prometheus keeps 100 years and loads the six alerts;
	// it scrapes nothing, which the file says.
	for _, want := range []string{
		"  - name: prometheus-retention\n    type: retention\n    source: prometheus\n    min: 36500d\n",
		"      - SecflowTaskDurationP99High\n",
		"# - scrape: Prometheus has no active targets\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the file lacks %q:\n%s", want, text)
		}
	}
}

// TestInitSourcesFromConfig: with -c, init reads the sources as check does
// (here a Loki that demands a tenant) and writes them into the new file,
// on which check then passes with no flag but --at.
func TestInitSourcesFromConfig(t *testing.T) {
	loki := lokitest.Start(t, lokitest.WithJSONL(filepath.Join(repo, "testdata/snapshots/healthy/logs.jsonl")), lokitest.WithAuth())
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sources.yaml")
	os.WriteFile(cfg, []byte("version: 1\nsources:\n  loki:\n    url: "+loki.URL+"\n    tenant: fake   # the test server's tenant\nbudgets:\n  - {name: placeholder, type: metric, expr: up, min: 1}\n"), 0o644)
	out := filepath.Join(dir, "budgets.yaml")

	r := run(t, nil, "init", "--loki", loki.URL, "--at", initAt, "-o", out)
	expectCode(t, r, 3)
	if !strings.Contains(r.stderr, "no org id") {
		t.Errorf("without the tenant, stderr should carry Loki's 401 text: %q", r.stderr)
	}

	r = run(t, nil, "init", "-c", cfg, "--at", initAt, "-o", out)
	expectCode(t, r, 0)
	text := initHolds(t, out, "--at", initAt)
	if want := "sources:\n  loki:\n    url: " + loki.URL + "\n    tenant: fake # the test server's tenant\n"; !strings.Contains(text, want) {
		t.Errorf("the file lacks the sources of -c:\n%s\nit is:\n%s", want, text)
	}
	if got := strings.Join(initBudgetNames(text), ","); got != "log-volume-api,log-levels-api,log-volume-scanner,log-levels-scanner,log-volume-worker,log-levels-worker,log-redaction,log-structure,loki-retention" {
		t.Errorf("budgets %s", got)
	}
}
