package httpclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxResponseBytes caps the body of one API response. An instant
// query answer of this size means some hundred thousand series: far past
// any budget's use (SecFlow's whole secflow_* cardinality budget returned
// raw is a few MB), and a sign that a selector is wrong, not something to
// buffer in memory. Both clients buffer a whole answer before decoding it
// and a buffer grows by doubling, so one query may hold about three times
// this much at its peak, and --concurrency queries run at once.
const DefaultMaxResponseBytes = 16 << 20

// ResponseTooLargeError is returned, by the transport or while reading the
// body, when a response exceeds the size limit.
type ResponseTooLargeError struct {
	Limit int64
}

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("response too large: larger than the %s limit", formatBytes(e.Limit))
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// ResponseInfo records what the server answered to one request, for
// clients (client_golang) that hide the status code behind an error string.
type ResponseInfo struct {
	Status      int
	StatusText  string
	ContentType string
	// Attempts is how often the request was sent (1 without retries).
	Attempts int
}

type responseInfoKey struct{}

// WithResponseInfo makes the transport fill info with the final response
// of requests made with the returned context.
func WithResponseInfo(ctx context.Context, info *ResponseInfo) context.Context {
	return context.WithValue(ctx, responseInfoKey{}, info)
}

// limitTransport is the outermost round tripper: it records the status of
// the final response in the request's ResponseInfo and enforces the size
// limit, both on the declared Content-Length and on the bytes actually read.
// A response too large is not retried: it would be as large again.
type limitTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if info, ok := req.Context().Value(responseInfoKey{}).(*ResponseInfo); ok {
		info.Status = resp.StatusCode
		info.StatusText = http.StatusText(resp.StatusCode)
		info.ContentType = resp.Header.Get("Content-Type")
	}
	if resp.ContentLength > t.limit {
		resp.Body.Close()
		return nil, &ResponseTooLargeError{Limit: t.limit}
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.limit, limit: t.limit}
	resp.Body = encodingCheck(resp)
	return resp, nil
}

// CloseIdleConnections lets clients release idle connections through the
// wrapper.
func (t *limitTransport) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// limitedBody fails, instead of truncating, once more than limit bytes
// have been read: a silently cut JSON body would surface as a confusing
// decode error.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64 // bytes still allowed; -1 once the limit was exceeded
	limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &ResponseTooLargeError{Limit: b.limit}
	}
	// Read one byte past the limit so that a body of exactly limit bytes
	// passes and one byte more fails.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		b.left = -1
		return 0, &ResponseTooLargeError{Limit: b.limit}
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
