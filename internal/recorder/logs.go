package recorder

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/secflow/secflow-budget/internal/logql"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
	"github.com/secflow/secflow-budget/internal/sources/loki"
)

// LokiSource is what recording logs asks of Loki; the live client
// (sources/loki) implements it.
type LokiSource interface {
	Query(ctx context.Context, query string, at time.Time) (model.Vector, error)
	QueryLogs(ctx context.Context, query string, start, end time.Time, limit int) (*loki.LogPage, error)
}

// PageLimit is how many entries one query_range request asks for: Loki's
// default max_entries_limit_per_query. A Loki configured lower, or an
// answer over the response size cap, makes pages smaller.
const PageLimit = 5000

// minPageLimit is the smallest page size tried before giving up.
const minPageLimit = 50

// pageLimit is PageLimit, smaller in tests.
var pageLimit = PageLimit

// skipCovered is whether selectors that another's entries cover are left
// out (coveringSelectors); tests turn it off to compare.
var skipCovered = true

// LogSelector is one stream selector the log queries read, with the
// earliest time any of them reads it from.
type LogSelector struct {
	// Text is the selector, matchers sorted, e.g. `{env="prod"}`.
	Text     string
	Matchers []*labels.Matcher
	// From is the start of the widest window read (inclusive: Loki's
	// windows exclude it, so this is a superset).
	From time.Time
	// queries are the queries that read the selector, as given.
	queries []string
}

// PlanLogs finds the stream selectors the LogQL queries read at at and
// the widest window of each. A query the offline evaluator cannot parse
// is an error naming it.
func PlanLogs(queries []string, at time.Time) ([]*LogSelector, error) {
	byText := map[string]*LogSelector{}
	for _, q := range queries {
		parsed, err := logql.Parse(q)
		if err != nil {
			return nil, fmt.Errorf("parsing LogQL %s: %w", q, err)
		}
		parts := make([]string, 0, len(parsed.Matchers()))
		for _, m := range parsed.Matchers() {
			parts = append(parts, m.Name+m.Type.String()+strconv.Quote(m.Value))
		}
		slices.Sort(parts)
		text := "{" + strings.Join(parts, ", ") + "}"
		from := at.Add(-parsed.Range())
		sel := byText[text]
		if sel == nil {
			sel = &LogSelector{Text: text, Matchers: parsed.Matchers(), From: from}
			byText[text] = sel
		}
		if from.Before(sel.From) {
			sel.From = from
		}
		if !slices.Contains(sel.queries, q) {
			sel.queries = append(sel.queries, q)
		}
	}
	out := slices.Collect(maps.Values(byText))
	slices.SortFunc(out, func(a, b *LogSelector) int { return strings.Compare(a.Text, b.Text) })
	return out, nil
}

// LogStats says what was recorded.
type LogStats struct {
	Selectors int
	Entries   int
	Bytes     int64 // line bytes
	Requests  int
	// Covered counts the selectors not fetched because another fetched
	// selector's entries hold theirs (coveringSelectors).
	Covered int
	// MetadataMerged counts entries whose structured metadata (other than
	// detected_level) became labels: the snapshot format has no place for
	// it, and queries see it as labels either way.
	MetadataMerged int
}

