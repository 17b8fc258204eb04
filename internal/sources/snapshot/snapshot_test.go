package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/secflow/secflow-budget/internal/sources"
)

// evalAt is the fixtures' evaluation time, 2026-11-26T12:00:00Z; every
// fixture sample sits on a whole minute before it.
var evalAt = time.Unix(1795694400, 0).UTC()

// sec is a fixture timestamp: evalAt plus d, in OpenMetrics seconds.
func sec(d time.Duration) int64 { return evalAt.Add(d).Unix() }

const testManifest = "version: 1\nevaluated_at: 2026-11-26T12:00:00Z\n"

// writeSnapshot makes a snapshot directory with the given files; a nil
// manifest entry means "no manifest.yaml", a missing one the default.
func writeSnapshot(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files[ManifestFile]; !ok {
		files[ManifestFile] = testManifest
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustOpen(t testing.TB, dir string) *Snapshot {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustPromQL(t testing.TB, s *Snapshot) sources.PromQL {
	t.Helper()
	q, err := s.PromQL(context.Background())
	if err != nil {
		t.Fatalf("PromQL: %v", err)
	}
	return q
}

// fixture is a small SecFlow scrape history, every sample on the minute:
//
//   - secflow_requests_total{job="api"}: a counter from T-10m to T, rising
//     0.5 per second (30 per minute) from 1000.
//   - secflow_requests_total{job="worker"}: one sample at T-10m only.
//   - secflow_task_duration_seconds: a classic histogram over the same
//     minutes; per minute the buckets le=0.1, 0.5, 1, +Inf gain 5, 15,
//     22.5 and 25 observations (cumulative).
//   - secflow_queue_depth{queue="fresh"}: last sample at T-4m;
//     {queue="stale"}: last sample at T-6m.
func fixture() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	w("# HELP secflow_requests Requests served.")
	w("# TYPE secflow_requests counter")
	for m := -10; m <= 0; m++ {
		w(`secflow_requests_total{job="api"} %g %d`, 1000+30*float64(m+10), sec(time.Duration(m)*time.Minute))
	}
	w(`secflow_requests_total{job="worker"} 7 %d`, sec(-10*time.Minute))

	w("# HELP secflow_task_duration_seconds Task duration.")
	w("# TYPE secflow_task_duration_seconds histogram")
	w("# UNIT secflow_task_duration_seconds seconds")
	buckets := []struct {
		le        string
		start, by float64
	}{{"0.1", 100, 5}, {"0.5", 300, 15}, {"1", 450, 22.5}, {"+Inf", 500, 25}}
	for _, bk := range buckets {
		for m := -10; m <= 0; m++ {
			w(`secflow_task_duration_seconds_bucket{le="%s"} %g %d`, bk.le, bk.start+bk.by*float64(m+10), sec(time.Duration(m)*time.Minute))
		}
	}
	for m := -10; m <= 0; m++ {
		w(`secflow_task_duration_seconds_count %g %d`, 500+25*float64(m+10), sec(time.Duration(m)*time.Minute))
	}
	for m := -10; m <= 0; m++ {
		w(`secflow_task_duration_seconds_sum %g %d`, 200+10*float64(m+10), sec(time.Duration(m)*time.Minute))
	}

	w("# TYPE secflow_queue_depth gauge")
	for m := -8; m <= -4; m++ {
		w(`secflow_queue_depth{queue="fresh"} %d %d`, 10+m, sec(time.Duration(m)*time.Minute))
	}
	for m := -9; m <= -6; m++ {
		w(`secflow_queue_depth{queue="stale"} %d %d`, 20+m, sec(time.Duration(m)*time.Minute))
	}
	w("# EOF")
	return b.String()
}

func query(t testing.TB, q sources.PromQL, expr string, at time.Time) model.Vector {
	t.Helper()
	v, err := q.Query(context.Background(), expr, at)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	sort.Slice(v, func(i, j int) bool { return v[i].Metric.String() < v[j].Metric.String() })
	return v
}

func approx(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

func TestQueriesGiveHandComputedValues(t *testing.T) {
	s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": fixture()}))
	q := mustPromQL(t, s)
	// Off the sample grid, as in the fixtures meant for Prometheus 2 and 3.
	at := evalAt.Add(10 * time.Second)

	tests := []struct {
		name   string
		expr   string
		at     time.Time
		labels string // of the single expected sample
		want   float64
	}{
		{
			// (T-4m50s, T+10s] holds the samples at T-4m..T: 4 minutes, a
			// rise of 120. Both gaps to the range's ends (50s, 10s) are
			// below 1.1 times the 60s interval, so Prometheus extrapolates
			// over the full 300s: 120*300/240 = 150, per second 0.5.
			name: "rate", expr: `rate(secflow_requests_total{job="api"}[5m])`,
			labels: `{job="api"}`, want: 0.5,
		},
		{
			name: "increase", expr: `increase(secflow_requests_total{job="api"}[5m])`,
			labels: `{job="api"}`, want: 150,
		},
		{
			// Over the 4 sampled minutes the buckets gained 20, 60, 90,
			// 100 (all scaled by the same extrapolation). Rank 75 lies in
			// (0.5, 1]: 0.5 + 0.5*(75-60)/(90-60) = 0.75.
			name: "p75", expr: `histogram_quantile(0.75, sum by (le) (rate(secflow_task_duration_seconds_bucket[5m])))`,
			labels: `{}`, want: 0.75,
		},
		{
			// Rank 50 lies in (0.1, 0.5]: 0.1 + 0.4*(50-20)/(60-20) = 0.4.
			name: "p50", expr: `histogram_quantile(0.5, sum by (le) (rate(secflow_task_duration_seconds_bucket[5m])))`,
			labels: `{}`, want: 0.4,
		},
		{
			// Counted: the api counter, 4 buckets, _count, _sum and the
			// fresh gauge. Not counted: the worker counter (10m old) and
			// the stale gauge (6m old): both beyond the 5m lookback.
			name: "count", expr: `count({__name__=~"secflow_.+"})`,
			labels: `{}`, want: 8,
		},
		{
			// OpenMetrics histograms normalise le="1" to "1.0", as promtool
			// stores it.
			name: "le normalised", expr: `count(secflow_task_duration_seconds_bucket{le="1.0"})`,
			labels: `{}`, want: 1,
		},
		{
			name: "scalar", expr: `scalar(secflow_requests_total{job="api"}) * 2`,
			labels: `{}`, want: 2 * 1300,
		},
		{
			name: "@ modifier", expr: fmt.Sprintf(`secflow_requests_total{job="api"} @ %d`, sec(-10*time.Minute)),
			labels: `secflow_requests_total{job="api"}`, want: 1000,
		},
		{
			name: "negative offset", expr: `secflow_requests_total{job="api"} offset -1m`, at: evalAt.Add(-time.Minute),
			labels: `secflow_requests_total{job="api"}`, want: 1300,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			when := at
			if !tt.at.IsZero() {
				when = tt.at
			}
			v := query(t, q, tt.expr, when)
			if len(v) != 1 {
				t.Fatalf("got %d samples %v, want 1", len(v), v)
			}
			if got := v[0].Metric.String(); got != tt.labels {
				t.Errorf("labels = %s, want %s", got, tt.labels)
			}
			if !approx(float64(v[0].Value), tt.want) {
				t.Errorf("value = %.17g, want %g", float64(v[0].Value), tt.want)
			}
			if v[0].Timestamp != model.TimeFromUnixNano(when.UnixNano()) {
				t.Errorf("timestamp = %v, want %v", v[0].Timestamp, when)
			}
		})
	}
}

func TestLookbackIsFiveMinutes(t *testing.T) {
	s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": fixture()}))
	q := mustPromQL(t, s)

	v := query(t, q, `secflow_queue_depth`, evalAt)
	if len(v) != 1 || v[0].Metric["queue"] != "fresh" || v[0].Value != 6 {
		t.Errorf("at T: got %v, want only the fresh queue (4m old) with 6", v)
	}
	// One minute earlier the stale queue's last sample is 5m old: the
	// lookback window (T-5m, T] is open on the left.
	v = query(t, q, `secflow_queue_depth{queue="stale"}`, evalAt.Add(-time.Minute))
	if len(v) != 0 {
		t.Errorf("5m old sample: got %v, want nothing", v)
	}
	v = query(t, q, `secflow_queue_depth{queue="stale"}`, evalAt.Add(-time.Minute-time.Second))
	if len(v) != 1 || v[0].Value != 14 {
		t.Errorf("4m59s old sample: got %v, want 14", v)
	}
}

func TestQueryErrors(t *testing.T) {
	s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": fixture()}))
	q := mustPromQL(t, s)

	_, err := q.Query(context.Background(), `sum(rate(secflow_requests_total[5m])`, evalAt)
	if sources.KindOf(err) != sources.BadQuery || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("parse error: got %v (kind %v)", err, sources.KindOf(err))
	}
	_, err = q.Query(context.Background(), `secflow_requests_total[5m]`, evalAt)
	if sources.KindOf(err) != sources.BadResponse {
		t.Errorf("range vector: got %v (kind %v)", err, sources.KindOf(err))
	}
	_, err = q.Query(context.Background(), `secflow_task_duration_seconds_bucket + on() secflow_queue_depth`, evalAt)
	if sources.KindOf(err) != sources.BadQuery {
		t.Errorf("many-to-many: got %v (kind %v)", err, sources.KindOf(err))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = q.Query(ctx, `up`, evalAt)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: got %v", err)
	}
}

func TestNoMetricsIsMissing(t *testing.T) {
	dir := writeSnapshot(t, map[string]string{"logs.jsonl": "{}\n"})
	s := mustOpen(t, dir)
	if s.HasMetrics() {
		t.Error("HasMetrics = true")
	}
	_, err := s.PromQL(context.Background())
	var se *sources.Error
	if !errors.As(err, &se) || se.Kind != sources.Missing {
		t.Fatalf("got %v, want a Missing *sources.Error", err)
	}
	if want := "no metrics in " + dir + ": metric budgets need an OpenMetrics file (*.om"; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
}

func TestCorruptMetrics(t *testing.T) {
	ts := sec(0)
	tests := []struct {
		name string
		om   string
		line int
		msg  string
	}{
		{
			name: "parse error",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d\na{x=1} 2 %d\n# EOF\n", ts, ts+60),
			line: 3, msg: "expected label value",
		},
		{
			name: "no timestamp",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d\na 2\n# EOF\n", ts),
			line: 3, msg: "no timestamp",
		},
		{
			name: "missing EOF",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d\n", ts),
			line: 2, msg: `missing "# EOF"`,
		},
		{
			name: "missing EOF, no final newline",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d", ts),
			line: 2, msg: `missing "# EOF"`,
		},
		{
			name: "blank line",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d\n\na 2 %d\n# EOF\n", ts, ts+60),
			line: 3, msg: "blank line",
		},
		{
			name: "out of order",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d\na 2 %d\na 3 %d\n# EOF\n", ts, ts+60, ts+30),
			line: 4, msg: "older than the sample on line 3",
		},
		{
			name: "out of order, labels in another order",
			om:   fmt.Sprintf("# TYPE a gauge\na{x=\"1\",y=\"2\"} 1 %d\na{y=\"2\",x=\"1\"} 3 %d\n# EOF\n", ts, ts-30),
			line: 3, msg: "out-of-order",
		},
		{
			name: "duplicate timestamp",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d\na 2 %d\n# EOF\n", ts, ts),
			line: 3, msg: "duplicate sample",
		},
		{
			name: "milliseconds",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d\n# EOF\n", ts*1000),
			line: 2, msg: "looks like milliseconds",
		},
		{
			name: "content after EOF",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d\n# EOF\na 2 %d\n", ts, ts+60),
			line: 4, msg: `after "# EOF"`,
		},
		{
			name: "blank line after EOF",
			om:   fmt.Sprintf("# TYPE a gauge\na 1 %d\n# EOF\n\n", ts),
			line: 4, msg: `after "# EOF"`,
		},
		{
			name: "unit not a suffix",
			om:   fmt.Sprintf("# TYPE a gauge\n# UNIT a seconds\na 1 %d\n# EOF\n", ts),
			line: 2, msg: "not a suffix",
		},
		{
			name: "empty file",
			om:   "",
			line: 1, msg: "empty file",
		},
		{
			name: "first error wins over a later blank line",
			om:   fmt.Sprintf("# TYPE a gauge\na 1\na 2 %d\n\n# EOF\n", ts),
			line: 2, msg: "no timestamp",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeSnapshot(t, map[string]string{"metrics.om": tt.om})
			s := mustOpen(t, dir)
			_, err := s.PromQL(context.Background())
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v (%T), want *CorruptError", err, err)
			}
			wantFile := filepath.Join(dir, "metrics.om")
			if ce.File != wantFile || ce.Line != tt.line || !strings.Contains(ce.Msg, tt.msg) {
				t.Errorf("got %q, want %s:%d: ...%s...", err, wantFile, tt.line, tt.msg)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("%s:%d: ", wantFile, tt.line)) {
				t.Errorf("error %q is not FILE:LINE: msg", err)
			}
			// The failure is remembered, not retried.
			_, err2 := s.PromQL(context.Background())
			if err2 != err {
				t.Errorf("second call: %v, want the same error", err2)
			}
		})
	}
}

