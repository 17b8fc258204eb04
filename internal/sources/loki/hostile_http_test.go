package loki

import (
	"context"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// hostileAnswer answers status with body, Loki's JSON content type (text
// for errors) and the headers given as pairs.
func hostileAnswer(status int, body []byte, header ...string) http.HandlerFunc {
	ct := jsonType
	if status != 200 {
		ct = textType
	}
	return httpclienttest.Answer(status, ct, body, header...)
}

// TestHostileQueryAnswers: whatever a server answers to a metric query,
// Query returns either the samples Loki would have sent or a
// *sources.Error of the right kind with a one-line message that says what
// is wrong; never a panic, never a number that was not sent (issue 7,
// item 21 and the HTTP review).
func TestHostileQueryAnswers(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok-123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		gzipWarning   = " with a gzip-compressed body we did not ask for "
		noCredentials = ": it requires authentication and no credentials are configured (set sources.loki.bearer_token_file, bearer_token_env, basic_auth or tenant)"
	)
	tests := []struct {
		name    string
		handler http.HandlerFunc
		src     func(*config.Source) // adds credentials; nil for none
		kind    sources.Kind
		want    string // the message after "loki: ", the server's URL as URL
		values  []float64
	}{
		// An answer compressed although we never ask for it.
		{name: "gzip declared", handler: hostileAnswer(200, httpclienttest.Gzip(t, vectorBody), "Content-Encoding", "gzip"), kind: sources.BadResponse,
			want: "URL answered HTTP 200 OK" + gzipWarning + "(Content-Encoding: gzip): it cannot be read; check the server or a proxy in front of it"},
		{name: "gzip undeclared", handler: hostileAnswer(200, httpclienttest.Gzip(t, vectorBody)), kind: sources.BadResponse,
			want: "URL answered HTTP 200 OK" + gzipWarning + "(without saying so in Content-Encoding): it cannot be read; check the server or a proxy in front of it"},
		{name: "gzip error body", handler: hostileAnswer(400, httpclienttest.Gzip(t, "parse error"), "Content-Encoding", "gzip"), kind: sources.BadResponse,
			want: "URL answered HTTP 400 Bad Request" + gzipWarning + "(Content-Encoding: gzip): it cannot be read; check the server or a proxy in front of it"},

		// 401/403: "refused" only when credentials were sent.
		{name: "401 without credentials", handler: hostileAnswer(401, []byte("authentication required\n")), kind: sources.Unauthorized,
			want: "URL answered 401 Unauthorized: authentication required" + noCredentials},
		{name: "403 without credentials", handler: hostileAnswer(403, nil), kind: sources.Unauthorized,
			want: "URL answered 403 Forbidden" + noCredentials},
		{name: "no org id without credentials", handler: hostileAnswer(401, []byte("no org id\n")), kind: sources.Unauthorized,
			want: "401 Unauthorized: no org id (Loki runs with auth enabled: set sources.loki.tenant, sent as the X-Scope-OrgID header)"},
		{name: "401 with a bearer token", handler: hostileAnswer(401, []byte("invalid token\n")), kind: sources.Unauthorized,
			src:  func(s *config.Source) { s.BearerTokenEnv = "SECFLOW_HOSTILE_LOKI_TOKEN" },
			want: "URL refused the request: 401 Unauthorized: invalid token"},
		{name: "403 with basic auth", handler: hostileAnswer(403, []byte("forbidden\n")), kind: sources.Unauthorized,
			src:  func(s *config.Source) { s.BasicAuth = &config.BasicAuth{Username: "ci", PasswordFile: tokenFile} },
			want: "URL refused the request: 403 Forbidden: forbidden"},
		{name: "403 with a tenant", handler: hostileAnswer(403, []byte("tenant not allowed\n")), kind: sources.Unauthorized,
			src:  func(s *config.Source) { s.Tenant = "secflow" },
			want: "URL refused the request: 403 Forbidden: tenant not allowed"},

		// Bodies that are not a Loki answer.
		{name: "truncated", handler: hostileAnswer(200, []byte(vectorBody[:60])), kind: sources.BadResponse,
			want: "unreadable response from URL: unexpected end of JSON input"},
		{name: "empty body", handler: hostileAnswer(200, nil), kind: sources.BadResponse,
			want: "unreadable response from URL: unexpected end of JSON input"},
		{name: "unknown resultType", handler: hostileAnswer(200, []byte(`{"status":"success","data":{"resultType":"banana","result":[]}}`)), kind: sources.BadResponse,
			want: `query returned a "banana"; log budgets need an instant vector or a scalar`},
		{name: "vector shaped as a matrix", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"},"values":[[1795718400,"1"]]}]`)), kind: sources.BadResponse,
			want: `URL answered a sample for {service="api"} without a value or timestamp`},
		{name: "status not success", handler: hostileAnswer(200, []byte(`{"status":"pending","data":{"resultType":"vector","result":[]}}`)), kind: sources.BadResponse,
			want: `URL answered HTTP 200 with status "pending" and no error text`},
		{name: "huge", handler: hostileAnswer(200, httpclienttest.Vector("["+strings.Repeat(" ", 64<<10)+"]")), kind: sources.BadResponse,
			want: "URL: response too large: larger than the 32 KiB limit"},

		// Samples that are not numbers a budget can judge.
		{name: "value not a number", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"},"value":[1795718400,"lots"]}]`)), kind: sources.BadResponse,
			want: `unreadable response from URL: a sample value is not a number: parsing "lots": invalid syntax`},
		{name: "value out of range", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"},"value":[1795718400,"-1e999"]}]`)), kind: sources.BadResponse,
			want: `unreadable response from URL: a sample value is not a number: parsing "-1e999": value out of range`},
		{name: "value unquoted", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"},"value":[1795718400,96949]}]`)), kind: sources.BadResponse,
			want: `unreadable response from URL: sample value must be a quoted string`},
		{name: "value missing", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"}}]`)), kind: sources.BadResponse,
			want: `URL answered a sample for {service="api"} without a value or timestamp`},
		{name: "null sample", handler: hostileAnswer(200, httpclienttest.Vector(`[null]`)), kind: sources.BadResponse,
			want: `URL answered a null sample`},
		{name: "duplicate series", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"},"value":[1795718400,"1"]},{"metric":{"service":"api"},"value":[1795718400,"96949"]}]`)), kind: sources.BadResponse,
			want: `URL answered the series {service="api"} twice (an instant vector holds each series once)`},
		{name: "scalar at the epoch", handler: hostileAnswer(200, []byte(`{"status":"success","data":{"resultType":"scalar","result":[0,"1"]}}`)), kind: sources.BadResponse,
			want: "URL answered a scalar without a value or timestamp"},

		// NaN and infinities are values: the checks judge them.
		{name: "NaN and infinities", handler: hostileAnswer(200, httpclienttest.Vector(`[{"metric":{"i":"1"},"value":[1795718400,"NaN"]},{"metric":{"i":"2"},"value":[1795718400,"+Inf"]},{"metric":{"i":"3"},"value":[1795718400,"-Inf"]}]`)),
			values: []float64{math.NaN(), math.Inf(1), math.Inf(-1)}},
	}
	t.Setenv("SECFLOW_HOSTILE_LOKI_TOKEN", "tok-abcdef")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLoki(t, tt.handler)
			src := &config.Source{URL: srv.URL, MaxResponseSize: 32 << 10}
			if tt.src != nil {
				tt.src(src)
			}
			got, err := mustNew(t, src).Query(context.Background(), `sum(count_over_time({service="api"}[1h]))`, evalTime)
			if tt.want == "" {
				httpclienttest.WantValues(t, got, err, tt.values)
				return
			}
			se := wantKind(t, err, tt.kind)
			if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != tt.want {
				t.Errorf("message\n%s\nwant\n%s", msg, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("message %q is not one line", err)
			}
		})
	}
}

