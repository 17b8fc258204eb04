package prometheus

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// fastRetry keeps the default number of retries with waits of
// milliseconds, so that tests of retried failures stay fast.
var fastRetry = httpclient.RetryPolicy{
	Retries:    httpclient.DefaultRetries,
	Backoff:    time.Millisecond,
	MaxBackoff: 4 * time.Millisecond,
	Jitter:     func() float64 { return 0.5 },
}

var evalTime = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// request is what a fake Prometheus saw.
type request struct {
	method string
	path   string
	form   url.Values
	header http.Header
}

// fakeProm is an httptest server that records requests and answers with
// handler.
type fakeProm struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newFakeProm(t *testing.T, handler http.HandlerFunc) *fakeProm {
	t.Helper()
	f := &fakeProm{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		f.reqs = append(f.reqs, request{method: r.Method, path: r.URL.Path, form: r.Form, header: r.Header.Clone()})
		f.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeProm) last(t *testing.T) request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("server saw no request")
	}
	return f.reqs[len(f.reqs)-1]
}

func jsonAnswer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

const vectorBody = `{"status":"success","data":{"resultType":"vector","result":[
	{"metric":{"__name__":"up","job":"api"},"value":[1795694400,"1"]},
	{"metric":{"__name__":"up","job":"worker"},"value":[1795694400,"0"]}]}}`

func mustNew(t *testing.T, src *config.Source) *Client {
	t.Helper()
	c, err := newClientWith(src, httpclient.Options{Retry: &fastRetry})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func wantKind(t *testing.T, err error, kind sources.Kind) *sources.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", kind)
	}
	var se *sources.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %q (%T) is no *sources.Error", err, err)
	}
	if se.Kind != kind {
		t.Fatalf("kind = %v, want %v (error: %v)", se.Kind, kind, err)
	}
	if se.Source != "prometheus" {
		t.Errorf("source = %q, want prometheus", se.Source)
	}
	return se
}

