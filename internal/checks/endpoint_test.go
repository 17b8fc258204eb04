package checks

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/endpoint"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// endpointFake answers an authenticated and an anonymous fetch.
type endpointFake struct {
	auth, anon       *sources.Exposition
	authErr, anonErr error
	asked            []sources.EndpointRequest
}

func (f *endpointFake) Fetch(_ context.Context, req sources.EndpointRequest) (*sources.Exposition, error) {
	f.asked = append(f.asked, req)
	if req.Anonymous {
		return f.anon, f.anonErr
	}
	return f.auth, f.authErr
}

func textExposition(body string) *sources.Exposition {
	return &sources.Exposition{StatusCode: 200, ContentType: "text/plain; version=0.0.4; charset=utf-8", Body: []byte(body), Size: int64(len(body))}
}

// cleanExposition has 1 counter, 1 gauge with 2 series and a histogram of
// 3 buckets (5 series): 8 series, promlint-clean.
const cleanExposition = `# HELP demo_requests_total Requests handled.
# TYPE demo_requests_total counter
demo_requests_total{method="GET"} 12
# HELP demo_queue_depth Tasks waiting.
# TYPE demo_queue_depth gauge
demo_queue_depth{queue="a"} 3
demo_queue_depth{queue="b"} 4
# HELP demo_duration_seconds Time taken.
# TYPE demo_duration_seconds histogram
demo_duration_seconds_bucket{le="0.1"} 1
demo_duration_seconds_bucket{le="1"} 3
demo_duration_seconds_bucket{le="+Inf"} 4
demo_duration_seconds_sum 2.5
demo_duration_seconds_count 4
`

// lintyExposition breaks three promlint rules.
const lintyExposition = `# TYPE demo_requests counter
demo_requests 12
# HELP demo_latency_milliseconds Latency.
# TYPE demo_latency_milliseconds gauge
demo_latency_milliseconds 3
`

const endpointBudget = `- name: secflow-metrics
  type: endpoint
  url: http://api:8080/metrics
  max_bytes: 1MB
  max_series: 10000
  require_auth: true
  lint: true
`

func runEndpoint(t *testing.T, budget string, f sources.Endpoints) Outcome {
	t.Helper()
	plan := loadOne(t, budget)
	out, _ := Run(context.Background(), plan, Env{Endpoints: f, At: time.Unix(1795694407, 0)}, 1, time.Now)
	return out[0]
}

func describeAll(rs []Result) string {
	var lines []string
	for _, r := range rs {
		lines = append(lines, DescribeResult(r, "fail")+" "+r.Status.String())
	}
	return strings.Join(lines, "\n")
}

