package prometheus

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// The state endpoints, relative to the base URL, for messages.
const (
	rulesPath       = "/api/v1/rules"
	alertsPath      = "/api/v1/alerts"
	targetsPath     = "/api/v1/targets"
	runtimeinfoPath = "/api/v1/status/runtimeinfo"
)

var _ sources.PromAPI = (*Client)(nil)

// Rules returns the body of /api/v1/rules: every rule group with its rules'
// health, last error and, for alerting rules, state and active alerts.
// Failures are classified as Query's are.
func (c *Client) Rules(ctx context.Context) (v1.RulesResult, error) {
	// No match[] filter: Prometheus before 2.54 does not know it, and the
	// whole answer is a few KB per group.
	return get(ctx, c, rulesPath, func(ctx context.Context) (v1.RulesResult, error) { return c.api.Rules(ctx, nil) })
}

// Alerts returns the body of /api/v1/alerts: the active (pending and
// firing) alerts.
func (c *Client) Alerts(ctx context.Context) (v1.AlertsResult, error) {
	return get(ctx, c, alertsPath, c.api.Alerts)
}

// Targets returns the body of /api/v1/targets.
func (c *Client) Targets(ctx context.Context) (v1.TargetsResult, error) {
	return get(ctx, c, targetsPath, c.api.Targets)
}

// Runtimeinfo returns the body of /api/v1/status/runtimeinfo, which holds
// the storage retention. Thanos and Mimir do not all serve it: a 404 says
// so.
func (c *Client) Runtimeinfo(ctx context.Context) (v1.RuntimeinfoResult, error) {
	return get(ctx, c, runtimeinfoPath, c.api.Runtimeinfo)
}

// get runs one state request with the source's timeout, as Query does.
func get[T any](ctx context.Context, c *Client, path string, call func(context.Context) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, c.http.Abandoned(err)
	}
	reqCtx, cancel := c.http.WithRequestTimeout(ctx)
	defer cancel()
	info := &httpclient.ResponseInfo{}
	res, err := call(httpclient.WithResponseInfo(reqCtx, info))
	if err != nil {
		return zero, c.classifyState(ctx, reqCtx, info, path, err)
	}
	return res, nil
}

// classifyState is classify with messages that name the endpoint: a
// timeout is not a "query" here, and a 404 most likely means a server that
// does not implement this endpoint (or a base URL missing a prefix such
// as Mimir's /prometheus), not a wrong query.
func (c *Client) classifyState(ctx, reqCtx context.Context, info *httpclient.ResponseInfo, path string, err error) error {
	if httpclient.RequestTimedOut(ctx, reqCtx) {
		return c.fail(sources.Timeout, context.DeadlineExceeded, "GET %s timed out after %s", path, c.http.Timeout)
	}
	var apiErr *v1.Error
	if errors.As(err, &apiErr) && (info.Status == http.StatusNotFound || info.Status == http.StatusMethodNotAllowed) {
		return c.fail(sources.BadResponse, &v1.Error{Type: apiErr.Type, Msg: c.scrub(apiErr.Msg)},
			"%s answered HTTP %d %s to %s: is this the base URL of a Prometheus-compatible API, and does it serve %s?",
			c.http.Redacted, info.Status, http.StatusText(info.Status), path, path)
	}
	if errors.As(err, &apiErr) && info.Status/100 == 4 && !stateStatusOwnMessage(info.Status) {
		// A status endpoint the server refuses (VictoriaMetrics: 400
		// "unsupported path requested"): its own words say why.
		return c.fail(sources.BadResponse, &v1.Error{Type: apiErr.Type, Msg: c.scrub(apiErr.Msg)},
			"%s answered HTTP %d %s to %s%s", c.http.Redacted, info.Status, http.StatusText(info.Status), path, c.serverText(apiErr))
	}
	return c.classify(ctx, reqCtx, info, err)
}

// stateStatusOwnMessage: statuses whose classify message is better than
// the server's text (credentials, rate limits), and whose body a gateway
// may fill with what we sent.
func stateStatusOwnMessage(status int) bool {
	return status == http.StatusUnauthorized || status == http.StatusForbidden ||
		status == http.StatusTooManyRequests || status == http.StatusProxyAuthRequired
}

// maxServerText bounds how much of a server's error text a message quotes.
const maxServerText = 200

// serverText is `: "TEXT"`, the server's own error text (the JSON error
// envelope's error, else the body) on one line, cut at maxServerText and
// masked; "" when the server said nothing.
func (c *Client) serverText(apiErr *v1.Error) string {
	text := apiErr.Detail
	if body, ok := decodeErrorBody(text); ok && body.Error != "" {
		text = body.Error
	} else if apiErr.Type != v1.ErrClient && apiErr.Type != v1.ErrServer && apiErr.Msg != "" {
		text = apiErr.Msg // decoded from a JSON error body already
	}
	text = sources.OneLine(text)
	if text == "" || strings.HasPrefix(strings.TrimSpace(text), "<") {
		return "" // nothing, or an HTML error page
	}
	return ": " + strconv.Quote(truncate(secret.Text(c.scrub(text)), maxServerText))
}
