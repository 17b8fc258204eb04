package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Baselines (issue 9, item 1): check --baseline judges each budget's
// regression limits against an earlier run's JSON report. The healthy and
// degraded snapshots share their evaluation time and queries, so a report
// of one is a baseline of the other. Their values (healthy → degraded):
// task-duration p95 185.545s → 186.857s, p99 357.625s → 769.714s;
// request-latency p99{job=api} 267.77ms → 288.04ms (+20.27ms, +7.57%);
// queue-depth batch 33 → 102, default 99 → 283; task-throughput 19.063 →
// 20.351 tasks/min.

// baseBudgets are budgets of SecFlow's budgets.yaml, without files, with
// regression settings spliced in: defaults is the defaults mapping's
// extra lines, own maps a budget name to its regression line.
func baseBudgets(defaults string, own map[string]string) string {
	reg := func(name string) string {
		if r, ok := own[name]; ok {
			return "    regression: " + r + "\n"
		}
		return ""
	}
	return `version: 1
defaults:
  window: 1h
` + defaults + `budgets:
  - name: task-duration
    type: latency
    histogram: secflow_task_duration_seconds
    selector: '{job="worker"}'
    percentiles: {p95: 300s, p99: 900s}
` + reg("task-duration") + `  - name: request-latency
    type: latency
    histogram: secflow_request_duration_seconds
    selector: '{job="api"}'
    by: [job]
    percentiles: {p99: 1s}
` + reg("request-latency") + `  - name: task-throughput
    type: metric
    expr: sum(rate(secflow_task_duration_seconds_count{job="worker"}[1h])) * 60
    min: 5
    unit: tasks/min
` + reg("task-throughput") + `  - name: queue-depth
    type: metric
    expr: max by (queue) (secflow_queue_depth)
    max: 1000
    unit: tasks
` + reg("queue-depth") + `  - name: log-volume
    type: log_volume
    selector: '{env="prod"}'
    by: [service]
    window: 5m
    max: 200MB
` + reg("log-volume")
}

type baseReport struct {
	Status   string         `json:"status"`
	ExitCode int            `json:"exit_code"`
	Summary  map[string]int `json:"summary"`
	Budgets  []struct {
		Name       string   `json:"name"`
		Status     string   `json:"status"`
		Message    string   `json:"message"`
		Notes      []string `json:"notes"`
		Regression *struct {
			Status       string `json:"status"`
			BaselineFile string `json:"baseline_file"`
		} `json:"regression"`
		Results []map[string]any `json:"results"`
	} `json:"budgets"`
}

// baseReportOf runs check on snapshot with cfg and returns its JSON
// report's path: a baseline.
func baseReportOf(t *testing.T, cfg, snapshot string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), snapshot+".json")
	r := run(t, nil, "check", "-c", cfg, "--offline", "testdata/snapshots/"+snapshot, "--format", "json", "-o", p)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("baseline run: exit %d\n%s", r.code, r.stderr)
	}
	return p
}