func TestEndpointBudgets(t *testing.T) {
	big := textExposition(cleanExposition + strings.Repeat("# padding\n", 120_000))
	cut := textExposition(cleanExposition[:40])
	cut.Size = 40 << 20
	tests := []struct {
		name        string
		budget      string
		fake        *endpointFake
		wantStatus  Status
		wantMessage string
		wantResults string
		wantDetails []string
	}{
		{
			name: "healthy", budget: endpointBudget,
			fake:        &endpointFake{auth: textExposition(cleanExposition), anon: &sources.Exposition{StatusCode: 401}},
			wantStatus:  Pass,
			wantMessage: "508 B <= 1 MB, 8 series <= 10,000, anonymous GET refused (401), lint clean",
			wantResults: "bytes 508 B <= 1 MB pass\nseries 8 <= 10,000 pass\nauth 401 pass\nlint 0 problems <= warn 0 problems pass",
		},
		{
			name: "served without credentials", budget: endpointBudget,
			fake:        &endpointFake{auth: textExposition(cleanExposition), anon: textExposition(cleanExposition)},
			wantStatus:  Fail,
			wantMessage: "an anonymous GET got HTTP 200 OK: want 401 or 403",
			wantResults: "bytes 508 B <= 1 MB pass\nseries 8 <= 10,000 pass\nauth 200 fail\nlint 0 problems <= warn 0 problems pass",
		},
		{
			name: "redirected to a login page", budget: endpointBudget,
			fake:        &endpointFake{auth: textExposition(cleanExposition), anon: &sources.Exposition{StatusCode: 302}},
			wantStatus:  Fail,
			wantMessage: "an anonymous GET got HTTP 302 Found: want 401 or 403",
			wantResults: "bytes 508 B <= 1 MB pass\nseries 8 <= 10,000 pass\nauth 302 fail\nlint 0 problems <= warn 0 problems pass",
		},
		{
			name: "too big", budget: endpointBudget,
			fake:        &endpointFake{auth: big, anon: &sources.Exposition{StatusCode: 403}},
			wantStatus:  Fail,
			wantMessage: "bytes 1.2 MB > 1 MB",
			wantResults: "bytes 1.2 MB > 1 MB fail\nseries 8 <= 10,000 pass\nauth 403 pass\nlint 0 problems <= warn 0 problems pass",
		},
		{
			name: "body cut at the fetch limit", budget: endpointBudget,
			fake:        &endpointFake{auth: cut, anon: &sources.Exposition{StatusCode: 401}},
			wantStatus:  Fail,
			wantMessage: "bytes 41.94 MB > 1 MB (and 1 more not passing)",
			wantResults: "bytes 41.94 MB > 1 MB fail\nseries: not counted: only the first 40 B of the body were read (on_missing: fail) fail\n" +
				"auth 401 pass",
		},
		{
			name: "lint problems warn", budget: endpointBudget,
			fake:        &endpointFake{auth: textExposition(lintyExposition), anon: &sources.Exposition{StatusCode: 401}},
			wantStatus:  Warn,
			wantMessage: "promlint: 3 problems",
			wantResults: "bytes 155 B <= 1 MB pass\nseries 2 <= 10,000 pass\nauth 401 pass\nlint 3 problems > warn 0 problems warn",
			wantDetails: []string{
				`demo_latency_milliseconds: use base unit "seconds" instead of "milliseconds"`,
				`demo_requests: counter metrics should have "_total" suffix`,
				`demo_requests: no help text`,
			},
		},
		{
			name:        "too many series",
			budget:      "- name: m\n  type: endpoint\n  url: http://api:8080/metrics\n  max_series: 5\n",
			fake:        &endpointFake{auth: textExposition(cleanExposition)},
			wantStatus:  Fail,
			wantMessage: "series 8 > 5",
			wantResults: "bytes 508 B pass\nseries 8 > 5 fail",
		},
		{
			name:        "only auth",
			budget:      "- name: m\n  type: endpoint\n  url: http://api:8080/metrics\n  require_auth: true\n",
			fake:        &endpointFake{auth: textExposition(cleanExposition), anon: &sources.Exposition{StatusCode: 401}},
			wantStatus:  Pass,
			wantMessage: "508 B, 8 series, anonymous GET refused (401)",
			wantResults: "bytes 508 B pass\nseries 8 pass\nauth 401 pass",
		},
		{
			name:        "openmetrics",
			budget:      "- name: m\n  type: endpoint\n  url: http://api:8080/metrics\n  max_series: 100\n",
			fake:        &endpointFake{auth: &sources.Exposition{StatusCode: 200, ContentType: "application/openmetrics-text; version=1.0.0; charset=utf-8", Body: []byte("# TYPE a counter\n# HELP a A.\na_total 1\n# EOF\n"), Size: 42}},
			wantStatus:  Pass,
			wantMessage: "42 B, 1 series <= 100",
			wantResults: "bytes 42 B pass\nseries 1 <= 100 pass",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := runEndpoint(t, tt.budget, tt.fake)
			if o.Err != nil {
				t.Fatalf("error %+v", o.Err)
			}
			if o.Status != tt.wantStatus || o.Message != tt.wantMessage {
				t.Errorf("got %s %q, want %s %q", o.Status, o.Message, tt.wantStatus, tt.wantMessage)
			}
			if got := describeAll(o.Results); got != tt.wantResults {
				t.Errorf("results:\n%s\nwant:\n%s", got, tt.wantResults)
			}
			if !reflect.DeepEqual(o.Details, tt.wantDetails) {
				t.Errorf("details %q\nwant %q", o.Details, tt.wantDetails)
			}
			if o.Category != "metrics" {
				t.Errorf("category %q", o.Category)
			}
			for _, req := range tt.fake.asked {
				if req.Name != o.Name || req.URL != "http://api:8080/metrics" {
					t.Errorf("request %+v", req)
				}
			}
		})
	}
}

