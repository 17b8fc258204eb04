package report

import (
	"html"
	"strings"
	"testing"
)

// TestEnginesTextOfflineDiffers: offline over a snapshot recorded from an
// engine that check --offline does not reproduce (a source note), the
// reports that show no passing budget's notes (Markdown, JUnit, GitHub)
// say once that live values may differ; over one recorded from
// Prometheus, and live, they do not.
func TestEnginesTextOfflineDiffers(t *testing.T) {
	const differs = "recorded from prometheus: VictoriaMetrics (version not reported), loki: Loki 3.1.0; evaluated offline with Prometheus' engine: live values may differ"
	fromPrometheus := engineRun(true)
	fromPrometheus.Sources[0].Engine, fromPrometheus.Sources[0].Version, fromPrometheus.Sources[0].Note = "prometheus", "2.42.0", ""
	for _, format := range []string{"console", "markdown", "junit", "github"} {
		got := html.UnescapeString(render(t, format, engineRun(true), Options{}))
		if strings.Count(got, differs) != 1 {
			t.Errorf("%s, from VictoriaMetrics: want %q once in:\n%s", format, differs, got)
		}
		for name, run := range map[string]*Run{"live": engineRun(false), "from Prometheus": fromPrometheus} {
			if got := render(t, format, run, Options{}); strings.Contains(got, "evaluated offline with") {
				t.Errorf("%s, %s: says live values may differ:\n%s", format, name, got)
			}
		}
	}
}
