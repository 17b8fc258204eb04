package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/lokitest"
)

// Hostile verdicts, end to end (issue 7, items 1, 2, 4 and 22): values a
// source should never send, warnings beside an answer, warning-severity
// budgets and every spelling of a log level, through the built binary.

const verdictsAt = "2026-11-26T12:00:07Z"

// verdictsAtNS is verdictsAt in Unix nanoseconds.
const verdictsAtNS int64 = 1795694407_000_000_000

func verdictsJSON(t *testing.T, r result) hostileReport {
	t.Helper()
	var rep hostileReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("invalid JSON report: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
	}
	return rep
}

func verdictsWrite(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// verdictsSnapshot makes a snapshot directory, snap, evaluated at
// verdictsAt, inside a fresh directory, dir, for the budgets file.
func verdictsSnapshot(t *testing.T) (dir, snap string) {
	t.Helper()
	dir = t.TempDir()
	snap = filepath.Join(dir, "snap")
	if err := os.Mkdir(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	verdictsWrite(t, snap, "manifest.yaml", "version: 1\nevaluated_at: "+verdictsAt+"\n")
	return dir, snap
}

// verdictsLevels is SPEC.md's level table: every spelling of each level.
var verdictsLevels = []struct {
	level     string
	spellings []string
}{
	{"DEBUG", []string{"debug", "dbug", "trace"}},
	{"INFO", []string{"info", "information", "informational", "notice"}},
	{"WARNING", []string{"warn", "warning"}},
	{"ERROR", []string{"err", "error", "eror"}},
	{"CRITICAL", []string{"crit", "critical", "fatal", "panic", "alert", "emerg", "emergency"}},
}

// verdictsCaseForms are the case forms every spelling is logged in.
var verdictsCaseForms = []struct {
	name string
	f    func(string) string
}{
	{"lower", strings.ToLower},
	{"upper", strings.ToUpper},
	{"title", func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }},
}

// verdictsLevelService is one service that logs one spelling in one case
// form: one line at that level and one line without a level (UNKNOWN).
type verdictsLevelService struct {
	service, logged, level string
}

func verdictsLevelServices() []verdictsLevelService {
	var out []verdictsLevelService
	for _, l := range verdictsLevels {
		for _, s := range l.spellings {
			for _, c := range verdictsCaseForms {
				out = append(out, verdictsLevelService{service: l.level + "-" + s + "-" + c.name, logged: c.f(s), level: l.level})
			}
		}
	}
	return out
}

// TestHostileLevelAliases logs every spelling of SPEC.md's level table in
// lower, UPPER and Title case, as a stream label and as a JSON field, and
// checks log_levels offline and live (Loki test server): each spelling
// must count as its level. With a 40% limit per level and half of each
// service's lines at the spelled level, each spelling fails exactly its
// own level's budget, so dropping one spelling from the table (say `warn`
// from WARNING) turns a failing result into a passing one and fails this
// test (issue 7, item 22).
func TestHostileLevelAliases(t *testing.T) {
	services := verdictsLevelServices()
	if len(services) != 19*3 {
		t.Fatalf("%d services, want 57: the level table changed, update SPEC.md and this test together", len(services))
	}
	dir, snap := verdictsSnapshot(t)
	var logs strings.Builder
	entry := func(offsetSec int, labels map[string]string, line string) {
		lb, _ := json.Marshal(labels)
		ln, _ := json.Marshal(line)
		fmt.Fprintf(&logs, `{"ts":"%d","labels":%s,"line":%s}`+"\n", verdictsAtNS-int64(offsetSec)*1e9, lb, ln)
	}
	for i, s := range services {
		entry(60+i, map[string]string{"env": "hostile", "mode": "label", "service": s.service, "level": s.logged}, "leveled line")
		entry(61+i, map[string]string{"env": "hostile", "mode": "label", "service": s.service}, "line without a level")
		entry(60+i, map[string]string{"env": "hostile", "mode": "json", "service": s.service}, `{"level":"`+s.logged+`","msg":"leveled line"}`)
		entry(61+i, map[string]string{"env": "hostile", "mode": "json", "service": s.service}, `{"msg":"line without a level"}`)
	}
	logsPath := verdictsWrite(t, snap, "logs.jsonl", logs.String())

	var budgets strings.Builder
	budgets.WriteString("version: 1\nbudgets:\n")
	for _, l := range verdictsLevels {
		name := strings.ToLower(l.level)
		fmt.Fprintf(&budgets, "  - name: label-%s\n    type: log_levels\n    selector: '{env=\"hostile\", mode=\"label\"}'\n    by: [service]\n    max_share: {%s: 40%%}\n", name, l.level)
		fmt.Fprintf(&budgets, "  - name: json-%s\n    type: log_levels\n    selector: '{env=\"hostile\", mode=\"json\"}'\n    by: [service]\n    parser: json\n    level_field: level\n    max_share: {%s: 40%%}\n", name, l.level)
	}
	cfg := verdictsWrite(t, dir, "budgets.yaml", budgets.String())

	loki := lokitest.Start(t, lokitest.WithJSONL(logsPath))
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"offline", []string{"--offline", snap}},
		{"live", []string{"--loki", loki.URL, "--at", verdictsAt}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			r := run(t, nil, append([]string{"check", "-c", cfg, "--format", "json"}, mode.args...)...)
			expectCode(t, r, 1)
			rep := verdictsJSON(t, r)
			if len(rep.Budgets) != 2*len(verdictsLevels) {
				t.Fatalf("%d budgets, want %d", len(rep.Budgets), 2*len(verdictsLevels))
			}
			for _, b := range rep.Budgets {
				_, limited, _ := strings.Cut(b.Name, "-")
				limited = strings.ToUpper(limited)
				if b.Status != "fail" {
					t.Errorf("%s: %s (%s), want fail: every level has spellings logged at 50%%", b.Name, b.Status, b.Message)
				}
				// Index the results by service and level.
				got := map[[2]string]map[string]any{}
				for _, res := range b.Results {
					labels, _ := res["labels"].(map[string]any)
					svc, _ := labels["service"].(string)
					got[[2]string{svc, res["subject"].(string)}] = res
				}
				for _, s := range services {
					// The level of the spelling: half the lines.
					lv := got[[2]string{s.service, s.level}]
					if lv == nil || lv["value"] != 0.5 || lv["count"] != 1.0 || lv["total"] != 2.0 {
						t.Errorf("%s: %s logs %q: %s result %v, want share 0.5 (1 of 2 lines): %q must count as %s",
							b.Name, s.service, s.logged, s.level, lv, s.logged, s.level)
						continue
					}
					wantStatus := "pass"
					if s.level == limited {
						wantStatus = "fail"
					}
					if lv["status"] != wantStatus {
						t.Errorf("%s: %s %s status %v, want %s", b.Name, s.service, s.level, lv["status"], wantStatus)
					}
					// The line without a level: the other half.
					if u := got[[2]string{s.service, "UNKNOWN"}]; u == nil || u["value"] != 0.5 {
						t.Errorf("%s: %s UNKNOWN result %v, want share 0.5", b.Name, s.service, u)
					}
					// The limited level, when it is not the spelling's: 0.
					if s.level != limited {
						if other := got[[2]string{s.service, limited}]; other == nil || other["value"] != 0.0 || other["status"] != "pass" {
							t.Errorf("%s: %s %s result %v, want share 0, pass", b.Name, s.service, limited, other)
						}
					}
				}
				// Services of the limited level have two results (it and
				// UNKNOWN), the others three (theirs, UNKNOWN, the limited).
				atLimited := 0
				for _, s := range services {
					if s.level == limited {
						atLimited++
					}
				}
				if want := 2*atLimited + 3*(len(services)-atLimited); len(b.Results) != want {
					t.Errorf("%s: %d results, want %d", b.Name, len(b.Results), want)
				}
			}
		})
	}
}

