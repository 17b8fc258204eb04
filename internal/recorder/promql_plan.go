package recorder

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Lookback is how far back an instant selector looks for a sample: the
// offline engine's (and Prometheus') default --query.lookback-delta.
const Lookback = 5 * time.Minute

// span is a closed interval of sample times, in milliseconds.
type span struct{ start, end int64 }

// Selector is one series selector the queries read, with every span of
// time they read it over.
type Selector struct {
	// Text is the selector without range, offset or @, in Prometheus'
	// canonical form (matchers sorted), e.g. `up{job="api"}`.
	Text     string
	Matchers []*labels.Matcher
	// spans are the times read, merged and sorted, to fetch.
	spans []span
	// reads are the selector's occurrences, unmerged.
	reads []read
	// instantAt are the times at which the selector is read as an instant
	// vector at a single evaluation time: there a series that went stale
	// before the time must not be seen offline either.
	instantAt []int64
	// queries are the queries that read the selector, as given.
	queries []string
}

// Spans returns the merged spans read, as times.
func (s *Selector) Spans() [][2]time.Time {
	out := make([][2]time.Time, len(s.spans))
	for i, sp := range s.spans {
		out[i] = [2]time.Time{time.UnixMilli(sp.start).UTC(), time.UnixMilli(sp.end).UTC()}
	}
	return out
}

// PlanMetrics finds what each query reads when evaluated at at: the
// selectors and their spans, merged over all queries. A query that does
// not parse is an error naming it.
func PlanMetrics(queries []string, at time.Time) ([]*Selector, error) {
	atMs := toMillis(at)
	byText := map[string]*Selector{}
	p := parser.NewParser(parser.Options{})
	for _, q := range queries {
		expr, err := p.ParseExpr(q)
		if err != nil {
			return nil, fmt.Errorf("parsing PromQL %s: %w", q, err)
		}
		var walkErr error
		parser.Inspect(expr, func(node parser.Node, path []parser.Node) error {
			vs, ok := node.(*parser.VectorSelector)
			if !ok || walkErr != nil {
				return nil
			}
			r, err := readOf(vs, path, atMs)
			if err != nil {
				walkErr = fmt.Errorf("PromQL %s: %w", q, err)
				return nil
			}
			plain := &parser.VectorSelector{Name: vs.Name, LabelMatchers: vs.LabelMatchers}
			text := plain.String()
			sel := byText[text]
			if sel == nil {
				sel = &Selector{Text: text, Matchers: vs.LabelMatchers}
				byText[text] = sel
			}
			if !slices.Contains(sel.queries, q) {
				sel.queries = append(sel.queries, q)
			}
			sel.spans = append(sel.spans, r.span)
			sel.reads = append(sel.reads, r)
			if r.single && !slices.Contains(sel.instantAt, r.span.end) {
				sel.instantAt = append(sel.instantAt, r.span.end)
			}
			return nil
		})
		if walkErr != nil {
			return nil, walkErr
		}
	}
	out := make([]*Selector, 0, len(byText))
	for _, s := range byText {
		s.spans = mergeSpans(s.spans)
		slices.Sort(s.instantAt)
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Selector) int { return strings.Compare(a.Text, b.Text) })
	return out, nil
}

// read is what one selector occurrence reads.
type read struct {
	span   span
	single bool // an instant selector read at one evaluation time, span.end
}

// readOf works out the span of sample times vs reads in the query
// evaluated at atMs. path holds vs's ancestors, outermost first.
//
// Evaluation times start as [at, at]; each enclosing subquery
// `[range:step] offset o @ t` moves them to its own time (t, or the
// outer times), takes the offset off, and widens them by its range: the
// inner expression is evaluated at step-aligned times inside it, so the
// whole interval is a safe superset whatever the step. The selector's
// own @ and offset apply last; a range selector then reads its range
// before each time, an instant selector the lookback.
func readOf(vs *parser.VectorSelector, path []parser.Node, atMs int64) (read, error) {
	lo, hi := atMs, atMs
	for _, n := range path {
		sq, ok := n.(*parser.SubqueryExpr)
		if !ok {
			continue
		}
		if sq.RangeExpr != nil || sq.OriginalOffsetExpr != nil {
			return read{}, fmt.Errorf("duration expressions in subqueries are not supported by the snapshot command")
		}
		lo, hi = atTime(sq.Timestamp, sq.StartOrEnd, atMs, lo, hi)
		off := sq.OriginalOffset.Milliseconds()
		lo, hi = lo-off-sq.Range.Milliseconds(), hi-off
	}
	if vs.OriginalOffsetExpr != nil {
		return read{}, fmt.Errorf("duration expressions in offsets are not supported by the snapshot command")
	}
	lo, hi = atTime(vs.Timestamp, vs.StartOrEnd, atMs, lo, hi)
	off := vs.OriginalOffset.Milliseconds()
	lo, hi = lo-off, hi-off

	var parent parser.Node
	if len(path) > 0 {
		parent = path[len(path)-1]
	}
	if ms, ok := parent.(*parser.MatrixSelector); ok {
		if ms.RangeExpr != nil {
			return read{}, fmt.Errorf("duration expressions in ranges are not supported by the snapshot command")
		}
		return read{span: span{lo - ms.Range.Milliseconds(), hi}}, nil
	}
	return read{span: span{lo - Lookback.Milliseconds(), hi}, single: lo == hi}, nil
}

// atTime applies an @ modifier: a fixed time, or start()/end(), which for
// an instant query are both its evaluation time.
func atTime(ts *int64, startOrEnd parser.ItemType, atMs, lo, hi int64) (int64, int64) {
	switch {
	case ts != nil:
		return *ts, *ts
	case startOrEnd == parser.START || startOrEnd == parser.END:
		return atMs, atMs
	}
	return lo, hi
}

// mergeSpans sorts spans and merges those that overlap or touch.
func mergeSpans(spans []span) []span {
	if len(spans) == 0 {
		return nil
	}
	s := slices.Clone(spans)
	slices.SortFunc(s, func(a, b span) int {
		switch {
		case a.start < b.start:
			return -1
		case a.start > b.start:
			return 1
		}
		return 0
	})
	out := s[:1]
	for _, sp := range s[1:] {
		last := &out[len(out)-1]
		if sp.start <= last.end+1 {
			last.end = max(last.end, sp.end)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// toMillis is t as Prometheus reads a query's time parameter: rounded to
// the millisecond.
func toMillis(t time.Time) int64 {
	ns := t.UnixNano()
	ms := ns / 1e6
	if rem := ns % 1e6; rem >= 500_000 {
		ms++
	} else if rem <= -500_000 {
		ms--
	}
	return ms
}
