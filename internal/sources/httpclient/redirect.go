package httpclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/secflow/secflow-budget/internal/secret"
)

// MaxRedirects bounds the redirects a request follows.
const MaxRedirects = 10

// SameOrigin reports whether a and b have one origin: scheme, host and
// port (the scheme's default when none is given). Credentials and custom
// headers go to the source URL's origin only; a redirect from https to
// http on the same host is another origin, and would send them in clear.
func SameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// RedirectError is a redirect that was not followed because it leads to
// another origin: our credentials and headers would go with it.
type RedirectError struct {
	Status   int    // the redirect's status code
	Location string // where it leads, masked for printing
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("answered HTTP %d %s, a redirect to %s that was not followed: credentials only go to the URL's own host",
		e.Status, http.StatusText(e.Status), e.Location)
}

// CheckRedirect is the redirect policy of every client with credentials:
// redirects are followed within the first request's origin only, at most
// MaxRedirects of them. net/http drops Authorization on a redirect to
// another host, but not the headers a round tripper adds (ours: bearer
// token, basic auth, custom headers, tenant), nor those set on the
// request; so another origin is not asked at all.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	if !SameOrigin(req.URL, via[0].URL) {
		status := http.StatusFound
		if req.Response != nil {
			status = req.Response.StatusCode
		}
		return &RedirectError{Status: status, Location: secret.URL(req.URL.String())}
	}
	return nil
}

// originGuard refuses, before any credential or header is added, a
// request to another origin than the source's: a second line behind
// CheckRedirect, for an *http.Client built without it.
type originGuard struct {
	next   http.RoundTripper
	origin *url.URL
}

func (g *originGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if !SameOrigin(req.URL, g.origin) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("refusing to send credentials to %s, which is not the source's host", secret.URL(req.URL.Redacted()))
	}
	return g.next.RoundTrip(req)
}

// CloseIdleConnections lets clients release idle connections through the
// wrapper.
func (g *originGuard) CloseIdleConnections() {
	if ci, ok := g.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