func TestEOFOnlyFileIsValid(t *testing.T) {
	s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": "# EOF\n"}))
	q := mustPromQL(t, s)
	if v := query(t, q, `count(up)`, evalAt); len(v) != 0 {
		t.Errorf("got %v", v)
	}
}

// bigFixture makes an OpenMetrics text of many families: gauges without a
// TYPE line after a histogram family (the parser carries the type over,
// which the chunks must reproduce), a histogram family of many series,
// counters with HELP, TYPE and UNIT.
func bigFixture(families, series, samples int) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	for f := 0; f < families; f++ {
		switch f % 3 {
		case 0:
			w("# HELP h%d_seconds A histogram.", f)
			w("# TYPE h%d_seconds histogram", f)
			w("# UNIT h%d_seconds seconds", f)
			for s := 0; s < series; s++ {
				for _, le := range []string{"0.5", "1", "10", "+Inf"} {
					for i := 0; i < samples; i++ {
						w(`h%d_seconds_bucket{inst="%d",le="%s"} %d %d`, f, s, le, i*(s+1), sec(time.Duration(i-samples)*15*time.Second))
					}
				}
			}
		case 1:
			// No metadata at all: the type of the family before applies.
			for s := 0; s < series; s++ {
				for i := 0; i < samples; i++ {
					w(`g%d{inst="%d",le="1"} %d %d`, f, s, i, sec(time.Duration(i-samples)*15*time.Second))
				}
			}
		case 2:
			w("# TYPE c%d counter", f)
			for s := 0; s < series; s++ {
				for i := 0; i < samples; i++ {
					w(`c%d_total{inst="%d"} %d %d`, f, s, i*3, sec(time.Duration(i-samples)*15*time.Second))
				}
			}
		}
	}
	w("# EOF")
	return b.String()
}

