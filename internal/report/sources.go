package report

import (
	"strings"

	"github.com/secflow/secflow-budget/internal/sources"
)

// SourceInfo says which engine computed a source's numbers: live, what the
// source answered; offline, what the snapshot's manifest recorded.
type SourceInfo struct {
	// Name is the source: "prometheus" or "loki".
	Name string `json:"name"`
	// URL is the source's masked URL (live only).
	URL string `json:"url,omitempty"`
	// Engine is one of the sources.Engine* names: "prometheus",
	// "victoriametrics", "thanos", "mimir", "cortex", "loki", "unknown".
	Engine string `json:"engine"`
	// Version is the version the engine reported, "" when none.
	Version string `json:"version"`
	// Recorded: offline, the engine the snapshot was recorded from;
	// the numbers were computed by Prometheus' engine over its samples.
	Recorded bool `json:"recorded,omitempty"`
	// Note says why the numbers may differ from the live engine's
	// (offline), or why the engine is unknown (live).
	Note string `json:"note,omitempty"`
}

// engineText is "VictoriaMetrics (version not reported)".
func (s SourceInfo) engineText() string {
	return sources.Engine{Name: s.engineName(), Version: s.Version}.String()
}

// engineName is the engine's name, unknown when empty.
func (s SourceInfo) engineName() string {
	if s.Engine == "" {
		return sources.EngineUnknown
	}
	return s.Engine
}

// enginesText is "prometheus: VictoriaMetrics 1.79.5, loki: Loki 3.1.0"
// live, "recorded from prometheus: VictoriaMetrics (version not reported)"
// offline, followed by offlineDiffers when an engine's values cannot be
// reproduced offline (the reports that show no budget's notes say it
// there); "" when the run knows no source.
func enginesText(run *Run) string {
	if len(run.Sources) == 0 {
		return ""
	}
	parts := make([]string, 0, len(run.Sources))
	recorded, differs := false, false
	for _, s := range run.Sources {
		parts = append(parts, s.Name+": "+s.engineText())
		recorded = recorded || s.Recorded
		differs = differs || (s.Recorded && s.Note != "")
	}
	text := strings.Join(parts, ", ")
	if recorded {
		text = "recorded from " + text
	}
	if differs {
		text += offlineDiffers
	}
	return text
}

// offlineDiffers follows the engines of an offline run whose snapshot was
// recorded from an engine check --offline does not reproduce (see each
// PromQL budget's note, and the JSON report's sources[].note).
const offlineDiffers = "; evaluated offline with Prometheus' engine: live values may differ"
