package httpclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/secflow/secflow-budget/internal/sources"
)

// The default retry policy. Three retries with a 250ms base give up after
// at most 1.75s of backoff: enough to ride out a restarting Prometheus or
// a load balancer shuffling backends, short enough that an outage fails a
// pipeline in seconds.
const (
	DefaultRetries         = 3
	DefaultRetryBackoff    = 250 * time.Millisecond
	DefaultMaxRetryBackoff = 4 * time.Second
	// DefaultMaxRetryAfter caps how long a Retry-After header makes us
	// wait: a server asking for minutes is not coming back within a CI
	// job's patience.
	DefaultMaxRetryAfter = 10 * time.Second
)

// RetryPolicy says when and how often a request is sent again. A request
// is retried when it failed to connect or lost its connection before any
// answer (refused, reset, EOF, a dial or TLS handshake timeout), or when
// the server answered 429 or a 5xx other than 501, 505 and 511; never for
// another 4xx, a certificate error or a DNS name that does not exist.
// A retry never outlives the request's context: a wait that would end past
// its deadline is not started, and the last answer is returned instead.
type RetryPolicy struct {
	// Retries is how many times a request may be sent again, so a request
	// is sent at most Retries+1 times. 0 disables retries.
	Retries int
	// Backoff is the wait before the first retry; each further retry waits
	// twice as long, up to MaxBackoff. Each wait is jittered to between
	// half and all of its nominal length, so that clients that failed
	// together do not come back together. 0 means DefaultRetryBackoff.
	Backoff time.Duration
	// MaxBackoff caps a single wait; 0 means DefaultMaxRetryBackoff.
	MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a Retry-After header (seconds or an
	// HTTP-date) asks for; 0 means DefaultMaxRetryAfter. Retry-After
	// replaces the backoff for that wait.
	MaxRetryAfter time.Duration
	// Jitter returns a number in [0, 1]; nil means math/rand/v2. Tests
	// inject a constant. It must be safe for concurrent use.
	Jitter func() float64
	// Now is the clock that Retry-After HTTP-dates are measured against;
	// nil means time.Now.
	Now func() time.Time
}

// DefaultRetryPolicy is the policy of a source that configures none.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		Retries:       DefaultRetries,
		Backoff:       DefaultRetryBackoff,
		MaxBackoff:    DefaultMaxRetryBackoff,
		MaxRetryAfter: DefaultMaxRetryAfter,
	}
}

// withDefaults fills the zero fields.
func (p RetryPolicy) withDefaults() RetryPolicy {
	p.Retries = max(p.Retries, 0)
	if p.Backoff <= 0 {
		p.Backoff = DefaultRetryBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = max(DefaultMaxRetryBackoff, p.Backoff)
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if p.Jitter == nil {
		p.Jitter = rand.Float64
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	return p
}

// backoff is the wait after the given failed attempt (1 for the first).
func (p RetryPolicy) backoff(attempt int) time.Duration {
	d := p.Backoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	j := min(max(p.Jitter(), 0), 1)
	return d/2 + time.Duration(j*float64(d/2))
}

// retryAfter reads a Retry-After header: delay-seconds or an HTTP-date
// (RFC 9110, section 10.2.3), capped at MaxRetryAfter. A date in the past
// means now.
func (p RetryPolicy) retryAfter(h string) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(h, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		d = time.Duration(min(secs, int64(p.MaxRetryAfter/time.Second)+1)) * time.Second
	} else if at, err := http.ParseTime(h); err == nil {
		d = max(at.Sub(p.Now()), 0)
	} else {
		return 0, false
	}
	return min(d, p.MaxRetryAfter), true
}

// RetryError is the last transport error of a request that was sent more
// than once: what happened on the final attempt, and how many there were.
type RetryError struct {
	Attempts int
	Err      error
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("%v (after %d attempts)", e.Err, e.Attempts)
}

func (e *RetryError) Unwrap() error { return e.Err }

// NoteAttempts appends "(after N attempts)" to the message of a
// *sources.Error built by Fail, when a request took more than one attempt
// (ResponseInfo.Attempts). Other errors come back unchanged.
func NoteAttempts(err error, attempts int) error {
	var se *sources.Error
	if attempts <= 1 || !errors.As(err, &se) {
		return err
	}
	safe, ok := se.Err.(*SafeError)
	if !ok {
		return err
	}
	return &sources.Error{
		Kind:   se.Kind,
		Source: se.Source,
		Err:    &SafeError{msg: fmt.Sprintf("%s (after %d attempts)", safe.msg, attempts), cause: safe.cause},
	}
}

// retryTransport sends a request again, per its policy. It sits inside
// limitTransport, so the size limit and ResponseInfo see only the final
// answer, and outside the credentials, so every attempt carries them.
type retryTransport struct {
	next   http.RoundTripper
	policy RetryPolicy
}

// drainBytes is how much of a discarded answer is read so that its
// connection can be reused; beyond it, the connection is closed instead.
const drainBytes = 64 << 10

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	hasBody := req.Body != nil && req.Body != http.NoBody
	// client_golang POSTs queries as forms built with strings.NewReader,
	// which sets GetBody; a body that cannot be rebuilt is sent once.
	canResend := !hasBody || req.GetBody != nil
	info, _ := ctx.Value(responseInfoKey{}).(*ResponseInfo)

	for attempt := 1; ; attempt++ {
		r := req
		if attempt > 1 {
			r = req.Clone(ctx)
			if hasBody {
				body, err := req.GetBody()
				if err != nil {
					return nil, &RetryError{Attempts: attempt - 1, Err: fmt.Errorf("re-sending the request body: %w", err)}
				}
				r.Body = body
			}
		}
		resp, err := t.next.RoundTrip(r)
		if info != nil {
			info.Attempts = attempt
		}
		final := attempt > t.policy.Retries || !canResend
		var wait time.Duration
		if err != nil {
			if final || ctx.Err() != nil || !retryableError(err) {
				return nil, attemptsError(err, attempt)
			}
			wait = t.policy.backoff(attempt)
		} else {
			if final || !retryableStatus(resp.StatusCode) {
				return resp, nil
			}
			wait = t.policy.backoff(attempt)
			if d, ok := t.policy.retryAfter(resp.Header.Get("Retry-After")); ok {
				wait = d
			}
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			// Waiting would outlive the request: the last answer says more
			// than a timeout would.
			if err != nil {
				return nil, attemptsError(err, attempt)
			}
			return resp, nil
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
			resp.Body.Close()
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// CloseIdleConnections lets clients release idle connections through the
// wrapper.
func (t *retryTransport) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func attemptsError(err error, attempts int) error {
	if attempts <= 1 {
		return err
	}
	return &RetryError{Attempts: attempts, Err: err}
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// retryableStatus: rate limiting and server-side failures that may pass.
// 501, 505 and 511 say the server cannot ever serve this request as sent
// (client_golang falls back from POST to GET on 501).
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported, http.StatusNetworkAuthenticationRequired:
		return false
	}
	return code >= 500 && code <= 599
}

// retryableError: the connection failed or was lost before an answer.
// Certificate errors, unknown hosts and unreadable credential files stay
// the same however often they are tried.
func retryableError(err error) bool {
	var tooLarge *ResponseTooLargeError
	if errors.As(err, &tooLarge) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, errno := range []syscall.Errno{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE,
		syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ETIMEDOUT,
	} {
		if errors.Is(err, errno) {
			return true
		}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTimeout || dnsErr.IsTemporary
	}
	// A dial or TLS handshake that timed out on its own clock (not the
	// request's: that case returned above).
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}
