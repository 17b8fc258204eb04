package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/promtest"
)

// TestR12VMOpenMetricsSourceInfo: against a real VictoriaMetrics the
// openmetrics report names the engine (secflow_budget_source_info), which
// promtool accepts; a --push-label named like one of its labels renames it
// in the report and in what a real Pushgateway accepts; offline, a
// snapshot recorded from VictoriaMetrics names it too, and the Markdown
// report says that live values may differ.
func TestR12VMOpenMetricsSourceInfo(t *testing.T) {
	vm := vmStart(t, "healthy")
	const info = `secflow_budget_source_info{engine="victoriametrics",source="prometheus"}`

	r := run(t, nil, "check", "--prometheus", vm.URL, "--at", vmAt, "--only", "queue-depth", "--format", "openmetrics")
	expectCode(t, r, 0)
	omPromtool(t, r.stdout)
	if got := omParse(t, r.stdout); got[info] != 1 {
		t.Errorf("live: no %s 1 in:\n%s", info, r.stdout)
	}

	pg := promtest.StartPushgateway(t)
	r = run(t, nil, "check", "--prometheus", vm.URL, "--at", vmAt, "--only", "queue-depth", "--format", "openmetrics",
		"--push", pg.URL, "--push-label", "source=ci", "--push-required")
	expectCode(t, r, 0)
	renamed := `secflow_budget_source_info{engine="victoriametrics",source_source="prometheus"}`
	if got := omParse(t, r.stdout); got[renamed] != 1 {
		t.Errorf("with --push-label source=ci: no %s 1 in:\n%s", renamed, r.stdout)
	}
	resp, err := http.Get(pg.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var pushed string
	for l := range strings.SplitSeq(string(body), "\n") {
		if strings.HasPrefix(l, "secflow_budget_source_info{") {
			pushed = l
		}
	}
	if want := `secflow_budget_source_info{engine="victoriametrics",instance="",job="secflow_budget",source="ci",source_source="prometheus"} 1`; pushed != want {
		t.Errorf("the Pushgateway holds %q, want %q\n--- pushgateway log:\n%s", pushed, want, pg.Log())
	}

	dir := filepath.Join(t.TempDir(), "snap")
	s := run(t, nil, "snapshot", "--out", dir, "--prometheus", vm.URL, "--at", vmAt, "--only", "queue-depth")
	expectCode(t, s, 0)
	off := run(t, nil, "check", "--offline", dir, "--only", "queue-depth", "--format", "openmetrics")
	expectCode(t, off, 0)
	omPromtool(t, off.stdout)
	if got := omParse(t, off.stdout); got[info] != 1 {
		t.Errorf("offline: no %s 1 in:\n%s", info, off.stdout)
	}

	// The Markdown report of a passing offline run shows no budget's note:
	// its footer says that live values may differ.
	md := run(t, nil, "check", "--offline", dir, "--only", "queue-depth", "--format", "markdown")
	expectCode(t, md, 0)
	if want := "recorded from prometheus: VictoriaMetrics (version not reported); evaluated offline with Prometheus' engine: live values may differ"; !strings.Contains(md.stdout, want) {
		t.Errorf("offline Markdown lacks %q:\n%s", want, md.stdout)
	}
}
