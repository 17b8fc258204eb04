package checks

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources/endpoint"
)

// answersResult is what one result of an impossible-answer case must be:
// its value as the source sent it (NaN for a share that could not be
// computed) and a substring of its note.
type answersResult struct {
	subject, labels string
	status          Status
	value           float64
	note            string
}

// TestHostileImpossibleCounts: a count of series or lines that is negative
// or not whole, a negative number of bytes, level counts above the total
// of lines, or an answer with labels the query cannot produce, is an
// answer we cannot trust: an error, never a pass (`jwt -3 <= 0`,
// `series -5 <= 10,000`, `INFO 500% (50 of 10 lines)`).
func TestHostileImpossibleCounts(t *testing.T) {
	const (
		cardQ       = `count({job="api"})`
		cardByQ     = `count by (service) ({job="api"})`
		volQ        = `sum by (service) (bytes_over_time({env="prod"}[1h]))`
		levelsQ     = `sum by (service, level) (count_over_time({env="prod"}[1h]))`
		jsonLevelsQ = `sum by (service, level) (count_over_time({env="prod"} | json | __error__="" [1h]))`
		jsonTotalQ  = `sum by (service) (count_over_time({env="prod"}[1h]))`
		jwtQ        = "sum(count_over_time({env=\"prod\"} |~ `eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]{10,}` [1h]))"
		redTotalQ   = `sum(count_over_time({env="prod"}[1h]))`
	)
	card := "- name: card\n  type: cardinality\n  selector: '{job=\"api\"}'\n  max: 10000\n"
	cardBy := card + "  by: [service]\n"
	vol := "- name: vol\n  type: log_volume\n  selector: '{env=\"prod\"}'\n  max: 100MB\n"
	levels := "- name: levels\n  type: log_levels\n  selector: '{env=\"prod\"}'\n  max_share: {ERROR: 10%, INFO: 100%}\n"
	jsonLevels := levels + "  parser: json\n"
	redaction := "- name: secrets\n  type: log_redaction\n  selector: '{env=\"prod\"}'\n  presets: [jwt]\n"
	nan := math.NaN()

	tests := []struct {
		name        string
		budget      string
		answers     map[string]model.Vector
		wantMessage string
		want        []answersResult // nil: the budget is a source error
		wantPass    bool            // the control case; else the budget is an error
	}{
		{
			name: "cardinality negative", budget: card,
			answers:     map[string]model.Vector{cardQ: {sample(-5)}},
			wantMessage: "series: the source returned -5 series: a count of series cannot be negative",
			want:        []answersResult{{"series", "", Error, -5, "cannot be negative"}},
		},
		{
			name: "cardinality -Inf", budget: card,
			answers:     map[string]model.Vector{cardQ: {sample(math.Inf(-1))}},
			wantMessage: "series: the source returned -Inf series: a count of series cannot be negative",
			want:        []answersResult{{"series", "", Error, math.Inf(-1), "cannot be negative"}},
		},
		{
			name: "cardinality not whole, beside a good group", budget: cardBy,
			answers:     map[string]model.Vector{cardByQ: {sample(2.5, "service", "api"), sample(7, "service", "web")}},
			wantMessage: `series{service="api"}: the source returned 2.5 series: a count of series is a whole number`,
			want:        []answersResult{{"series", `{service="api"}`, Error, 2.5, "whole number"}, {"series", `{service="web"}`, Pass, 7, ""}},
		},
		{
			name: "cardinality with a label not in by", budget: cardBy,
			answers:     map[string]model.Vector{cardByQ: {sample(3, "service", "api", "job", "api")}},
			wantMessage: `prometheus: the answer to count by (service) ({job="api"}) holds a series with the label "job", which the query (by (service)) cannot produce: it is not the answer to this query`,
		},
		{
			name: "cardinality without by answered with labels", budget: card,
			answers:     map[string]model.Vector{cardQ: {sample(3, "level", "error", "service", "api")}},
			wantMessage: `prometheus: the answer to count({job="api"}) holds a series with the labels "level", "service", which the query (without by) cannot produce: it is not the answer to this query`,
		},
		{
			name: "log_volume negative", budget: vol,
			answers:     map[string]model.Vector{volQ: {sample(-3, "service", "api")}},
			wantMessage: `bytes_per_1h{service="api"}: the source returned -3 bytes: a number of bytes cannot be negative`,
			want:        []answersResult{{"bytes_per_1h", `{service="api"}`, Error, -3, "cannot be negative"}},
		},
		{
			name: "log_volume with a label not in by", budget: vol,
			answers:     map[string]model.Vector{volQ: {sample(3, "service", "api", "level", "error")}},
			wantMessage: `loki: the answer to ` + volQ + ` holds a series with the label "level", which the query (by (service)) cannot produce: it is not the answer to this query`,
		},
		{
			name: "log_redaction negative", budget: redaction,
			answers:     map[string]model.Vector{jwtQ: {sample(-3)}},
			wantMessage: "jwt: the source returned -3 lines: a count of lines cannot be negative",
			want:        []answersResult{{"jwt", "", Error, -3, "cannot be negative"}},
		},
		{
			name: "log_redaction not whole", budget: redaction,
			answers:     map[string]model.Vector{jwtQ: {sample(0.5)}},
			wantMessage: "jwt: the source returned 0.5 lines: a count of lines is a whole number",
			want:        []answersResult{{"jwt", "", Error, 0.5, "whole number"}},
		},
		{
			name: "log_redaction sum answered with labels", budget: redaction,
			answers:     map[string]model.Vector{jwtQ: {sample(0, "level", "error", "service", "api")}},
			wantMessage: `loki: the answer to ` + shortQuery(jwtQ) + ` holds a series with the labels "level", "service", which the query (without by) cannot produce: it is not the answer to this query`,
		},
		{
			name: "log_redaction total answered with labels", budget: redaction,
			answers:     map[string]model.Vector{jwtQ: {}, redTotalQ: {sample(10, "service", "api")}},
			wantMessage: `loki: the answer to ` + redTotalQ + ` holds a series with the label "service", which the query (without by) cannot produce: it is not the answer to this query`,
		},
		{
			name: "log_levels negative counts", budget: levels,
			answers: map[string]model.Vector{levelsQ: {
				sample(-3, "service", "api", "level", "error"),
				sample(5, "service", "api", "level", "info"),
			}},
			want: []answersResult{
				{"INFO", `{service="api"}`, Error, nan, "the source returned -3 lines at level ERROR: a count of lines cannot be negative"},
				{"ERROR", `{service="api"}`, Error, nan, "the source returned -3 lines at level ERROR: a count of lines cannot be negative"},
			},
		},
		{
			name: "log_levels json: levels above the total", budget: jsonLevels,
			answers: map[string]model.Vector{
				jsonLevelsQ: {sample(50, "service", "api", "level", "info"), sample(1, "service", "api", "level", "error")},
				jsonTotalQ:  {sample(10, "service", "api")},
			},
			want: []answersResult{
				{"INFO", `{service="api"}`, Error, nan, "the source returned 51 lines with a level but 10 lines in all: the levels cannot count more lines than the total"},
				{"ERROR", `{service="api"}`, Error, nan, "the source returned 51 lines with a level but 10 lines in all"},
			},
		},
		{
			name: "log_levels json: negative total", budget: jsonLevels,
			answers: map[string]model.Vector{
				jsonLevelsQ: {sample(0, "service", "api", "level", "info")},
				jsonTotalQ:  {sample(-3, "service", "api")},
			},
			want: []answersResult{
				{"INFO", `{service="api"}`, Error, nan, "the source returned -3 lines in all: a count of lines cannot be negative"},
				{"ERROR", `{service="api"}`, Error, nan, "the source returned -3 lines in all"},
			},
		},
		{
			name: "log_levels with a label not in by", budget: levels,
			answers:     map[string]model.Vector{levelsQ: {sample(5, "service", "api", "level", "info", "pod", "p1")}},
			wantMessage: `loki: the answer to ` + levelsQ + ` holds a series with the label "pod", which the query (by (service, level)) cannot produce: it is not the answer to this query`,
		},
		{
			// Not impossible: the parser could not read 4 of 10 lines.
			name: "log_levels json: levels below the total", budget: jsonLevels,
			answers: map[string]model.Vector{
				jsonLevelsQ: {sample(5, "service", "api", "level", "info"), sample(1, "service", "api", "level", "error")},
				jsonTotalQ:  {sample(10, "service", "api")},
			},
			wantPass: true,
			want: []answersResult{
				{"INFO", `{service="api"}`, Pass, 0.5, ""},
				{"ERROR", `{service="api"}`, Pass, 0.1, ""},
				{"UNKNOWN", `{service="api"}`, Pass, 0.4, ""},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadOne(t, tt.budget)
			f := &fakeProm{t: t, answers: tt.answers}
			out, _ := Run(context.Background(), plan, Env{Prometheus: f, Loki: f, At: time.Unix(1795694407, 0)}, 1, time.Now)
			o := out[0]
			wantStatus := Error
			if tt.wantPass {
				wantStatus = Pass
			}
			if o.Status != wantStatus {
				t.Errorf("status = %s, want %s (message %q)", o.Status, wantStatus, o.Message)
			}
			if tt.wantMessage != "" && o.Message != tt.wantMessage {
				t.Errorf("message\n%s\nwant\n%s", o.Message, tt.wantMessage)
			}
			if tt.want == nil {
				if o.Err == nil || o.Err.Kind != "bad_response" || len(o.Results) != 0 {
					t.Errorf("err %+v, %d results; want a bad_response error and no results", o.Err, len(o.Results))
				}
				return
			}
			if len(o.Results) != len(tt.want) {
				t.Fatalf("%d results, want %d: %+v", len(o.Results), len(tt.want), o.Results)
			}
			for i, w := range tt.want {
				r := o.Results[i]
				if r.Subject != w.subject || FormatLabels(r.Labels) != w.labels || r.Status != w.status {
					t.Errorf("result %d = %s%s %s, want %s%s %s", i, r.Subject, FormatLabels(r.Labels), r.Status, w.subject, w.labels, w.status)
				}
				if r.Value == nil || !(*r.Value == w.value || math.IsNaN(w.value) && math.IsNaN(*r.Value) || math.Abs(*r.Value-w.value) < 1e-12) {
					t.Errorf("result %d value = %v, want %v", i, r.Value, w.value)
				}
				if w.note != "" && !strings.Contains(r.Note, w.note) {
					t.Errorf("result %d note = %q, want it to contain %q", i, r.Note, w.note)
				}
			}
		})
	}
}

