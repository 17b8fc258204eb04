package snapshot

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/config"
)

// ManifestFile is the name of the manifest inside a snapshot directory.
const ManifestFile = "manifest.yaml"

// ManifestVersion is the only manifest version this package reads.
const ManifestVersion = 1

// Manifest is a snapshot's manifest.yaml.
type Manifest struct {
	// Version of the snapshot format; always ManifestVersion.
	Version int
	// EvaluatedAt is the time `check --offline` evaluates budgets at,
	// unless --at says otherwise.
	EvaluatedAt time.Time
	// CapturedFrom says where the data came from, free text; the snapshot
	// command writes the sources' redacted URLs. Optional.
	CapturedFrom string
	// CapturedAt is when the snapshot was taken. Optional (zero).
	CapturedAt time.Time
	// ConfigSHA256 is the hex SHA-256 of the budgets.yaml the snapshot was
	// captured for. Optional.
	ConfigSHA256 string
	// ToolVersion is the secflow-budget version that wrote the snapshot.
	// Optional.
	ToolVersion string
	// Description says what the snapshot shows, for people. Optional.
	Description string
	// Queries are the PromQL and LogQL queries the snapshot was recorded
	// for (the snapshot command lists every query of the budgets it
	// recorded). When set, a query not among them is refused as data the
	// snapshot does not hold (see Covering). Optional: a snapshot without
	// the list is trusted to cover every query.
	Queries []string
	// Warnings are what the live sources said beside their answers while
	// the snapshot was recorded: the recorded data may be partial.
	// Offline, every answer from the data they concern carries them (see
	// CoveringPromQL). Optional.
	Warnings []RecordedWarning
	// Engines say which engine answered each source while recording
	// (see RecordedEngine). Optional.
	Engines []RecordedEngine
}

// RecordedWarning is one of the manifest's warnings. In manifest.yaml it
// is the text alone, when it concerns all the data of its source, or a
// mapping `{warning: TEXT, queries: [...]}`.
type RecordedWarning struct {
	// Text is "SOURCE: TEXT", masked, e.g. "prometheus: remote store
	// unavailable".
	Text string
	// Queries are the recorded queries whose data came with the warning;
	// none: all the data of the source Text names.
	Queries []string
}

// manifestKeys are the keys manifest.yaml may hold, in the order
// WriteManifest writes them.
var manifestKeys = []string{"version", "evaluated_at", "captured_from", "captured_at", "config_sha256", "tool_version", "description", "engines", "queries", "warnings"}

// readManifest reads and validates dir/manifest.yaml. Unknown keys are
// errors: a typo in evaluated_at must not silently become "now".
func readManifest(dir string) (Manifest, error) {
	file := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Manifest{}, &CorruptError{File: file, Msg: "missing: a snapshot directory needs a manifest.yaml with version: 1 and evaluated_at"}
		}
		return Manifest{}, fmt.Errorf("reading snapshot manifest: %w", err)
	}
	return parseManifest(file, data)
}

