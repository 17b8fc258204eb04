package endpoint

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

const exposition = "# HELP up_total Ups.\n# TYPE up_total counter\nup_total 1\n"

// seen is what a test server saw of one request.
type seen struct {
	path, accept, encoding, auth, tenant string
	clientCerts                          int
}

type recorder struct {
	mu   sync.Mutex
	reqs []seen
}

func (r *recorder) record(req *http.Request) {
	s := seen{path: req.URL.Path, accept: req.Header.Get("Accept"), encoding: req.Header.Get("Accept-Encoding"),
		auth: req.Header.Get("Authorization"), tenant: req.Header.Get("X-Scope-OrgID")}
	if req.TLS != nil {
		s.clientCerts = len(req.TLS.PeerCertificates)
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, s)
	r.mu.Unlock()
}

func (r *recorder) all() []seen {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]seen(nil), r.reqs...)
}

// protected serves the exposition to requests bearing token and answers
// 401 to the others.
func protected(rec *recorder, token string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprint(w, exposition)
	}
}

func tokenFile(t *testing.T, token string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustNew(t *testing.T, src *config.Source, opts Options) *Client {
	t.Helper()
	c, err := New(src, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func wantKind(t *testing.T, err error, kind sources.Kind) *sources.Error {
	t.Helper()
	var se *sources.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is no *sources.Error", err, err)
	}
	if se.Kind != kind || se.Source != "endpoint" {
		t.Fatalf("kind %v source %q, want %v endpoint (error: %v)", se.Kind, se.Source, kind, err)
	}
	return se
}

func TestAuthenticatedAndAnonymous(t *testing.T) {
	const token = "s3cret-metrics-token"
	rec := &recorder{}
	srv := httptest.NewServer(protected(rec, token))
	defer srv.Close()
	c := mustNew(t, &config.Source{
		URL:             "http://prometheus.example:9090", // never asked
		BearerTokenFile: tokenFile(t, token),
		Tenant:          "secflow",
		Headers:         map[string]string{"X-Extra": "1"},
	}, Options{})

	exp, err := c.Fetch(context.Background(), sources.EndpointRequest{Name: "m", URL: srv.URL + "/metrics"})
	if err != nil {
		t.Fatal(err)
	}
	if exp.StatusCode != 200 || string(exp.Body) != exposition || exp.Size != int64(len(exposition)) ||
		exp.ContentType != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("authenticated: %+v", exp)
	}

	anon, err := c.Fetch(context.Background(), sources.EndpointRequest{Name: "m", URL: srv.URL + "/metrics", Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	if anon.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous: status %d, want 401", anon.StatusCode)
	}

	reqs := rec.all()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want 2", len(reqs))
	}
	if r := reqs[0]; r.path != "/metrics" || r.accept != AcceptHeader || r.encoding != "" || r.tenant != "secflow" {
		t.Errorf("authenticated request: %+v", r)
	}
	if r := reqs[1]; r.auth != "" || r.tenant != "" || r.accept != AcceptHeader {
		t.Errorf("anonymous request carried credentials or headers: %+v", r)
	}
}

func TestWrongCredentials(t *testing.T) {
	const secret = "wrong-but-secret-token"
	srv := httptest.NewServer(protected(&recorder{}, "right-token"))
	defer srv.Close()
	c := mustNew(t, &config.Source{BearerTokenFile: tokenFile(t, secret)}, Options{})
	_, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/metrics"})
	se := wantKind(t, err, sources.Unauthorized)
	if !strings.Contains(se.Error(), "HTTP 401 Unauthorized") || strings.Contains(se.Error(), secret) {
		t.Errorf("message %q", se.Error())
	}
	// Without any credentials configured the answer is the same kind.
	c = mustNew(t, nil, Options{})
	_, err = c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/metrics"})
	wantKind(t, err, sources.Unauthorized)
}

func TestBasicAuthPasswordNeverPrinted(t *testing.T) {
	const pw = "basic-auth-password-123"
	t.Setenv("SECFLOW_TEST_ENDPOINT_PW", pw)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, got, ok := r.BasicAuth()
		// Echo what was sent: a careless client would print it.
		http.Error(w, fmt.Sprintf("no access for %s:%s (%v)", user, got, ok), http.StatusForbidden)
	}))
	defer srv.Close()
	c := mustNew(t, &config.Source{BasicAuth: &config.BasicAuth{Username: "ci-user", PasswordEnv: "SECFLOW_TEST_ENDPOINT_PW"}}, Options{})
	_, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/metrics"})
	se := wantKind(t, err, sources.Unauthorized)
	if strings.Contains(se.Error(), pw) || !strings.Contains(se.Error(), "HTTP 403 Forbidden") {
		t.Errorf("message %q", se.Error())
	}
}

