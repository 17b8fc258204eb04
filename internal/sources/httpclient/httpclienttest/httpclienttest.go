// Package httpclienttest holds the small servers and addresses that the
// tests of the HTTP sources (httpclient, prometheus, loki) share.
package httpclienttest

import (
	"net"
	"net/http"
	"sync/atomic"
	"testing"
)

// ClosedPort returns a 127.0.0.1 address nothing listens on: a connection
// to it is refused at once.
func ClosedPort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// FailFirst answers the first n requests with fail, then with ok.
func FailFirst(n int32, fail, ok http.HandlerFunc) http.HandlerFunc {
	var seen atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		if seen.Add(1) <= n {
			fail(w, r)
			return
		}
		ok(w, r)
	}
}
