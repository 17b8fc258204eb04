package endpoint

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

// TestHostileRedirectToPlainHTTP: an https endpoint redirecting to http on
// the same host and port is another origin: following it would send the
// token in clear. The redirect is reported, not followed.
func TestHostileRedirectToPlainHTTP(t *testing.T) {
	const token = "downgrade-SECRET-token"
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/metrics", http.StatusFound)
	}))
	defer srv.Close()
	c := mustNew(t, &config.Source{BearerTokenFile: tokenFile(t, token), TLS: &config.TLS{InsecureSkipVerify: true}}, Options{})
	_, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/old"})
	se := wantKind(t, err, sources.BadResponse)
	if msg := se.Error(); !strings.Contains(msg, "HTTP 302") || !strings.Contains(msg, "not followed") || strings.Contains(msg, token) {
		t.Errorf("message %q", msg)
	}
}

// TestHostileEndpointQueryCredentialsMasked: credential parameters of an
// endpoint URL are masked in every message.
func TestHostileEndpointQueryCredentialsMasked(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusNotFound)
	}))
	defer srv.Close()
	c := mustNew(t, nil, Options{})
	_, err := c.Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/metrics?token=ep-SECRET-1&Signature=ep-SECRET-2&x=1"})
	se := wantKind(t, err, sources.BadResponse)
	want := srv.URL + "/metrics?token=xxxxx&Signature=xxxxx&x=1 answered HTTP 404 Not Found"
	if !strings.Contains(se.Error(), want) || strings.Contains(se.Error(), "SECRET") {
		t.Errorf("message %q, want %q", se.Error(), want)
	}
}
