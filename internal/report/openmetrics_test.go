package report

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/promtest"
)

// metricsRun has what the metrics must get right: a result without data
// that on_missing let pass, a NaN and an infinite value, a limit of 0, an
// exact (==) limit, a >= limit, result labels that collide with ours, with
// the scrape's job and with each other, an invalid label name, and label
// values that need escaping.
func metricsRun() *Run {
	return &Run{
		ToolName: "secflow-budget", Mode: "offline",
		EvaluatedAt: time.Date(2026, 11, 26, 12, 0, 7, 500_000_000, time.UTC),
		Status:      checks.Fail, ExitCode: 1, FailOn: checks.Fail,
		Outcomes: []checks.Outcome{
			{
				Name: "task-duration", Type: "latency", Category: "performance", Status: checks.Fail,
				Results: []checks.Result{
					{Subject: "p95", Labels: map[string]string{"job": "worker"}, Value: f(180), Limit: f(300), Op: "<=", WarnLimit: f(240), Status: checks.Pass},
					{Subject: "p99", Labels: map[string]string{"job": "worker"}, Value: f(750), Limit: f(600), Op: "<=", Status: checks.Fail},
				},
			},
			{
				Name: "throughput", Type: "metric", Category: "performance", Status: checks.Error,
				Results: []checks.Result{
					{Subject: "throughput", Labels: map[string]string{"queue": "batch"}, Value: f(8), Limit: f(5), Op: ">=", Status: checks.Pass},
					{Subject: "throughput", Labels: map[string]string{"queue": "nan"}, Value: f(math.NaN()), Limit: f(5), Op: ">=", Status: checks.Error},
					{Subject: "throughput", Labels: map[string]string{"queue": "inf"}, Value: f(math.Inf(1)), Limit: f(5), Op: ">=", Status: checks.Pass},
					{Subject: "throughput", Labels: map[string]string{"queue": "gone"}, Missing: true, Value: f(0), Limit: f(5), Op: ">=", Status: checks.Pass},
					{Subject: "throughput", Labels: map[string]string{"queue": "none"}, Limit: f(math.NaN()), Op: ">=", Status: checks.Error},
				},
			},
			{
				Name: "redaction", Type: "log_redaction", Category: "logs", Status: checks.Fail,
				Results: []checks.Result{
					{Subject: "aws_access_key", Labels: map[string]string{
						"subject": "s", "budget": "b", "result_budget": "x", "job": "api",
						"app.kubernetes.io/name": "api", "9lives": "cat", "__meta": "m",
						"msg": "say \"hi\"\\n\nnext", "bad": "\xff\xfeok",
					}, Value: f(2), Limit: f(0), Op: "<=", Status: checks.Fail},
				},
			},
			{
				Name: "scrape", Type: "scrape", Category: "metrics", Status: checks.Pass,
				Results: []checks.Result{
					{Subject: "interval", Value: f(15), Limit: f(15), Op: "==", Status: checks.Pass},
				},
			},
			{Name: "endpoint", Type: "endpoint", Category: "metrics", Status: checks.Error,
				Err: &checks.OutcomeError{Kind: "unavailable", Message: "connection refused"}},
		},
	}
}

