package endpoint

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// TestHostileEndpointAnswers: a 401 says "refused our credentials" only
// when the Prometheus source has credentials to send, and otherwise which
// fields to set; an exposition compressed although we asked for none says
// so (issue 7, item 21).
func TestHostileEndpointAnswers(t *testing.T) {
	for name, tt := range map[string]struct {
		handler http.HandlerFunc
		src     *config.Source
		kind    sources.Kind
		want    string
	}{
		"401 without credentials": {protected(&recorder{}, "right-token"), nil, sources.Unauthorized,
			"URL answered HTTP 401 Unauthorized: it requires authentication and no credentials are configured (endpoint budgets send the Prometheus source's: set sources.prometheus.bearer_token_file, bearer_token_env or basic_auth)"},
		"401 with a token": {protected(&recorder{}, "right-token"), &config.Source{BearerTokenFile: tokenFile(t, "wrong-token")}, sources.Unauthorized,
			"URL refused our credentials: HTTP 401 Unauthorized (endpoint budgets send the Prometheus source's credentials)"},
		"gzip": {httpclienttest.Answer(200, "text/plain; version=0.0.4", httpclienttest.Gzip(t, exposition), "Content-Encoding", "gzip"), nil, sources.BadResponse,
			"URL answered HTTP 200 OK with a gzip-compressed body we did not ask for (Content-Encoding: gzip): it cannot be read; check the server or a proxy in front of it"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			_, err := mustNew(t, tt.src, Options{}).Fetch(context.Background(), sources.EndpointRequest{URL: srv.URL + "/metrics"})
			se := wantKind(t, err, tt.kind)
			if msg := strings.ReplaceAll(se.Err.Error(), srv.URL+"/metrics", "URL"); msg != tt.want {
				t.Errorf("message\n%s\nwant\n%s", msg, tt.want)
			}
		})
	}
}
