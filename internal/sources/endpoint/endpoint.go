package endpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// sourceName is the Source of every *sources.Error this package returns.
const sourceName = "endpoint"

// AcceptHeader asks for Prometheus' text exposition format, exactly as a
// Prometheus scraping without OpenMetrics does, so that the bytes measured
// are the bytes such a Prometheus reads. No Accept-Encoding is sent: the
// size is that of the exposition itself, not of its compressed transfer.
const AcceptHeader = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

const (
	// DefaultMaxBodyBytes is how much of a body Fetch keeps for the check
	// to parse and lint. An exposition past it is far over any sensible
	// max_bytes; its series are then not counted.
	DefaultMaxBodyBytes = 16 << 20
	// DefaultMaxReadBytes is how far Fetch reads a body (discarding what
	// it does not keep) to learn its full size when the server declares
	// no Content-Length. A body past it is an error.
	DefaultMaxReadBytes = 1 << 30
)

// maxRedirects bounds the redirects an authenticated request follows.
const maxRedirects = 10

// Options tune a Client; zero values take the defaults.
type Options struct {
	MaxBodyBytes int64
	MaxReadBytes int64
}

// Client fetches /metrics expositions. It is safe for concurrent use.
type Client struct {
	auth *httpclient.Client // with the source's credentials
	anon *httpclient.Client // without any
	// authSendsCredentials is whether auth has any to send: a 401 or 403
	// refused them, or, without, asks for some.
	authSendsCredentials bool
	timeout              time.Duration
	keep                 int64
}

var _ sources.Endpoints = (*Client)(nil)

// placeholderURL stands in for the source URL when none is configured:
// httpclient wants one, but the transport it builds does not depend on it
// (Fetch sends every request to the budget's own URL).
const placeholderURL = "http://localhost"

// New builds a client that sends src's credentials (src may be nil: no
// credentials, the default timeout). Only src's HTTP settings are used,
// never its URL or the userinfo in it. Credentials named by environment
// variables are read now and credential files are checked now; an error
// means the source is misconfigured (a usage error), and its text is safe
// to print.
func New(src *config.Source, opts Options) (*Client, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.MaxReadBytes <= 0 {
		opts.MaxReadBytes = DefaultMaxReadBytes
	}
	opts.MaxReadBytes = max(opts.MaxReadBytes, opts.MaxBodyBytes)
	var s config.Source
	if src != nil {
		s = *src
	}
	s.URL = placeholderURL
	// Every request goes to a budget's own URL; redirectPolicy keeps
	// redirects on its origin.
	hopts := httpclient.Options{Name: sourceName, MaxResponseBytes: opts.MaxReadBytes, AnyHost: true}
	auth, err := httpclient.New(&s, hopts)
	if err != nil {
		return nil, fmt.Errorf("credentials for endpoint budgets (sources.prometheus): %w", err)
	}
	anonSrc := &config.Source{URL: placeholderURL, Timeout: s.Timeout, ProxyURL: s.ProxyURL}
	if s.TLS != nil {
		// Trust settings only: a client certificate is a credential.
		anonSrc.TLS = &config.TLS{CAFile: s.TLS.CAFile, ServerName: s.TLS.ServerName, InsecureSkipVerify: s.TLS.InsecureSkipVerify}
	}
	anon, err := httpclient.New(anonSrc, hopts)
	if err != nil {
		return nil, fmt.Errorf("anonymous client for endpoint budgets: %w", err)
	}
	return &Client{auth: auth, anon: anon, authSendsCredentials: httpclient.SendsCredentials(&s), timeout: auth.Timeout, keep: opts.MaxBodyBytes}, nil
}

// errRequestTimeout is the cause of a request's own deadline, which tells
// it apart from the caller's (the run's) deadline.
var errRequestTimeout = errors.New("endpoint request timeout")

