package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/secflow/secflow-budget/internal/checks"
)

// The report writers take text and numbers from budgets.yaml and from the
// sources: names, messages, labels, notes, NaN and infinities. Whatever
// they are, no writer may panic, the JSON report must stay valid JSON that
// keeps the budget's name and message, the JUnit report valid XML, and the
// line-based formats must not let a message break their lines.
//
// Run one with: go test ./internal/report -run '^$' -fuzz '^FuzzJSONReport$' -fuzztime 30s

// fuzzInput is one fuzzer input: the texts and numbers a run is built from.
type fuzzInput struct {
	name, message, labelName, labelValue, note, unit string
	value, limit                                     float64
	status, flags                                    uint8
}

// addReportSeeds seeds a target with the outcomes of the report fixtures
// (sampleRun and edgeRun, which the golden files in testdata/ are made
// of), and with non-finite numbers.
func addReportSeeds(f *testing.F) {
	for _, run := range []*Run{sampleRun(), edgeRun()} {
		for i, o := range run.Outcomes {
			in := fuzzInput{name: o.Name, message: o.Message, status: uint8(o.Status), flags: uint8(i)}
			if len(o.Notes) > 0 {
				in.note = o.Notes[0]
			}
			if o.Err != nil {
				in.note = o.Err.Message
			}
			for _, r := range o.Results {
				for k, v := range r.Labels {
					in.labelName, in.labelValue = k, v
				}
				in.unit = r.Unit
				if r.Value != nil {
					in.value = *r.Value
				}
				if r.Limit != nil {
					in.limit = *r.Limit
				}
				break
			}
			f.Add(in.name, in.message, in.labelName, in.labelValue, in.note, in.unit, in.value, in.limit, in.status, in.flags)
		}
	}
	f.Add("p99", "p99 769.7s > 600s (severity: warning)", "job", "worker", "", "seconds", 769.7, 600.0, uint8(checks.Warn), uint8(0xff))
	f.Add("nan", "the source returned NaN", "le", "+Inf", "note", "ratio", math.NaN(), math.Inf(1), uint8(checks.Error), uint8(1))
	f.Add("-inf", "]]>\x00\x1b[31m\r\n::error::x", "a|b", "`|`", "<x>&amp;", "bytes", math.Inf(-1), math.NaN(), uint8(7), uint8(2))
	f.Add("\xff\xfe", "%0A%25", ",:", "\u2028", "\ufffd", "", math.Copysign(0, -1), 1e308, uint8(255), uint8(3))
}

// fuzzRun builds a run of three budgets from one input: a judged result
// with extras, a result without a value, an error outcome, notes, details,
// warnings, a runbook and a budgets.yaml position.
func fuzzRun(in fuzzInput) *Run {
	st := checks.Status(int(in.status) % 5)
	op := "<="
	if in.flags&1 != 0 {
		op = ">="
	}
	value, limit := in.value, in.limit
	r := checks.Result{
		Subject: in.name, Labels: map[string]string{in.labelName: in.labelValue}, Value: &value, Unit: in.unit,
		Limit: &limit, Op: op, Status: st, Note: in.note, BySeverity: in.flags&2 != 0,
		Extra: []checks.KV{
			{Key: "bucket_lower", Value: in.value}, {Key: "bucket_upper", Value: in.limit},
			{Key: "observations", Value: in.value}, {Key: "count", Value: in.limit}, {Key: "total", Value: in.value},
			{Key: in.labelName, Value: in.labelValue}, {Key: "status", Value: in.note},
		},
	}
	if in.flags&4 != 0 {
		r.WarnLimit = &value
	}
	noValue := checks.Result{Subject: in.labelValue, Labels: nil, Missing: true, Note: in.message, Status: checks.Fail, Op: op, Limit: &limit}
	severity := "error"
	if in.flags&8 != 0 {
		severity = "warning"
	}
	results := []checks.Result{r, noValue}
	for i := 0; in.flags&16 != 0 && i < 30; i++ {
		results = append(results, r) // more than reporters list
	}
	outcomes := []checks.Outcome{
		{
			Name: in.name, Type: "metric", Category: in.labelValue, Description: in.note, Runbook: in.labelValue,
			Severity: severity, Tags: []string{in.labelName}, Status: st, Message: in.message,
			Queries: []string{in.message}, Results: results, Notes: []string{in.note}, Details: []string{in.message},
			Warnings: []string{in.note}, File: in.name, Line: int(in.flags),
		},
		{
			Name: in.labelName, Type: in.unit, Category: "metrics", Status: checks.Error, Message: in.note,
			Err: &checks.OutcomeError{Kind: in.labelValue, Message: in.message},
		},
		{Name: in.note, Type: "latency", Status: checks.Pass, Message: "", Severity: "warning"},
	}
	return &Run{
		ToolName: "secflow-budget", Version: in.labelValue, Mode: in.unit, Target: in.note,
		Outcomes: outcomes, Status: st, ExitCode: int(in.status), FailOn: checks.Fail,
	}
}

// fuzzWriter runs one writer on the input's run, with and without emoji
// and color, and hands each output to check.
func fuzzWriter(f *testing.F, format string, check func(t *testing.T, in fuzzInput, out []byte)) {
	addReportSeeds(f)
	f.Fuzz(func(t *testing.T, name, message, labelName, labelValue, note, unit string, value, limit float64, status, flags uint8) {
		in := fuzzInput{name, message, labelName, labelValue, note, unit, value, limit, status, flags}
		for _, opts := range []Options{{Emoji: true}, {Emoji: false, Quiet: flags&32 != 0}, {Color: true, Emoji: true}} {
			var buf bytes.Buffer
			if err := Write(&buf, format, fuzzRun(in), opts); err != nil {
				t.Fatalf("Write(%s): %v", format, err)
			}
			check(t, in, buf.Bytes())
		}
	})
}