// verdictsSource is a fake Prometheus and Loki in one server: each query
// is answered from answers (by query text) with the given sample value,
// warnings attached to the Prometheus answer when set. A query it does
// not know fails the test.
type verdictsSource struct {
	t        *testing.T
	answers  map[string]string // query → sample value as Prometheus writes it ("NaN", "+Inf", "12")
	warnings []string
}

func (s *verdictsSource) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if vmEngineProbe(w, r) {
		return
	}
	_ = r.ParseForm()
	q := r.Form.Get("query")
	v, ok := s.answers[q]
	if !ok {
		s.t.Errorf("unexpected query %q to %s", q, r.URL.Path)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"status":"error","errorType":"bad_data","error":"unexpected query"}`)
		return
	}
	// An aggregation answers with its `by` labels and no other (a plain
	// sum with labels is not the answer to the query, and is refused).
	metric := map[string]string{}
	if strings.Contains(q, "by (service") {
		metric["service"] = "api"
	}
	env := map[string]any{
		"status": "success",
		"data": map[string]any{"resultType": "vector", "result": []any{
			map[string]any{"metric": metric, "value": []any{1795694407, v}},
		}},
	}
	if len(s.warnings) > 0 && !strings.HasPrefix(r.URL.Path, "/loki/") {
		env["warnings"] = s.warnings
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(env)
}

const verdictsSourceBudgets = `version: 1
sources:
  prometheus: {url: %[1]s}
  loki: {url: %[1]s}
