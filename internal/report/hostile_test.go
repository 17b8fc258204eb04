package report

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/sources"
)

// answeringProm answers PromQL queries from a map and, like the live client
// when Prometheus sends "warnings", adds its warnings to the context.
type answeringProm struct {
	t        *testing.T
	answers  map[string]model.Vector
	warnings map[string][]string
}

func (p *answeringProm) Query(ctx context.Context, q string, _ time.Time) (model.Vector, error) {
	v, ok := p.answers[q]
	if !ok {
		p.t.Errorf("unexpected query %q", q)
		return nil, sources.Errorf(sources.BadQuery, "fake", "unexpected query")
	}
	sources.AddWarnings(ctx, "prometheus", p.warnings[q]...)
	return v, nil
}

// hostileRun loads budgetsYAML, runs it against prom with checks.Run and
// returns the finished run, as `check` builds it.
func hostileRun(t *testing.T, budgetsYAML string, prom *answeringProm) *Run {
	t.Helper()
	path := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(path, []byte(budgetsYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	_, plan, err := checks.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := checks.Run(context.Background(), plan, checks.Env{Prometheus: prom, At: time.Unix(1795694407, 0)}, 1, time.Now)
	run := &Run{ToolName: "secflow-budget", Version: "dev", Mode: "live", Outcomes: out, FailOn: checks.Fail}
	for _, o := range out {
		run.Status = max(run.Status, o.Status)
	}
	return run
}

const (
	sevLatencyQ99    = `histogram_quantile(0.99, sum by (le) (rate(secflow_task_duration_seconds_bucket{job="worker"}[1h])))`
	sevLatencyBucket = `sum by (le) (increase(secflow_task_duration_seconds_bucket{job="worker"}[1h]))`
	sevCardQ         = `count({__name__=~"secflow_.*"})`
	sevCardTopQ      = `topk(5, count by (__name__) ({__name__=~"secflow_.*"}))`
)

const severityBudgets = `version: 1
budgets:
  - name: task-duration
    type: latency
    severity: warning
    histogram: secflow_task_duration_seconds
    selector: '{job="worker"}'
    window: 1h
    percentiles: {p99: 600s}
  - name: series-cardinality
    type: cardinality
    severity: warning
    selector: '{__name__=~"secflow_.*"}'
    max: 10000
`

func severityProm(t *testing.T) *answeringProm {
	le := func(le string, n float64) *model.Sample {
		return &model.Sample{Metric: model.Metric{"le": model.LabelValue(le)}, Value: model.SampleValue(n)}
	}
	return &answeringProm{t: t, answers: map[string]model.Vector{
		sevLatencyQ99:    {{Metric: model.Metric{}, Value: 769.7}},
		sevLatencyBucket: {le("300", 900), le("600", 950), le("1200", 1000), le("+Inf", 1000)},
		sevCardQ:         {{Metric: model.Metric{}, Value: 10388}},
		sevCardTopQ:      {{Metric: model.Metric{"__name__": "secflow_requests_total"}, Value: 10388}},
	}}
}

// TestHostileSeverityWarningEveryFormat: budgets with severity: warning
// that break their limits are shown with the true operator, followed by
// the fact that their severity makes them warnings, in the message and in
// every report format; never as "769.7s <= 600s" (issue 7, item 4).
func TestHostileSeverityWarningEveryFormat(t *testing.T) {
	run := hostileRun(t, severityBudgets, severityProm(t))
	wantMessages := map[string]string{
		"task-duration":      "p99 769.7s > 600s (severity: warning)",
		"series-cardinality": "series 10,388 > 10,000 (severity: warning)",
	}
	for _, o := range run.Outcomes {
		if o.Status != checks.Warn || o.Message != wantMessages[o.Name] {
			t.Errorf("%s: %s %q, want warn %q", o.Name, o.Status, o.Message, wantMessages[o.Name])
		}
	}
	run.ExitCode = 0
	// What a false comparison would look like in any format and symbol set.
	lies := []string{"769.7s <= 600s", "769.7s ≤ 600s", "769.7 <= 600s", "769.7 ≤ 600s",
		"10,388 <= 10,000", "10,388 ≤ 10,000", "10,388 series <= 10,000"}
	for _, tc := range []struct {
		format string
		opts   Options
		want   []string
	}{
		{"console", Options{Emoji: true}, []string{
			"task-duration       p99 769.7s > 600s (severity: warning)",
			"p99 769.7s > 600s, 28% over (bucket 600s–1200s, 1,000 observations)",
			"series-cardinality  series 10,388 > 10,000 (severity: warning)",
			"series 10,388 > 10,000, 3.9% over",
			"severity warning: a violation only warns",
		}},
		{"console", Options{Emoji: false}, []string{
			"[WARN] task-duration       p99 769.7s > 600s (severity: warning)",
			"[WARN] series-cardinality  series 10,388 > 10,000 (severity: warning)",
		}},
		{"markdown", Options{Emoji: true}, []string{
			"| ⚠️ | `task-duration` | p99 769.7s > 600s (severity: warning) |",
			"| ⚠️ | `series-cardinality` | series 10,388 > 10,000 (severity: warning) |",
			"- ⚠️ `p99` 769.7s > 600s, 28% over",
			"Severity warning: a violation only warns",
		}},
		{"github", Options{Emoji: true}, []string{
			"title=secflow-budget%3A task-duration::p99 769.7s > 600s (severity: warning)%0A",
			"title=secflow-budget%3A series-cardinality::series 10,388 > 10,000 (severity: warning)%0A",
		}},
		{"junit", Options{Emoji: true}, nil}, // parsed below
		{"json", Options{}, nil},             // parsed below
	} {
		t.Run(tc.format, func(t *testing.T) {
			out := render(t, tc.format, run, tc.opts)
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("%s report lacks %q:\n%s", tc.format, w, out)
				}
			}
			for _, lie := range lies {
				if strings.Contains(out, lie) {
					t.Errorf("%s report says %q, a false comparison:\n%s", tc.format, lie, out)
				}
			}
			switch tc.format {
			case "json":
				var doc struct {
					Budgets []struct {
						Name, Status, Message string
						Results               []map[string]any
					}
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatal(err)
				}
				for _, b := range doc.Budgets {
					if b.Status != "warn" || b.Message != wantMessages[b.Name] {
						t.Errorf("JSON %s: %s %q, want warn %q", b.Name, b.Status, b.Message, wantMessages[b.Name])
					}
				}
			case "junit":
				var doc struct {
					Suites []struct {
						Cases []struct {
							Name      string    `xml:"name,attr"`
							Failure   *struct{} `xml:"failure"`
							SystemOut string    `xml:"system-out"`
						} `xml:"testcase"`
					} `xml:"testsuite"`
				}
				if err := xml.Unmarshal([]byte(out), &doc); err != nil {
					t.Fatal(err)
				}
				for _, c := range doc.Suites[0].Cases {
					want := "warning: " + wantMessages[c.Name] + "\n"
					if c.Failure != nil || !strings.HasPrefix(c.SystemOut, want) || !strings.Contains(c.SystemOut, "severity warning: a violation only warns") {
						t.Errorf("JUnit %s: failure %v, system-out %q, want it to start %q", c.Name, c.Failure != nil, c.SystemOut, want)
					}
				}
			}
		})
	}
}

