package memstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

func mustSeries(t *testing.T, s *Store, ls ...string) Ref {
	t.Helper()
	ref, err := s.Series(labels.FromStrings(ls...))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// dump is every series Select returns with its samples, in order.
func dump(t *testing.T, set storage.SeriesSet) string {
	t.Helper()
	var b strings.Builder
	for set.Next() {
		series := set.At()
		fmt.Fprintf(&b, "%s:", series.Labels())
		it := series.Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				fmt.Fprintf(&b, " %d=%g", ts, v)
			case chunkenc.ValHistogram:
				ts, h := it.AtHistogram(nil)
				fmt.Fprintf(&b, " %d=h%g", ts, float64(h.Count))
			case chunkenc.ValFloatHistogram:
				ts, h := it.AtFloatHistogram(nil)
				fmt.Fprintf(&b, " %d=fh%g", ts, h.Count)
			}
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
		b.WriteString("\n")
	}
	if set.Err() != nil {
		t.Fatal(set.Err())
	}
	return b.String()
}

func TestSelectMatchersHintsAndOrder(t *testing.T) {
	s := New()
	// Created in this order: b before a.
	b := mustSeries(t, s, "__name__", "up", "job", "b")
	a := mustSeries(t, s, "__name__", "up", "job", "a")
	other := mustSeries(t, s, "__name__", "other", "job", "a")
	for ts := int64(0); ts <= 40; ts += 10 {
		s.Append(b, ts, float64(ts)+0.5)
		s.Append(a, ts, float64(ts))
	}
	s.Append(other, 5, 1)
	s.Seal()

	q, err := s.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	name := labels.MustNewMatcher(labels.MatchEqual, "__name__", "up")

	got := dump(t, q.Select(ctx, false, nil, name))
	want := "{__name__=\"up\", job=\"b\"}: 0=0.5 10=10.5 20=20.5 30=30.5 40=40.5\n{__name__=\"up\", job=\"a\"}: 0=0 10=10 20=20 30=30 40=40\n"
	if got != want {
		t.Errorf("unsorted select:\n%s\nwant (creation order):\n%s", got, want)
	}

	got = dump(t, q.Select(ctx, true, &storage.SelectHints{Start: 10, End: 30}, name))
	want = "{__name__=\"up\", job=\"a\"}: 10=10 20=20 30=30\n{__name__=\"up\", job=\"b\"}: 10=10.5 20=20.5 30=30.5\n"
	if got != want {
		t.Errorf("sorted select within [10, 30]:\n%s\nwant:\n%s", got, want)
	}

	// Regexp on the name, equality on job; "other" has no sample in
	// [6, 100]: left out.
	got = dump(t, q.Select(ctx, true, &storage.SelectHints{Start: 6, End: 100},
		labels.MustNewMatcher(labels.MatchRegexp, "__name__", "up|other"),
		labels.MustNewMatcher(labels.MatchEqual, "job", "a")))
	want = "{__name__=\"up\", job=\"a\"}: 10=10 20=20 30=30 40=40\n"
	if got != want {
		t.Errorf("regexp select:\n%s\nwant:\n%s", got, want)
	}

	// Without hints, the querier's own range; a matcher on a missing
	// label matches the empty value.
	q2, _ := s.Querier(0, 5)
	got = dump(t, q2.Select(ctx, true, nil, labels.MustNewMatcher(labels.MatchEqual, "instance", "")))
	want = "{__name__=\"other\", job=\"a\"}: 5=1\n{__name__=\"up\", job=\"a\"}: 0=0\n{__name__=\"up\", job=\"b\"}: 0=0.5\n"
	if got != want {
		t.Errorf("querier range [0, 5]:\n%s\nwant:\n%s", got, want)
	}

	got = dump(t, q.Select(ctx, true, &storage.SelectHints{Start: 0, End: 100, Limit: 1}, name))
	if want = "{__name__=\"up\", job=\"a\"}: 0=0 10=10 20=20 30=30 40=40\n"; got != want {
		t.Errorf("limit 1:\n%s\nwant:\n%s", got, want)
	}
}

