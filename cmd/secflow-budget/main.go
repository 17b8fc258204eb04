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
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.IO{
		In:               os.Stdin,
		Out:              os.Stdout,
		Err:              os.Stderr,
		StdoutIsTerminal: isatty.IsTerminal(os.Stdout.Fd()),
		Getenv:           os.Getenv,
		Now:              time.Now,
		Signals:          signals,
		TempDir:          os.TempDir(),
		SetTempDir:       func(dir string) error { return os.Setenv("TMPDIR", dir) },
	}))
}