budgets:
  - name: ratio
    type: metric
    expr: sum by (service) (rate(errors_total[5m])) / sum by (service) (rate(requests_total[5m]))
    max: 0.02
  - name: series
    type: cardinality
    selector: '{job="api"}'
    by: [service]
    max: 10000
  - name: volume
    type: log_volume
    selector: '{env="prod"}'
    max: 100MB
  - name: levels
    type: log_levels
    selector: '{env="prod"}'
    max_share: {ERROR: 10%%}
  - name: secrets
    type: log_redaction
    selector: '{env="prod"}'
    presets: [aws_access_key]
`

// verdictsSourceQueries are the queries of verdictsSourceBudgets.
var verdictsSourceQueries = []string{
	`sum by (service) (rate(errors_total[5m])) / sum by (service) (rate(requests_total[5m]))`,
	`count by (service) ({job="api"})`,
	`sum by (service) (bytes_over_time({env="prod"}[1h]))`,
	`sum by (service, level) (count_over_time({env="prod"}[1h]))`,
	"sum(count_over_time({env=\"prod\"} |~ `AKIA[0-9A-Z]{16}` [1h]))",
}

// TestHostileNonFiniteLive: a live Prometheus and Loki that answer NaN,
// +Inf or -Inf for every query. NaN is an error for every budget type
// (exit 3), never a pass; +Inf breaks every max (exit 1); -Inf is honestly
// within a max. A count of log lines is never infinite: log_levels cannot
// compute a share from one and says so (issue 7, item 1).
func TestHostileNonFiniteLive(t *testing.T) {
	type want struct{ status, result string } // the budget's, and each of its results'
	for _, tc := range []struct {
		value  string
		code   int
		status map[string]want
	}{
		{"NaN", 3, map[string]want{"ratio": {"error", "error"}, "series": {"error", "error"}, "volume": {"error", "error"}, "levels": {"error", "error"}, "secrets": {"error", "error"}}},
		{"+Inf", 1, map[string]want{"ratio": {"fail", "fail"}, "series": {"fail", "fail"}, "volume": {"fail", "fail"}, "levels": {"error", "error"}, "secrets": {"fail", "fail"}}},
		// A count of series or lines, or a number of bytes, is never
		// negative: -Inf is an impossible answer there.
		{"-Inf", 3, map[string]want{"ratio": {"pass", "pass"}, "series": {"error", "error"}, "volume": {"error", "error"}, "levels": {"error", "error"}, "secrets": {"error", "error"}}},
	} {
		t.Run(tc.value, func(t *testing.T) {
			src := &verdictsSource{t: t, answers: map[string]string{}}
			for _, q := range verdictsSourceQueries {
				src.answers[q] = tc.value
			}
			srv := httptest.NewServer(src)
			defer srv.Close()
			cfg := verdictsWrite(t, t.TempDir(), "budgets.yaml", fmt.Sprintf(verdictsSourceBudgets, srv.URL))
			r := run(t, nil, "check", "-c", cfg, "--at", verdictsAt, "--format", "json")
			expectCode(t, r, tc.code)
			rep := verdictsJSON(t, r)
			if len(rep.Budgets) != 5 {
				t.Fatalf("%d budgets, want 5", len(rep.Budgets))
			}
			for _, b := range rep.Budgets {
				w := tc.status[b.Name]
				if b.Status != w.status {
					t.Errorf("%s: %s %q, want %s", b.Name, b.Status, b.Message, w.status)
				}
				if w.status == "error" && (!strings.Contains(b.Message, "the source returned") || !strings.Contains(b.Message, tc.value)) {
					t.Errorf("%s: message %q does not say the source returned %s", b.Name, b.Message, tc.value)
				}
				if len(b.Results) == 0 {
					t.Errorf("%s: no results", b.Name)
				}
				for _, res := range b.Results {
					if res["status"] != w.result {
						t.Errorf("%s %v: result %v, want %s", b.Name, res["subject"], res, w.result)
					}
					if w.result == "error" {
						// A share of impossible counts is NaN; an impossible
						// count is kept as sent.
						if (res["value"] != "NaN" && res["value"] != tc.value) || !strings.Contains(fmt.Sprint(res["note"]), "the source returned") {
							t.Errorf("%s %v: value %v note %v, want \"NaN\" or %q and a note", b.Name, res["subject"], res["value"], res["note"], tc.value)
						}
					}
				}
			}
		})
	}
}

// TestHostileNaNOffline: NaN samples in a snapshot's metrics.om, and a
// 0/0 ratio, are errors (exit 3), never within limits, whatever on_missing
// says (issue 7, item 1).
func TestHostileNaNOffline(t *testing.T) {
	dir, snap := verdictsSnapshot(t)
	at := strconv.FormatInt(verdictsAtNS/1e9, 10)
	verdictsWrite(t, snap, "metrics.om", "# TYPE queue_depth gauge\n"+
		`queue_depth{queue="a"} NaN `+at+"\n"+
		`queue_depth{queue="b"} 3 `+at+"\n"+
		"# TYPE idle gauge\n"+
		`idle 0 `+at+"\n"+
		"# EOF\n")
	cfg := verdictsWrite(t, dir, "budgets.yaml", `version: 1
