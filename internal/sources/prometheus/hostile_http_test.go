package prometheus

import (
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// hostileAnswer answers status with a JSON body and the headers given as
// pairs.
func hostileAnswer(status int, body []byte, header ...string) http.HandlerFunc {
	return httpclienttest.Answer(status, "application/json", body, header...)
}

const noCredentials401 = `URL answered HTTP 401 Unauthorized: it requires authentication and no credentials are configured (set sources.prometheus.bearer_token_file, bearer_token_env, basic_auth or tenant)`

// TestHostileQueryAnswers: whatever a server answers to an instant query,
// Query returns either the samples Prometheus would have sent or a
// *sources.Error of the right kind with a one-line message that says what
// is wrong; never a panic, never a number that was not sent (issue 7,
// items 21 and d of the HTTP review).
func TestHostileQueryAnswers(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok-123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const gzipWarning = " with a gzip-compressed body we did not ask for "
	tests := []struct {
		name    string
		handler http.HandlerFunc
		src     func(*config.Source) // adds credentials; nil for none
		kind    sources.Kind
		want    string // the message after "prometheus: ", the server's URL as URL
		values  []float64
	}{
		// An answer compressed although we never ask for it.
		{name: "gzip declared", handler: hostileAnswer(200, httpclienttest.Gzip(t, vectorBody), "Content-Encoding", "gzip"), kind: sources.BadResponse,
			want: "URL answered HTTP 200 OK" + gzipWarning + "(Content-Encoding: gzip): it cannot be read; check the server or a proxy in front of it"},
		{name: "gzip undeclared", handler: hostileAnswer(200, httpclienttest.Gzip(t, vectorBody)), kind: sources.BadResponse,
			want: "URL answered HTTP 200 OK" + gzipWarning + "(without saying so in Content-Encoding): it cannot be read; check the server or a proxy in front of it"},

		// 401/403: "refused our credentials" only when some were sent.
		{name: "401 without credentials", handler: hostileAnswer(401, []byte("Unauthorized")), kind: sources.Unauthorized, want: noCredentials401},
		{name: "403 without credentials", handler: hostileAnswer(403, []byte("Forbidden")), kind: sources.Unauthorized,
			want: `URL answered HTTP 403 Forbidden: it requires authentication and no credentials are configured (set sources.prometheus.bearer_token_file, bearer_token_env, basic_auth or tenant)`},
		{name: "no org id without a tenant", handler: hostileAnswer(401, []byte("no org id\n"), "Content-Type", "text/plain"), kind: sources.Unauthorized,
			src:  func(s *config.Source) { s.BearerTokenFile = tokenFile },
			want: "URL answered HTTP 401 Unauthorized: no org id (Mimir and Cortex run with multi-tenancy: set sources.prometheus.tenant, sent as the X-Scope-OrgID header)"},
		{name: "no org id with a tenant header", handler: hostileAnswer(401, []byte("no org id\n"), "Content-Type", "text/plain"), kind: sources.Unauthorized,
			src:  func(s *config.Source) { s.Headers = map[string]string{"x-scope-orgid": "t1"} },
			want: "URL refused our credentials: HTTP 401 Unauthorized"},
		{name: "401 with a bearer token", handler: hostileAnswer(401, []byte("Unauthorized")), kind: sources.Unauthorized,
			src:  func(s *config.Source) { s.BearerTokenFile = tokenFile },
			want: "URL refused our credentials: HTTP 401 Unauthorized"},
		{name: "403 with basic auth", handler: hostileAnswer(403, []byte("Forbidden")), kind: sources.Unauthorized,
			src:  func(s *config.Source) { s.BasicAuth = &config.BasicAuth{Username: "ci", PasswordFile: tokenFile} },
			want: "URL refused our credentials: HTTP 403 Forbidden"},
		{name: "401 with userinfo", handler: hostileAnswer(401, []byte("Unauthorized")), kind: sources.Unauthorized,
			src:  func(s *config.Source) { s.URL = strings.Replace(s.URL, "http://", "http://ci:pw-123456@", 1) },
			want: "http://xxxxx@HOST refused our credentials: HTTP 401 Unauthorized"},
		{name: "401 with a header", handler: hostileAnswer(401, []byte("Unauthorized")), kind: sources.Unauthorized,
			src:  func(s *config.Source) { s.Headers = map[string]string{"X-Api-Key": "k-123456"} },
			want: "URL refused our credentials: HTTP 401 Unauthorized"},

		// Bodies that are not a Prometheus answer.
		{name: "truncated", handler: hostileAnswer(200, []byte(vectorBody[:40])), kind: sources.BadResponse,
			want: "unreadable response from URL (HTTP 200): unexpected end of JSON input"},
		{name: "empty body", handler: hostileAnswer(200, nil), kind: sources.BadResponse,
			want: "unreadable response from URL (HTTP 200): unexpected end of JSON input"},
		{name: "unknown resultType", handler: hostileAnswer(200, []byte(`{"status":"success","data":{"resultType":"banana","result":[]}}`)), kind: sources.BadResponse,
			want: `unreadable response from URL (HTTP 200): unknown value type "banana"`},
		{name: "matrix", handler: hostileAnswer(200, []byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1795694400,"1"]]}]}}`)), kind: sources.BadResponse,
			want: "query returned a range vector; budgets need an instant vector or a scalar"},
		{name: "vector shaped as a matrix", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"job":"a"},"values":[[1795694400,"1"]]}]`)), kind: sources.BadResponse,
			want: `URL answered a sample for {job="a"} without a value or timestamp`},
		{name: "no data", handler: hostileAnswer(200, []byte(`{"status":"success"}`)), kind: sources.BadResponse,
			want: "URL answered without a result"},
		{name: "status not success", handler: hostileAnswer(200, []byte(`{"status":"pending","data":{"resultType":"vector","result":[{"metric":{},"value":[1795694400,"1"]}]}}`)), kind: sources.BadResponse,
			want: `unreadable response from URL (HTTP 200): the answer's status is "pending", want "success"`},
		{name: "no status", handler: hostileAnswer(200, []byte(`{"data":{"resultType":"vector","result":[{"metric":{},"value":[1795694400,"1"]}]}}`)), kind: sources.BadResponse,
			want: `unreadable response from URL (HTTP 200): the answer has no "status"`},
		{name: "huge", handler: hostileAnswer(200, httpclienttest.Vector("["+strings.Repeat(" ", 64<<10)+"]")), kind: sources.BadResponse,
			want: "URL: response too large: larger than the 32 KiB limit"},

		// Samples that are not numbers a budget can judge.
		{name: "value not a number", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"job":"a"},"value":[1795694400,"twelve"]}]`)), kind: sources.BadResponse,
			want: `unreadable response from URL (HTTP 200): a sample value is not a number: parsing "twelve": invalid syntax`},
		{name: "value out of range", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"job":"a"},"value":[1795694400,"1e400"]}]`)), kind: sources.BadResponse,
			want: `unreadable response from URL (HTTP 200): a sample value is not a number: parsing "1e400": value out of range`},
		{name: "value unquoted", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"job":"a"},"value":[1795694400,12]}]`)), kind: sources.BadResponse,
			want: `unreadable response from URL (HTTP 200): model.Vector: sample value must be a quoted string`},
		{name: "value missing", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"job":"a"}}]`)), kind: sources.BadResponse,
			want: `URL answered a sample for {job="a"} without a value or timestamp`},
		{name: "null sample", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"job":"a"},"value":[1795694400,"1"]},null]`)), kind: sources.BadResponse,
			want: `URL answered a null sample`},
		{name: "duplicate series", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"job":"a","i":"1"},"value":[1795694400,"1"]},{"metric":{"job":"b"},"value":[1795694400,"1"]},{"metric":{"i":"1","job":"a"},"value":[1795694400,"2"]}]`)), kind: sources.BadResponse,
			want: `URL answered the series {i="1", job="a"} twice (an instant vector holds each series once)`},
		{name: "native histogram", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"job":"a"},"histogram":[1795694400,{"count":"5","sum":"3","buckets":[[0,"0","1","5"]]}]}]`)), kind: sources.BadResponse,
			want: `URL answered a native histogram sample for {job="a"}; budgets need float samples (wrap it in histogram_count, histogram_sum or histogram_quantile)`},
		{name: "scalar without value", handler: hostileAnswer(200, []byte(`{"status":"success","data":{"resultType":"scalar","result":null}}`)), kind: sources.BadResponse,
			want: `unreadable response from URL (HTTP 200): a sample value is not a number: parsing "": invalid syntax`},
		{name: "scalar at the epoch", handler: hostileAnswer(200, []byte(`{"status":"success","data":{"resultType":"scalar","result":[0,"1"]}}`)), kind: sources.BadResponse,
			want: "URL answered a scalar without a value or timestamp"},

		// NaN and infinities are values: the checks judge them (issue 7,
		// item 1), the client passes them on as sent.
		{name: "NaN and infinities", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"i":"1"},"value":[1795694400,"NaN"]},{"metric":{"i":"2"},"value":[1795694400,"+Inf"]},{"metric":{"i":"3"},"value":[1795694400,"-Inf"]},{"metric":{"i":"4"},"value":[1795694400,"inf"]}]`)),
			values: []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Inf(1)}},
		{name: "scalar NaN", handler: hostileAnswer(200, []byte(`{"status":"success","data":{"resultType":"scalar","result":[1795694400,"NaN"]}}`)),
			values: []float64{math.NaN()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeProm(t, tt.handler)
			src := &config.Source{URL: srv.URL, MaxResponseSize: 32 << 10}
			if tt.src != nil {
				tt.src(src)
			}
			got, err := mustNew(t, src).Query(context.Background(), "up", evalTime)
			if tt.want == "" {
				httpclienttest.WantValues(t, got, err, tt.values)
				for i, s := range got {
					if s.Metric == nil {
						t.Errorf("sample %d = %v has a nil Metric", i, s)
					}
				}
				return
			}
			se := wantKind(t, err, tt.kind)
			host := strings.TrimPrefix(srv.URL, "http://")
			msg := strings.ReplaceAll(strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"), host, "HOST")
			if msg != tt.want {
				t.Errorf("message\n%s\nwant\n%s", msg, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("message %q is not one line", err)
			}
		})
	}
}

