package snapshot

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/logql"
	"github.com/secflow/secflow-budget/internal/sources"
)

// logLine renders one entry of a log file.
func logLine(ts time.Time, lbls map[string]string, line string) string {
	b, err := json.Marshal(map[string]any{"ts": strconv.FormatInt(ts.UnixNano(), 10), "labels": lbls, "line": line})
	if err != nil {
		panic(err)
	}
	return string(b) + "\n"
}

func gzipped(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func mustLogQL(t testing.TB, s *Snapshot, at time.Time, queries ...string) sources.LogQL {
	t.Helper()
	q, err := s.LogQL(context.Background(), at, queries)
	if err != nil {
		t.Fatalf("LogQL: %v", err)
	}
	return q
}

// vecString renders a vector as `{labels} value` lines.
func vecString(v model.Vector) string {
	var b strings.Builder
	for _, s := range v {
		fmt.Fprintf(&b, "%s %s\n", s.Metric, strconv.FormatFloat(float64(s.Value), 'f', -1, 64))
	}
	return b.String()
}

func logQuery(t testing.TB, q sources.LogQL, query string, at time.Time) string {
	t.Helper()
	v, err := q.Query(context.Background(), query, at)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return vecString(v)
}

var (
	apiInfo   = map[string]string{"service": "api", "env": "prod", "level": "INFO"}
	apiWarn   = map[string]string{"service": "api", "env": "prod", "level": "WARN"}
	workerDef = map[string]string{"service": "worker", "env": "prod", "queue": "default"}
	scanner   = map[string]string{"service": "scanner", "env": "prod", "kind": "sast"}
)

func TestLogsSmallSnapshot(t *testing.T) {
	at := evalAt
	rfc := func(d time.Duration) string { return at.Add(d).UTC().Format(time.RFC3339Nano) }
	plain := logLine(at.Add(-2*time.Hour), apiInfo, `{"level":"INFO","msg":"too old"}`) +
		logLine(at.Add(-time.Hour), apiInfo, `{"level":"INFO","msg":"T-1h: out"}`) +
		logLine(at.Add(-time.Hour+1), apiInfo, `{"level":"INFO","msg":"T-1h+1ns: in"}`) +
		// Same stream, time and line: stored once.
		logLine(at.Add(-30*time.Minute), apiInfo, `{"level":"INFO","msg":"dup"}`) +
		logLine(at.Add(-30*time.Minute), apiInfo, `{"level":"INFO","msg":"dup"}`) +
		// Same time, another line: both count.
		logLine(at.Add(-30*time.Minute), apiInfo, `{"level":"INFO","msg":"dup2"}`) +
		// Same time and line, another stream: counts.
		logLine(at.Add(-30*time.Minute), apiWarn, `{"level":"INFO","msg":"dup"}`) +
		"\n" + // blank lines hold no entry
		// RFC3339 timestamps; the key order does not matter.
		fmt.Sprintf(`{"line":"café","labels":{"env":"prod","service":"worker","queue":"default"},"ts":%q}`+"\n", rfc(-time.Minute)) +
		fmt.Sprintf(`{"ts":%q,"labels":{"service":"worker","env":"prod","queue":"default"},"line":"caf\u00e9 \ud83d\ude80\n"}`+"\n", rfc(0)) +
		logLine(at.Add(1), workerDef, `at T+1ns: never counts`) +
		// Unknown keys are skipped.
		fmt.Sprintf(`{"ts":"%d","labels":{"service":"scanner","env":"prod","kind":"sast"},"line":"level=warn msg=x password=hunter2","extra":{"a":[1,2.5e3,true,null]}}`+"\n", at.Add(-10*time.Minute).UnixNano())
	// A duplicate of the last entry of the stream in the other file.
	gz := fmt.Sprintf(`{"ts":"%d","labels":{"service":"scanner","env":"prod","kind":"sast"},"line":"level=warn msg=x password=hunter2"}`+"\n", at.Add(-10*time.Minute).UnixNano()) +
		logLine(at.Add(-5*time.Minute), scanner, `level="ERROR" msg="secret token" token=bearer_abcdefghijklmnopqrstuvwxyz`)

	dir := writeSnapshot(t, map[string]string{"logs.jsonl": plain, "more.jsonl.gz": gzipped(t, gz), "notes.txt": "not logs"})
	s := mustOpen(t, dir)
	if !s.HasLogs() {
		t.Fatal("HasLogs: false")
	}
	const (
		bytesQ  = `sum by (service) (bytes_over_time({service=~"api|worker|scanner"}[1h]))`
		countQ  = `sum by (service, level) (count_over_time({env="prod"}[1h]))`
		jsonQ   = `sum by (service, level) (count_over_time({service=~".+"} | json | __error__="" [1h]))`
		logfmtQ = `sum by (level) (count_over_time({service="scanner"} | logfmt [1h]))`
		redactQ = "sum(count_over_time({service=~\".+\"} |~ `(?i)password\\s*[=:]\\s*\\S+` [1h]))"
		rawQ    = `count_over_time({service="api"}[31m])`
		failQ   = `sum by (level) (count_over_time({service="worker"} | json [1h]))`
		noneQ   = `sum(count_over_time({service="nope"}[1h]))`
		badQ    = `sum(count_over_time({service=~".*"}[1h]))`
	)
	q := mustLogQL(t, s, at, bytesQ, countQ, jsonQ, logfmtQ, redactQ, rawQ, failQ, noneQ, badQ, bytesQ)

	for _, tc := range []struct{ query, want string }{
		{bytesQ, fmt.Sprintf("{service=\"api\"} %d\n{service=\"scanner\"} %d\n{service=\"worker\"} %d\n",
			len(`{"level":"INFO","msg":"T-1h+1ns: in"}`)+2*len(`{"level":"INFO","msg":"dup"}`)+len(`{"level":"INFO","msg":"dup2"}`),
			len("level=warn msg=x password=hunter2")+len(`level="ERROR" msg="secret token" token=bearer_abcdefghijklmnopqrstuvwxyz`),
			len("café")+len("café 🚀\n"))},
		{countQ, "{level=\"INFO\", service=\"api\"} 3\n{level=\"WARN\", service=\"api\"} 1\n{service=\"scanner\"} 2\n{service=\"worker\"} 2\n"},
		// Stream labels win over the body's level; worker lines are no JSON.
		{jsonQ, "{level=\"INFO\", service=\"api\"} 3\n{level=\"WARN\", service=\"api\"} 1\n"},
		{logfmtQ, "{level=\"ERROR\"} 1\n{level=\"warn\"} 1\n"},
		{redactQ, "{} 1\n"},
		{rawQ, "{detected_level=\"info\", env=\"prod\", level=\"INFO\", service=\"api\", service_name=\"api\"} 2\n" +
			"{detected_level=\"warn\", env=\"prod\", level=\"WARN\", service=\"api\", service_name=\"api\"} 1\n"},
		{noneQ, ""},
		// Another spelling of a query given up front.
		{`sum by(service)(bytes_over_time({service=~"api|worker|scanner"} [1h]))`, ""},
	} {
		got := logQuery(t, q, tc.query, at)
		if tc.want == "" && tc.query != noneQ {
			tc.want = logQuery(t, q, bytesQ, at)
		}
		if got != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.query, got, tc.want)
		}
	}

	// Failures are per query, with Loki's text.
	for _, tc := range []struct{ query, want string }{
		{failQ, "pipeline error: 'JSONParserErr' for series: '{__error__=\"JSONParserErr\", __error_details__=\"Value looks like object, but can't find closing '}' symbol\", detected_level=\"unknown\", env=\"prod\", queue=\"default\", service=\"worker\", service_name=\"worker\"}'."},
		{badQ, "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value."},
		{`sum(count_over_time({service="api"}[1h])`, "parse error at line 1, col 41: syntax error: unexpected $end"},
		{`sum(count_over_time({service="api"}[5m]))`, "was not given to LogQL up front"},
	} {
		_, err := q.Query(context.Background(), tc.query, at)
		if sources.KindOf(err) != sources.BadQuery || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v (kind %v), want BadQuery with %q", tc.query, err, sources.KindOf(err), tc.want)
		}
	}
	var pe *logql.PipelineError
	if _, err := q.Query(context.Background(), failQ, at); !errors.As(err, &pe) {
		t.Errorf("pipeline error is not a *logql.PipelineError: %T", err)
	}
	if _, err := q.Query(context.Background(), bytesQ, at.Add(time.Second)); sources.KindOf(err) != sources.BadQuery || !strings.Contains(err.Error(), "evaluated at") {
		t.Errorf("another time: %v", err)
	}
	// Answers are copies.
	v, _ := q.Query(context.Background(), bytesQ, at)
	v[0].Value = -1
	v[0].Metric["service"] = "changed"
	if got := logQuery(t, q, bytesQ, at); strings.Contains(got, "changed") || strings.Contains(got, "-1") {
		t.Errorf("answers share memory with callers: %s", got)
	}
}

