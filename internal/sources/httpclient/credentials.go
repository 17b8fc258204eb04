package httpclient

import (
	"net/url"

	"github.com/secflow/secflow-budget/internal/config"
)

// SendsCredentials reports whether requests to src carry anything a
// server may take for credentials: a bearer token, basic auth (from its
// fields or the URL's userinfo), a client certificate, a tenant or custom
// headers (an API key header, say). A 401 or 403 is "refused our
// credentials" only when it does; otherwise the server wants
// authentication that was never configured, and the message must say
// that instead.
func SendsCredentials(src *config.Source) bool {
	if src == nil {
		return false
	}
	if src.BearerTokenFile != "" || src.BearerTokenEnv != "" || src.BasicAuth != nil ||
		src.Tenant != "" || len(src.Headers) > 0 {
		return true
	}
	if src.TLS != nil && src.TLS.CertFile != "" {
		return true
	}
	u, err := url.Parse(src.URL)
	return err == nil && u.User != nil
}
