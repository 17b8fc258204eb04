package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// answersBudgets has a budget of every type that reads a count or a value
// from Prometheus or Loki.
const answersBudgets = `version: 1
sources:
  prometheus: {url: %[1]s, retries: 0}
  loki: {url: %[1]s, retries: 0}
budgets:
  - name: series
    type: cardinality
    selector: '{job="api"}'
    max: 10000
  - name: ratio
    type: metric
    expr: sum(rate(errors_total[5m])) / sum(rate(requests_total[5m]))
    max: 0.02
  - name: latency
    type: latency
    histogram: secflow_task_duration_seconds
    percentiles: {p95: 300s}
  - name: volume
    type: log_volume
    selector: '{env="prod"}'
    max: 100MB
  - name: secrets
    type: log_redaction
    selector: '{env="prod"}'
    presets: [jwt]
  - name: levels
    type: log_levels
    selector: '{env="prod"}'
    parser: json
    max_share: {ERROR: 10%%}
`

// answersServer is a fake Prometheus and Loki in one server: answer gives
// the HTTP status and body for each query; a request to another path
// fails the test.
func answersServer(t *testing.T, answer func(query string) (int, string)) *httptest.Server {
	t.Helper()
	h := func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		status, body := answer(r.Form.Get("query"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	return httpServer(t, h, h)
}

// answersVector is a successful answer holding the JSON samples given.
func answersVector(samples ...string) string {
	return string(httpclienttest.Vector("[" + strings.Join(samples, ",") + "]"))
}

// answersCheck runs check with budgets (a format taking the server's URL)
// against srv and returns the console result and the JSON report.
func answersCheck(t *testing.T, budgets string, srv *httptest.Server, env ...string) (result, hostileReport) {
	t.Helper()
	return httpCheckBudgets(t, fmt.Sprintf(budgets, srv.URL), env...)
}

// answersWantBudgets checks that the report holds exactly the budgets of
// want, each with its status and a message containing the text given (the
// server's URL written as URL).
func answersWantBudgets(t *testing.T, srv *httptest.Server, rep hostileReport, want map[string][2]string) {
	t.Helper()
	if len(rep.Budgets) != len(want) {
		t.Errorf("%d budgets in the report, want %d", len(rep.Budgets), len(want))
	}
	for _, b := range rep.Budgets {
		w, ok := want[b.Name]
		if !ok {
			t.Errorf("unexpected budget %s", b.Name)
			continue
		}
		msg := strings.ReplaceAll(b.Message, srv.URL, "URL")
		if b.Status != w[0] || !strings.Contains(msg, w[1]) {
			t.Errorf("%s: %s %q\nwant %s and a message containing %q", b.Name, b.Status, msg, w[0], w[1])
		}
		if strings.ContainsAny(b.Message, "\n\r") {
			t.Errorf("%s: message %q is not one line", b.Name, b.Message)
		}
	}
}

// TestHostileAnswersSampleWithoutValue: a sample whose pair has no value,
// or a null one, used to be read as 0 and pass every budget with exit 0
// (`series 0 <= 10,000`). It is an unreadable answer: every budget is an
// error, exit 3.
func TestHostileAnswersSampleWithoutValue(t *testing.T) {
	for _, tc := range []struct{ pair, problem string }{
		{`[1795694407]`, "a sample for {} with a time and no value"},
		{`[1795694407,null]`, "a sample for {} with a null value"},
	} {
		t.Run(tc.pair, func(t *testing.T) {
			srv := answersServer(t, func(string) (int, string) {
				return 200, answersVector(`{"metric":{},"value":` + tc.pair + `}`)
			})
			r, rep := answersCheck(t, answersBudgets, srv)
			expectCode(t, r, 3)
			prom := [2]string{"error", "prometheus: unreadable response from URL (HTTP 200): " + tc.problem}
			loki := [2]string{"error", "loki: unreadable response from URL: " + tc.problem}
			answersWantBudgets(t, srv, rep, map[string][2]string{
				"series": prom, "ratio": prom, "latency": prom,
				"volume": loki, "secrets": loki, "levels": loki,
			})
		})
	}
}

// TestHostileAnswersImpossibleCounts: counts no source can mean (negative
// lines, series or bytes; level counts above the total of lines) and
// answers with labels the query cannot produce used to pass
// (`jwt -3 <= 0`, `series -5 <= 10,000`, `INFO 500% (50 of 10 lines)`);
// each is an error saying what is impossible, exit 3.
func TestHostileAnswersImpossibleCounts(t *testing.T) {
	const budgets = `version: 1
sources:
  prometheus: {url: %[1]s, retries: 0}
  loki: {url: %[1]s, retries: 0}
budgets:
  - name: card
    type: cardinality
    selector: '{job="api"}'
    max: 10000
  - name: volume
    type: log_volume
    selector: '{env="prod"}'
    max: 100MB
  - name: secrets
    type: log_redaction
    selector: '{env="prod"}'
    presets: [jwt]
  - name: levels
    type: log_levels
    selector: '{env="prod"}'
    parser: json
    max_share: {ERROR: 10%%, INFO: 100%%}
`
	sample := func(metric, v string) string {
		return answersVector(`{"metric":` + metric + `,"value":[1795694407,"` + v + `"]}`)
	}
	for _, tc := range []struct {
		name   string
		answer func(q string) string
		want   map[string][2]string
	}{
		{
			name: "negative and too many",
			answer: func(q string) string {
				switch {
				case strings.HasPrefix(q, "count("):
					return sample(`{}`, "-5")
				case strings.Contains(q, "bytes_over_time"):
					return sample(`{"service":"api"}`, "-3")
				case strings.Contains(q, "eyJ"):
					return sample(`{}`, "-3")
				case strings.Contains(q, "| json"):
					return answersVector(`{"metric":{"service":"api","level":"info"},"value":[1795694407,"50"]}`,
						`{"metric":{"service":"api","level":"error"},"value":[1795694407,"1"]}`)
				default: // the total of lines by service
					return sample(`{"service":"api"}`, "10")
				}
			},
			want: map[string][2]string{
				"card":    {"error", "series: the source returned -5 series: a count of series cannot be negative"},
				"volume":  {"error", `bytes_per_1h{service="api"}: the source returned -3 bytes: a number of bytes cannot be negative`},
				"secrets": {"error", "jwt: the source returned -3 lines: a count of lines cannot be negative"},
				"levels":  {"error", "the source returned 51 lines with a level but 10 lines in all: the levels cannot count more lines than the total"},
			},
		},
		{
			name: "labels the query cannot produce",
			answer: func(q string) string {
				return sample(`{"level":"error","service":"api","pod":"p1"}`, "0")
			},
			want: map[string][2]string{
				"card":    {"error", `holds a series with the labels "level", "pod", "service", which the query (without by) cannot produce: it is not the answer to this query`},
				"volume":  {"error", `holds a series with the labels "level", "pod", which the query (by (service)) cannot produce`},
				"secrets": {"error", `holds a series with the labels "level", "pod", "service", which the query (without by) cannot produce`},
				"levels":  {"error", `holds a series with the label "pod", which the query (by (service, level)) cannot produce`},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := answersServer(t, func(q string) (int, string) { return 200, tc.answer(q) })
			r, rep := answersCheck(t, budgets, srv)
			expectCode(t, r, 3)
			answersWantBudgets(t, srv, rep, tc.want)
		})
	}
}

// TestHostileAnswersStatusErrorWithoutText: HTTP 200 with
// {"status":"error"} and nothing else used to say `answered HTTP 200 OK: : `.
func TestHostileAnswersStatusErrorWithoutText(t *testing.T) {
	srv := answersServer(t, func(string) (int, string) { return 200, `{"status":"error"}` })
	r, rep := answersCheck(t, answersBudgets, srv)
	expectCode(t, r, 3)
	prom := [2]string{"error", `prometheus: URL answered HTTP 200 OK with status "error" and no error text`}
	loki := [2]string{"error", `loki: URL answered HTTP 200 with status "error" and no error text`}
	answersWantBudgets(t, srv, rep, map[string][2]string{
		"series": prom, "ratio": prom, "latency": prom,
		"volume": loki, "secrets": loki, "levels": loki,
	})
	for _, b := range rep.Budgets {
		if strings.Contains(b.Message, ": : ") {
			t.Errorf("%s: message %q", b.Name, b.Message)
		}
	}
}

// TestHostileAnswersEndpointFarOverMaxBytes: an endpoint serving 1 GiB to
// a budget with max_bytes: 1MB used to be read to its end and then refused
// as "response too large" (exit 3); reading now stops past the limit and
// the budget fails (exit 1), saying where reading stopped.
func TestHostileAnswersEndpointFarOverMaxBytes(t *testing.T) {
	chunk := strings.Repeat("x_total 1\n", 3277)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for range (1 << 30) / len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(srv.Close)
	const budgets = `version: 1
budgets:
  - name: big
    type: endpoint
    url: %[1]s/metrics
    max_bytes: 1MB
  - name: big-series
    type: endpoint
    url: %[1]s/metrics
    max_bytes: 1MB
    max_series: 100
`
	start := time.Now()
	r, rep := answersCheck(t, budgets, srv)
	expectCode(t, r, 1)
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("check took %s: the body was read far past max_bytes", d)
	}
	answersWantBudgets(t, srv, rep, map[string][2]string{
		"big":        {"fail", "bytes 1.01 MB > 1 MB (the body is larger: reading stopped there, past max_bytes)"},
		"big-series": {"fail", "bytes 16.78 MB > 1 MB (the body is larger: reading stopped there, past max_bytes) (and 1 more not passing)"},
	})
	for _, b := range rep.Budgets {
		if b.Name != "big-series" {
			continue
		}
		var series map[string]any
		for _, res := range b.Results {
			if res["subject"] == "series" {
				series = res
			}
		}
		if series == nil || !strings.Contains(fmt.Sprint(series["note"]), "not counted: reading stopped after 16.78 MB, past max_bytes") {
			t.Errorf("big-series: series result %v does not say it was not counted", series)
		}
	}
}

// TestHostileAnswersEnvURLNamed: a bad URL from SECFLOW_PROMETHEUS_URL or
// SECFLOW_LOKI_URL is a usage error that names the variable (it used to
// say only "Prometheus URL:"), with the password masked.
func TestHostileAnswersEnvURLNamed(t *testing.T) {
	const budgets = `version: 1
budgets:
  - name: ratio
    type: metric
    expr: sum(up)
    max: 10
  - name: volume
    type: log_volume
    selector: '{env="prod"}'
    max: 100MB
`
	cfg := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(cfg, []byte(budgets), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"SECFLOW_PROMETHEUS_URL", "SECFLOW_LOKI_URL"} {
		t.Run(v, func(t *testing.T) {
			env := []string{"SECFLOW_PROMETHEUS_URL=http://127.0.0.1:1", "SECFLOW_LOKI_URL=http://127.0.0.1:1"}
			env = append(env, v+"=u:Pw-SECRET-1@host:9090")
			r := run(t, env, "check", "-c", cfg, "--no-color")
			expectCode(t, r, 2)
			if !strings.HasPrefix(r.stderr, v+": ") && !strings.Contains(r.stderr, " "+v+": ") {
				t.Errorf("stderr does not name %s:\n%s", v, r.stderr)
			}
			if strings.Contains(r.stderr, "Pw-SECRET-1") || strings.Contains(r.stdout, "Pw-SECRET-1") {
				t.Errorf("the password is printed:\n%s%s", r.stdout, r.stderr)
			}
			if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 {
				t.Errorf("stderr is more than one line:\n%s", r.stderr)
			}
		})
	}
}