const metricsRunWant = `# HELP secflow_budget_status 1 for the budget's status, 0 for every other status.
# TYPE secflow_budget_status gauge
secflow_budget_status{budget="task-duration",category="performance",status="pass",type="latency"} 0.0
secflow_budget_status{budget="task-duration",category="performance",status="waived",type="latency"} 0.0
secflow_budget_status{budget="task-duration",category="performance",status="skip",type="latency"} 0.0
secflow_budget_status{budget="task-duration",category="performance",status="warn",type="latency"} 0.0
secflow_budget_status{budget="task-duration",category="performance",status="error",type="latency"} 0.0
secflow_budget_status{budget="task-duration",category="performance",status="fail",type="latency"} 1.0
secflow_budget_status{budget="throughput",category="performance",status="pass",type="metric"} 0.0
secflow_budget_status{budget="throughput",category="performance",status="waived",type="metric"} 0.0
secflow_budget_status{budget="throughput",category="performance",status="skip",type="metric"} 0.0
secflow_budget_status{budget="throughput",category="performance",status="warn",type="metric"} 0.0
secflow_budget_status{budget="throughput",category="performance",status="error",type="metric"} 1.0
secflow_budget_status{budget="throughput",category="performance",status="fail",type="metric"} 0.0
secflow_budget_status{budget="redaction",category="logs",status="pass",type="log_redaction"} 0.0
secflow_budget_status{budget="redaction",category="logs",status="waived",type="log_redaction"} 0.0
secflow_budget_status{budget="redaction",category="logs",status="skip",type="log_redaction"} 0.0
secflow_budget_status{budget="redaction",category="logs",status="warn",type="log_redaction"} 0.0
secflow_budget_status{budget="redaction",category="logs",status="error",type="log_redaction"} 0.0
secflow_budget_status{budget="redaction",category="logs",status="fail",type="log_redaction"} 1.0
secflow_budget_status{budget="scrape",category="metrics",status="pass",type="scrape"} 1.0
secflow_budget_status{budget="scrape",category="metrics",status="waived",type="scrape"} 0.0
secflow_budget_status{budget="scrape",category="metrics",status="skip",type="scrape"} 0.0
secflow_budget_status{budget="scrape",category="metrics",status="warn",type="scrape"} 0.0
secflow_budget_status{budget="scrape",category="metrics",status="error",type="scrape"} 0.0
secflow_budget_status{budget="scrape",category="metrics",status="fail",type="scrape"} 0.0
secflow_budget_status{budget="endpoint",category="metrics",status="pass",type="endpoint"} 0.0
secflow_budget_status{budget="endpoint",category="metrics",status="waived",type="endpoint"} 0.0
secflow_budget_status{budget="endpoint",category="metrics",status="skip",type="endpoint"} 0.0
secflow_budget_status{budget="endpoint",category="metrics",status="warn",type="endpoint"} 0.0
secflow_budget_status{budget="endpoint",category="metrics",status="error",type="endpoint"} 1.0
secflow_budget_status{budget="endpoint",category="metrics",status="fail",type="endpoint"} 0.0
# HELP secflow_budget_value The value a budget measured for a result, in the result's unit.
# TYPE secflow_budget_value gauge
secflow_budget_value{budget="task-duration",category="performance",result_job="worker",subject="p95",type="latency"} 180.0
secflow_budget_value{budget="task-duration",category="performance",result_job="worker",subject="p99",type="latency"} 750.0
secflow_budget_value{budget="throughput",category="performance",queue="batch",subject="throughput",type="metric"} 8.0
secflow_budget_value{_9lives="cat",app_kubernetes_io_name="api",bad="\uFFFDok",budget="redaction",category="logs",msg="say \"hi\"\\n\nnext",result___meta="m",result_budget="x",result_job="api",result_result_budget="b",result_subject="s",subject="aws_access_key",type="log_redaction"} 2.0
secflow_budget_value{budget="scrape",category="metrics",subject="interval",type="scrape"} 15.0
# HELP secflow_budget_limit The hard limit of a budget's result.
# TYPE secflow_budget_limit gauge
secflow_budget_limit{budget="task-duration",category="performance",result_job="worker",subject="p95",type="latency"} 300.0
secflow_budget_limit{budget="task-duration",category="performance",result_job="worker",subject="p99",type="latency"} 600.0
secflow_budget_limit{budget="throughput",category="performance",queue="batch",subject="throughput",type="metric"} 5.0
secflow_budget_limit{budget="throughput",category="performance",queue="nan",subject="throughput",type="metric"} 5.0
secflow_budget_limit{budget="throughput",category="performance",queue="inf",subject="throughput",type="metric"} 5.0
secflow_budget_limit{budget="throughput",category="performance",queue="gone",subject="throughput",type="metric"} 5.0
secflow_budget_limit{_9lives="cat",app_kubernetes_io_name="api",bad="\uFFFDok",budget="redaction",category="logs",msg="say \"hi\"\\n\nnext",result___meta="m",result_budget="x",result_job="api",result_result_budget="b",result_subject="s",subject="aws_access_key",type="log_redaction"} 0.0
secflow_budget_limit{budget="scrape",category="metrics",subject="interval",type="scrape"} 15.0
# HELP secflow_budget_warn_limit The warn (soft) limit of a budget's result.
# TYPE secflow_budget_warn_limit gauge
secflow_budget_warn_limit{budget="task-duration",category="performance",result_job="worker",subject="p95",type="latency"} 240.0
# HELP secflow_budget_headroom_ratio How far a result is from its hard limit, as a fraction of the limit; negative when past it.
# TYPE secflow_budget_headroom_ratio gauge
secflow_budget_headroom_ratio{budget="task-duration",category="performance",result_job="worker",subject="p95",type="latency"} 0.4
secflow_budget_headroom_ratio{budget="task-duration",category="performance",result_job="worker",subject="p99",type="latency"} -0.25
secflow_budget_headroom_ratio{budget="throughput",category="performance",queue="batch",subject="throughput",type="metric"} 0.6
# HELP secflow_budget_run_timestamp_seconds The evaluation time of the run, in unix seconds.
# TYPE secflow_budget_run_timestamp_seconds gauge
secflow_budget_run_timestamp_seconds 1.7956944075e+09
# HELP secflow_budget_run_exit_code The exit code of the run.
# TYPE secflow_budget_run_exit_code gauge
secflow_budget_run_exit_code 1.0
# EOF
`