func parseManifest(file string, data []byte) (Manifest, error) {
	corrupt := func(line int, format string, args ...any) error { return corruptf(file, line, format, args...) }
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 says where a syntax error is, but not where the bytes
		// it cannot read are (invalid UTF-8, control characters).
		if ce := config.CheckYAML(file, data); ce != nil && ce.Line > 0 {
			return Manifest{}, &CorruptError{File: file, Line: ce.Line, Col: ce.Col, Msg: ce.Msg}
		}
		line, msg := yamlErrorLine(err)
		return Manifest{}, corrupt(line, "%s", msg)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return Manifest{}, corrupt(0, "empty: want version: 1 and evaluated_at")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return Manifest{}, corrupt(root.Line, "want a mapping with version: 1 and evaluated_at")
	}

	var m Manifest
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return Manifest{}, corrupt(k.Line, "keys must be plain strings")
		}
		if prev, dup := seen[k.Value]; dup {
			return Manifest{}, corrupt(k.Line, "duplicate key %q (first on line %d)", k.Value, prev)
		}
		seen[k.Value] = k.Line
		if !slices.Contains(manifestKeys, k.Value) {
			return Manifest{}, corrupt(k.Line, "unknown key %q (known: %s)", k.Value, strings.Join(manifestKeys, ", "))
		}
		var err error
		if k.Value == "queries" {
			if m.Queries, err = parseList(file, v, "queries", "query texts", "a query text"); err != nil {
				return Manifest{}, err
			}
			continue
		}
		if k.Value == "engines" {
			if m.Engines, err = parseEngines(file, v); err != nil {
				return Manifest{}, err
			}
			continue
		}
		if k.Value == "warnings" {
			if m.Warnings, err = parseWarnings(file, v); err != nil {
				return Manifest{}, err
			}
			continue
		}
		if v.Kind != yaml.ScalarNode {
			return Manifest{}, corrupt(v.Line, "%s: want a single value", k.Value)
		}
		switch k.Value {
		case "version":
			m.Version, err = strconv.Atoi(v.Value)
			if err != nil || v.Tag != "!!int" {
				return Manifest{}, corrupt(v.Line, "version: want the number %d", ManifestVersion)
			}
			if m.Version != ManifestVersion {
				return Manifest{}, corrupt(v.Line, "version %d is not supported: this secflow-budget reads version %d", m.Version, ManifestVersion)
			}
		case "evaluated_at":
			if m.EvaluatedAt, err = parseTime(v.Value); err != nil {
				return Manifest{}, corrupt(v.Line, "evaluated_at: %v", err)
			}
		case "captured_at":
			if m.CapturedAt, err = parseTime(v.Value); err != nil {
				return Manifest{}, corrupt(v.Line, "captured_at: %v", err)
			}
		case "captured_from":
			m.CapturedFrom = v.Value
		case "config_sha256":
			if b, err := hex.DecodeString(v.Value); err != nil || len(b) != 32 {
				return Manifest{}, corrupt(v.Line, "config_sha256: want 64 hex digits")
			}
			m.ConfigSHA256 = strings.ToLower(v.Value)
		case "tool_version":
			m.ToolVersion = v.Value
		case "description":
			m.Description = v.Value
		}
	}
	if _, ok := seen["version"]; !ok {
		return Manifest{}, corrupt(0, "missing version: want version: %d", ManifestVersion)
	}
	if _, ok := seen["evaluated_at"]; !ok {
		return Manifest{}, corrupt(0, "missing evaluated_at: the RFC3339 time budgets are evaluated at, e.g. evaluated_at: 2026-11-26T12:00:00Z")
	}
	return m, nil
}

// parseList reads `queries:` or `warnings:`, a list of texts.
func parseList(file string, v *yaml.Node, key, many, one string) ([]string, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, &CorruptError{File: file, Line: v.Line, Msg: fmt.Sprintf("%s: want a list of %s", key, many)}
	}
	qs := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		if item.Kind != yaml.ScalarNode || item.Value == "" {
			return nil, &CorruptError{File: file, Line: item.Line, Msg: fmt.Sprintf("%s: each item must be %s", key, one)}
		}
		qs = append(qs, item.Value)
	}
	return qs, nil
}

// parseWarnings reads `warnings:`, a list of warning texts or of
// `{warning: TEXT, queries: [...]}`.
func parseWarnings(file string, v *yaml.Node) ([]RecordedWarning, error) {
	corrupt := func(line int, msg string) error {
		return &CorruptError{File: file, Line: line, Msg: "warnings: " + msg}
	}
	const want = "each item must be a warning text or a mapping with warning and queries"
	if v.Kind != yaml.SequenceNode {
		return nil, corrupt(v.Line, "want a list of warning texts")
	}
	out := make([]RecordedWarning, 0, len(v.Content))
	for _, item := range v.Content {
		switch item.Kind {
		case yaml.ScalarNode:
			if item.Value == "" {
				return nil, corrupt(item.Line, want)
			}
			out = append(out, RecordedWarning{Text: item.Value})
			continue
		case yaml.MappingNode:
		default:
			return nil, corrupt(item.Line, want)
		}
		var w RecordedWarning
		seen := map[string]bool{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, val := item.Content[i], item.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Value != "warning" && k.Value != "queries" {
				return nil, corrupt(k.Line, fmt.Sprintf("unknown key %q (known: warning, queries)", k.Value))
			}
			if seen[k.Value] {
				return nil, corrupt(k.Line, fmt.Sprintf("duplicate key %q", k.Value))
			}
			seen[k.Value] = true
			if k.Value == "queries" {
				qs, err := parseList(file, val, "warnings: queries", "query texts", "a query text")
				if err != nil {
					return nil, err
				}
				w.Queries = qs
				continue
			}
			if val.Kind != yaml.ScalarNode || val.Value == "" {
				return nil, corrupt(val.Line, "warning: want the warning's text")
			}
			w.Text = val.Value
		}
		if w.Text == "" {
			return nil, corrupt(item.Line, "missing warning: the warning's text")
		}
		out = append(out, w)
	}
	return out, nil
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("want an RFC3339 time like 2026-11-26T12:00:00Z")
	}
	return t, nil
}

