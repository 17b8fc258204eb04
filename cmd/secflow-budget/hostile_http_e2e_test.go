package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// Hostile HTTP answers, end to end (issue 7, item 21 and the answers a
// hostile or broken Prometheus or Loki can send): each must end in a clear
// one-line reason on the budget and the documented exit code, never a
// panic and never a pass on a number that was not sent.

const httpAt = "2026-11-26T12:00:07Z"

// httpBudgets has one budget per source; %[1]s is the server's URL, %[2]s
// extra settings for both sources (credentials).
const httpBudgets = `version: 1
sources:
  prometheus:
    url: %[1]s
    timeout: 20s
    retries: 0
    max_response_size: 4KiB
%[2]s  loki:
    url: %[1]s
    timeout: 20s
    retries: 0
    max_response_size: 4KiB
%[2]sbudgets:
  - name: up-count
    type: metric
    expr: sum(up)
    max: 10
  - name: log-volume
    type: log_volume
    selector: '{env="prod"}'
    by: [service]
    window: 1h
    per: 1h
    max: 100MB
`

// hostileReport is the part of the JSON report the hostile end-to-end
// tests read.
type hostileReport struct {
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Budgets  []struct {
		Name     string           `json:"name"`
		Status   string           `json:"status"`
		Message  string           `json:"message"`
		Notes    []string         `json:"notes"`
		Warnings []string         `json:"warnings"`
		Results  []map[string]any `json:"results"`
		Error    *struct{ Kind, Message string }
	} `json:"budgets"`
}

// httpServer answers /api/v1/query with prom and /loki/api/v1/query with
// loki.
func httpServer(t *testing.T, prom, loki http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if vmEngineProbe(w, r) {
			return
		}
		switch r.URL.Path {
		case "/api/v1/query":
			prom(w, r)
		case "/loki/api/v1/query":
			loki(w, r)
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(srv.Close)
	return srv
}

// httpAnswer answers status with body and the headers given as pairs
// (JSON unless they say otherwise).
func httpAnswer(status int, body []byte, header ...string) http.HandlerFunc {
	return httpclienttest.Answer(status, "application/json", body, header...)
}

// httpCutOff sends the start of a 200 answer that declares 1000 bytes,
// then hangs up.
func httpCutOff(w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		return
	}
	buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"status\":\"succ")
	buf.Flush()
	conn.Close()
}

// httpSample is a result of one sample of series with value.
func httpSample(series, value string) string {
	return `[{"metric":` + series + `,"value":[1795694407,"` + value + `"]}]`
}

// httpCheck runs check on httpBudgets against srv with the JSON report
// written beside the console output, and returns both.
func httpCheck(t *testing.T, srv *httptest.Server, settings string, env ...string) (result, hostileReport) {
	t.Helper()
	return httpCheckBudgets(t, fmt.Sprintf(httpBudgets, srv.URL, settings), env...)
}

// httpCheckBudgets runs check on the budgets file text with the JSON
// report written beside the console output, and returns both.
func httpCheckBudgets(t *testing.T, text string, env ...string) (result, hostileReport) {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "budgets.yaml")
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	jsonPath := filepath.Join(dir, "report.json")
	r := run(t, env, "check", "-c", cfg, "--at", httpAt, "--no-color", "--report", "json="+jsonPath)
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("stderr shows a panic:\n%s", r.stderr)
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatalf("no JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	var rep hostileReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("invalid JSON report: %v\n%s", err, b)
	}
	return r, rep
}

// httpWant is what one budget must show.
type httpWant struct {
	status, kind string // kind: the error's, "" for none
	message      string // the whole message, the server's URL as URL
}

