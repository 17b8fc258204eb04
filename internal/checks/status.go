package checks

import "fmt"

// Status is a verdict. Statuses are ordered: the worst of a budget's results
// is the budget's status, and the worst budget is the run's.
type Status int

// The statuses, best first.
const (
	Pass Status = iota
	// Waived is a failing or warning result (or budget) that a live
	// waiver of budgets.yaml accepts: it counts as passing, and sits just
	// above Pass so that anything not waived outranks it.
	Waived
	Skip
	Warn
	Error
	Fail
)

var statusNames = [...]string{"pass", "waived", "skip", "warn", "error", "fail"}

func (s Status) String() string {
	if s < Pass || s > Fail {
		return fmt.Sprintf("Status(%d)", int(s))
	}
	return statusNames[s]
}

// ParseStatus reads a status name.
func ParseStatus(s string) (Status, error) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), nil
		}
	}
	return Pass, fmt.Errorf("unknown status %q: want pass, waived, skip, warn, error or fail", s)
}

// MarshalText writes the status name (JSON reports use it).
func (s Status) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