// TestOpenMetricsReport pins the whole report of metricsRun: what is left
// out (the values of the NaN, infinite and missing results, the NaN limit,
// the headroom of a 0 limit, of an == limit and of the results without a
// value), the renamed and sanitised labels, and the escaping.
func TestOpenMetricsReport(t *testing.T) {
	got := render(t, "openmetrics", metricsRun(), Options{})
	if got != strings.ReplaceAll(metricsRunWant, `\uFFFD`, "\uFFFD") {
		t.Errorf("openmetrics report:\n%s\nwant:\n%s", got, metricsRunWant)
	}
	if strings.Contains(got, "NaN") || strings.Contains(got, "Inf") {
		t.Errorf("report holds NaN or Inf:\n%s", got)
	}
}

// TestOpenMetricsPromtool: promtool check metrics (its linter and its
// parser) accepts the report without a word, for metricsRun and for the
// golden run of every other format.
func TestOpenMetricsPromtool(t *testing.T) {
	promtool := promtest.Promtool(t) // fails, or skips under -short, when missing
	for name, run := range map[string]*Run{"metricsRun": metricsRun(), "sampleRun": sampleRun(), "edgeRun": edgeRun()} {
		text := render(t, "openmetrics", run, Options{})
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil || out.Len() > 0 {
			t.Errorf("%s: promtool check metrics: %v\n%s\n--- input:\n%s", name, err, out.String(), text)
		}
	}
}

