package recorder

import (
	"context"
	"slices"
	"sync"

	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// What the sources say beside their answers (Prometheus' and Loki's
// "warnings": a store that did not answer, a limit hit) means that the
// recorded data may be partial. Each request that reads the data of some
// of the budgets' queries runs under a collector of its own (withQueries),
// and what it collects is charged to those queries; the manifest keeps
// each warning with its queries, so that offline only those budgets are
// told. A warning no request claims concerns all the data of its source.

// warningLog gathers the recording's warnings, in the order they came,
// with the queries each concerns.
type warningLog struct {
	mu      sync.Mutex
	order   []string
	queries map[string][]string
	all     map[string]bool // concerns every query of its source
}

type warningLogKey struct{}

func withWarningLog(ctx context.Context) (context.Context, *warningLog) {
	l := &warningLog{queries: map[string][]string{}, all: map[string]bool{}}
	return context.WithValue(ctx, warningLogKey{}, l), l
}

// withQueries runs f under a warnings collector of its own and charges
// what the sources said to queries (nil: to all of their source's data).
func withQueries(ctx context.Context, queries []string, f func(ctx context.Context) error) error {
	wctx, w := sources.WithWarnings(ctx)
	err := f(wctx)
	charge(ctx, queries, w.List())
	return err
}

// charge records warnings, each "SOURCE: TEXT", as concerning queries.
func charge(ctx context.Context, queries, warnings []string) {
	l, _ := ctx.Value(warningLogKey{}).(*warningLog)
	if l == nil || len(warnings) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range warnings {
		w = secret.Text(sources.OneLine(w))
		if w == "" {
			continue
		}
		if _, ok := l.queries[w]; !ok && !l.all[w] {
			l.order = append(l.order, w)
		}
		if len(queries) == 0 {
			l.all[w] = true
			continue
		}
		for _, q := range queries {
			if !slices.Contains(l.queries[w], q) {
				l.queries[w] = append(l.queries[w], q)
			}
		}
	}
}

// list is the manifest's warnings.
func (l *warningLog) list() []snapshot.RecordedWarning {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []snapshot.RecordedWarning
	for _, w := range l.order {
		rw := snapshot.RecordedWarning{Text: w}
		if !l.all[w] {
			rw.Queries = slices.Clone(l.queries[w])
		}
		out = append(out, rw)
	}
	return out
}
