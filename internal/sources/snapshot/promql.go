package snapshot

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/annotations"

	"github.com/secflow/secflow-budget/internal/memstore"
	"github.com/secflow/secflow-budget/internal/sources"
)

// Engine settings: Prometheus' own defaults, so that a query that works
// against a live Prometheus works here and gives the same answer.
const (
	// lookbackDelta is how far back an instant selector looks for a sample
	// (--query.lookback-delta).
	lookbackDelta = 5 * time.Minute
	// DefaultMaxSamples bounds the samples one query may hold in memory
	// (Prometheus' --query.max-samples and its default); see
	// Snapshot.SetMaxSamples.
	DefaultMaxSamples = 50_000_000
	// noStepSubqueryInterval is the step of a subquery that gives none:
	// Prometheus' default global evaluation_interval.
	noStepSubqueryInterval = time.Minute
	// queryTimeout bounds one query (--query.timeout); the run's --timeout
	// still applies through the caller's context.
	queryTimeout = 2 * time.Minute
)

// evaluator runs PromQL instant queries over a loaded snapshot with
// Prometheus' engine.
type evaluator struct {
	// store is nil once the snapshot is closed.
	store      atomic.Pointer[memstore.Store]
	engine     *promql.Engine
	opts       promql.QueryOpts
	maxSamples int
}

var _ sources.PromQL = (*evaluator)(nil)

func newEvaluator(store *memstore.Store, maxSamples int) *evaluator {
	e := &evaluator{
		maxSamples: maxSamples,
		engine: promql.NewEngine(promql.EngineOpts{
			MaxSamples:           maxSamples,
			Timeout:              queryTimeout,
			LookbackDelta:        lookbackDelta,
			EnableAtModifier:     true,
			EnableNegativeOffset: true,
			NoStepSubqueryIntervalFn: func(int64) int64 {
				return noStepSubqueryInterval.Milliseconds()
			},
		}),
		opts: promql.NewPrometheusQueryOpts(false, lookbackDelta, nil),
	}
	e.store.Store(store)
	return e
}

var errClosed = errors.New("the snapshot is closed")

// Querier makes the evaluator the engine's storage.Queryable: the store,
// until the snapshot is closed.
func (e *evaluator) Querier(mint, maxt int64) (storage.Querier, error) {
	st := e.store.Load()
	if st == nil {
		return nil, errClosed
	}
	return st.Querier(mint, maxt)
}

// close lets go of the samples: later queries fail.
func (e *evaluator) close() { e.store.Store(nil) }

// Query evaluates query at time at. Failures are *sources.Error, except
// when ctx ends: then the error wraps ctx.Err().
func (e *evaluator) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	if e.store.Load() == nil {
		return nil, &sources.Error{Kind: sources.Unavailable, Source: sourceName, Err: errClosed}
	}
	if err := e.checkSteps(query); err != nil {
		return nil, err
	}
	q, err := e.engine.NewInstantQuery(ctx, e, e.opts, query, at)
	if err != nil {
		return nil, e.fail(ctx, err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, e.fail(ctx, res.Err)
	}
	sources.AddWarnings(ctx, sourceName, engineWarnings(query, res.Warnings)...)
	return toVector(res.Value)
}

// engineWarnings are the warnings of a query's evaluation, as a live
// Prometheus whose engine is ours (3.x) puts them in its response's
// "warnings" and the live client hands them to sources.AddWarnings: the
// text Prometheus' API sends (annotations.AsStrings, positions in the
// query included), made one line, sorted. Examples: "PromQL warning: bucket label
// "le" is missing or has a malformed value", a quantile outside [0, 1].
//
// Infos are left out, as the live client leaves out the "infos" of a
// response: "input to histogram_quantile needed to be fixed for
// monotonicity" and "metric might not be a counter" are infos, which a
// live Prometheus 3 sends apart from its warnings. Prometheus 2.42 sends
// neither kind for these (its engine had no PromQL annotations, and its
// responses have no "infos"): against it, the live check shows no warning
// where the offline one shows the engine's.
func engineWarnings(query string, a annotations.Annotations) []string {
	if len(a) == 0 {
		return nil
	}
	warnings, _ := a.AsStrings(query, 0, 0)
	for i := range warnings {
		warnings[i] = sources.OneLine(warnings[i])
	}
	// They come from a map: sorted, a report is the same every run.
	slices.Sort(warnings)
	return warnings
}

