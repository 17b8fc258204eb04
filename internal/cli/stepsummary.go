package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/secflow/secflow-budget/internal/report"
	"github.com/secflow/secflow-budget/internal/secret"
)

// inGitHubActions: the run is a GitHub Actions step, as the runner says
// in GITHUB_ACTIONS.
func (o *checkOptions) inGitHubActions() bool {
	return o.io.Getenv("GITHUB_ACTIONS") == "true"
}

// reportOptions are the reporters' options, decided once: emoji, quiet,
// and inside GitHub Actions the workspace that annotations are relative to
// and the cap on their number.
func (o *checkOptions) reportOptions() report.Options {
	opts := report.Options{Emoji: o.emoji(), Quiet: o.quiet, PushLabels: o.push.labelNames()}
	if o.inGitHubActions() {
		opts.GitHubActions = true
		opts.Workspace = o.io.Getenv("GITHUB_WORKSPACE")
	}
	for _, t := range o.targets {
		if t.format == "json" && t.path != "" {
			opts.FullReport = "the JSON report " + t.path
			break
		}
	}
	return opts
}

// errorRun is the run of a check stopped by err before any budget ran.
func (o *checkOptions) errorRun(err error) *report.Run {
	mode := "live"
	if o.offline != "" {
		mode = "offline"
	}
	return report.NewErrorRun("secflow-budget", toolVersion(), mode, exitCode(err), runErrors(err))
}

// writeStepSummary appends the Markdown report of run to the file in
// $GITHUB_STEP_SUMMARY, inside GitHub Actions and unless --no-step-summary,
// so that every run shows its result on the job's page without a flag.
// It appends in one write, keeping what earlier steps (or earlier commands
// of this step) wrote there. A report the flags already write to that file
// is not written twice. Trouble with the file is one line on stderr and
// does not change the exit code: the step summary is a courtesy, the
// reports the flags ask for are the contract.
func (o *checkOptions) writeStepSummary(run *report.Run, opts report.Options) {
	if !o.inGitHubActions() || o.noStepSummary {
		return
	}
	path := o.io.Getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		fmt.Fprintln(o.io.Err, "warning: GITHUB_ACTIONS is true but GITHUB_STEP_SUMMARY is not set: no step summary written (--no-step-summary stops trying)")
		return
	}
	if o.writesMarkdownTo(path) {
		return
	}
	failed := func(err error) {
		fmt.Fprintln(o.io.Err, "warning: "+secret.Text(fmt.Sprintf("appending the step summary to %s (GITHUB_STEP_SUMMARY): %v; the exit code is unchanged", path, err)))
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, "markdown", run, opts); err != nil {
		failed(err)
		return
	}
	// O_NONBLOCK: a FIFO nobody reads fails at once instead of hanging
	// the step; it changes nothing for a regular file.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NONBLOCK, 0o666)
	if err != nil {
		failed(err)
		return
	}
	out := buf.Bytes()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		// A blank line ends whatever the file holds (an open paragraph
		// or list) before the report starts.
		out = append([]byte("\n"), out...)
	}
	_, err = f.Write(out)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		failed(err)
	}
}

// writesMarkdownTo says whether a Markdown report the flags ask for goes to
// path already (--report markdown=$GITHUB_STEP_SUMMARY), also through a
// symlink or a hard link.
func (o *checkOptions) writesMarkdownTo(path string) bool {
	key, info, ok := reportFileKey(path)
	for _, t := range o.targets {
		if t.format != "markdown" || t.path == "" {
			continue
		}
		k, i, tok := reportFileKey(t.path)
		switch {
		case ok && tok && k == key:
			return true
		case info != nil && i != nil && os.SameFile(info, i):
			return true
		case !ok || !tok:
			// Not regular files (a FIFO, a device): the same name.
			a, aerr := filepath.Abs(path)
			b, berr := filepath.Abs(t.path)
			if aerr == nil && berr == nil && a == b {
				return true
			}
		}
	}
	return false
}
