package snapshot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/secflow/secflow-budget/internal/sources"
)

// Engine settings: Prometheus' own defaults, so that a query that works
// against a live Prometheus works here and gives the same answer.
const (
	// lookbackDelta is how far back an instant selector looks for a sample
	// (--query.lookback-delta).
	lookbackDelta = 5 * time.Minute
	// maxSamples bounds the samples one query may hold in memory
	// (--query.max-samples).
	maxSamples = 50_000_000
	// queryTimeout bounds one query (--query.timeout); the run's --timeout
	// still applies through the caller's context.
	queryTimeout = 2 * time.Minute
)

// evaluator runs PromQL instant queries over a loaded snapshot with
// Prometheus' engine.
type evaluator struct {
	db     *tsdb.DB
	engine *promql.Engine
	opts   promql.QueryOpts
}

var _ sources.PromQL = (*evaluator)(nil)

func newEvaluator(db *tsdb.DB) *evaluator {
	return &evaluator{
		db: db,
		engine: promql.NewEngine(promql.EngineOpts{
			MaxSamples:           maxSamples,
			Timeout:              queryTimeout,
			LookbackDelta:        lookbackDelta,
			EnableAtModifier:     true,
			EnableNegativeOffset: true,
		}),
		opts: promql.NewPrometheusQueryOpts(false, lookbackDelta, nil),
	}
}

// Query evaluates query at time at. Failures are *sources.Error, except
// when ctx ends: then the error wraps ctx.Err().
func (e *evaluator) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	q, err := e.engine.NewInstantQuery(ctx, e.db, e.opts, query, at)
	if err != nil {
		return nil, e.fail(ctx, err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, e.fail(ctx, res.Err)
	}
	return toVector(res.Value)
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