// TestHostileHTTPAnswers: hostile answers from both sources, each to a
// metric budget (Prometheus) and a log budget (Loki) in one run.
func TestHostileHTTPAnswers(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("e2e-token-123456\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const (
		gzipped   = " with a gzip-compressed body we did not ask for "
		cannot    = ": it cannot be read; check the server or a proxy in front of it"
		promGood  = `{}`
		lokiGood  = `{"service":"api"}`
		badSample = "unreadable response from URL"
	)
	good := func(series string) []byte { return httpclienttest.Vector(httpSample(series, "1")) }
	same := func(h http.HandlerFunc) [2]http.HandlerFunc { return [2]http.HandlerFunc{h, h} }
	tests := []struct {
		name     string
		handlers [2]http.HandlerFunc // Prometheus, Loki
		settings string              // source settings, indented for the YAML
		code     int
		up, logs httpWant
	}{
		{
			name:     "gzip declared",
			handlers: [2]http.HandlerFunc{httpAnswer(200, httpclienttest.Gzip(t, string(good(promGood))), "Content-Encoding", "gzip"), httpAnswer(200, httpclienttest.Gzip(t, string(good(lokiGood))), "Content-Encoding", "gzip")},
			code:     3,
			up:       httpWant{"error", "bad_response", "prometheus: URL answered HTTP 200 OK" + gzipped + "(Content-Encoding: gzip)" + cannot},
			logs:     httpWant{"error", "bad_response", "loki: URL answered HTTP 200 OK" + gzipped + "(Content-Encoding: gzip)" + cannot},
		},
		{
			name:     "gzip undeclared",
			handlers: [2]http.HandlerFunc{httpAnswer(200, httpclienttest.Gzip(t, string(good(promGood)))), httpAnswer(200, httpclienttest.Gzip(t, string(good(lokiGood))))},
			code:     3,
			up:       httpWant{"error", "bad_response", "prometheus: URL answered HTTP 200 OK" + gzipped + "(without saying so in Content-Encoding)" + cannot},
			logs:     httpWant{"error", "bad_response", "loki: URL answered HTTP 200 OK" + gzipped + "(without saying so in Content-Encoding)" + cannot},
		},
		{
			name:     "401 without credentials",
			handlers: same(httpAnswer(401, []byte("Unauthorized"), "Content-Type", "text/plain")),
			code:     3,
			up:       httpWant{"error", "unauthorized", "prometheus: URL answered HTTP 401 Unauthorized: it requires authentication and no credentials are configured (set sources.prometheus.bearer_token_file, bearer_token_env, basic_auth or tenant)"},
			logs:     httpWant{"error", "unauthorized", "loki: URL answered 401 Unauthorized: Unauthorized: it requires authentication and no credentials are configured (set sources.loki.bearer_token_file, bearer_token_env, basic_auth or tenant)"},
		},
		{
			name:     "403 with a bearer token",
			handlers: same(httpAnswer(403, []byte("Forbidden"), "Content-Type", "text/plain")),
			settings: "    bearer_token_file: " + tokenFile + "\n",
			code:     3,
			up:       httpWant{"error", "unauthorized", "prometheus: URL refused our credentials: HTTP 403 Forbidden"},
			logs:     httpWant{"error", "unauthorized", "loki: URL refused the request: 403 Forbidden: Forbidden"},
		},
		{
			name:     "401 with a custom header",
			handlers: same(httpAnswer(401, []byte("Unauthorized"), "Content-Type", "text/plain")),
			settings: "    headers: {X-Api-Key: e2e-key-123456}\n",
			code:     3,
			up:       httpWant{"error", "unauthorized", "prometheus: URL refused our credentials: HTTP 401 Unauthorized"},
			logs:     httpWant{"error", "unauthorized", "loki: URL refused the request: 401 Unauthorized: Unauthorized"},
		},
		{
			name:     "truncated JSON",
			handlers: [2]http.HandlerFunc{httpAnswer(200, good(promGood)[:50]), httpAnswer(200, good(lokiGood)[:50])},
			code:     3,
			up:       httpWant{"error", "bad_response", "prometheus: unreadable response from URL (HTTP 200): unexpected end of JSON input"},
			logs:     httpWant{"error", "bad_response", "loki: unreadable response from URL: unexpected end of JSON input"},
		},
		{
			name:     "answer cut off",
			handlers: same(httpCutOff),
			code:     3,
			up:       httpWant{"error", "unavailable", "prometheus: the answer from URL was cut off: unexpected EOF"},
			logs:     httpWant{"error", "unavailable", "loki: the answer from URL was cut off: unexpected EOF"},
		},
		{
			name:     "unknown resultType",
			handlers: same(httpAnswer(200, []byte(`{"status":"success","data":{"resultType":"banana","result":[]}}`))),
			code:     3,
			up:       httpWant{"error", "bad_response", `prometheus: unreadable response from URL (HTTP 200): unknown value type "banana"`},
			logs:     httpWant{"error", "bad_response", `loki: query returned a "banana"; log budgets need an instant vector or a scalar`},
		},
		{
			name:     "over the size limit",
			handlers: same(httpAnswer(200, httpclienttest.Vector("["+strings.Repeat(" ", 8<<10)+"]"))),
			code:     3,
			up:       httpWant{"error", "bad_response", "prometheus: URL: response too large: larger than the 4 KiB limit"},
			logs:     httpWant{"error", "bad_response", "loki: URL: response too large: larger than the 4 KiB limit"},
		},
		{
			name:     "status not success",
			handlers: same(httpAnswer(200, []byte(`{"status":"partial","data":{"resultType":"vector","result":`+httpSample(`{}`, "1")+`}}`))),
			code:     3,
			up:       httpWant{"error", "bad_response", `prometheus: unreadable response from URL (HTTP 200): the answer's status is "partial", want "success"`},
			logs:     httpWant{"error", "bad_response", `loki: URL answered HTTP 200 with status "partial" and no error text`},
		},
		{
			name:     "value not a number",
			handlers: [2]http.HandlerFunc{httpAnswer(200, httpclienttest.Vector(httpSample(promGood, "lots"))), httpAnswer(200, httpclienttest.Vector(httpSample(lokiGood, "lots")))},
			code:     3,
			up:       httpWant{"error", "bad_response", `prometheus: ` + badSample + ` (HTTP 200): a sample value is not a number: parsing "lots": invalid syntax`},
			logs:     httpWant{"error", "bad_response", `loki: ` + badSample + `: a sample value is not a number: parsing "lots": invalid syntax`},
		},
		{
			name:     "value without quotes",
			handlers: same(httpAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"},"value":[1795694407,5]}]`))),
			code:     3,
			up:       httpWant{"error", "bad_response", `prometheus: ` + badSample + ` (HTTP 200): model.Vector: sample value must be a quoted string`},
			logs:     httpWant{"error", "bad_response", `loki: ` + badSample + `: sample value must be a quoted string`},
		},
		{
			name:     "value missing",
			handlers: same(httpAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"}}]`))),
			code:     3,
			up:       httpWant{"error", "bad_response", `prometheus: URL answered a sample for {service="api"} without a value or timestamp`},
			logs:     httpWant{"error", "bad_response", `loki: URL answered a sample for {service="api"} without a value or timestamp`},
		},
		{
			name:     "null sample",
			handlers: same(httpAnswer(200, httpclienttest.Vector(`[null]`))),
			code:     3,
			up:       httpWant{"error", "bad_response", `prometheus: URL answered a null sample`},
			logs:     httpWant{"error", "bad_response", `loki: URL answered a null sample`},
		},
		{
			// Summed, the two would pass a limit that one of them breaks
			// on its own; no series is kept over the other.
			name:     "duplicate series",
			handlers: same(httpAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"},"value":[1795694407,"1"]},{"metric":{"service":"api"},"value":[1795694407,"1e12"]}]`))),
			code:     3,
			up:       httpWant{"error", "bad_response", `prometheus: URL answered the series {service="api"} twice (an instant vector holds each series once)`},
			logs:     httpWant{"error", "bad_response", `loki: URL answered the series {service="api"} twice (an instant vector holds each series once)`},
		},
		{
			// A native histogram sample has no float value: read as 0, it
			// would pass every max.
			name:     "native histogram sample",
			handlers: same(httpAnswer(200, httpclienttest.Vector(`[{"metric":{"service":"api"},"histogram":[1795694407,{"count":"5","sum":"3","buckets":[[0,"0","1","5"]]}]}]`))),
			code:     3,
			up:       httpWant{"error", "bad_response", `prometheus: URL answered a native histogram sample for {service="api"}; budgets need float samples (wrap it in histogram_count, histogram_sum or histogram_quantile)`},
			logs:     httpWant{"error", "bad_response", `loki: URL answered a native histogram sample for {service="api"}; budgets need float samples (wrap it in histogram_count, histogram_sum or histogram_quantile)`},
		},
		{
			name:     "NaN",
			handlers: [2]http.HandlerFunc{httpAnswer(200, httpclienttest.Vector(httpSample(promGood, "NaN"))), httpAnswer(200, httpclienttest.Vector(httpSample(lokiGood, "NaN")))},
			code:     3,
			up:       httpWant{"error", "", "the source returned NaN (not a number; a division by zero, e.g. no events in the window?): it cannot be judged against a limit"},
			logs:     httpWant{"error", "", `bytes_per_1h{service="api"}: the source returned NaN (not a number): it cannot be judged against a limit`},
		},
		{
			name:     "+Inf",
			handlers: [2]http.HandlerFunc{httpAnswer(200, httpclienttest.Vector(httpSample(promGood, "+Inf"))), httpAnswer(200, httpclienttest.Vector(httpSample(lokiGood, "+Inf")))},
			code:     1,
			up:       httpWant{"fail", "", "+Inf > 10"},
			logs:     httpWant{"fail", "", `bytes_per_1h{service="api"} +Inf > 100 MB`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httpServer(t, tt.handlers[0], tt.handlers[1])
			r, rep := httpCheck(t, srv, tt.settings)
			expectCode(t, r, tt.code)
			if rep.ExitCode != tt.code {
				t.Errorf("report exit_code %d, want %d", rep.ExitCode, tt.code)
			}
			if strings.Count(r.stderr, "\n") > 1 {
				t.Errorf("stderr has more than one line:\n%s", r.stderr)
			}
			wants := map[string]httpWant{"up-count": tt.up, "log-volume": tt.logs}
			if len(rep.Budgets) != len(wants) {
				t.Fatalf("%d budgets in the report, want %d", len(rep.Budgets), len(wants))
			}
			for _, b := range rep.Budgets {
				w, ok := wants[b.Name]
				if !ok {
					t.Errorf("unexpected budget %s", b.Name)
					continue
				}
				msg := strings.ReplaceAll(b.Message, srv.URL, "URL")
				kind := ""
				if b.Error != nil {
					kind = b.Error.Kind
				}
				if b.Status != w.status || kind != w.kind || msg != w.message {
					t.Errorf("%s: %s, kind %q, message\n%s\nwant %s, kind %q, message\n%s", b.Name, b.Status, kind, msg, w.status, w.kind, w.message)
				}
				if strings.ContainsAny(b.Message, "\n\r") {
					t.Errorf("%s: message %q is not one line", b.Name, b.Message)
				}
				// The console says the same on the budget's line.
				if line := strings.ReplaceAll(budgetLine(t, r, b.Name), srv.URL, "URL"); !strings.Contains(line, w.message) {
					t.Errorf("%s: console line %q does not say %q", b.Name, line, w.message)
				}
			}
		})
	}
}

// TestHostileHTTPLokiWarnings: the warnings Loki sends beside a metric
// query's answer (as Prometheus does: partial data) appear in the log
// budget's notes, in the console and in the JSON report's "warnings"; the
// answer is still judged (issue 7, items 2 and 21).
func TestHostileHTTPLokiWarnings(t *testing.T) {
	body := []byte(`{"status":"success","warnings":["query was split: 2 of 3 ingesters answered","query hit max_query_series (500): result is incomplete"],` +
		`"data":{"resultType":"vector","result":[{"metric":{"service":"api"},"value":[1795694407,"1000"]},{"metric":{"service":"worker"},"value":[1795694407,"2000000000"]}]}}`)
	srv := httpServer(t, httpAnswer(200, httpclienttest.Vector(httpSample(`{}`, "1"))), httpAnswer(200, body))
	r, rep := httpCheck(t, srv, "")
	// worker's 2 GB per hour breaks the 100 MB limit: the answer counts.
	expectCode(t, r, 1)
	wantWarnings := []string{
		"loki: query was split: 2 of 3 ingesters answered",
		"loki: query hit max_query_series (500): result is incomplete",
	}
	wantNotes := []string{
		"warning from loki: query was split: 2 of 3 ingesters answered (the answer may be partial data)",
		"warning from loki: query hit max_query_series (500): result is incomplete (the answer may be partial data)",
	}
	for _, b := range rep.Budgets {
		switch b.Name {
		case "log-volume":
			if b.Status != "fail" || strings.Join(b.Warnings, "\n") != strings.Join(wantWarnings, "\n") || strings.Join(b.Notes, "\n") != strings.Join(wantNotes, "\n") {
				t.Errorf("%s: %s, warnings %q, notes %q; want fail, warnings %q, notes %q", b.Name, b.Status, b.Warnings, b.Notes, wantWarnings, wantNotes)
			}
		case "up-count":
			// The Prometheus answer had none: Loki's stay on Loki's budget.
			if b.Status != "pass" || len(b.Warnings) != 0 || len(b.Notes) != 0 {
				t.Errorf("%s: %s, warnings %q, notes %q; want pass without warnings", b.Name, b.Status, b.Warnings, b.Notes)
			}
		default:
			t.Errorf("unexpected budget %s", b.Name)
		}
	}
	for _, n := range wantNotes {
		if !strings.Contains(r.stdout, "note: "+n) {
			t.Errorf("console lacks %q:\n%s", "note: "+n, r.stdout)
		}
	}
}
