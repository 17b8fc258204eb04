package loki

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// sourceName is the Source of every *sources.Error this package returns.
const sourceName = "loki"

// queryPath is Loki's instant query endpoint, relative to the base URL.
const queryPath = "loki/api/v1/query"

// DefaultMaxResponseBytes caps the body of one response. A metric query
// answer this large means hundreds of thousands of groups: a wrong `by`,
// not something to buffer.
const DefaultMaxResponseBytes = httpclient.DefaultMaxResponseBytes

// Client runs LogQL instant metric queries against one Loki. It is safe for
// concurrent use.
type Client struct {
	http     *httpclient.Client
	hc       *http.Client
	queryURL *url.URL // base URL + queryPath; may hold userinfo, never printed
	// sendsTenant is whether requests carry X-Scope-OrgID (tenant, or a
	// header of that name): without it, Loki's "no org id" gets a hint.
	sendsTenant bool
	// sendsCredentials is whether requests carry credentials of any kind
	// (token, basic auth, client certificate, tenant, headers): a 401 or
	// 403 then refused them; without, Loki wants some.
	sendsCredentials bool
	// bytesRead counts response body bytes, error bodies included.
	bytesRead atomic.Int64
}

var _ sources.LogQL = (*Client)(nil)

// New builds a client for src. It takes the same options as the Prometheus
// source; src.Tenant is sent as X-Scope-OrgID. Credentials named by
// environment variables are read now; credential files are checked now and
// re-read on every request. An error means the source is misconfigured (a
// usage error, not a source failure); its text is safe to print.
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
		return nil, sources.Errorf(sources.NotConfigured, sourceName, "no Loki URL configured (sources.loki.url, --loki or SECFLOW_LOKI_URL)")
	}
	opts.Name = sourceName
	h, err := httpclient.New(src, opts)
	if err != nil {
		return nil, err
	}
	c := &Client{
		http:        h,
		hc:          h.HTTPClient(),
		queryURL:    h.URL.JoinPath(queryPath),
		sendsTenant: src.Tenant != "",

		sendsCredentials: httpclient.SendsCredentials(src),
	}
	for name := range src.Headers {
		if http.CanonicalHeaderKey(name) == http.CanonicalHeaderKey(httpclient.TenantHeader) {
			c.sendsTenant = true
		}
	}
	return c, nil
}

// BytesRead is the number of response body bytes this client has read so
// far, over all queries.
func (c *Client) BytesRead() int64 { return c.bytesRead.Load() }

// Query runs query as an instant query at time at (sent in unix
// nanoseconds, so window edges are exact). It must be a metric query: a log
// query's lines are a BadResponse. A scalar result comes back as one sample
// without labels. Failures are *sources.Error, except when ctx itself ends:
// then the error wraps ctx.Err(), so that errors.Is(err,
// context.DeadlineExceeded) tells the run's timeout apart from this
// request's own (sources.Timeout).
func (c *Client) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	// Budgets that ask the same query at the same time share one request;
	// each gets its own copy of the answer.
	return httpclient.ShareVector(ctx, c.http, sourceName, httpclient.ShareKey(queryPath, query, at), func(ctx context.Context) (httpclient.SharedVector, error) {
		return c.query(ctx, query, at)
	})
}

// query sends one instant query and reads its answer.
func (c *Client) query(ctx context.Context, query string, at time.Time) (httpclient.SharedVector, error) {
	u := *c.queryURL
	params := url.Values{"query": {query}}
	if !at.IsZero() {
		params.Set("time", strconv.FormatInt(at.UnixNano(), 10))
	}
	u.RawQuery = params.Encode()
	resp, body, info, err := c.get(ctx, &u, http.Header{"Accept": {"application/json"}}, c.http.RequestFailed)
	if err != nil {
		return httpclient.SharedVector{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return httpclient.SharedVector{}, httpclient.NoteAttempts(c.statusError(resp, body), info.Attempts)
	}
	v, warnings, err := c.decode(resp, body)
	return httpclient.SharedVector{Vector: v, Warnings: warnings}, err
}

// get sends a GET of u with header and the source's timeout, and reads
// the whole answer, whatever its status. failed classifies a request that
// got no complete answer: RequestFailed, or a variant that names the
// endpoint.
func (c *Client) get(ctx context.Context, u *url.URL, header http.Header, failed func(ctx, reqCtx context.Context, err error) error) (*http.Response, []byte, *httpclient.ResponseInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, c.http.Abandoned(err)
	}
	reqCtx, cancel := c.http.WithRequestTimeout(ctx)
	defer cancel()
	// info learns from the transport how many attempts the request took.
	info := &httpclient.ResponseInfo{}
	req, err := http.NewRequestWithContext(httpclient.WithResponseInfo(reqCtx, info), http.MethodGet, u.String(), nil)
	if err != nil {
		// Only an unusable base URL gets here, and New refuses those.
		return nil, nil, nil, c.http.Fail(sources.BadResponse, nil, "cannot build a request for %s", c.http.Redacted)
	}
	for name, values := range header {
		for _, v := range values {
			req.Header.Add(name, v)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, nil, failed(ctx, reqCtx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	c.bytesRead.Add(int64(len(body)))
	if err != nil {
		return nil, nil, nil, failed(ctx, reqCtx, err)
	}
	return resp, body, info, nil
}
