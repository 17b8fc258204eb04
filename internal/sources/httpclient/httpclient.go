package httpclient

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
)

// TenantHeader is how Mimir, Cortex and Loki are told the tenant.
const TenantHeader = "X-Scope-OrgID"

// UserAgent identifies us in the server's logs.
const UserAgent = "secflow-budget"

// Options says how New builds a client.
type Options struct {
	// Name is the source's name ("prometheus", "loki"): the start of
	// configuration error messages and the name of the round tripper.
	Name string
	// MaxResponseBytes caps each response body; 0 means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Retry says when failed requests are sent again; nil means
	// DefaultRetryPolicy(). Zero durations in it take their defaults.
	Retry *RetryPolicy
	// AnyHost lets the transport send requests to any host. Without it,
	// a request to another origin than the source URL's (scheme, host and
	// port) is refused before any credential or header is added to it:
	// the endpoint source, whose URLs are the budgets', sets it and
	// bounds its redirects itself.
	AnyHost bool
}

// Client is the HTTP side of one configured source. It is safe for
// concurrent use.
type Client struct {
	// Name is Options.Name.
	Name string
	// URL is the base URL as configured. It may hold userinfo, which
	// net/http sends as basic auth: never print it, print Redacted.
	URL *url.URL
	// Redacted is the base URL with any userinfo masked, for messages.
	Redacted string
	// Timeout is the per-request timeout (DefaultSourceTimeout when the
	// source sets none).
	Timeout time.Duration
	// Transport sends requests with the source's credentials, TLS, proxy
	// and headers, retries them per the retry policy, and enforces the
	// response size limit.
	Transport http.RoundTripper

	// secrets are the credentials and custom header values known to this
	// client; they are masked in every error text as a last line of
	// defence.
	secrets secret.Set
	// shared are the requests in flight that callers share (Share).
	shared sharedCalls
}

