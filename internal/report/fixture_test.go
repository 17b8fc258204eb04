package report

import (
	"math"
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
)

var f = checks.F

// sampleRun is a finished run covering what reporters must render: every
// status, labels, latency extras (bucket bounds, observations, a +Inf upper
// bound), log level counts, a min-limit (">=") result, notes, details, an
// error outcome, a warning-severity budget, a budget with many passing
// results, and an area outside the known four. Outcomes are in budgets.yaml
// order, which mixes areas on purpose.
func sampleRun() *Run {
	ms := time.Millisecond
	return &Run{
		ToolName:    "secflow-budget",
		Version:     "1.2.3",
		Mode:        "offline",
		Target:      "testdata/snapshots/ci",
		EvaluatedAt: time.Date(2026, 11, 26, 13, 0, 0, 0, time.FixedZone("CET", 3600)),
		Status:      checks.Fail,
		ExitCode:    1,
		FailOn:      checks.Fail,
		Outcomes: []checks.Outcome{
			{
				Name: "task-duration", Type: "latency", Category: "performance",
				Description: "Task duration percentiles", Severity: "error", Tags: []string{"performance"},
				Status: checks.Pass, Message: "p95 212s <= 300s, p99 287s <= 600s", Duration: 14 * ms,
				Queries: []string{
					`histogram_quantile(0.95, sum by (le, job) (rate(secflow_task_duration_seconds_bucket{job="worker"}[1h])))`,
					`histogram_quantile(0.99, sum by (le, job) (rate(secflow_task_duration_seconds_bucket{job="worker"}[1h])))`,
				},
				Results: []checks.Result{
					{Subject: "p95", Labels: map[string]string{"job": "worker"}, Value: f(212.4), Unit: "seconds",
						Limit: f(300), Op: "<=", WarnLimit: f(240), Status: checks.Pass,
						Extra: []checks.KV{kv("bucket_lower", 180.0), kv("bucket_upper", 240.0), kv("observations", 1234.4)}},
					{Subject: "p99", Labels: map[string]string{"job": "worker"}, Value: f(287.1), Unit: "seconds",
						Limit: f(600), Op: "<=", Status: checks.Pass,
						Extra: []checks.KV{kv("bucket_lower", 240.0), kv("bucket_upper", 300.0), kv("observations", 1234.4)}},
				},
			},
			{
				Name: "core-metrics", Type: "metrics_present", Category: "metrics",
				Severity: "error", Tags: []string{"metrics", "core"},
				Status: checks.Pass, Message: "9 of 9 core metrics present", Duration: 3 * ms,
				Queries: []string{`count by (__name__) ({__name__=~"secflow_.*"})`},
				Results: presentResults(
					"secflow_requests_total", "secflow_request_duration_seconds", "secflow_task_duration_seconds",
					"secflow_scan_duration_seconds", "secflow_findings_total", "secflow_gc_runs_total",
					"secflow_gc_reclaimed_bytes_total", "secflow_sandbox_failures_total", "secflow_queue_depth"),
			},
			{
				Name: "scan-duration", Type: "latency", Category: "performance",
				Severity: "error", Tags: []string{"performance"},
				Runbook: "https://runbooks.secflow.dev/budgets/scan-duration",
				Status:  checks.Fail, Message: "p99 712s > 600s", Duration: 21 * ms,
				Queries: []string{`histogram_quantile(0.99, sum by (le, job) (rate(secflow_scan_duration_seconds_bucket{job="scanner"}[1h])))`},
				Results: []checks.Result{
					{Subject: "p95", Labels: map[string]string{"job": "scanner"}, Value: f(410), Unit: "seconds",
						Limit: f(600), Op: "<=", Status: checks.Pass,
						Extra: []checks.KV{kv("bucket_lower", 300.0), kv("bucket_upper", 600.0), kv("observations", 87.0)}},
					{Subject: "p99", Labels: map[string]string{"job": "scanner"}, Value: f(712.3), Unit: "seconds",
						Limit: f(600), Op: "<=", Status: checks.Fail,
						Extra: []checks.KV{kv("bucket_lower", 600.0), kv("bucket_upper", math.Inf(1)), kv("observations", 87.0)},
						Note:  "estimated inside the +Inf bucket"},
				},
				Notes: []string{"p99 lies in the highest bucket; add buckets above 600s for a precise value"},
			},
			{
				Name: "series-cardinality", Type: "cardinality", Category: "metrics", File: "budgets.yaml", Line: 31, Column: 5,
				Description: "At most 10,000 series for secflow_*", Severity: "error", Tags: []string{"metrics"},
				Runbook: "https://runbooks.secflow.dev/budgets/cardinality",
				Status:  checks.Fail, Message: "12,345 series > 10,000", Duration: 9 * ms,
				Queries: []string{`count({__name__=~"secflow_.*"})`},
				Results: []checks.Result{
					{Subject: "series", Labels: map[string]string{}, Value: f(12345), Unit: "series",
						Limit: f(10000), Op: "<=", WarnLimit: f(8000), Status: checks.Fail},
				},
				Details: []string{
					"secflow_request_duration_seconds_bucket: 6,120 series",
					"secflow_findings_total: 3,002 series",
					"secflow_requests_total: 1,480 series",
				},
			},
			{
				Name: "metrics-endpoint", Type: "endpoint", Category: "metrics",
				Severity: "error", Tags: []string{"metrics", "security"},
				Runbook: "https://runbooks.secflow.dev/budgets/metrics-endpoint",
				Status:  checks.Error, Message: "could not fetch /metrics", Duration: 1500 * ms,
				Err: &checks.OutcomeError{Kind: "unavailable",
					Message: "GET https://api.secflow.internal/metrics: dial tcp 10.0.0.7:443: connect: connection refused"},
			},
			{
				Name: "log-volume", Type: "log_volume", Category: "logs",
				Severity: "warning", Tags: []string{"logs"},
				Status: checks.Warn, Message: "api 128 MB per 1h > 100 MB", Duration: 40 * ms,
				Queries: []string{`sum by (service) (bytes_over_time({namespace="secflow"}[1h]))`},
				Results: []checks.Result{
					{Subject: "bytes_per_1h", Labels: map[string]string{"service": "api"}, Value: f(128e6), Unit: "bytes",
						Limit: f(100e6), Op: "<=", Status: checks.Warn},
					{Subject: "bytes_per_1h", Labels: map[string]string{"service": "scanner"}, Value: f(8.1e6), Unit: "bytes",
						Limit: f(100e6), Op: "<=", Status: checks.Pass},
					{Subject: "bytes_per_1h", Labels: map[string]string{"service": "worker"}, Value: f(42.5e6), Unit: "bytes",
						Limit: f(100e6), Op: "<=", Status: checks.Pass},
				},
			},
			{
				Name: "log-levels", Type: "log_levels", Category: "logs",
				Severity: "error", Tags: []string{"logs"},
				Status: checks.Pass, Message: "all level shares within limits", Duration: 35 * ms,
				Queries: []string{`sum by (level) (count_over_time({namespace="secflow"}[1h]))`},
				Results: []checks.Result{
					levelResult("INFO", 6120, 50, ">="),
					levelResult("WARNING", 1830, 25, "<="),
					levelResult("ERROR", 410, 10, "<="),
					levelResult("CRITICAL", 30, 5, "<="),
				},
			},
			{
				Name: "log-redaction", Type: "log_redaction", Category: "logs",
				Severity: "error", Tags: []string{"logs", "security"},
				Status: checks.Skip, Message: "no log lines in the window (on_missing: skip)", Duration: 2 * ms,
				Queries: []string{`sum(count_over_time({namespace="secflow"} |~ "AKIA[0-9A-Z]{16}" [1h]))`},
			},
			{
				Name: "budget-alerts", Type: "alert_rules", Category: "alerting",
				Severity: "error", Tags: []string{"alerting"},
				Status: checks.Pass, Message: "2 of 2 alert rules loaded, none firing", Duration: 5 * ms,
				Results: []checks.Result{
					{Subject: "SecflowTaskDurationBudget", Labels: map[string]string{}, Value: f(1), Status: checks.Pass,
						Extra: []checks.KV{kv("state", "inactive"), kv("health", "ok")}},
					{Subject: "SecflowLogVolumeBudget", Labels: map[string]string{}, Value: f(1), Status: checks.Pass,
						Extra: []checks.KV{kv("state", "inactive"), kv("health", "ok")}},
				},
			},
			{
				Name: "prometheus-retention", Type: "retention", Category: "retention",
				Severity: "error",
				Status:   checks.Pass, Message: "retention 30d >= 15d", Duration: 1 * ms,
				Results: []checks.Result{
					{Subject: "retention", Value: f(30 * 86400), Unit: "seconds", Limit: f(15 * 86400), Op: ">=", Status: checks.Pass},
				},
			},
		},
	}
}

func presentResults(names ...string) []checks.Result {
	rs := make([]checks.Result, len(names))
	for i, n := range names {
		rs[i] = checks.Result{Subject: n, Labels: map[string]string{}, Value: f(float64(3 + i)), Unit: "series",
			Limit: f(1), Op: ">=", Status: checks.Pass}
	}
	return rs
}

func levelResult(level string, count float64, limitPct float64, op string) checks.Result {
	const total = 10000
	return checks.Result{Subject: level, Labels: map[string]string{}, Value: f(count / total), Unit: "ratio",
		Limit: f(limitPct / 100), Op: op, Status: checks.Pass,
		Extra: []checks.KV{kv("count", count), kv("total", float64(total))}}
}

func kv(k string, v any) checks.KV { return checks.KV{Key: k, Value: v} }
