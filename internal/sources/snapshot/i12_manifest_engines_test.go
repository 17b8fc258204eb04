package snapshot

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestManifestEnginesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{
		EvaluatedAt: time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC),
		Queries:     []string{"up"},
		Engines: []RecordedEngine{
			{Source: "prometheus", Engine: "victoriametrics", OfflineParity: "VictoriaMetrics evaluates MetricsQL: \"rate\" differs"},
			{Source: "loki", Engine: "loki", Version: "3.1.0"},
		},
	}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	want := "engines:\n" +
		"  - source: \"prometheus\"\n    engine: \"victoriametrics\"\n    version: \"\"\n    offline_parity: \"VictoriaMetrics evaluates MetricsQL: \\\"rate\\\" differs\"\n" +
		"  - source: \"loki\"\n    engine: \"loki\"\n    version: \"3.1.0\"\n" +
		"queries:\n"
	if !strings.Contains(string(b), want) {
		t.Errorf("manifest.yaml:\n%s\nwant it to hold:\n%s", b, want)
	}
	got, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Engines, m.Engines) {
		t.Errorf("read back %+v, wrote %+v", got.Engines, m.Engines)
	}
}

func TestManifestEnginesErrors(t *testing.T) {
	for _, tc := range []struct{ engines, want string }{
		{"engines: victoriametrics\n", "manifest.yaml:3: engines: want a list of mappings with source, engine and version"},
		{"engines:\n  - victoriametrics\n", "manifest.yaml:4: engines: each item must be a mapping with source, engine and version"},
		{"engines:\n  - {source: prometheus}\n", "manifest.yaml:4: engines: each item needs source and engine"},
		{"engines:\n  - {source: prometheus, engine: vm, flavour: x}\n", `manifest.yaml:4: engines: unknown key "flavour" (known: source, engine, version, offline_parity)`},
		{"engines:\n  - {source: prometheus, engine: vm, engine: x}\n", `manifest.yaml:4: engines: duplicate key "engine"`},
		{"engines:\n  - {source: prometheus, engine: [vm]}\n", "manifest.yaml:4: engines: engine: want a single value"},
	} {
		_, err := parseManifest(ManifestFile, []byte("version: 1\nevaluated_at: 2026-11-26T12:00:07Z\n"+tc.engines))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.engines, err, tc.want)
		}
	}
}

// A hand-edited manifest's engine texts reach every report: each is one
// line of printable text, and a version is not a page long.
func TestManifestEnginesTextsOneLine(t *testing.T) {
	dir := t.TempDir()
	manifest := "version: 1\nevaluated_at: 2026-11-26T12:00:07Z\nengines:\n" +
		"  - source: prometheus\n    engine: \"prometheus\\n::error::injected\"\n" +
		"    version: \"2.42.0\\n\\u001b[31mred\\u0007 " + strings.Repeat("9", 5000) + "\"\n" +
		"    offline_parity: \"line one\\nline two\\r\\n\"\n"
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := m.Engines[0]
	if e.Engine != "prometheus ::error::injected" || e.OfflineParity != "line one line two" {
		t.Errorf("engine %q, parity %q: want each one line", e.Engine, e.OfflineParity)
	}
	if !strings.HasPrefix(e.Version, "2.42.0 [31mred 999") || len(e.Version) != maxEngineVersion+len("...") || strings.ContainsFunc(e.Version, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		t.Errorf("version %q (%d bytes): want one line of at most %d bytes and the cut marked", e.Version, len(e.Version), maxEngineVersion)
	}
}