// TestHostileLokiWarnings: Loki's "warnings" beside an answer (as in
// Prometheus' envelope) reach the collector of the query's context, for
// metric and log queries alike, scrubbed of the source's secrets; the
// answer is still used (issue 7, items 2 and 21).
func TestHostileLokiWarnings(t *testing.T) {
	const warnings = `"warnings":["query was split: partial results from 2 of 3 ingesters","limit hit for token tok-abcdef","limit hit for token tok-abcdef","two\nlines \u001b[2Jand a bell\u0007"]`
	want := []string{
		"loki: query was split: partial results from 2 of 3 ingesters",
		"loki: limit hit for token xxxxx",
		"loki: two lines [2Jand a bell",
	}
	t.Setenv("SECFLOW_HOSTILE_LOKI_TOKEN", "tok-abcdef")
	for name, tt := range map[string]struct {
		body  string
		query func(c *Client, ctx context.Context) (int, error) // the number of samples or entries
		count int
	}{
		"vector": {`{"status":"success",` + warnings + `,"data":{"resultType":"vector","result":[{"metric":{"service":"api"},"value":[1795718400,"96949"]}]}}`,
			func(c *Client, ctx context.Context) (int, error) {
				v, err := c.Query(ctx, `sum by (service) (bytes_over_time({env="prod"}[1h]))`, evalTime)
				return len(v), err
			}, 1},
		"scalar": {`{"status":"success",` + warnings + `,"data":{"resultType":"scalar","result":[1795718400,"4"]}}`,
			func(c *Client, ctx context.Context) (int, error) {
				v, err := c.Query(ctx, `vector(4)`, evalTime)
				return len(v), err
			}, 1},
		"streams": {`{"status":"success",` + warnings + `,"data":{"resultType":"streams","result":[{"stream":{"service":"api"},"values":[["1795718400000000000","hello"]]}]}}`,
			func(c *Client, ctx context.Context) (int, error) {
				p, err := c.QueryLogs(ctx, `{env="prod"}`, evalTime.Add(-time.Hour), evalTime, 10)
				if err != nil {
					return 0, err
				}
				return len(p.Entries), nil
			}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeLoki(t, answer(200, jsonType, tt.body))
			c := mustNew(t, &config.Source{URL: srv.URL, BearerTokenEnv: "SECFLOW_HOSTILE_LOKI_TOKEN"})
			ctx, w := sources.WithWarnings(context.Background())
			n, err := tt.query(c, ctx)
			if err != nil || n != tt.count {
				t.Fatalf("got %d, %v; want %d: warnings do not void the answer", n, err, tt.count)
			}
			if got := w.List(); !reflect.DeepEqual(got, want) {
				t.Errorf("warnings %q, want %q", got, want)
			}
		})
	}
}