func TestChunkingGivesTheSameData(t *testing.T) {
	om := bigFixture(7, 5, 30)
	queries := []string{
		`count({__name__=~".+"})`,
		`count_over_time(h3_seconds_bucket[1h])`,
		`count_over_time(g4[1h])`,
		`sum by (__name__) ({__name__=~".+"})`,
		`count by (le) ({__name__=~"h.*_bucket"})`,
		`count by (le) ({__name__=~"g.*"})`,
		`sum(rate(c2_total[5m]))`,
		`rate(c5_total[5m])`,
	}
	results := map[int][]string{}
	for _, workers := range []int{1, 2, 4} {
		withLoadWorkers(t, workers)
		for _, chunkBytes := range []int{defaultChunkBytes, 4096, 300, 1} {
			dir := writeSnapshot(t, map[string]string{"metrics.om": om})
			s := mustOpen(t, dir)
			s.chunkBytes = chunkBytes
			q := mustPromQL(t, s)
			key := workers*int(1e8) + chunkBytes
			for _, expr := range queries {
				results[key] = append(results[key], fmt.Sprint(query(t, q, expr, evalAt)))
			}
		}
	}
	base := int(1e8) + defaultChunkBytes // one worker, default chunks
	for key := range results {
		for i := range queries {
			if results[key][i] != results[base][i] {
				t.Errorf("%d workers, chunks of %d bytes, %s:\n got %s\nwant %s", key/int(1e8), key%int(1e8), queries[i], results[key][i], results[base][i])
			}
		}
	}
	// The untyped gauges follow a histogram family: like promtool, their
	// le="1" reads as "1.0".
	if got := results[base][5]; !strings.Contains(got, `le="1.0"`) {
		t.Errorf("gauge le labels: %s", got)
	}
}