func TestIteratorSeek(t *testing.T) {
	s := New()
	r := mustSeries(t, s, "__name__", "x")
	for ts := int64(0); ts < 100; ts += 10 {
		s.Append(r, ts, float64(ts))
	}
	s.Seal()
	q, _ := s.Querier(20, 70)
	set := q.Select(context.Background(), false, nil)
	if !set.Next() {
		t.Fatal("no series")
	}
	it := set.At().Iterator(nil)
	steps := []struct {
		seek int64
		want int64 // -1: exhausted
	}{{0, 20}, {15, 20}, {21, 30}, {30, 30}, {25, 30}, {70, 70}, {71, -1}, {0, -1}}
	for _, st := range steps {
		vt := it.Seek(st.seek)
		if st.want < 0 {
			if vt != chunkenc.ValNone {
				t.Errorf("Seek(%d) = %v, want the end", st.seek, vt)
			}
			continue
		}
		if vt != chunkenc.ValFloat || it.AtT() != st.want {
			t.Errorf("Seek(%d) = %v at %d, want a float at %d", st.seek, vt, it.AtT(), st.want)
		}
	}
	if it.Next() != chunkenc.ValNone {
		t.Error("Next after the end found a sample")
	}
	// A reused iterator starts over.
	it = set.At().Iterator(it)
	if it.Next() != chunkenc.ValFloat || it.AtT() != 20 {
		t.Errorf("reused iterator starts at %d, want 20", it.AtT())
	}
}

func TestOutOfOrderRunsMergeAndFloatAt(t *testing.T) {
	s := New()
	r := mustSeries(t, s, "__name__", "x")
	// File 1: 30..50; file 2: 0..40, overlapping; 40 again (a repeat
	// the loader would have skipped: the first stays).
	for _, ts := range []int64{30, 40, 50} {
		s.Append(r, ts, float64(ts))
	}
	for _, ts := range []int64{0, 10, 20, 35, 40} {
		s.Append(r, ts, float64(ts)+1000)
	}
	for ts, want := range map[int64]float64{30: 30, 40: 40, 10: 1010, 35: 1035} {
		if v, ok := s.FloatAt(r, ts); !ok || v != want {
			t.Errorf("FloatAt(%d) before Seal = %g, %v; want %g", ts, v, ok, want)
		}
	}
	if _, ok := s.FloatAt(r, 15); ok {
		t.Error("FloatAt(15) found a sample")
	}
	s.Seal()
	q, _ := s.Querier(math.MinInt64, math.MaxInt64)
	got := dump(t, q.Select(context.Background(), false, nil))
	want := "{__name__=\"x\"}: 0=1000 10=1010 20=1020 30=30 35=1035 40=40 50=50\n"
	if got != want {
		t.Errorf("merged:\n%s\nwant:\n%s", got, want)
	}
}

func TestSeriesLabelRules(t *testing.T) {
	s := New()
	a := mustSeries(t, s, "__name__", "up", "job", "")
	b := mustSeries(t, s, "__name__", "up")
	if a != b {
		t.Errorf("up{job=\"\"} and up are series %d and %d, want one", a, b)
	}
	if got := s.Labels(a).String(); got != `{__name__="up"}` {
		t.Errorf("labels %s, want the empty one dropped", got)
	}
	_, err := s.Series(labels.New(labels.Label{Name: "a", Value: "1"}, labels.Label{Name: "a", Value: "2"}))
	if !errors.Is(err, ErrInvalidSample) || err.Error() != `label name "a" is not unique: invalid sample` {
		t.Errorf("duplicate label name: %v", err)
	}
	_, err = s.Series(labels.FromStrings("job", ""))
	if !errors.Is(err, ErrInvalidSample) || err.Error() != "empty labelset: invalid sample" {
		t.Errorf("empty label set: %v", err)
	}
}