func TestQueryVector(t *testing.T) {
	srv := newFakeProm(t, jsonAnswer(200, vectorBody))
	c := mustNew(t, &config.Source{URL: srv.URL + "/prefix/", Timeout: 7 * time.Second})

	got, err := c.Query(context.Background(), `up{job=~".+"}`, evalTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Metric["job"] != "api" || got[0].Value != 1 || got[1].Value != 0 {
		t.Errorf("got %v", got)
	}
	req := srv.last(t)
	if req.path != "/prefix/api/v1/query" {
		t.Errorf("path = %q", req.path)
	}
	if q := req.form.Get("query"); q != `up{job=~".+"}` {
		t.Errorf("query = %q", q)
	}
	if ts := req.form.Get("time"); ts != "1795694400" {
		t.Errorf("time = %q, want 1795694400", ts)
	}
	if to := req.form.Get("timeout"); to != "7s" {
		t.Errorf("timeout = %q, want 7s", to)
	}
	if ua := req.header.Get("User-Agent"); ua != "secflow-budget" {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestQueryScalarBecomesOneSample(t *testing.T) {
	srv := newFakeProm(t, jsonAnswer(200, `{"status":"success","data":{"resultType":"scalar","result":[1795694400,"42.5"]}}`))
	c := mustNew(t, &config.Source{URL: srv.URL})
	got, err := c.Query(context.Background(), `scalar(sum(up))`, evalTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Metric) != 0 || got[0].Value != 42.5 || got[0].Timestamp != model.TimeFromUnix(1795694400) {
		t.Errorf("got %#v", got)
	}
	if got[0].Metric == nil {
		t.Error("metric of a scalar is nil, want an empty map")
	}
}

func TestQueryRejectsMatrixAndString(t *testing.T) {
	for name, body := range map[string]string{
		"matrix": `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1795694400,"1"]]}]}}`,
		"string": `{"status":"success","data":{"resultType":"string","result":[1795694400,"x"]}}`,
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeProm(t, jsonAnswer(200, body))
			c := mustNew(t, &config.Source{URL: srv.URL})
			_, err := c.Query(context.Background(), `up[5m]`, evalTime)
			wantKind(t, err, sources.BadResponse)
		})
	}
}

func TestQueryErrorMapping(t *testing.T) {
	const parseErr = `invalid parameter "query": 1:9: parse error: unclosed left parenthesis`
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		kind     sources.Kind
		contains string
	}{
		{
			name:     "401",
			handler:  jsonAnswer(401, `Unauthorized`),
			kind:     sources.Unauthorized,
			contains: "HTTP 401 Unauthorized",
		},
		{
			// client_golang retries a 403 POST as GET; both are refused.
			name:     "403",
			handler:  jsonAnswer(403, `{"status":"error","errorType":"forbidden","error":"no"}`),
			kind:     sources.Unauthorized,
			contains: "HTTP 403 Forbidden",
		},
		{
			name:     "bad_data",
			handler:  jsonAnswer(400, `{"status":"error","errorType":"bad_data","error":`+quote(parseErr)+`}`),
			kind:     sources.BadQuery,
			contains: parseErr,
		},
		{
			name:     "execution",
			handler:  jsonAnswer(422, `{"status":"error","errorType":"execution","error":"found duplicate series for the match group"}`),
			kind:     sources.BadQuery,
			contains: "found duplicate series for the match group",
		},
		{
			name:     "server timeout",
			handler:  jsonAnswer(503, `{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}`),
			kind:     sources.Timeout,
			contains: "timed out",
		},
		{
			name: "503 html",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.WriteHeader(503)
				fmt.Fprint(w, "<html><body>upstream down</body></html>")
			},
			kind:     sources.Unavailable,
			contains: "HTTP 503 Service Unavailable",
		},
		{
			name:     "500 internal",
			handler:  jsonAnswer(500, `{"status":"error","errorType":"internal","error":"storage broke"}`),
			kind:     sources.Unavailable,
			contains: "HTTP 500",
		},
		{
			name:     "429",
			handler:  jsonAnswer(429, `slow down`),
			kind:     sources.Unavailable,
			contains: "HTTP 429",
		},
		{
			name:     "404",
			handler:  http.NotFound,
			kind:     sources.BadResponse,
			contains: "base URL",
		},
		{
			name: "200 html",
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				fmt.Fprint(w, "<html><body>Sign in</body></html>")
			},
			kind:     sources.BadResponse,
			contains: "text/html",
		},
		{
			name:     "200 garbage json",
			handler:  jsonAnswer(200, `{"status":"success","data":{"resultType":"vector","result":"nope"}}`),
			kind:     sources.BadResponse,
			contains: "unreadable response",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeProm(t, tt.handler)
			c := mustNew(t, &config.Source{URL: srv.URL})
			_, err := c.Query(context.Background(), `sum(rate(x[5m])`, evalTime)
			wantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), "<html>") {
				t.Errorf("error %q quotes the body", err)
			}
		})
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func TestBadDataMessageIsVerbatim(t *testing.T) {
	const msg = `invalid parameter "query": 1:9: parse error: unclosed left parenthesis`
	srv := newFakeProm(t, jsonAnswer(400, `{"status":"error","errorType":"bad_data","error":`+quote(msg)+`}`))
	c := mustNew(t, &config.Source{URL: srv.URL})
	_, err := c.Query(context.Background(), `sum(rate(x[5m])`, evalTime)
	se := wantKind(t, err, sources.BadQuery)
	if se.Err.Error() != msg {
		t.Errorf("message = %q, want Prometheus' %q", se.Err.Error(), msg)
	}
}

func TestRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := mustNew(t, &config.Source{URL: srv.URL, Timeout: 100 * time.Millisecond})

	start := time.Now()
	_, err := c.Query(context.Background(), `up`, evalTime)
	se := wantKind(t, err, sources.Timeout)
	if se.Err.Error() != "query timed out after 100ms" {
		t.Errorf("message = %q", se.Err.Error())
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if sources.KindOf(err) != sources.Timeout {
		t.Errorf("KindOf = %v", sources.KindOf(err))
	}
}

func TestCallerDeadlineIsNotTheSourceTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := mustNew(t, &config.Source{URL: srv.URL, Timeout: time.Minute})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Query(ctx, `up`, evalTime)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v (%T) does not wrap context.DeadlineExceeded", err, err)
	}
	var se *sources.Error
	if errors.As(err, &se) {
		t.Errorf("caller's deadline reported as source failure %v", se.Kind)
	}

	// An already-ended context fails before any request.
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.Query(ctx, `up`, evalTime); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: got %v", err)
	}
}