// TestHostilePrometheusWarningsInReports: Prometheus' warnings reach the
// budget's notes in every format and its "warnings" in the JSON report
// (issue 7, item 2); a budget without warnings has no "warnings" key.
func TestHostilePrometheusWarningsInReports(t *testing.T) {
	prom := severityProm(t)
	prom.warnings = map[string][]string{
		sevCardQ: {"remote store eu-1 did not answer: partial data"},
	}
	run := hostileRun(t, severityBudgets, prom)
	const note = "warning from prometheus: remote store eu-1 did not answer: partial data (the answer may be partial data)"
	card := run.Outcomes[1]
	if card.Name != "series-cardinality" || len(card.Warnings) != 1 || card.Warnings[0] != "prometheus: remote store eu-1 did not answer: partial data" {
		t.Fatalf("%s warnings = %q", card.Name, card.Warnings)
	}
	if len(card.Notes) != 1 || card.Notes[0] != note {
		t.Errorf("notes = %q, want %q", card.Notes, note)
	}
	if len(run.Outcomes[0].Warnings) != 0 {
		t.Errorf("task-duration got warnings it was not sent: %q", run.Outcomes[0].Warnings)
	}
	for _, format := range Formats {
		if format == "openmetrics" {
			continue // numbers only: no place for notes
		}
		out := render(t, format, run, Options{Emoji: true})
		want := note
		if format == "markdown" {
			want = mdText(note)
		}
		if format == "github" {
			want = escapeGitHubData(note)
		}
		if !strings.Contains(out, want) {
			t.Errorf("%s report lacks the warning note %q:\n%s", format, want, out)
		}
	}
	var doc struct {
		Budgets []map[string]json.RawMessage
	}
	if err := json.Unmarshal([]byte(render(t, "json", run, Options{})), &doc); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	if err := json.Unmarshal(doc.Budgets[1]["warnings"], &warnings); err != nil || len(warnings) != 1 || warnings[0] != "prometheus: remote store eu-1 did not answer: partial data" {
		t.Errorf("JSON warnings = %s (%v)", doc.Budgets[1]["warnings"], err)
	}
	if _, ok := doc.Budgets[0]["warnings"]; ok {
		t.Errorf("JSON budget without warnings has a warnings key")
	}
}

