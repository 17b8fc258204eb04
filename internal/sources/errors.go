package sources

import (
	"context"
	"errors"
	"fmt"
)

// Kind classifies a source failure, so that reports and exit codes can tell
// a refused query from an unreachable server.
type Kind int

// The kinds of source failure.
const (
	// Unavailable: the source could not be reached or answered 5xx.
	Unavailable Kind = iota + 1
	// BadQuery: the source refused the query (PromQL/LogQL error).
	BadQuery
	// Unauthorized: the source answered 401/403: it refused our
	// credentials, or wants some and none are configured.
	Unauthorized
	// Timeout: the request's own timeout expired.
	Timeout
	// BadResponse: the source answered something we cannot read.
	BadResponse
	// Missing: the offline snapshot does not hold the data a budget needs.
	Missing
	// NotConfigured: no source of this kind was configured.
	NotConfigured
)

func (k Kind) String() string {
	switch k {
	case Unavailable:
		return "unavailable"
	case BadQuery:
		return "bad_query"
	case Unauthorized:
		return "unauthorized"
	case Timeout:
		return "timeout"
	case BadResponse:
		return "bad_response"
	case Missing:
		return "missing_data"
	case NotConfigured:
		return "not_configured"
	}
	return "unknown"
}

// Error is a source failure of a known kind.
type Error struct {
	Kind   Kind
	Source string // "prometheus", "loki", "snapshot"
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %v", e.Source, e.Err) }

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error.
func Errorf(kind Kind, source, format string, args ...any) *Error {
	return &Error{Kind: kind, Source: source, Err: fmt.Errorf(format, args...)}
}

// KindOf returns the kind of err, or 0 when err is no *Error. A context
// deadline counts as Timeout.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout
	}
	return 0
}
