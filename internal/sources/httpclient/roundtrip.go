package httpclient

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The connection layer and what every request carries (User-Agent, custom
// headers and tenant, bearer token or basic auth) are built here as
// prometheus/common/config v0.73.1 built them for us
// (NewRoundTripperFromConfigWithContext), without its package: for five
// settings, it brought OAuth2, JWT and connection tracing into the binary
// (1 MB), and the tracing (golang.org/x/net/trace) executes html/template
// templates, which makes the linker keep every exported method of every
// type (4 MB more).

// newTransport is the connection layer. A proxy is used only when
// proxy_url names one: never one from the environment (HTTP_PROXY).
func newTransport(tlsConfig *tls.Config, proxy *url.URL) *http.Transport {
	t := &http.Transport{
		// Far above any --concurrency: concurrent budgets reuse their
		// connections (see https://github.com/golang/go/issues/13801).
		MaxIdleConns:        20000,
		MaxIdleConnsPerHost: 1000,
		TLSClientConfig:     tlsConfig,
		// No Accept-Encoding is sent and nothing is decoded (encoding.go).
		DisableCompression: true,
		// Above any sane interval between two queries of one run.
		IdleConnTimeout:       5 * time.Minute,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// No timeouts of its own: each request carries its deadline.
		DialContext: (&net.Dialer{}).DialContext,
		Protocols:   new(http.Protocols),
		HTTP2:       &http.HTTP2Config{SendPingTimeout: time.Minute},
	}
	t.Protocols.SetHTTP1(true)
	t.Protocols.SetHTTP2(true)
	if proxy != nil {
		t.Proxy = http.ProxyURL(proxy)
	}
	return t
}

// header is the values sent for one custom header.
type header struct {
	Values []string
}

// credential returns the Authorization header's value for one request.
type credential func() (string, error)

// bearer sends token, read once (from the environment).
func bearer(token string) credential {
	return func() (string, error) { return "Bearer " + token, nil }
}

// bearerFile sends the token in path, read at every request so that a
// rotated token is picked up, surrounding whitespace trimmed.
func bearerFile(path string) credential {
	return func() (string, error) {
		tok, err := readTrimmed(path)
		if err != nil {
			return "", fmt.Errorf("unable to read authorization credentials: %w", err)
		}
		return "Bearer " + tok, nil
	}
}

// basic sends username and password, the password read from passwordFile
// at every request when it is set.
func basic(username, password, passwordFile string) credential {
	return func() (string, error) {
		pw := password
		if passwordFile != "" {
			var err error
			if pw, err = readTrimmed(passwordFile); err != nil {
				return "", fmt.Errorf("unable to read basic auth password: %w", err)
			}
		}
		// What (*http.Request).SetBasicAuth sends.
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+pw)), nil
	}
}

// readTrimmed reads a credential file. The *PathError names the file,
// never its content.
func readTrimmed(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("unable to read file %s: %w", path, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// sourceTransport adds the source's User-Agent, headers and credentials to
// every request, on a copy of it.
type sourceTransport struct {
	next    http.RoundTripper
	headers map[string]header // canonical names
	auth    credential        // nil: none
}

func (t *sourceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := *req
	r.Header = req.Header.Clone()
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	r.Header.Set("User-Agent", UserAgent)
	for name, h := range t.headers {
		for _, v := range h.Values {
			r.Header.Add(name, v)
		}
	}
	cross := crossHostRedirect(req)
	if cross {
		for _, name := range sensitiveOnRedirect {
			r.Header.Del(name)
		}
	}
	// An Authorization set by the caller (net/http sets one from the URL's
	// userinfo) wins, as it did with common/config.
	if t.auth != nil && !cross && r.Header.Get("Authorization") == "" {
		v, err := t.auth()
		if err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, err
		}
		r.Header.Set("Authorization", v)
	}
	return t.next.RoundTrip(&r)
}

// CloseIdleConnections lets clients release idle connections through the
// wrapper.
func (t *sourceTransport) CloseIdleConnections() {
	if ci, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// sensitiveOnRedirect are the headers that net/http does not forward on a
// redirect to another host (makeHeadersCopier in net/http/client.go).
var sensitiveOnRedirect = []string{"Authorization", "Www-Authenticate", "Cookie", "Cookie2", "Proxy-Authorization", "Proxy-Authenticate"}

// crossHostRedirect reports whether req is a redirect that left the first
// request's host (or its subdomains) at any hop, as common/config decided
// it. Our clients refuse such redirects before sending them
// (CheckRedirect, originGuard, the endpoint source's policy); this is the
// last line behind them, for a client built without either.
func crossHostRedirect(req *http.Request) bool {
	if req.Response == nil {
		return false
	}
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	origin := strings.ToLower(first.URL.Hostname())
	for r := req; r.Response != nil && r.Response.Request != nil; r = r.Response.Request {
		if !domainOrSubdomain(strings.ToLower(r.URL.Hostname()), origin) {
			return true
		}
	}
	return false
}

// domainOrSubdomain is net/http's isDomainOrSubdomain: sub is parent or
// ends in "."+parent, and is no IPv6 address (":" or a zone's "%").
func domainOrSubdomain(sub, parent string) bool {
	switch {
	case parent == "":
		return false
	case sub == parent:
		return true
	case strings.ContainsAny(sub, ":%"):
		return false
	}
	return strings.HasSuffix(sub, "."+parent)
}