func TestCorruptLineNumberAcrossChunks(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(bigFixture(7, 5, 30), "\n"), "\n")
	for _, bad := range []int{2, 777, 1500, len(lines) - 1} {
		broken := append([]string(nil), lines...)
		broken[bad-1] = `broken{ 1 2`
		om := strings.Join(broken, "\n") + "\n"
		for _, workers := range []int{1, 2} {
			withLoadWorkers(t, workers)
			for _, chunkBytes := range []int{defaultChunkBytes, 1000, 1} {
				dir := writeSnapshot(t, map[string]string{"metrics.om": om})
				s := mustOpen(t, dir)
				s.chunkBytes = chunkBytes
				_, err := s.PromQL(context.Background())
				var ce *CorruptError
				if !errors.As(err, &ce) || ce.Line != bad {
					t.Errorf("line %d broken, %d workers, chunks of %d bytes: got %v, want line %d", bad, workers, chunkBytes, err, bad)
				}
			}
		}
	}
}

func TestSplitterChunks(t *testing.T) {
	om := bigFixture(4, 3, 10)
	for _, limit := range []int{1, 200, 1000, 1 << 20} {
		sp := newSplitter(strings.NewReader(om), "x.om", limit)
		var real []string
		for {
			c, err := sp.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			data := string(c.data)
			if !strings.HasSuffix(data, "\n# EOF\n") {
				t.Fatalf("limit %d: chunk does not end with # EOF: %q", limit, data)
			}
			ls := strings.Split(strings.TrimSuffix(data, "# EOF\n"), "\n")
			ls = ls[:len(ls)-1]
			for _, l := range ls[:c.synthetic] {
				if !strings.HasPrefix(l, "# TYPE ") && !strings.HasPrefix(l, "# UNIT ") {
					t.Errorf("limit %d: synthetic line %q", limit, l)
				}
			}
			if c.firstLine != len(real)+1 {
				t.Errorf("limit %d: chunk starts at line %d, want %d", limit, c.firstLine, len(real)+1)
			}
			real = append(real, ls[c.synthetic:]...)
			if limit >= 1000 && len(c.data) > limit+200 {
				t.Errorf("limit %d: chunk of %d bytes", limit, len(c.data))
			}
		}
		if got := strings.Join(real, "\n") + "\n# EOF\n"; got != om {
			t.Errorf("limit %d: chunks do not add up to the file", limit)
		}
	}
}