// TestHostileMatrixAnswers: the answers snapshot records (QueryMatrix) may
// not hold a series twice, nor a null series, either.
func TestHostileMatrixAnswers(t *testing.T) {
	for name, tt := range map[string]struct{ result, want string }{
		"duplicate series": {`[{"metric":{"job":"a"},"values":[[1795694400,"1"]]},{"metric":{"job":"a"},"values":[[1795694410,"2"]]}]`,
			`URL answered the series {job="a"} twice (a range vector holds each series once)`},
		"null series": {`[null]`, "URL answered a null series"},
		"same time twice": {`[{"metric":{"job":"a"},"values":[[1795694400,"1"],[1795694410,"2"],[1795694410,"3"]]}]`,
			`URL answered samples of {job="a"} out of time order (1795694410, then 1795694410)`},
		"backwards": {`[{"metric":{"job":"a"},"values":[[1795694410,"1"],[1795694400.5,"2"]]}]`,
			`URL answered samples of {job="a"} out of time order (1795694410, then 1795694400.5)`},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeProm(t, hostileAnswer(200, []byte(`{"status":"success","data":{"resultType":"matrix","result":`+tt.result+`}}`)))
			_, err := mustNew(t, &config.Source{URL: srv.URL}).QueryMatrix(context.Background(), `up[1m]`, evalTime)
			se := wantKind(t, err, sources.BadResponse)
			if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != tt.want {
				t.Errorf("message\n%s\nwant\n%s", msg, tt.want)
			}
		})
	}
}