// recordLogs copies the entries every selector matches, from its From up
// to and including at, into w as the snapshot's JSON lines, in time order
// and each entry once, however many selectors match it.
func recordLogs(ctx context.Context, src LokiSource, sels []*LogSelector, at time.Time, w io.Writer) (LogStats, error) {
	st := LogStats{Selectors: len(sels)}
	fetch, queries := coveringSelectors(sels)
	if !skipCovered {
		fetch, queries = sels, map[*LogSelector][]string{}
		for _, sel := range sels {
			queries[sel] = sel.queries
		}
	}
	st.Covered = len(sels) - len(fetch)
	pagers := make([]*logPager, len(fetch))
	for i, sel := range fetch {
		// Loki's end is exclusive; the window includes at.
		pagers[i] = &logPager{src: src, query: sel.Text, queries: queries[sel], next: sel.From, end: at.Add(time.Nanosecond), limit: pageLimit, stats: &st}
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)

	// Entries seen at the current time, over all selectors: overlapping
	// selectors return the same entries.
	var curTS int64
	seen := map[string]bool{}
	for {
		var best *logPager
		for _, p := range pagers {
			e, err := p.peek(ctx)
			if err != nil {
				return st, err
			}
			if e != nil && (best == nil || e.TS < best.buf[best.pos].TS) {
				best = p
			}
		}
		if best == nil {
			break
		}
		e := best.buf[best.pos]
		best.pos++
		key := entryKey(e)
		if e.TS != curTS {
			curTS = e.TS
			clear(seen)
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		rec, merged := snapshotEntry(e)
		if merged {
			st.MetadataMerged++
		}
		if err := enc.Encode(rec); err != nil {
			return st, err
		}
		st.Entries++
		st.Bytes += int64(len(e.Line))
	}
	return st, bw.Flush()
}

// coveringSelectors picks the selectors to fetch: a selector whose
// matchers include all of another's (so it matches a subset of that one's
// streams) over a window no longer than that one's (all end at the same
// time) is not fetched: the other's entries hold all of its own, and the
// merge writes each entry once either way. Only that provable case is
// skipped: selectors that merely overlap are both fetched. queries tells,
// per fetched selector, the budgets' queries whose entries it brings (its
// own and those of the selectors it covers), for the warnings that come
// with them.
func coveringSelectors(sels []*LogSelector) ([]*LogSelector, map[*LogSelector][]string) {
	// Fewer matchers first: a covering selector has strictly fewer than
	// those it covers (equal sets are one selector, PlanLogs merged them),
	// and covering is transitive, so the first kept one that covers a
	// selector is kept itself.
	order := slices.Clone(sels)
	slices.SortStableFunc(order, func(a, b *LogSelector) int { return len(a.Matchers) - len(b.Matchers) })
	queries := map[*LogSelector][]string{}
	var kept []*LogSelector
	for _, sel := range order {
		var by *LogSelector
		for _, k := range kept {
			if !k.From.After(sel.From) && matchersSubset(k.Matchers, sel.Matchers) {
				by = k
				break
			}
		}
		if by == nil {
			kept = append(kept, sel)
			by = sel
		}
		for _, q := range sel.queries {
			if !slices.Contains(queries[by], q) {
				queries[by] = append(queries[by], q)
			}
		}
	}
	// Fetch in the plan's order.
	fetch := slices.DeleteFunc(slices.Clone(sels), func(s *LogSelector) bool { return !slices.Contains(kept, s) })
	return fetch, queries
}

// matchersSubset reports whether every matcher of sub is also one of set
// (same label, operator and value).
func matchersSubset(sub, set []*labels.Matcher) bool {
	for _, m := range sub {
		if !slices.ContainsFunc(set, func(o *labels.Matcher) bool {
			return o.Name == m.Name && o.Type == m.Type && o.Value == m.Value
		}) {
			return false
		}
	}
	return true
}

// jsonlEntry is one line of logs.jsonl.
type jsonlEntry struct {
	TS     string            `json:"ts"`
	Labels map[string]string `json:"labels"`
	Line   string            `json:"line"`
}

// snapshotEntry turns an entry Loki answered into the labels it was
// pushed with, as far as they can be told apart from what Loki added:
// service_name goes when it is what Loki would derive from the other
// labels, detected_level when it is what Loki would detect from them and
// the line (the offline evaluator derives both the same way); a value
// that differs stays, and the evaluator takes it as given. Other
// structured metadata becomes labels.
func snapshotEntry(e loki.LogEntry) (jsonlEntry, bool) {
	ls := maps.Clone(e.Labels)
	merged := false
	detected, hasDetected := ls[logql.DetectedLevelLabel]
	delete(ls, logql.DetectedLevelLabel)
	for k, v := range e.Metadata {
		if k == logql.DetectedLevelLabel {
			detected, hasDetected = v, true
			continue
		}
		ls[k] = v
		merged = true
	}
	if v, ok := ls[logql.ServiceNameLabel]; ok {
		delete(ls, logql.ServiceNameLabel)
		if v != logql.ServiceName(ls) {
			ls[logql.ServiceNameLabel] = v
		}
	}
	if hasDetected && detected != logql.DetectedLevel(ls, e.Line) {
		ls[logql.DetectedLevelLabel] = detected
	}
	return jsonlEntry{TS: strconv.FormatInt(e.TS, 10), Labels: ls, Line: e.Line}, merged
}

// entryKey identifies an entry as Loki stores it: stream, time and line.
func entryKey(e loki.LogEntry) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(e.Labels)) {
		b.WriteString(k)
		b.WriteByte(0xff)
		b.WriteString(e.Labels[k])
		b.WriteByte(0xff)
	}
	for _, k := range slices.Sorted(maps.Keys(e.Metadata)) {
		b.WriteString(k)
		b.WriteByte(0xfe)
		b.WriteString(e.Metadata[k])
		b.WriteByte(0xfe)
	}
	b.WriteString(e.Line)
	return b.String()
}

