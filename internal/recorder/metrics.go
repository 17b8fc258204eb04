package recorder

import (
	"bufio"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
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

// series is one recorded series. Its samples are not held in memory: they
// wait in the set's spill file until the series is written.
type series struct {
	key    string // metric.String(), the merge key
	metric model.Metric
	blocks []spillBlock // where its samples are in the spill, in the order they came
}

// spillBlock is one answer's samples of a series in the spill file.
type spillBlock struct {
	off int64
	n   int
}

// spillSampleBytes is one sample in the spill: timestamp and value bits.
const spillSampleBytes = 16

// metricSet is every recorded series, merged over selectors and pieces.
// The samples go to a spill file as they come, so that a recording holds
// one answer and one series at a time in memory, not all of them; the
// series are put together (sorted, repeats dropped, stale samples
// removed) one by one when they are counted and written.
type metricSet struct {
	byKey map[string]*series
	dir   string // where the spill file goes ("" for the system's temporary directory)
	spill *os.File
	w     *bufio.Writer
	off   int64
	err   error // the first spill error
	// stale are the instant reads whose live series were asked for, in
	// the order dropStale asked; sels and warn are for the samples they
	// remove (see applyStale).
	stale []staleRead
	sels  []*Selector
	warn  func(string)
}

// staleRead is one instant read of sel at at, and the series live then.
type staleRead struct {
	sel  *Selector
	at   int64
	live map[string]bool
}

func newMetricSet(dir string) *metricSet {
	return &metricSet{byKey: map[string]*series{}, dir: dir, warn: func(string) {}}
}

func (m *metricSet) add(ss *model.SampleStream) {
	key := ss.Metric.String()
	s := m.byKey[key]
	if s == nil {
		s = &series{key: key, metric: ss.Metric}
		m.byKey[key] = s
	}
	if len(ss.Values) == 0 || m.err != nil {
		return
	}
	if m.spill == nil {
		f, err := os.CreateTemp(m.dir, ".metrics-*.spill")
		if err != nil {
			m.err = fmt.Errorf("recording metric samples: %w", err)
			return
		}
		m.spill, m.w = f, bufio.NewWriterSize(f, 256<<10)
	}
	var buf [spillSampleBytes]byte
	for _, p := range ss.Values {
		binary.LittleEndian.PutUint64(buf[:8], uint64(p.Timestamp))
		binary.LittleEndian.PutUint64(buf[8:], math.Float64bits(float64(p.Value)))
		if _, err := m.w.Write(buf[:]); err != nil {
			m.err = fmt.Errorf("recording metric samples: %w", err)
			return
		}
	}
	s.blocks = append(s.blocks, spillBlock{off: m.off, n: len(ss.Values)})
	m.off += int64(len(ss.Values)) * spillSampleBytes
}

// samples returns s's samples as they are written: in time order, each
// time once (overlapping spans and the closed ends of 2.x ranges fetch
// some twice: the first fetched stays), without those of stale reads.
func (m *metricSet) samples(s *series) ([]model.SamplePair, error) {
	if m.err != nil {
		return nil, m.err
	}
	if len(s.blocks) == 0 {
		return nil, nil
	}
	if m.w.Buffered() > 0 {
		if err := m.w.Flush(); err != nil {
			m.err = fmt.Errorf("recording metric samples: %w", err)
			return nil, m.err
		}
	}
	n := 0
	for _, b := range s.blocks {
		n += b.n
	}
	out := make([]model.SamplePair, 0, n)
	var raw []byte
	for _, b := range s.blocks {
		raw = slices.Grow(raw[:0], b.n*spillSampleBytes)[:b.n*spillSampleBytes]
		if _, err := m.spill.ReadAt(raw, b.off); err != nil {
			return nil, fmt.Errorf("reading back recorded metric samples: %w", err)
		}
		for i := 0; i < len(raw); i += spillSampleBytes {
			out = append(out, model.SamplePair{
				Timestamp: model.Time(binary.LittleEndian.Uint64(raw[i:])),
				Value:     model.SampleValue(math.Float64frombits(binary.LittleEndian.Uint64(raw[i+8:]))),
			})
		}
	}
	slices.SortStableFunc(out, func(a, b model.SamplePair) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	out = slices.CompactFunc(out, func(a, b model.SamplePair) bool { return a.Timestamp == b.Timestamp })
	return m.applyStale(s, out), nil
}

// close removes the spill file.
func (m *metricSet) close() {
	if m.spill != nil {
		m.spill.Close()
		os.Remove(m.spill.Name())
		m.spill = nil
	}
}

// sortedSeries returns the series in key order.
func (m *metricSet) sortedSeries() []*series {
	out := make([]*series, 0, len(m.byKey))
	for _, s := range m.byKey {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *series) int { return strings.Compare(a.key, b.key) })
	return out
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
// handled (see dropStale). The samples wait in a spill file in dir ("" for
// the system's temporary directory): close the set when done with it.
// Counting the series and samples reads them back once, and says then
// what warn is told about stale series.
func recordMetrics(ctx context.Context, src PromSource, sels []*Selector, warn func(string), dir string) (*metricSet, MetricStats, error) {
	r := &metricRecorder{src: src, set: newMetricSet(dir), warn: warn}
	fail := func(err error) (*metricSet, MetricStats, error) {
		r.set.close()
		return nil, MetricStats{}, err
	}
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
			return fail(err)
		}
	}
	if err := r.dropStale(ctx, sels); err != nil {
		return fail(err)
	}
	st := MetricStats{Selectors: len(sels), Requests: r.reqs}
	r.set.warn = warn
	for _, s := range r.set.sortedSeries() {
		samples, err := r.set.samples(s)
		if err != nil {
			return fail(err)
		}
		if len(samples) > 0 {
			st.Series++
			st.Samples += len(samples)
		}
	}
	// Said once is enough: writing reads them back again.
	r.set.warn = func(string) {}
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
// that offline will see it). The samples go when the series is read back
// (applyStale).
func (r *metricRecorder) dropStale(ctx context.Context, sels []*Selector) error {
	r.set.sels = sels
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
			r.set.stale = append(r.set.stale, staleRead{sel: sel, at: at, live: live})
		}
	}
	return nil
}

// applyStale removes from samples, s's in time order, those that the
// stale reads remove (dropStale), in the order the reads were asked.
func (m *metricSet) applyStale(s *series, samples []model.SamplePair) []model.SamplePair {
	for _, rd := range m.stale {
		if rd.live[s.key] || !matches(rd.sel.Matchers, s.metric) {
			continue
		}
		from := rd.at - Lookback.Milliseconds()
		lo, hi := window(samples, from, rd.at)
		if lo == hi {
			continue
		}
		if needed := neededElsewhere(m.sels, s, rd.at, samples[lo:hi]); needed != "" {
			m.warn(fmt.Sprintf("%s is stale at %s (it stopped within the lookback), but its samples are also read by %s: offline evaluation will still see it there",
				s.key, time.UnixMilli(rd.at).UTC().Format(time.RFC3339Nano), needed))
			continue
		}
		samples = slices.Delete(samples, lo, hi)
	}
	return samples
}

// neededElsewhere names a selector whose other reads (anything but an
// instant read at at) include one of these samples of s, or "".
func neededElsewhere(sels []*Selector, s *series, at int64, samples []model.SamplePair) string {
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