func TestClosedPortIsUnavailable(t *testing.T) {
	addr := httpclienttest.ClosedPort(t)
	c := mustNew(t, &config.Source{URL: "http://admin:hunter22@" + addr + "/"})
	_, err := c.Query(context.Background(), `up`, evalTime)
	wantKind(t, err, sources.Unavailable)
	msg := err.Error()
	for _, secret := range []string{"hunter22", "admin"} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q contains %q", msg, secret)
		}
	}
	if !strings.Contains(msg, "connection refused") || !strings.Contains(msg, addr) {
		t.Errorf("error %q should say connection refused and name %s", msg, addr)
	}
}

func TestUnknownHostIsUnavailable(t *testing.T) {
	// .invalid never resolves (RFC 2606); a sandbox without DNS fails
	// just as well, only the message differs.
	c := mustNew(t, &config.Source{URL: "http://prometheus.invalid:9090", Timeout: 5 * time.Second})
	_, err := c.Query(context.Background(), `up`, evalTime)
	// A resolver that does not answer within the source timeout is a
	// timeout: as undecidable, and as clearly said, as no such host.
	if k := sources.KindOf(err); k != sources.Unavailable && k != sources.Timeout {
		t.Fatalf("kind %v (%v), want unavailable or timeout", k, err)
	}
}

func TestHeadersTenantAndBearerFromFile(t *testing.T) {
	srv := newFakeProm(t, jsonAnswer(200, vectorBody))
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("tok-from-file-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, &config.Source{
		URL:             srv.URL,
		Headers:         map[string]string{"X-Extra": "yes", "x-scope-orgid": "ignored"},
		Tenant:          "secflow",
		BearerTokenFile: tokenFile,
	})
	if _, err := c.Query(context.Background(), `up`, evalTime); err != nil {
		t.Fatal(err)
	}
	h := srv.last(t).header
	if got := h.Get("Authorization"); got != "Bearer tok-from-file-123" {
		t.Errorf("Authorization = %q", got)
	}
	if got := h.Values("X-Scope-OrgID"); len(got) != 1 || got[0] != "secflow" {
		t.Errorf("X-Scope-OrgID = %q, want [secflow]", got)
	}
	if got := h.Get("X-Extra"); got != "yes" {
		t.Errorf("X-Extra = %q", got)
	}

	// The file is re-read per request: a rotated token is used.
	if err := os.WriteFile(tokenFile, []byte("rotated-456"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Query(context.Background(), `up`, evalTime); err != nil {
		t.Fatal(err)
	}
	if got := srv.last(t).header.Get("Authorization"); got != "Bearer rotated-456" {
		t.Errorf("after rotation Authorization = %q", got)
	}
}

func TestBearerFromEnvNotInErrors(t *testing.T) {
	const token = "s3cr3t-t0ken-from-env"
	t.Setenv("SECFLOW_TEST_PROM_TOKEN", token)
	srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
		// A server that echoes what it got in its error is not unheard of.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"bad header %s"}`, r.Header.Get("Authorization"))
	})
	c := mustNew(t, &config.Source{URL: srv.URL, BearerTokenEnv: "SECFLOW_TEST_PROM_TOKEN"})
	_, err := c.Query(context.Background(), `up`, evalTime)
	wantKind(t, err, sources.BadQuery)
	if got := srv.last(t).header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q", got)
	}
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), token) {
			t.Errorf("error chain %q contains the token", e)
		}
	}
}

func TestUnauthorizedDoesNotLeakSecrets(t *testing.T) {
	const token = "very-secret-token-value"
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, "token %s rejected", r.Header.Get("Authorization"))
	})
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("prom-user", "url-password-xyz")
	c := mustNew(t, &config.Source{URL: u.String(), BearerTokenFile: tokenFile})
	_, err := c.Query(context.Background(), `up`, evalTime)
	wantKind(t, err, sources.Unauthorized)
	for _, secret := range []string{token, "url-password-xyz", "prom-user"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
}

func TestBasicAuth(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("pw-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECFLOW_TEST_PROM_PW", "pw-from-env")
	for name, ba := range map[string]*config.BasicAuth{
		"file": {Username: "alice", PasswordFile: pwFile},
		"env":  {Username: "alice", PasswordEnv: "SECFLOW_TEST_PROM_PW"},
	} {
		t.Run(name, func(t *testing.T) {
			var user, pw string
			var ok bool
			srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
				user, pw, ok = r.BasicAuth()
				jsonAnswer(200, vectorBody)(w, r)
			})
			c := mustNew(t, &config.Source{URL: srv.URL, BasicAuth: ba})
			if _, err := c.Query(context.Background(), `up`, evalTime); err != nil {
				t.Fatal(err)
			}
			if !ok || user != "alice" || pw != "pw-from-"+name {
				t.Errorf("basic auth = %q %q %v", user, pw, ok)
			}
		})
	}
}

