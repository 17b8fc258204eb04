package sources

import (
	"context"
	"time"

	"github.com/prometheus/common/model"
)

// PromQL evaluates PromQL instant queries. A scalar answer comes back as a
// vector of one sample with no labels.
type PromQL interface {
	Query(ctx context.Context, query string, at time.Time) (model.Vector, error)
}

// LogQL evaluates LogQL instant metric queries (bytes_over_time,
// count_over_time and sums of them). Loki answers in Prometheus' envelope,
// so the answer is a model.Vector too.
type LogQL interface {
	Query(ctx context.Context, query string, at time.Time) (model.Vector, error)
}
