package httpclient

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
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

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// roundtripSeen records the requests a test server received.
type roundtripSeen struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (s *roundtripSeen) handler(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r.Clone(r.Context()))
	s.mu.Unlock()
	io.WriteString(w, "ok")
}

func (s *roundtripSeen) last(t *testing.T) *http.Request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("the server saw no request")
	}
	return s.reqs[len(s.reqs)-1]
}

// roundtripGet sends one GET through c and returns the response, its body
// read.
func roundtripGet(t *testing.T, c *Client, u string) *http.Response {
	t.Helper()
	resp, err := c.HTTPClient().Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp
}

func roundtripWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestRoundtripTransportSettings(t *testing.T) {
	tc := &tls.Config{ServerName: "x"}
	tr := newTransport(tc, nil)
	if tr.MaxIdleConns != 20000 || tr.MaxIdleConnsPerHost != 1000 || tr.DisableKeepAlives || !tr.DisableCompression ||
		tr.IdleConnTimeout != 5*time.Minute || tr.TLSHandshakeTimeout != 10*time.Second || tr.ExpectContinueTimeout != time.Second ||
		tr.TLSClientConfig != tc || tr.DialContext == nil {
		t.Errorf("transport = %+v", tr)
	}
	if tr.Protocols == nil || !tr.Protocols.HTTP1() || !tr.Protocols.HTTP2() || tr.HTTP2 == nil || tr.HTTP2.SendPingTimeout != time.Minute {
		t.Errorf("protocols = %v, HTTP2 = %+v", tr.Protocols, tr.HTTP2)
	}
	// No proxy unless proxy_url names one: not HTTPS_PROXY's.
	t.Setenv("HTTPS_PROXY", "http://env-proxy.invalid:3128")
	t.Setenv("HTTP_PROXY", "http://env-proxy.invalid:3128")
	if tr := newTransport(nil, nil); tr.Proxy != nil {
		t.Error("a transport without proxy_url has a Proxy function")
	}
	pu, _ := url.Parse("http://proxy.example:3128")
	req, _ := http.NewRequest("GET", "https://prom.example/api", nil)
	got, err := newTransport(nil, pu).Proxy(req)
	if err != nil || got.String() != "http://proxy.example:3128" {
		t.Errorf("Proxy = %v, %v", got, err)
	}
}