// New builds the HTTP side of src. Credentials named by environment
// variables are read now; credential files are checked now and re-read on
// every request, so a rotated token is picked up. An error means the source
// is misconfigured (a usage error, not a source failure); its text is safe
// to print.
func New(src *config.Source, opts Options) (*Client, error) {
	name := opts.Name
	limit := opts.MaxResponseBytes
	if limit <= 0 {
		limit = src.MaxResponseSize
	}
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	c := &Client{Name: name, Redacted: secret.URL(src.URL), Timeout: src.Timeout}
	if c.Timeout <= 0 {
		c.Timeout = config.DefaultSourceTimeout
	}
	u, err := url.Parse(src.URL)
	if err != nil {
		// url.Parse errors quote the input, userinfo included.
		return nil, fmt.Errorf("%s URL %s: not a valid URL", name, c.Redacted)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s URL %s: want http:// or https:// and a host", name, c.Redacted)
	}
	c.URL = u
	c.secrets.AddURL(u)

	var proxy *url.URL
	if src.ProxyURL != "" {
		pu, err := url.Parse(src.ProxyURL)
		if err != nil || pu.Host == "" {
			return nil, fmt.Errorf("%s proxy_url %s: not a valid URL", name, secret.URL(src.ProxyURL))
		}
		c.secrets.AddURL(pu)
		proxy = pu
	}
	if err := checkHeaders(src.Headers); err != nil {
		return nil, fmt.Errorf("%s source: %w", name, err)
	}
	hs := headers(src)
	for hname, h := range hs {
		// A custom header may be an API key; a tenant or a media type is
		// not, and masking it would garble messages.
		if !plainHeaders[hname] {
			for _, v := range h.Values {
				c.secrets.Add(v)
			}
		}
	}

	// Credentials that live in files stay in files: they are checked now
	// and re-read at every request. Credentials from the environment are
	// read once, here.
	var auth credential
	if src.BearerTokenFile != "" && src.BearerTokenEnv != "" {
		return nil, fmt.Errorf("%s source: set only one of bearer_token_file and bearer_token_env", name)
	}
	if (src.BearerTokenFile != "" || src.BearerTokenEnv != "") && src.BasicAuth != nil {
		return nil, fmt.Errorf("%s source: set either a bearer token or basic_auth, not both", name)
	}
	switch {
	case src.BearerTokenFile != "":
		tok, err := c.readSecretFile("bearer_token_file", src.BearerTokenFile)
		if err != nil {
			return nil, err
		}
		c.secrets.Add(tok)
		auth = bearerFile(src.BearerTokenFile)
	case src.BearerTokenEnv != "":
		tok, err := c.readSecretEnv("bearer_token_env", src.BearerTokenEnv)
		if err != nil {
			return nil, err
		}
		c.secrets.Add(tok)
		auth = bearer(tok)
	case src.BasicAuth != nil:
		ba := src.BasicAuth
		if ba.PasswordFile != "" && ba.PasswordEnv != "" {
			return nil, fmt.Errorf("%s source: basic_auth: set only one of password_file and password_env", name)
		}
		c.secrets.AddBasic(ba.Username, "")
		switch {
		case ba.PasswordFile != "":
			pw, err := c.readSecretFile("basic_auth.password_file", ba.PasswordFile)
			if err != nil {
				return nil, err
			}
			c.secrets.AddBasic(ba.Username, pw)
			auth = basic(ba.Username, "", ba.PasswordFile)
		case ba.PasswordEnv != "":
			pw, err := c.readSecretEnv("basic_auth.password_env", ba.PasswordEnv)
			if err != nil {
				return nil, err
			}
			c.secrets.AddBasic(ba.Username, pw)
			auth = basic(ba.Username, pw, "")
		default:
			auth = basic(ba.Username, "", "")
		}
	}

	for _, hname := range slices.Sorted(maps.Keys(hs)) {
		if _, ok := config.ReservedHeaders[hname]; ok {
			// budgets.yaml refuses them too, naming the line.
			return nil, fmt.Errorf("%s source: setting header %q is not allowed", name, hname)
		}
	}
	tlsConfig, err := src.TLS.ClientConfig()
	if err != nil {
		// Typically a CA, certificate or key file that is unreadable or
		// holds none: the text names the file, never its content.
		return nil, fmt.Errorf("%s source: setting up HTTP client: %s", name, c.Scrub(err.Error()))
	}
	rt := &sourceTransport{next: newTransport(tlsConfig, proxy), headers: hs, auth: auth}
	policy := DefaultRetryPolicy()
	if src.Retries != nil {
		policy.Retries = *src.Retries
	}
	if src.RetryBackoff > 0 {
		policy.Backoff = src.RetryBackoff
	}
	if opts.Retry != nil {
		policy = *opts.Retry
	}
	c.Transport = &limitTransport{next: &retryTransport{next: rt, policy: policy.withDefaults()}, limit: limit}
	if !opts.AnyHost {
		c.Transport = &originGuard{next: c.Transport, origin: u}
	}
	if src.MaxConcurrency > 0 {
		c.Transport = &capTransport{next: c.Transport, slots: make(chan struct{}, src.MaxConcurrency)}
	}
	return c, nil
}

// HTTPClient returns an *http.Client over Transport that follows
// redirects within the source URL's origin only (CheckRedirect). It has
// no timeout of its own: each request carries its deadline in its context.
func (c *Client) HTTPClient() *http.Client {
	return &http.Client{Transport: c.Transport, CheckRedirect: CheckRedirect}
}

func (c *Client) readSecretFile(field, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		// The *PathError names the file, never its content.
		return "", fmt.Errorf("%s source: %s: %w", c.Name, field, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s source: %s: %s is empty", c.Name, field, path)
	}
	if line, problem := notASecret(string(b)); problem != "" {
		// Never the line itself: the file may be anything.
		return "", fmt.Errorf("%s source: %s: %s:%d: %s", c.Name, field, path, line, problem)
	}
	return s, nil
}

