// Command secflow-budget gates CI pipelines on observability budgets.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/secflow/secflow-budget/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.IO{
		In:               os.Stdin,
		Out:              os.Stdout,
		Err:              os.Stderr,
		StdoutIsTerminal: isatty.IsTerminal(os.Stdout.Fd()),
		Getenv:           os.Getenv,
		Now:              time.Now,
	})
	stop()
	os.Exit(code)
}