// yamlErrorLine pulls the line out of a yaml.v3 syntax error ("yaml: line
// 3: mapping values are not allowed in this context").
func yamlErrorLine(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				return line, tail
			}
		}
	}
	return 0, msg
}

// WriteManifest writes m as dir/manifest.yaml, atomically: a crash leaves
// the old manifest or none, never half of one. Zero optional fields are
// left out. EvaluatedAt and CapturedAt are written in UTC.
func WriteManifest(dir string, m Manifest) error {
	if m.Version == 0 {
		m.Version = ManifestVersion
	}
	if m.EvaluatedAt.IsZero() {
		return errors.New("writing snapshot manifest: evaluated_at is required")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "version: %d\n", m.Version)
	fmt.Fprintf(&b, "evaluated_at: %s\n", m.EvaluatedAt.UTC().Format(time.RFC3339Nano))
	if m.CapturedFrom != "" {
		fmt.Fprintf(&b, "captured_from: %s\n", yamlString(m.CapturedFrom))
	}
	if !m.CapturedAt.IsZero() {
		fmt.Fprintf(&b, "captured_at: %s\n", m.CapturedAt.UTC().Format(time.RFC3339Nano))
	}
	if m.ConfigSHA256 != "" {
		fmt.Fprintf(&b, "config_sha256: %s\n", m.ConfigSHA256)
	}
	if m.ToolVersion != "" {
		fmt.Fprintf(&b, "tool_version: %s\n", yamlString(m.ToolVersion))
	}
	if m.Description != "" {
		fmt.Fprintf(&b, "description: %s\n", yamlString(m.Description))
	}
	writeEngines(&b, m.Engines)
	if len(m.Queries) > 0 {
		b.WriteString("queries:\n")
		for _, q := range m.Queries {
			fmt.Fprintf(&b, "  - %s\n", jsonString(q))
		}
	}
	if len(m.Warnings) > 0 {
		b.WriteString("warnings:\n")
		for _, w := range m.Warnings {
			if len(w.Queries) == 0 {
				fmt.Fprintf(&b, "  - %s\n", jsonString(w.Text))
				continue
			}
			fmt.Fprintf(&b, "  - warning: %s\n    queries:\n", jsonString(w.Text))
			for _, q := range w.Queries {
				fmt.Fprintf(&b, "      - %s\n", jsonString(q))
			}
		}
	}
	// Validate what we are about to write with the reader's own rules.
	if _, err := parseManifest(ManifestFile, b.Bytes()); err != nil {
		return fmt.Errorf("writing snapshot manifest: %w", err)
	}

	if err := writeFileAtomic(filepath.Join(dir, ManifestFile), b.Bytes()); err != nil {
		return fmt.Errorf("writing snapshot manifest: %w", err)
	}
	return nil
}

// jsonString renders s as a JSON string, which is a YAML double-quoted
// scalar: one line whatever s holds.
func jsonString(s string) string {
	var j bytes.Buffer
	enc := json.NewEncoder(&j)
	enc.SetEscapeHTML(false) // keep "a > b" as written
	if err := enc.Encode(s); err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(j.String(), "\n")
}

// yamlString renders s as a YAML scalar that reads back as s.
func yamlString(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(string(out), "\n")
}