// notASecret says which line of a credential file's content makes it no
// token or password, and why: the secret is one line (surrounding
// whitespace and a final newline are fine), of characters an HTTP header
// can carry.
func notASecret(content string) (line int, problem string) {
	first := 0
	for i, l := range strings.Split(strings.TrimRight(content, "\r\n\t "), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		if first > 0 {
			return i + 1, fmt.Sprintf("more than one line: a credential file holds the secret alone (line %d is the first)", first)
		}
		first = i + 1
		for _, r := range l {
			if r == 0x7f || (r < 0x20 && r != '\t') || r == utf8.RuneError {
				return i + 1, "a control character or invalid UTF-8: not a token or password"
			}
		}
	}
	return 0, ""
}

func (c *Client) readSecretEnv(field, name string) (string, error) {
	s := strings.TrimSpace(os.Getenv(name))
	if s == "" {
		return "", fmt.Errorf("%s source: %s: environment variable %s is not set or empty", c.Name, field, name)
	}
	return s, nil
}

// Scrub masks every known secret in s, and whatever secret.Text masks.
func (c *Client) Scrub(s string) string {
	return c.secrets.Scrub(s)
}

// SafeError carries a message that has been scrubbed of secrets and the
// cause it was built from, for errors.Is/As. Build it with Fail, after
// unwrapping any url.Error (which prints the request URL).
type SafeError struct {
	msg   string
	cause error
}

func (e *SafeError) Error() string { return e.msg }
func (e *SafeError) Unwrap() error { return e.cause }

// Fail builds a *sources.Error of kind for this source, its message
// formatted and scrubbed.
func (c *Client) Fail(kind sources.Kind, cause error, format string, args ...any) *sources.Error {
	return &sources.Error{
		Kind:   kind,
		Source: c.Name,
		Err:    &SafeError{msg: c.Scrub(fmt.Sprintf(format, args...)), cause: cause},
	}
}

// TransportCause returns what made a request fail before any answer:
// url.Error prints the request URL, userinfo included, so only its cause
// is kept.
func TransportCause(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// headers merges the extra headers and the tenant. The tenant wins over an
// X-Scope-OrgID header of any spelling: sending both would make Mimir or
// Loki see two tenants.
func headers(src *config.Source) map[string]header {
	hs := make(map[string]header, len(src.Headers)+1)
	for name, value := range src.Headers {
		if src.Tenant != "" && http.CanonicalHeaderKey(name) == http.CanonicalHeaderKey(TenantHeader) {
			continue
		}
		hs[http.CanonicalHeaderKey(name)] = header{Values: []string{value}}
	}
	if src.Tenant != "" {
		hs[TenantHeader] = header{Values: []string{src.Tenant}}
	}
	return hs
}

// plainHeaders are the headers whose values are no secret (canonical
// names); every other custom header's value is masked wherever it appears.
var plainHeaders = map[string]bool{
	"X-Scope-Orgid": true, "Accept": true, "Accept-Encoding": true, "Accept-Language": true,
	"Content-Type": true, "User-Agent": true, "Cache-Control": true,
}

// checkHeaders refuses what net/http would refuse at every request, now
// and naming the header: a name that is not an HTTP token, a value with a
// control character (CR and LF would start another header). A value is
// never printed: it may be an API key.
func checkHeaders(hs map[string]string) error {
	names := make([]string, 0, len(hs))
	for n := range hs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !isToken(n) {
			return fmt.Errorf("headers: %q is not a valid header name (letters, digits and !#$%%&'*+-.^_`|~ only)", n)
		}
		for _, c := range []byte(hs[n]) {
			if (c < 0x20 && c != '\t') || c == 0x7f {
				return fmt.Errorf("headers.%s: the value holds a control character (CR, LF or another), which HTTP does not allow", n)
			}
		}
	}
	return nil
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
