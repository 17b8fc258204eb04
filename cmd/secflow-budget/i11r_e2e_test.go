//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestI11rPushRequiredDirectOutput: a failed --push-required push turns
// exit 0 into 3 and the reports are rendered again; a report going to a
// device or a FIFO (-o /dev/null, a pipe's name) is written once, with the
// final exit code. It used to fail with "writing /dev/null: already
// finished" and exit 2.
func TestI11rPushRequiredDirectOutput(t *testing.T) {
	url, addr := omDeadURL(t)
	refused := "error: pushing the metrics to http://xxxxx@" + addr + ": dial tcp " + addr + ": connect: connection refused (--push-required)\n"

	r := run(t, nil, "check", "--offline", "testdata/snapshots/healthy", "--only", "task-duration",
		"--push", url, "--push-required", "-o", "/dev/null")
	expectCode(t, r, 3)
	if r.stderr != refused {
		t.Errorf("stderr = %q, want %q", r.stderr, refused)
	}

	fifo := filepath.Join(t.TempDir(), "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	r = run(t, nil, "check", "--offline", "testdata/snapshots/healthy", "--only", "task-duration",
		"--push", url, "--push-required", "--report", "json="+fifo, "-q")
	expectCode(t, r, 3)
	if r.stderr != refused {
		t.Errorf("stderr = %q, want %q", r.stderr, refused)
	}
	select {
	case s := <-got:
		var rep struct {
			Status   string `json:"status"`
			ExitCode int    `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(s), &rep); err != nil {
			t.Fatalf("the FIFO's reader got %q: %v (one JSON report expected)", s, err)
		}
		if rep.ExitCode != 3 || rep.Status != "pass" {
			t.Errorf("JSON report through the FIFO: exit_code %d, status %q; want 3, pass", rep.ExitCode, rep.Status)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the FIFO's reader got nothing")
	}
}

// TestI11rDashboardsWaiverMessage: a waiver of one failing panel target
// keeps the dashboards budget's own message (the count, the next failing
// target, its file and why), not a bare "SUBJECT 0"; waiving both makes
// the budget waived.
func TestI11rDashboardsWaiverMessage(t *testing.T) {
	degraded, err := filepath.Abs(filepath.Join(repo, "testdata", "snapshots", "degraded"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dashCopyGrafana(t, dir)
	budget := "version: 1\nbudgets:\n  - name: secflow-dashboards\n    type: dashboards\n    files: [deploy/grafana/secflow.json]\n"
	waiver := func(subject string) string {
		return "  - budget: secflow-dashboards\n    subject: " + subject +
			"\n    reason: the GC exporter moves\n    owner: '@secflow/platform'\n    expires: 2099-12-31\n"
	}
	cfg := filepath.Join(dir, "budgets.yaml")
	for _, tc := range []struct {
		waivers     string
		status, msg string
		code        int
	}{
		{waiver("SecFlow / Bytes reclaimed per GC run / A"), "fail",
			"11/13 panel targets parse and have data, 1 waived; SecFlow / GC runs and reclaimed bytes per hour / B (deploy/grafana/secflow.json): no data: no series for secflow_gc_reclaimed_bytes_total", 1},
		{waiver("SecFlow / Bytes reclaimed per GC run / A") + waiver("SecFlow / GC runs and reclaimed bytes per hour / B"), "waived",
			"11/13 panel targets parse and have data; SecFlow / Bytes reclaimed per GC run / A (deploy/grafana/secflow.json): no data: no series for secflow_gc_reclaimed_bytes_total (and 1 more) (waived until 2099-12-31 by @secflow/platform)", 0},
	} {
		if err := os.WriteFile(cfg, []byte(budget+"waivers:\n"+tc.waivers), 0o644); err != nil {
			t.Fatal(err)
		}
		r := runIn(t, dir, nil, "check", "--offline", degraded, "--format", "json")
		expectCode(t, r, tc.code)
		var rep dashReport
		mustJSON(t, r.stdout, &rep)
		if b := rep.Budgets[0]; b.Status != tc.status || b.Message != tc.msg {
			t.Errorf("got %s %q\nwant %s %q", b.Status, b.Message, tc.status, tc.msg)
		}
	}
}

// TestI11rOpenMetricsSourceInfo: offline from a snapshot that recorded
// its engines, the openmetrics report says which engine computed the
// numbers, as the JSON report's sources do; promtool accepts it.
func TestI11rOpenMetricsSourceInfo(t *testing.T) {
	healthy := filepath.Join(repo, "testdata", "snapshots", "healthy")
	snap := t.TempDir()
	for _, name := range []string{"manifest.yaml", "metrics.om"} {
		b, err := os.ReadFile(filepath.Join(healthy, name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "manifest.yaml" {
			b = append(b, "engines:\n  - source: prometheus\n    engine: victoriametrics\n    version: \"1.110.0\"\n    offline_parity: \"VictoriaMetrics evaluates MetricsQL\"\n"...)
		}
		if err := os.WriteFile(filepath.Join(snap, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, nil, "check", "--offline", snap, "--only", "task-duration", "--format", "openmetrics")
	expectCode(t, r, 0)
	omPromtool(t, r.stdout)
	want := "# HELP secflow_budget_source_info The engine that computed a source's numbers (offline: the one the snapshot was recorded from), in its labels; always 1.\n" +
		"# TYPE secflow_budget_source_info gauge\n" +
		`secflow_budget_source_info{engine="victoriametrics",source="prometheus",version="1.110.0"} 1.0` + "\n" +
		"# EOF"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("openmetrics report lacks\n%s\n---\n%s", want, r.stdout)
	}
}

// TestI11rInitLogStructure: init budgets log_structure from what it sees.
// On the recorded Loki data (testdata/loki/structure) the JSON parser
// finds trace_id and span_id in three services' lines (truth.json:
// gateway 343 of 403, proxy 74 of 251, scanner 253 of 329) and none in
// ledger's: one budget for the three, whose limit is the lowest share
// divided by the headroom, and ledger named as not budgeted; check passes
// on it. The fixtures' logs carry no trace ids: a note, no budget.
func TestI11rInitLogStructure(t *testing.T) {
	snap := t.TempDir()
	logs, err := os.ReadFile(filepath.Join(repo, lsStructureDir, "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(snap, "logs.jsonl"), logs, 0o644)
	os.WriteFile(filepath.Join(snap, "manifest.yaml"), []byte("version: 1\nevaluated_at: 2026-11-27T09:30:00Z\n"), 0o644)
	out := filepath.Join(t.TempDir(), "budgets.yaml")
	r := run(t, nil, "init", "--offline", snap, "-o", out)
	expectCode(t, r, 0)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# - log_structure: no line of service ledger carries trace_id and span_id\n",
		"  # observed 2026-11-27T09:30:00Z over 1h: lines with the JSON fields trace_id and span_id: gateway 85.11%, proxy 29.48%, scanner 76.9%\n" +
			"  # limit: today's lowest share divided by the headroom 1.25, rounded down to a whole percent\n" +
			"  - name: log-structure\n    type: log_structure\n    selector: '{service=~\"gateway|proxy|scanner\"}'\n    by: [service]\n    parser: json\n    min_share: 23%\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("init wrote no\n%s\n---\n%s", want, b)
		}
	}
	r = run(t, nil, "check", "-c", out, "--offline", snap, "--only", "log-structure", "--no-emoji")
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, `structured{service="proxy"} 29.48% >= 23%`) {
		t.Errorf("check on init's file:\n%s", r.stdout)
	}

	// The healthy fixture: every service's lines carry the ids, at
	// 96.79% (scanner) and more.
	r = run(t, nil, "init", "--offline", "testdata/snapshots/healthy", "-o", "-")
	expectCode(t, r, 0)
	if want := "  # observed 2026-11-26T12:00:07Z over 1h: lines with the JSON fields trace_id and span_id: api 98.74%, scanner 96.79%, worker 96.84%\n" +
		"  # limit: today's lowest share divided by the headroom 1.25, rounded down to a whole percent\n" +
		"  - name: log-structure\n    type: log_structure\n    selector: '{service=~\".+\"}'\n    by: [service]\n    parser: json\n    min_share: 77%\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("init on the healthy fixture wrote no\n%s\n---\n%s", want, r.stdout)
	}

	// The same lines without their trace context: no budget, a note.
	healthy, err := os.ReadFile(filepath.Join(repo, "testdata", "snapshots", "healthy", "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	untraced := regexp.MustCompile(`,\\"trace_id\\":\\"[0-9a-f]{32}\\",\\"span_id\\":\\"[0-9a-f]{16}\\"`).ReplaceAll(healthy, nil)
	if bytes.Contains(untraced, []byte("trace_id")) || len(untraced) == len(healthy) {
		t.Fatalf("the trace context was not removed from the healthy fixture's lines")
	}
	bare := t.TempDir()
	os.WriteFile(filepath.Join(bare, "logs.jsonl"), untraced, 0o644)
	os.WriteFile(filepath.Join(bare, "manifest.yaml"), []byte("version: 1\nevaluated_at: 2026-11-26T12:00:07Z\n"), 0o644)
	r = run(t, nil, "init", "--offline", bare, "-o", "-")
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "# - log_structure: no line carries trace_id and span_id (JSON or logfmt fields)\n") || strings.Contains(r.stdout, "type: log_structure") {
		t.Errorf("init on lines without trace ids:\n%s", r.stdout)
	}
}

// TestI11rDefaultsRegressionNewTypes: with defaults.regression
// {max_increase: 20%}, a dashboard fixed since the baseline (its panel
// targets 0 → 1) and a log_structure share that doubled are no
// regression; a share that fell is judged only by a max_decrease.
func TestI11rDefaultsRegressionNewTypes(t *testing.T) {
	dir := t.TempDir()
	dashCopyGrafana(t, dir)
	snap := t.TempDir()
	logs, err := os.ReadFile(filepath.Join(repo, lsStructureDir, "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(snap, "logs.jsonl"), logs, 0o644)
	os.WriteFile(filepath.Join(snap, "manifest.yaml"), []byte("version: 1\nevaluated_at: 2026-11-27T09:30:00Z\n"), 0o644)
	cfg := filepath.Join(dir, "budgets.yaml")
	write := func(defaults string) {
		text := "version: 1\ndefaults:\n  regression: " + defaults + "\nbudgets:\n" +
			"  - name: secflow-dashboards\n    type: dashboards\n    files: [deploy/grafana/secflow.json]\n" +
			"  - name: log-structure\n    type: log_structure\n    selector: '{service=~\"gateway|scanner\"}'\n    min_share: 10%\n"
		if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("{max_increase: 20%}")
	degraded, _ := filepath.Abs(filepath.Join(repo, "testdata", "snapshots", "degraded"))
	healthy, _ := filepath.Abs(filepath.Join(repo, "testdata", "snapshots", "healthy"))

	// The dashboards baseline: degraded, where two GC panels have no data.
	base := filepath.Join(dir, "dash-base.json")
	r := runIn(t, dir, nil, "check", "--offline", degraded, "--only", "secflow-dashboards", "--format", "json", "-o", base)
	expectCode(t, r, 1)
	r = runIn(t, dir, nil, "check", "--offline", healthy, "--only", "secflow-dashboards", "--baseline", base, "--format", "json")
	expectCode(t, r, 0)
	var rep struct {
		Budgets []struct {
			Name, Status, Message string
			Regression            struct{ Status string }
			Results               []struct {
				Subject, Status, Regression string
				Labels                      map[string]string
				Value, Baseline             *float64
			}
		}
	}
	mustJSON(t, r.stdout, &rep)
	if b := rep.Budgets[0]; b.Status != "pass" || b.Regression.Status != "none" || b.Message != "13/13 panel targets parse and have data" {
		t.Errorf("dashboards fixed since the baseline: %s %q, regression %s", b.Status, b.Message, b.Regression.Status)
	}

	// The log_structure baseline: today's report with every share halved.
	r = runIn(t, dir, nil, "check", "--offline", snap, "--only", "log-structure", "--format", "json")
	expectCode(t, r, 0)
	var raw map[string]any
	mustJSON(t, r.stdout, &raw)
	for _, res := range raw["budgets"].([]any)[0].(map[string]any)["results"].([]any) {
		m := res.(map[string]any)
		m["value"] = m["value"].(float64) / 2
	}
	halved := filepath.Join(dir, "ls-base.json")
	os.WriteFile(halved, []byte(js(raw)), 0o644)
	r = runIn(t, dir, nil, "check", "--offline", snap, "--only", "log-structure", "--baseline", halved, "--format", "json")
	expectCode(t, r, 0)
	mustJSON(t, r.stdout, &rep)
	if b := rep.Budgets[0]; b.Status != "pass" || b.Regression.Status != "none" {
		t.Errorf("log_structure shares doubled since the baseline: %s %q, regression %s", b.Status, b.Message, b.Regression.Status)
	}

	// Against a baseline of twice today's shares, max_decrease 20% fails.
	for _, res := range raw["budgets"].([]any)[0].(map[string]any)["results"].([]any) {
		m := res.(map[string]any)
		m["value"] = m["value"].(float64) * 4
	}
	doubled := filepath.Join(dir, "ls-base2.json")
	os.WriteFile(doubled, []byte(js(raw)), 0o644)
	write("{max_increase: 20%, max_decrease: 20%}")
	r = runIn(t, dir, nil, "check", "--offline", snap, "--only", "log-structure", "--baseline", doubled, "--format", "json")
	expectCode(t, r, 1)
	mustJSON(t, r.stdout, &rep)
	b := rep.Budgets[0]
	if b.Status != "fail" || b.Regression.Status != "fail" {
		t.Errorf("log_structure shares halved since the baseline: %s %q, regression %s", b.Status, b.Message, b.Regression.Status)
	}
	for _, res := range b.Results {
		if res.Regression != "fail" || res.Baseline == nil || res.Value == nil || *res.Baseline != 2**res.Value {
			t.Errorf("%s %v: regression %s, value %v, baseline %v", res.Subject, res.Labels, res.Regression, res.Value, res.Baseline)
		}
	}
}
