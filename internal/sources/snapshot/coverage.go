package snapshot

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/secflow/secflow-budget/internal/logql"
	"github.com/secflow/secflow-budget/internal/sources"
)

// A snapshot recorded by `secflow-budget snapshot` holds the data its
// budgets' queries read at its evaluation time, and nothing more: the
// samples of each selector over each window, the log entries of each
// stream selector over its window. A query that changed since (another
// selector, a longer window), or the same query at another time, would be
// answered from partial data: numbers that look right and are not. The
// manifest lists the queries the snapshot was recorded for; Covering
// refuses the others as missing data, saying why.
//
// Snapshots without that list (made by hand, or by the fixture generator)
// are trusted to cover every query at any time.

// coverage is the manifest's queries of one language, as written and in
// canonical form.
type coverage struct {
	dir         string
	evaluatedAt time.Time
	canon       func(string) (string, bool)
	known       map[string]bool
}

func (s *Snapshot) coverage(canon func(string) (string, bool)) *coverage {
	c := &coverage{dir: s.dir, evaluatedAt: s.manifest.EvaluatedAt, canon: canon, known: map[string]bool{}}
	for _, q := range s.manifest.Queries {
		c.known[q] = true
		if cq, ok := canon(q); ok {
			c.known[cq] = true
		}
	}
	return c
}

// canonicalPromQL is Prometheus' own rendering of q: two spellings of one
// expression (spacing, matcher order) give the same text.
func canonicalPromQL(q string) (string, bool) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(q)
	if err != nil {
		return "", false
	}
	return expr.String(), true
}

func canonicalLogQL(q string) (string, bool) {
	parsed, err := logql.Parse(q)
	if err != nil {
		return "", false
	}
	return parsed.String(), true
}

// covers returns nil when the snapshot holds the data of query at at, and
// else a *sources.Error of kind Missing that says so plainly.
func (c *coverage) covers(query string, at time.Time) error {
	ok := c.known[query]
	if !ok {
		if cq, parsed := c.canon(query); parsed {
			ok = c.known[cq]
		}
	}
	if !ok {
		return notRecordedError(c.dir, query)
	}
	if !at.Equal(c.evaluatedAt) {
		return sources.Errorf(sources.Missing, sourceName,
			"%s was recorded for evaluation at %s and holds only the data read then, not at %s; drop --at, or re-record with secflow-budget snapshot --at %s",
			c.dir, c.evaluatedAt.UTC().Format(time.RFC3339Nano), at.UTC().Format(time.RFC3339Nano), at.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

func notRecordedError(dir, query string) error {
	return sources.Errorf(sources.Missing, sourceName,
		"%s was recorded for other queries: budgets.yaml changed since (query %s not recorded); re-record with secflow-budget snapshot", dir, query)
}

// queryable is what PromQL and LogQL sources have in common.
type queryable interface {
	Query(ctx context.Context, query string, at time.Time) (model.Vector, error)
}

type covered struct {
	cov  *coverage // nil: the snapshot lists no queries, it covers all
	next queryable
	// warnings are the manifest's warnings of this language's source
	// (see recordedWarnings).
	warnings []recordedWarning
	canon    func(string) (string, bool)
}

// recordedWarning is a manifest warning as an answer's warning, with the
// queries it concerns in canonical form too; nil queries: all.
type recordedWarning struct {
	text    string
	queries map[string]bool
}

func (c covered) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	if c.cov != nil {
		if err := c.cov.covers(query, at); err != nil {
			return nil, err
		}
	}
	v, err := c.next.Query(ctx, query, at)
	if err != nil || len(c.warnings) == 0 {
		return v, err
	}
	cq, _ := c.canon(query)
	for _, w := range c.warnings {
		if w.queries == nil || w.queries[query] || cq != "" && w.queries[cq] {
			sources.AddWarnings(ctx, sourceName, w.text)
		}
	}
	return v, nil
}

// recordedWarnings are the manifest's warnings that may concern the data
// of one source: all but those from other ("loki" for Prometheus' data,
// "prometheus" for Loki's). An answer from the data they concern carries
// them: it may be partial.
func (s *Snapshot) recordedWarnings(other string, canon func(string) (string, bool)) []recordedWarning {
	var out []recordedWarning
	for _, w := range s.manifest.Warnings {
		text := sources.OneLine(w.Text)
		if text == "" || strings.HasPrefix(text, other+": ") {
			continue
		}
		rw := recordedWarning{text: "the recording got a warning, the recorded data may be partial: " + text}
		if len(w.Queries) > 0 {
			rw.queries = map[string]bool{}
			for _, q := range w.Queries {
				rw.queries[q] = true
				if cq, ok := canon(q); ok {
					rw.queries[cq] = true
				}
			}
		}
		out = append(out, rw)
	}
	return out
}

// covering wraps q with the manifest's coverage and warnings; q as it is
// when the manifest has neither.
func (s *Snapshot) covering(q queryable, canon func(string) (string, bool), other string) queryable {
	c := covered{next: q, warnings: s.recordedWarnings(other, canon), canon: canon}
	if len(s.manifest.Queries) > 0 {
		c.cov = s.coverage(canon)
	}
	if c.cov == nil && len(c.warnings) == 0 {
		return q
	}
	return c
}

// CoveringPromQL wraps q, a PromQL source over this snapshot (or one
// failing for it), so that a query the manifest does not list, or a time
// other than its evaluated_at, fails with a *sources.Error of kind
// Missing saying the snapshot was recorded for other queries. A snapshot
// without a query list passes every query through. The manifest's
// warnings from Prometheus (partial data while recording) are added to
// the warnings of every answer (sources.AddWarnings). A nil q stays nil.
func (s *Snapshot) CoveringPromQL(q sources.PromQL) sources.PromQL {
	if q == nil {
		return q
	}
	return s.covering(q, canonicalPromQL, "loki").(sources.PromQL)
}

// CoveringLogQL is CoveringPromQL for LogQL sources (and Loki's
// warnings).
func (s *Snapshot) CoveringLogQL(q sources.LogQL) sources.LogQL {
	if q == nil {
		return q
	}
	return s.covering(q, canonicalLogQL, "prometheus").(sources.LogQL)
}
