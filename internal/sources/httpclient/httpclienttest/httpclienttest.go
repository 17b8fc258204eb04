// Package httpclienttest holds the small servers, answers and addresses
// that the tests of the HTTP sources (httpclient, prometheus, loki,
// endpoint) and the end-to-end tests share.
package httpclienttest

import (
	"bytes"
	"compress/gzip"
	"math"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/prometheus/common/model"
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

// Answer answers every request with status, the content type, body and
// the further headers given as name, value pairs (a Content-Type among
// them replaces contentType).
func Answer(status int, contentType string, body []byte, header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		w.Write(body)
	}
}

// Vector is a successful answer of the Prometheus HTTP API (whose envelope
// Loki's metric queries share) with the given JSON as its vector result.
func Vector(result string) []byte {
	return []byte(`{"status":"success","data":{"resultType":"vector","result":` + result + `}}`)
}

// Gzip is s gzip-compressed: a body a server sends compressed although we
// never ask for it, or a compressed file.
func Gzip(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// WantValues fails t unless err is nil and got holds the values want, in
// order, NaN matching NaN: what a query client must pass on as sent.
func WantValues(t testing.TB, got model.Vector, err error, want []float64) {
	t.Helper()
	if err != nil {
		t.Fatalf("error %v, want the values", err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i, s := range got {
		if w := want[i]; !(float64(s.Value) == w || math.IsNaN(w) && math.IsNaN(float64(s.Value))) {
			t.Errorf("sample %d = %v, want %v", i, s, w)
		}
	}
}