func TestFilesMerge(t *testing.T) {
	var a, b strings.Builder
	a.WriteString("# TYPE x gauge\n")
	b.WriteString("# TYPE x gauge\n")
	for m := -20; m <= 0; m++ {
		w := &a
		if m%2 != 0 {
			w = &b
		}
		fmt.Fprintf(w, "x 1 %d\n", sec(time.Duration(m)*time.Minute))
	}
	a.WriteString("# EOF\n")
	b.WriteString("# EOF\n")
	s := mustOpen(t, writeSnapshot(t, map[string]string{"a.om": a.String(), "b.om": b.String()}))
	if got := s.MetricFiles(); len(got) != 2 || filepath.Base(got[0]) != "a.om" {
		t.Errorf("MetricFiles = %v", got)
	}
	q := mustPromQL(t, s)
	v := query(t, q, `count_over_time(x[1h])`, evalAt)
	if len(v) != 1 || v[0].Value != 21 {
		t.Errorf("got %v, want 21 samples from both files", v)
	}
}

func TestConcurrentPromQLCallersShareOneLoad(t *testing.T) {
	s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": fixture()}))
	const n = 8
	var wg sync.WaitGroup
	evals := make([]sources.PromQL, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			evals[i], errs[i] = s.PromQL(context.Background())
			if errs[i] == nil {
				_, errs[i] = evals[i].Query(context.Background(), `count({__name__=~"secflow_.+"})`, evalAt)
			}
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if evals[i] != evals[0] {
			t.Errorf("caller %d got another evaluator", i)
		}
	}
}

