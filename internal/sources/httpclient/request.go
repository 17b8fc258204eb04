package httpclient

import (
	"context"
	"errors"
	"fmt"

	"github.com/secflow/secflow-budget/internal/sources"
)

// errRequestTimeout is the cause of a request's own deadline, which tells it
// apart from the caller's (the run's) deadline.
var errRequestTimeout = errors.New("request timeout")

// WithRequestTimeout bounds one request by the source's Timeout.
func (c *Client) WithRequestTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, c.Timeout, errRequestTimeout)
}

// RequestTimedOut reports whether reqCtx, made from ctx by
// WithRequestTimeout, ended by its own timeout while ctx is still live.
func RequestTimedOut(ctx, reqCtx context.Context) bool {
	return ctx.Err() == nil && reqCtx.Err() != nil && errors.Is(context.Cause(reqCtx), errRequestTimeout)
}

// Abandoned is the error of a query given up because the caller's context
// ended. It wraps that context's error, so that the caller recognises its
// own --timeout or interrupt, and is no *sources.Error: not this source's
// fault.
func (c *Client) Abandoned(ctxErr error) error {
	return fmt.Errorf("%s query at %s abandoned: %w", c.Name, c.Redacted, ctxErr)
}

// RequestFailed classifies a request that got no (complete) answer. ctx is
// the caller's context, reqCtx the request's own (from WithRequestTimeout).
func (c *Client) RequestFailed(ctx, reqCtx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return c.Abandoned(ctxErr)
	}
	if RequestTimedOut(ctx, reqCtx) {
		return c.Fail(sources.Timeout, context.DeadlineExceeded, "query timed out after %s", c.Timeout)
	}
	var redirect *RedirectError
	if errors.As(err, &redirect) {
		return c.Fail(sources.BadResponse, redirect, "%s %v", c.Redacted, redirect)
	}
	var tooLarge *ResponseTooLargeError
	if errors.As(err, &tooLarge) {
		return c.Fail(sources.BadResponse, tooLarge, "%s: %v", c.Redacted, tooLarge)
	}
	if failed := c.bodyFailed(err); failed != nil {
		return failed
	}
	// Refused connection, DNS, TLS handshake, proxy, unreadable
	// credentials file (a body cut off is bodyFailed's). url.Error prints the
	// request URL, userinfo included: keep only its cause (a *RetryError
	// when the request was sent more than once).
	cause := TransportCause(err)
	return c.Fail(sources.Unavailable, cause, "cannot reach %s: %v", c.Redacted, cause)
}
