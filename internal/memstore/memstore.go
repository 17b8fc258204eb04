// Package memstore is an in-memory storage.Queryable for Prometheus' PromQL
// engine: the offline evaluator's storage in place of a TSDB head, which
// would bring Prometheus' tsdb package, and with it its config and service
// discovery packages and the cloud SDKs they import, into the binary.
//
// A Store is filled first (Series, Append, AppendHistogram), then sealed
// (Seal), then queried. Samples are kept as plain arrays per series: a
// timestamp and a float (16 bytes) per sample, plus the room appending
// leaves, histograms as pointers beside them. What is stored is what a query returns, bit for bit:
// staleness markers (value.StaleNaN) are float samples like any other,
// which the engine honours exactly as it does those of a TSDB head.
package memstore

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

// ErrInvalidSample is wrapped by the errors of Series for a label set the
// TSDB head refuses too; the messages are the head's.
var ErrInvalidSample = errors.New("invalid sample")

// Ref names a series of a Store.
type Ref int32

// Store holds series in memory. It is not safe for concurrent use while
// being filled; once sealed, any number of queriers may read it at once.
type Store struct {
	series []*memSeries // by Ref: the order of creation
	byHash map[uint64][]Ref
	byName map[string][]Ref // by __name__, each in Ref order
	sorted []Ref            // by labels, built by Seal
	sealed bool
	mint   int64 // of all samples, after Seal
	maxt   int64
}

type memSeries struct {
	lset labels.Labels
	t    []int64
	f    []float64
	// h and fh are nil for a series of floats only; otherwise as long as
	// t, with nil where the sample is a float.
	h  []*histogram.Histogram
	fh []*histogram.FloatHistogram
	// runs are the indices where a timestamp is not after the one
	// before: samples of one run are in time order. Seal merges them.
	runs []int
}

// New returns an empty Store.
func New() *Store {
	return &Store{byHash: map[uint64][]Ref{}, byName: map[string][]Ref{}, mint: math.MaxInt64, maxt: math.MinInt64}
}

// Series returns the series of lset, creating it when new. As in a TSDB
// head, labels with an empty value are dropped (`up{a=""}` is `up`), and
// a set left empty or naming a label twice is refused.
func (s *Store) Series(lset labels.Labels) (Ref, error) {
	if s.sealed {
		return 0, errors.New("memstore: series added after Seal")
	}
	lset = lset.WithoutEmpty()
	if lset.IsEmpty() {
		return 0, fmt.Errorf("empty labelset: %w", ErrInvalidSample)
	}
	if l, dup := lset.HasDuplicateLabelNames(); dup {
		return 0, fmt.Errorf(`label name "%s" is not unique: %w`, l, ErrInvalidSample)
	}
	h := lset.Hash()
	for _, ref := range s.byHash[h] {
		if labels.Equal(s.series[ref].lset, lset) {
			return ref, nil
		}
	}
	if len(s.series) == math.MaxInt32 {
		return 0, errors.New("memstore: too many series")
	}
	ref := Ref(len(s.series))
	s.series = append(s.series, &memSeries{lset: lset})
	s.byHash[h] = append(s.byHash[h], ref)
	name := lset.Get(model.MetricNameLabel)
	s.byName[name] = append(s.byName[name], ref)
	return ref, nil
}

// Labels is the label set of a series.
func (s *Store) Labels(ref Ref) labels.Labels { return s.series[ref].lset }

// Append adds a float sample to a series. Samples may come in any order;
// the caller sees to it that a series has one sample per timestamp (Seal
// keeps the first appended of several).
//
// A staleness marker after a histogram sample is stored as a stale
// histogram, as a TSDB head stores it.
func (s *Store) Append(ref Ref, t int64, v float64) {
	ms := s.series[ref]
	if value.IsStaleNaN(v) && len(ms.t) > 0 {
		switch last := len(ms.t) - 1; {
		case ms.h != nil && ms.h[last] != nil:
			s.AppendHistogram(ref, t, &histogram.Histogram{Sum: v}, nil)
			return
		case ms.fh != nil && ms.fh[last] != nil:
			s.AppendHistogram(ref, t, nil, &histogram.FloatHistogram{Sum: v})
			return
		}
	}
	ms.add(t)
	ms.f = append(ms.f, v)
	if ms.h != nil {
		ms.h = append(ms.h, nil)
	}
	if ms.fh != nil {
		ms.fh = append(ms.fh, nil)
	}
}