func FuzzConsoleReport(f *testing.F) {
	fuzzWriter(f, "console", func(t *testing.T, in fuzzInput, out []byte) {
		// Text from a budget or a source never drives the terminal: the
		// only control characters are line breaks, tabs and our own
		// color escapes.
		plain := stripANSI(out)
		for i, r := range string(plain) {
			if r == '\r' || r == 0x1b || (r < 0x20 && r != '\n' && r != '\t') || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("control character %U at %d in console output:\n%q", r, i, plain)
			}
		}
		if !bytes.HasSuffix(out, []byte("\n")) {
			t.Fatalf("console output does not end in a line break")
		}
	})
}

func FuzzJSONReport(f *testing.F) {
	fuzzWriter(f, "json", func(t *testing.T, in fuzzInput, out []byte) {
		var doc struct {
			Budgets []struct {
				Name    string           `json:"name"`
				Message string           `json:"message"`
				Results []map[string]any `json:"results"`
			} `json:"budgets"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("invalid JSON: %v\n%s", err, out)
		}
		if len(doc.Budgets) != 3 {
			t.Fatalf("%d budgets, want 3", len(doc.Budgets))
		}
		if got, want := doc.Budgets[0].Name, jsonString(in.name); got != want {
			t.Fatalf("name %q, want %q", got, want)
		}
		if got, want := doc.Budgets[0].Message, jsonString(in.message); got != want {
			t.Fatalf("message %q, want %q", got, want)
		}
		res := doc.Budgets[0].Results[0]
		if !jsonNumberMatches(res["value"], in.value) || !jsonNumberMatches(res["limit"], in.limit) {
			t.Fatalf("value %v limit %v, want %v %v", res["value"], res["limit"], in.value, in.limit)
		}
	})
}

// jsonString is s as encoding/json writes it: each byte of invalid UTF-8
// becomes U+FFFD.
func jsonString(s string) string {
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		b.WriteRune(r) // RuneError for an invalid byte (n == 1)
		s = s[n:]
	}
	return b.String()
}

// jsonNumberMatches reports whether a decoded JSON value is x as the JSON
// report writes it: a number, or "NaN", "+Inf", "-Inf".
func jsonNumberMatches(v any, x float64) bool {
	switch {
	case math.IsNaN(x):
		return v == "NaN"
	case math.IsInf(x, 1):
		return v == "+Inf"
	case math.IsInf(x, -1):
		return v == "-Inf"
	}
	f, ok := v.(float64)
	return ok && f == x
}

func FuzzJUnitReport(f *testing.F) {
	fuzzWriter(f, "junit", func(t *testing.T, in fuzzInput, out []byte) {
		dec := xml.NewDecoder(bytes.NewReader(out))
		cases := 0
		for {
			tok, err := dec.Token()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("invalid XML: %v\n%s", err, out)
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "testcase" {
				cases++
			}
		}
		if cases != 3 {
			t.Fatalf("%d testcases, want 3", cases)
		}
	})
}

func FuzzMarkdownReport(f *testing.F) {
	fuzzWriter(f, "markdown", func(t *testing.T, in fuzzInput, out []byte) {
		if !utf8.Valid(out) && utf8.ValidString(in.name+in.message+in.labelName+in.labelValue+in.note+in.unit) {
			t.Fatalf("invalid UTF-8 from valid input")
		}
		// Every table row is one line with the table's three columns:
		// a message cannot break out of its cell or its row.
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, "| ") {
				continue
			}
			if cells := tableCells(line); cells != 3 {
				t.Fatalf("table row with %d cells: %q", cells, line)
			}
		}
		if bytes.ContainsAny(out, "\r\x1b") {
			t.Fatalf("carriage return or escape in markdown:\n%q", out)
		}
	})
}

// tableCells counts a markdown table row's cells: unescaped pipes, minus
// the outer ones, outside code spans (which escape theirs too).
func tableCells(line string) int {
	pipes := 0
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '\\':
			i++
		case '|':
			pipes++
		}
	}
	return pipes - 1
}

func FuzzGitHubReport(f *testing.F) {
	fuzzWriter(f, "github", func(t *testing.T, in fuzzInput, out []byte) {
		// One workflow command a line: a message with line breaks must
		// not end its command early or start a forged one.
		lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
		for _, l := range lines {
			if !strings.HasPrefix(l, "::error ") && !strings.HasPrefix(l, "::warning ") && !strings.HasPrefix(l, "::notice ") {
				t.Fatalf("line is no workflow command: %q", l)
			}
			if strings.ContainsAny(l, "\r") {
				t.Fatalf("carriage return in %q", l)
			}
		}
		if last := lines[len(lines)-1]; !strings.HasPrefix(last, "::notice title=secflow-budget::") {
			t.Fatalf("last line %q, want the summary notice", last)
		}
	})
}

// stripANSI removes SGR color sequences (ESC [ ... m), the only escapes
// the console writes itself.
func stripANSI(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == 0x1b && i+1 < len(b) && b[i+1] == '[' {
			j := i + 2
			for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == ';') {
				j++
			}
			if j < len(b) && b[j] == 'm' {
				i = j
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}