// TestOpenMetricsParses reads the report back with Prometheus' own
// OpenMetrics parser: every series of metricsRunWant, in order, with its
// labels and value, no timestamps, and the # EOF that ends it.
func TestOpenMetricsParses(t *testing.T) {
	text := render(t, "openmetrics", metricsRun(), Options{})
	got := parseOpenMetrics(t, text)
	var want []string
	for _, line := range strings.Split(strings.TrimSuffix(metricsRunWant, "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		series, value, _ := strings.Cut(line, "} ")
		if !strings.Contains(line, "{") {
			series, value, _ = strings.Cut(line, " ")
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("want line %q: %v", line, err)
		}
		if strings.Contains(series, "{") {
			series += "}"
		}
		want = append(want, strings.ReplaceAll(series, `\uFFFD`, "\uFFFD")+" "+strconv.FormatFloat(v, 'g', -1, 64))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("parsed series:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// parseOpenMetrics returns each series of text as name{labels} value, the
// labels sorted and escaped as the report writes them, the value in Go's
// shortest form.
func parseOpenMetrics(t *testing.T, text string) []string {
	t.Helper()
	if !strings.HasSuffix(text, "\n# EOF\n") {
		t.Fatalf("report does not end with # EOF:\n%s", text)
	}
	p := textparse.NewOpenMetricsParser([]byte(text), labels.NewSymbolTable())
	esc := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	var out []string
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
			t.Errorf("a series has a timestamp: %d", *ts)
		}
		var l labels.Labels
		p.Labels(&l)
		var parts []string
		l.Range(func(x labels.Label) {
			if x.Name != "__name__" {
				parts = append(parts, x.Name+`="`+esc.Replace(x.Value)+`"`)
			}
		})
		series := l.Get("__name__")
		if len(parts) > 0 {
			series += "{" + strings.Join(parts, ",") + "}"
		}
		out = append(out, series+" "+strconv.FormatFloat(v, 'g', -1, 64))
	}
	return out
}

// TestOpenMetricsPushLabelsRenamed: a result label named like a grouping
// label of the push is renamed in the report too, so that the file and
// the push hold the same series.
func TestOpenMetricsPushLabelsRenamed(t *testing.T) {
	run := &Run{ExitCode: 0, Outcomes: []checks.Outcome{{
		Name: "queue", Type: "metric", Category: "performance", Status: checks.Pass,
		Results: []checks.Result{{Subject: "queue", Labels: map[string]string{"branch": "feature", "queue": "batch"}, Value: f(3), Status: checks.Pass}},
	}}}
	got := parseOpenMetrics(t, render(t, "openmetrics", run, Options{PushLabels: []string{"branch"}}))
	const want = `secflow_budget_value{budget="queue",category="performance",queue="batch",result_branch="feature",subject="queue",type="metric"} 3`
	if !slices.Contains(got, want) {
		t.Errorf("series:\n%s\nwant among them:\n%s", strings.Join(got, "\n"), want)
	}
	got = parseOpenMetrics(t, render(t, "openmetrics", run, Options{}))
	const without = `secflow_budget_value{branch="feature",budget="queue",category="performance",queue="batch",subject="queue",type="metric"} 3`
	if !slices.Contains(got, without) {
		t.Errorf("without --push-label, series:\n%s\nwant among them:\n%s", strings.Join(got, "\n"), without)
	}
	// A run without an evaluation time (no budget ran) has no timestamp.
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, MetricRunTimestamp) }) {
		t.Errorf("a run without evaluation time has %s:\n%s", MetricRunTimestamp, strings.Join(got, "\n"))
	}
}

// TestOpenMetricsHistogramLabelsRenamed: a metric budget over bucket or
// quantile series has results labelled le or quantile; on a gauge,
// promtool check metrics refuses those names, so they are renamed
// result_le and result_quantile.
func TestOpenMetricsHistogramLabelsRenamed(t *testing.T) {
	run := &Run{ExitCode: 0, Outcomes: []checks.Outcome{{
		Name: "buckets", Type: "metric", Category: "performance", Status: checks.Pass,
		Results: []checks.Result{
			{Subject: "buckets", Labels: map[string]string{"le": "0.5", "job": "api"}, Value: f(3), Limit: f(10), Op: "<=", Status: checks.Pass},
			{Subject: "buckets", Labels: map[string]string{"quantile": "0.99"}, Value: f(4), Status: checks.Pass},
		},
	}}}
	text := render(t, "openmetrics", run, Options{})
	got := parseOpenMetrics(t, text)
	for _, want := range []string{
		`secflow_budget_value{budget="buckets",category="performance",result_job="api",result_le="0.5",subject="buckets",type="metric"} 3`,
		`secflow_budget_value{budget="buckets",category="performance",result_quantile="0.99",subject="buckets",type="metric"} 4`,
	} {
		if !slices.Contains(got, want) {
			t.Errorf("series:\n%s\nwant among them:\n%s", strings.Join(got, "\n"), want)
		}
	}
	promtool := promtest.Promtool(t) // fails, or skips under -short, when missing
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil || out.Len() > 0 {
		t.Errorf("promtool check metrics: %v\n%s\n--- input:\n%s", err, out.String(), text)
	}
}
