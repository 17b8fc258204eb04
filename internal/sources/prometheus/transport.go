package prometheus

import (
	"context"
	"fmt"
	"io"
	"net/http"
)

// DefaultMaxResponseBytes caps the body of one API response. An instant
// query answer of this size means hundreds of thousands of series: far past
// any budget's use, and a sign that a selector is wrong, not something to
// buffer in memory (client_golang reads the whole body before decoding).
const DefaultMaxResponseBytes = 64 << 20

// responseTooLargeError is returned, by the transport or while reading the
// body, when a response exceeds the size limit.
type responseTooLargeError struct {
	limit int64
}

func (e *responseTooLargeError) Error() string {
	return fmt.Sprintf("response is larger than the %s limit", formatBytes(e.limit))
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

// responseInfo records what the server answered to one Query call.
// client_golang hides the status code behind an error string ("client
// error: 401"); recording it here lets us classify by the code itself.
type responseInfo struct {
	status      int
	statusText  string
	contentType string
}

type responseInfoKey struct{}

func withResponseInfo(ctx context.Context, info *responseInfo) context.Context {
	return context.WithValue(ctx, responseInfoKey{}, info)
}

// limitTransport is the outermost round tripper: it records the status of
// the final response in the request's responseInfo and enforces the size
// limit, both on the declared Content-Length and on the bytes actually read.
type limitTransport struct {
	next  http.RoundTripper
	limit int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if info, ok := req.Context().Value(responseInfoKey{}).(*responseInfo); ok {
		info.status = resp.StatusCode
		info.statusText = http.StatusText(resp.StatusCode)
		info.contentType = resp.Header.Get("Content-Type")
	}
	if resp.ContentLength > t.limit {
		resp.Body.Close()
		return nil, &responseTooLargeError{limit: t.limit}
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.limit, limit: t.limit}
	return resp, nil
}

// CloseIdleConnections lets api.Client release idle connections through
// the wrapper.
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
		return 0, &responseTooLargeError{limit: b.limit}
	}
	// Read one byte past the limit so that a body of exactly limit bytes
	// passes and one byte more fails.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	if int64(n) > b.left {
		b.left = -1
		return 0, &responseTooLargeError{limit: b.limit}
	}
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
