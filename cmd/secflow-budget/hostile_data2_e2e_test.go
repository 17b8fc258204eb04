package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Hostile snapshot data and report flags through the built binary (the
// second round): the same logs twice however copied, timestamps in the
// wrong unit or out of range, bytes that are not UTF-8 in the manifest,
// gzip with trailing data, a retention no check can read; two reports to
// one file, --at before 2000. Each is exit 2 with one line naming the
// place.

// data2Healthy copies testdata/snapshots/healthy to a temporary directory,
// with edit applied to the named files: name -> new content.
func data2Healthy(t *testing.T, edit func(dir string, read func(name string) []byte) map[string][]byte) string {
	t.Helper()
	src := filepath.Join(repo, "testdata", "snapshots", "healthy")
	dir := filepath.Join(t.TempDir(), "s")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, content := range edit(dir, read) {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// data2Gzip gzips b.
func data2Gzip(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// data2OneLine checks that r is exit 2 with one line on stderr holding
// want, in order, and no report on stdout.
func data2OneLine(t *testing.T, r result, want ...string) {
	t.Helper()
	expectCode(t, r, 2)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 {
		t.Errorf("stderr has %d lines, want one:\n%s", len(lines), r.stderr)
	}
	rest := lines[0]
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("stderr %q lacks %q (in order: %q)", lines[0], w, want)
		}
		rest = rest[i+len(w):]
	}
	if r.stdout != "" {
		t.Errorf("stdout: %s", r.stdout)
	}
}

func TestHostileData2SnapshotRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(dir string, read func(string) []byte) map[string][]byte
		only string
		want []string
	}{
		{
			name: "tail -n +2 of logs.jsonl in other.jsonl",
			edit: func(_ string, read func(string) []byte) map[string][]byte {
				logs := read("logs.jsonl")
				return map[string][]byte{"other.jsonl": logs[bytes.IndexByte(logs, '\n')+1:]}
			},
			only: "log-volume",
			want: []string{"/s/other.jsonl:1: the entries of a stream overlap in time with the same stream's entries in ", "/s/logs.jsonl:", ": a snapshot holds each entry once"},
		},
		{
			name: "logs.jsonl appended to itself",
			edit: func(_ string, read func(string) []byte) map[string][]byte {
				logs := read("logs.jsonl")
				return map[string][]byte{"logs.jsonl": append(logs, logs...)}
			},
			only: "log-volume",
			// The copy's entry is a line of its first half's count later
			// than the entry it repeats (the first that counts, its stream's
			// first in the budget's window).
			want: []string{"/s/logs.jsonl:18210: the same entry as line 8714 (stream, time and line) again after later entries of its stream"},
		},
		{
			name: "a log ts in unix seconds",
			edit: func(_ string, read func(string) []byte) map[string][]byte {
				return map[string][]byte{"logs.jsonl": append(read("logs.jsonl"), `{"ts":"1795694300","labels":{"service":"api","env":"prod"},"line":"x"}`+"\n"...)}
			},
			only: "log-volume",
			want: []string{"/s/logs.jsonl:", ": ts: 10 digits looks like unix seconds, not nanoseconds"},
		},
		{
			name: "logs.jsonl.gz with trailing garbage",
			edit: func(dir string, read func(string) []byte) map[string][]byte {
				gz := append(data2Gzip(t, read("logs.jsonl")), "junk"...)
				if err := os.Remove(filepath.Join(dir, "logs.jsonl")); err != nil {
					t.Fatal(err)
				}
				return map[string][]byte{"logs.jsonl.gz": gz}
			},
			only: "log-volume",
			want: []string{"/s/logs.jsonl.gz: corrupt gzip: trailing data after the end of the gzip stream"},
		},
		{
			name: "an .om timestamp of 1e300",
			edit: func(_ string, read func(string) []byte) map[string][]byte {
				return map[string][]byte{"metrics.om": []byte("# TYPE m gauge\nm 1 1e300\n# EOF\n")}
			},
			only: "core-metrics",
			want: []string{"/s/metrics.om:2: timestamp out of range"},
		},
		{
			name: "manifest.yaml not UTF-8",
			edit: func(_ string, read func(string) []byte) map[string][]byte {
				return map[string][]byte{"manifest.yaml": append(read("manifest.yaml"), "note: caf\xe9\n"...)}
			},
			only: "core-metrics",
			want: []string{"/s/manifest.yaml:4:10: invalid UTF-8 (byte 0xE9)"},
		},
		{
			name: "a storageRetention no check can read",
			edit: func(_ string, read func(string) []byte) map[string][]byte {
				return map[string][]byte{"runtime.json": bytes.Replace(read("runtime.json"), []byte(`"storageRetention": "15d"`), []byte(`"storageRetention": "a fortnight"`), 1)}
			},
			only: "prometheus-retention",
			want: []string{"/s/runtime.json:12: prometheus.storageRetention: "},
		},
		{
			name: "a Loki retention_period no check can read",
			edit: func(_ string, read func(string) []byte) map[string][]byte {
				return map[string][]byte{"runtime.json": bytes.Replace(read("runtime.json"), []byte(`"168h"`), []byte(`"a week"`), 1)}
			},
			only: "loki-retention",
			want: []string{"/s/runtime.json: loki.retention_period: "},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := data2Healthy(t, c.edit)
			data2OneLine(t, run(t, nil, "check", "--offline", dir, "--only", c.only), c.want...)
		})
	}
}

