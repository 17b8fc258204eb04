package prometheus

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

// sourceName is the Source of every *sources.Error this package returns.
const sourceName = "prometheus"

// tenantHeader is how Mimir, Cortex and Loki are told the tenant.
const tenantHeader = "X-Scope-OrgID"

// userAgent identifies us in the server's logs.
const userAgent = "secflow-budget"

// Client runs PromQL instant queries against one Prometheus-compatible
// server. It is safe for concurrent use.
type Client struct {
	api     v1.API
	url     string // redacted, for messages
	timeout time.Duration
	// secrets are the credential strings known to this client; they are
	// masked in every error text as a last line of defence.
	secrets []string
}

var _ sources.PromQL = (*Client)(nil)

// New builds a client for src. Credentials named by environment variables
// are read now; credential files are checked now and re-read on every
// request, so a rotated token is picked up. An error means the source is
// misconfigured (a usage error, not a source failure).
func New(src *config.Source) (*Client, error) {
	return newClient(src, DefaultMaxResponseBytes)
}

func newClient(src *config.Source, maxResponseBytes int64) (*Client, error) {
	if src == nil || src.URL == "" {
		return nil, sources.Errorf(sources.NotConfigured, sourceName, "no Prometheus URL configured (sources.prometheus.url, --prometheus or SECFLOW_PROMETHEUS_URL)")
	}
	c := &Client{url: config.RedactURL(src.URL), timeout: src.Timeout}
	if c.timeout <= 0 {
		c.timeout = config.DefaultSourceTimeout
	}
	u, err := url.Parse(src.URL)
	if err != nil {
		// url.Parse errors quote the input, userinfo included.
		return nil, fmt.Errorf("prometheus URL %s: not a valid URL", c.url)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus URL %s: want http:// or https:// and a host", c.url)
	}
	c.addSecretsOf(u)

	cfg := promconfig.HTTPClientConfig{
		FollowRedirects: true,
		EnableHTTP2:     true,
		TLSConfig:       tlsConfig(src.TLS),
	}
	if src.ProxyURL != "" {
		pu, err := url.Parse(src.ProxyURL)
		if err != nil || pu.Host == "" {
			return nil, fmt.Errorf("prometheus proxy_url %s: not a valid URL", config.RedactURL(src.ProxyURL))
		}
		c.addSecretsOf(pu)
		cfg.ProxyURL = promconfig.URL{URL: pu}
	}
	if hs := headers(src); len(hs) > 0 {
		cfg.HTTPHeaders = &promconfig.Headers{Headers: hs}
	}

	// Credentials that live in files stay in files: common/config re-reads
	// them per request. Credentials from the environment are read once here
	// and wrapped below, around the round tripper common/config builds.
	var envAuth func(http.RoundTripper) http.RoundTripper
	if src.BearerTokenFile != "" && src.BearerTokenEnv != "" {
		return nil, errors.New("prometheus source: set only one of bearer_token_file and bearer_token_env")
	}
	if (src.BearerTokenFile != "" || src.BearerTokenEnv != "") && src.BasicAuth != nil {
		return nil, errors.New("prometheus source: set either a bearer token or basic_auth, not both")
	}
	switch {
	case src.BearerTokenFile != "":
		tok, err := c.readSecretFile("bearer_token_file", src.BearerTokenFile)
		if err != nil {
			return nil, err
		}
		c.addSecret(tok)
		cfg.Authorization = &promconfig.Authorization{Type: "Bearer", CredentialsFile: src.BearerTokenFile}
	case src.BearerTokenEnv != "":
		tok, err := c.readSecretEnv("bearer_token_env", src.BearerTokenEnv)
		if err != nil {
			return nil, err
		}
		c.addSecret(tok)
		envAuth = func(rt http.RoundTripper) http.RoundTripper {
			return promconfig.NewAuthorizationCredentialsRoundTripper("Bearer", promconfig.NewInlineSecret(tok), rt)
		}
	case src.BasicAuth != nil:
		ba := src.BasicAuth
		if ba.PasswordFile != "" && ba.PasswordEnv != "" {
			return nil, errors.New("prometheus source: basic_auth: set only one of password_file and password_env")
		}
		c.addSecret(ba.Username)
		switch {
		case ba.PasswordFile != "":
			pw, err := c.readSecretFile("basic_auth.password_file", ba.PasswordFile)
			if err != nil {
				return nil, err
			}
			c.addSecret(pw)
			cfg.BasicAuth = &promconfig.BasicAuth{Username: ba.Username, PasswordFile: ba.PasswordFile}
		case ba.PasswordEnv != "":
			pw, err := c.readSecretEnv("basic_auth.password_env", ba.PasswordEnv)
			if err != nil {
				return nil, err
			}
			c.addSecret(pw)
			envAuth = func(rt http.RoundTripper) http.RoundTripper {
				return promconfig.NewBasicAuthRoundTripper(promconfig.NewInlineSecret(ba.Username), promconfig.NewInlineSecret(pw), rt)
			}
		default:
			cfg.BasicAuth = &promconfig.BasicAuth{Username: ba.Username}
		}
	}

	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("prometheus source: %s", c.scrub(err.Error()))
	}
	rt, err := promconfig.NewRoundTripperFromConfig(cfg, sourceName, promconfig.WithUserAgent(userAgent))
	if err != nil {
		// Typically an unreadable CA, certificate or key file.
		return nil, fmt.Errorf("prometheus source: setting up HTTP client: %s", c.scrub(err.Error()))
	}
	if envAuth != nil {
		rt = envAuth(rt)
	}
	rt = &limitTransport{next: rt, limit: maxResponseBytes}

	hc, err := api.NewClient(api.Config{Address: u.String(), RoundTripper: rt})
	if err != nil {
		return nil, fmt.Errorf("prometheus URL %s: %s", c.url, c.scrub(err.Error()))
	}
	c.api = v1.NewAPI(hc)
	return c, nil
}

