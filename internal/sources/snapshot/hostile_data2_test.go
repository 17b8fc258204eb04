package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// data2Entries are n entries of each of two streams, one a minute, in the
// hour before evalAt, the oldest first, from minute from on.
func data2Entries(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		at := evalAt.Add(-time.Duration(50-i) * time.Minute)
		out = append(out, logLine(at, apiInfo, fmt.Sprintf("api entry %d", i)), logLine(at, workerDef, fmt.Sprintf("worker entry %d", i)))
	}
	return out
}

// TestHostileLogsTwice: the same entries twice in a snapshot, however
// copied, are refused naming both places; what Loki itself would store
// once (an entry repeated right after itself, captures sharing the time
// where one ends) counts once; streams split in time over files count
// whole.
func TestHostileLogsTwice(t *testing.T) {
	all := strings.Join(data2Entries(0, 10), "")
	lines := data2Entries(0, 10)
	const countQ = `sum by (service) (count_over_time({env="prod"}[1h]))`
	for _, tc := range []struct {
		name  string
		files map[string]string
		// Refused: the file and line, and the text of the message.
		file string
		line int
		want string
		// Else the counts of api and worker entries.
		api, worker float64
	}{
		{
			name:  "tail -n +2 copy in another file",
			files: map[string]string{"logs.jsonl": all, "other.jsonl": strings.Join(lines[1:], "")},
			file:  "other.jsonl", line: 1,
			want: "the entries of a stream overlap in time with the same stream's entries in logs.jsonl:2: a snapshot holds each entry once",
		},
		{
			name:  "copy of the second half, gzipped",
			files: map[string]string{"logs.jsonl": all, "later.jsonl.gz": gzipped(t, strings.Join(lines[10:], ""))},
			// later.jsonl.gz is read first.
			file: "logs.jsonl", line: 1,
			want: "overlap in time with the same stream's entries in later.jsonl.gz:1",
		},
		{
			name:  "appended to itself",
			files: map[string]string{"logs.jsonl": all + all},
			file:  "logs.jsonl", line: 21,
			want: "the same entry as line 1 (stream, time and line) again after later entries of its stream",
		},
		{
			name:  "appended to itself but its first line",
			files: map[string]string{"logs.jsonl": all + strings.Join(lines[1:], "")},
			file:  "logs.jsonl", line: 21,
			want: "the same entry as line 2 (stream, time and line) again",
		},
		{
			name:  "gzipped, appended to itself",
			files: map[string]string{"logs.jsonl.gz": gzipped(t, all+all)},
			file:  "logs.jsonl.gz", line: 21,
			want: "the same entry as line 1 (stream, time and line) again",
		},
		{
			name:  "an entry repeated right after itself counts once",
			files: map[string]string{"logs.jsonl": lines[0] + lines[0] + strings.Join(lines[1:], "")},
			api:   10, worker: 10,
		},
		{
			name:  "successive captures sharing their boundary entry",
			files: map[string]string{"a.jsonl": strings.Join(lines[:12], ""), "b.jsonl": strings.Join(lines[10:], "")},
			api:   10, worker: 10,
		},
		{
			name:  "one stream per file over the same time",
			files: map[string]string{"api.jsonl": data2Stream(lines, 0), "worker.jsonl": data2Stream(lines, 1)},
			api:   10, worker: 10,
		},
		{
			name:  "a stream split in time over files",
			files: map[string]string{"1.jsonl": strings.Join(lines[:6], ""), "2.jsonl": strings.Join(lines[6:14], ""), "3.jsonl": strings.Join(lines[14:], "")},
			api:   10, worker: 10,
		},
		{
			name:  "same time, another line: both count",
			files: map[string]string{"logs.jsonl": all + logLine(evalAt.Add(-50*time.Minute), apiInfo, "api entry 0, again?")},
			api:   11, worker: 10,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeSnapshot(t, tc.files)
			s := mustOpen(t, dir)
			q, err := s.LogQL(context.Background(), evalAt, []string{countQ})
			if tc.want != "" {
				var ce *CorruptError
				if !errors.As(err, &ce) {
					t.Fatalf("got %v, want a *CorruptError", err)
				}
				msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
				if ce.File != filepath.Join(dir, tc.file) || ce.Line != tc.line || !strings.Contains(msg, tc.want) {
					t.Errorf("got %s, want %s:%d: ...%s...", msg, tc.file, tc.line, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			v, err := q.Query(context.Background(), countQ, evalAt)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]float64{}
			for _, smp := range v {
				got[string(smp.Metric["service"])] = float64(smp.Value)
			}
			if want := map[string]float64{"api": tc.api, "worker": tc.worker}; !maps.Equal(got, want) {
				t.Errorf("counts %v, want %v", got, want)
			}
		})
	}
}

// data2Stream is every other line of lines from the first-th: one stream
// of data2Entries.
func data2Stream(lines []string, first int) string {
	var b strings.Builder
	for i := first; i < len(lines); i += 2 {
		b.WriteString(lines[i])
	}
	return b.String()
}