func (e *evaluator) fail(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("snapshot query abandoned: %w", ctxErr)
	}
	var (
		timeout promql.ErrQueryTimeout
		storErr promql.ErrStorage
	)
	switch {
	case errors.As(err, &timeout):
		return &sources.Error{Kind: sources.Timeout, Source: sourceName, Err: fmt.Errorf("query timed out after %s: %w", queryTimeout, err)}
	case errors.As(err, &storErr):
		return &sources.Error{Kind: sources.Unavailable, Source: sourceName, Err: fmt.Errorf("reading the loaded metrics: %w", err)}
	}
	// Parse errors (parser.ParseErrors) and execution errors ("many-to-many
	// matching not allowed", too many samples) are what a live Prometheus
	// answers with bad_data or execution: the query's fault. The message
	// is Prometheus' own.
	return &sources.Error{Kind: sources.BadQuery, Source: sourceName, Err: err}
}

// checkSteps refuses a query whose subqueries take more steps than the
// query may hold samples: the engine walks every step, and keeps state
// for it, before the samples it counts reach the limit, so that
// max_over_time(up[10y:1ms]) would take the machine's memory and hours
// (Prometheus does the same). A subquery inside another is walked over
// its range at every step of the outer one: their steps multiply.
func (e *evaluator) checkSteps(query string) error {
	expr, err := promqlParser.ParseExpr(query)
	if err != nil {
		return nil // the engine reports it
	}
	steps := func(sq *parser.SubqueryExpr) float64 {
		step := sq.Step
		if step <= 0 {
			step = noStepSubqueryInterval
		}
		return math.Floor(float64(sq.Range)/float64(step)) + 1
	}
	var tooMany error
	parser.Inspect(expr, func(n parser.Node, path []parser.Node) error {
		sq, ok := n.(*parser.SubqueryExpr)
		if !ok || tooMany != nil {
			return nil
		}
		total := steps(sq)
		for _, p := range path {
			if outer, ok := p.(*parser.SubqueryExpr); ok {
				total *= steps(outer)
			}
		}
		if total > float64(e.maxSamples) {
			tooMany = &sources.Error{Kind: sources.BadQuery, Source: sourceName, Err: fmt.Errorf(
				"query would load too many samples: the subquery %s takes %s steps, more than the query sample limit (--query.max-samples %d)",
				sq.String(), groupDigits(total), e.maxSamples)}
		}
		return nil
	})
	return tooMany
}

// promqlParser parses as the engine does (its default parser).
var promqlParser = parser.NewParser(parser.Options{})

// groupDigits writes n, a whole number, with thousands separators.
func groupDigits(n float64) string {
	if n >= 1e18 {
		return strconv.FormatFloat(n, 'g', 3, 64)
	}
	s := strconv.FormatUint(uint64(n), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// toVector converts an engine result to what the live client returns.
func toVector(v parser.Value) (model.Vector, error) {
	switch v := v.(type) {
	case promql.Vector:
		out := make(model.Vector, 0, len(v))
		for _, s := range v {
			out = append(out, &model.Sample{
				Metric:    toMetric(s.Metric),
				Value:     model.SampleValue(s.F),
				Timestamp: model.Time(s.T),
				Histogram: toHistogram(s.H),
			})
		}
		return out, nil
	case promql.Scalar:
		return model.Vector{{Metric: model.Metric{}, Value: model.SampleValue(v.V), Timestamp: model.Time(v.T)}}, nil
	case promql.Matrix:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "query returned a range vector; budgets need an instant vector or a scalar")
	default:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "query returned a %s; budgets need an instant vector or a scalar", v.Type())
	}
}

func toMetric(ls labels.Labels) model.Metric {
	m := make(model.Metric, ls.Len())
	ls.Range(func(l labels.Label) {
		m[model.LabelName(l.Name)] = model.LabelValue(l.Value)
	})
	return m
}

// toHistogram converts a native histogram the way Prometheus' HTTP API
// renders it (util/jsonutil.MarshalHistogram), so that client_golang
// would decode the same value from a live server.
func toHistogram(h *histogram.FloatHistogram) *model.SampleHistogram {
	if h == nil {
		return nil
	}
	out := &model.SampleHistogram{Count: model.FloatString(h.Count), Sum: model.FloatString(h.Sum)}
	it := h.AllBucketIterator()
	for it.Next() {
		b := it.At()
		if b.Count == 0 {
			continue
		}
		var boundaries int32 = 2 // open on both sides
		switch {
		case b.LowerInclusive && b.UpperInclusive:
			boundaries = 3
		case b.LowerInclusive:
			boundaries = 1
		case b.UpperInclusive:
			boundaries = 0
		}
		out.Buckets = append(out.Buckets, &model.HistogramBucket{
			Boundaries: boundaries,
			Lower:      model.FloatString(b.Lower),
			Upper:      model.FloatString(b.Upper),
			Count:      model.FloatString(b.Count),
		})
	}
	return out
}