// logPager pages through one selector's entries, oldest first. A page
// ends at some entry's time; the next starts at that time again (other
// entries may share it) and skips the entries the previous page held at
// it.
type logPager struct {
	src     LokiSource
	query   string
	queries []string  // the budgets' queries that read it
	next    time.Time // start of the next page, inclusive
	end     time.Time // exclusive
	limit   int
	stats   *LogStats

	buf  []loki.LogEntry
	pos  int
	done bool
	// lastTS and atLast: the last page's final time and the entries it
	// held at that time.
	lastTS int64
	atLast map[string]bool
}

// peek returns the next entry without consuming it, or nil at the end.
func (p *logPager) peek(ctx context.Context) (*loki.LogEntry, error) {
	for p.pos >= len(p.buf) {
		if p.done {
			return nil, nil
		}
		if err := p.fetch(ctx); err != nil {
			return nil, err
		}
	}
	return &p.buf[p.pos], nil
}

func (p *logPager) fetch(ctx context.Context) error {
	p.stats.Requests++
	var page *loki.LogPage
	err := withQueries(ctx, p.queries, func(ctx context.Context) (err error) {
		page, err = p.src.QueryLogs(ctx, p.query, p.next, p.end, p.limit)
		return err
	})
	if err != nil {
		if p.limit/2 >= minPageLimit && pageTooLarge(err) {
			p.limit /= 2
			return nil // peek asks again
		}
		return fmt.Errorf("recording the log entries of %s: %w", p.query, err)
	}
	entries := page.Entries
	full := len(entries) >= p.limit
	// Skip what the previous page held at its last time.
	fresh := entries[:0:0]
	for _, e := range entries {
		if e.TS == p.lastTS && p.atLast[entryKey(e)] {
			continue
		}
		fresh = append(fresh, e)
	}
	if !full {
		p.done = true
		p.buf, p.pos = fresh, 0
		return nil
	}
	if len(fresh) == 0 {
		return fmt.Errorf("recording the log entries of %s: more than %d entries at %s: cannot page past them (raise Loki's max_entries_limit_per_query)",
			p.query, p.limit, time.Unix(0, p.lastTS).UTC().Format(time.RFC3339Nano))
	}
	last := entries[len(entries)-1].TS
	if last != p.lastTS {
		p.atLast = map[string]bool{}
	}
	for _, e := range entries {
		if e.TS == last {
			p.atLast[entryKey(e)] = true
		}
	}
	p.lastTS = last
	p.next = time.Unix(0, last)
	p.buf, p.pos = fresh, 0
	return nil
}

// pageTooLarge reports a page Loki refuses for its size: over our
// response size cap, or over Loki's max_entries_limit_per_query.
func pageTooLarge(err error) bool {
	var big *httpclient.ResponseTooLargeError
	if errors.As(err, &big) {
		return true
	}
	var se *loki.StatusError
	return sources.KindOf(err) == sources.BadQuery && errors.As(err, &se) && strings.Contains(se.Body, "max entries limit")
}
