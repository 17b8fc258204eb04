package httpclient

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

const (
	hostileToken  = "hostile-bearer-token-0042"
	hostileHeader = "hostile-header-value-0042"
)

// headerLog is what a server saw of the requests it got.
type headerLog struct {
	mu   sync.Mutex
	seen []http.Header
}

func (l *headerLog) handler(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.seen = append(l.seen, r.Header.Clone())
		l.mu.Unlock()
		next(w, r)
	}
}

func (l *headerLog) all() []http.Header {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]http.Header(nil), l.seen...)
}

func hostileClient(t *testing.T, base string) *Client {
	t.Helper()
	t.Setenv("SECFLOW_TEST_HOSTILE_TOKEN", hostileToken)
	c, err := New(&config.Source{
		URL:            base,
		BearerTokenEnv: "SECFLOW_TEST_HOSTILE_TOKEN",
		Headers:        map[string]string{"X-Api-Key": hostileHeader},
		Tenant:         "secflow",
	}, Options{Name: "prometheus", Retry: &RetryPolicy{Retries: 0}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHostileRedirectKeepsCredentialsHome: a redirect to another host
// (127.0.0.1 and localhost are two to net/http) or to another port or
// scheme is not followed, and the other server sees no request at all,
// so neither the Authorization header nor a custom header reaches it.
// A redirect within the origin is followed with every header.
func TestHostileRedirectKeepsCredentialsHome(t *testing.T) {
	var otherLog headerLog
	other := httptest.NewServer(otherLog.handler(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"status":"success","data":{}}`))
	}))
	defer other.Close()
	otherAsLocalhost := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)

	var homeLog headerLog
	var home *httptest.Server
	home = httptest.NewServer(homeLog.handler(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-localhost":
			http.Redirect(w, r, otherAsLocalhost+"/steal?token=abc", http.StatusFound)
		case "/to-other-port":
			http.Redirect(w, r, other.URL+"/steal", http.StatusTemporaryRedirect)
		case "/to-https":
			http.Redirect(w, r, strings.Replace(home.URL, "http://", "https://", 1)+"/x", http.StatusMovedPermanently)
		case "/same":
			http.Redirect(w, r, "/final", http.StatusFound)
		default:
			w.Write([]byte("ok"))
		}
	}))
	defer home.Close()

	c := hostileClient(t, home.URL)
	for _, path := range []string{"/to-localhost", "/to-other-port", "/to-https"} {
		t.Run(path, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, home.URL+path, nil)
			req.Header.Set("X-Set-On-Request", hostileHeader)
			_, err := c.HTTPClient().Do(req)
			var redirect *RedirectError
			if !errors.As(err, &redirect) {
				t.Fatalf("error %v, want a *RedirectError", err)
			}
			msg := c.RequestFailed(context.Background(), context.Background(), err).Error()
			if !strings.Contains(msg, "a redirect to") || !strings.Contains(msg, "was not followed") ||
				strings.Contains(msg, hostileToken) || strings.Contains(msg, hostileHeader) || strings.Contains(msg, "token=abc") {
				t.Errorf("message %q", msg)
			}
		})
	}
	if seen := otherLog.all(); len(seen) != 0 {
		t.Fatalf("the other host got %d requests (headers %v), want none", len(seen), seen)
	}

	// Within the origin: followed, with the credentials and headers.
	resp, err := c.HTTPClient().Get(home.URL + "/same")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen := homeLog.all()
	last := seen[len(seen)-1]
	if last.Get("Authorization") != "Bearer "+hostileToken || last.Get("X-Api-Key") != hostileHeader || last.Get(TenantHeader) != "secflow" {
		t.Errorf("the same-origin redirect lost headers: %v", last)
	}
}

// TestHostileTransportRefusesOtherOrigins: an *http.Client built over the
// transport without CheckRedirect (net/http follows any redirect then)
// still sends nothing to another host: the transport refuses it before
// adding any credential.
func TestHostileTransportRefusesOtherOrigins(t *testing.T) {
	var otherLog headerLog
	other := httptest.NewServer(otherLog.handler(func(w http.ResponseWriter, r *http.Request) {}))
	defer other.Close()
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+"/steal", http.StatusFound)
	}))
	defer home.Close()
	c := hostileClient(t, home.URL)
	_, err := (&http.Client{Transport: c.Transport}).Get(home.URL + "/x")
	if err == nil || !strings.Contains(err.Error(), "refusing to send credentials") {
		t.Errorf("error %v", err)
	}
	if seen := otherLog.all(); len(seen) != 0 {
		t.Fatalf("the other host got %d requests (headers %v), want none", len(seen), seen)
	}
}

func TestHostileSameOrigin(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"http://h:9090/a", "http://h:9090/b?x=1", true},
		{"http://H:9090/", "http://h:9090/", true},
		{"http://h/", "http://h:80/", true},
		{"https://h/", "https://h:443/", true},
		{"http://h:9090/", "http://h:9091/", false},
		{"https://h/", "http://h/", false},
		{"http://127.0.0.1:9090/", "http://localhost:9090/", false},
		{"http://h.example/", "http://h.example.evil/", false},
	}
	for _, tt := range tests {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := SameOrigin(a, b); got != tt.want {
			t.Errorf("SameOrigin(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestHostileErrorBodyEcho: what a server echoes of our request in an
// error body (the custom header's value, a cookie it sets, the token) is
// masked in the message.
func TestHostileErrorBodyEcho(t *testing.T) {
	c := hostileClient(t, "http://prom.example:9090")
	body := "denied: X-Api-Key: " + hostileHeader + "\nAuthorization: Bearer " + hostileToken +
		"\nSet-Cookie: session=cookie-secret-77; Path=/\nCookie: sid=cookie-secret-88"
	msg := c.Fail(sources.Unauthorized, nil, "%s refused our credentials: %s", c.Redacted, body).Error()
	for _, s := range []string{hostileHeader, hostileToken, "cookie-secret-77", "cookie-secret-88"} {
		if strings.Contains(msg, s) {
			t.Errorf("message shows %q: %q", s, msg)
		}
	}
	if !strings.Contains(msg, "X-Api-Key: xxxxx") || !strings.Contains(msg, "Set-Cookie: xxxxx") {
		t.Errorf("message %q: want the header names kept", msg)
	}
}

// TestHostileCredentialFileNotASecret: a token or password file that is
// not one (several lines, a binary file) is refused naming the file and
// the line, never printing it.
func TestHostileCredentialFileNotASecret(t *testing.T) {
	tests := []struct {
		name, content, wantLine string
	}{
		{"two lines", "token-line-one-SECRET\ntoken-line-two-SECRET\n", ":2: more than one line"},
		{"json", "{\n  \"token\": \"json-SECRET\"\n}\n", ":2: more than one line"},
		{"blank lines between", "a-SECRET-token\n\n\nsecond-SECRET\n", ":4: more than one line"},
		{"binary", "abc\x00\x01SECRET-bin", ":1: a control character"},
		{"invalid utf-8", "tok\xff\xfeSECRET", ":1: a control character or invalid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, src := range []*config.Source{
				{URL: "http://h:9090", BearerTokenFile: path},
				{URL: "http://h:9090", BasicAuth: &config.BasicAuth{Username: "u", PasswordFile: path}},
			} {
				_, err := New(src, Options{Name: "prometheus"})
				if err == nil {
					t.Fatal("no error")
				}
				if !strings.Contains(err.Error(), path+tt.wantLine) || strings.Contains(err.Error(), "SECRET") {
					t.Errorf("error %q: want %q and no content", err, path+tt.wantLine)
				}
			}
		})
	}
	// A token with a final newline and surrounding blanks is fine.
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("  good-token\r\n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(&config.Source{URL: "http://h:9090", BearerTokenFile: path}, Options{Name: "prometheus"}); err != nil {
		t.Errorf("a one-line token: %v", err)
	}
}

// TestHostileRedactedQueryCredentials: the base URL's credential query
// parameters are masked in Redacted and in every message.
func TestHostileRedactedQueryCredentials(t *testing.T) {
	c, err := New(&config.Source{URL: "http://u:pass-SECRET@h:9090/prom?api_key=key-SECRET&tenant=a"}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Redacted != "http://xxxxx@h:9090/prom?api_key=xxxxx&tenant=a" {
		t.Errorf("Redacted = %q", c.Redacted)
	}
	if msg := c.Fail(sources.BadResponse, nil, "echo key-SECRET pass-SECRET").Error(); strings.Contains(msg, "SECRET") {
		t.Errorf("message %q", msg)
	}
}

// TestHostileHeadersRefusedByName: a header net/http would refuse at every
// request is a configuration error now, naming the header, never showing
// its value.
func TestHostileHeadersRefusedByName(t *testing.T) {
	tests := []struct {
		headers map[string]string
		want    string
	}{
		{map[string]string{"X-Api-Key": "HDR-SECRET\r\nX-Injected: 1"}, "prometheus source: headers.X-Api-Key: the value holds a control character"},
		{map[string]string{"X-Api-Key": "HDR-SECRET\n"}, "prometheus source: headers.X-Api-Key: the value holds a control character"},
		{map[string]string{"X-Ok": "fine", "Bad Name": "HDR-SECRET"}, `prometheus source: headers: "Bad Name" is not a valid header name`},
		{map[string]string{"X-Api-Key:": "HDR-SECRET"}, `prometheus source: headers: "X-Api-Key:" is not a valid header name`},
	}
	for _, tt := range tests {
		_, err := New(&config.Source{URL: "http://h:9090", Headers: tt.headers}, Options{Name: "prometheus"})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%v: error %v, want %q and no value", tt.headers, err, tt.want)
		}
	}
	if _, err := New(&config.Source{URL: "http://h:9090", Headers: map[string]string{"X-Api-Key": "a b\tc"}}, Options{Name: "prometheus"}); err != nil {
		t.Errorf("spaces and tabs are fine in a value: %v", err)
	}
}

// TestHostileHeaderValuesMasked: a custom header's value is masked in
// messages; a tenant or a media type is not a secret and stays.
func TestHostileHeaderValuesMasked(t *testing.T) {
	c, err := New(&config.Source{URL: "http://h:9090", Headers: map[string]string{
		"X-Api-Key": "api-key-value-1", "x-scope-orgid": "tenant-a", "Accept": "application/json",
	}}, Options{Name: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	got := c.Scrub("echo api-key-value-1 for tenant-a as application/json")
	if want := "echo xxxxx for tenant-a as application/json"; got != want {
		t.Errorf("Scrub = %q, want %q", got, want)
	}
}