func TestURLWithCredentialsIsRefused(t *testing.T) {
	c := mustNew(t, nil, Options{})
	for _, anonymous := range []bool{false, true} {
		_, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: "http://bob:hunter2-secret@127.0.0.1:1/metrics", Anonymous: anonymous})
		se := wantKind(t, err, sources.BadQuery)
		if strings.Contains(se.Error(), "hunter2-secret") {
			t.Errorf("message %q shows the password", se.Error())
		}
	}
	_, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: "ftp://x/metrics"})
	wantKind(t, err, sources.BadQuery)
}

func TestOversizedBody(t *testing.T) {
	big := strings.Repeat("x_total 1\n", 1000) // 10,000 bytes
	handler := func(chunked bool) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if !chunked {
				w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			}
			for i := 0; i < len(big); i += 1000 {
				fmt.Fprint(w, big[i:i+1000])
				if chunked {
					w.(http.Flusher).Flush()
				}
			}
		}
	}
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			srv := httptest.NewServer(handler(chunked))
			defer srv.Close()
			c := mustNew(t, nil, Options{MaxBodyBytes: 1024})
			exp, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			if len(exp.Body) != 1024 || exp.Size != int64(len(big)) || string(exp.Body) != big[:1024] {
				t.Errorf("kept %d bytes, size %d; want 1024 of %d", len(exp.Body), exp.Size, len(big))
			}

			// Past the read limit there is no size to report.
			c = mustNew(t, nil, Options{MaxBodyBytes: 1024, MaxReadBytes: 4096})
			_, err = c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL})
			se := wantKind(t, err, sources.BadResponse)
			if !strings.Contains(se.Error(), "4 KiB") {
				t.Errorf("message %q", se.Error())
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	for name, handler := range map[string]http.HandlerFunc{
		"no answer": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
		"stalled body": func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "x_total 1\n")
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(handler)
			defer srv.Close()
			c := mustNew(t, &config.Source{Timeout: 150 * time.Millisecond}, Options{})
			start := time.Now()
			_, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/metrics"})
			se := wantKind(t, err, sources.Timeout)
			if !strings.Contains(se.Error(), "timed out after 150ms") {
				t.Errorf("message %q", se.Error())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestCallerCancelIsNotASourceTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	c := mustNew(t, nil, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Fetch(ctx, sources.EndpointRequest{URL: srv.URL})
	if !errors.Is(err, context.DeadlineExceeded) || sources.KindOf(err) == sources.Unavailable {
		t.Errorf("error %v: want the caller's deadline", err)
	}
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		status    int
		anonymous bool
		kind      sources.Kind // 0: an exposition with that status
	}{
		{404, false, sources.BadResponse},
		{404, true, 0},
		{200, true, 0},
		{403, true, 0},
		{503, false, sources.Unavailable},
		{503, true, sources.Unavailable},
		{429, true, sources.Unavailable},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d anonymous=%v", tt.status, tt.anonymous), func(t *testing.T) {
			t.Parallel() // 429 and 5xx are retried with backoff
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				fmt.Fprint(w, "<html>body</html>")
			}))
			defer srv.Close()
			c := mustNew(t, nil, Options{})
			// Retries of 429/5xx must stay within this deadline.
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			exp, err := c.Fetch(ctx, sources.EndpointRequest{URL: srv.URL, Anonymous: tt.anonymous})
			if tt.kind == 0 {
				if err != nil || exp.StatusCode != tt.status {
					t.Fatalf("got %+v, %v; want status %d", exp, err, tt.status)
				}
				return
			}
			se := wantKind(t, err, tt.kind)
			if want := fmt.Sprintf("HTTP %d", tt.status); !strings.Contains(se.Error(), want) || strings.Contains(se.Error(), "<html>") {
				t.Errorf("message %q", se.Error())
			}
		})
	}
}