budgets:
  - name: queue-depth
    type: metric
    expr: queue_depth
    max: 100
    on_missing: pass
  - name: idle-ratio
    type: metric
    expr: idle / idle
    min: 0.5
    on_missing: skip
`)
	r := run(t, nil, "check", "-c", cfg, "--offline", snap, "--format", "json")
	expectCode(t, r, 3)
	rep := verdictsJSON(t, r)
	want := map[string]struct {
		status, message string
		results         []string // each result's status, in order
	}{
		"queue-depth": {"error", `{__name__="queue_depth", queue="a"}: the source returned NaN (not a number; a division by zero, e.g. no events in the window?): it cannot be judged against a limit`, []string{"error", "pass"}},
		"idle-ratio":  {"error", "the source returned NaN (not a number; a division by zero, e.g. no events in the window?): it cannot be judged against a limit", []string{"error"}},
	}
	for _, b := range rep.Budgets {
		w := want[b.Name]
		if b.Status != w.status || b.Message != w.message {
			t.Errorf("%s: %s %q, want %s %q", b.Name, b.Status, b.Message, w.status, w.message)
		}
		var got []string
		for _, res := range b.Results {
			got = append(got, fmt.Sprint(res["status"]))
			if res["status"] == "error" && res["value"] != "NaN" {
				t.Errorf("%s: error result value %v, want \"NaN\"", b.Name, res["value"])
			}
		}
		if strings.Join(got, ",") != strings.Join(w.results, ",") {
			t.Errorf("%s: result statuses %v, want %v", b.Name, got, w.results)
		}
	}
}

// TestHostilePrometheusWarnings: warnings in a Prometheus answer (partial
// data) appear in the budget's notes, in the console and in the JSON
// report's "warnings" (issue 7, item 2).
func TestHostilePrometheusWarnings(t *testing.T) {
	q := `count by (service) ({job="api"})`
	src := &verdictsSource{t: t, answers: map[string]string{q: "12"},
		warnings: []string{"remote store eu-1 did not answer: partial data", "query hit the series limit"}}
	srv := httptest.NewServer(src)
	defer srv.Close()
	cfg := verdictsWrite(t, t.TempDir(), "budgets.yaml", fmt.Sprintf(verdictsSourceBudgets, srv.URL))
	wantWarnings := []string{"prometheus: remote store eu-1 did not answer: partial data", "prometheus: query hit the series limit"}
	wantNotes := []string{
		"warning from prometheus: remote store eu-1 did not answer: partial data (the answer may be partial data)",
		"warning from prometheus: query hit the series limit (the answer may be partial data)",
	}

	r := run(t, nil, "check", "-c", cfg, "--only", "series", "--at", verdictsAt, "--format", "json")
	expectCode(t, r, 0)
	rep := verdictsJSON(t, r)
	if len(rep.Budgets) != 1 {
		t.Fatalf("%d budgets, want 1", len(rep.Budgets))
	}
	b := rep.Budgets[0]
	if b.Status != "pass" || strings.Join(b.Warnings, "\n") != strings.Join(wantWarnings, "\n") || strings.Join(b.Notes, "\n") != strings.Join(wantNotes, "\n") {
		t.Errorf("%s: %s, warnings %q, notes %q; want pass, warnings %q, notes %q", b.Name, b.Status, b.Warnings, b.Notes, wantWarnings, wantNotes)
	}

	r = run(t, nil, "check", "-c", cfg, "--only", "series", "--at", verdictsAt)
	expectCode(t, r, 0)
	for _, n := range wantNotes {
		if !strings.Contains(r.stdout, "note: "+n) {
			t.Errorf("console lacks %q:\n%s", "note: "+n, r.stdout)
		}
	}
}

// TestHostileSeverityWarningReports: on the degraded snapshot, budgets with
// severity: warning that break their limits (task p99 769.7s > 600s,
// 10,388 series > 10,000) are shown with the true operator followed by
// their severity in every format and in the JSON message; never as
// "769.7s <= 600s" (issue 7, item 4).
func TestHostileSeverityWarningReports(t *testing.T) {
	cfg := verdictsWrite(t, t.TempDir(), "budgets.yaml", `version: 1
