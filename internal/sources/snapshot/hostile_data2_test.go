package snapshot

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// data2CorruptLogs reads logs with one query and returns the
// *CorruptError it must fail with.
func data2CorruptLogs(t *testing.T, files map[string]string) (*Snapshot, *CorruptError) {
	t.Helper()
	s, err := Open(writeSnapshot(t, files))
	if err != nil {
		var ce *CorruptError
		if errors.As(err, &ce) {
			return nil, ce
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	_, err = s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v (%T), want a *CorruptError", err, err)
	}
	return s, ce
}

// TestHostileLogTimestampUnits: a numeric ts in seconds, milliseconds or
// microseconds is refused, saying which unit it looks like, not read as
// nanoseconds in 1970 (where no window would count it).
func TestHostileLogTimestampUnits(t *testing.T) {
	lbl := `"labels":{"service":"api"},"line":"x"}`
	for _, tc := range []struct {
		name, ts, want string
	}{
		{"seconds string", `"1795694300"`, "10 digits looks like unix seconds"},
		{"seconds number", `1795694300`, "10 digits looks like unix seconds"},
		{"milliseconds", `"1795694300000"`, "13 digits looks like unix milliseconds"},
		{"microseconds", `"1795694300000000"`, "16 digits looks like unix microseconds"},
		{"zero", `"0"`, "looks like unix seconds"},
		{"negative", `"-1795694300000000000"`, "ts: negative: a time before 1970"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := logsAt(2) + `{"ts":` + tc.ts + `,` + lbl + "\n"
			for _, file := range []string{"logs.jsonl", "logs.jsonl.gz"} {
				if strings.HasSuffix(file, ".gz") {
					content = gzipped(t, content)
				}
				s, ce := data2CorruptLogs(t, map[string]string{file: content})
				if ce.File != filepath.Join(s.Dir(), file) || ce.Line != 3 || !strings.Contains(ce.Msg, tc.want) || !strings.Contains(ce.Msg, "write unix nanoseconds") {
					t.Errorf("%s: got %v, want %s:3: ...%s...", file, ce, file, tc.want)
				}
			}
		})
	}
	// 1e17 ns (1973) and later are taken.
	s := mustOpen(t, writeSnapshot(t, map[string]string{"logs.jsonl": `{"ts":"100000000000000000",` + lbl + "\n" + logsAt(2)}))
	if _, err := s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`}); err != nil {
		t.Errorf("1973: %v", err)
	}
}

// TestHostileGzipTrailingData: bytes after the gzip stream are called
// that, not "truncated"; two gzip streams one after the other are read.
func TestHostileGzipTrailingData(t *testing.T) {
	for _, tc := range []struct {
		name, content, want string
	}{
		{"short garbage", gzipped(t, logsAt(3)) + "junk", "corrupt gzip: trailing data after the end of the gzip stream"},
		{"long garbage", gzipped(t, logsAt(3)) + strings.Repeat("garbage!", 10), "corrupt gzip: trailing data after the end of the gzip stream"},
		{"zero padding", gzipped(t, logsAt(3)) + strings.Repeat("\x00", 512), "corrupt gzip: trailing data after the end of the gzip stream"},
		{"truncated", gzipped(t, logsAt(3))[:40], "corrupt gzip: truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, ce := data2CorruptLogs(t, map[string]string{"logs.jsonl.gz": tc.content})
			if ce.File != filepath.Join(s.Dir(), "logs.jsonl.gz") || ce.Msg[:min(len(ce.Msg), len(tc.want))] != tc.want {
				t.Errorf("got %v, want logs.jsonl.gz: %s...", ce, tc.want)
			}
		})
	}
	// cat a.gz b.gz is valid gzip: both streams count.
	s := mustOpen(t, writeSnapshot(t, map[string]string{"logs.jsonl.gz": gzipped(t, logsAt(3)) + gzipped(t, logLine(evalAt.Add(-30*1e9), apiInfo, "later"))}))
	q, err := s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
	if err != nil {
		t.Fatal(err)
	}
	v, err := q.Query(context.Background(), `sum(count_over_time({service="api"}[1h]))`, evalAt)
	if err != nil || len(v) != 1 || v[0].Value != 4 {
		t.Errorf("two gzip streams: %v %v, want 4 entries", v, err)
	}
}

// TestHostileOMTimestampOutOfRange: a timestamp the parser cannot hold is
// refused as out of range at its line, not as a duplicate of "line 0".
func TestHostileOMTimestampOutOfRange(t *testing.T) {
	for _, ts := range []string{"1e300", "-1e300", "-40000000000"} {
		t.Run(ts, func(t *testing.T) {
			s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": "# TYPE m gauge\nm 1 " + ts + "\n# EOF\n"}))
			_, err := s.PromQL(context.Background())
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *CorruptError", err)
			}
			if ce.File != filepath.Join(s.Dir(), "metrics.om") || ce.Line != 2 || !strings.HasPrefix(ce.Msg, "timestamp out of range") || strings.Contains(ce.Msg, "duplicate") {
				t.Errorf("got %v, want metrics.om:2: timestamp out of range...", err)
			}
		})
	}
}

// TestHostileManifestNotUTF8: bytes that are not UTF-8 in manifest.yaml
// are reported at their line and column.
func TestHostileManifestNotUTF8(t *testing.T) {
	dir := writeSnapshot(t, map[string]string{ManifestFile: "version: 1\nevaluated_at: 2026-11-26T12:00:00Z\nnote: caf\xe9\n"})
	_, err := Open(dir)
	var ce *CorruptError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *CorruptError", err)
	}
	want := filepath.Join(dir, ManifestFile) + ":3:10: invalid UTF-8 (byte 0xE9)"
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("got %q, want %q...", err, want)
	}
	if bytes.Contains([]byte(err.Error()), []byte("caf")) {
		t.Errorf("the message repeats the file's text: %q", err)
	}
}

// TestHostileRuntimeStorageRetention: a storageRetention no check can
// read is corrupt snapshot data (exit 2), like a bad Loki
// retention_period, naming the file and line.
func TestHostileRuntimeStorageRetention(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		line       int
		ok         bool
	}{
		{"words", "{\"prometheus\": {\n\"storageRetention\": \"a fortnight\"}}", 2, false},
		{"half bad", "{\"prometheus\": {\"storageRetention\": \"15d or lots\"}}", 1, false},
		{"duration", `{"prometheus": {"storageRetention": "15d"}}`, 0, true},
		{"size and time", `{"prometheus": {"storageRetention": "15d or 512MiB"}}`, 0, true},
		{"empty", `{"prometheus": {"storageRetention": ""}}`, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := stateDir(t, map[string]string{RuntimeFile: tc.body})
			_, err := s.State()
			if tc.ok {
				if err != nil {
					t.Errorf("got %v, want no error", err)
				}
				return
			}
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v (%T), want a *CorruptError", err, err)
			}
			if ce.File != filepath.Join(s.Dir(), RuntimeFile) || ce.Line != tc.line || !strings.HasPrefix(ce.Msg, "prometheus.storageRetention: ") {
				t.Errorf("got %v, want %s:%d: prometheus.storageRetention: ...", err, RuntimeFile, tc.line)
			}
		})
	}
}