func TestRedirects(t *testing.T) {
	const token = "redirect-secret-token"
	otherRec := &recorder{}
	other := httptest.NewServer(protected(otherRec, token))
	defer other.Close()
	rec := &recorder{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/old":
			http.Redirect(w, r, "/metrics", http.StatusMovedPermanently)
		case "/away":
			// 127.0.0.1 and localhost are different hosts to net/http.
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/metrics", http.StatusFound)
		default:
			protected(rec, token)(w, r)
		}
	}))
	defer srv.Close()
	c := mustNew(t, &config.Source{BearerTokenFile: tokenFile(t, token)}, Options{})

	exp, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/old"})
	if err != nil || exp.StatusCode != 200 || string(exp.Body) != exposition {
		t.Fatalf("same-host redirect: %+v, %v", exp, err)
	}
	_, err = c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/away"})
	se := wantKind(t, err, sources.BadResponse)
	if !strings.Contains(se.Error(), "HTTP 302") {
		t.Errorf("message %q", se.Error())
	}
	if n := len(otherRec.all()); n != 0 {
		t.Errorf("the other host saw %d requests, want none", n)
	}
	anon, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/old", Anonymous: true})
	if err != nil || anon.StatusCode != http.StatusMovedPermanently {
		t.Errorf("anonymous redirect: %+v, %v; want the 301 itself", anon, err)
	}
}

func TestConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close()
	c := mustNew(t, &config.Source{Timeout: 5 * time.Second}, Options{})
	_, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: addr + "/metrics"})
	se := wantKind(t, err, sources.Unavailable)
	if !strings.Contains(se.Error(), addr+"/metrics") {
		t.Errorf("message %q does not name the URL", se.Error())
	}
}

func TestBadCredentialConfigIsAnError(t *testing.T) {
	_, err := New(&config.Source{BearerTokenFile: filepath.Join(t.TempDir(), "missing")}, Options{})
	if err == nil || !strings.Contains(err.Error(), "sources.prometheus") {
		t.Errorf("error %v", err)
	}
}

// TestTLSAnonymousKeepsTrustDropsClientCert: an anonymous request reaches
// a TLS server with the configured CA but presents no client certificate.
func TestTLSAnonymousKeepsTrustDropsClientCert(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.record(r)
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		fmt.Fprint(w, exposition)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	defer srv.Close()

	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	writePEM(t, ca, "CERTIFICATE", srv.Certificate().Raw)
	cert, key := clientCert(t, dir)

	c := mustNew(t, &config.Source{TLS: &config.TLS{CAFile: ca, CertFile: cert, KeyFile: key}}, Options{})
	exp, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/metrics"})
	if err != nil || exp.StatusCode != 200 {
		t.Fatalf("with client certificate: %+v, %v", exp, err)
	}
	anon, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/metrics", Anonymous: true})
	if err != nil || anon.StatusCode != http.StatusForbidden {
		t.Fatalf("anonymous: %+v, %v; want 403", anon, err)
	}
	reqs := rec.all()
	if len(reqs) != 2 || reqs[0].clientCerts != 1 || reqs[1].clientCerts != 0 {
		t.Errorf("client certificates seen: %+v", reqs)
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func clientCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "secflow-budget-test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "EC PRIVATE KEY", kder)
	return certFile, keyFile
}