budgets:
  - name: task-duration
    type: latency
    severity: warning
    histogram: secflow_task_duration_seconds
    percentiles: {p95: 300s, p99: 600s}
  - name: series-cardinality
    type: cardinality
    severity: warning
    selector: '{__name__=~"secflow_.*"}'
    max: 10000
`)
	lies := []string{"<= 600s", "≤ 600s", "10,388 <= 10,000", "10,388 ≤ 10,000"}
	wantP99 := "p99 769.7s > 600s"
	wantCard := "series 10,388 > 10,000 (severity: warning)"
	for _, tc := range []struct {
		format string
		check  func(t *testing.T, out string)
	}{
		{"console", func(t *testing.T, out string) {
			for _, w := range []string{"⚠️ task-duration", "⚠️ series-cardinality", wantCard, "severity warning: a violation only warns"} {
				if !strings.Contains(out, w) {
					t.Errorf("console lacks %q:\n%s", w, out)
				}
			}
		}},
		{"json", func(t *testing.T, out string) {
			rep := verdictsJSON(t, result{stdout: out})
			for _, b := range rep.Budgets {
				if b.Status != "warn" || !strings.HasSuffix(b.Message, " (severity: warning)") {
					t.Errorf("%s: %s %q, want warn, ending in (severity: warning)", b.Name, b.Status, b.Message)
				}
			}
			if rep.Budgets[1].Message != wantCard {
				t.Errorf("cardinality message %q, want %q", rep.Budgets[1].Message, wantCard)
			}
		}},
		{"junit", func(t *testing.T, out string) {
			var doc testsJUnitSuites
			if err := xml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("invalid JUnit XML: %v", err)
			}
			for _, c := range doc.Suites[0].Cases {
				if c.Failure != nil || !strings.HasPrefix(c.SystemOut, "warning: ") || !strings.Contains(c.SystemOut, " (severity: warning)\n") {
					t.Errorf("JUnit %s: failure %v, system-out %q", c.Name, c.Failure != nil, c.SystemOut)
				}
			}
		}},
		{"markdown", func(t *testing.T, out string) {
			if !strings.Contains(out, "| `series-cardinality` | "+wantCard+" |") {
				t.Errorf("markdown lacks the cardinality row:\n%s", out)
			}
		}},
		{"github", func(t *testing.T, out string) {
			if !strings.Contains(out, "::warning ") || !strings.Contains(out, "::"+wantCard+"%0A") {
				t.Errorf("github lacks the warning annotation:\n%s", out)
			}
		}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			r := run(t, nil, "check", "-c", cfg, "--offline", "testdata/snapshots/degraded", "--format", tc.format)
			expectCode(t, r, 0)
			if !strings.Contains(r.stdout, wantP99) {
				t.Errorf("%s report lacks %q:\n%s", tc.format, wantP99, r.stdout)
			}
			for _, lie := range lies {
				if strings.Contains(r.stdout, lie) {
					t.Errorf("%s report says %q, a false comparison:\n%s", tc.format, lie, r.stdout)
				}
			}
			tc.check(t, r.stdout)
		})
	}
}

// TestHostileAlertRulesSibling: offline, from rules.json as Prometheus
// answers it, a required alert whose own health is ok passes although a
// rule beside it in its group is broken; the broken rule is named in a
// note, and fails the budget that requires it (issue 7, item 5).
func TestHostileAlertRulesSibling(t *testing.T) {
	dir, snap := verdictsSnapshot(t)
	rule := func(name, health, lastError string) string {
		return `{"state":"inactive","name":"` + name + `","query":"vector(1) > 2","duration":0,"labels":{},"annotations":{},"alerts":[],` +
			`"health":"` + health + `","lastError":"` + lastError + `","evaluationTime":0.0001,"lastEvaluation":"2026-11-26T11:59:52Z","type":"alerting"}`
	}
	verdictsWrite(t, snap, "rules.json", `{"status":"success","data":{"groups":[{"name":"secflow-budgets","file":"/etc/prometheus/rules/b.yaml",`+
		`"rules":[`+rule("SecflowOK", "ok", "")+`,`+rule("SecflowBroken", "err", "many-to-many matching not allowed")+`],"interval":15}]}}`)
	verdictsWrite(t, snap, "alerts.json", `{"status":"success","data":{"alerts":[]}}`)
	cfg := verdictsWrite(t, dir, "budgets.yaml", `version: 1
