package snapshot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOpenReadsManifest(t *testing.T) {
	dir := writeSnapshot(t, map[string]string{
		ManifestFile: `# written by secflow-budget snapshot
version: 1
evaluated_at: 2026-11-26T12:00:00+01:00
captured_from: prometheus=http://prom:9090 loki=http://loki:3100
captured_at: "2026-11-26T11:05:00.5Z"
config_sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08
tool_version: v0.3.0
`,
		"metrics.om": "# EOF\n",
	})
	s := mustOpen(t, dir)
	if !s.EvaluatedAt().Equal(time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("EvaluatedAt = %v", s.EvaluatedAt())
	}
	if s.Dir() != dir || !s.HasMetrics() {
		t.Errorf("Dir = %q, HasMetrics = %v", s.Dir(), s.HasMetrics())
	}
	m := s.Manifest()
	want := Manifest{
		Version:      1,
		EvaluatedAt:  s.EvaluatedAt(),
		CapturedFrom: "prometheus=http://prom:9090 loki=http://loki:3100",
		CapturedAt:   time.Date(2026, 11, 26, 11, 5, 0, 5e8, time.UTC),
		ConfigSHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		ToolVersion:  "v0.3.0",
	}
	if !m.CapturedAt.Equal(want.CapturedAt) || m.CapturedFrom != want.CapturedFrom || m.ConfigSHA256 != want.ConfigSHA256 || m.ToolVersion != want.ToolVersion || m.Version != 1 {
		t.Errorf("Manifest = %+v, want %+v", m, want)
	}
}

func TestManifestErrors(t *testing.T) {
	tests := []struct {
		name     string
		manifest *string // nil: no manifest.yaml
		line     int
		msg      string
	}{
		{name: "missing manifest", manifest: nil, line: 0, msg: "missing"},
		{name: "empty", manifest: ptr(""), line: 0, msg: "empty"},
		{name: "missing evaluated_at", manifest: ptr("version: 1\n"), line: 0, msg: "missing evaluated_at"},
		{name: "missing version", manifest: ptr("evaluated_at: 2026-11-26T12:00:00Z\n"), line: 0, msg: "missing version"},
		{name: "version 2", manifest: ptr("version: 2\nevaluated_at: 2026-11-26T12:00:00Z\n"), line: 1, msg: "version 2 is not supported"},
		{name: "version string", manifest: ptr("version: \"1\"\nevaluated_at: 2026-11-26T12:00:00Z\n"), line: 1, msg: "want the number 1"},
		{name: "unknown key", manifest: ptr("version: 1\nevaluated_at: 2026-11-26T12:00:00Z\nevaluted_at: x\n"), line: 3, msg: `unknown key "evaluted_at"`},
		{name: "bad time", manifest: ptr("version: 1\nevaluated_at: 2026-11-26 12:00\n"), line: 2, msg: "RFC3339"},
		{name: "time without zone", manifest: ptr("version: 1\nevaluated_at: 2026-11-26T12:00:00\n"), line: 2, msg: "RFC3339"},
		{name: "duplicate key", manifest: ptr("version: 1\nevaluated_at: 2026-11-26T12:00:00Z\nversion: 1\n"), line: 3, msg: "duplicate key"},
		{name: "not a mapping", manifest: ptr("- version: 1\n"), line: 1, msg: "mapping"},
		{name: "nested value", manifest: ptr("version: 1\nevaluated_at:\n  at: x\n"), line: 3, msg: "single value"},
		{name: "yaml syntax", manifest: ptr("version: 1\nevaluated_at: [\n"), line: 2, msg: ""},
		{name: "bad sha", manifest: ptr("version: 1\nevaluated_at: 2026-11-26T12:00:00Z\nconfig_sha256: abc\n"), line: 3, msg: "64 hex digits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.manifest != nil {
				if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(*tt.manifest), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Open(dir)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v (%T), want *CorruptError", err, err)
			}
			file := filepath.Join(dir, ManifestFile)
			if ce.File != file || ce.Line != tt.line || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("got %q (line %d), want %s line %d ...%s...", err, ce.Line, file, tt.line, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), file+":") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

func ptr(s string) *string { return &s }

func TestOpenNotADirectory(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing dir: %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := Open(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file: %v", err)
	}
}

func TestWriteManifestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{
		EvaluatedAt:  time.Date(2026, 11, 26, 12, 0, 0, 123e6, time.FixedZone("CET", 3600)),
		CapturedFrom: "prometheus=http://xxxxx@prom:9090: \"quoted\"\nsecond line",
		CapturedAt:   time.Date(2026, 11, 26, 11, 0, 0, 0, time.UTC),
		ConfigSHA256: strings.Repeat("ab", 32),
		ToolVersion:  "v1.2.3",
	}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	got, err := readManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || !got.EvaluatedAt.Equal(m.EvaluatedAt) || !got.CapturedAt.Equal(m.CapturedAt) ||
		got.CapturedFrom != m.CapturedFrom || got.ConfigSHA256 != m.ConfigSHA256 || got.ToolVersion != m.ToolVersion {
		t.Errorf("read back %+v, wrote %+v", got, m)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the manifest", len(entries))
	}

	if err := WriteManifest(dir, Manifest{}); err == nil {
		t.Error("manifest without evaluated_at written")
	}
}
