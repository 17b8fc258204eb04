package sources

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/secflow/secflow-budget/internal/secret"
)

// Limits on what a source's warnings may add to one budget: a hostile or
// broken server must not flood a report.
const (
	maxWarnings     = 10
	maxWarningBytes = 500
)

// Warnings collects the warnings sources send beside an answer, such as
// Prometheus' "warnings" (partial data: a remote store that did not answer,
// a query that hit a limit). The answer is used; the warnings say that it
// may be incomplete. A check's context carries one collector (WithWarnings)
// and the sources add to it (AddWarnings), so that checks need not pass them
// along. It is safe for concurrent use.
type Warnings struct {
	mu      sync.Mutex
	list    []string
	dropped int
}

type warningsKey struct{}

// WithWarnings returns a context that collects the warnings sources add
// under it, and the collector.
func WithWarnings(ctx context.Context) (context.Context, *Warnings) {
	w := &Warnings{}
	return context.WithValue(ctx, warningsKey{}, w), w
}

// AddWarnings records warnings that source sent with an answer, each as
// "SOURCE: TEXT", once, with what secret.Text masks masked (URL userinfo
// and credential parameters; the source masks its own secrets before). Without a collector in ctx it does nothing.
func AddWarnings(ctx context.Context, source string, warnings ...string) {
	w, _ := ctx.Value(warningsKey{}).(*Warnings)
	if w == nil || len(warnings) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, text := range warnings {
		text = strings.TrimSpace(strings.ToValidUTF8(text, "\uFFFD"))
		text = secret.Text(text)
		if text == "" {
			continue
		}
		if len(text) > maxWarningBytes {
			cut := maxWarningBytes
			for cut > 0 && !utf8.RuneStart(text[cut]) {
				cut--
			}
			text = text[:cut] + "..."
		}
		s := source + ": " + text
		if contains(w.list, s) {
			continue
		}
		if len(w.list) == maxWarnings {
			w.dropped++
			continue
		}
		w.list = append(w.list, s)
	}
}

// List returns the warnings in the order they came, and a last line
// counting those left out beyond the limit; nil when there were none.
func (w *Warnings) List() []string {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.list) == 0 {
		return nil
	}
	out := append([]string(nil), w.list...)
	if w.dropped > 0 {
		out = append(out, fmt.Sprintf("... and %d more warnings", w.dropped))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
