package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/fatih/color"

	"github.com/secflow/secflow-budget/internal/checks"
)

func render(t *testing.T, format string, run *Run, opts Options) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, run, opts); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.String()
}

// edgeRun has what must not break the machine formats: no value, NaN and
// infinities, nil labels and lists, an extra that collides with a fixed key,
// and text full of characters each format escapes.
func edgeRun() *Run {
	return &Run{
		ToolName: "secflow-budget", Version: "dev", Mode: "live", Status: checks.Error, ExitCode: 3,
		Outcomes: []checks.Outcome{
			{
				Name: "queue-depth", Type: "metric", Category: "metrics", Severity: "error",
				Status: checks.Fail, Message: "100% full, a|b: <x> & \"y\"\nsecond line\r\n ]]> \x1b[31m",
				Results: []checks.Result{
					{Subject: "queue-depth", Value: nil, Limit: f(100), Op: "<=", Status: checks.Fail},
					{Subject: "queue-depth", Labels: map[string]string{"q": "a|b"}, Value: f(math.NaN()), Limit: f(math.Inf(1)),
						Op: "<=", WarnLimit: f(math.Inf(-1)), Status: checks.Fail,
						Extra: []checks.KV{kv("status", "shadowed"), kv("ratio", math.NaN()), kv("count", 3.0)}},
				},
			},
			{
				Name: "prom-down", Type: "metric", Category: "metrics", Status: checks.Error,
				Message: "query failed", Err: &checks.OutcomeError{Kind: "timeout", Message: "context deadline exceeded"},
			},
		},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	out := render(t, "json", sampleRun(), Options{})
	if !strings.HasSuffix(out, "}\n") {
		t.Errorf("JSON report does not end in one newline")
	}
	var doc struct {
		SchemaVersion int    `json:"schema_version"`
		Status        string `json:"status"`
		ExitCode      int    `json:"exit_code"`
		EvaluatedAt   string `json:"evaluated_at"`
		Summary       Summary
		Budgets       []map[string]any `json:"budgets"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	if doc.SchemaVersion != 1 || doc.Status != "fail" || doc.ExitCode != 1 {
		t.Errorf("schema_version/status/exit_code = %d/%s/%d", doc.SchemaVersion, doc.Status, doc.ExitCode)
	}
	if doc.EvaluatedAt != "2026-11-26T12:00:00Z" {
		t.Errorf("evaluated_at = %q, want RFC3339 in UTC", doc.EvaluatedAt)
	}
	if want := (Summary{Total: 10, Pass: 5, Warn: 1, Fail: 2, Error: 1, Skip: 1}); doc.Summary != want {
		t.Errorf("summary = %+v, want %+v", doc.Summary, want)
	}
	byName := map[string]map[string]any{}
	for _, b := range doc.Budgets {
		byName[b["name"].(string)] = b
	}
	// An error outcome: empty lists are lists, the error an object.
	ep := byName["metrics-endpoint"]
	if q, ok := ep["queries"].([]any); !ok || len(q) != 0 {
		t.Errorf("queries of metrics-endpoint = %#v, want []", ep["queries"])
	}
	if r, ok := ep["results"].([]any); !ok || len(r) != 0 {
		t.Errorf("results of metrics-endpoint = %#v, want []", ep["results"])
	}
	if e, ok := ep["error"].(map[string]any); !ok || e["kind"] != "unavailable" {
		t.Errorf("error of metrics-endpoint = %#v", ep["error"])
	}
	if _, ok := ep["description"]; ok {
		t.Errorf("empty description is not omitted")
	}
	if tags, ok := byName["prometheus-retention"]["tags"].([]any); !ok || len(tags) != 0 {
		t.Errorf("nil tags = %#v, want []", byName["prometheus-retention"]["tags"])
	}
	// Extras are keys of the result; +Inf is a string.
	p99 := byName["scan-duration"]["results"].([]any)[1].(map[string]any)
	if p99["bucket_upper"] != "+Inf" || p99["bucket_lower"] != 600.0 || p99["observations"] != 87.0 {
		t.Errorf("p99 extras = %v", p99)
	}
	if p99["op"] != "<=" || !strings.Contains(out, `"op": "<="`) {
		t.Errorf("op is %v; want <= written without HTML escaping", p99["op"])
	}
	// The passing budget has its error as null, not missing.
	if v, ok := byName["task-duration"]["error"]; !ok || v != nil {
		t.Errorf("error of a passing budget = %v (present %v), want null", v, ok)
	}
}

func TestJSONResultKeyOrder(t *testing.T) {
	out := render(t, "json", sampleRun(), Options{})
	keys := []string{`"subject"`, `"labels"`, `"value"`, `"unit"`, `"limit"`, `"op"`, `"warn_limit"`, `"status"`, `"bucket_lower"`, `"bucket_upper"`, `"observations"`}
	i := strings.Index(out, `"subject": "p95"`)
	rest := out[i:]
	last := -1
	for _, k := range keys {
		j := strings.Index(rest, k)
		if j < last {
			t.Fatalf("key %s out of order in:\n%s", k, rest[:400])
		}
		last = j
	}
}

func TestJSONEdgeValues(t *testing.T) {
	out := render(t, "json", edgeRun(), Options{})
	var doc struct {
		Budgets []struct {
			Results []map[string]any `json:"results"`
			Error   *checks.OutcomeError
		} `json:"budgets"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, out)
	}
	nodata, nan := doc.Budgets[0].Results[0], doc.Budgets[0].Results[1]
	if v, ok := nodata["value"]; !ok || v != nil {
		t.Errorf("nil value = %v (present %v), want null", v, ok)
	}
	if l, ok := nodata["labels"].(map[string]any); !ok || len(l) != 0 {
		t.Errorf("nil labels = %#v, want {}", nodata["labels"])
	}
	if _, ok := nodata["warn_limit"]; ok {
		t.Errorf("nil warn_limit is not omitted")
	}
	if nan["value"] != "NaN" || nan["limit"] != "+Inf" || nan["warn_limit"] != "-Inf" || nan["ratio"] != "NaN" {
		t.Errorf("non-finite numbers = %v", nan)
	}
	if nan["status"] != "fail" || nan["extra_status"] != "shadowed" {
		t.Errorf("an extra named status must not replace the status: %v", nan)
	}
	if e := doc.Budgets[1].Error; e == nil || e.Kind != "timeout" {
		t.Errorf("error = %+v", e)
	}
}

