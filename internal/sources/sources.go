package sources

import (
	"context"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
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

// PromAPI reads Prometheus' state beyond queries, for the alert_rules,
// scrape and retention budgets: the bodies of /api/v1/rules, /api/v1/alerts,
// /api/v1/targets and /api/v1/status/runtimeinfo. Live, the Prometheus
// client implements it; offline, the snapshot reads rules.json, alerts.json,
// targets.json and runtime.json.
type PromAPI interface {
	Rules(ctx context.Context) (v1.RulesResult, error)
	Alerts(ctx context.Context) (v1.AlertsResult, error)
	Targets(ctx context.Context) (v1.TargetsResult, error)
	Runtimeinfo(ctx context.Context) (v1.RuntimeinfoResult, error)
}

// LokiAPI reads Loki's state beyond queries, for the retention budget.
type LokiAPI interface {
	// RetentionPeriod is limits_config.retention_period of Loki's effective
	// configuration (GET /config live, runtime.json offline).
	RetentionPeriod(ctx context.Context) (time.Duration, error)
}

// Endpoints fetches /metrics expositions for endpoint budgets. Live, it
// GETs the URL (with the Prometheus source's auth unless anonymous);
// offline, the snapshot reads endpoints/NAME.prom.
type Endpoints interface {
	Fetch(ctx context.Context, req EndpointRequest) (*Exposition, error)
}

// EndpointRequest names an exposition to fetch.
type EndpointRequest struct {
	Name      string // the budget's name: endpoints/NAME.prom offline
	URL       string
	Anonymous bool // without credentials, to check that they are required
	// MaxBytes, when > 0, is the budget's max_bytes: once a body is
	// known to be past it, reading may stop (Exposition.Cut), unless
	// NeedBody asks for the body to count its series or lint it.
	MaxBytes int64
	NeedBody bool
}

// Exposition is what a /metrics GET returned.
type Exposition struct {
	StatusCode  int
	ContentType string
	Body        []byte
	// Size is the body's full length, even when Body was cut at a cap;
	// when Cut, only a lower bound.
	Size int64
	// Cut says that reading stopped at Size bytes, past the request's
	// MaxBytes: the body is at least that long, its full size unknown.
	Cut bool
}
