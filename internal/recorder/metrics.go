package recorder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// PromSource is what recording metrics asks of a Prometheus-compatible
// server; the live client (sources/prometheus) implements it.
type PromSource interface {
	Query(ctx context.Context, query string, at time.Time) (model.Vector, error)
	QueryMatrix(ctx context.Context, query string, at time.Time) (model.Matrix, error)
}

// minChunk is the shortest piece of time a selector's samples are
// fetched in. Answers too large for one request are fetched in halves
// down to this.
const minChunk = time.Minute

// series is one recorded series.
type series struct {
	key     string // metric.String(), the merge key
	metric  model.Metric
	samples []model.SamplePair
	sorted  bool
}

// metricSet is every recorded series, merged over selectors and pieces.
type metricSet struct {
	byKey map[string]*series
}

func newMetricSet() *metricSet { return &metricSet{byKey: map[string]*series{}} }

func (m *metricSet) add(ss *model.SampleStream) {
	key := ss.Metric.String()
	s := m.byKey[key]
	if s == nil {
		s = &series{key: key, metric: ss.Metric}
		m.byKey[key] = s
	}
	s.samples = append(s.samples, ss.Values...)
	s.sorted = false
}

// normalize sorts each series' samples by time and drops repeats, which
// overlapping spans and the closed ends of 2.x ranges fetch twice.
func (m *metricSet) normalize() {
	for _, s := range m.byKey {
		if s.sorted {
			continue
		}
		slices.SortStableFunc(s.samples, func(a, b model.SamplePair) int {
			switch {
			case a.Timestamp < b.Timestamp:
				return -1
			case a.Timestamp > b.Timestamp:
				return 1
			}
			return 0
		})
		s.samples = slices.CompactFunc(s.samples, func(a, b model.SamplePair) bool { return a.Timestamp == b.Timestamp })
		s.sorted = true
	}
}

// MetricStats says what was recorded.
type MetricStats struct {
	Selectors int
	Series    int
	Samples   int
	Requests  int
}

// metricRecorder fetches the samples of planned selectors.
type metricRecorder struct {
	src  PromSource
	set  *metricSet
	warn func(string)
	reqs int
}

