package httpclient

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// hostileGet sends one GET to url through a client named name that does
// not retry, and returns the client, the run's and the request's context
// (RequestFailed takes both) and the response, whose body is closed when
// the test ends.
func hostileGet(t *testing.T, name, url string) (c *Client, ctx, reqCtx context.Context, resp *http.Response) {
	t.Helper()
	c, err := New(&config.Source{URL: url}, Options{Name: name, Retry: &RetryPolicy{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx = context.Background()
	reqCtx, cancel := c.WithRequestTimeout(ctx)
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(reqCtx, http.MethodGet, url, nil)
	resp, err = c.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("the request failed before its body: %v", err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return c, ctx, reqCtx, resp
}

// TestHostileUnsolicitedEncoding: we never ask for a compressed answer
// (no Accept-Encoding goes out, and net/http decodes nothing), so a body
// that is compressed anyway, declared or not, fails its read with an error
// that says so, and RequestFailed makes it a BadResponse naming the
// compression; plain bodies, however short, read as sent (issue 7, item 21).
func TestHostileUnsolicitedEncoding(t *testing.T) {
	const doc = `{"status":"success"}`
	zstdFrame := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x01, 0x00}
	tests := []struct {
		name     string
		status   int
		encoding string // Content-Encoding sent, "" for none
		body     []byte
		want     string // the whole message; "" when the body reads fine
	}{
		{"gzip declared", 200, "gzip", httpclienttest.Gzip(t, doc), `loki: URL answered HTTP 200 OK with a gzip-compressed body we did not ask for (Content-Encoding: gzip): it cannot be read; check the server or a proxy in front of it`},
		{"gzip undeclared", 200, "", httpclienttest.Gzip(t, doc), `loki: URL answered HTTP 200 OK with a gzip-compressed body we did not ask for (without saying so in Content-Encoding): it cannot be read; check the server or a proxy in front of it`},
		{"zstd undeclared", 200, "", zstdFrame, `loki: URL answered HTTP 200 OK with a zstd-compressed body we did not ask for (without saying so in Content-Encoding): it cannot be read; check the server or a proxy in front of it`},
		{"br declared", 200, "BR", []byte("\x0b\x02\x80{}\x03"), `loki: URL answered HTTP 200 OK with a br-compressed body we did not ask for (Content-Encoding: br): it cannot be read; check the server or a proxy in front of it`},
		{"gzip 401", 401, "gzip", httpclienttest.Gzip(t, "unauthorized"), `loki: URL answered HTTP 401 Unauthorized with a gzip-compressed body we did not ask for (Content-Encoding: gzip): it cannot be read; check the server or a proxy in front of it`},
		{"identity", 200, "identity", []byte(doc), ""},
		{"plain", 200, "", []byte(doc), ""},
		{"empty", 200, "", nil, ""},
		{"one byte", 200, "", []byte("{"), ""},
		{"two bytes", 200, "", []byte("{}"), ""},
		{"one gzip byte", 200, "", []byte{0x1f}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if ae := r.Header.Get("Accept-Encoding"); ae != "" {
					t.Errorf("request asked for Accept-Encoding %q", ae)
				}
				w.Header().Set("Content-Type", "application/json")
				if tt.encoding != "" {
					w.Header().Set("Content-Encoding", tt.encoding)
				}
				w.WriteHeader(tt.status)
				w.Write(tt.body)
			}))
			t.Cleanup(srv.Close)
			c, ctx, reqCtx, resp := hostileGet(t, "loki", srv.URL)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: the check must not hide the status", resp.StatusCode, tt.status)
			}
			got, err := io.ReadAll(resp.Body)
			if tt.want == "" {
				if err != nil || !bytes.Equal(got, tt.body) {
					t.Errorf("read %q, %v; want %q", got, err, tt.body)
				}
				return
			}
			var enc *UnsolicitedEncodingError
			if !errors.As(err, &enc) {
				t.Fatalf("read error %v (%T), want an UnsolicitedEncodingError", err, err)
			}
			failed := c.RequestFailed(ctx, reqCtx, err)
			if sources.KindOf(failed) != sources.BadResponse {
				t.Errorf("kind %v, want bad_response", sources.KindOf(failed))
			}
			if msg := bytes.ReplaceAll([]byte(failed.Error()), []byte(srv.URL), []byte("URL")); string(msg) != tt.want {
				t.Errorf("message\n%s\nwant\n%s", msg, tt.want)
			}
		})
	}
}

// TestHostileCutOffAnswer: a server that sends the start of an answer and
// hangs up was reached: the message says the answer was cut off, not
// "cannot reach".
func TestHostileCutOffAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"status\":\"succ")
		buf.Flush()
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	c, ctx, reqCtx, resp := hostileGet(t, "prometheus", srv.URL)
	_, err := io.ReadAll(resp.Body)
	failed := c.RequestFailed(ctx, reqCtx, err)
	want := "prometheus: the answer from " + srv.URL + " was cut off: unexpected EOF"
	if failed.Error() != want || sources.KindOf(failed) != sources.Unavailable || !errors.Is(failed, io.ErrUnexpectedEOF) {
		t.Errorf("error %q (kind %v), want %q (unavailable)", failed, sources.KindOf(failed), want)
	}
}
