package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// logsAt are three log entries in the hour before evalAt.
func logsAt(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(logLine(evalAt.Add(-time.Duration(i+1)*time.Minute), apiInfo, fmt.Sprintf(`{"level":"INFO","msg":"entry %d"}`, i)))
	}
	return b.String()
}

// validFiles is valid content for every file kind a snapshot reads.
func validFiles(t *testing.T) map[string]string {
	return map[string]string{
		ManifestFile:       testManifest,
		"metrics.om":       fixture(),
		"logs.jsonl":       logsAt(3),
		"logs.jsonl.gz":    gzipped(t, logsAt(4)),
		RulesFile:          `{"status":"success","data":{"groups":[]}}`,
		AlertsFile:         `{"status":"success","data":{"alerts":[]}}`,
		TargetsFile:        `{"status":"success","data":{"activeTargets":[],"droppedTargets":[]}}`,
		RuntimeFile:        `{"loki":{"retention_period":"0s"}}`,
		LogAggregatesFile:  `{}`,
		"endpoints/m.prom": "# TYPE x_total counter\nx_total 1\n",
		"endpoints/m.json": `{"anonymous_status": 401}`,
	}
}

// TestHostileSnapshotSymlinks: every kind of snapshot file may be a
// symlink to a file inside the snapshot, and none to one outside it.
func TestHostileSnapshotSymlinks(t *testing.T) {
	for name, content := range validFiles(t) {
		if name == "logs.jsonl.gz" {
			continue // beside logs.jsonl it is refused (TestHostileSameLogs)
		}
		t.Run(name, func(t *testing.T) {
			outside := filepath.Join(t.TempDir(), "target")
			if err := os.WriteFile(outside, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			dir := writeSnapshot(t, map[string]string{})
			if err := os.MkdirAll(filepath.Join(dir, "endpoints"), 0o755); err != nil {
				t.Fatal(err)
			}
			link := filepath.Join(dir, name)
			os.Remove(link)
			if err := os.Symlink(outside, link); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir)
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.File != link || !strings.Contains(ce.Msg, "outside the snapshot directory") {
				t.Fatalf("symlink to outside: %v, want a *CorruptError naming %s", err, link)
			}
			// Relative links that climb out are outside too.
			os.Remove(link)
			rel, _ := filepath.Rel(filepath.Dir(link), outside)
			if err := os.Symlink(rel, link); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(dir); !errors.As(err, &ce) || ce.File != link {
				t.Fatalf("relative symlink to outside: %v", err)
			}
			// Inside the snapshot, a link is read like the file.
			inside := filepath.Join(dir, "store", "target")
			if err := os.MkdirAll(filepath.Dir(inside), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(inside, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Remove(link)
			target := filepath.Join("store", "target")
			if strings.Contains(name, "/") {
				target = filepath.Join("..", target)
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			s, err := Open(dir)
			if err != nil {
				t.Fatalf("symlink inside: %v", err)
			}
			defer s.Close()
			switch name {
			case "metrics.om":
				if got := query(t, mustPromQL(t, s), `count(secflow_requests_total)`, evalAt); len(got) != 1 {
					t.Errorf("metrics through a symlink: %v", got)
				}
			case "logs.jsonl":
				q, err := s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
				if err != nil {
					t.Fatal(err)
				}
				v, err := q.Query(context.Background(), `sum(count_over_time({service="api"}[1h]))`, evalAt)
				if err != nil || len(v) != 1 || v[0].Value != 3 {
					t.Errorf("logs through a symlink: %v %v, want 3", v, err)
				}
			}
		})
	}
}

// TestHostileSnapshotDirectories: a directory (or anything but a regular
// file) where a snapshot file belongs is refused, naming it.
func TestHostileSnapshotDirectories(t *testing.T) {
	for _, name := range []string{ManifestFile, "metrics.om", "x.jsonl", "x.jsonl.gz", RulesFile, AlertsFile, TargetsFile, RuntimeFile, LogAggregatesFile, "endpoints/m.prom", "endpoints/m.json"} {
		t.Run(name, func(t *testing.T) {
			dir := writeSnapshot(t, map[string]string{})
			if name == ManifestFile {
				os.Remove(filepath.Join(dir, name))
			}
			if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir)
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.File != filepath.Join(dir, name) || !strings.Contains(ce.Msg, "a directory where a file belongs") {
				t.Errorf("got %v, want a *CorruptError naming %s", err, name)
			}
		})
	}
	dir := writeSnapshot(t, map[string]string{"endpoints": "a file"})
	if _, err := Open(dir); err == nil || !strings.Contains(err.Error(), "endpoints: not a directory") {
		t.Errorf("endpoints as a file: %v", err)
	}
}

// TestHostileSameLogs: the same logs twice would count twice; refused,
// naming both files.
func TestHostileSameLogs(t *testing.T) {
	dir := writeSnapshot(t, map[string]string{"logs.jsonl": logsAt(3), "logs.jsonl.gz": gzipped(t, logsAt(3))})
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "logs.jsonl.gz")+": the same logs as "+filepath.Join(dir, "logs.jsonl")) {
		t.Errorf("logs.jsonl and logs.jsonl.gz: %v", err)
	}

	for name, files := range map[string]map[string]string{
		"a copy":              {"a.jsonl": logsAt(3), "b.jsonl": logsAt(3)},
		"a gzipped copy":      {"a.jsonl": logsAt(3), "b.jsonl.gz": gzipped(t, logsAt(3))},
		"a longer re-capture": {"a.jsonl": logsAt(3), "b.jsonl": logsAt(3) + logLine(evalAt, apiInfo, "later")},
		"after blank lines":   {"a.jsonl": logsAt(3), "b.jsonl": "\n\n" + logsAt(3)},
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeSnapshot(t, files)
			s := mustOpen(t, dir)
			_, err := s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
			var ce *CorruptError
			if !errors.As(err, &ce) || filepath.Base(ce.File)[:1] != "b" || !strings.Contains(ce.Msg, "begins with the same entry as "+filepath.Join(dir, "a.jsonl")+":1") {
				t.Errorf("got %v, want b's first entry refused as a's", err)
			}
		})
	}
	// Files that split the logs are read together.
	s := mustOpen(t, writeSnapshot(t, map[string]string{"a.jsonl": logsAt(3), "b.jsonl.gz": gzipped(t, logLine(evalAt, apiInfo, "other"))}))
	q, err := s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := q.Query(context.Background(), `sum(count_over_time({service="api"}[1h]))`, evalAt); err != nil || len(v) != 1 || v[0].Value != 4 {
		t.Errorf("split logs: %v %v, want 4", v, err)
	}
}