// AppendHistogram adds a native histogram sample, h or fh (the other nil),
// to a series. The store keeps the pointer: the caller must not change the
// histogram afterwards.
func (s *Store) AppendHistogram(ref Ref, t int64, h *histogram.Histogram, fh *histogram.FloatHistogram) {
	ms := s.series[ref]
	n := len(ms.t)
	ms.add(t)
	ms.f = append(ms.f, 0)
	if h != nil && ms.h == nil {
		ms.h = make([]*histogram.Histogram, n, n+1)
	}
	if fh != nil && ms.fh == nil {
		ms.fh = make([]*histogram.FloatHistogram, n, n+1)
	}
	if ms.h != nil {
		ms.h = append(ms.h, h)
	}
	if ms.fh != nil {
		ms.fh = append(ms.fh, fh)
	}
}

func (ms *memSeries) add(t int64) {
	if n := len(ms.t); n > 0 && t <= ms.t[n-1] {
		ms.runs = append(ms.runs, n)
	}
	ms.t = append(ms.t, t)
}

// FloatAt is the float stored for a series at t, if there is one. It works
// before Seal, on samples appended in any order.
func (s *Store) FloatAt(ref Ref, t int64) (float64, bool) {
	ms := s.series[ref]
	start := 0
	for _, end := range append(ms.runs, len(ms.t)) {
		if i, ok := slices.BinarySearch(ms.t[start:end], t); ok {
			i += start
			if ms.isHistogram(i) {
				return 0, false
			}
			return ms.f[i], true
		}
		start = end
	}
	return 0, false
}

func (ms *memSeries) isHistogram(i int) bool {
	return (ms.h != nil && ms.h[i] != nil) || (ms.fh != nil && ms.fh[i] != nil)
}

// Seal ends the filling: each series' samples are put in time order (of
// several at one timestamp, the first appended stays) and the label index
// is built. The arrays keep the spare room that appending left: copying
// them to their length would cost more time than the memory is worth by
// then, when the load's peak is past.
func (s *Store) Seal() {
	if s.sealed {
		return
	}
	s.sealed = true
	for _, ms := range s.series {
		if len(ms.runs) > 0 {
			ms.merge()
		}
		if n := len(ms.t); n > 0 {
			s.mint = min(s.mint, ms.t[0])
			s.maxt = max(s.maxt, ms.t[n-1])
		}
	}
	s.sorted = make([]Ref, len(s.series))
	for i := range s.sorted {
		s.sorted[i] = Ref(i)
	}
	slices.SortFunc(s.sorted, func(a, b Ref) int { return labels.Compare(s.series[a].lset, s.series[b].lset) })
	s.byHash = nil
}

// merge sorts the samples by time, stably, and drops later duplicates.
func (ms *memSeries) merge() {
	idx := make([]int, len(ms.t))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ms.t[idx[a]] < ms.t[idx[b]] })
	keep := idx[:0]
	for _, i := range idx {
		if len(keep) > 0 && ms.t[keep[len(keep)-1]] == ms.t[i] {
			continue
		}
		keep = append(keep, i)
	}
	t := make([]int64, len(keep))
	f := make([]float64, len(keep))
	for j, i := range keep {
		t[j], f[j] = ms.t[i], ms.f[i]
	}
	if ms.h != nil {
		h := make([]*histogram.Histogram, len(keep))
		for j, i := range keep {
			h[j] = ms.h[i]
		}
		ms.h = h
	}
	if ms.fh != nil {
		fh := make([]*histogram.FloatHistogram, len(keep))
		for j, i := range keep {
			fh[j] = ms.fh[i]
		}
		ms.fh = fh
	}
	ms.t, ms.f, ms.runs = t, f, nil
}

// span is the index range [from, to) of ms' samples within [mint, maxt].
func (ms *memSeries) span(mint, maxt int64) (from, to int) {
	from, _ = slices.BinarySearch(ms.t, mint)
	to = from + sort.Search(len(ms.t)-from, func(i int) bool { return ms.t[from+i] > maxt })
	return from, to
}

// compareRefs orders series by labels.
func (s *Store) compareRefs(a, b Ref) int {
	if c := labels.Compare(s.series[a].lset, s.series[b].lset); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}