// TestHostileMaxResponseSizeApplies: the source's max_response_size caps
// what New's client reads (it used to be overridden by the default).
func TestHostileMaxResponseSizeApplies(t *testing.T) {
	srv := newFakeLoki(t, hostileAnswer(200, httpclienttest.Vector("["+strings.Repeat(" ", 8<<10)+"]")))
	c, err := New(&config.Source{URL: srv.URL, MaxResponseSize: 4 << 10})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Query(context.Background(), `sum(count_over_time({a="b"}[1h]))`, evalTime)
	se := wantKind(t, err, sources.BadResponse)
	if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != "URL: response too large: larger than the 4 KiB limit" {
		t.Errorf("message %q", msg)
	}
}

// TestHostileConfigAnswers: /config answers that are not Loki's YAML give
// one-line bad_response errors, however the YAML decoder words them.
func TestHostileConfigAnswers(t *testing.T) {
	for name, tt := range map[string]struct{ body, want string }{
		"wrong types": {"limits_config: [1, 2]\ncompactor: 7\n",
			"unreadable response from URL/config: not Loki's YAML configuration: line 1: unexpected list; line 2: unexpected number"},
		"not yaml": {"limits_config: {retention_period: 744h\n\tcompactor:\n",
			"unreadable response from URL/config: not Loki's YAML configuration: yaml: line 2: found a tab character that violates indentation"},
		"gzip": {string(httpclienttest.Gzip(t, "limits_config: {retention_period: 744h}\n")),
			"URL answered HTTP 200 OK with a gzip-compressed body we did not ask for (without saying so in Content-Encoding): it cannot be read; check the server or a proxy in front of it"},
		"negative period": {"limits_config: {retention_period: -5h}\ncompactor: {retention_enabled: true}\n",
			`limits_config.retention_period "-5h" is not a duration`},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeLoki(t, answer(200, "text/plain; charset=utf-8", tt.body))
			_, err := mustNew(t, &config.Source{URL: srv.URL}).RetentionPeriod(context.Background())
			se := wantKind(t, err, sources.BadResponse)
			if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != tt.want {
				t.Errorf("message\n%s\nwant\n%s", msg, tt.want)
			}
		})
	}
}

