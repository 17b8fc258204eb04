package recorder

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// fakeProm answers range-vector selectors from in-memory series, the way
// Prometheus 3 does ((at-range, at]), and instant selectors with the
// series that are not stale at that time.
type fakeProm struct {
	series []fakeSeries
	// maxSamples makes answers with more samples fail as too large.
	maxSamples int
	queries    []string
}

type fakeSeries struct {
	metric  model.Metric
	samples []model.SamplePair
	// staleAt: a staleness marker at this time (ms), 0 for none.
	staleAt int64
}

var rangeQueryRE = regexp.MustCompile(`^(.*)\[(\d+)ms\]$`)

func (f *fakeProm) QueryMatrix(_ context.Context, q string, at time.Time) (model.Matrix, error) {
	f.queries = append(f.queries, q)
	m := rangeQueryRE.FindStringSubmatch(q)
	if m == nil {
		return nil, fmt.Errorf("fake Prometheus: not a range selector: %s", q)
	}
	p := parser.NewParser(parser.Options{})
	expr, err := p.ParseExpr(m[1])
	if err != nil {
		return nil, err
	}
	rng, _ := strconv.ParseInt(m[2], 10, 64)
	end := at.UnixMilli()
	var out model.Matrix
	n := 0
	for _, s := range f.series {
		if !matches(expr.(*parser.VectorSelector).LabelMatchers, s.metric) {
			continue
		}
		ss := &model.SampleStream{Metric: s.metric}
		for _, p := range s.samples {
			if t := int64(p.Timestamp); t > end-rng && t <= end {
				ss.Values = append(ss.Values, p)
			}
		}
		if len(ss.Values) > 0 {
			out = append(out, ss)
			n += len(ss.Values)
		}
	}
	if f.maxSamples > 0 && n > f.maxSamples {
		return nil, &sources.Error{Kind: sources.BadResponse, Source: "prometheus", Err: &httpclient.ResponseTooLargeError{Limit: 1}}
	}
	return out, nil
}

func (f *fakeProm) Query(_ context.Context, q string, at time.Time) (model.Vector, error) {
	f.queries = append(f.queries, "instant "+q)
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		return nil, err
	}
	t := at.UnixMilli()
	var out model.Vector
	for _, s := range f.series {
		if !matches(expr.(*parser.VectorSelector).LabelMatchers, s.metric) {
			continue
		}
		if s.staleAt != 0 && s.staleAt <= t {
			continue
		}
		for i := len(s.samples) - 1; i >= 0; i-- {
			if ts := int64(s.samples[i].Timestamp); ts <= t && ts > t-Lookback.Milliseconds() {
				out = append(out, &model.Sample{Metric: s.metric, Value: s.samples[i].Value, Timestamp: model.Time(t)})
				break
			}
		}
	}
	return out, nil
}

// every15s makes samples every 15s from..to (ms), value i*step.
func every15s(from, to int64, step float64) []model.SamplePair {
	var out []model.SamplePair
	for t, i := from, 0; t <= to; t, i = t+15000, i+1 {
		out = append(out, model.SamplePair{Timestamp: model.Time(t), Value: model.SampleValue(float64(i) * step)})
	}
	return out
}

