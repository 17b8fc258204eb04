package cli

import (
	"context"
	"errors"
	"os"
	"sync"
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

// lastWords is what a command leaves behind when Main stops waiting for it
// (the hard stop, a second signal): a command that knows its JSON reports
// sets say, and claims the right to write before it writes its own
// reports; Main takes say when it gives up. Whoever comes first writes,
// the other does not, so a report is never written twice nor half by
// each.
type lastWords struct {
	mu      sync.Mutex
	say     func(stop error) bool // reports the stop; false: nothing written
	stopped bool
}

// set installs say, unless Main stopped waiting already. A nil receiver
// (a command run without Main) does nothing.
func (l *lastWords) set(say func(stop error) bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.say = say
	}
}

// claim is called by the command before it writes its reports: false when
// Main stopped waiting for it, and the command must write nothing.
func (l *lastWords) claim() bool {
	if l == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.say = nil
	return !l.stopped
}

// stop is called by Main when it gives up on the command: it writes what
// the command left to say, and reports whether anything was written.
func (l *lastWords) stop(why error) bool {
	l.mu.Lock()
	say := l.say
	l.say, l.stopped = nil, true
	l.mu.Unlock()
	return say != nil && say(why)
}