// TestHostileMaxResponseSizeApplies: the source's max_response_size caps
// what New's client reads (it used to be overridden by the default).
func TestHostileMaxResponseSizeApplies(t *testing.T) {
	srv := newFakeProm(t, hostileAnswer(200, httpclienttest.Vector("["+strings.Repeat(" ", 8<<10)+"]")))
	c, err := New(&config.Source{URL: srv.URL, MaxResponseSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(context.Background(), "up", evalTime)
	se := wantKind(t, err, sources.BadResponse)
	if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != "URL: response too large: larger than the 4 KiB limit" {
		t.Errorf("message %q", msg)
	}
}

// TestHostileWarningsAreOneLine: a warning with line breaks and terminal
// control characters reaches the report as one printable line.
func TestHostileWarningsAreOneLine(t *testing.T) {
	body := []byte(`{"status":"success","warnings":["store eu-1:\npartial\u001b[2J data\u0007"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1795694400,"1"]}]}}`)
	srv := newFakeProm(t, hostileAnswer(200, body))
	ctx, w := sources.WithWarnings(context.Background())
	if _, err := mustNew(t, &config.Source{URL: srv.URL}).Query(ctx, "up", evalTime); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(w.List(), "|"), "prometheus: store eu-1: partial [2J data"; got != want {
		t.Errorf("warnings %q, want %q", got, want)
	}
}
