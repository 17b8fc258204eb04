package prometheus

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// sourceName is the Source of every *sources.Error this package returns.
const sourceName = "prometheus"

// DefaultMaxResponseBytes caps the body of one API response (client_golang
// reads the whole body before decoding).
const DefaultMaxResponseBytes = httpclient.DefaultMaxResponseBytes

// Client runs PromQL instant queries against one Prometheus-compatible
// server. It is safe for concurrent use.
type Client struct {
	api  v1.API
	http *httpclient.Client // transport, Redacted URL, Timeout, scrubbing
	// sendsCredentials is whether requests carry credentials: a 401 or
	// 403 then refused them; without, the server wants some.
	sendsCredentials bool
	// sendsTenant is whether requests carry X-Scope-OrgID (tenant, or a
	// header of that name): without it, Mimir's "no org id" gets a hint.
	sendsTenant bool

	// The engine behind the URL, asked once (Engine).
	engineOnce sync.Once
	engine     sources.Engine
	engineWhy  string
}

var _ sources.PromQL = (*Client)(nil)

// New builds a client for src. Credentials named by environment variables
// are read now; credential files are checked now and re-read on every
// request, so a rotated token is picked up. An error means the source is
// misconfigured (a usage error, not a source failure).
func New(src *config.Source) (*Client, error) {
	// 0: the source's max_response_size, else DefaultMaxResponseBytes.
	return newClient(src, 0)
}

func newClient(src *config.Source, maxResponseBytes int64) (*Client, error) {
	return newClientWith(src, httpclient.Options{MaxResponseBytes: maxResponseBytes})
}

// newClientWith is newClient with every HTTP option, e.g. a retry policy
// that tests can run in milliseconds.
func newClientWith(src *config.Source, opts httpclient.Options) (*Client, error) {
	if src == nil || src.URL == "" {
		return nil, sources.Errorf(sources.NotConfigured, sourceName, "no Prometheus URL configured (sources.prometheus.url, --prometheus or SECFLOW_PROMETHEUS_URL)")
	}
	opts.Name = sourceName
	h, err := httpclient.New(src, opts)
	if err != nil {
		return nil, err
	}
	c := &Client{http: h, sendsCredentials: httpclient.SendsCredentials(src), sendsTenant: src.Tenant != ""}
	for name := range src.Headers {
		if http.CanonicalHeaderKey(name) == http.CanonicalHeaderKey(httpclient.TenantHeader) {
			c.sendsTenant = true
		}
	}
	// h.HTTPClient follows redirects within the source's origin only.
	hc, err := api.NewClient(api.Config{Address: h.URL.String(), Client: h.HTTPClient()})
	if err != nil {
		return nil, fmt.Errorf("prometheus URL %s: %s", c.http.Redacted, c.scrub(err.Error()))
	}
	c.api = v1.NewAPI(envelopeClient{hc})
	return c, nil
}

// Query runs query as an instant query at time at. A scalar result comes
// back as one sample without labels. Failures are *sources.Error, except
// when ctx itself ends: then the error wraps ctx.Err(), so that
// errors.Is(err, context.DeadlineExceeded) tells the run's timeout apart
// from this request's own (sources.Timeout).
func (c *Client) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	// Budgets that ask the same query at the same time share one request
	// (several budgets of a file often do, e.g. a latency and an error
	// budget over the same rate); each gets its own copy of the answer.
	return httpclient.ShareVector(ctx, c.http, sourceName, httpclient.ShareKey("query", query, at), func(ctx context.Context) (httpclient.SharedVector, error) {
		val, warnings, err := c.instantQuery(ctx, query, at)
		if err != nil {
			return httpclient.SharedVector{}, err
		}
		v, err := c.vector(val)
		return httpclient.SharedVector{Vector: v, Warnings: warnings}, err
	})
}

// instantQuery runs query at time at with the source's timeout; what it
// returns is for Query and QueryMatrix to check, and the warnings the
// server sent beside it (partial data: a store that did not answer, a
// limit hit), scrubbed, for the caller to add to its budget's collector.
func (c *Client) instantQuery(ctx context.Context, query string, at time.Time) (model.Value, []string, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, c.http.Abandoned(err)
	}
	reqCtx, cancel := c.http.WithRequestTimeout(ctx)
	defer cancel()
	info := &httpclient.ResponseInfo{}
	val, warnings, _, err := c.api.Query(httpclient.WithResponseInfo(reqCtx, info), query, at, v1.WithTimeout(c.http.Timeout))
	if err != nil {
		return nil, nil, c.classify(ctx, reqCtx, info, err)
	}
	for i := range warnings {
		warnings[i] = c.scrub(sources.OneLine(warnings[i]))
	}
	return val, warnings, nil
}

func (c *Client) vector(val model.Value) (model.Vector, error) {
	switch v := val.(type) {
	case model.Vector:
		if problem := sources.VectorProblem(v); problem != "" {
			return nil, c.fail(sources.BadResponse, nil, "%s answered %s", c.http.Redacted, problem)
		}
		return v, nil
	case *model.Scalar:
		if v == nil || v.Timestamp == 0 {
			return nil, c.fail(sources.BadResponse, nil, "%s answered a scalar without a value or timestamp", c.http.Redacted)
		}
		return model.Vector{{Metric: model.Metric{}, Value: v.Value, Timestamp: v.Timestamp}}, nil
	case model.Matrix:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "query returned a range vector; budgets need an instant vector or a scalar")
	case nil:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "%s answered without a result", c.http.Redacted)
	default:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "query returned a %s; budgets need an instant vector or a scalar", val.Type())
	}
}

// scrub masks every known secret in s.
func (c *Client) scrub(s string) string { return c.http.Scrub(s) }