func TestJUnitWellFormed(t *testing.T) {
	for _, run := range []*Run{sampleRun(), edgeRun()} {
		out := render(t, "junit", run, Options{Emoji: true})
		var doc struct {
			XMLName xml.Name `xml:"testsuites"`
			Suites  []struct {
				Name     string `xml:"name,attr"`
				Tests    int    `xml:"tests,attr"`
				Failures int    `xml:"failures,attr"`
				Errors   int    `xml:"errors,attr"`
				Skipped  int    `xml:"skipped,attr"`
				Cases    []struct {
					Name      string `xml:"name,attr"`
					Classname string `xml:"classname,attr"`
					Failure   *struct {
						Message string `xml:"message,attr"`
						Body    string `xml:",chardata"`
					} `xml:"failure"`
					Error     *struct{} `xml:"error"`
					Skipped   *struct{} `xml:"skipped"`
					SystemOut string    `xml:"system-out"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, out)
		}
		if len(doc.Suites) != 1 || doc.Suites[0].Name != "secflow-budget" {
			t.Fatalf("suites = %+v", doc.Suites)
		}
		s := doc.Suites[0]
		sum := run.Summarize()
		if s.Tests != sum.Total || s.Failures != sum.Fail || s.Errors != sum.Error || s.Skipped != sum.Skip {
			t.Errorf("counts %d/%d/%d/%d, want %+v", s.Tests, s.Failures, s.Errors, s.Skipped, sum)
		}
		if len(s.Cases) != len(run.Outcomes) {
			t.Fatalf("%d test cases for %d budgets", len(s.Cases), len(run.Outcomes))
		}
		for i, c := range s.Cases {
			o := run.Outcomes[i]
			if c.Name != o.Name || c.Classname != "secflow-budget."+o.Category {
				t.Errorf("case %d = %s/%s", i, c.Classname, c.Name)
			}
			if (c.Failure != nil) != (o.Status == checks.Fail) || (c.Error != nil) != (o.Status == checks.Error) ||
				(c.Skipped != nil) != (o.Status == checks.Skip) {
				t.Errorf("%s: %s got failure=%v error=%v skipped=%v", o.Name, o.Status, c.Failure != nil, c.Error != nil, c.Skipped != nil)
			}
			if o.Status == checks.Warn && !strings.Contains(c.SystemOut, o.Message) {
				t.Errorf("%s: warning not in system-out: %q", o.Name, c.SystemOut)
			}
		}
	}
	// The failure body holds the failing result, unescaped for readers.
	out := render(t, "junit", sampleRun(), Options{Emoji: true})
	if !strings.Contains(out, `p99{job="scanner"} 712.3s > 600s, 19% over`) {
		t.Errorf("failure body lacks the p99 result:\n%s", out)
	}
}

func TestJUnitEdgeText(t *testing.T) {
	out := render(t, "junit", edgeRun(), Options{Emoji: true})
	if strings.Contains(out, "\x1b") {
		t.Errorf("an escape character reached the XML")
	}
	var v struct {
		Suite struct {
			Cases []struct {
				Failure struct {
					Message string `xml:"message,attr"`
					Body    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	f := v.Suite.Cases[0].Failure
	if !strings.HasPrefix(f.Message, "100% full, a|b: <x> & \"y\"\nsecond line") {
		t.Errorf("failure message did not survive: %q", f.Message)
	}
	if !strings.Contains(f.Body, "queue-depth no data (limit ≤ 100)") {
		t.Errorf("failure body = %q", f.Body)
	}
}

func TestGitHubCommands(t *testing.T) {
	out := render(t, "github", sampleRun(), Options{Emoji: true})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var cmds []string
	for _, l := range lines {
		cmd, _, _ := strings.Cut(strings.TrimPrefix(l, "::"), " ")
		cmds = append(cmds, cmd)
	}
	// Worst first: the fail 23% over its limit, the fail 19% over, the
	// error, the warning; nothing for pass and skip.
	if got := strings.Join(cmds, ","); got != "error,error,error,warning,notice" {
		t.Errorf("commands = %s\n%s", got, out)
	}
	if !strings.HasPrefix(lines[0], "::error file=budgets.yaml,line=31,col=5,title=secflow-budget%3A series-cardinality::12,345 series > 10,000%0A") {
		t.Errorf("first command = %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "::error title=secflow-budget%3A scan-duration::p99 712s > 600s%0Ap95{job=\"scanner\"} 410s ≤ 600s, 32%25 headroom") {
		t.Errorf("second command = %q", lines[1])
	}
	last := lines[len(lines)-1]
	if last != "::notice title=secflow-budget::10 budgets: 5 passed, 1 warning, 2 failed, 1 error, 1 skipped → FAIL (exit 1)" {
		t.Errorf("summary = %q", last)
	}
}

func TestGitHubEscaping(t *testing.T) {
	if got, want := escapeGitHubData("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d"; got != want {
		t.Errorf("escapeGitHubData = %q, want %q", got, want)
	}
	if got, want := escapeGitHubProperty("x: 5%, y\nz"), "x%3A 5%25%2C y%0Az"; got != want {
		t.Errorf("escapeGitHubProperty = %q, want %q", got, want)
	}
	out := render(t, "github", edgeRun(), Options{Emoji: true})
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("%d lines, want one per command (3): newlines must be escaped\n%s", n, out)
	}
	if !strings.HasPrefix(out, "::error title=secflow-budget%3A queue-depth::100%25 full, a|b: <x> & \"y\"%0Asecond line%0A ]]> \uFFFD[31m%0A") {
		t.Errorf("escaped command = %q", strings.SplitN(out, "\n", 2)[0])
	}
}

func TestMarkdownEscaping(t *testing.T) {
	out := render(t, "markdown", edgeRun(), Options{Emoji: true})
	row := ""
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "| ❌ | `queue-depth` |") {
			row = l
		}
	}
	if row == "" {
		t.Fatalf("no table row for queue-depth:\n%s", out)
	}
	// Three cells: four unescaped pipes.
	if n := len(regexp.MustCompile(`(^|[^\\])\|`).FindAllString(row, -1)); n != 4 {
		t.Errorf("row has %d cell separators, want 4: %s", n, row)
	}
	if !strings.Contains(row, "a\\|b: &lt;x> & \"y\" second line  \\]\\]> \uFFFD\\[31m |") {
		t.Errorf("cell text not escaped as expected: %s", row)
	}
	if !strings.Contains(out, "- ❌ `queue-depth{q=\"a|b\"}` NaN (limit ≤ +Inf)") {
		t.Errorf("result item missing or pipe escaped outside a table:\n%s", out)
	}
	for in, want := range map[string]string{
		"on_missing: skip":     "on_missing: skip",
		"_private_ *x* `y`":    `\_private\_ \*x\* \` + "`y\\`",
		"# not a heading":      `\# not a heading`,
		"see [docs](x) ~~no~~": `see \[docs\](x) \~\~no\~\~`,
		"AT&T &amp; <b>":       "AT&amp;T &amp;amp; &lt;b>",
		"p95 212s <= 300s":     "p95 212s <= 300s",
	} {
		if got := mdText(in); got != want {
			t.Errorf("mdText(%q) = %q, want %q", in, got, want)
		}
	}
	if got := mdCode("a`b", false); got != "`` a`b ``" {
		t.Errorf("mdCode with a backtick = %q", got)
	}
}

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

func TestConsoleColorIsExplicit(t *testing.T) {
	// fatih/color's global switch must not matter either way.
	saved := color.NoColor
	defer func() { color.NoColor = saved }()
	for _, global := range []bool{true, false} {
		color.NoColor = global
		on := render(t, "console", sampleRun(), Options{Color: true, Emoji: true})
		off := render(t, "console", sampleRun(), Options{Color: false, Emoji: true})
		if !strings.Contains(on, "\x1b[31m") || !strings.Contains(on, "\x1b[32m") || !strings.Contains(on, "\x1b[33m") {
			t.Errorf("NoColor=%v: Color:true lacks red/green/yellow", global)
		}
		if strings.Contains(off, "\x1b") {
			t.Errorf("NoColor=%v: Color:false has escape codes", global)
		}
		if got := ansi.ReplaceAllString(on, ""); got != off {
			t.Errorf("NoColor=%v: colored output differs from plain beyond colors:\n%s", global, got)
		}
	}
}

func TestConsoleReadsWell(t *testing.T) {
	out := render(t, "console", sampleRun(), Options{Emoji: true})
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "secflow-budget 1.2.3 · offline · testdata/snapshots/ci · evaluated at 2026-11-26T12:00:00Z") {
		t.Errorf("header = %q", lines[0])
	}
	for _, want := range []string{
		"\n🔍 metrics\n", "\n📊 logs\n", "\n⚡ performance\n", "\n🚨 alerting\n",
		`p95{job="worker"} 212.4s ≤ 300s, 29% headroom (bucket 180s–240s, 1,234 observations)`,
		`p99{job="scanner"} 712.3s > 600s, 19% over (bucket > 600s, 87 observations)`,
		"INFO 61.2% ≥ 50%, 22% headroom (6,120 of 10,000 lines)",
		"error: unavailable: GET https://api.secflow.internal/metrics",
		"runbook: https://runbooks.secflow.dev/budgets/scan-duration",
		"· secflow_findings_total: 3,002 series",
		"note: p99 lies in the highest bucket",
		"\n10 budgets: 5 passed, 1 warning, 2 failed, 1 error, 1 skipped → FAIL (exit 1)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("console report lacks %q", want)
		}
	}
	// Areas in their order although budgets.yaml mixes them.
	if !(strings.Index(out, "🔍 metrics") < strings.Index(out, "📊 logs") &&
		strings.Index(out, "📊 logs") < strings.Index(out, "⚡ performance") &&
		strings.Index(out, "⚡ performance") < strings.Index(out, "🚨 alerting")) {
		t.Errorf("areas out of order")
	}
	// More than six passing results: the message says it all.
	if strings.Contains(out, "secflow_gc_runs_total") {
		t.Errorf("results of a large passing budget are listed")
	}
	// A passing budget has no runbook line.
	if strings.Contains(out, "budgets/task-duration") {
		t.Errorf("runbook shown for a passing budget")
	}
	// Messages line up: name and padding take the same width on every
	// budget line.
	width := -1
	for _, o := range sampleRun().Outcomes {
		i := strings.Index(out, " "+o.Name+" ")
		j := strings.Index(out[i:], "  "+o.Message)
		if i < 0 || j < 0 {
			t.Fatalf("no budget line for %s", o.Name)
		}
		if width >= 0 && j != width {
			t.Errorf("%s: message at %d, want %d", o.Name, j, width)
		}
		width = j
	}
}

func TestConsoleASCII(t *testing.T) {
	out := render(t, "console", sampleRun(), Options{Emoji: false})
	for _, r := range out {
		if r > 127 {
			t.Fatalf("ASCII report has %q", r)
		}
	}
	for _, want := range []string{"[PASS] core-metrics", "[WARN] log-volume", "[FAIL] scan-duration", "[ERR ] metrics-endpoint", "[SKIP] log-redaction",
		"\nmetrics\n", "INFO 61.2% >= 50%", "bucket 180s-240s", "-> FAIL (exit 1)"} {
		if !strings.Contains(out, want) {
			t.Errorf("ASCII report lacks %q", want)
		}
	}
}

func TestConsoleQuiet(t *testing.T) {
	out := render(t, "console", sampleRun(), Options{Emoji: true, Quiet: true})
	for _, gone := range []string{"core-metrics", "task-duration", "🚨 alerting", "evaluated at"} {
		if strings.Contains(out, gone) {
			t.Errorf("quiet report has %q", gone)
		}
	}
	for _, kept := range []string{"series-cardinality", "metrics-endpoint", "log-volume", "log-redaction", "scan-duration", "→ FAIL (exit 1)"} {
		if !strings.Contains(out, kept) {
			t.Errorf("quiet report lacks %q", kept)
		}
	}
	all := &Run{Status: checks.Pass, Outcomes: []checks.Outcome{{Name: "a", Category: "metrics", Status: checks.Pass}}}
	if got := render(t, "console", all, Options{Emoji: true, Quiet: true}); got != "1 budget: 1 passed, 0 warnings, 0 failed, 0 errors, 0 skipped → PASS (exit 0)\n" {
		t.Errorf("quiet all-pass report = %q", got)
	}
}

func TestDescribeMeasure(t *testing.T) {
	for _, tc := range []struct {
		r    checks.Result
		want string
	}{
		{checks.Result{Value: f(212), Unit: "seconds", Limit: f(300), Op: "<="}, "212s ≤ 300s, 29% headroom"},
		{checks.Result{Value: f(712), Unit: "seconds", Limit: f(600), Op: "<="}, "712s > 600s, 19% over"},
		{checks.Result{Value: f(300), Unit: "seconds", Limit: f(300), Op: "<="}, "300s ≤ 300s, 0% headroom"},
		{checks.Result{Value: f(0.1), Unit: "ratio", Limit: f(0.5), Op: ">="}, "10% < 50%, 80% under"},
		{checks.Result{Value: f(250), Unit: "seconds", Limit: f(300), WarnLimit: f(240), Op: "<="}, "250s ≤ 300s, 17% headroom, over warn limit 240s"},
		{checks.Result{Value: f(0.4), Unit: "ratio", Limit: f(0.2), WarnLimit: f(0.5), Op: ">="}, "40% ≥ 20%, 100% headroom, under warn limit 50%"},
		{checks.Result{Value: f(250), Unit: "seconds", WarnLimit: f(240), Op: "<="}, "250s, above the warn limit 240s"},
		{checks.Result{Value: f(3), Unit: "lines", Limit: f(0), Op: "<="}, "3 > 0"},
		{checks.Result{Value: f(12), Unit: "requests", Limit: f(100), Op: "<="}, "12 ≤ 100 requests, 88% headroom"},
		{checks.Result{Value: nil, Unit: "seconds", Limit: f(300), Op: "<="}, "no data (limit ≤ 300s)"},
		{checks.Result{Value: nil}, "no data"},
		{checks.Result{Value: f(1)}, "1"},
		{checks.Result{Value: f(math.NaN()), Limit: f(1), Op: "<="}, "NaN (limit ≤ 1)"},
		{checks.Result{Value: f(math.Inf(1)), Unit: "seconds", Limit: f(1), Op: "<="}, "+Inf > 1s"},
	} {
		if got := describeMeasure(tc.r, unicodeSymbols); got != tc.want {
			t.Errorf("describeMeasure(%v %s %v) = %q, want %q", tc.r.Value, tc.r.Op, tc.r.Limit, got, tc.want)
		}
	}
}

func TestManyResultsAreCapped(t *testing.T) {
	o := checks.Outcome{Name: "card", Category: "metrics", Status: checks.Fail, Message: "30 groups over"}
	for i := range 40 {
		s := checks.Pass
		if i%4 != 0 {
			s = checks.Fail
		}
		o.Results = append(o.Results, checks.Result{Subject: "series", Labels: map[string]string{"i": string(rune('A' + i))},
			Value: f(float64(i)), Unit: "series", Limit: f(10), Op: "<=", Status: s})
	}
	out := render(t, "console", &Run{Status: checks.Fail, ExitCode: 1, Outcomes: []checks.Outcome{o}}, Options{Emoji: true})
	if n := strings.Count(out, "     series{"); n != maxListedResults {
		t.Errorf("%d results listed, want %d:\n%s", n, maxListedResults, out)
	}
	if !strings.Contains(out, "… 10 more not passing and 10 passing not shown (the JSON report has all)") {
		t.Errorf("no line saying what was left out:\n%s", out)
	}
}

func TestConsoleForeignText(t *testing.T) {
	out := render(t, "console", edgeRun(), Options{Emoji: true})
	if strings.Contains(out, "\x1b") || strings.Contains(out, "\r") {
		t.Errorf("control characters from a message reached the terminal:\n%q", out)
	}
	// A multi-line message continues under the message column.
	want := "  ❌ queue-depth  100% full, a|b: <x> & \"y\"\n" +
		strings.Repeat(" ", 18) + "second line\n" +
		strings.Repeat(" ", 18) + " ]]> \uFFFD[31m\n"
	if !strings.Contains(out, want) {
		t.Errorf("multi-line message not indented:\n%s", out)
	}
	ascii := render(t, "console", edgeRun(), Options{Emoji: false})
	if !strings.Contains(ascii, "]]> ?[31m") {
		t.Errorf("ASCII report keeps a replacement character:\n%s", ascii)
	}
}
