package cli

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/secflow/secflow-budget/internal/atomicfile"
	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/report"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// fieldError names the flag (and the file it names) that a usage error is
// about, for the JSON report's errors, when its message does not start
// with the flag.
type fieldError struct {
	field, file string
	err         error
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// onField wraps the error inside a usage error with the flag it is about;
// other errors are returned as they are.
func onField(field, file string, err error) error {
	var e *exitError
	if errors.As(err, &e) && e.err != nil && !e.interrupt {
		return &exitError{code: e.code, err: &fieldError{field: field, file: file, err: e.err}, silent: e.silent}
	}
	return err
}

// writeErrorReports writes, for a check that stopped on err before its
// reports were written (a usage or configuration error, a signal while
// reading the budgets), a JSON report of the error to every JSON report
// the flags ask for: dashboards never lose a run, and no older report is
// left at that path claiming another run's verdict. Other formats are not
// written: they have no place for an error that no budget owns.
func (o *checkOptions) writeErrorReports(err error) {
	if err == nil || o.reported || !o.io.lastWords.claim() {
		return
	}
	o.writeJSONError(err)
	o.writeStepSummary(o.errorRun(err), o.reportOptions())
}

// writeJSONError writes the JSON report of err to every JSON report path.
func (o *checkOptions) writeJSONError(err error) {
	run := o.errorRun(err)
	render := func(w io.Writer) error { return report.Write(w, "json", run, report.Options{}) }
	for _, path := range o.jsonPaths() {
		if path != "" {
			if err := atomicfile.Write(path, render); err != nil {
				fmt.Fprintln(o.io.Err, "error: "+secret.Text(fmt.Sprintf("writing the json report to %s: %v", path, err)))
			}
			continue
		}
		if err := render(o.io.Out); err != nil {
			fmt.Fprintln(o.io.Err, "error: "+secret.Text(fmt.Sprintf("writing the json report to stdout: %v", err)))
		}
	}
}

// jsonPaths are the JSON reports the flags ask for ("" for stdout), read
// leniently: a flag refused for another reason (a bad --report entry) does
// not hide a JSON report another flag names. A file that two reports name
// is left alone (the flags are refused before anything is written).
func (o *checkOptions) jsonPaths() []string {
	type named struct{ format, path string }
	all := []named{{o.format, stdoutPath(o.output)}}
	for _, r := range o.reports {
		if format, path, ok := strings.Cut(r, "="); ok && path != "" {
			all = append(all, named{format, stdoutPath(path)})
		}
	}
	keys := map[string]int{}
	keyOf := func(path string) string {
		if k, _, ok := reportFileKey(path); ok {
			return k
		}
		return "" // not a regular file (/dev/null): may take several
	}
	for _, n := range all {
		if n.path != "" {
			keys[keyOf(n.path)]++
		}
	}
	var out []string
	stdout := false
	for _, n := range all {
		switch {
		case n.format != "json":
		case n.path == "":
			if !stdout {
				out = append(out, "")
			}
			stdout = true
		case keys[keyOf(n.path)] == 1 || keyOf(n.path) == "":
			out = append(out, n.path)
		}
	}
	return out
}

// flagPrefixRE is the flag (or environment variable) a usage error's
// message starts with: "--at: invalid time ...".
var flagPrefixRE = regexp.MustCompile(`^(--[a-z][a-z0-9.-]*(?:/--[a-z][a-z0-9.-]*)?|SECFLOW_[A-Z0-9_]+): `)

// runErrors turns the error that stopped a check into the JSON report's
// errors, masked as stderr masks them.
func runErrors(err error) []report.RunError {
	var cerrs config.Errors
	var cerr *config.Error
	switch {
	case errors.As(err, &cerrs):
	case errors.As(err, &cerr):
		cerrs = config.Errors{cerr}
	}
	if len(cerrs) > 0 {
		n := min(len(cerrs), config.MaxErrorLines)
		out := make([]report.RunError, 0, n+1)
		for _, e := range cerrs[:n] {
			out = append(out, report.RunError{
				File: secret.Text(e.File), Line: e.Line, Column: e.Col,
				Field: secret.Text(e.Path), Message: secret.Text(e.Msg),
			})
		}
		if len(cerrs) > n {
			out = append(out, report.RunError{File: secret.Text(cerrs[n].File), Message: fmt.Sprintf("... and %d more errors", len(cerrs)-n)})
		}
		return out
	}
	var re report.RunError
	var fe *fieldError
	if errors.As(err, &fe) {
		re.Field, re.File = fe.field, fe.file
	}
	var corrupt *snapshot.CorruptError
	if errors.As(err, &corrupt) {
		re.File, re.Line, re.Column, re.Message = corrupt.File, corrupt.Line, corrupt.Col, corrupt.Msg
	} else {
		// The first line is the error; more lines are hints (usage).
		re.Message, _, _ = strings.Cut(err.Error(), "\n")
		if m := flagPrefixRE.FindStringSubmatch(re.Message); m != nil {
			re.Message = re.Message[len(m[0]):]
			if re.Field == "" {
				re.Field = m[1]
			}
		}
	}
	re.File, re.Field, re.Message = secret.Text(re.File), secret.Text(re.Field), secret.Text(re.Message)
	return []report.RunError{re}
}