// errRequestTimeout is the cause of a request's own deadline, which tells it
// apart from the caller's (the run's) deadline.
var errRequestTimeout = errors.New("prometheus request timeout")

// Query runs query as an instant query at time at. A scalar result comes
// back as one sample without labels. Failures are *sources.Error, except
// when ctx itself ends: then the error wraps ctx.Err(), so that
// errors.Is(err, context.DeadlineExceeded) tells the run's timeout apart
// from this request's own (sources.Timeout).
func (c *Client) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	if err := ctx.Err(); err != nil {
		return nil, c.abandoned(err)
	}
	reqCtx, cancel := context.WithTimeoutCause(ctx, c.timeout, errRequestTimeout)
	defer cancel()
	info := &responseInfo{}
	val, _, _, err := c.api.Query(withResponseInfo(reqCtx, info), query, at, v1.WithTimeout(c.timeout))
	if err != nil {
		return nil, c.classify(ctx, reqCtx, info, err)
	}
	return c.vector(val)
}

func (c *Client) vector(val model.Value) (model.Vector, error) {
	switch v := val.(type) {
	case model.Vector:
		return v, nil
	case *model.Scalar:
		return model.Vector{{Metric: model.Metric{}, Value: v.Value, Timestamp: v.Timestamp}}, nil
	case model.Matrix:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "query returned a range vector; budgets need an instant vector or a scalar")
	case nil:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "%s answered without a result", c.url)
	default:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "query returned a %s; budgets need an instant vector or a scalar", val.Type())
	}
}

func (c *Client) abandoned(err error) error {
	return fmt.Errorf("prometheus query at %s abandoned: %w", c.url, err)
}

func (c *Client) readSecretFile(field, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		// The *PathError names the file, never its content.
		return "", fmt.Errorf("prometheus source: %s: %w", field, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("prometheus source: %s: %s is empty", field, path)
	}
	return s, nil
}

func (c *Client) readSecretEnv(field, name string) (string, error) {
	s := strings.TrimSpace(os.Getenv(name))
	if s == "" {
		return "", fmt.Errorf("prometheus source: %s: environment variable %s is not set or empty", field, name)
	}
	return s, nil
}

// minSecretLen keeps scrubbing from mangling messages: masking a one- or
// two-letter user name everywhere would garble the text and hide nothing.
const minSecretLen = 4

func (c *Client) addSecret(s string) {
	if len(s) >= minSecretLen {
		c.secrets = append(c.secrets, s)
	}
}

func (c *Client) addSecretsOf(u *url.URL) {
	if u.User == nil {
		return
	}
	c.addSecret(u.User.Username())
	if pw, ok := u.User.Password(); ok {
		c.addSecret(pw)
		// net/http and url.Error print the escaped form.
		c.addSecret(url.QueryEscape(pw))
	}
}

// scrub masks every known secret in s.
func (c *Client) scrub(s string) string {
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, "xxxxx")
	}
	return s
}

func tlsConfig(t *config.TLS) promconfig.TLSConfig {
	if t == nil {
		return promconfig.TLSConfig{}
	}
	return promconfig.TLSConfig{
		CAFile:             t.CAFile,
		CertFile:           t.CertFile,
		KeyFile:            t.KeyFile,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify,
	}
}

// headers merges the extra headers and the tenant. The tenant wins over an
// X-Scope-OrgID header of any spelling: sending both would make Mimir see
// two tenants.
func headers(src *config.Source) map[string]promconfig.Header {
	hs := make(map[string]promconfig.Header, len(src.Headers)+1)
	for name, value := range src.Headers {
		if src.Tenant != "" && http.CanonicalHeaderKey(name) == http.CanonicalHeaderKey(tenantHeader) {
			continue
		}
		hs[http.CanonicalHeaderKey(name)] = promconfig.Header{Values: []string{value}}
	}
	if src.Tenant != "" {
		hs[tenantHeader] = promconfig.Header{Values: []string{src.Tenant}}
	}
	return hs
}
