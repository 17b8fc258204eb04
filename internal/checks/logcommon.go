package checks

import (
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
	ms, err := logql.ParseSelector(strings.TrimSpace(s))
	if err != nil {
		f.Errorf("selector", "invalid LogQL stream selector: %v", err)
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
