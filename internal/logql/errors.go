package logql

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"
)

// ParseError is a query Loki would refuse with 400. Its text is Loki's:
// "parse error at line 1, col 55: syntax error: unexpected $end", or, for
// errors found after parsing (Line and Col zero), "parse error : MSG".
type ParseError struct {
	Msg  string
	Line int // 1-based; 0 when the error has no position
	Col  int // 1-based, in characters
}

func (e *ParseError) Error() string {
	if e.Line == 0 && e.Col == 0 {
		return "parse error : " + e.Msg
	}
	return fmt.Sprintf("parse error at line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

// errEmptyCompatible is Loki's text for a selector whose matchers all
// match the empty string.
const errEmptyCompatible = `queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will`

// PipelineError is a query that Loki fails with 400 because a stage left
// an error on an entry that no label filter removed: `| json` on a line
// that is not a JSON object, without `| __error__=""`. Its text is Loki's.
type PipelineError struct {
	// ErrorType is the value of __error__, e.g. "JSONParserErr".
	ErrorType string
	// Series is the full label set of one failing entry, __error__ and
	// __error_details__ included. Loki names whichever failing series it
	// meets first in a map; this evaluator names the first failing entry
	// in input order.
	Series labels.Labels
}

func (e *PipelineError) Error() string {
	// Loki's message, trailing newline included.
	return fmt.Sprintf("pipeline error: '%s' for series: '%s'.\n"+
		"Use a label filter to intentionally skip this error. (e.g | __error__!=\"%s\").\n"+
		"To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n"+
		"The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n",
		e.ErrorType, e.Series.String(), e.ErrorType)
}

// DefaultMaxSeries is Loki's default max_query_series: a metric query
// that would return more series fails. It also bounds the evaluator's
// memory for queries whose labels come from the lines.
const DefaultMaxSeries = 500

// SeriesLimitError is a query that would return more series than the
// evaluator's MaxSeries, which Loki fails with the same text.
type SeriesLimitError struct {
	Limit int
}

func (e *SeriesLimitError) Error() string {
	return fmt.Sprintf("maximum of series (%d) reached for a single query", e.Limit)
}
