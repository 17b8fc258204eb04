package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
)

// engineRun is a live run against a VictoriaMetrics and a Loki, and its
// offline twin from a snapshot recorded from them: every format states the
// engines.
func engineRun(offline bool) *Run {
	run := &Run{
		ToolName: "secflow-budget", Version: "1.2.3", Mode: "live", Target: "http://127.0.0.1:8428, http://127.0.0.1:3100",
		EvaluatedAt: time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC),
		Status:      checks.Pass, ExitCode: 0, FailOn: checks.Fail,
		Sources: []SourceInfo{
			{Name: "prometheus", URL: "http://127.0.0.1:8428", Engine: "victoriametrics"},
			{Name: "loki", URL: "http://127.0.0.1:3100", Engine: "loki", Version: "3.1.0"},
		},
		Outcomes: []checks.Outcome{{
			Name: "request-rate", Type: "metric", Category: "metrics", Severity: "error",
			Status: checks.Pass, Duration: 4 * time.Millisecond, Message: "18.63 <= 100",
			Queries: []string{"sum(rate(secflow_requests_total[5m]))"},
			Results: []checks.Result{{Subject: "request-rate", Labels: map[string]string{}, Value: f(18.63), Limit: f(100), Op: "<=", Status: checks.Pass}},
		}},
	}
	if offline {
		run.Mode, run.Target = "offline", "snap"
		for i := range run.Sources {
			run.Sources[i].URL, run.Sources[i].Recorded = "", true
		}
		run.Sources[0].Note = "VictoriaMetrics evaluates MetricsQL"
		run.Outcomes[0].Notes = []string{"recorded from VictoriaMetrics, which evaluates MetricsQL: live values may differ"}
	}
	return run
}

func TestEngineGolden(t *testing.T) {
	for _, offline := range []bool{false, true} {
		name := "i12-engine-live"
		if offline {
			name = "i12-engine-offline"
		}
		for _, tc := range []struct{ ext, format string }{
			{"console", "console"}, {"json", "json"}, {"junit.xml", "junit"}, {"md", "markdown"}, {"github", "github"},
		} {
			file := name + "." + tc.ext + ".golden"
			t.Run(file, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Write(&buf, tc.format, engineRun(offline), Options{Emoji: true}); err != nil {
					t.Fatal(err)
				}
				want := "prometheus: VictoriaMetrics (version not reported), loki: Loki 3.1.0"
				if offline {
					want = "recorded from " + want
				}
				if tc.format == "json" {
					want = `"engine": "victoriametrics"`
				}
				if !strings.Contains(buf.String(), want) {
					t.Errorf("%s report does not state the engines (%q):\n%s", tc.format, want, buf.String())
				}
				assertGolden(t, file, buf.Bytes())
			})
		}
	}
}
