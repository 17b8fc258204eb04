package config

import (
	"fmt"
	"strings"
)

// Error is a configuration error located in a file.
type Error struct {
	File      string
	Line, Col int
	Path      string // field path, e.g. budgets[2].percentiles.p95
	Msg       string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every configuration error of one file, in file order. Its Error
// has one line per error.
type Errors []*Error

func (es Errors) Error() string {
	n := min(len(es), MaxErrorLines)
	lines := make([]string, n, n+1)
	for i, e := range es[:n] {
		lines[i] = e.Error()
	}
	if len(es) > n {
		lines = append(lines, fmt.Sprintf("... and %d more errors", len(es)-n))
	}
	return strings.Join(lines, "\n")
}

// MaxErrorLines bounds the errors printed for one file: past a hundred,
// the first ones say what is wrong and the rest are noise.
const MaxErrorLines = 100

// Err returns nil for no errors, so that a nil Errors never becomes a
// non-nil error interface.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
