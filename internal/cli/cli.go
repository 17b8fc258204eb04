package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/secflow/secflow-budget/internal/atomicfile"
	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
)

// IO is the process's streams and environment, built once by main and
// handed down, so that tests can run commands in-process.
type IO struct {
	In               io.Reader
	Out, Err         io.Writer
	StdoutIsTerminal bool
	Getenv           func(string) string
	Now              func() time.Time

	// Signals delivers SIGINT and SIGTERM; nil when nothing interrupts
	// (tests that run commands in-process).
	Signals <-chan os.Signal
	// TempDir is where Main makes the run's one scratch directory, and
	// SetTempDir points the process's temporary files (os.TempDir) into
	// it. Either empty: no scratch directory (in-process tests).
	TempDir    string
	SetTempDir func(dir string) error

	// lastWords: what the command writes if Main stops waiting for it.
	lastWords *lastWords
}

// Main runs the command line and returns the process exit code. It prints
// every error once, to stderr.
//
// A signal on io.Signals cancels the run; the command writes its reports
// with what was decided and returns, and Main exits 130 (SIGINT) or 143
// (SIGTERM). A command that cannot stop (blocked opening a FIFO, parsing)
// is left behind after hardStop: the process must stop within a second
// whatever it is doing; what the command left to say (its JSON report of
// the stop, see lastWords) is written first.
func Main(ctx context.Context, args []string, io IO) int {
	if io.Getenv == nil {
		io.Getenv = func(string) string { return "" }
	}
	if io.Now == nil {
		io.Now = time.Now
	}
	if io.TempDir != "" && io.SetTempDir != nil {
		// Every temporary file of the run (the snapshot's TSDB) goes
		// under one directory, removed on every way out; one left by a
		// killed run is removed by the next.
		dir, remove, err := atomicfile.Scratch(io.TempDir)
		if err == nil {
			defer remove()
			if err := io.SetTempDir(dir); err != nil {
				remove()
			}
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	last := &lastWords{}
	io.lastWords = last
	done := make(chan error, 1)
	go func() {
		root := newRootCmd(io)
		root.SetArgs(args)
		done <- root.ExecuteContext(ctx)
	}()
	select {
	case err := <-done:
		return finish(io, err)
	case sig := <-io.Signals:
		in := &interrupted{sig: sig}
		cancel(in)
		select {
		case err := <-done:
			var e *exitError
			if errors.As(err, &e) && e.interrupt {
				printError(io.Err, err) // the command said what it left undecided
			} else {
				fmt.Fprintf(io.Err, "error: %s\n", in)
			}
		case <-io.Signals:
			msg := fmt.Sprintf("%s twice: stopped at once", in)
			fmt.Fprintf(io.Err, "error: %s, %s\n", msg, stopWritten(last.stop(&exitError{code: in.code(), err: errors.New(msg)})))
		case <-time.After(hardStop):
			msg := fmt.Sprintf("%s: stopped before the run could finish", in)
			fmt.Fprintf(io.Err, "error: %s, %s\n", msg, stopWritten(last.stop(&exitError{code: in.code(), err: errors.New(msg)})))
		}
		return in.code()
	}
}

// stopWritten says what a command stopped by Main left written.
func stopWritten(wroteJSON bool) string {
	if wroteJSON {
		return "only the JSON report written"
	}
	return "no report written"
}

// finish prints a command's error and returns its exit code.
func finish(io IO, err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if !errors.As(err, &e) || !e.silent {
		printError(io.Err, err)
	}
	return exitCode(err)
}

func printError(w io.Writer, err error) {
	var cerrs config.Errors
	if errors.As(err, &cerrs) {
		for _, ce := range cerrs {
			fmt.Fprintln(w, "error: "+secret.Text(ce.Error()))
		}
		return
	}
	// The first line is the error; more lines are hints (usage), as is.
	first, rest, _ := strings.Cut(secret.Text(err.Error()), "\n")
	fmt.Fprintln(w, "error: "+first)
	if rest != "" {
		fmt.Fprintln(w, rest)
	}
}

func newRootCmd(io IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "secflow-budget",
		Short: "Gate CI pipelines on observability budgets",
		Long: `secflow-budget evaluates the budgets of budgets.yaml against a live Prometheus
and Loki, or an offline snapshot of them, reports each verdict, and exits
non-zero when a budget is violated.

Exit codes: 0 all budgets passed, 1 a budget was violated, 2 usage or
configuration error, 3 a source failed, 4 the run's --timeout expired,
130 interrupted by SIGINT, 143 terminated by SIGTERM (reports are still
written, with the budgets not decided by then marked interrupted).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetIn(io.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath()))
	})
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return refuseEmptyFlags(c) }
	versionFlag(root)
	root.AddCommand(newCheckCmd(io), newValidateCmd(io), newSnapshotCmd(io), newListCmd(io), newVersionCmd(io))
	root.AddCommand(newSchemaCmd(io), newInitCmd(io))
	return root
}

// mayBeEmpty is the annotation of a string flag whose empty value means
// something (--description "").
const mayBeEmpty = "secflow_may_be_empty"

// refuseEmptyFlags makes an empty value of a string flag a usage error:
// `--offline "$SNAP"` with SNAP unset must not turn into a live run, nor
// `--prometheus ""` into the file's URL.
func refuseEmptyFlags(c *cobra.Command) error {
	var err error
	c.Flags().Visit(func(f *pflag.Flag) {
		empty := false
		switch f.Value.Type() {
		case "string":
			empty = f.Value.String() == ""
		case "stringSlice", "stringArray":
			empty = f.Value.String() == "[]" // --only "" would select every budget
		}
		if err != nil || !empty || f.Annotations[mayBeEmpty] != nil {
			return
		}
		want, _ := pflag.UnquoteUsage(f)
		if want == "" || want == "string" {
			want = "a value"
		}
		err = usageError(fmt.Errorf("--%s: empty value: want %s (is a variable unset?)", f.Name, want))
	})
	return err
}

// configFlag registers -c/--config the same way on every command.
func configFlag(c *cobra.Command, dst *string) {
	c.Flags().StringVarP(dst, "config", "c", "budgets.yaml", "budgets `FILE`")
}

// noArgs refuses positional arguments with a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Errorf("%s takes no arguments, got %q\nrun '%s --help' for usage", c.Name(), args[0], c.CommandPath()))
	}
	return nil
}
