package memstore

import (
	"context"
	"errors"
	"slices"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/util/annotations"
)

var _ storage.Queryable = (*Store)(nil)

// Querier reads the samples within [mint, maxt] (inclusive). The store
// must be sealed.
func (s *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	if !s.sealed {
		return nil, errors.New("memstore: queried before Seal")
	}
	return &querier{s: s, mint: mint, maxt: maxt}, nil
}

type querier struct {
	s          *Store
	mint, maxt int64
}

// Select returns the series that match every matcher and have a sample in
// the hints' [Start, End] (the querier's range without hints), with those
// samples only: a TSDB querier's answer. Unsorted, series come in the
// order they were created, as a TSDB head returns them (the order in
// which the engine then sums them); sorted, by labels.
func (q *querier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	mint, maxt := q.mint, q.maxt
	if hints != nil {
		mint, maxt = hints.Start, hints.End
	}
	var out []storage.Series
	for _, ref := range q.s.candidates(ms) {
		if err := ctx.Err(); err != nil {
			return storage.ErrSeriesSet(err)
		}
		series := q.s.series[ref]
		if !matches(series.lset, ms) {
			continue
		}
		if hints != nil && hints.ShardCount > 0 && labels.StableHash(series.lset)%hints.ShardCount != hints.ShardIndex {
			continue
		}
		from, to := series.span(mint, maxt)
		if from == to {
			continue
		}
		out = append(out, &seriesView{ref: ref, s: series, from: from, to: to})
	}
	if sortSeries {
		slices.SortFunc(out, func(a, b storage.Series) int {
			return q.s.compareRefs(a.(*seriesView).ref, b.(*seriesView).ref)
		})
	}
	if hints != nil && hints.Limit > 0 && len(out) > hints.Limit {
		out = out[:hints.Limit]
	}
	return &seriesSet{series: out, i: -1}
}

// candidates are the series that may match ms, in Ref order: those of the
// metric name when a matcher asks for one name, else all.
func (s *Store) candidates(ms []*labels.Matcher) []Ref {
	for _, m := range ms {
		if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
			return s.byName[m.Value]
		}
	}
	all := make([]Ref, len(s.series))
	for i := range all {
		all[i] = Ref(i)
	}
	return all
}

func matches(lset labels.Labels, ms []*labels.Matcher) bool {
	for _, m := range ms {
		if !m.Matches(lset.Get(m.Name)) {
			return false
		}
	}
	return true
}

// inRange reports whether ms has a sample within [mint, maxt].
func (ms *memSeries) inRange(mint, maxt int64) bool {
	from, to := ms.span(mint, maxt)
	return from < to
}

// LabelValues are the values of the label name over the series that match
// ms and have a sample in the querier's range, sorted, without the empty
// value.
func (q *querier) LabelValues(ctx context.Context, name string, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	err := q.eachLabelSet(ctx, ms, func(lset labels.Labels) {
		if v := lset.Get(name); v != "" {
			seen[v] = struct{}{}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	return limited(seen, hints), nil, nil
}

// LabelNames are the label names of the series that match ms and have a
// sample in the querier's range, sorted.
func (q *querier) LabelNames(ctx context.Context, hints *storage.LabelHints, ms ...*labels.Matcher) ([]string, annotations.Annotations, error) {
	seen := map[string]struct{}{}
	err := q.eachLabelSet(ctx, ms, func(lset labels.Labels) {
		lset.Range(func(l labels.Label) { seen[l.Name] = struct{}{} })
	})
	if err != nil {
		return nil, nil, err
	}
	return limited(seen, hints), nil, nil
}

// eachLabelSet calls fn with the labels of every series that matches ms
// and has a sample in the querier's range.
func (q *querier) eachLabelSet(ctx context.Context, ms []*labels.Matcher, fn func(labels.Labels)) error {
	for _, ref := range q.s.candidates(ms) {
		if err := ctx.Err(); err != nil {
			return err
		}
		series := q.s.series[ref]
		if matches(series.lset, ms) && series.inRange(q.mint, q.maxt) {
			fn(series.lset)
		}
	}
	return nil
}

func limited(set map[string]struct{}, hints *storage.LabelHints) []string {
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	slices.Sort(out)
	if hints != nil && hints.Limit > 0 && len(out) > hints.Limit {
		out = out[:hints.Limit]
	}
	return out
}

func (q *querier) Close() error { return nil }

type seriesSet struct {
	series []storage.Series
	i      int
}

func (s *seriesSet) Next() bool {
	if s.i+1 >= len(s.series) {
		s.i = len(s.series)
		return false
	}
	s.i++
	return true
}

func (s *seriesSet) At() storage.Series                { return s.series[s.i] }
func (s *seriesSet) Err() error                        { return nil }
func (s *seriesSet) Warnings() annotations.Annotations { return nil }

// seriesView is a series with its samples in [from, to).
type seriesView struct {
	ref      Ref
	s        *memSeries
	from, to int
}

func (v *seriesView) Labels() labels.Labels { return v.s.lset }

func (v *seriesView) Iterator(reuse chunkenc.Iterator) chunkenc.Iterator {
	it, ok := reuse.(*iterator[int64])
	if !ok {
		it = &iterator[int64]{}
	}
	*it = iterator[int64]{s: v.s, from: v.from, to: v.to, i: v.from - 1}
	return it
}

// iterator walks the samples [from, to) of a series; i is the current one.
// It is used as iterator[int64] only: generic in the type of Seek's
// timestamp so that go vet's stdmethods check, which takes every
// Seek(int64) for io.Seeker's, leaves chunkenc.Iterator's Seek alone.
type iterator[T ~int64] struct {
	s        *memSeries
	from, to int
	i        int
}

func (it *iterator[T]) typ() chunkenc.ValueType {
	if it.i >= it.to {
		return chunkenc.ValNone
	}
	switch {
	case it.s.h != nil && it.s.h[it.i] != nil:
		return chunkenc.ValHistogram
	case it.s.fh != nil && it.s.fh[it.i] != nil:
		return chunkenc.ValFloatHistogram
	}
	return chunkenc.ValFloat
}

func (it *iterator[T]) Next() chunkenc.ValueType {
	if it.i < it.to {
		it.i++
	}
	return it.typ()
}

func (it *iterator[T]) Seek(t T) chunkenc.ValueType {
	if it.i >= it.to {
		return chunkenc.ValNone
	}
	if it.i >= it.from && it.s.t[it.i] >= int64(t) {
		return it.typ()
	}
	start := max(it.i, it.from)
	j, _ := slices.BinarySearch(it.s.t[start:it.to], int64(t))
	it.i = start + j
	return it.typ()
}

func (it *iterator[T]) At() (int64, float64) { return it.s.t[it.i], it.s.f[it.i] }

func (it *iterator[T]) AtHistogram(h *histogram.Histogram) (int64, *histogram.Histogram) {
	src := it.s.h[it.i]
	if h == nil {
		return it.s.t[it.i], src.Copy()
	}
	src.CopyTo(h)
	return it.s.t[it.i], h
}

func (it *iterator[T]) AtFloatHistogram(fh *histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	if it.s.h != nil && it.s.h[it.i] != nil {
		return it.s.t[it.i], it.s.h[it.i].ToFloat(fh)
	}
	src := it.s.fh[it.i]
	if fh == nil {
		return it.s.t[it.i], src.Copy()
	}
	src.CopyTo(fh)
	return it.s.t[it.i], fh
}

func (it *iterator[T]) AtT() int64  { return it.s.t[it.i] }
func (it *iterator[T]) AtST() int64 { return 0 }
func (it *iterator[T]) Err() error  { return nil }