// TestHostileCorruptGzip: a .gz whose data is damaged anywhere says
// "corrupt gzip", not what its garbage looks like.
func TestHostileCorruptGzip(t *testing.T) {
	var plain strings.Builder
	for i := range 400 {
		plain.WriteString(logLine(evalAt.Add(-time.Duration(400-i)*time.Second), apiInfo, fmt.Sprintf(`{"level":"INFO","msg":"entry %d","labels":"x"}`, i)))
	}
	gz := []byte(gzipped(t, plain.String()))
	for _, at := range []int{12, len(gz) / 4, len(gz) / 2, len(gz) - 20, len(gz) - 6, len(gz) - 2} {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := append([]byte(nil), gz...)
			bad[at] ^= flip
			dir := writeSnapshot(t, map[string]string{"logs.jsonl.gz": string(bad)})
			s := mustOpen(t, dir)
			_, err := s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
			var ce *CorruptError
			if !errors.As(err, &ce) || !strings.HasPrefix(ce.Msg, "corrupt gzip") || ce.File != filepath.Join(dir, "logs.jsonl.gz") {
				t.Errorf("byte %d ^ %#x: %v, want logs.jsonl.gz: corrupt gzip", at, flip, err)
			}
		}
	}
	for name, data := range map[string]string{"truncated": string(gz[:len(gz)/2]), "not gzip": "plain text\n", "empty": ""} {
		dir := writeSnapshot(t, map[string]string{"logs.jsonl.gz": data})
		_, err := mustOpen(t, dir).LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
		if err == nil || !strings.Contains(err.Error(), "logs.jsonl.gz: corrupt gzip") {
			t.Errorf("%s: %v, want corrupt gzip", name, err)
		}
	}
}