func TestRoundtripHeadersSent(t *testing.T) {
	var seen roundtripSeen
	srv := httptest.NewServer(http.HandlerFunc(seen.handler))
	defer srv.Close()
	c, err := New(&config.Source{
		URL:     srv.URL,
		Tenant:  "team-a",
		Headers: map[string]string{"x-api-key": "k-123", "X-Scope-OrgID": "ignored", "Accept-Language": "en"},
	}, Options{Name: "loki"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/loki/api/v1/query", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := seen.last(t).Header
	for name, want := range map[string]string{
		"X-Api-Key":       "k-123",
		"X-Scope-Orgid":   "team-a",
		"Accept-Language": "en",
		"User-Agent":      "secflow-budget",
		"Accept":          "application/json",
		"Authorization":   "",
		"Accept-Encoding": "", // DisableCompression: nothing asked, nothing decoded
	} {
		if v := strings.Join(got.Values(name), ","); v != want {
			t.Errorf("%s = %q, want %q", name, v, want)
		}
	}
	// The caller's request is not changed.
	if len(req.Header) != 1 {
		t.Errorf("the caller's request has headers %v", req.Header)
	}
}

func TestRoundtripReservedHeaderRefused(t *testing.T) {
	_, err := New(&config.Source{URL: "http://p:9090", Headers: map[string]string{"user-agent": "x", "X-Ok": "1"}}, Options{Name: "prometheus"})
	if err == nil || err.Error() != `prometheus source: setting header "User-Agent" is not allowed` {
		t.Errorf("err = %v", err)
	}
}

func TestRoundtripRotatedTokenFile(t *testing.T) {
	var seen roundtripSeen
	srv := httptest.NewServer(http.HandlerFunc(seen.handler))
	defer srv.Close()
	token := filepath.Join(t.TempDir(), "token")
	roundtripWrite(t, token, "  first-token\n")
	c, err := New(&config.Source{URL: srv.URL, BearerTokenFile: token}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	roundtripGet(t, c, srv.URL+"/a")
	if got := seen.last(t).Header.Get("Authorization"); got != "Bearer first-token" {
		t.Errorf("first request: Authorization = %q", got)
	}
	roundtripWrite(t, token, "second-token\n")
	roundtripGet(t, c, srv.URL+"/b")
	if got := seen.last(t).Header.Get("Authorization"); got != "Bearer second-token" {
		t.Errorf("after the rotation: Authorization = %q", got)
	}
	// A token file gone between two requests fails that request, naming
	// the file.
	os.Remove(token)
	_, err = c.HTTPClient().Get(srv.URL + "/c")
	if err == nil || !strings.Contains(err.Error(), "unable to read authorization credentials: unable to read file "+token) {
		t.Errorf("without the file: %v", err)
	}
}

func TestRoundtripBasicAuth(t *testing.T) {
	var seen roundtripSeen
	srv := httptest.NewServer(http.HandlerFunc(seen.handler))
	defer srv.Close()
	pwFile := filepath.Join(t.TempDir(), "pw")
	roundtripWrite(t, pwFile, "pw-one\n")
	t.Setenv("SECFLOW_TEST_ROUNDTRIP_PW", " pw-env ")
	basicOf := func(user, pw string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
	}
	for _, tc := range []struct {
		name   string
		ba     config.BasicAuth
		rotate string // new content of pwFile before the second request
		want   [2]string
	}{
		{"password file", config.BasicAuth{Username: "alice", PasswordFile: pwFile}, "pw-two", [2]string{basicOf("alice", "pw-one"), basicOf("alice", "pw-two")}},
		{"password env", config.BasicAuth{Username: "alice", PasswordEnv: "SECFLOW_TEST_ROUNDTRIP_PW"}, "", [2]string{basicOf("alice", "pw-env"), basicOf("alice", "pw-env")}},
		{"no password", config.BasicAuth{Username: "alice"}, "", [2]string{basicOf("alice", ""), basicOf("alice", "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ba := tc.ba
			c, err := New(&config.Source{URL: srv.URL, BasicAuth: &ba}, Options{Name: "loki"})
			if err != nil {
				t.Fatal(err)
			}
			roundtripGet(t, c, srv.URL)
			if got := seen.last(t).Header.Get("Authorization"); got != tc.want[0] {
				t.Errorf("first: %q, want %q", got, tc.want[0])
			}
			if tc.rotate != "" {
				roundtripWrite(t, pwFile, tc.rotate)
			}
			roundtripGet(t, c, srv.URL)
			if got := seen.last(t).Header.Get("Authorization"); got != tc.want[1] {
				t.Errorf("second: %q, want %q", got, tc.want[1])
			}
		})
	}
}

// The URL's userinfo (which net/http sends as basic auth) wins over the
// configured token, as it did with common/config.
func TestRoundtripCallersAuthorizationWins(t *testing.T) {
	var seen roundtripSeen
	srv := httptest.NewServer(http.HandlerFunc(seen.handler))
	defer srv.Close()
	t.Setenv("SECFLOW_TEST_ROUNDTRIP_TOKEN", "env-token")
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("bob", "url-pass")
	c, err := New(&config.Source{URL: u.String(), BearerTokenEnv: "SECFLOW_TEST_ROUNDTRIP_TOKEN"}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	roundtripGet(t, c, u.String()+"/x")
	if got, want := seen.last(t).Header.Get("Authorization"), "Basic "+base64.StdEncoding.EncodeToString([]byte("bob:url-pass")); got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	roundtripGet(t, c, srv.URL+"/y")
	if got := seen.last(t).Header.Get("Authorization"); got != "Bearer env-token" {
		t.Errorf("without userinfo: Authorization = %q", got)
	}
}

// On a redirect that left the first request's host, no credential is
// added and the sensitive headers are dropped; a subdomain is the same
// host, as for net/http.
func TestRoundtripCrossHostRedirect(t *testing.T) {
	var got http.Header
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.Header
		return &http.Response{StatusCode: 200, Body: http.NoBody, Request: r}, nil
	})
	rt := &sourceTransport{next: next, headers: map[string]header{"X-Api-Key": {Values: []string{"k"}}}, auth: bearer("tok")}
	redirected := func(from, to string) *http.Request {
		first, _ := http.NewRequest("GET", from, nil)
		req, _ := http.NewRequest("GET", to, nil)
		req.Header.Set("Cookie", "c=1")
		req.Response = &http.Response{StatusCode: 302, Request: first}
		return req
	}
	for _, tc := range []struct {
		name, from, to   string
		auth, cookie, ua string
	}{
		{"other host", "http://prom.example/a", "http://evil.example/b", "", "", "secflow-budget"},
		{"subdomain", "http://prom.example/a", "http://eu.prom.example/b", "Bearer tok", "c=1", "secflow-budget"},
		{"same host", "http://prom.example/a", "http://prom.example/b", "Bearer tok", "c=1", "secflow-budget"},
	} {
		if _, err := rt.RoundTrip(redirected(tc.from, tc.to)); err != nil {
			t.Fatal(err)
		}
		if got.Get("Authorization") != tc.auth || got.Get("Cookie") != tc.cookie || got.Get("User-Agent") != tc.ua || got.Get("X-Api-Key") != "k" {
			t.Errorf("%s: headers sent %v", tc.name, got)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRoundtripProxyURL(t *testing.T) {
	var seen roundtripSeen
	proxy := httptest.NewServer(http.HandlerFunc(seen.handler))
	defer proxy.Close()
	// The source's host does not resolve: only the proxy can answer.
	t.Setenv("SECFLOW_TEST_ROUNDTRIP_PROXY_TOKEN", "via-proxy")
	c, err := New(&config.Source{URL: "http://prometheus.invalid:9090", ProxyURL: proxy.URL, BearerTokenEnv: "SECFLOW_TEST_ROUNDTRIP_PROXY_TOKEN"}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	resp := roundtripGet(t, c, "http://prometheus.invalid:9090/api/v1/query?query=up")
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
	r := seen.last(t)
	// A proxy is sent the absolute URL.
	if r.RequestURI != "http://prometheus.invalid:9090/api/v1/query?query=up" || r.Host != "prometheus.invalid:9090" {
		t.Errorf("the proxy saw %q for host %q", r.RequestURI, r.Host)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer via-proxy" {
		t.Errorf("Authorization = %q", got)
	}
}

func TestRoundtripMutualTLS(t *testing.T) {
	p := httpclienttest.NewPKI(t)
	var seen roundtripSeen
	srv := httptest.NewUnstartedServer(http.HandlerFunc(seen.handler))
	srv.EnableHTTP2 = true
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.Server}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.Pool}
	var serverLog lockedBuffer // the server's handshake errors
	srv.Config.ErrorLog = log.New(&serverLog, "", 0)
	srv.StartTLS()
	defer srv.Close()

	c, err := New(&config.Source{URL: srv.URL, TLS: &config.TLS{CAFile: p.CAFile, CertFile: p.CertFile, KeyFile: p.KeyFile}}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	resp := roundtripGet(t, c, srv.URL+"/api/v1/status/buildinfo")
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("protocol %s, want HTTP/2.0", resp.Proto)
	}
	r := seen.last(t)
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 || r.TLS.PeerCertificates[0].Subject.CommonName != "secflow-budget client" {
		t.Fatalf("the server saw no client certificate: %+v", r.TLS)
	}

	// The CA alone: the server refuses the handshake.
	noCert, err := New(&config.Source{URL: srv.URL, TLS: &config.TLS{CAFile: p.CAFile}, Retries: new(int)}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	// Under TLS 1.3 the client learns of the refusal after its side of
	// the handshake: as the server's alert on its first read, or as a
	// closed connection when its write comes after the server hung up,
	// or (HTTP/2) as a connection that could not be set up. Which one
	// is a race; that the server refused for the missing certificate is
	// not.
	if _, err := noCert.HTTPClient().Get(srv.URL); err == nil || !containsAny(err.Error(),
		"certificate required", "broken pipe", "connection reset by peer", "http2: client conn could not be established") {
		t.Errorf("without a client certificate: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(serverLog.String(), "client didn't provide a certificate"); {
		if time.Now().After(deadline) {
			t.Errorf("the server logged no refusal of a client without a certificate: %q", serverLog.String())
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	// No CA: the server's certificate is not trusted, unless told to skip.
	noCA, err := New(&config.Source{URL: srv.URL, TLS: &config.TLS{CertFile: p.CertFile, KeyFile: p.KeyFile}, Retries: new(int)}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noCA.HTTPClient().Get(srv.URL); err == nil || !strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
		t.Errorf("without the CA: %v", err)
	}
	skip, err := New(&config.Source{URL: srv.URL, TLS: &config.TLS{CertFile: p.CertFile, KeyFile: p.KeyFile, InsecureSkipVerify: true}}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	roundtripGet(t, skip, srv.URL+"/skip")
	if got := seen.last(t).URL.Path; got != "/skip" {
		t.Errorf("insecure_skip_verify: the server saw %q", got)
	}
}

func TestRoundtripServerName(t *testing.T) {
	p := httpclienttest.NewPKI(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc((&roundtripSeen{}).handler))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{p.Server}}
	srv.StartTLS()
	defer srv.Close()
	// The certificate is for 127.0.0.1 and prom.example: server_name is
	// the name verified.
	c, err := New(&config.Source{URL: srv.URL, TLS: &config.TLS{CAFile: p.CAFile, ServerName: "prom.example"}}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	roundtripGet(t, c, srv.URL)
	c, err = New(&config.Source{URL: srv.URL, TLS: &config.TLS{CAFile: p.CAFile, ServerName: "other.example"}, Retries: new(int)}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.HTTPClient().Get(srv.URL); err == nil || !strings.Contains(err.Error(), "x509: certificate is valid for prom.example, not other.example") {
		t.Errorf("server_name other.example: %v", err)
	}
}

func TestRoundtripTLSFileErrors(t *testing.T) {
	p := httpclienttest.NewPKI(t)
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "not.pem")
	roundtripWrite(t, notPEM, "SECRET-CONTENT\n")
	for _, tc := range []struct {
		name string
		tls  config.TLS
		want string
	}{
		{"ca without certificate", config.TLS{CAFile: notPEM},
			"prometheus source: setting up HTTP client: unable to use specified CA cert file " + notPEM},
		{"missing ca", config.TLS{CAFile: filepath.Join(dir, "nope")},
			"prometheus source: setting up HTTP client: unable to read CA cert: unable to read file " + filepath.Join(dir, "nope") + ": open " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"cert is not PEM", config.TLS{CertFile: notPEM, KeyFile: p.KeyFile},
			"prometheus source: setting up HTTP client: unable to use specified client cert (file " + notPEM + ") & key (file " + p.KeyFile + "): tls: failed to find any PEM data in certificate input"},
		{"key of another certificate", config.TLS{CertFile: p.CertFile, KeyFile: p.CAFile},
			"prometheus source: setting up HTTP client: unable to use specified client cert (file " + p.CertFile + ") & key (file " + p.CAFile + "): tls: found a certificate rather than a key in the PEM for the private key"},
		{"cert without key", config.TLS{CertFile: p.CertFile},
			"prometheus source: setting up HTTP client: cert_file is set without key_file: they go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tlsCfg := tc.tls
			_, err := New(&config.Source{URL: "https://p:9090", TLS: &tlsCfg}, Options{Name: "prometheus"})
			if err == nil || err.Error() != tc.want {
				t.Errorf("\n got: %v\nwant: %s", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "SECRET-CONTENT") {
				t.Errorf("the message quotes the file: %v", err)
			}
		})
	}
}

// lockedBuffer is a bytes.Buffer that a server's goroutines may write
// while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
