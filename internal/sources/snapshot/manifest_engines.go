package snapshot

import (
	"bytes"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/sources"
)

// RecordedEngine is one item of the manifest's engines: which engine
// answered a source while the snapshot was recorded. In manifest.yaml:
//
//	engines:
//	  - source: prometheus
//	    engine: victoriametrics
//	    version: ""
//	    offline_parity: "VictoriaMetrics evaluates MetricsQL, ..."
type RecordedEngine struct {
	// Source is "prometheus" or "loki".
	Source string
	// Engine is one of the sources.Engine* names.
	Engine string
	// Version is what the engine reported; "" when it reported none.
	Version string
	// OfflineParity says why check --offline may not reproduce the live
	// values; "" when it does.
	OfflineParity string
}

var engineKeys = []string{"source", "engine", "version", "offline_parity"}

// The longest version and parity note a manifest gives the reports.
const (
	maxEngineVersion = sources.MaxVersionBytes
	maxParityNote    = 1000
)

// parseEngines reads `engines:`.
func parseEngines(file string, v *yaml.Node) ([]RecordedEngine, error) {
	corrupt := func(line int, format string, args ...any) error {
		return &CorruptError{File: file, Line: line, Msg: "engines: " + fmt.Sprintf(format, args...)}
	}
	if v.Kind != yaml.SequenceNode {
		return nil, corrupt(v.Line, "want a list of mappings with source, engine and version")
	}
	out := make([]RecordedEngine, 0, len(v.Content))
	for _, item := range v.Content {
		if item.Kind != yaml.MappingNode {
			return nil, corrupt(item.Line, "each item must be a mapping with source, engine and version")
		}
		var e RecordedEngine
		seen := map[string]bool{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, val := item.Content[i], item.Content[i+1]
			if k.Kind != yaml.ScalarNode || !slices.Contains(engineKeys, k.Value) {
				return nil, corrupt(k.Line, "unknown key %q (known: source, engine, version, offline_parity)", k.Value)
			}
			if seen[k.Value] {
				return nil, corrupt(k.Line, "duplicate key %q", k.Value)
			}
			seen[k.Value] = true
			if val.Kind != yaml.ScalarNode {
				return nil, corrupt(val.Line, "%s: want a single value", k.Value)
			}
			// Reports print these: one line of printable text each,
			// and not a page of it (a hand-edited manifest is input
			// like any other).
			text := sources.OneLine(val.Value)
			switch k.Value {
			case "source":
				e.Source = text
			case "engine":
				e.Engine = text
			case "version":
				e.Version = sources.Truncate(text, maxEngineVersion)
			case "offline_parity":
				e.OfflineParity = sources.Truncate(text, maxParityNote)
			}
		}
		if e.Source == "" || e.Engine == "" {
			return nil, corrupt(item.Line, "each item needs source and engine")
		}
		out = append(out, e)
	}
	return out, nil
}

func writeEngines(b *bytes.Buffer, engines []RecordedEngine) {
	if len(engines) == 0 {
		return
	}
	b.WriteString("engines:\n")
	for _, e := range engines {
		fmt.Fprintf(b, "  - source: %s\n    engine: %s\n    version: %s\n", jsonString(e.Source), jsonString(e.Engine), jsonString(e.Version))
		if e.OfflineParity != "" {
			fmt.Fprintf(b, "    offline_parity: %s\n", jsonString(e.OfflineParity))
		}
	}
}