// TestHostileLogPages: a log query's answer holds only entries in the
// range asked for, at most limit of them, each a timestamp and a line:
// anything else is a one-line bad_response (a pager trusting it could go
// back in time or never end).
func TestHostileLogPages(t *testing.T) {
	start := evalTime.Add(-time.Hour)
	stream := func(values string) string {
		return `{"status":"success","data":{"resultType":"streams","result":[{"stream":{"service":"api"},"values":[` + values + `]}]}}`
	}
	for name, tt := range map[string]struct{ body, want string }{
		"before the range": {stream(`["1795718400000000000","in"],["1795714799999999999","before"]`),
			"URL answered a log entry at 2026-11-26T17:39:59.999999999Z, outside the queried range 2026-11-26T17:40:00Z to 2026-11-26T18:40:00Z"},
		"after the range": {stream(`["1795718400000000001","after"]`),
			"URL answered a log entry at 2026-11-26T18:40:00.000000001Z, outside the queried range 2026-11-26T17:40:00Z to 2026-11-26T18:40:00Z"},
		"over the limit": {stream(`["1795715000000000000","a"],["1795715000000000001","b"],["1795715000000000002","c"]`),
			"URL answered 3 log entries to a query for at most 2"},
		"timestamp not a number": {stream(`["yesterday","a"]`),
			`unreadable response from URL: entry timestamp "yesterday" is not unix nanoseconds`},
		"entry without line": {stream(`["1795715000000000000"]`),
			"unreadable response from URL: an entry without timestamp and line"},
		"line not a string": {stream(`["1795715000000000000",{"a":1}]`),
			"unreadable response from URL: json: cannot unmarshal object into Go value of type string"},
		"gzip": {string(httpclienttest.Gzip(t, stream(`["1795715000000000000","a"]`))),
			"URL answered HTTP 200 OK with a gzip-compressed body we did not ask for (without saying so in Content-Encoding): it cannot be read; check the server or a proxy in front of it"},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeLoki(t, answer(200, jsonType, tt.body))
			_, err := mustNew(t, &config.Source{URL: srv.URL}).QueryLogs(context.Background(), `{service="api"}`, start, evalTime, 2)
			se := wantKind(t, err, sources.BadResponse)
			if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != tt.want {
				t.Errorf("message\n%s\nwant\n%s", msg, tt.want)
			}
		})
	}
	// The edges are in range.
	srv := newFakeLoki(t, answer(200, jsonType, stream(`["1795714800000000000","first"],["1795718400000000000","last"]`)))
	page, err := mustNew(t, &config.Source{URL: srv.URL}).QueryLogs(context.Background(), `{service="api"}`, start, evalTime, 2)
	if err != nil || len(page.Entries) != 2 || page.Entries[0].Line != "first" || page.Entries[1].Line != "last" {
		t.Errorf("edges: %+v, %v", page, err)
	}
}