func TestNewRejectsMissingCredentials(t *testing.T) {
	tests := map[string]*config.Source{
		"no url":            {},
		"bad scheme":        {URL: "ftp://x"},
		"missing token env": {URL: "http://x", BearerTokenEnv: "SECFLOW_TEST_UNSET_VAR"},
		"missing file":      {URL: "http://x", BearerTokenFile: "/nonexistent/token"},
		"both tokens":       {URL: "http://x", BearerTokenFile: "/a", BearerTokenEnv: "B"},
		"token and basic":   {URL: "http://x", BearerTokenEnv: "B", BasicAuth: &config.BasicAuth{Username: "u"}},
		"missing ca":        {URL: "https://x", TLS: &config.TLS{CAFile: "/nonexistent/ca.pem"}},
		"reserved header":   {URL: "http://x", Headers: map[string]string{"Authorization": "Bearer plain-yaml"}},
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			c, err := New(src)
			if err == nil {
				t.Fatalf("New succeeded: %+v", c)
			}
			if strings.Contains(err.Error(), "plain-yaml") {
				t.Errorf("error %q leaks the header value", err)
			}
		})
	}
	_, err := New(&config.Source{})
	if sources.KindOf(err) != sources.NotConfigured {
		t.Errorf("no URL: kind %v, want NotConfigured", sources.KindOf(err))
	}
}

func TestResponseSizeLimit(t *testing.T) {
	big := `{"status":"success","data":{"resultType":"vector","result":[` +
		distinctSeries(`{"metric":{"job":"x%03d"},"value":[1795694400,"1"]},`, 100) +
		`{"metric":{},"value":[1795694400,"1"]}]}}`
	for name, chunked := range map[string]bool{"content-length": false, "chunked": true} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeProm(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if chunked {
					// Flushing before the body forces chunked encoding: no
					// Content-Length to reject up front.
					w.(http.Flusher).Flush()
				}
				fmt.Fprint(w, big)
			})
			c, err := newClient(&config.Source{URL: srv.URL}, 1024)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Query(context.Background(), `up`, evalTime)
			wantKind(t, err, sources.BadResponse)
			if !strings.Contains(err.Error(), "larger than the 1 KiB limit") {
				t.Errorf("error %q does not name the limit", err)
			}

			// Just under the limit passes.
			c, err = newClient(&config.Source{URL: srv.URL}, int64(len(big)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Query(context.Background(), `up`, evalTime); err != nil {
				t.Errorf("body of exactly the limit: %v", err)
			}
		})
	}
}

func TestTLSWithCAFile(t *testing.T) {
	srv := httptest.NewUnstartedServer(jsonAnswer(200, vectorBody))
	// The handshake this test makes fail would be logged to stderr.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}

	c := mustNew(t, &config.Source{URL: srv.URL, TLS: &config.TLS{CAFile: caFile}})
	if _, err := c.Query(context.Background(), `up`, evalTime); err != nil {
		t.Errorf("with CA file: %v", err)
	}

	c = mustNew(t, &config.Source{URL: srv.URL})
	_, err := c.Query(context.Background(), `up`, evalTime)
	wantKind(t, err, sources.Unavailable)
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %q should mention the certificate", err)
	}

	c = mustNew(t, &config.Source{URL: srv.URL, TLS: &config.TLS{InsecureSkipVerify: true}})
	if _, err := c.Query(context.Background(), `up`, evalTime); err != nil {
		t.Errorf("insecure_skip_verify: %v", err)
	}
}

func TestProxyURL(t *testing.T) {
	var mu sync.Mutex
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.String())
		mu.Unlock()
		jsonAnswer(200, vectorBody)(w, r)
	}))
	defer proxy.Close()

	c := mustNew(t, &config.Source{URL: "http://prometheus.example:9090", ProxyURL: proxy.URL})
	if _, err := c.Query(context.Background(), `up`, evalTime); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(proxied) != 1 || proxied[0] != "http://prometheus.example:9090/api/v1/query" {
		t.Errorf("proxy saw %q", proxied)
	}
}

// distinctSeries repeats format n times, each with its index: n samples of
// n different series (an answer may not hold one series twice).
func distinctSeries(format string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, format, i)
	}
	return b.String()
}