// TestHostileConsoleControlCharacters: a snapshot directory, category or
// budget name holding an escape sequence or a line break cannot drive the
// terminal or break the console's lines (found by FuzzConsoleReport).
func TestHostileConsoleControlCharacters(t *testing.T) {
	run := &Run{ToolName: "secflow-budget", Mode: "offline", Target: "snap\x1b[2J\nFAKE LINE",
		Outcomes: []checks.Outcome{{Name: "q\x1b]0;title\x07", Category: "cat\x1b[31m\nx", Status: checks.Pass, Message: "ok"}}}
	for _, emoji := range []bool{true, false} {
		out := render(t, "console", run, Options{Emoji: emoji})
		if strings.ContainsAny(out, "\x1b\x07") || strings.Contains(out, "\nFAKE LINE") || strings.Contains(out, "\nx") {
			t.Errorf("console output carries control characters or broken lines:\n%q", out)
		}
	}
}

// TestHostileBucketBoundsReported: the bucket of a percentile that lands
// exactly on a bound, and of one in the +Inf bucket, as every report
// shows it (issue 7, item 23; the checks' own test pins the numbers).
func TestHostileBucketBoundsReported(t *testing.T) {
	const q95 = `histogram_quantile(0.95, sum by (le) (rate(secflow_task_duration_seconds_bucket{job="worker"}[1h])))`
	le := func(le string, n float64) *model.Sample {
		return &model.Sample{Metric: model.Metric{"le": model.LabelValue(le)}, Value: model.SampleValue(n)}
	}
	prom := &answeringProm{t: t, answers: map[string]model.Vector{
		// 95% at le=240: p95 = 240 in (120, 240]; 98% at le=600: p99 in +Inf.
		q95:              {{Metric: model.Metric{}, Value: 240}},
		sevLatencyQ99:    {{Metric: model.Metric{}, Value: 600}},
		sevLatencyBucket: {le("60", 100), le("120", 500), le("240", 950), le("300", 960), le("600", 980), le("+Inf", 1000)},
	}}
	run := hostileRun(t, `version: 1
budgets:
  - name: task-duration
    type: latency
    histogram: secflow_task_duration_seconds
    selector: '{job="worker"}'
    window: 1h
    percentiles: {p95: 300s, p99: 600s}
`, prom)
	const mayBeLarger = "the percentile falls in the +Inf bucket: histogram_quantile reports the highest finite bound, the true value may be larger"
	out := render(t, "console", run, Options{Emoji: true})
	for _, w := range []string{
		"p95 240s ≤ 300s, 20% headroom (bucket 120s–240s, 1,000 observations)",
		"p99 600s ≤ 600s, 0% headroom (bucket > 600s, 1,000 observations); " + mayBeLarger,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("console lacks %q:\n%s", w, out)
		}
	}
	var doc struct {
		Budgets []struct{ Results []map[string]any }
	}
	if err := json.Unmarshal([]byte(render(t, "json", run, Options{})), &doc); err != nil {
		t.Fatal(err)
	}
	rs := doc.Budgets[0].Results
	if rs[0]["bucket_lower"] != 120.0 || rs[0]["bucket_upper"] != 240.0 || rs[0]["note"] != nil {
		t.Errorf("p95 JSON = %v, want bucket 120–240, no note", rs[0])
	}
	if rs[1]["bucket_lower"] != 600.0 || rs[1]["bucket_upper"] != "+Inf" || rs[1]["note"] != mayBeLarger {
		t.Errorf("p99 JSON = %v, want bucket 600–+Inf and the note", rs[1])
	}
}