// TestHostileEndpointFarOverMaxBytes: an endpoint whose body is far over
// max_bytes fails the budget (exit 1) once reading is past the limit; it
// used to read 1 GiB and then end in "response too large" (exit 3). A
// series limit, which needs the whole body, cannot be judged and says so.
func TestHostileEndpointFarOverMaxBytes(t *testing.T) {
	chunk := strings.Repeat("x_total 1\n", 3277)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		for range (1 << 30) / len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	client, err := endpoint.New(nil, endpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	budget := "- name: big\n  type: endpoint\n  url: " + srv.URL + "/metrics\n  max_bytes: 1MB\n"
	for _, tt := range []struct {
		name, extra, message, results string
	}{
		{name: "max_bytes only",
			message: "bytes 1.01 MB > 1 MB (the body is larger: reading stopped there, past max_bytes)",
			results: "bytes 1.01 MB > 1 MB fail"},
		{name: "max_series too", extra: "  max_series: 100\n",
			message: "bytes 16.78 MB > 1 MB (the body is larger: reading stopped there, past max_bytes) (and 1 more not passing)",
			results: "bytes 16.78 MB > 1 MB fail\nseries: not counted: reading stopped after 16.78 MB, past max_bytes (on_missing: fail) fail"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := runEndpoint(t, budget+tt.extra, client)
			if o.Status != Fail || o.Message != tt.message {
				t.Errorf("%s %q, want fail %q (err %+v)", o.Status, o.Message, tt.message, o.Err)
			}
			if got := describeAll(o.Results); got != tt.results {
				t.Errorf("results\n%s\nwant\n%s", got, tt.results)
			}
		})
	}
}