// baseRun runs check on snapshot against baseline and returns the console
// run and the JSON report.
func baseRun(t *testing.T, cfg, snapshot, baseline string, extra ...string) (result, baseReport) {
	t.Helper()
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	args := append([]string{"check", "-c", cfg, "--offline", "testdata/snapshots/" + snapshot, "--baseline", baseline, "--report", "json=" + jsonPath}, extra...)
	r := run(t, nil, args...)
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatalf("no JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	var rep baseReport
	mustJSON(t, string(b), &rep)
	return r, rep
}

// baseResults maps "budget subject{labels}" to each result's regression
// verdict, baseline and change.
type baseResult struct {
	status, regression string
	value              float64
	baseline, change   any
}

func baseResults(rep baseReport) map[string]baseResult {
	out := map[string]baseResult{}
	for _, b := range rep.Budgets {
		for _, r := range b.Results {
			key := b.Name + " " + fmt.Sprint(r["subject"]) + baseLabels(r["labels"])
			v, _ := r["value"].(float64)
			reg, _ := r["regression"].(string)
			st, _ := r["status"].(string)
			out[key] = baseResult{status: st, regression: reg, value: v, baseline: r["baseline"], change: r["change"]}
		}
	}
	return out
}

func baseLabels(l any) string {
	m, _ := l.(map[string]any)
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s=%v", k, v))
	}
	slices.Sort(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

// baseExpect checks a result's regression verdict and that its baseline
// is the baseline report's value and its change (value - baseline) /
// baseline.
func baseExpect(t *testing.T, got map[string]baseResult, key, regression string, baseline float64) {
	t.Helper()
	r, ok := got[key]
	if !ok {
		t.Errorf("no result %s", key)
		return
	}
	if r.regression != regression {
		t.Errorf("%s: regression %q, want %q", key, r.regression, regression)
	}
	b, ok := r.baseline.(float64)
	if !ok || b != baseline {
		t.Errorf("%s: baseline %v, want %v", key, r.baseline, baseline)
		return
	}
	c, ok := r.change.(float64)
	if want := (r.value - b) / b; !ok || math.Abs(c-want) > 1e-12 {
		t.Errorf("%s: change %v, want %v", key, r.change, want)
	}
}

func baseBudget(t *testing.T, rep baseReport, name string) int {
	t.Helper()
	for i, b := range rep.Budgets {
		if b.Name == name {
			return i
		}
	}
	t.Fatalf("no budget %s in the report", name)
	return -1
}

func baseRegStatus(rep baseReport) map[string]string {
	out := map[string]string{}
	for _, b := range rep.Budgets {
		if b.Regression == nil {
			out[b.Name] = "<none>"
			continue
		}
		out[b.Name] = b.Regression.Status
	}
	return out
}

// The healthy snapshot's report as the baseline of the degraded one, with
// SecFlow's own budgets.yaml and defaults.regression max_increase 20%:
// exactly what grew by more than a fifth regresses.
func TestBaseHealthyToDegraded(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join(repo, "budgets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(data), "  on_missing: fail", "  regression: {max_increase: 20%}\n  on_missing: fail", 1)
	text = strings.Replace(text, "    warn: {p95: 240s}\n", "    warn: {p95: 240s}\n    regression: {max_increase: 10%, max_increase_abs: 30s}\n", 1)
	if !strings.Contains(text, "max_increase: 20%") || !strings.Contains(text, "max_increase_abs: 30s") {
		t.Fatal("budgets.yaml changed: the regression settings were not spliced in")
	}
	cfg := filepath.Join(dir, "budgets.yaml")
	alerts, err := os.ReadFile(filepath.Join(repo, "deploy/alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "deploy"), 0o755); err != nil {
		t.Fatal(err)
	}
	for path, b := range map[string][]byte{cfg: []byte(text), filepath.Join(dir, "deploy/alerts.yaml"): alerts} {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dashCopyGrafana(t, dir) // deploy/grafana, for the dashboards budget
	baseline := baseReportOf(t, cfg, "healthy")
	r, rep := baseRun(t, cfg, "degraded", baseline)
	expectCode(t, r, 1)

	wantStatus := map[string]string{
		"core-metrics": "fail", "series-cardinality": "fail", "scrape-targets": "fail", "secflow-metrics": "fail",
		"log-volume": "fail", "log-levels": "fail", "log-redaction": "pass",
		"task-duration": "fail", "request-latency": "pass", "task-throughput": "none", "sandbox-failure-ratio": "fail", "queue-depth": "fail",
		// defaults.regression's max_increase judges only results that
		// get worse as they grow (<= limits, or none): not a >= limit
		// (task-throughput, retention), nor a verdict (alert_rules,
		// dashboards).
		"budget-alerts": "none", "prometheus-retention": "none", "loki-retention": "none",
		"secflow-dashboards": "none", "log-structure": "none",
	}
	if got := baseRegStatus(rep); fmt.Sprint(got) != fmt.Sprint(wantStatus) {
		t.Errorf("regression status:\n got %v\nwant %v", got, wantStatus)
	}
	got := baseResults(rep)
	var regressed []string
	for k, r := range got {
		if r.regression == "fail" {
			regressed = append(regressed, k)
		}
	}
	slices.Sort(regressed)
	want := []string{
		"core-metrics secflow_requests_total",
		"log-levels CRITICAL{service=api}", "log-levels CRITICAL{service=scanner}", "log-levels CRITICAL{service=worker}",
		"log-levels DEBUG{service=api}", "log-levels ERROR{service=worker}",
		"log-volume bytes_per_1h{service=api}",
		"queue-depth queue-depth{queue=batch}", "queue-depth queue-depth{queue=default}",
		"sandbox-failure-ratio sandbox-failure-ratio",
		"scrape-targets samples{instance=api:8080,job=api}",
		"secflow-metrics bytes", "secflow-metrics series",
		"series-cardinality series",
		"task-duration p99",
	}
	if !slices.Equal(regressed, want) {
		t.Errorf("regressed results:\n got %q\nwant %q", regressed, want)
	}
	baseExpect(t, got, "task-duration p99", "fail", 357.62499999999807)
	baseExpect(t, got, "task-duration p95", "pass", 185.54545454545445)
	baseExpect(t, got, "queue-depth queue-depth{queue=batch}", "fail", 33)
	baseExpect(t, got, "queue-depth queue-depth{queue=default}", "fail", 99)
	baseExpect(t, got, "log-volume bytes_per_1h{service=worker}", "pass", 1001688)
	baseExpect(t, got, "request-latency p99{job=api}", "pass", 0.2677739726027387)
	// The leaked secrets have no baseline result: new, and no regression.
	if r := got[`log-redaction aws_access_key{service=api}`]; r.regression != "new" || r.baseline != nil || r.change != nil || r.status != "fail" {
		t.Errorf("aws_access_key{service=api}: %+v", r)
	}
	// Budgets that pass their fixed limits fail on their regression.
	for _, name := range []string{"secflow-metrics", "queue-depth", "sandbox-failure-ratio"} {
		if b := rep.Budgets[baseBudget(t, rep, name)]; b.Status != "fail" {
			t.Errorf("%s: %s %q", name, b.Status, b.Message)
		}
	}
	if s := rep.Summary; s["pass"] != 4 || s["fail"] != 13 {
		t.Errorf("summary %v", s)
	}
	for _, want := range []string{
		"p95 186.9s ≤ 300s, 38% headroom, +0.7% vs baseline 185.5s (bucket 180s–240s, 1,221 observations)",
		"p99 769.7s > 600s, 28% over, +115% vs baseline 357.6s, regressed past max_increase 10% and max_increase_abs 30s (bucket 600s–900s, 1,221 observations)",
		`❌ queue-depth            {queue="default"} 283 tasks <= 1,000 tasks, +186% vs baseline 99 tasks, regressed past max_increase 20% (and 1 more fail)`,
		`bytes_per_1h{service="worker"} 752.38 kB ≤ 100 MB, 99% headroom, -25% vs baseline 1 MB (bytes_in_window 62,698)`,
		`aws_access_key{service="api"} 1 > 0, new (no baseline value)`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("console lacks %q:\n%s", want, r.stdout)
		}
	}
	if b := rep.Budgets[0]; b.Regression == nil || b.Regression.BaselineFile != baseline {
		t.Errorf("regression.baseline_file: %+v, want %s", b.Regression, baseline)
	}
}

// One case of a regression limit: the budget's regression, the snapshot
// judged, the one with the baseline, and what the budget's results say.
func TestBaseLimits(t *testing.T) {
	for _, tc := range []struct {
		name, budget, regression string
		current, baseline        string
		code                     int
		status, regStatus        string
		results                  map[string]string // result key → regression
		console                  string
	}{
		{name: "relative only: queue batch +209% breaks 200%, default +186% does not",
			budget: "queue-depth", regression: "{max_increase: 200%}", current: "degraded", baseline: "healthy",
			code: 1, status: "fail", regStatus: "fail",
			results: map[string]string{"queue-depth queue-depth{queue=batch}": "fail", "queue-depth queue-depth{queue=default}": "pass"},
			console: `queue-depth{queue="batch"} 102 ≤ 1,000 tasks, 90% headroom, +209% vs baseline 33 tasks, regressed past max_increase 200%`},
		{name: "absolute only: +20.27ms breaks 20ms",
			budget: "request-latency", regression: "{max_increase_abs: 20ms}", current: "degraded", baseline: "healthy",
			code: 1, status: "fail", regStatus: "fail",
			results: map[string]string{"request-latency p99{job=api}": "fail"},
			console: `p99{job="api"} 288ms ≤ 1s, 71% headroom, +7.6% vs baseline 267.8ms, regressed past max_increase_abs 20ms`},
		{name: "absolute only: +20.27ms within 25ms",
			budget: "request-latency", regression: "{max_increase_abs: 25ms}", current: "degraded", baseline: "healthy",
			code: 0, status: "pass", regStatus: "pass",
			results: map[string]string{"request-latency p99{job=api}": "pass"}},
		{name: "both: +7.57% breaks 5% but +20.27ms not 25ms",
			budget: "request-latency", regression: "{max_increase: 5%, max_increase_abs: 25ms}", current: "degraded", baseline: "healthy",
			code: 0, status: "pass", regStatus: "pass",
			results: map[string]string{"request-latency p99{job=api}": "pass"}},
		{name: "both: +20.27ms breaks 10ms but +7.57% not 10%",
			budget: "request-latency", regression: "{max_increase: 10%, max_increase_abs: 10ms}", current: "degraded", baseline: "healthy",
			code: 0, status: "pass", regStatus: "pass",
			results: map[string]string{"request-latency p99{job=api}": "pass"}},
		{name: "both broken",
			budget: "request-latency", regression: "{max_increase: 5%, max_increase_abs: 10ms}", current: "degraded", baseline: "healthy",
			code: 1, status: "fail", regStatus: "fail",
			results: map[string]string{"request-latency p99{job=api}": "fail"},
			console: `❌ request-latency  p99{job="api"} 288ms <= 1s, +7.6% vs baseline 267.8ms, regressed past max_increase 5% and max_increase_abs 10ms`},
		{name: "severity warning warns",
			budget: "request-latency", regression: "{max_increase_abs: 10ms, severity: warning}", current: "degraded", baseline: "healthy",
			code: 0, status: "warn", regStatus: "warn",
			results: map[string]string{"request-latency p99{job=api}": "warn"},
			console: `⚠️ request-latency  p99{job="api"} 288ms <= 1s, +7.6% vs baseline 267.8ms, regressed past max_increase_abs 10ms (warning)`},
		{name: "higher is better: 20.35 → 19.06 tasks/min is -6.3%, past max_decrease 5%",
			budget: "task-throughput", regression: "{max_decrease: 5%}", current: "healthy", baseline: "degraded",
			code: 1, status: "fail", regStatus: "fail",
			results: map[string]string{"task-throughput task-throughput": "fail"},
			console: "task-throughput 19.06 ≥ 5 tasks/min, 281% headroom, -6.3% vs baseline 20.35 tasks/min, regressed past max_decrease 5%"},
		{name: "higher is better: -1.29 tasks/min within max_decrease_abs 2",
			budget: "task-throughput", regression: "{max_decrease: 5%, max_decrease_abs: 2}", current: "healthy", baseline: "degraded",
			code: 0, status: "pass", regStatus: "pass",
			results: map[string]string{"task-throughput task-throughput": "pass"}},
		{name: "an increase is no decrease",
			budget: "task-throughput", regression: "{max_decrease: 1%}", current: "degraded", baseline: "healthy",
			code: 0, status: "pass", regStatus: "pass",
			results: map[string]string{"task-throughput task-throughput": "pass"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := waiveFile(t, baseBudgets("", map[string]string{tc.budget: tc.regression}))
			baseline := baseReportOf(t, cfg, tc.baseline)
			r, rep := baseRun(t, cfg, tc.current, baseline, "--only", tc.budget)
			expectCode(t, r, tc.code)
			b := rep.Budgets[baseBudget(t, rep, tc.budget)]
			if b.Status != tc.status || b.Regression == nil || b.Regression.Status != tc.regStatus {
				t.Errorf("%s: status %s, regression %+v; want %s, %s (%s)", tc.budget, b.Status, b.Regression, tc.status, tc.regStatus, b.Message)
			}
			got := baseResults(rep)
			for key, want := range tc.results {
				if got[key].regression != want {
					t.Errorf("%s: regression %q, want %q", key, got[key].regression, want)
				}
			}
			if tc.console != "" && !strings.Contains(r.stdout, tc.console) {
				t.Errorf("console lacks %q:\n%s", tc.console, r.stdout)
			}
		})
	}
}

// baseEdit rewrites a JSON report with edit and returns the new file.
func baseEdit(t *testing.T, path string, edit func(rep map[string]any)) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	mustJSON(t, string(b), &rep)
	edit(rep)
	out, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "edited.json")
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func baseBudgetOf(rep map[string]any, name string) map[string]any {
	for _, b := range rep["budgets"].([]any) {
		if m := b.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

// A result without a baseline value (absent, or an error in the baseline)
// and a budget absent from the baseline are new, and pass.
func TestBaseNewResults(t *testing.T) {
	cfg := waiveFile(t, baseBudgets("", map[string]string{
		"queue-depth": "{max_increase: 100%}", "log-volume": "{max_increase: 20%}", "task-duration": "{max_increase: 10%}",
	}))
	healthy := baseReportOf(t, cfg, "healthy")
	baseline := baseEdit(t, healthy, func(rep map[string]any) {
		q := baseBudgetOf(rep, "queue-depth")
		q["results"] = q["results"].([]any)[1:] // drop queue=batch
		lv := baseBudgetOf(rep, "log-volume")
		api := lv["results"].([]any)[0].(map[string]any)
		api["value"], api["status"] = "NaN", "error" // api: an error in the baseline
		var kept []any
		for _, b := range rep["budgets"].([]any) {
			if b.(map[string]any)["name"] != "task-duration" {
				kept = append(kept, b)
			}
		}
		rep["budgets"] = kept
	})
	r, rep := baseRun(t, cfg, "degraded", baseline, "--only", "queue-depth,log-volume,task-duration")
	expectCode(t, r, 1) // queue default +186% > 100%
	got := baseResults(rep)
	for _, key := range []string{"queue-depth queue-depth{queue=batch}", "log-volume bytes_per_1h{service=api}", "task-duration p95", "task-duration p99"} {
		if g := got[key]; g.regression != "new" || g.baseline != nil || g.change != nil {
			t.Errorf("%s: %+v, want new without baseline and change", key, g)
		}
	}
	baseExpect(t, got, "queue-depth queue-depth{queue=default}", "fail", 99)
	baseExpect(t, got, "log-volume bytes_per_1h{service=scanner}", "pass", 506856)
	want := map[string]string{"queue-depth": "fail", "log-volume": "pass", "task-duration": "new"}
	if g := baseRegStatus(rep); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("regression status %v, want %v", g, want)
	}
	// task-duration's p99 769.7s is within its 900s limit, and new: it passes.
	if b := rep.Budgets[baseBudget(t, rep, "task-duration")]; b.Status != "pass" {
		t.Errorf("task-duration: %s %q", b.Status, b.Message)
	}
	if !strings.Contains(r.stdout, `queue-depth{queue="batch"} 102 ≤ 1,000 tasks, 90% headroom, new (no baseline value)`) {
		t.Errorf("console:\n%s", r.stdout)
	}
}

// A budget whose queries changed since the baseline is not judged.
func TestBaseChangedQueries(t *testing.T) {
	reg := map[string]string{"queue-depth": "{max_increase: 10%}"}
	before := waiveFile(t, baseBudgets("", reg))
	after := waiveFile(t, strings.Replace(baseBudgets("", reg), "expr: max by (queue) (secflow_queue_depth)", "expr: max by (queue) (secflow_queue_depth{})", 1))
	baseline := baseReportOf(t, before, "healthy")
	r, rep := baseRun(t, after, "degraded", baseline, "--only", "queue-depth")
	expectCode(t, r, 0)
	b := rep.Budgets[0]
	note := "baseline not comparable: the budget's queries differ from the baseline's, so its regression is not judged"
	if b.Status != "pass" || b.Regression == nil || b.Regression.Status != "not_comparable" || len(b.Notes) != 1 || b.Notes[0] != note {
		t.Errorf("queue-depth: %s, regression %+v, notes %q", b.Status, b.Regression, b.Notes)
	}
	for key, g := range baseResults(rep) {
		if g.regression != "none" || g.baseline != nil || g.change != nil {
			t.Errorf("%s: %+v", key, g)
		}
	}
	if !strings.Contains(r.stdout, "note: "+note) {
		t.Errorf("console:\n%s", r.stdout)
	}
}

// defaults.regression applies to the budgets that set none.
func TestBaseDefaultsRegression(t *testing.T) {
	cfg := waiveFile(t, baseBudgets("  regression: {max_increase: 100%}\n", map[string]string{"task-duration": "{max_increase: 150%}"}))
	baseline := baseReportOf(t, cfg, "healthy")
	r, rep := baseRun(t, cfg, "degraded", baseline, "--only", "queue-depth,task-duration,request-latency")
	expectCode(t, r, 1)
	got := baseResults(rep)
	baseExpect(t, got, "queue-depth queue-depth{queue=batch}", "fail", 33)
	baseExpect(t, got, "queue-depth queue-depth{queue=default}", "fail", 99)
	// +115%: over the defaults' 100%, within the budget's own 150%.
	baseExpect(t, got, "task-duration p99", "pass", 357.62499999999807)
	baseExpect(t, got, "request-latency p99{job=api}", "pass", 0.2677739726027387)
	want := map[string]string{"queue-depth": "fail", "task-duration": "pass", "request-latency": "pass"}
	if g := baseRegStatus(rep); fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("regression status %v, want %v", g, want)
	}

	bad := waiveFile(t, baseBudgets("  regression: {max_increase_abs: 30s}\n", nil))
	v := run(t, nil, "validate", "-c", bad)
	expectCode(t, v, 2)
	if want := "error: " + bad + ":4:16: defaults.regression.max_increase_abs: defaults.regression takes relative limits only (max_increase, max_decrease): an absolute limit is in the unit of each budget, set it there\n"; !strings.HasPrefix(v.stderr, want) {
		t.Errorf("stderr %q, want it to start with %q", v.stderr, want)
	}
}

// Regression limits are validated always, and ignored without --baseline.
func TestBaseIgnoredWithoutBaseline(t *testing.T) {
	cfg := waiveFile(t, baseBudgets("", map[string]string{"queue-depth": "{max_increase: 1%}"}))
	p := filepath.Join(t.TempDir(), "r.json")
	r := run(t, nil, "check", "-c", cfg, "--offline", "testdata/snapshots/degraded", "--only", "queue-depth", "--format", "json", "-o", p)
	expectCode(t, r, 0)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"regression"`, `"baseline"`, `"change"`} {
		if strings.Contains(string(b), key) {
			t.Errorf("report without --baseline has %s:\n%s", key, b)
		}
	}
	bad := waiveFile(t, baseBudgets("", map[string]string{"queue-depth": "{max_increase: 20 percent, max_increase_abs: 5MB}"}))
	v := run(t, nil, "check", "-c", bad, "--offline", "testdata/snapshots/degraded")
	expectCode(t, v, 2)
	want := "error: " + bad + `:26:32: budgets[3].regression.max_increase: invalid max_increase "20 percent": want a percentage such as 20% (or a fraction such as 0.2)
error: ` + bad + `:26:62: budgets[3].regression.max_increase_abs: invalid number "5MB": want a finite number such as 10000 or 0.5
`
	if v.stderr != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", v.stderr, want)
	}
}

// A waiver of the budget waives its regression too.
func TestBaseWaiverWaivesRegression(t *testing.T) {
	cfg := waiveFile(t, baseBudgets("", map[string]string{"queue-depth": "{max_increase: 100%}"})+`waivers:
  - budget: queue-depth
    labels: {queue: batch}
    reason: batch backlog while the importer catches up
    owner: "@secflow/queue"
    expires: 2026-12-31
`)
	baseline := baseReportOf(t, cfg, "healthy")
	r, rep := baseRun(t, cfg, "degraded", baseline, "--only", "queue-depth")
	expectCode(t, r, 1) // default is not waived
	got := baseResults(rep)
	if got["queue-depth queue-depth{queue=batch}"].status != "waived" || got["queue-depth queue-depth{queue=default}"].status != "fail" {
		t.Errorf("results %+v", got)
	}
	cfg = waiveFile(t, baseBudgets("", map[string]string{"queue-depth": "{max_increase: 100%}"})+`waivers:
  - budget: queue-depth
    reason: queue backlog while the importer catches up
    owner: "@secflow/queue"
    expires: 2026-12-31
`)
	r, rep = baseRun(t, cfg, "degraded", baseline, "--only", "queue-depth")
	expectCode(t, r, 0)
	if b := rep.Budgets[0]; b.Status != "waived" || b.Regression.Status != "fail" {
		t.Errorf("queue-depth %s, regression %+v", b.Status, b.Regression)
	}
}

// A baseline that is not a report of ours stops the run: exit 2, a clear
// message naming the file, never its content.
func TestBaseBadBaselineFiles(t *testing.T) {
	cfg := waiveFile(t, baseBudgets("", nil))
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	errorRun := filepath.Join(dir, "error-run.json")
	er := run(t, nil, "check", "-c", filepath.Join(dir, "missing.yaml"), "--offline", "testdata/snapshots/healthy", "--format", "json", "-o", errorRun)
	expectCode(t, er, 2)
	const foreign = "not a secflow-budget JSON report (write one with check --format json -o FILE or --report json=FILE)"
	for _, tc := range []struct {
		name, path, msg string
	}{
		{"missing", filepath.Join(dir, "nope.json"), "no such file or directory"},
		{"truncated", write("cut.json", `{"schema_version": 1, "tool": {"name": "secflow-budget"`), "not valid JSON (at byte 55): " + foreign},
		{"not JSON", write("token.txt", "ghp_SECRETSECRETSECRET\n"), "not valid JSON (at byte 1): " + foreign},
		{"foreign JSON", write("other.json", `{"password": "hunter2", "budgets": []}`), foreign},
		{"a list", write("list.json", `[1, 2]`), foreign},
		{"other tool", write("tool.json", `{"schema_version": 1, "tool": {"name": "k6"}, "budgets": []}`), foreign},
		{"other schema", write("v2.json", `{"schema_version": 2, "tool": {"name": "secflow-budget"}, "budgets": []}`), "schema_version 2: this secflow-budget reads reports of schema_version 1"},
		{"error run", errorRun, "the report of a run that stopped before any budget ran (it lists errors): nothing to compare with"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, nil, "check", "-c", cfg, "--offline", "testdata/snapshots/degraded", "--baseline", tc.path)
			expectCode(t, r, 2)
			want := "error: --baseline: baseline " + tc.path + ": " + tc.msg + "\n"
			if r.stderr != want {
				t.Errorf("stderr %q\nwant   %q", r.stderr, want)
			}
			if r.stdout != "" || strings.Contains(r.stderr, "SECRET") || strings.Contains(r.stderr, "hunter2") {
				t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
			}
		})
	}
}
