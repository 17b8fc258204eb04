package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

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
}

// Build facts, set by the linker (-X) from the Makefile.
var (
	version = "dev"
	commit  = "unknown"
)

// Main runs the command line and returns the process exit code. It prints
// every error once, to stderr.
func Main(ctx context.Context, args []string, io IO) int {
	if io.Getenv == nil {
		io.Getenv = func(string) string { return "" }
	}
	if io.Now == nil {
		io.Now = time.Now
	}
	root := newRootCmd(io)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
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
configuration error, 3 a source failed, 4 the run's --timeout expired.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	root.SetIn(io.In)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError(fmt.Errorf("%w\nrun '%s --help' for usage", err, c.CommandPath()))
	})
	root.AddCommand(newCheckCmd(io), newValidateCmd(io), newSnapshotCmd(io), newListCmd(io), newVersionCmd(io))
	return root
}

// configFlag registers -c/--config the same way on every command.
func configFlag(c *cobra.Command, dst *string) {
	c.Flags().StringVarP(dst, "config", "c", "budgets.yaml", "budgets file")
}

// noArgs refuses positional arguments with a usage error.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(fmt.Errorf("%s takes no arguments, got %q\nrun '%s --help' for usage", c.Name(), args[0], c.CommandPath()))
	}
	return nil
}