// TestHostileEndpointFiles: endpoint files that are not what their names
// promise are refused up front, naming the file and line, quoting none.
func TestHostileEndpointFiles(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		file  string
		line  int
		msg   string
	}{
		{"body does not parse", map[string]string{"m.prom": "# TYPE a gauge\na 1\na{token=\"s3cr3t\" 2\n"}, "m.prom", 3, "not a metrics exposition"},
		{"openmetrics body without EOF", map[string]string{"m.prom": "a 1\n", "m.json": `{"content_type":"application/openmetrics-text; version=1.0.0"}`}, "m.prom", 2, "not a metrics exposition"},
		{"sidecar does not parse", map[string]string{"m.prom": "a 1\n", "m.json": `{"anonymous_status": "s3cr3t"}`}, "m.json", 1, "anonymous_status"},
		{"lone sidecar broken", map[string]string{"z.json": `{`}, "z.json", 0, "unexpected EOF"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := endpointSnapshot(t, c.files)
			err := s.CheckEndpoints()
			var ce *CorruptError
			if !errors.As(err, &ce) || filepath.Base(ce.File) != c.file || ce.Line != c.line || !strings.Contains(ce.Msg, c.msg) {
				t.Errorf("got %v, want %s:%d: ...%s...", err, c.file, c.line, c.msg)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error %q quotes the file", err)
			}
		})
	}
	// What the budget judges as live would is left to it.
	s := endpointSnapshot(t, map[string]string{
		"ok.prom":   "# TYPE a gauge\na 1\n",
		"cut.prom":  "# TYPE a gauge\na 1\na{",
		"cut.json":  `{"size": 99999}`,
		"html.prom": "<html>Sign in</html>",
		"html.json": `{"content_type":"text/html"}`,
	})
	if err := s.CheckEndpoints(); err != nil {
		t.Errorf("valid endpoint files: %v", err)
	}
}

// TestHostileStateFilesQuoteNothing: JSON state files that do not parse
// are named with their line, and nothing of them is quoted.
func TestHostileStateFilesQuoteNothing(t *testing.T) {
	for name, content := range map[string]string{
		RulesFile:         "{\n\"status\": S3CR3T}",
		AlertsFile:        `{"status":"error","errorType":"bad_data","error":"S3CR3T"}`,
		TargetsFile:       `{"status":"S3CR3T","data":{}}`,
		RuntimeFile:       `{"loki": {"retention_period": "S3CR3T"}}`,
		LogAggregatesFile: "{\n S3CR3T",
		ManifestFile:      "version: 1\nevaluated_at: S3CR3T\n",
	} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(writeSnapshot(t, map[string]string{name: content}))
			if err == nil {
				if _, err = s.State(); err == nil {
					_, err = s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({a="b"}[1h]))`})
				}
				s.Close()
			}
			var ce *CorruptError
			if !errors.As(err, &ce) || filepath.Base(ce.File) != name {
				t.Fatalf("got %v, want a *CorruptError naming %s", err, name)
			}
			if strings.Contains(err.Error(), "S3CR3T") || strings.Contains(err.Error(), "'S'") {
				t.Errorf("error %q quotes the file", err)
			}
		})
	}
}
