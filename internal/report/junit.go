package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
)

// junitSuiteName names the suite; CI test tabs group the budgets under it.
const junitSuiteName = "secflow-budget"

// WriteJUnit writes one test suite with a test case per budget, for the test
// tabs of CI systems: a violated budget is a failure, an undecided one an
// error, a skipped one skipped. A warning passes, with the warning in the
// case's system-out, since CI systems know no "passed with warnings";
// when warnings fail the run (Run.FailsRun), it is a failure like a
// violation, so the test tab never shows green for a red job.
//
// A waived budget is skipped, with the waiver in the message and the
// details in system-out: JUnit has no "accepted failure", and skipped is
// the one state that neither fails the job nor shows green, as pytest's
// xfail is written to JUnit XML; the suite's skipped count includes it.
func WriteJUnit(w io.Writer, run *Run, opts Options) error {
	sym := symbolsFor(opts.Emoji)
	s := run.Summarize()
	suite := junitSuite{
		Name:      junitSuiteName,
		Tests:     s.Total,
		Failures:  run.Failing(),
		Errors:    s.Error,
		Skipped:   s.Skip + s.Waived,
		Timestamp: junitTimestamp(run.EvaluatedAt),
		Cases:     make([]junitCase, 0, len(run.Outcomes)),
	}
	for _, p := range []struct{ name, value string }{
		{"tool", toolName(run)}, {"version", run.Version}, {"mode", run.Mode},
		{"target", run.Target}, {"engines", enginesText(run)}, {"evaluated_at", evaluatedAt(run.EvaluatedAt)},
	} {
		if p.value != "" {
			suite.Properties = append(suite.Properties, junitProperty{Name: p.name, Value: p.value})
		}
	}
	var total time.Duration
	for i := range run.Outcomes {
		o := &run.Outcomes[i]
		total += o.Duration
		suite.Cases = append(suite.Cases, newJUnitCase(o, run.FailsRun(o.Status), sym))
	}
	// Budgets run concurrently; the sum of their durations is what test
	// tabs expect from a suite's time all the same.
	suite.Time = junitSeconds(total)
	doc := junitSuites{
		Name:     junitSuiteName,
		Tests:    suite.Tests,
		Failures: suite.Failures,
		Errors:   suite.Errors,
		Skipped:  suite.Skipped,
		Time:     suite.Time,
		Suites:   []junitSuite{suite},
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut *junitText    `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	// CDATA keeps the lines readable in the file; xmlText has removed
	// what XML cannot hold, and encoding/xml splits any "]]>".
	Body string `xml:",cdata"`
}

type junitText struct {
	Body string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// newJUnitCase is the test case of a budget; fails says whether its status
// fails the run.
func newJUnitCase(o *checks.Outcome, fails bool, sym symbols) junitCase {
	area := o.Category
	if area == "" {
		area = otherArea
	}
	c := junitCase{
		Name:      o.Name,
		Classname: junitSuiteName + "." + area,
		Time:      junitSeconds(o.Duration),
	}
	switch o.Status {
	case checks.Fail:
		c.Failure = &junitProblem{Message: o.Message, Type: o.Type, Body: xmlText(outcomeBody(o, sym))}
	case checks.Error:
		kind := ""
		if o.Err != nil {
			kind = o.Err.Kind
		}
		c.Error = &junitProblem{Message: o.Message, Type: kind, Body: xmlText(outcomeBody(o, sym))}
	case checks.Skip:
		c.Skipped = &junitSkipped{Message: o.Message}
	case checks.Waived:
		c.Skipped = &junitSkipped{Message: "waived: " + o.Message}
		c.SystemOut = &junitText{Body: xmlText("waived: " + o.Message + "\n" + outcomeBody(o, sym))}
	case checks.Warn:
		if fails {
			c.Failure = &junitProblem{Message: o.Message, Type: o.Type, Body: xmlText("warning, which fails this run: " + o.Message + "\n" + outcomeBody(o, sym))}
			break
		}
		c.SystemOut = &junitText{Body: xmlText("warning: " + o.Message + "\n" + outcomeBody(o, sym))}
	}
	return c
}

// outcomeBody is a non-passing budget explained in plain text lines: the
// results worth reading, notes, details, the error and the runbook.
func outcomeBody(o *checks.Outcome, sym symbols) string {
	var b strings.Builder
	for _, l := range outcomeLines(o, sym) {
		b.WriteString(l.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

func junitSeconds(d time.Duration) string {
	return fmt.Sprintf("%.3f", d.Seconds())
}

// junitTimestamp follows the JUnit schema: ISO 8601 without a zone (UTC).
func junitTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05")
}

// xmlText replaces the characters XML 1.0 cannot carry (most control
// characters, e.g. an ANSI escape inside a source's error message) with
// U+FFFD; encoding/xml does that for escaped text but not for CDATA.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}
