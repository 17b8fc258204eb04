package loki

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

// evalTime is T of the recorded Loki data (testdata/loki/meta.json).
var evalTime = time.Date(2026, 11, 26, 18, 40, 0, 0, time.UTC)

// request is what a fake Loki saw.
type request struct {
	method string
	path   string
	form   url.Values
	header http.Header
}

// fakeLoki is an httptest server that records requests and answers with
// handler. Tests of the answers' numbers use lokitest instead.
type fakeLoki struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newFakeLoki(t *testing.T, handler http.HandlerFunc) *fakeLoki {
	t.Helper()
	f := &fakeLoki{}
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

func (f *fakeLoki) last(t *testing.T) request {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.reqs) == 0 {
		t.Fatal("server saw no request")
	}
	return f.reqs[len(f.reqs)-1]
}

// answer replies as Loki does: JSON with Loki's content type, errors in
// text/plain.
func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

const (
	jsonType = "application/json; charset=UTF-8"
	textType = "text/plain; charset=utf-8"
)

// vectorBody is q1_bytes_by_service_1h as Loki 3.7.6 answered it, stats cut
// short.
const vectorBody = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"api"},"value":[1795718400,"96949"]},{"metric":{"service":"scanner"},"value":[1795718400,"34459"]},{"metric":{"service":"worker"},"value":[1795718400,"46503"]}],"stats":{"summary":{"bytesProcessedPerSecond":1348026,"totalBytesProcessed":188184,"execTime":0.139599666}}}}`

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
	if se.Source != "loki" {
		t.Errorf("source = %q, want loki", se.Source)
	}
	return se
}

func TestQueryVector(t *testing.T) {
	srv := newFakeLoki(t, answer(200, jsonType, vectorBody))
	c := mustNew(t, &config.Source{URL: srv.URL + "/prefix/", Timeout: 7 * time.Second})

	const q = `sum by (service) (bytes_over_time({service=~"api|worker|scanner"}[1h]))`
	got, err := c.Query(context.Background(), q, evalTime.Add(123*time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]model.SampleValue{"api": 96949, "scanner": 34459, "worker": 46503}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for _, s := range got {
		if v, ok := want[string(s.Metric["service"])]; !ok || v != s.Value || len(s.Metric) != 1 {
			t.Errorf("unexpected sample %v", s)
		}
		if s.Timestamp != model.TimeFromUnix(1795718400) {
			t.Errorf("timestamp %v", s.Timestamp)
		}
	}
	req := srv.last(t)
	if req.method != http.MethodGet || req.path != "/prefix/loki/api/v1/query" {
		t.Errorf("request %s %s", req.method, req.path)
	}
	if got := req.form.Get("query"); got != q {
		t.Errorf("query = %q", got)
	}
	if ts := req.form.Get("time"); ts != "1795718400000000123" {
		t.Errorf("time = %q, want unix nanoseconds", ts)
	}
	if ua := req.header.Get("User-Agent"); ua != "secflow-budget" {
		t.Errorf("User-Agent = %q", ua)
	}
	if c.BytesRead() != int64(len(vectorBody)) {
		t.Errorf("BytesRead = %d, want %d", c.BytesRead(), len(vectorBody))
	}
}

func TestQueryEmptyAndScalar(t *testing.T) {
	srv := newFakeLoki(t, answer(200, jsonType, `{"status":"success","data":{"resultType":"vector","result":[]}}`))
	got, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), `sum(count_over_time({a="b"}[1h]))`, evalTime)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty result: got %#v, %v; want an empty, non-nil vector", got, err)
	}

	srv = newFakeLoki(t, answer(200, jsonType, `{"status":"success","data":{"resultType":"scalar","result":[1795718400,"42.5"]}}`))
	got, err = mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), `vector(42.5)`, evalTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Metric == nil || len(got[0].Metric) != 0 || got[0].Value != 42.5 || got[0].Timestamp != model.TimeFromUnix(1795718400) {
		t.Errorf("scalar: got %#v", got)
	}
}

func TestQueryRejectsStreamsAndMatrix(t *testing.T) {
	for name, tt := range map[string]struct{ body, contains string }{
		"streams": {`{"status":"success","data":{"resultType":"streams","result":[{"stream":{"service":"api"},"values":[["1795718400000000000","hello"]]}]}}`, "not a metric query"},
		"matrix":  {`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1795718400,"1"]]}]}}`, "range vector"},
		"garbage": {`{"status":"success","data":{"resultType":"vector","result":"nope"}}`, "unreadable response"},
		"failure": {`{"status":"error","error":"boom"}`, "boom"},
		"html":    {`<html>hi</html>`, "unreadable"},
	} {
		t.Run(name, func(t *testing.T) {
			ct := jsonType
			if name == "html" {
				ct = "text/html"
			}
			srv := newFakeLoki(t, answer(200, ct, tt.body))
			_, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), `{service="api"}`, evalTime)
			wantKind(t, err, sources.BadResponse)
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), "hello") || strings.Contains(err.Error(), "<html>") {
				t.Errorf("error %q quotes the body", err)
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	// The bodies are Loki 3.7.6's own (testdata/loki/responses).
	const (
		parseErr  = "parse error at line 1, col 55: syntax error: unexpected $end"
		regexErr  = "parse error : stage '|~ \"AKIA[0-9A-Z\"' : error parsing regexp: missing closing ]: `[0-9A-Z`"
		pipeErr   = "pipeline error: 'JSONParserErr' for series: '{__error__=\"JSONParserErr\", __error_details__=\"Value looks like object, but can't find closing '}' symbol\", detected_level=\"error\", env=\"prod\", kind=\"sast\", service=\"scanner\", service_name=\"scanner\"}'.\nUse a label filter to intentionally skip this error. (e.g | __error__!=\"JSONParserErr\").\nTo skip all potential errors you can match empty errors.(e.g __error__=\"\")\nThe label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n"
		emptyErr  = "parse error : queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will"
		noOrgBody = "no org id\n"
	)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		kind    sources.Kind
		want    string // the whole message (after "loki: "), or a part when prefix
		part    bool
	}{
		{"invalid logql", answer(400, textType, parseErr), sources.BadQuery, "400 Bad Request: " + parseErr, false},
		{"invalid regex", answer(400, textType, regexErr), sources.BadQuery, "400 Bad Request: " + regexErr, false},
		{"pipeline error", answer(400, textType, pipeErr), sources.BadQuery, "400 Bad Request: " + strings.TrimSpace(pipeErr), false},
		{"empty matcher", answer(400, textType, emptyErr), sources.BadQuery, "400 Bad Request: " + emptyErr, false},
		{"no org id", answer(401, textType, noOrgBody), sources.Unauthorized, "401 Unauthorized: no org id (Loki runs with auth enabled: set sources.loki.tenant, sent as the X-Scope-OrgID header)", false},
		{"403", answer(403, textType, "forbidden by policy\n"), sources.Unauthorized, "answered 403 Forbidden: forbidden by policy: it requires authentication and no credentials are configured (set sources.loki.bearer_token_file, bearer_token_env, basic_auth or tenant)", true},
		{"500", answer(500, textType, "rpc error: code = Unavailable desc = ingester down\n"), sources.Unavailable, "answered 500 Internal Server Error: rpc error: code = Unavailable desc = ingester down", true},
		{"502 html", answer(502, "text/html", "<html><body>bad gateway</body></html>"), sources.Unavailable, "answered 502 Bad Gateway", true},
		{"503", answer(503, textType, "Ingester not ready: waiting for 15s after being ready\n"), sources.Unavailable, "503 Service Unavailable: Ingester not ready", true},
		{"504", answer(504, textType, "context deadline exceeded"), sources.Timeout, "timed out the query: 504 Gateway Timeout", true},
		{"429", answer(429, textType, "too many outstanding requests\n"), sources.Unavailable, "rate limiting us: 429 Too Many Requests: too many outstanding requests", true},
		{"404", answer(404, textType, "404 page not found\n"), sources.BadResponse, "base URL of Loki", true},
		{"json error", answer(400, "application/json", `{"status":"error","errorType":"bad_data","error":"invalid query"}`), sources.BadQuery, "400 Bad Request: invalid query", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLoki(t, tt.handler)
			c := mustNew(t, &config.Source{URL: srv.URL})
			_, err := c.Query(context.Background(), `sum(count_over_time({service="api"}[1h]))`, evalTime)
			se := wantKind(t, err, tt.kind)
			got := se.Err.Error()
			if tt.part && !strings.Contains(got, tt.want) || !tt.part && got != tt.want {
				t.Errorf("message\n%q\nwant\n%q", got, tt.want)
			}
			if err.Error() != "loki: "+got {
				t.Errorf("Error() = %q", err)
			}
			if strings.Contains(got, "<html>") {
				t.Errorf("message %q quotes an HTML body", got)
			}
			if c.BytesRead() == 0 {
				t.Error("error body not counted in BytesRead")
			}
		})
	}
}

func TestNoOrgIDHintOnlyWithoutTenant(t *testing.T) {
	srv := newFakeLoki(t, answer(401, textType, "no org id\n"))
	_, err := mustNew(t, &config.Source{URL: srv.URL, Tenant: "secflow"}).Query(context.Background(), `x`, evalTime)
	se := wantKind(t, err, sources.Unauthorized)
	if strings.Contains(se.Error(), "set sources.loki.tenant") || !strings.Contains(se.Error(), "no org id") {
		t.Errorf("message %q", se)
	}
	_, err = mustNew(t, &config.Source{URL: srv.URL, Headers: map[string]string{"x-scope-orgid": "secflow"}}).Query(context.Background(), `x`, evalTime)
	se = wantKind(t, err, sources.Unauthorized)
	if strings.Contains(se.Error(), "set sources.loki.tenant") {
		t.Errorf("tenant sent as a header, still hinted: %q", se)
	}
}

func hang(release chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}
}

func TestRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newFakeLoki(t, hang(release))
	defer close(release)
	c := mustNew(t, &config.Source{URL: srv.URL, Timeout: 100 * time.Millisecond})

	start := time.Now()
	_, err := c.Query(context.Background(), `sum(count_over_time({a="b"}[1h]))`, evalTime)
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
	srv := newFakeLoki(t, hang(release))
	defer close(release)
	c := mustNew(t, &config.Source{URL: srv.URL, Timeout: time.Minute})

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Query(ctx, `x`, evalTime)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v (%T) does not wrap context.DeadlineExceeded", err, err)
	}
	var se *sources.Error
	if errors.As(err, &se) {
		t.Errorf("caller's deadline reported as source failure %v", se.Kind)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := c.Query(ctx, `x`, evalTime); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled ctx: got %v", err)
	}
}

func TestClosedPortIsUnavailable(t *testing.T) {
	addr := httpclienttest.ClosedPort(t)
	c := mustNew(t, &config.Source{URL: "http://admin:hunter22@" + addr + "/"})
	_, err := c.Query(context.Background(), `x`, evalTime)
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

func TestSecretsNeverInErrors(t *testing.T) {
	const token = "s3cr3t-t0ken-from-env"
	t.Setenv("SECFLOW_TEST_LOKI_TOKEN", token)
	// A server (or gateway) that echoes what it got is not unheard of.
	srv := newFakeLoki(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", textType)
		w.WriteHeader(400)
		fmt.Fprintf(w, "bad header %s, url user %s", r.Header.Get("Authorization"), r.URL.String())
	})
	c := mustNew(t, &config.Source{URL: srv.URL, BearerTokenEnv: "SECFLOW_TEST_LOKI_TOKEN"})
	_, err := c.Query(context.Background(), `x`, evalTime)
	wantKind(t, err, sources.BadQuery)
	if got := srv.last(t).header.Get("Authorization"); got != "Bearer "+token {
		t.Errorf("Authorization = %q", got)
	}
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), token) {
			t.Errorf("error chain %q contains the token", e)
		}
	}

	// URL userinfo and a token file, refused.
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("very-secret-token-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv = newFakeLoki(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		fmt.Fprintf(w, "token %s rejected", r.Header.Get("Authorization"))
	})
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("loki-user", "url-password-xyz")
	c = mustNew(t, &config.Source{URL: u.String(), BearerTokenFile: tokenFile})
	_, err = c.Query(context.Background(), `x`, evalTime)
	wantKind(t, err, sources.Unauthorized)
	for _, secret := range []string{"very-secret-token-value", "url-password-xyz", "loki-user"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q contains %q", err, secret)
		}
	}
}

func TestHeadersTenantAndBearerFromFile(t *testing.T) {
	srv := newFakeLoki(t, answer(200, jsonType, vectorBody))
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok-from-file-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustNew(t, &config.Source{
		URL:             srv.URL,
		Headers:         map[string]string{"X-Extra": "yes", "x-scope-orgid": "ignored"},
		Tenant:          "secflow",
		BearerTokenFile: tokenFile,
	})
	if _, err := c.Query(context.Background(), `x`, evalTime); err != nil {
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
	if _, err := c.Query(context.Background(), `x`, evalTime); err != nil {
		t.Fatal(err)
	}
	if got := srv.last(t).header.Get("Authorization"); got != "Bearer rotated-456" {
		t.Errorf("after rotation Authorization = %q", got)
	}
}

func TestBasicAuth(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("pw-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECFLOW_TEST_LOKI_PW", "pw-from-env")
	for name, ba := range map[string]*config.BasicAuth{
		"file": {Username: "alice", PasswordFile: pwFile},
		"env":  {Username: "alice", PasswordEnv: "SECFLOW_TEST_LOKI_PW"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeLoki(t, answer(200, jsonType, vectorBody))
			c := mustNew(t, &config.Source{URL: srv.URL, BasicAuth: ba})
			if _, err := c.Query(context.Background(), `x`, evalTime); err != nil {
				t.Fatal(err)
			}
			r := &http.Request{Header: srv.last(t).header}
			user, pw, ok := r.BasicAuth()
			if !ok || user != "alice" || pw != "pw-from-"+name {
				t.Errorf("basic auth = %q %q %v", user, pw, ok)
			}
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := map[string]*config.Source{
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
			if !strings.HasPrefix(err.Error(), "loki ") {
				t.Errorf("error %q does not name the loki source", err)
			}
			if strings.Contains(err.Error(), "plain-yaml") {
				t.Errorf("error %q leaks the header value", err)
			}
		})
	}
	for _, src := range []*config.Source{nil, {}} {
		if _, err := New(src); sources.KindOf(err) != sources.NotConfigured {
			t.Errorf("no URL: kind %v, want NotConfigured (%v)", sources.KindOf(err), err)
		}
	}
}

func TestResponseSizeLimit(t *testing.T) {
	big := `{"status":"success","data":{"resultType":"vector","result":[` +
		distinctSeries(`{"metric":{"service":"x%03d"},"value":[1795718400,"1"]},`, 100) +
		`{"metric":{},"value":[1795718400,"1"]}]}}`
	for name, chunked := range map[string]bool{"content-length": false, "chunked": true} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeLoki(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", jsonType)
				if chunked {
					w.(http.Flusher).Flush()
				}
				fmt.Fprint(w, big)
			})
			c, err := newClient(&config.Source{URL: srv.URL}, 1024)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Query(context.Background(), `x`, evalTime)
			wantKind(t, err, sources.BadResponse)
			if !strings.Contains(err.Error(), "larger than the 1 KiB limit") {
				t.Errorf("error %q does not name the limit", err)
			}
			c, err = newClient(&config.Source{URL: srv.URL}, int64(len(big)))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Query(context.Background(), `x`, evalTime); err != nil {
				t.Errorf("body of exactly the limit: %v", err)
			}
		})
	}
}

func TestTLSWithCAFile(t *testing.T) {
	srv := httptest.NewUnstartedServer(answer(200, jsonType, vectorBody))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(caFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mustNew(t, &config.Source{URL: srv.URL, TLS: &config.TLS{CAFile: caFile}}).Query(context.Background(), `x`, evalTime); err != nil {
		t.Errorf("with CA file: %v", err)
	}
	_, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), `x`, evalTime)
	wantKind(t, err, sources.Unavailable)
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("error %q should mention the certificate", err)
	}
}

func TestProxyURL(t *testing.T) {
	var mu sync.Mutex
	var proxied []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proxied = append(proxied, r.URL.Path)
		mu.Unlock()
		answer(200, jsonType, vectorBody)(w, r)
	}))
	defer proxy.Close()
	c := mustNew(t, &config.Source{URL: "http://loki.example:3100", ProxyURL: proxy.URL})
	if _, err := c.Query(context.Background(), `x`, evalTime); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(proxied) != 1 || proxied[0] != "/loki/api/v1/query" {
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
