package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The fuzz targets of the snapshot readers: whatever a file holds, the
// reader answers or returns an error; it never panics or hangs. Seeds come
// from the repository's snapshots and recorded Loki data (their first
// lines: the fuzzer mutates small inputs best).

const testdataDir = "../../../testdata"

// headLines is the first n lines of a testdata file.
func headLines(f *testing.F, rel string, n int) []string {
	f.Helper()
	fh, err := os.Open(filepath.Join(testdataDir, rel))
	if err != nil {
		f.Fatalf("seed corpus: %v", err)
	}
	defer fh.Close()
	var out []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for len(out) < n && sc.Scan() {
		out = append(out, sc.Text())
	}
	if len(out) == 0 {
		f.Fatalf("seed corpus: %s is empty", rel)
	}
	return out
}

// FuzzOpenMetrics loads OpenMetrics text as a snapshot's metrics.om (or,
// split at a NUL byte, as a.om and b.om) and queries it.
func FuzzOpenMetrics(f *testing.F) {
	for _, snap := range []string{"healthy", "degraded"} {
		ls := headLines(f, filepath.Join("snapshots", snap, "metrics.om"), 40)
		f.Add([]byte(strings.Join(ls, "\n") + "\n# EOF\n"))
	}
	ts := "1795694400"
	f.Add([]byte("# TYPE x gauge\nx 1 " + ts + "\n# EOF\n\x00# TYPE x gauge\nx 2 " + ts + "\n# EOF\n"))
	f.Add([]byte("# TYPE h histogram\nh_bucket{le=\"1\"} 1 " + ts + "\nh_bucket{le=\"+Inf\"} 2 " + ts + "\nh_count 2 " + ts + "\nh_sum 3 " + ts + "\n# EOF\n"))
	f.Add([]byte("# TYPE a gauge\na{x=\"1\",y=\"2\"} 1 " + ts + "\na{y=\"2\",x=\"1\"} 3 " + ts + "\n# EOF\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(t, data)()
		files := map[string]string{"metrics.om": string(data)}
		if a, b, ok := bytes.Cut(data, []byte{0}); ok {
			files = map[string]string{"a.om": string(a), "b.om": string(b)}
		}
		dir := writeSnapshot(t, files)
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("Open: %v", err) // the manifest is valid: .om files are read by PromQL
		}
		defer s.Close()
		s.chunkBytes = 256 // many chunks: their seams are where bugs hide
		q, err := s.PromQL(context.Background())
		if err != nil {
			return
		}
		for _, expr := range []string{`count({__name__=~".+"})`, `sum by (__name__) (count_over_time({__name__=~".+"}[10y]))`} {
			_, _ = q.Query(context.Background(), expr, evalAt)
		}
	})
}

// FuzzLogsJSONL reads a snapshot's logs.jsonl (logs.jsonl.gz when the
// input starts with gzip's magic) and evaluates log queries over it.
func FuzzLogsJSONL(f *testing.F) {
	f.Add([]byte(strings.Join(headLines(f, "snapshots/healthy/logs.jsonl", 20), "\n") + "\n"))
	f.Add([]byte(strings.Join(headLines(f, "loki/logs.jsonl", 20), "\n") + "\n"))
	f.Add([]byte(strings.Join(headLines(f, "loki/structure/logs.jsonl", 20), "\n")))
	f.Add([]byte(`{"ts":"2026-11-26T11:59:00Z","labels":{"service":"api","level":"Information"},"line":"caf\u00e9 \"x\""}` + "\n\n"))
	f.Add([]byte(gzipped(f, `{"ts":"1795694340000000000","labels":{"service":"api"},"line":"level=error msg=x"}`+"\n")))
	queries := []string{
		`sum by (service, detected_level) (count_over_time({service=~".+"}[1h]))`,
		`sum by (service) (bytes_over_time({service=~".+"} |~ "(?i)password" [1h]))`,
		`sum by (level) (count_over_time({service=~".+"} | json | __error__="" [1h]))`,
		`sum by (level) (count_over_time({service=~".+"} | logfmt [1h]))`,
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		defer watchdog(t, data)()
		name := "logs.jsonl"
		if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			name = "logs.jsonl.gz"
		}
		dir := writeSnapshot(t, map[string]string{name: string(data)})
		s, err := Open(dir)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		ans, err := s.LogQL(context.Background(), evalAt, queries)
		if err != nil {
			if strings.ContainsFunc(err.Error(), func(r rune) bool { return r < 0x20 }) {
				t.Errorf("error holds a control character, from the file: %q", err)
			}
			return
		}
		for _, q := range queries {
			_, _ = ans.Query(context.Background(), q, evalAt)
		}
	})
}

// watchdog fails an input that takes longer than a reader ever should:
// the fuzzer reports a hang only as a stalled run, without the input.
func watchdog(t *testing.T, data []byte) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			panic(fmt.Sprintf("input took over 20s: %q", data))
		}
	}()
	return func() { close(done) }
}
