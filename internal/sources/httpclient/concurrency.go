package httpclient

import (
	"io"
	"net/http"
	"sync"
)

// Connections: the transport that newTransport builds keeps up to 1000
// idle connections per host (MaxIdleConnsPerHost), well above any
// --concurrency, so concurrent budgets reuse their connections instead of
// reconnecting as net/http's default of 2 would make them.

// capTransport lets at most cap(slots) requests be in flight to the source
// at once (the source's max_concurrency). A request holds its slot, over
// all its retries, until its body is read to the end or closed: until then
// the server may still be sending it.
type capTransport struct {
	next  http.RoundTripper
	slots chan struct{}
}

func (t *capTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case t.slots <- struct{}{}:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		<-t.slots
		return nil, err
	}
	resp.Body = &releasingBody{rc: resp.Body, release: sync.OnceFunc(func() { <-t.slots })}
	return resp, nil
}

// CloseIdleConnections lets clients release idle connections through the
// wrapper.
func (t *capTransport) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// releasingBody gives its request's slot back at the end of the body or
// when it is closed, whichever comes first.
type releasingBody struct {
	rc      io.ReadCloser
	release func()
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		b.release()
	}
	return n, err
}

func (b *releasingBody) Close() error {
	defer b.release()
	return b.rc.Close()
}
