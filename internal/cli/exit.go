package cli

import (
	"errors"
	"strconv"

	"github.com/secflow/secflow-budget/internal/checks"
)

// The exit codes of the spec, in one place.
const (
	ExitOK        = 0 // every selected budget passed
	ExitViolation = 1 // at least one budget violated
	ExitUsage     = 2 // bad flag, invalid budgets.yaml, unreadable snapshot
	ExitSource    = 3 // a source failed, so a budget could not be decided
	ExitTimeout   = 4 // the run's --timeout expired
	// A run stopped by a signal exits 128 + the signal's number, as
	// shells report it: 130 for SIGINT, 143 for SIGTERM.
	ExitInterrupted = 128 + 2
	ExitTerminated  = 128 + 15
)

// exitError carries an exit code up to Main. A silent one has already been
// reported (the verdict is in the report); the others are printed once.
type exitError struct {
	code   int
	err    error
	silent bool
	// interrupt: err says what a signal left undecided.
	interrupt bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return "exit status " + strconv.Itoa(e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error { return &exitError{code: ExitUsage, err: err} }

// verdict is the exit code of a finished run: a violation beats a timeout,
// which beats a source error. With --fail-on warn, warnings are violations.
func verdict(outcomes []checks.Outcome, timedOut bool, failOn checks.Status) int {
	worst := checks.Pass
	for _, o := range outcomes {
		worst = max(worst, o.Status)
	}
	switch {
	case worst == checks.Fail:
		return ExitViolation
	case failOn == checks.Warn && hasStatus(outcomes, checks.Warn):
		return ExitViolation
	case timedOut:
		return ExitTimeout
	case worst == checks.Error:
		return ExitSource
	}
	return ExitOK
}

func hasStatus(outcomes []checks.Outcome, s checks.Status) bool {
	for _, o := range outcomes {
		if o.Status == s {
			return true
		}
	}
	return false
}

// exitCode maps an error returned by a command to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	// Any other error from a command is a usage problem (cobra's flag
	// errors, unknown commands).
	return ExitUsage
}