func TestLabelValuesAndNames(t *testing.T) {
	s := New()
	for i, ls := range [][]string{
		{"__name__", "up", "job", "b", "instance", "1"},
		{"__name__", "up", "job", "a"},
		{"__name__", "req", "job", "c", "code", "200"},
		{"__name__", "old", "job", "z"},
	} {
		r := mustSeries(t, s, ls...)
		ts := int64(100)
		if ls[1] == "old" {
			ts = 1
		}
		s.Append(r, ts, float64(i))
	}
	s.Seal()
	ctx := context.Background()
	q, _ := s.Querier(50, 200)
	vals, _, err := q.LabelValues(ctx, "job", nil)
	if err != nil || strings.Join(vals, ",") != "a,b,c" {
		t.Errorf("job values %v, %v; want a,b,c (z has no sample in range)", vals, err)
	}
	vals, _, _ = q.LabelValues(ctx, "job", nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
	if strings.Join(vals, ",") != "a,b" {
		t.Errorf("job values of up: %v", vals)
	}
	vals, _, _ = q.LabelValues(ctx, "instance", &storage.LabelHints{Limit: 5})
	if strings.Join(vals, ",") != "1" {
		t.Errorf("instance values %v, want 1 without the empty value", vals)
	}
	names, _, _ := q.LabelNames(ctx, nil)
	if strings.Join(names, ",") != "__name__,code,instance,job" {
		t.Errorf("names %v", names)
	}
	names, _, _ = q.LabelNames(ctx, &storage.LabelHints{Limit: 2}, labels.MustNewMatcher(labels.MatchRegexp, "job", "a|b"))
	if strings.Join(names, ",") != "__name__,instance" {
		t.Errorf("names of jobs a, b, limit 2: %v", names)
	}
}

func TestHistogramsAndStaleMarkers(t *testing.T) {
	s := New()
	r := mustSeries(t, s, "__name__", "lat")
	h := func(n uint64) *histogram.Histogram {
		return &histogram.Histogram{Count: n, Sum: float64(n), PositiveSpans: []histogram.Span{{Offset: 0, Length: 1}}, PositiveBuckets: []int64{int64(n)}}
	}
	s.Append(r, 0, 7)
	s.AppendHistogram(r, 10, h(3), nil)
	s.AppendHistogram(r, 20, nil, h(4).ToFloat(nil))
	s.Append(r, 30, math.Float64frombits(value.StaleNaN)) // after a float histogram
	if _, ok := s.FloatAt(r, 10); ok {
		t.Error("FloatAt found a float where a histogram is")
	}
	s.Seal()
	q, _ := s.Querier(math.MinInt64, math.MaxInt64)
	set := q.Select(context.Background(), false, nil)
	set.Next()
	it := set.At().Iterator(nil)
	var kinds []string
	for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
		switch vt {
		case chunkenc.ValFloat:
			_, v := it.At()
			kinds = append(kinds, fmt.Sprintf("float %g", v))
		case chunkenc.ValHistogram:
			_, got := it.AtHistogram(nil)
			got.Count++ // a copy: the stored one stays
			_, fh := it.AtFloatHistogram(nil)
			kinds = append(kinds, fmt.Sprintf("histogram %g", fh.Count))
		case chunkenc.ValFloatHistogram:
			_, fh := it.AtFloatHistogram(&histogram.FloatHistogram{})
			stale := value.IsStaleNaN(fh.Sum)
			kinds = append(kinds, fmt.Sprintf("float histogram %g stale=%v", fh.Count, stale))
		}
	}
	want := "float 7|histogram 3|float histogram 4 stale=false|float histogram 0 stale=true"
	if got := strings.Join(kinds, "|"); got != want {
		t.Errorf("samples %s\nwant %s", got, want)
	}
}

// TestEngineStaleness runs Prometheus' engine over a store: a staleness
// marker ends a series for instant selectors and is no sample in a range.
func TestEngineStaleness(t *testing.T) {
	s := New()
	up := mustSeries(t, s, "__name__", "up", "job", "a")
	other := mustSeries(t, s, "__name__", "up", "job", "b")
	for i := range 10 {
		ts := int64(i) * 15_000
		s.Append(other, ts, 1)
		if i == 6 {
			s.Append(up, ts, math.Float64frombits(value.StaleNaN))
			continue
		}
		s.Append(up, ts, float64(i))
	}
	s.Seal()
	engine := promql.NewEngine(promql.EngineOpts{MaxSamples: 1000, Timeout: time.Minute, LookbackDelta: 5 * time.Minute})
	query := func(q string, at int64) string {
		t.Helper()
		qry, err := engine.NewInstantQuery(context.Background(), s, nil, q, time.UnixMilli(at))
		if err != nil {
			t.Fatal(err)
		}
		defer qry.Close()
		res := qry.Exec(context.Background())
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		return res.Value.String()
	}
	// Just after the marker: job a is gone, job b is there.
	if got := query(`up`, 6*15_000+1); got != `{__name__="up", job="b"} => 1 @[90001]` {
		t.Errorf("up after the marker: %s", got)
	}
	if got := query(`up`, 5*15_000+1); !strings.Contains(got, `{__name__="up", job="a"} => 5 @[75001]`) {
		t.Errorf("up before the marker: %s", got)
	}
	// 10 samples of job a in range, one of them stale: 9 count.
	if got := query(`count_over_time(up{job="a"}[10m])`, 9*15_000); got != `{job="a"} => 9 @[135000]` {
		t.Errorf("count_over_time: %s", got)
	}
	if got := query(`sum(up)`, 9*15_000); got != `{} => 10 @[135000]` {
		t.Errorf("sum: %s", got)
	}
}

func TestQueriedBeforeSeal(t *testing.T) {
	s := New()
	if _, err := s.Querier(0, 1); err == nil {
		t.Error("querier of an unsealed store")
	}
	s.Seal()
	if _, err := s.Series(labels.FromStrings("__name__", "x")); err == nil {
		t.Error("series added after Seal")
	}
}