// TestHostileData2LogsOnceCount: what Loki stores once counts once: the
// healthy logs with every entry written twice in a row pass with the
// same values as the healthy logs.
func TestHostileData2LogsOnceCount(t *testing.T) {
	healthy := run(t, nil, "check", "--offline", "testdata/snapshots/healthy", "--only", "log-volume", "--format", "json")
	expectCode(t, healthy, 0)
	dir := data2Healthy(t, func(_ string, read func(string) []byte) map[string][]byte {
		var b bytes.Buffer
		for line := range bytes.Lines(read("logs.jsonl")) {
			b.Write(line)
			b.Write(line)
		}
		return map[string][]byte{"logs.jsonl": b.Bytes()}
	})
	twice := run(t, nil, "check", "--offline", dir, "--only", "log-volume", "--format", "json")
	expectCode(t, twice, 0)
	// Timings differ between any two runs: compare everything else.
	durations := regexp.MustCompile(`"duration_ms": [0-9]+`)
	same := func(s string) string { return durations.ReplaceAllString(s, `"duration_ms": 0`) }
	if same(twice.stdout) != same(healthy.stdout) || !strings.Contains(healthy.stdout, `"log-volume"`) {
		t.Errorf("entries repeated in a row changed the report:\n%s\nwant:\n%s", twice.stdout, healthy.stdout)
	}
}

func TestHostileData2Flags(t *testing.T) {
	dir := t.TempDir()
	same := filepath.Join(dir, "same.out")
	link := filepath.Join(dir, "link.out")
	if err := os.Symlink(same, link); err != nil {
		t.Fatal(err)
	}
	const tail = ": the second report would replace the first; give each report a file of its own"
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"-o and --report", []string{"-o", same, "--report", "junit=" + same}, "error: --report junit=" + same + ": the same file as --output " + same + tail},
		{"two --report", []string{"--report", "json=" + same, "--report", "junit=" + same}, "error: --report junit=" + same + ": the same file as --report json=" + same + tail},
		{"through a symlink", []string{"-o", same, "--report", "junit=" + link}, "error: --report junit=" + link + ": the same file as --output " + same + tail},
		{"--at 0", []string{"--at", "0"}, "error: --at: 0 is 1970-01-01T00:00:00Z, before 2000-01-01: give the evaluation time in unix seconds"},
		{"--at -1", []string{"--at", "-1"}, "error: --at: -1 is 1969-12-31T23:59:59Z, before 2000-01-01"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"check", "--offline", "testdata/snapshots/healthy"}, c.args...)
			data2OneLine(t, run(t, nil, args...), c.want)
			if _, err := os.Stat(same); err == nil {
				t.Errorf("%s was written", same)
			}
		})
	}
}