func TestEndpointLintDetailsAreCapped(t *testing.T) {
	var b strings.Builder
	for i := range 15 {
		fmt.Fprintf(&b, "# TYPE m%d counter\nm%d 1\n", i, i)
	}
	o := runEndpoint(t, "- name: m\n  type: endpoint\n  url: http://x/metrics\n  lint: true\n", &endpointFake{auth: textExposition(b.String())})
	if o.Status != Warn || len(o.Details) != maxLintDetails+1 || o.Details[maxLintDetails] != "... and 20 more promlint problems" {
		t.Errorf("got %s %q details %q", o.Status, o.Message, o.Details)
	}
}

func TestEndpointUnreadable(t *testing.T) {
	for name, exp := range map[string]*sources.Exposition{
		"syntax": textExposition("# TYPE a counter\na_total{ 1\n"),
		"html":   {StatusCode: 200, ContentType: "text/html; charset=utf-8", Body: []byte("<html>Sign in</html>"), Size: 20},
	} {
		t.Run(name, func(t *testing.T) {
			o := runEndpoint(t, endpointBudget, &endpointFake{auth: exp, anon: &sources.Exposition{StatusCode: 401}})
			if o.Status != Error || o.Err == nil || o.Err.Kind != "bad_response" || !strings.Contains(o.Err.Message, "http://api:8080/metrics") {
				t.Errorf("got %s %+v", o.Status, o.Err)
			}
		})
	}
}

func TestEndpointSourceErrors(t *testing.T) {
	o := runEndpoint(t, endpointBudget, &endpointFake{authErr: sources.Errorf(sources.Unauthorized, "endpoint", "refused")})
	if o.Status != Error || o.Err.Kind != "unauthorized" {
		t.Errorf("authenticated fetch: %s %+v", o.Status, o.Err)
	}
	o = runEndpoint(t, endpointBudget, &endpointFake{auth: textExposition(cleanExposition), anonErr: sources.Errorf(sources.Missing, "snapshot", "no endpoints/secflow-metrics.json")})
	if o.Status != Error || o.Err.Kind != "missing_data" || !strings.Contains(o.Err.Message, "secflow-metrics.json") {
		t.Errorf("anonymous fetch: %s %+v", o.Status, o.Err)
	}
	o = runEndpoint(t, endpointBudget, nil)
	if o.Status != Error || o.Err.Kind != "not_configured" {
		t.Errorf("no source: %s %+v", o.Status, o.Err)
	}
}

func TestEndpointQueries(t *testing.T) {
	plan := loadOne(t, endpointBudget)
	q := plan[0].Check.Queries()
	if len(q) != 2 || q[0].Lang != "http" || q[0].Text != "GET http://api:8080/metrics" || q[0].Note != "" ||
		q[1].Text != "GET http://api:8080/metrics (anonymous)" || !strings.Contains(q[1].Note, "without credentials") {
		t.Errorf("queries %+v", q)
	}
	if plan[0].Needs != "endpoint" {
		t.Errorf("needs %q", plan[0].Needs)
	}
}

func TestEndpointConfigErrors(t *testing.T) {
	for budget, want := range map[string]string{
		"max_bytes: 1MB": "budgets[0].url: required field is missing",
		"url: http://ci:s3cret-pw@api:8080/metrics\nlint: true": "budgets[0].url: credentials do not belong in the URL",
		"url: ftp://api/metrics\nlint: true":                    "budgets[0].url: invalid URL",
		"url: http://api:8080/metrics":                          "budgets[0].max_bytes: nothing to check",
		"url: http://api:8080/metrics\nlint: false":             "budgets[0].max_bytes: nothing to check",
		"url: http://api:8080/metrics\nmax_bytes: 1 MiBs":       "budgets[0].max_bytes: invalid size",
		"url: http://api:8080/metrics\nmax_series: -1":          "budgets[0].max_series: a number of series cannot be negative",
		"url: http://api:8080/metrics\nrequire_auth: yes":       `budgets[0].require_auth: invalid boolean "yes"`,
		"url: http://api:8080/metrics\nmax_byte: 1MB":           `unknown field "max_byte" (did you mean "max_bytes"?)`,
	} {
		_, _, err := loadText(t, "version: 1\nbudgets:\n  - name: s\n    type: endpoint\n"+indentBy(budget, "    "))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant %q", budget, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret-pw") {
			t.Errorf("%s: the error shows the password: %v", budget, err)
		}
	}
}