// Fetch GETs req.URL. An authenticated request must be answered 2xx: 401
// and 403 are Unauthorized errors, 429 and 5xx Unavailable, anything else
// BadResponse. For an anonymous request the status is the answer, except
// 429 and 5xx (Unavailable): the exposition comes back with whatever
// status the server chose. The body is kept up to MaxBodyBytes; Size is its
// full length all the same (Content-Length when declared, else counted up
// to MaxReadBytes). When ctx itself ends, the error wraps ctx.Err().
func (c *Client) Fetch(ctx context.Context, req sources.EndpointRequest) (*sources.Exposition, error) {
	h := c.auth
	if req.Anonymous {
		h = c.anon
	}
	shown := secret.URL(req.URL)
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, h.Fail(sources.BadQuery, nil, "invalid endpoint URL %s: want http:// or https:// and a host", shown)
	}
	if u.User != nil {
		// net/http would send it as basic auth, also on an anonymous request.
		return nil, h.Fail(sources.BadQuery, nil, "endpoint URL %s holds credentials: put them on the Prometheus source (bearer_token_file, basic_auth)", shown)
	}
	if err := ctx.Err(); err != nil {
		return nil, abandoned(shown, err)
	}
	reqCtx, cancel := context.WithTimeoutCause(ctx, c.timeout, errRequestTimeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, h.Fail(sources.BadQuery, nil, "invalid endpoint URL %s", shown)
	}
	hreq.Header.Set("Accept", AcceptHeader)
	client := &http.Client{Transport: h.Transport, CheckRedirect: redirectPolicy(req.Anonymous)}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, c.failed(ctx, reqCtx, h, shown, err)
	}
	defer resp.Body.Close()

	status := fmt.Sprintf("HTTP %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, h.Fail(sources.Unavailable, nil, "%s answered %s", shown, status)
	case req.Anonymous || ok:
	case (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) && !c.authSendsCredentials:
		return nil, h.Fail(sources.Unauthorized, nil, "%s answered %s: it requires authentication and no credentials are configured (endpoint budgets send the Prometheus source's: set sources.prometheus.bearer_token_file, bearer_token_env or basic_auth)", shown, status)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, h.Fail(sources.Unauthorized, nil, "%s refused our credentials: %s (endpoint budgets send the Prometheus source's credentials)", shown, status)
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return nil, h.Fail(sources.BadResponse, nil, "%s answered %s, a redirect to %s that was not followed: credentials only go to the URL's own host", shown, status, secret.URL(resp.Header.Get("Location")))
	default:
		return nil, h.Fail(sources.BadResponse, nil, "%s answered %s", shown, status)
	}

	keep, stop := c.keep, int64(0)
	if req.MaxBytes > 0 {
		stop = stopAfter(req.MaxBytes)
		if req.NeedBody {
			stop = max(stop, c.keep)
		}
		keep = min(keep, stop)
	}
	body, size, cut, err := readBody(resp.Body, resp.ContentLength, keep, stop)
	if err != nil {
		return nil, c.failed(ctx, reqCtx, h, shown, err)
	}
	return &sources.Exposition{
		StatusCode:  resp.StatusCode,
		ContentType: resp.Header.Get("Content-Type"),
		Body:        body,
		Size:        size,
		Cut:         cut,
	}, nil
}

// stopAfter is how far a body is read for a budget whose max_bytes is
// maxBytes: 1% past it, so that the bytes read, rounded for a report,
// still show as over the limit ("1.01 MB > 1 MB", never "1 MB > 1 MB").
func stopAfter(maxBytes int64) int64 {
	if maxBytes > math.MaxInt64/2 {
		return math.MaxInt64
	}
	return maxBytes + maxBytes/100 + 1
}

// redirectPolicy: an anonymous request follows none (a redirect to a login
// page is how some servers refuse); an authenticated one follows those on
// the same host, whose credentials they are.
func redirectPolicy(anonymous bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if anonymous || len(via) >= maxRedirects || !httpclient.SameOrigin(req.URL, via[0].URL) {
			return http.ErrUseLastResponse
		}
		return nil
	}
}

// readBody keeps the first keep bytes and learns the full size: from a
// declared Content-Length past keep, else by reading on and discarding
// (the transport stops that at its read limit). stop, when > 0, is where
// reading ends all the same: a body that long is cut there, and its full
// size is not learnt.
func readBody(r io.Reader, declared, keep, stop int64) (body []byte, size int64, cut bool, err error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, keep))
	if err != nil {
		return nil, 0, false, err
	}
	if n < keep {
		return buf.Bytes(), n, false, nil
	}
	if declared > keep {
		return buf.Bytes(), declared, false, nil
	}
	rest := io.Reader(r)
	if stop > 0 {
		rest = io.LimitReader(r, stop-n)
	}
	m, err := io.Copy(io.Discard, rest)
	if err != nil {
		return nil, 0, false, err
	}
	return buf.Bytes(), n + m, stop > 0 && n+m >= stop, nil
}

// failed classifies a request that got no usable answer.
func (c *Client) failed(ctx, reqCtx context.Context, h *httpclient.Client, shown string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return abandoned(shown, ctxErr)
	}
	if reqCtx.Err() != nil && errors.Is(context.Cause(reqCtx), errRequestTimeout) {
		return h.Fail(sources.Timeout, context.DeadlineExceeded, "fetching %s timed out after %s", shown, c.timeout)
	}
	var tooLarge *httpclient.ResponseTooLargeError
	if errors.As(err, &tooLarge) {
		return h.Fail(sources.BadResponse, tooLarge, "%s: %v", shown, tooLarge)
	}
	var compressed *httpclient.UnsolicitedEncodingError
	if errors.As(err, &compressed) {
		return h.Fail(sources.BadResponse, compressed, "%s %v", shown, compressed)
	}
	// url.Error prints the request URL: keep only its cause.
	cause := httpclient.TransportCause(err)
	return h.Fail(sources.Unavailable, cause, "cannot fetch %s: %v", shown, cause)
}

func abandoned(shown string, err error) error {
	return fmt.Errorf("fetching %s abandoned: %w", shown, err)
}
