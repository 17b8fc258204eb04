package checks

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
)

// TestLoadErrors pins the one-line error of each kind of broken budgets
// file: file, line, column, field path and what is wrong.
func TestLoadErrors(t *testing.T) {
	const head = "version: 1\nbudgets:\n"
	const lat = "  - name: lat\n    type: latency\n    histogram: h_seconds\n"
	tests := []struct {
		name, text, want string
	}{
		{
			name: "bad duration",
			text: head + lat + "    percentiles: {p95: 30O s}\n",
			want: `budgets.yaml:6:24: budgets[0].percentiles.p95: invalid duration "30O s": use a number and a unit: ms, s, m, h, d, w, y (e.g. 300s, 5m, 1h)`,
		},
		{
			name: "duration without unit",
			text: head + lat + "    percentiles:\n      p95: 300\n",
			want: `budgets.yaml:7:12: budgets[0].percentiles.p95: invalid duration "300": missing unit (e.g. 300s)`,
		},
		{
			name: "unknown key with suggestion",
			text: head + lat + "    percentiles: {p95: 300s}\n    windw: 1h\n",
			want: `budgets.yaml:7:5: budgets[0].windw: unknown field "windw" (did you mean "window"?)`,
		},
		{
			name: "duplicate names",
			text: head + lat + "    percentiles: {p95: 300s}\n" + lat + "    percentiles: {p99: 1s}\n",
			want: `budgets.yaml:7:11: budgets[1].name: duplicate budget name "lat" (first used by budgets[0] at line 3)`,
		},
		{
			name: "bad size unit",
			text: head + "  - name: m\n    type: metric\n    expr: up\n    max: 10\n    window: 1 hour\n",
			want: `budgets.yaml:7:13: budgets[0].window: invalid duration "1 hour": use a number and a unit: ms, s, m, h, d, w, y (e.g. 300s, 5m, 1h)`,
		},
		{
			name: "unparsable PromQL points at the column",
			text: head + "  - name: m\n    type: metric\n    expr: sum(rate(x[5m])\n    max: 1\n",
			want: `budgets.yaml:5:26: budgets[0].expr: invalid PromQL: unclosed left parenthesis`,
		},
		{
			name: "bad percentile name",
			text: head + lat + "    percentiles: {q95: 300s}\n",
			want: `budgets.yaml:6:19: budgets[0].percentiles.q95: invalid percentile "q95": want p followed by a number below 100, e.g. p95 or p99.9`,
		},
		{
			// Only the type is wrong: its fields are not also unknown.
			name: "misspelt type",
			text: head + "  - name: m\n    type: latncy\n    histogram: h_seconds\n    percentiles: {p95: 300s}\n",
			want: `budgets.yaml:4:11: budgets[0].type: unknown budget type "latncy" (did you mean "latency"?)`,
		},
		{
			name: "unknown type",
			text: head + "  - name: m\n    type: histogram\n",
			want: `budgets.yaml:4:11: budgets[0].type: unknown budget type "histogram" (known: alert_rules, cardinality, dashboards, endpoint, latency, log_levels, log_redaction, log_structure, log_volume, metric, metrics_present, retention, scrape)`,
		},
		{
			name: "bad name",
			text: head + "  - name: Task Duration\n    type: metric\n    expr: up\n    max: 1\n",
			want: `budgets.yaml:3:11: budgets[0].name: invalid name "Task Duration": use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit`,
		},
		{
			name: "bad on_missing",
			text: head + "  - name: m\n    type: metric\n    expr: up\n    max: 1\n    on_missing: ignore\n",
			want: `budgets.yaml:7:17: budgets[0].on_missing: invalid on_missing "ignore": want fail, warn, pass or skip`,
		},
		{
			name: "secret in yaml",
			text: "version: 1\nsources:\n  prometheus:\n    url: http://p:9090\n    bearer_token: abc\nbudgets:\n  - name: m\n    type: metric\n    expr: up\n    max: 1\n",
			want: `budgets.yaml:5:19: sources.prometheus.bearer_token: secrets are not read from budgets.yaml: use bearer_token_file or bearer_token_env`,
		},
		{
			name: "invalid YAML",
			text: "version: 1\nbudgets:\n  - name: m\n   type: metric\n",
			want: `budgets.yaml:4:4: invalid YAML: did not find expected '-' indicator`, // the line at fault, not the start of budgets
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "budgets.yaml")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			_, _, err := Load("budgets.yaml")
			if err == nil {
				t.Fatalf("no error for:\n%s", tt.text)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

// TestLoadRepoBudgets loads the repository's budgets.yaml and checks every
// budget, in file order: its name, type, area, source, common fields, the
// type's key fields as read (limits in base units: seconds, bytes, shares)
// and its first query.
func TestLoadRepoBudgets(t *testing.T) {
	cfg, plan, err := Load("../../budgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != len(cfg.Budgets) {
		t.Fatalf("got %d planned of %d budgets", len(plan), len(cfg.Budgets))
	}
	if cfg.Defaults.Window != time.Hour || cfg.Defaults.OnMissing != config.MissingFail {
		t.Errorf("defaults = %+v, want window 1h, on_missing fail", cfg.Defaults)
	}
	want := []string{
		"core-metrics metrics_present area=metrics needs=prometheus tags=[metrics core] window=1h0m0s on_missing=fail severity=error | metrics=[secflow_requests_total secflow_request_duration_seconds secflow_task_duration_seconds secflow_scan_duration_seconds secflow_findings_total secflow_gc_runs_total secflow_gc_reclaimed_bytes_total secflow_sandbox_failures_total secflow_queue_depth] | 1 queries, first promql: count by (__name__) ({__name__=~\"(secflow_requests_total|secflow_request_duration_seconds|secflow_task_duration_seconds|secflow_scan_duration_seconds|secflow_findings_total|secflow_gc_runs_total|secflow_gc_reclaimed_bytes_total|secflow_sandbox_failures_total|secflow_queue_depth)(_bucket|_count|_sum)?\"})",
		"series-cardinality cardinality area=metrics needs=prometheus tags=[metrics cardinality] window=1h0m0s on_missing=fail severity=error | by=[] min=- max=10000 warn_min=- warn_max=8000 | 2 queries, first promql: count({__name__=~\"secflow_.*\"})",
		"scrape-targets scrape area=metrics needs=prometheus tags=[metrics scrape] window=1h0m0s on_missing=fail severity=error | jobs=[api worker scanner] interval=15s max_interval=0s max_samples=10000 max_body=- | 2 queries, first http: GET /api/v1/targets",
		"secflow-metrics endpoint area=metrics needs=endpoint tags=[metrics security] window=1h0m0s on_missing=fail severity=error | url=http://api:8080/metrics max_bytes=1e+06 max_series=- require_auth=true lint=true | 2 queries, first http: GET http://api:8080/metrics",
		"log-volume log_volume area=logs needs=loki tags=[logs] window=5m0s on_missing=fail severity=error | per=1h0m0s by=[service] min=- max=1e+08 warn_min=- warn_max=8e+07 | 1 queries, first logql: sum by (service) (bytes_over_time({env=\"prod\"}[5m]))",
		"log-levels log_levels area=logs needs=loki tags=[logs] window=1h0m0s on_missing=fail severity=error | parser=json level=level by=[service] CRITICAL:{min=- max=0.05 warn_min=- warn_max=-} ERROR:{min=- max=0.1 warn_min=- warn_max=-} WARNING:{min=- max=0.25 warn_min=- warn_max=-} | 2 queries, first logql: sum by (service, level) (count_over_time({env=\"prod\"} | json | __error__=\"\" [1h]))",
		"log-redaction log_redaction area=logs needs=loki tags=[logs security] window=1h0m0s on_missing=fail severity=error | by=[service] max_matches=0 patterns=[aws_access_key bearer_token password_assignment private_key_block jwt email] | 7 queries, first logql: sum by (service) (count_over_time({env=\"prod\"} |~ `AKIA[0-9A-Z]{16}` [1h]))",
		"task-duration latency area=performance needs=prometheus tags=[performance] window=1h0m0s on_missing=fail severity=error | histogram=secflow_task_duration_seconds by=[] native=false p95(q=0.95 limit=300 warn=240) p99(q=0.99 limit=600 warn=-) | 3 queries, first promql: histogram_quantile(0.95, sum by (le) (rate(secflow_task_duration_seconds_bucket{job=\"worker\"}[1h])))",
		"request-latency latency area=performance needs=prometheus tags=[performance] window=1h0m0s on_missing=fail severity=error | histogram=secflow_request_duration_seconds by=[job] native=false p99(q=0.99 limit=1 warn=0.5) | 2 queries, first promql: histogram_quantile(0.99, sum by (le, job) (rate(secflow_request_duration_seconds_bucket{job=\"api\"}[1h])))",
		"task-throughput metric area=performance needs=prometheus tags=[performance] window=1h0m0s on_missing=fail severity=error | unit=tasks/min min=5 max=- warn_min=- warn_max=- | 1 queries, first promql: sum(rate(secflow_task_duration_seconds_count{job=\"worker\"}[1h])) * 60",
		"sandbox-failure-ratio metric area=performance needs=prometheus tags=[performance] window=1h0m0s on_missing=fail severity=error | unit=ratio min=- max=0.02 warn_min=- warn_max=0.01 | 1 queries, first promql: sum(increase(secflow_sandbox_failures_total[1h])) / sum(increase(secflow_task_duration_seconds_count[1h]))",
		"queue-depth metric area=performance needs=prometheus tags=[performance] window=1h0m0s on_missing=fail severity=error | unit=tasks min=- max=1000 warn_min=- warn_max=500 | 1 queries, first promql: max by (queue) (secflow_queue_depth)",
		"budget-alerts alert_rules area=alerting needs=prometheus tags=[alerting] window=1h0m0s on_missing=fail severity=error | files=[deploy/alerts.yaml] require=[SecflowTaskDurationP95High SecflowTaskDurationP99High SecflowLogVolumeHigh SecflowErrorShareHigh SecflowSandboxFailuresHigh SecflowCardinalityHigh] firing=fail labels=[severity] annotations=[summary runbook_url] | 2 queries, first http: GET /api/v1/rules",
		"prometheus-retention retention area=retention needs=prometheus tags=[retention] window=1h0m0s on_missing=fail severity=error | source=prometheus min=1.296e+06 max=- warn_min=- warn_max=- | 1 queries, first http: GET /api/v1/status/runtimeinfo",
		"loki-retention retention area=retention needs=loki tags=[retention] window=1h0m0s on_missing=fail severity=error | source=loki min=604800 max=- warn_min=- warn_max=- | 1 queries, first http: GET /config",
		"secflow-dashboards dashboards area=dashboards needs=prometheus tags=[dashboards] window=1h0m0s on_missing=fail severity=error | require_data=true targets=13 | 24 queries, first promql: sum by (job, status) (rate(secflow_requests_total[5m]))",
		"log-structure log_structure area=logs needs=loki tags=[logs tracing] window=1h0m0s on_missing=fail severity=error | check *checks.LogStructureCheck | 2 queries, first logql: sum by (service) (count_over_time({env=\"prod\"} | json | __error__=\"\" | trace_id!=\"\" | span_id!=\"\" [1h]))",
	}
	var got []string
	for i, p := range plan {
		if p.Budget != cfg.Budgets[i] {
			t.Errorf("plan[%d] is budget %q, want %q (file order)", i, p.Budget.Name, cfg.Budgets[i].Name)
		}
		got = append(got, describePlanned(p))
	}
	for i := range max(len(got), len(want)) {
		g, w := "(none)", "(none)"
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("budget %d:\n got: %s\nwant: %s", i, g, w)
		}
	}
}

// describePlanned renders what Load made of a budget, one line.
func describePlanned(p *Planned) string {
	b := p.Budget
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s area=%s needs=%s tags=%v window=%s on_missing=%s severity=%s |", b.Name, b.Type, p.Category, p.Needs, b.Tags, b.Window, b.OnMissing, b.Severity)
	lim := func(l Limits) string {
		f := func(v *float64) string {
			if v == nil {
				return "-"
			}
			return strconv.FormatFloat(*v, 'g', -1, 64)
		}
		return fmt.Sprintf("min=%s max=%s warn_min=%s warn_max=%s", f(l.Min), f(l.Max), f(l.WarnMin), f(l.WarnMax))
	}
	opt := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return strconv.FormatFloat(*v, 'g', -1, 64)
	}
	switch c := p.Check.(type) {
	case *PresentCheck:
		fmt.Fprintf(&sb, " metrics=%v", c.metrics)
	case *CardinalityCheck:
		fmt.Fprintf(&sb, " by=%v %s", c.by, lim(c.limits))
	case *ScrapeCheck:
		fmt.Fprintf(&sb, " jobs=%v interval=%s max_interval=%s max_samples=%s max_body=%s", c.jobs, c.interval, c.maxInterval, opt(c.maxSamples), opt(c.maxBody))
	case *EndpointCheck:
		fmt.Fprintf(&sb, " url=%s max_bytes=%s max_series=%s require_auth=%t lint=%t", c.url, opt(c.maxBytes), opt(c.maxSeries), c.requireAuth, c.lint)
	case *LogVolumeCheck:
		fmt.Fprintf(&sb, " per=%s by=%v %s", c.per, c.by, lim(c.limits))
	case *LogLevelsCheck:
		levels := slices.Sorted(maps.Keys(c.limits))
		fmt.Fprintf(&sb, " parser=%s level=%s by=%v", c.parser, c.level, c.by)
		for _, l := range levels {
			fmt.Fprintf(&sb, " %s:{%s}", l, lim(c.limits[l]))
		}
	case *LogRedactionCheck:
		var names []string
		for _, pt := range c.patterns {
			names = append(names, pt.name)
		}
		fmt.Fprintf(&sb, " by=%v max_matches=%g patterns=%v", c.by, c.maxMatches, names)
	case *LatencyCheck:
		fmt.Fprintf(&sb, " histogram=%s by=%v native=%t", c.histogram, c.by, c.native)
		for _, pc := range c.pcts {
			fmt.Fprintf(&sb, " %s(q=%g limit=%s warn=%s)", pc.name, pc.q, opt(pc.limit), opt(pc.warn))
		}
	case *MetricCheck:
		fmt.Fprintf(&sb, " unit=%s %s", c.unit, lim(c.limits))
	case *AlertRulesCheck:
		fmt.Fprintf(&sb, " files=%v require=%v firing=%s labels=%v annotations=%v", c.files, c.require, c.firing, c.labels, c.annotations)
	case *RetentionCheck:
		fmt.Fprintf(&sb, " source=%s %s", c.source, lim(c.limits))
	case *DashboardsCheck:
		fmt.Fprintf(&sb, " require_data=%t targets=%d", c.requireData, len(c.targets))
	default:
		fmt.Fprintf(&sb, " check %T", c)
	}
	if qs := p.Check.Queries(); len(qs) > 0 {
		fmt.Fprintf(&sb, " | %d queries, first %s: %s", len(qs), qs[0].Lang, qs[0].Text)
	}
	return sb.String()
}
