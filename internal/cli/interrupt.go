package cli

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"
)

// hardStop is how long Main waits, after a signal, for the command to
// write its reports and return, before it gives up on it: the process
// stops within a second of a signal whatever it was doing.
const hardStop = 750 * time.Millisecond

// interrupted is the cause of a run's context when a signal stopped it.
type interrupted struct{ sig os.Signal }

func (i *interrupted) Error() string {
	return "interrupted by " + signalName(i.sig)
}

// code is the exit code for the signal: 128 + its number.
func (i *interrupted) code() int {
	switch i.sig {
	case os.Interrupt:
		return ExitInterrupted
	case syscall.SIGTERM:
		return ExitTerminated
	}
	if s, ok := i.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return ExitInterrupted
}

func signalName(sig os.Signal) string {
	switch sig {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return sig.String()
}

// interruptOf returns the signal that stopped ctx, or nil.
func interruptOf(ctx context.Context) *interrupted {
	var in *interrupted
	if errors.As(context.Cause(ctx), &in) {
		return in
	}
	return nil
}