// TestEndpointLiveAndOffline runs the check against a live test server and
// against a snapshot recorded from it: the outcomes are the same.
func TestEndpointLiveAndOffline(t *testing.T) {
	const token = "endpoint-check-token"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprint(w, lintyExposition+cleanExposition)
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := endpoint.New(&config.Source{BearerTokenFile: tokenFile}, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	budget := strings.Replace(endpointBudget, "http://api:8080/metrics", srv.URL+"/metrics", 1)
	liveOut := runEndpoint(t, budget, live)

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "manifest.yaml"), []byte("version: 1\nevaluated_at: 2026-11-26T12:00:07Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	req := sources.EndpointRequest{Name: "secflow-metrics", URL: srv.URL + "/metrics"}
	exp, err := live.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.Anonymous = true
	anon, err := live.Fetch(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if err := snapshot.WriteEndpoint(dir, "secflow-metrics", exp, anon.StatusCode); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	offOut := runEndpoint(t, budget, snap.Endpoints())

	if liveOut.Status != Warn || liveOut.Err != nil {
		t.Fatalf("live: %s %q %+v", liveOut.Status, liveOut.Message, liveOut.Err)
	}
	// Each run loads its own copy of the budgets file.
	liveOut.Duration, offOut.Duration = 0, 0
	liveOut.File, offOut.File = "", ""
	if !reflect.DeepEqual(liveOut, offOut) {
		t.Errorf("live %+v\noffline %+v", liveOut, offOut)
	}
	if strings.Contains(fmt.Sprintf("%+v", liveOut), token) {
		t.Error("the outcome shows the token")
	}
}

// endpointBudgetYAML is the endpoint budget proposed for SecFlow's
// budgets.yaml.
const endpointBudgetYAML = `- name: secflow-metrics
  type: endpoint
  url: http://api:8080/metrics
  max_bytes: 1MB
  require_auth: true
  lint: true
`

// TestEndpointOnShippedSnapshots: SecFlow's /metrics passes in both
// snapshots (degraded's is bigger, still under 1 MB).
func TestEndpointOnShippedSnapshots(t *testing.T) {
	for name, want := range map[string]string{
		"healthy":  "48.81 kB <= 1 MB, 589 series, anonymous GET refused (401), lint clean",
		"degraded": "881.64 kB <= 1 MB, 10,388 series, anonymous GET refused (401), lint clean",
	} {
		t.Run(name, func(t *testing.T) {
			snap, err := snapshot.Open(filepath.Join("..", "..", "testdata", "snapshots", name))
			if err != nil {
				t.Fatal(err)
			}
			defer snap.Close()
			o := runEndpoint(t, endpointBudgetYAML, snap.Endpoints())
			if o.Status != Pass || o.Message != want {
				t.Errorf("got %s %q %+v, want pass %q", o.Status, o.Message, o.Err, want)
			}
		})
	}
}

// TestLintMatchesPromlint: our lint pass finds what promlint's own Linter
// finds, duplicates included, so that a new promlint rule shows up here.
func TestLintMatchesPromlint(t *testing.T) {
	dups := "# HELP dup_total Dups.\n# TYPE dup_total counter\ndup_total{a=\"1\",b=\"2\"} 1\ndup_total{a=\"1\",b=\"2\"} 2\ndup_total{a=\"2\"} 1\ndup_total{a=\"1\",b=\"2\"} 3\n"
	for name, text := range map[string]string{"clean": cleanExposition, "linty": lintyExposition, "duplicates": dups,
		"mixed": "# TYPE fooBar_seconds_count gauge\nfooBar_seconds_count{le=\"1\"} 1\n# HELP x_ms X.\n# TYPE x_ms summary\nx_ms_sum 1\nx_ms_count 1\n"} {
		t.Run(name, func(t *testing.T) {
			families, err := parseExposition(textExposition(text))
			if err != nil {
				t.Fatal(err)
			}
			want, err := promlint.New(strings.NewReader(text)).Lint()
			if err != nil {
				t.Fatal(err)
			}
			got := lintFamilies(families)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ours:\n%v\npromlint:\n%v", got, want)
			}
			if name != "clean" && len(got) == 0 {
				t.Error("no problems found")
			}
		})
	}
}
