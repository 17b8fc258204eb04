package httpclient

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
)

func TestNewRedactsAndScrubs(t *testing.T) {
	t.Setenv("SECFLOW_TEST_HTTPCLIENT_TOKEN", "env-token-123")
	c, err := New(&config.Source{
		URL:            "http://bob:p%40ss-word@loki.example:3100/base",
		BearerTokenEnv: "SECFLOW_TEST_HTTPCLIENT_TOKEN",
	}, Options{Name: "loki"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Redacted != "http://xxxxx@loki.example:3100/base" {
		t.Errorf("Redacted = %q", c.Redacted)
	}
	if c.Timeout != config.DefaultSourceTimeout {
		t.Errorf("Timeout = %v", c.Timeout)
	}
	got := c.Scrub("user bob sent p@ss-word, p%40ss-word and env-token-123")
	for _, secret := range []string{"p@ss-word", "p%40ss-word", "env-token-123"} {
		if strings.Contains(got, secret) {
			t.Errorf("Scrub left %q in %q", secret, got)
		}
	}
	// Three letters are too short to mask without garbling messages.
	if !strings.Contains(got, "bob") {
		t.Errorf("Scrub masked a short user name: %q", got)
	}
	// What a server echoing our Authorization header would print.
	if got := c.Scrub("got Basic " + base64.StdEncoding.EncodeToString([]byte("bob:p@ss-word"))); got != "got Basic xxxxx" {
		t.Errorf("Scrub left the basic auth header value: %q", got)
	}
	se := c.Fail(0, nil, "token %s", "env-token-123")
	if se.Source != "loki" || strings.Contains(se.Error(), "env-token-123") {
		t.Errorf("Fail = %q", se)
	}
}

func TestNewErrorsNameTheSource(t *testing.T) {
	for _, src := range []*config.Source{
		{URL: "ftp://x"},
		{URL: "http://x", ProxyURL: "::"},
		{URL: "http://x", BearerTokenEnv: "SECFLOW_TEST_UNSET_VAR"},
	} {
		_, err := New(src, Options{Name: "loki"})
		if err == nil || !strings.HasPrefix(err.Error(), "loki ") {
			t.Errorf("%+v: error %v does not name the source", src, err)
		}
	}
}

func TestHeadersTenantWins(t *testing.T) {
	hs := headers(&config.Source{Tenant: "secflow", Headers: map[string]string{"x-scope-orgid": "other", "x-extra": "1"}})
	if len(hs) != 2 || hs[TenantHeader].Values[0] != "secflow" || hs["X-Extra"].Values[0] != "1" {
		t.Errorf("headers = %+v", hs)
	}
	hs = headers(&config.Source{Headers: map[string]string{"X-Scope-OrgID": "from-headers"}})
	if h, ok := hs[http.CanonicalHeaderKey(TenantHeader)]; !ok || h.Values[0] != "from-headers" {
		t.Errorf("without tenant, the header stays: %+v", hs)
	}
}

func TestResponseTooLargeMessage(t *testing.T) {
	for n, want := range map[int64]string{64 << 20: "64 MiB", 1024: "1 KiB", 1000: "1000 bytes"} {
		if got := (&ResponseTooLargeError{Limit: n}).Error(); !strings.Contains(got, want) {
			t.Errorf("%d: %q", n, got)
		}
	}
}