func TestCanceledLoadIsRetried(t *testing.T) {
	s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": fixture()}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.PromQL(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	mustPromQL(t, s)
}

func TestCloseReleasesMetrics(t *testing.T) {
	s, err := Open(writeSnapshot(t, map[string]string{"metrics.om": fixture()}))
	if err != nil {
		t.Fatal(err)
	}
	q := mustPromQL(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.PromQL(context.Background()); err == nil {
		t.Error("PromQL after Close succeeded")
	}
	_, err = q.Query(context.Background(), `up`, evalAt)
	var serr *sources.Error
	if !errors.As(err, &serr) || serr.Kind != sources.Unavailable || !strings.Contains(err.Error(), "the snapshot is closed") {
		t.Errorf("query after Close: got %v, want an Unavailable error saying the snapshot is closed", err)
	}
}

// TestLoadWritesNoTempFiles: the metrics are loaded into memory, a failed
// load and a good one alike leave nothing in TMPDIR.
func TestLoadWritesNoTempFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	bad := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": "a 1\n# EOF\n"}))
	if _, err := bad.PromQL(context.Background()); err == nil {
		t.Fatal("no error")
	}
	good := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": fixture()}))
	mustPromQL(t, good)
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		t.Errorf("loading wrote %s in TMPDIR", entries[0].Name())
	}
}

// TestSamplesMatchWholeFileParse checks the stored samples against what
// promtool's backfill reads: Prometheus' OpenMetrics parser over the whole
// file at once (cmd/promtool/backfill.go), whatever the chunk size.
func TestSamplesMatchWholeFileParse(t *testing.T) {
	om := bigFixture(7, 4, 25)

	var want []string
	p := textparse.NewOpenMetricsParser([]byte(om), labels.NewSymbolTable())
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if et != textparse.EntrySeries {
			continue
		}
		var l labels.Labels
		p.Labels(&l)
		_, ts, v := p.Series()
		want = append(want, fmt.Sprintf("%s %d %g", l, *ts, v))
	}
	sort.Strings(want)
	if len(want) != 1600 {
		t.Fatalf("fixture has %d samples, want 1600", len(want))
	}

	for _, workers := range []int{1, 2} {
		withLoadWorkers(t, workers)
		for _, chunkBytes := range []int{defaultChunkBytes, 700, 1} {
			s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": om}))
			s.chunkBytes = chunkBytes
			mustPromQL(t, s)
			got := storedSamples(t, s)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%d workers, chunks of %d bytes: %d samples stored, promtool reads %d; first difference:\n%s", workers, chunkBytes, len(got), len(want), firstDiff(got, want))
			}
		}
	}
}

func storedSamples(t *testing.T, s *Snapshot) []string {
	t.Helper()
	q, err := s.eval.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	var out []string
	for set.Next() {
		series := set.At()
		it := series.Iterator(nil)
		for it.Next() != chunkenc.ValNone {
			ts, v := it.At()
			out = append(out, fmt.Sprintf("%s %d %g", series.Labels(), ts, v))
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
	}
	if set.Err() != nil {
		t.Fatal(set.Err())
	}
	sort.Strings(out)
	return out
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf(" got %s\nwant %s", got[i], want[i])
		}
	}
	return "(one is a prefix of the other)"
}