func TestRecordMetricsChunksAndMerges(t *testing.T) {
	at := planAt
	atMs := at.UnixMilli()
	f := &fakeProm{series: []fakeSeries{
		{metric: model.Metric{"__name__": "x_total", "job": "a"}, samples: every15s(atMs-3*3600_000, atMs, 1)},
		{metric: model.Metric{"__name__": "x_total", "job": "b"}, samples: every15s(atMs-3*3600_000+1234, atMs, 0.5)},
		{metric: model.Metric{"__name__": "y", "job": "a"}, samples: every15s(atMs-3*3600_000, atMs, 2)},
	}, maxSamples: 100}
	sels, err := PlanMetrics([]string{`sum(rate(x_total[1h]))`, `sum(x_total{job="a"})`, `y`}, at)
	if err != nil {
		t.Fatal(err)
	}
	set, st, err := recordMetrics(context.Background(), f, sels, func(s string) { t.Error(s) }, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// 1h of x_total: 240 samples per series, fetched in pieces of at
	// most 100 samples in all.
	xa := recordedSamples(t, set, `x_total{job="a"}`)
	if len(xa) != 241 {
		t.Fatalf("x_total{job=a}: %v samples, want 241 (1h of 15s, both ends)", len(xa))
	}
	for i := 1; i < len(xa); i++ {
		if xa[i].Timestamp <= xa[i-1].Timestamp {
			t.Fatalf("samples out of order or repeated at %d", i)
		}
	}
	if st.Requests < 6 {
		t.Errorf("only %d requests: the too-large answers were not split", st.Requests)
	}
	if y := recordedSamples(t, set, `y{job="a"}`); len(y) != 21 {
		t.Errorf("y: want the 5m lookback (21 samples)")
	}
	if st.Series != 3 {
		t.Errorf("%d series, want 3", st.Series)
	}
}

// recordedSamples are the samples of the series key as they are written.
func recordedSamples(t *testing.T, set *metricSet, key string) []model.SamplePair {
	t.Helper()
	s := set.byKey[key]
	if s == nil {
		return nil
	}
	samples, err := set.samples(s)
	if err != nil {
		t.Fatal(err)
	}
	return samples
}

func TestRecordMetricsDropsStaleSeries(t *testing.T) {
	at := planAt
	atMs := at.UnixMilli()
	f := &fakeProm{series: []fakeSeries{
		{metric: model.Metric{"__name__": "up", "instance": "live"}, samples: every15s(atMs-3600_000, atMs, 0)},
		// Stopped 2 minutes ago: stale, but its last samples are
		// within the lookback.
		{metric: model.Metric{"__name__": "up", "instance": "gone"}, samples: every15s(atMs-3600_000, atMs-150_000, 0), staleAt: atMs - 120_000},
	}}
	sels, _ := PlanMetrics([]string{`count(up)`}, at)
	set, _, err := recordMetrics(context.Background(), f, sels, func(s string) { t.Error(s) }, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if g := recordedSamples(t, set, `up{instance="gone"}`); len(g) != 0 {
		t.Errorf("the stale series kept %d samples in the lookback", len(g))
	}
	if l := recordedSamples(t, set, `up{instance="live"}`); len(l) != 21 {
		t.Errorf("the live series has %d samples, want 21", len(l))
	}

	// When a range read needs the samples, they stay, with a warning.
	sels, _ = PlanMetrics([]string{`count(up)`, `sum(count_over_time(up[10m]))`}, at)
	var warnings []string
	set, _, err = recordMetrics(context.Background(), f, sels, func(s string) { warnings = append(warnings, s) }, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if g := recordedSamples(t, set, `up{instance="gone"}`); len(g) == 0 || len(warnings) != 1 || !strings.Contains(warnings[0], `up{instance="gone"} is stale`) {
		t.Errorf("want the samples kept and one warning, got %d samples, warnings %q", len(g), warnings)
	}
}

func TestRecordMetricsRefusesNativeHistograms(t *testing.T) {
	src := histogramSource{}
	sels, _ := PlanMetrics([]string{`h`}, planAt)
	_, _, err := recordMetrics(context.Background(), src, sels, func(string) {}, t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "native histogram") {
		t.Errorf("err = %v, want a native histogram error", err)
	}
}

type histogramSource struct{}

func (histogramSource) QueryMatrix(context.Context, string, time.Time) (model.Matrix, error) {
	return model.Matrix{{Metric: model.Metric{"__name__": "h"}, Histograms: []model.SampleHistogramPair{{Timestamp: 1, Histogram: &model.SampleHistogram{}}}}}, nil
}

func (histogramSource) Query(context.Context, string, time.Time) (model.Vector, error) {
	return nil, nil
}

// TestOpenMetricsRoundTrip writes awkward series and values and reads
// them back with the snapshot reader (Prometheus' own OpenMetrics parser
// and TSDB): every sample comes back bit for bit.
func TestOpenMetricsRoundTrip(t *testing.T) {
	set := newMetricSet(t.TempDir())
	add := func(m model.Metric, pairs ...model.SamplePair) {
		set.add(&model.SampleStream{Metric: m, Values: pairs})
	}
	add(model.Metric{"__name__": "b_bucket", "le": "0.1", "job": "w"}, model.SamplePair{Timestamp: 1795694400123, Value: 3}, model.SamplePair{Timestamp: 1795694415999, Value: 4})
	add(model.Metric{"__name__": "b_bucket", "le": "+Inf", "job": "w"}, model.SamplePair{Timestamp: 1795694400001, Value: 1e300})
	add(model.Metric{"__name__": "a_total", "path": "/x\"y\\z\nw"}, model.SamplePair{Timestamp: 1795694400000, Value: 0.30000000000000004})
	add(model.Metric{"__name__": "a_created"}, model.SamplePair{Timestamp: 1795694400500, Value: -1.5e-12})
	var buf bytes.Buffer
	if err := writeOpenMetrics(&buf, set); err != nil {
		t.Fatal(err)
	}
	want := `# TYPE a_created unknown
a_created -1.5e-12 1795694400.500
# TYPE a_total unknown
a_total{path="/x\"y\\z\nw"} 0.30000000000000004 1795694400
# TYPE b_bucket unknown
b_bucket{job="w",le="+Inf"} 1e+300 1795694400.001
b_bucket{job="w",le="0.1"} 3 1795694400.123
b_bucket{job="w",le="0.1"} 4 1795694415.999
# EOF
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "metrics.om"), buf.Bytes(), 0o644)
	if err := snapshot.WriteManifest(dir, snapshot.Manifest{EvaluatedAt: planAt}); err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q, err := s.PromQL(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1795694416000)
	for query, want := range map[string]float64{
		`sum_over_time(b_bucket{le="0.1"}[1m])`:                 7,
		`timestamp(b_bucket{le="0.1"})`:                         1795694415.999,
		`min_over_time(timestamp(b_bucket{le="+Inf"})[1m:1ms])`: 1795694400.001,
		`a_total{path="/x\"y\\z\nw"}`:                           0.30000000000000004,
		`a_created`:                                             -1.5e-12,
		`b_bucket{le="+Inf"}`:                                   1e300,
	} {
		vec, err := q.Query(context.Background(), query, at)
		if err != nil || len(vec) != 1 || float64(vec[0].Value) != want {
			t.Errorf("%s = %v, %v; want %v", query, vec, err, want)
		}
	}
}

func TestOpenMetricsRefusesUTF8Names(t *testing.T) {
	set := newMetricSet(t.TempDir())
	set.add(&model.SampleStream{Metric: model.Metric{"__name__": "café"}, Values: []model.SamplePair{{Timestamp: 1, Value: 1}}})
	if err := writeOpenMetrics(&bytes.Buffer{}, set); err == nil {
		t.Error("a metric name OpenMetrics 1.0 cannot spell must be an error")
	}
}

func TestAppendTimestamp(t *testing.T) {
	for ms, want := range map[int64]string{
		1795694400000: "1795694400",
		1795694400001: "1795694400.001",
		1795694400120: "1795694400.120",
		-1500:         "-1.500",
		0:             "0",
	} {
		if got := string(appendTimestamp(nil, ms)); got != want {
			t.Errorf("appendTimestamp(%d) = %s, want %s", ms, got, want)
		}
	}
	// Every third millisecond of 100 minutes around the fixtures reads
	// back exactly, whether the parser truncates (Prometheus) or rounds.
	for ms := int64(1795690000000); ms < 1795690000000+6_000_000; ms += 3 {
		s := string(appendTimestamp(nil, ms))
		f, _ := strconv.ParseFloat(s, 64)
		if int64(f*1000) != ms || int64(math.Round(f*1000)) != ms {
			t.Fatalf("%d written as %s reads back as %d (rounded %d)", ms, s, int64(f*1000), int64(math.Round(f*1000)))
		}
	}
}

// TestRecordMetricsSpillsSamples: the recorded samples wait in a spill file
// in the given directory, not in memory, and closing the set removes it.
func TestRecordMetricsSpillsSamples(t *testing.T) {
	at := planAt
	atMs := at.UnixMilli()
	f := &fakeProm{series: []fakeSeries{
		{metric: model.Metric{"__name__": "x_total", "job": "a"}, samples: every15s(atMs-3600_000, atMs, 1)},
		{metric: model.Metric{"__name__": "x_total", "job": "b"}, samples: every15s(atMs-3600_000, atMs, 2)},
	}}
	sels, err := PlanMetrics([]string{`sum(rate(x_total[1h]))`}, at)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	set, st, err := recordMetrics(context.Background(), f, sels, func(s string) { t.Error(s) }, dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Series != 2 || st.Samples != 2*241 {
		t.Errorf("%d series, %d samples; want 2, 482", st.Series, st.Samples)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || !strings.HasSuffix(ents[0].Name(), ".spill") {
		t.Fatalf("%s holds %v, want one spill file", dir, ents)
	}
	info, _ := ents[0].Info()
	if info.Size() != int64(st.Samples)*spillSampleBytes {
		t.Errorf("spill file of %d bytes, want %d (16 per sample)", info.Size(), st.Samples*spillSampleBytes)
	}
	var buf bytes.Buffer
	if err := writeOpenMetrics(&buf, set); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "\nx_total{job="); got != 482 {
		t.Errorf("metrics.om holds %d samples, want 482", got)
	}
	set.close()
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("after close, %s still holds %v", dir, ents)
	}
}