// recordMetrics fetches every span of every selector and returns the
// merged series, with series that went stale before an instant read
// handled (see dropStale).
func recordMetrics(ctx context.Context, src PromSource, sels []*Selector, warn func(string)) (*metricSet, MetricStats, error) {
	r := &metricRecorder{src: src, set: newMetricSet(), warn: warn}
	for _, sel := range sels {
		err := withQueries(ctx, sel.queries, func(ctx context.Context) error {
			for _, sp := range sel.spans {
				if err := r.fetchSpan(ctx, sel, sp); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, MetricStats{}, err
		}
	}
	r.set.normalize()
	if err := r.dropStale(ctx, sels); err != nil {
		return nil, MetricStats{}, err
	}
	st := MetricStats{Selectors: len(sels), Requests: r.reqs}
	for _, s := range r.set.byKey {
		if len(s.samples) > 0 {
			st.Series++
			st.Samples += len(s.samples)
		}
	}
	return r.set, st, nil
}

// fetchSpan fetches the samples of sel in sp, newest piece first: a piece
// of c milliseconds ending at e is `SEL[c ms]` at e, which reads (e-c, e]
// in Prometheus 3 and [e-c, e] in 2.x. The oldest piece reaches one
// millisecond before sp.start, so both include a sample at sp.start.
func (r *metricRecorder) fetchSpan(ctx context.Context, sel *Selector, sp span) error {
	chunk := sp.end - sp.start + 1
	for end := sp.end; end >= sp.start; {
		c := min(chunk, end-sp.start+1)
		q := fmt.Sprintf("%s[%dms]", sel.Text, c)
		r.reqs++
		m, err := r.src.QueryMatrix(ctx, q, time.UnixMilli(end))
		if err != nil {
			if tooLarge(err) && c/2 >= minChunk.Milliseconds() {
				chunk = c / 2
				continue
			}
			return fmt.Errorf("recording the samples of %s: %w", q, err)
		}
		for _, ss := range m {
			if len(ss.Histograms) > 0 {
				return fmt.Errorf("recording %s: series %s holds native histogram samples, which OpenMetrics text (the snapshot's metrics format) cannot carry", q, ss.Metric)
			}
			r.set.add(ss)
		}
		end -= c
	}
	return nil
}

// tooLarge reports an answer too large to take in one request: over our
// response size cap, or over the server's --query.max-samples.
func tooLarge(err error) bool {
	var big *httpclient.ResponseTooLargeError
	if errors.As(err, &big) {
		return true
	}
	var apiErr *v1.Error
	return errors.As(err, &apiErr) && strings.Contains(apiErr.Msg, "too many samples")
}

// dropStale handles series that ended shortly before an instant read. A
// series that stopped (its target went away) gets a staleness marker, and
// from then on an instant selector no longer returns it, although its last
// samples are within the lookback. The API does not return markers, and
// OpenMetrics text cannot carry them, so offline the series would still
// be seen. For each time a selector is read as an instant vector, the
// series it returns live are asked for; a recorded series that matches
// the selector but is not among them loses its samples in the lookback
// before that time, unless another read needs them (then a warning says
// that offline will see it).
func (r *metricRecorder) dropStale(ctx context.Context, sels []*Selector) error {
	for _, sel := range sels {
		for _, at := range sel.instantAt {
			r.reqs++
			var vec model.Vector
			err := withQueries(ctx, sel.queries, func(ctx context.Context) (err error) {
				vec, err = r.src.Query(ctx, sel.Text, time.UnixMilli(at))
				return err
			})
			if err != nil {
				return fmt.Errorf("asking which series of %s are live at %s: %w", sel.Text, time.UnixMilli(at).UTC().Format(time.RFC3339Nano), err)
			}
			live := make(map[string]bool, len(vec))
			for _, s := range vec {
				live[s.Metric.String()] = true
			}
			from := at - Lookback.Milliseconds()
			for key, s := range r.set.byKey {
				if live[key] || !matches(sel.Matchers, s.metric) {
					continue
				}
				lo, hi := window(s.samples, from, at)
				if lo == hi {
					continue
				}
				if needed := r.neededElsewhere(sels, s, at, s.samples[lo:hi]); needed != "" {
					r.warn(fmt.Sprintf("%s is stale at %s (it stopped within the lookback), but its samples are also read by %s: offline evaluation will still see it there",
						key, time.UnixMilli(at).UTC().Format(time.RFC3339Nano), needed))
					continue
				}
				s.samples = slices.Delete(s.samples, lo, hi)
			}
		}
	}
	return nil
}

// neededElsewhere names a selector whose other reads (anything but an
// instant read at at) include one of these samples of s, or "".
func (r *metricRecorder) neededElsewhere(sels []*Selector, s *series, at int64, samples []model.SamplePair) string {
	for _, other := range sels {
		if !matches(other.Matchers, s.metric) {
			continue
		}
		for _, rd := range other.reads {
			if rd.single && rd.span.end == at {
				continue
			}
			for _, p := range samples {
				if t := int64(p.Timestamp); rd.span.start <= t && t <= rd.span.end {
					return other.Text
				}
			}
		}
	}
	return ""
}

// window is the index range of samples with from <= t <= to.
func window(samples []model.SamplePair, from, to int64) (int, int) {
	lo, _ := slices.BinarySearchFunc(samples, from, func(p model.SamplePair, t int64) int { return cmpInt(int64(p.Timestamp), t) })
	hi, found := slices.BinarySearchFunc(samples, to, func(p model.SamplePair, t int64) int { return cmpInt(int64(p.Timestamp), t) })
	if found {
		hi++
	}
	return lo, hi
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func matches(ms []*labels.Matcher, m model.Metric) bool {
	for _, mt := range ms {
		if !mt.Matches(string(m[model.LabelName(mt.Name)])) {
			return false
		}
	}
	return true
}