func TestFilesRepeatingASample(t *testing.T) {
	// Two captures overlapping by one scrape: the repeated sample counts
	// once. (A file made only of repeats is refused: TestHostileSameData.)
	ts := sec(0)
	a := fmt.Sprintf("# TYPE x gauge\nx 1 %d\nx 2 %d\n# EOF\n", ts-60, ts)
	b := fmt.Sprintf("# TYPE x gauge\nx 1 %d\nx 3 %d\n# EOF\n", ts-60, ts-30)
	s := mustOpen(t, writeSnapshot(t, map[string]string{"a.om": a, "b.om": b}))
	q := mustPromQL(t, s)
	v := query(t, q, `count_over_time(x[1h])`, evalAt)
	if len(v) != 1 || v[0].Value != 3 {
		t.Errorf("got %v, want 3 samples", v)
	}
}

// withLoadWorkers makes loadFile parse with n goroutines (1: in turn)
// until the test ends.
func withLoadWorkers(t *testing.T, n int) {
	t.Helper()
	old := loadWorkers
	loadWorkers = func() int { return n }
	t.Cleanup(func() { loadWorkers = old })
}

// TestLoadErrorsSameInParallel: the error a file gives is the one of its
// first bad line, whether chunks are parsed in turn or by workers, for
// errors the parser finds (syntax, timestamps) and those found when the
// samples are applied in order (out of order, duplicate), alone or with
// another one later in the file, in the same chunk or a later one.
func TestLoadErrorsSameInParallel(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(bigFixture(7, 5, 30), "\n"), "\n")
	// A sample line of the middle of the file, and one near its end, to
	// repeat elsewhere (out of order, or duplicate with another value).
	var samples []int
	for i, l := range lines {
		if !strings.HasPrefix(l, "#") {
			samples = append(samples, i)
		}
	}
	mid, late := samples[len(samples)/2], samples[len(samples)-3]
	syntax := func(i int) func([]string) { return func(ls []string) { ls[i] = `broken{ 1 2` } }
	future := func(i int) func([]string) {
		return func(ls []string) { f := strings.Fields(ls[i]); ls[i] = f[0] + " 1 99999999999" }
	}
	older := func(i int) func([]string) { // a sample two lines up again
		return func(ls []string) { ls[i] = ls[i-2] }
	}
	dup := func(i int) func([]string) { // the sample above, another value
		return func(ls []string) { f := strings.Fields(ls[i-1]); f[len(f)-2] = "12345"; ls[i] = strings.Join(f, " ") }
	}
	cases := map[string][]func([]string){
		"syntax":                 {syntax(mid)},
		"timestamp":              {future(late)},
		"repeat":                 {older(mid)},
		"syntax then repeat":     {syntax(mid), older(late)},
		"repeat then syntax":     {older(mid), syntax(late)},
		"repeat then timestamp":  {older(mid), future(mid + 3)},
		"timestamp then syntax":  {future(mid), syntax(mid + 2)},
		"two repeats, far apart": {older(late), older(samples[5])},
		"duplicate":              {dup(mid)},
		"duplicate then repeat":  {dup(samples[7]), older(late)},
	}
	for name, edits := range cases {
		broken := append([]string(nil), lines...)
		for _, e := range edits {
			e(broken)
		}
		om := strings.Join(broken, "\n") + "\n"
		errs := map[string]bool{}
		for _, workers := range []int{1, 2, 3} {
			withLoadWorkers(t, workers)
			for _, chunkBytes := range []int{defaultChunkBytes, 1000, 1} {
				s := mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": om}))
				s.chunkBytes = chunkBytes
				_, err := s.PromQL(context.Background())
				if err == nil {
					t.Fatalf("%s: no error", name)
				}
				errs[strings.ReplaceAll(err.Error(), s.dir, "DIR")] = true
				if testing.Verbose() && workers == 1 && chunkBytes == 1 {
					t.Logf("%s: %v", name, strings.ReplaceAll(err.Error(), s.dir, "DIR"))
				}
			}
		}
		if len(errs) != 1 {
			t.Errorf("%s: different errors: %v", name, errs)
		}
	}
}
