package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
)

// waiverBaselineRun is a run with a waived budget, a budget that fails on
// its regression against a baseline while its limits pass, new results,
// an undecided budget and a run-level note about an unused waiver.
func waiverBaselineRun() *Run {
	ms := time.Millisecond
	reg := func(s string) *checks.RegressionOutcome {
		return &checks.RegressionOutcome{Status: s, BaselineFile: "reports/main.json"}
	}
	return &Run{
		ToolName: "secflow-budget", Version: "1.2.3", Mode: "offline", Target: "testdata/snapshots/ci",
		EvaluatedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
		Status:      checks.Fail, ExitCode: 1, FailOn: checks.Fail,
		Notes: []string{"waivers[2] (budget queue-depth, owner @secflow/queue) matched no failing or warning result: it can be removed"},
		Outcomes: []checks.Outcome{
			{
				Name: "task-duration", Type: "latency", Category: "performance", Severity: "error",
				Status: checks.Fail, Duration: 14 * ms,
				Message:    "p95 212s <= 300s, +18% vs baseline 180s, regressed past max_increase 10%",
				Queries:    []string{`histogram_quantile(0.95, sum by (le) (rate(secflow_task_duration_seconds_bucket[1h])))`},
				Regression: reg(checks.RegFail),
				Results: []checks.Result{
					{Subject: "p95", Labels: map[string]string{}, Value: f(212), Unit: "seconds", Limit: f(300), Op: "<=",
						Status: checks.Fail, Adjusted: true, ByLimits: checks.Pass,
						Baseline: f(180), Change: f(32.0 / 180), Regression: checks.RegFail, RegressionLimit: "max_increase 10%"},
					{Subject: "p99", Labels: map[string]string{}, Value: f(420), Unit: "seconds", Limit: f(600), Op: "<=",
						Status: checks.Pass, Baseline: f(400), Change: f(0.05), Regression: checks.RegPass},
				},
			},
			{
				Name: "log-volume", Type: "log_volume", Category: "logs", Severity: "error",
				Status: checks.Waived, Duration: 3 * ms,
				Message:    `bytes_per_1h{service="api"} 113.39 MB > 100 MB (waived until 2026-12-31 by @secflow/platform)`,
				Queries:    []string{`sum by (service) (bytes_over_time({env="prod"}[1h]))`},
				Regression: reg(checks.RegNone),
				Notes:      []string{"the waiver of @secflow/platform expires 2026-11-30, in 4 days: renew it or fix the budget (waivers[0])"},
				Results: []checks.Result{
					{Subject: "bytes_per_1h", Labels: map[string]string{"service": "api"}, Value: f(113387940), Unit: "bytes", Limit: f(1e8), Op: "<=",
						Status: checks.Waived, Adjusted: true, ByLimits: checks.Fail,
						Baseline: f(918216), Change: f(113387940.0/918216 - 1), Regression: checks.RegNone,
						Waiver: &checks.Waiver{Reason: "bulk re-index until the December migration ends", Owner: "@secflow/platform", Expires: "2026-12-31"}},
					{Subject: "bytes_per_1h", Labels: map[string]string{"service": "worker"}, Value: f(686676), Unit: "bytes", Limit: f(1e8), Op: "<=",
						Status: checks.Pass, Regression: checks.RegNew},
				},
			},
			{
				Name: "queue-depth", Type: "metric", Category: "performance", Severity: "error",
				Status: checks.Error, Duration: 2 * ms, Message: "unavailable: connection refused",
				Queries:    []string{"max by (queue) (secflow_queue_depth)"},
				Regression: reg(checks.RegNone),
				Err:        &checks.OutcomeError{Kind: "unavailable", Message: "connection refused"},
			},
		},
	}
}

func TestWaiverBaselineGolden(t *testing.T) {
	for _, tc := range []struct {
		file, format string
		opts         Options
	}{
		{"i9-waiver-baseline.console.golden", "console", Options{Emoji: true}},
		{"i9-waiver-baseline-ascii.console.golden", "console", Options{Emoji: false}},
		{"i9-waiver-baseline.json.golden", "json", Options{}},
		{"i9-waiver-baseline.junit.xml.golden", "junit", Options{Emoji: true}},
		{"i9-waiver-baseline.md.golden", "markdown", Options{Emoji: true}},
		{"i9-waiver-baseline.github.golden", "github", Options{Emoji: true}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.format, waiverBaselineRun(), tc.opts); err != nil {
				t.Fatal(err)
			}
			assertGolden(t, tc.file, buf.Bytes())
		})
	}
}
