package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

func (c *Client) fail(kind sources.Kind, cause error, format string, args ...any) *sources.Error {
	return c.http.Fail(kind, cause, format, args...)
}

// classify turns a failed query into the error Query returns. ctx is the
// caller's context, reqCtx the request's own (ctx plus the source timeout).
func (c *Client) classify(ctx, reqCtx context.Context, info *httpclient.ResponseInfo, err error) error {
	var apiErr *v1.Error
	if ctx.Err() != nil || httpclient.RequestTimedOut(ctx, reqCtx) || !errors.As(err, &apiErr) {
		// No answer: the caller gave up, the request timed out, or it
		// failed before an HTTP answer or while reading it.
		return c.http.RequestFailed(ctx, reqCtx, err)
	}
	// The error stays in the chain for errors.As; its Detail holds the
	// raw body, which a server may fill with what we sent it.
	clean := &v1.Error{Type: apiErr.Type, Msg: c.scrub(apiErr.Msg)}
	return httpclient.NoteAttempts(c.classifyAPIError(info, clean, apiErr.Detail), info.Attempts)
}

func (c *Client) classifyAPIError(info *httpclient.ResponseInfo, apiErr *v1.Error, body string) error {
	status := fmt.Sprintf("HTTP %d %s", info.Status, info.StatusText)
	errType, msg := apiErr.Type, apiErr.Msg
	if strings.TrimSpace(msg) == "" {
		// client_golang fills the text of every failed status itself; an
		// empty one is a 2xx whose body says "status":"error" and no more.
		what := "no error text"
		if errType != "" {
			what += fmt.Sprintf(" (errorType %s)", strconv.Quote(truncate(sources.OneLine(string(errType)), 40)))
		}
		return c.fail(sources.BadResponse, apiErr, "%s answered %s with status \"error\" and %s", c.http.Redacted, status, what)
	}
	// client_golang decodes the JSON error body only for 400 and 422;
	// Prometheus answers a query timeout with 503 and a JSON body, which
	// we decode here to tell it apart from an unreachable backend.
	if errType == v1.ErrServer || errType == v1.ErrClient {
		if body, ok := decodeErrorBody(body); ok {
			switch v1.ErrorType(body.ErrorType) {
			case v1.ErrTimeout, v1.ErrCanceled:
				errType, msg = v1.ErrorType(body.ErrorType), body.Error
			default:
				if body.Error != "" {
					status += ": " + truncate(body.Error, 200)
				}
			}
		}
	}
	switch errType {
	case v1.ErrBadData, v1.ErrExec:
		// Prometheus' own words are the most useful thing to show:
		// "invalid parameter \"query\": 1:6: parse error: ...".
		return c.fail(sources.BadQuery, apiErr, "%s", apiErr.Msg)
	case v1.ErrTimeout:
		return c.fail(sources.Timeout, apiErr, "query timed out after %s (%s)", c.http.Timeout, msg)
	case v1.ErrCanceled:
		return c.fail(sources.Unavailable, apiErr, "%s canceled the query: %s", c.http.Redacted, msg)
	case v1.ErrServer:
		return c.fail(sources.Unavailable, apiErr, "%s answered %s", c.http.Redacted, status)
	case v1.ErrBadResponse:
		return c.badResponse(info, apiErr)
	case v1.ErrClient:
		switch info.Status {
		case http.StatusUnauthorized, http.StatusForbidden:
			// Mimir and Cortex refuse a request without a tenant so; the
			// body is only looked at, never quoted (a gateway may echo
			// what we sent).
			if strings.Contains(body, "no org id") && !c.sendsTenant {
				return c.fail(sources.Unauthorized, apiErr, "%s answered %s: no org id (Mimir and Cortex run with multi-tenancy: set sources.prometheus.tenant, sent as the %s header)", c.http.Redacted, status, httpclient.TenantHeader)
			}
			if !c.sendsCredentials {
				return c.fail(sources.Unauthorized, apiErr, "%s answered %s: it requires authentication and no credentials are configured (set sources.prometheus.bearer_token_file, bearer_token_env, basic_auth or tenant)", c.http.Redacted, status)
			}
			return c.fail(sources.Unauthorized, apiErr, "%s refused our credentials: %s", c.http.Redacted, status)
		case http.StatusTooManyRequests:
			return c.fail(sources.Unavailable, apiErr, "%s is rate limiting us: %s", c.http.Redacted, status)
		case http.StatusBadRequest, http.StatusUnprocessableEntity:
			return c.fail(sources.BadQuery, apiErr, "%s", apiErr.Msg)
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return c.fail(sources.BadResponse, apiErr, "%s answered %s to /api/v1/query: is this the base URL of a Prometheus-compatible API?", c.http.Redacted, status)
		}
		return c.fail(sources.BadResponse, apiErr, "%s answered %s", c.http.Redacted, status)
	}
	// An errorType we do not know, in a 400/422 JSON body: the server
	// rejected the query in its own terms.
	if info.Status == http.StatusBadRequest || info.Status == http.StatusUnprocessableEntity {
		return c.fail(sources.BadQuery, apiErr, "%s", apiErr.Msg)
	}
	return c.fail(sources.BadResponse, apiErr, "%s answered %s: %s: %s", c.http.Redacted, status, apiErr.Type, apiErr.Msg)
}

// badResponse describes a body that is not the JSON we expect. The decoder's
// message quotes the body; we only pass it on when the body claims to be
// JSON, where it names the field that was wrong. An HTML login page or an
// error page of a proxy is better described by its content type.
func (c *Client) badResponse(info *httpclient.ResponseInfo, apiErr *v1.Error) error {
	mt, _, _ := mime.ParseMediaType(info.ContentType)
	if mt == "application/json" {
		return c.fail(sources.BadResponse, apiErr, "unreadable response from %s (HTTP %d): %s", c.http.Redacted, info.Status, sources.DecodeErrorText(apiErr.Msg))
	}
	if mt == "" {
		mt = "no content type"
	}
	return c.fail(sources.BadResponse, apiErr, "unreadable response from %s (HTTP %d, %s): not a Prometheus API answer", c.http.Redacted, info.Status, mt)
}

// errorBody is Prometheus' JSON error envelope.
type errorBody struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

func decodeErrorBody(detail string) (errorBody, bool) {
	var b errorBody
	if err := json.Unmarshal([]byte(detail), &b); err != nil || b.Status != "error" {
		return errorBody{}, false
	}
	return b, true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cutting inside a multi-byte character would leave invalid UTF-8.
	return strings.ToValidUTF8(s[:n], "") + "..."
}