func TestLogsMissing(t *testing.T) {
	s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": "# EOF\n", "logs.json": "{}"}))
	if s.HasLogs() {
		t.Error("HasLogs: true without a *.jsonl file")
	}
	_, err := s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({a="b"}[1h]))`})
	if sources.KindOf(err) != sources.Missing || !strings.Contains(err.Error(), "no logs in") || !strings.Contains(err.Error(), "logs.jsonl") {
		t.Errorf("got %v, want Missing naming logs.jsonl", err)
	}
}

func TestLogsCorrupt(t *testing.T) {
	good := logLine(evalAt, apiInfo, "ok")
	lbl := `"labels":{"service":"api"}`
	for _, tc := range []struct {
		name    string
		content string
		line    int
		want    string
	}{
		{"not json", good + "hello\n", 2, "not a JSON object"},
		{"truncated", good + good + `{"ts":"1",` + lbl + `,"line":"x"` + "\n", 3, "unexpected end of line"},
		{"no ts", `{` + lbl + `,"line":"x"}` + "\n", 1, `missing "ts"`},
		{"no labels", `{"ts":"1","line":"x"}` + "\n", 1, `missing "labels"`},
		{"no line", `{"ts":"1",` + lbl + `}` + "\n", 1, `missing "line"`},
		{"bad ts", `{"ts":"yesterday",` + lbl + `,"line":"x"}` + "\n", 1, `bad timestamp: want`},
		{"float ts", `{"ts":1.5,` + lbl + `,"line":"x"}` + "\n", 1, `bad timestamp: want`},
		{"ts object", `{"ts":{},` + lbl + `,"line":"x"}` + "\n", 1, "ts: want a string"},
		{"label not string", `{"ts":"1","labels":{"service":1},"line":"x"}` + "\n", 1, `a label value is not a string`},
		{"labels not object", `{"ts":"1","labels":"api","line":"x"}` + "\n", 1, "labels: want an object"},
		{"bad label name", `{"ts":"1795694400000000000","labels":{"a-b":"c"},"line":"x"}` + "\n", 1, `invalid label name`},
		{"no label", `{"ts":"1795694400000000000","labels":{},"line":"x"}` + "\n", 1, "at least one"},
		{"line not string", `{"ts":"1",` + lbl + `,"line":42}` + "\n", 1, "line: want a string"},
		{"bad escape", `{"ts":"1",` + lbl + `,"line":"a\qb"}` + "\n", 1, `bad escape at byte`},
		{"duplicate key", `{"ts":"1","ts":"2",` + lbl + `,"line":"x"}` + "\n", 1, `duplicate key "ts"`},
		{"trailing", `{"ts":"1",` + lbl + `,"line":"x"} {}` + "\n", 1, "the end of the line"},
		{"bad unknown value", `{"ts":"1",` + lbl + `,"line":"x","x":[1,}` + "\n", 1, "invalid JSON"},
		{"raw control char", "{\"ts\":\"1\"," + lbl + ",\"line\":\"a\tb\"}\n", 1, "control character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, file := range []string{"logs.jsonl", "logs.jsonl.gz"} {
				content := tc.content
				if strings.HasSuffix(file, ".gz") {
					content = gzipped(t, content)
				}
				s := mustOpen(t, writeSnapshot(t, map[string]string{file: content}))
				_, err := s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
				var ce *CorruptError
				if !errors.As(err, &ce) {
					t.Fatalf("%s: got %v, want a *CorruptError", file, err)
				}
				if ce.File != filepath.Join(s.Dir(), file) || ce.Line != tc.line || !strings.Contains(ce.Msg, tc.want) {
					t.Errorf("%s: got %v, want %s:%d: ...%s...", file, err, file, tc.line, tc.want)
				}
			}
		})
	}
}

func TestLogsCorruptFiles(t *testing.T) {
	good := logLine(evalAt, apiInfo, "ok")
	full := gzipped(t, good+good+good)
	long := good + `{"ts":"1","labels":{"service":"api"},"line":"` + strings.Repeat("x", MaxLogLineBytes) + "\"}\n"
	for _, tc := range []struct {
		name, file, content string
		line                int
		want                string
	}{
		{"not gzip", "logs.jsonl.gz", good, 0, "corrupt gzip: not gzip data"},
		{"truncated gzip", "logs.jsonl.gz", full[:len(full)-10], 0, "corrupt gzip: truncated"},
		{"line too long", "logs.jsonl", long, 2, "line longer than 16 MiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := mustOpen(t, writeSnapshot(t, map[string]string{tc.file: tc.content}))
			_, err := s.LogQL(context.Background(), evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
			var ce *CorruptError
			if !errors.As(err, &ce) || !strings.Contains(ce.Msg, tc.want) || (tc.line > 0 && ce.Line != tc.line) {
				t.Fatalf("got %v, want a *CorruptError line %d with %q", err, tc.line, tc.want)
			}
		})
	}
}

func TestLogsCanceled(t *testing.T) {
	var b strings.Builder
	for i := range 10_000 {
		b.WriteString(logLine(evalAt.Add(-time.Duration(i)*time.Millisecond), apiInfo, "x"))
	}
	s := mustOpen(t, writeSnapshot(t, map[string]string{"logs.jsonl": b.String()}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.LogQL(ctx, evalAt, []string{`sum(count_over_time({service="api"}[1h]))`})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// TestLogsRecorded reads Loki's recorded data (testdata/loki) as a snapshot,
// split over a plain and a gzipped file, and compares answers with Loki's.
func TestLogsRecorded(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "testdata", "loki")
	data, err := os.ReadFile(filepath.Join(shared, "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	half := len(lines) / 2
	dir := writeSnapshot(t, map[string]string{
		ManifestFile:     "version: 1\nevaluated_at: 2026-11-26T18:40:00Z\n",
		"a.jsonl":        strings.Join(lines[:half], ""),
		"b.jsonl.gz":     gzipped(t, strings.Join(lines[half:], "")),
		"c-empty.jsonl":  "",
		"d-blank.jsonl":  "\n\n",
		"z-ignored.json": "not read",
	})
	s := mustOpen(t, dir)
	names := []string{
		"q1_bytes_by_service_1h", "q1_bytes_sum_30m", "q2_count_by_service_level_all_1h", "q2_count_raw_api_1h",
		"q3_json_api_1h", "q3_json_worker_param_1h", "q3_logfmt_scanner_1h", "q4_password_by_service_1h",
		"q4_any_by_service_1h", "q5_total_env_1h", "probe_bytes_multibyte_1h", "probe_bytes_json_escape_1h",
		"probe_duplicates_1h", "edge_1h_edge_T_1h_plus1ns", "detected_level_by_service_1h",
		"q3_json_scanner_parse_error_1h", "err_invalid_regex",
	}
	type recorded struct {
		Params map[string]string `json:"params"`
		Status int               `json:"status"`
		Body   string            `json:"body"`
	}
	resps := map[string]recorded{}
	var queries []string
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(shared, "responses", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var r recorded
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		resps[n] = r
		queries = append(queries, r.Params["query"])
	}
	at := s.EvaluatedAt()
	q := mustLogQL(t, s, at, queries...)
	for _, n := range names {
		r := resps[n]
		v, err := q.Query(context.Background(), r.Params["query"], at)
		if r.Status != 200 {
			if sources.KindOf(err) != sources.BadQuery {
				t.Errorf("%s: got %v, want BadQuery", n, err)
				continue
			}
			var se *sources.Error
			errors.As(err, &se)
			got, want := se.Err.Error(), r.Body
			if n == "q3_json_scanner_parse_error_1h" {
				// Loki names a failing series of its choice.
				got, want = got[:strings.Index(got, "detected_level")], want[:strings.Index(want, "detected_level")]
			}
			if got != want {
				t.Errorf("%s:\n got: %q\nwant: %q", n, got, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		var body struct {
			Data struct {
				Result []struct {
					Metric model.Metric `json:"metric"`
					Value  [2]any       `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
			t.Fatal(err)
		}
		var want strings.Builder
		for _, res := range body.Data.Result {
			fmt.Fprintf(&want, "%s %s\n", res.Metric, res.Value[1])
		}
		if got := vecString(v); got != want.String() {
			t.Errorf("%s:\n got:\n%s\nwant:\n%s", n, got, want.String())
		}
	}
}

// writeBenchLogs writes a logs.jsonl of about size bytes shaped like
// SecFlow's logs: JSON from api (level label) and worker, logfmt from
// scanner, a secret now and then, spread over the two hours before
// evalAt. It returns the real size.
func writeBenchLogs(tb testing.TB, path string, size int64) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	levels := []string{"INFO", "INFO", "INFO", "info", "WARN", "warning", "ERROR", "debug", "CRITICAL"}
	msgs := []string{"request completed", "cache miss", "validation failed", "job retry scheduled", "scan finished",
		"rule pack loaded", "payload: password=hunter2", "auth header Bearer abcdefghijklmnopqrstuvwxyz012345", "mail to alice@example.com"}
	const avgLine = 230
	n := size / avgLine
	step := int64(2*time.Hour) / max(n, 1)
	start := evalAt.Add(-2 * time.Hour).UnixNano()
	var written int64
	for i := int64(0); written < size; i++ {
		ts := start + i*step + rng.Int64N(max(step, 1))
		lvl := levels[rng.IntN(len(levels))]
		msg := msgs[rng.IntN(len(msgs))]
		var line string
		switch rng.IntN(3) {
		case 0:
			line = fmt.Sprintf(`{"ts":"%d","labels":{"service":"api","env":"prod","level":%q},"line":"{\"level\":\"%s\",\"msg\":\"%s\",\"method\":\"GET\",\"path\":\"/v1/findings/%d\",\"status\":200,\"duration_ms\":%d,\"request_id\":\"%016x\"}"}`,
				ts, lvl, lvl, msg, rng.IntN(10000), rng.IntN(5000), rng.Uint64())
		case 1:
			line = fmt.Sprintf(`{"ts":"%d","labels":{"service":"worker","env":"prod","queue":%q},"line":"{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\",\"job_id\":%d,\"attempt\":%d,\"duration_ms\":%d}"}`,
				ts, []string{"default", "batch"}[rng.IntN(2)], time.Unix(0, ts).UTC().Format(time.RFC3339Nano), lvl, msg, rng.IntN(100000), rng.IntN(4), rng.IntN(60000))
		default:
			line = fmt.Sprintf(`{"ts":"%d","labels":{"service":"scanner","env":"prod","kind":%q},"line":"ts=%s level=%s msg=\"%s\" repo=org/repo-%d commit=%07x findings=%d duration_ms=%d"}`,
				ts, []string{"sast", "secrets"}[rng.IntN(2)], time.Unix(0, ts).UTC().Format(time.RFC3339Nano), lvl, msg, rng.IntN(200), rng.IntN(1<<28), rng.IntN(30), rng.IntN(90000))
		}
		k, _ := w.WriteString(line + "\n")
		written += int64(k)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return written
}

// heapInUsePeak samples the heap in use (live and not yet swept objects
// plus fragmentation, runtime.MemStats.HeapInuse) until stopped.
type heapInUsePeak struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func watchHeapInUse() *heapInUsePeak {
	h := &heapInUsePeak{stop: make(chan struct{})}
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(samples)
			if v := samples[0].Value.Uint64() + samples[1].Value.Uint64(); v > h.peak.Load() {
				h.peak.Store(v)
			}
			select {
			case <-h.stop:
				return
			case <-t.C:
			}
		}
	}()
	return h
}

func (h *heapInUsePeak) done() uint64 {
	close(h.stop)
	h.wg.Wait()
	return h.peak.Load()
}

// BenchmarkLogs reads a generated logs.jsonl of SECFLOW_BENCH_LOGS_MB
// megabytes (default 20) for three typical budget queries at once; with
// SECFLOW_BENCH_LOGS_GZIP=1 the file is gzipped. Reported: MB/s of log
// entries read (uncompressed) and the peak heap in use.
func BenchmarkLogs(b *testing.B) {
	mb := int64(20)
	if v := os.Getenv("SECFLOW_BENCH_LOGS_MB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("SECFLOW_BENCH_LOGS_MB=%q: want a positive number", v)
		}
		mb = n
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(testManifest), 0o644); err != nil {
		b.Fatal(err)
	}
	size := writeBenchLogs(b, filepath.Join(dir, "logs.jsonl"), mb*1e6)
	if os.Getenv("SECFLOW_BENCH_LOGS_GZIP") == "1" {
		gzipFile(b, filepath.Join(dir, "logs.jsonl"))
	}
	queries := []string{
		`sum by (service) (bytes_over_time({service=~"api|worker|scanner"}[1h]))`,
		`sum by (service, level) (count_over_time({service=~"api|worker|scanner"} | json | __error__="" [1h]))`,
		"sum by (service) (count_over_time({service=~\"api|worker|scanner\"} |~ `(?i)password\\s*[=:]\\s*\\S+` [1h]))",
	}

	b.SetBytes(size)
	b.ReportAllocs()
	var peak uint64
	var elapsed time.Duration
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
		h := watchHeapInUse()
		start := time.Now()
		s, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		q, err := s.LogQL(context.Background(), evalAt, queries)
		elapsed += time.Since(start)
		peak = max(peak, h.done())
		if err != nil {
			b.Fatal(err)
		}
		for _, query := range queries {
			if v, err := q.Query(context.Background(), query, evalAt); err != nil || len(v) == 0 {
				b.Fatalf("%s: %v %v", query, v, err)
			}
		}
		s.Close()
	}
	b.ReportMetric(float64(size)/1e6/(elapsed.Seconds()/float64(b.N)), "logs-MB/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(size)/1e6, "file-MB")
}

// gzipFile replaces path with path.gz.
func gzipFile(tb testing.TB, path string) {
	tb.Helper()
	in, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(path + ".gz")
	if err != nil {
		tb.Fatal(err)
	}
	w := gzip.NewWriter(out)
	if _, err := io.Copy(w, in); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		tb.Fatal(err)
	}
}
