package checks

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

// A count of series or of log lines is a whole number, at least 0, and a
// total of bytes is at least 0: a source that answers otherwise answers
// something we cannot trust, and the result is an error, never a pass
// (-3 matching lines is "within" max_matches: 0). NaN and +Inf are judged
// where the values are (NaN is an error, +Inf breaks every max).

// countProblem says what makes v impossible as a count of what ("lines",
// "series"), as a result's note, or "" when nothing does. which, if not
// empty, says which count it is (" at level ERROR").
func countProblem(v float64, what, which string) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 1):
		return ""
	case v < 0:
		return fmt.Sprintf("the source returned %s %s%s: a count of %s cannot be negative", countText(v), what, which, what)
	case v != math.Trunc(v):
		return fmt.Sprintf("the source returned %s %s%s: a count of %s is a whole number", countText(v), what, which, what)
	}
	return ""
}

// bytesProblem is countProblem for a total of bytes, which may not be
// negative.
func bytesProblem(v float64) string {
	if v < 0 {
		return fmt.Sprintf("the source returned %s bytes: a number of bytes cannot be negative", countText(v))
	}
	return ""
}

// countText renders an impossible count exactly as sent (FormatValue would
// round 2.5 lines to 3).
func countText(v float64) string {
	if math.IsInf(v, 0) {
		return FormatValue(v, "")
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// judgeImpossible makes r, whose value v the source cannot have meant, an
// error that keeps the value as sent and says why in its note.
func judgeImpossible(r *Result, v float64, note string) {
	r.Value, r.Status, r.Missing, r.Note = F(v), Error, false, note
	r.Limit, r.Op, r.WarnLimit, r.BySeverity = nil, "", nil, false
}

// foreignLabels returns an error when a sample of vec carries a label
// that query, grouped by the labels allowed, cannot produce (an
// aggregation keeps its `by` labels and no other): such an answer is not
// the answer to our query, and its numbers must not be judged.
func foreignLabels(source, query string, vec model.Vector, allowed ...string) error {
	ok := make(map[model.LabelName]bool, len(allowed))
	for _, l := range allowed {
		ok[model.LabelName(l)] = true
	}
	for _, s := range vec {
		var extra []string
		for name := range s.Metric {
			if !ok[name] {
				extra = append(extra, string(name))
			}
		}
		if len(extra) == 0 {
			continue
		}
		sort.Strings(extra)
		by := "without by"
		if len(allowed) > 0 {
			by = "by (" + strings.Join(allowed, ", ") + ")"
		}
		label := "label"
		if len(extra) > 1 {
			label = "labels"
		}
		return sources.Errorf(sources.BadResponse, source, "the answer to %s holds a series with the %s %s, which the query (%s) cannot produce: it is not the answer to this query", shortQuery(query), label, strings.Join(quoteAll(extra), ", "), by)
	}
	return nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// shortQuery keeps a message about a query one readable line.
func shortQuery(q string) string {
	const max = 120
	if len(q) <= max {
		return q
	}
	return strings.ToValidUTF8(q[:max], "") + "..."
}
