package checks

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/logql"
)

// readStreamSelector reads a required LogQL stream selector and validates
// it with Loki's rules (at least one matcher that does not match "").
func readStreamSelector(f *config.Fields) (string, bool) {
	if !f.Require("selector") {
		return "", false
	}
	s, ok := f.String("selector")
	if !ok {
		return "", false
	}
	trimmed := strings.TrimLeft(s, " \t\r\n")
	ms, err := logql.ParseSelector(strings.TrimSpace(s))
	if err != nil {
		var pe *logql.ParseError
		if errors.As(err, &pe) && pe.Line == 1 && pe.Col > 0 {
			// Loki counts columns in characters, the offset in bytes.
			lead, off, col := len(s)-len(trimmed), len(s), pe.Col
			for i := range trimmed {
				if col--; col == 0 {
					off = lead + i
					break
				}
			}
			f.ErrorfAtOffset("selector", off, "invalid LogQL stream selector: %s", cutQuoted(err.Error()))
			return "", false
		}
		f.Errorf("selector", "invalid LogQL stream selector: %s", cutQuoted(err.Error()))
		return "", false
	}
	return streamSelector(ms), true
}

// streamSelector renders matchers as a LogQL stream selector.
func streamSelector(ms []*labels.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.Name + m.Type.String() + strconv.Quote(m.Value)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// logRange renders a LogQL range: "{sel} | json [1h]".
func logRange(sel, pipeline string, window time.Duration) string {
	if pipeline != "" {
		return fmt.Sprintf("%s %s [%s]", sel, pipeline, promDuration(window))
	}
	return fmt.Sprintf("%s[%s]", sel, promDuration(window))
}

// logqlString quotes a regular expression for LogQL: raw backticks when it
// holds none, so that a pattern reads as written.
func logqlString(s string) string {
	if !strings.Contains(s, "`") {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

// readLogBy reads `by`, with a default when the key is absent.
func readLogBy(f *config.Fields, def []string) []string {
	if !f.Has("by") {
		return def
	}
	return readLabelNames(f, "by")
}