budgets:
  - name: ok-alert
    type: alert_rules
    require: [SecflowOK]
  - name: broken-alert
    type: alert_rules
    require: [SecflowBroken]
`)
	r := run(t, nil, "check", "-c", cfg, "--offline", snap, "--format", "json")
	expectCode(t, r, 1)
	rep := verdictsJSON(t, r)
	if len(rep.Budgets) != 2 {
		t.Fatalf("%d budgets, want 2", len(rep.Budgets))
	}
	ok, broken := rep.Budgets[0], rep.Budgets[1]
	wantNote := "unhealthy rules beside the required alerts, which this budget does not require (they fail only a budget that requires them): group secflow-budgets: alert SecflowBroken: health err: many-to-many matching not allowed"
	if ok.Status != "pass" || ok.Message != "1 of 1 alert rules loaded and healthy, none firing" || len(ok.Notes) != 1 || ok.Notes[0] != wantNote {
		t.Errorf("ok-alert: %s %q notes %q; want pass with the note %q", ok.Status, ok.Message, ok.Notes, wantNote)
	}
	if len(ok.Results) != 1 || ok.Results[0]["health"] != "ok" || ok.Results[0]["status"] != "pass" {
		t.Errorf("ok-alert results %v", ok.Results)
	}
	if broken.Status != "fail" || broken.Message != "SecflowBroken unhealthy" || len(broken.Results) != 1 || broken.Results[0]["health"] != "err" {
		t.Errorf("broken-alert: %s %q %v, want fail, SecflowBroken unhealthy, health err", broken.Status, broken.Message, broken.Results)
	}
}
