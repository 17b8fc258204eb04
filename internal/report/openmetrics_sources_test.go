package report

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/promtest"
)

// TestOpenMetricsSourceInfo: the openmetrics report states the engine of
// each source as secflow_budget_source_info{source,engine,version} 1, live
// and offline (the engine the snapshot was recorded from); a version the
// engine did not report is left out, an empty engine is unknown.
func TestOpenMetricsSourceInfo(t *testing.T) {
	const family = "# HELP secflow_budget_source_info The engine that computed a source's numbers (offline: the one the snapshot was recorded from), in its labels; always 1.\n" +
		"# TYPE secflow_budget_source_info gauge\n" +
		"secflow_budget_source_info{engine=\"victoriametrics\",source=\"prometheus\"} 1.0\n" +
		"secflow_budget_source_info{engine=\"loki\",source=\"loki\",version=\"3.1.0\"} 1.0\n" +
		"# EOF\n"
	for _, offline := range []bool{false, true} {
		got := render(t, "openmetrics", engineRun(offline), Options{})
		if !strings.HasSuffix(got, "secflow_budget_run_exit_code 0.0\n"+family) {
			t.Errorf("offline %v: the report does not end with the run's exit code and\n%s\ngot:\n%s", offline, family, got)
		}
	}

	run := engineRun(false)
	run.Sources[0].Engine = ""
	got := parseOpenMetrics(t, render(t, "openmetrics", run, Options{}))
	if want := `secflow_budget_source_info{engine="unknown",source="prometheus"} 1`; !slices.Contains(got, want) {
		t.Errorf("series:\n%s\nwant among them:\n%s", strings.Join(got, "\n"), want)
	}

	// Named like a grouping label of the push (which refuses a series
	// carrying one), a label is prefixed source_, in the file too.
	got = parseOpenMetrics(t, render(t, "openmetrics", engineRun(false), Options{PushLabels: []string{"version", "source"}}))
	for _, want := range []string{
		`secflow_budget_source_info{engine="victoriametrics",source_source="prometheus"} 1`,
		`secflow_budget_source_info{engine="loki",source_source="loki",source_version="3.1.0"} 1`,
	} {
		if !slices.Contains(got, want) {
			t.Errorf("with --push-label version and source, series:\n%s\nwant among them:\n%s", strings.Join(got, "\n"), want)
		}
	}

	// A run that names no source (a snapshot whose manifest records no
	// engine) has no such series.
	if got := render(t, "openmetrics", metricsRun(), Options{}); strings.Contains(got, MetricSourceInfo) {
		t.Errorf("a run without sources has %s:\n%s", MetricSourceInfo, got)
	}
}

// TestOpenMetricsSourceInfoPromtool: promtool check metrics (parser and
// linter) accepts the report with its source_info series without a word.
func TestOpenMetricsSourceInfoPromtool(t *testing.T) {
	promtool := promtest.Promtool(t) // fails, or skips under -short, when missing
	for _, offline := range []bool{false, true} {
		text := render(t, "openmetrics", engineRun(offline), Options{})
		if !strings.Contains(text, MetricSourceInfo+"{") {
			t.Fatalf("no %s in:\n%s", MetricSourceInfo, text)
		}
		cmd := exec.Command(promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil || out.Len() > 0 {
			t.Errorf("offline %v: promtool check metrics: %v\n%s\n--- input:\n%s", offline, err, out.String(), text)
		}
	}
}
