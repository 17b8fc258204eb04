package logql

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Entry is one log entry as pushed to Loki.
type Entry struct {
	TS     int64             // unix nanoseconds
	Labels map[string]string // stream labels
	Line   string
}

// Evaluator answers instant metric queries at one time from one pass over
// log entries: give it the queries, Add every entry, then read each
// query's Result. Memory grows with the number of streams and of result
// series, not with the number of entries. It is not safe for concurrent
// use.
type Evaluator struct {
	// MaxSeries fails a query whose result would hold more series, as
	// Loki's max_query_series does; 0 means no limit. NewEvaluator sets
	// it to DefaultMaxSeries.
	MaxSeries int

	at      int64 // unix ns
	after   int64 // the earliest window start (exclusive) of any query
	queries []*evalQuery
	streams map[string]*Stream
	seed    maphash.Seed

	// lits finds the literals of every regexp line filter's prefilter
	// in one pass over a line; nil when there are none.
	lits *litSet

	// prep is what PrepareLine reads (prep.go), apart from the rest.
	prep *prepSetup

	// Scratch space reused for every entry.
	entry   entryCtx
	b       builder
	key     []byte
	scratch []labels.Label
}

// evalQuery is a query being evaluated.
type evalQuery struct {
	*Query
	idx   int
	after int64 // window start, exclusive
	count bool  // count_over_time, else bytes_over_time

	all bool     // result series keep every label (no sum, or sum without)
	by  []string // sum by: the labels kept, sorted
	out []string // sum without: the labels removed

	// skipParsers: a sum without grouping and without label filters
	// needs no label, and Loki then skips its parsers (so `| json`
	// cannot fail such a query).
	skipParsers bool
	// preserveErr: a sum whose label filters or grouping name __error__
	// counts entries that carry an error instead of failing, as Loki's
	// parser hints decide (its "math on errors").
	preserveErr bool
	// lineOnly: the stages that run only filter lines.
	lineOnly bool
	// needsDetected: detected_level reaches the result's labels.
	needsDetected bool
	// errWant: the parsed labels q reads, for the labels of its pipeline
	// error (the entry's as Loki's parser hints for q alone leave them).
	errWant parseResult
	// byStream: a sum by labels that, when a stream has them all, come
	// from the stream whatever the line (a parser's field of such a
	// name becomes name_extracted; no drop; no __error__ or
	// detected_level among them): the series of a counted entry is
	// then the stream's.
	byStream bool

	// litIDs: for each stage that is a regexp line filter, the bits of
	// its regexps' literals in the evaluator's litSet.
	litIDs [][]int
	// fltBits: for each stage that is a line filter, its bit in a
	// LinePrep's flts (-1: none); nil when PrepareLine runs no filter.
	// firstFlt: the bit of the first stage, when it is a line filter,
	// else -1.
	fltBits  []int
	firstFlt int

	series map[string]*series
	err    error
	// The key and series of the last entry counted: lines in a row
	// often share theirs, and comparing a few bytes is cheaper than the
	// map lookup.
	lastKey []byte
	lastSr  *series
}

type series struct {
	lbls labels.Labels
	v    float64
}

// Stream is the evaluator's state for one stream. Callers that see the
// same stream often look it up once with Evaluator.Stream and pass it to
// AddLine.
type Stream struct {
	lbls     labels.Labels // stream labels and service_name
	selected []int         // the queries whose selector matches
	hasLevel bool          // a level label: detected_level is constant
	level    string        // detected_level when hasLevel
	cached   []*series     // by query, for series that only depend on the stream
	// names and values: lbls as two slices, for lookups without
	// decoding; fixed: by query, its series depends on the stream
	// alone (byStream, and the stream has every label of by).
	names, values []string
	fixed         []bool

	// The last timestamp seen and hashes of the lines seen at it, to
	// store a repeated entry once; a set once they are many.
	lastTS  int64
	hashes  []uint64
	hashSet map[uint64]struct{}
}

// get is the value of the stream's label name, "" when it has none.
func (st *Stream) get(name string) string {
	for i, n := range st.names {
		if n == name {
			return st.values[i]
		}
	}
	return ""
}

// manyHashes is when a stream's line hashes at one time go into a set.
const manyHashes = 32

// seen records the hash of a line at ts and reports whether it was
// there already.
func (st *Stream) seen(ts int64, h uint64) bool {
	if ts != st.lastTS {
		st.lastTS = ts
		st.hashes = append(st.hashes[:0], h)
		st.hashSet = nil
		return false
	}
	if st.hashSet != nil {
		if _, ok := st.hashSet[h]; ok {
			return true
		}
		st.hashSet[h] = struct{}{}
		return false
	}
	if slices.Contains(st.hashes, h) {
		return true
	}
	st.hashes = append(st.hashes, h)
	if len(st.hashes) > manyHashes {
		st.hashSet = make(map[uint64]struct{}, 2*len(st.hashes))
		for _, x := range st.hashes {
			st.hashSet[x] = struct{}{}
		}
		st.hashes = st.hashes[:0]
	}
	return false
}

// NewEvaluator prepares the evaluation of queries at time at.
func NewEvaluator(at time.Time, queries ...*Query) *Evaluator {
	e := &Evaluator{
		MaxSeries: DefaultMaxSeries,
		at:        at.UnixNano(),
		after:     math.MaxInt64,
		streams:   map[string]*Stream{},
		seed:      maphash.MakeSeed(),
	}
	for i, q := range queries {
		eq := &evalQuery{
			Query:  q,
			idx:    i,
			after:  e.at - q.rng.Nanoseconds(),
			count:  q.op == countOverTime,
			series: map[string]*series{},
		}
		e.after = min(e.after, eq.after)
		labelFilters, errorFilter := false, false
		for _, s := range q.stages {
			switch s := s.(type) {
			case *labelFilter:
				labelFilters = true
				errorFilter = errorFilter || s.m.Name == errorLabel
			case *dropStage:
				labelFilters = true
			}
		}
		switch {
		case q.agg == nil:
			eq.all = true
		case q.agg.without:
			eq.all = true
			eq.out = sortedUnique(q.agg.labels)
		default:
			eq.by = sortedUnique(q.agg.labels)
			eq.skipParsers = len(eq.by) == 0 && !labelFilters
			eq.preserveErr = errorFilter || slices.Contains(eq.by, errorLabel)
		}
		eq.lineOnly = true
		for _, s := range q.stages {
			switch s.(type) {
			case *lineFilter:
			case *jsonStage, *logfmtStage:
				if !eq.skipParsers {
					eq.lineOnly = false
				}
			default:
				eq.lineOnly = false
			}
		}
		eq.needsDetected = (eq.all && !slices.Contains(eq.out, detectedLevelLabel)) || slices.Contains(eq.by, detectedLevelLabel)
		eq.errWant.wanted, eq.errWant.wantAll = queryWants(eq, true)
		eq.errWant.setWantLens()
		eq.byStream = !eq.all && !eq.lineOnly && len(eq.by) > 0 &&
			!slices.ContainsFunc(q.stages, func(s stage) bool { _, ok := s.(*dropStage); return ok }) &&
			!slices.ContainsFunc(eq.by, func(n string) bool {
				return n == errorLabel || n == errorDetailsLabel || n == detectedLevelLabel
			})
		e.queries = append(e.queries, eq)
	}
	if len(queries) == 0 {
		e.after = e.at
	}
	e.prepareLits()
	e.entry.json.wanted, e.entry.json.wantAll = e.parserWants(func(s stage) bool {
		js, ok := s.(*jsonStage)
		return ok && js.params == nil
	})
	e.entry.logfmtR.wanted, e.entry.logfmtR.wantAll = e.parserWants(func(s stage) bool {
		_, ok := s.(*logfmtStage)
		return ok
	})
	e.entry.params.wantAll = true
	e.entry.json.setWantLens()
	e.entry.logfmtR.setWantLens()
	e.preparePrep()
	return e
}

// prepareLits builds the evaluator's litSet over the prefilters of all
// regexp line filters.
func (e *Evaluator) prepareLits() {
	var pres []prefilter
	for _, q := range e.queries {
		for _, s := range q.stages {
			if f, ok := s.(*lineFilter); ok {
				pres = append(pres, f.pres...)
			}
		}
	}
	set, ids := newLitSet(pres)
	if set == nil {
		return
	}
	e.lits = set
	for _, q := range e.queries {
		q.litIDs = make([][]int, len(q.stages))
		for si, s := range q.stages {
			if f, ok := s.(*lineFilter); ok {
				q.litIDs[si], ids = ids[:len(f.pres)], ids[len(f.pres):]
			}
		}
	}
}

// parserWants is the union of the labels read by the queries that run a
// parser isParser matches, or true when one of them keeps every label.
func (e *Evaluator) parserWants(isParser func(stage) bool) ([]string, bool) {
	var wanted []string
	for _, q := range e.queries {
		if q.skipParsers || !slices.ContainsFunc(q.stages, isParser) {
			continue
		}
		w, all := queryWants(q, false)
		if all {
			return nil, true
		}
		wanted = append(wanted, w...)
	}
	return sortedUnique(wanted), false
}

// queryWants is what q reads of the labels parsers extract (all: every
// one): its grouping, the names of its label filters and drops, and with
// params the names its `| json name="path"` stages give.
// __error__ and __error_details__ are the pipeline's, never a parser's
// field (builder.get answers them first): no need to extract a field of
// that name.
func queryWants(q *evalQuery, params bool) (wanted []string, all bool) {
	if q.all {
		return nil, true
	}
	wanted = append(wanted, q.by...)
	for _, s := range q.stages {
		switch s := s.(type) {
		case *labelFilter:
			wanted = append(wanted, s.m.Name)
		case *dropStage:
			for _, it := range s.items {
				wanted = append(wanted, it.name)
			}
		case *jsonStage:
			if params {
				for _, p := range s.params {
					wanted = append(wanted, p.name)
				}
			}
		}
	}
	wanted = slices.DeleteFunc(wanted, func(n string) bool { return n == errorLabel || n == errorDetailsLabel })
	return sortedUnique(wanted), false
}

func sortedUnique(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

// Stream returns the state of the stream with these labels, creating it
// on first sight. Empty label values are no labels, as in Loki.
func (e *Evaluator) Stream(lbls map[string]string) *Stream {
	b := labels.NewScratchBuilder(len(lbls) + 1)
	for k, v := range lbls {
		if v != "" {
			b.Add(k, v)
		}
	}
	b.Sort()
	base := b.Labels()
	key := base.String()
	if st, ok := e.streams[key]; ok {
		return st
	}
	st := &Stream{lastTS: math.MinInt64, cached: make([]*series, len(e.queries))}
	for _, f := range levelFields {
		if v := base.Get(f); v != "" {
			st.hasLevel, st.level = true, labelLevel(v)
			break
		}
	}
	// Entries copied out of Loki's answers may carry detected_level as a
	// stream label already: it stands.
	if v := base.Get(detectedLevelLabel); v != "" {
		st.hasLevel, st.level = true, v
	}
	st.lbls = base
	if !base.Has(serviceNameLabel) {
		svc := unknownService
		for _, l := range serviceNameSources {
			if v := base.Get(l); v != "" {
				svc = v
				break
			}
		}
		lb := labels.NewBuilder(base)
		lb.Set(serviceNameLabel, svc)
		st.lbls = lb.Labels()
	}
	st.lbls.Range(func(l labels.Label) {
		st.names = append(st.names, l.Name)
		st.values = append(st.values, l.Value)
	})
	st.fixed = make([]bool, len(e.queries))
	for i, q := range e.queries {
		if matchesAll(q.matchers, st.lbls) {
			st.selected = append(st.selected, i)
		}
		// A label X_extracted of the stream gives way to a field X of
		// the line when the stream has X too (parsed labels come first).
		st.fixed[i] = q.byStream && !slices.ContainsFunc(q.by, func(n string) bool {
			base, ok := strings.CutSuffix(n, "_extracted")
			return st.get(n) == "" || ok && st.get(base) != ""
		})
	}
	e.streams[key] = st
	return st
}

func matchesAll(ms []*labels.Matcher, lbls labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(lbls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// Window is the span of entry times some query counts: after < ts <=
// until. Callers may skip entries outside it without decoding them.
func (e *Evaluator) Window() (after, until int64) { return e.after, e.at }

// Wants reports whether an entry of st at ts can count for any query:
// callers may skip decoding the line of an entry that cannot.
func (e *Evaluator) Wants(st *Stream, ts int64) bool {
	return ts <= e.at && ts > e.after && len(st.selected) > 0
}

// Add counts one entry. Entries may come in any order; see AddLine.
func (e *Evaluator) Add(en Entry) {
	if en.TS > e.at || en.TS <= e.after {
		return // Cheap: no stream lookup for entries outside every window.
	}
	st := e.Stream(en.Labels)
	if !e.Wants(st, en.TS) {
		return
	}
	e.AddLine(st, en.TS, unsafe.Slice(unsafe.StringData(en.Line), len(en.Line)))
}

// AddLine counts one entry of st. line is only read during the call.
//
// An entry with the stream, timestamp and line of one already added is
// stored once, as Loki does. Duplicates are recognised among the entries
// of a stream at the timestamp of its previous entry, which finds them
// all when each stream's entries come in time order (either direction),
// as in a snapshot, with memory bounded by the number of streams.
func (e *Evaluator) AddLine(st *Stream, ts int64, line []byte) {
	if !e.Wants(st, ts) {
		return
	}
	if st.seen(ts, maphash.Bytes(e.seed, line)) {
		return
	}
	c := &e.entry
	c.reset(st, ts, line)
	c.evalAll(e)
}

// AddPrepared is AddLine for a line PrepareLine(line, ts, ...) gave p
// for.
func (e *Evaluator) AddPrepared(st *Stream, ts int64, line []byte, p *LinePrep) {
	if !e.Wants(st, ts) {
		return
	}
	if st.seen(ts, p.hash) {
		return
	}
	c := &e.entry
	c.reset(st, ts, line)
	c.lits, c.litsOK = p.lits, true
	c.prep = p
	c.evalAll(e)
}

func (c *entryCtx) evalAll(e *Evaluator) {
	st := c.st
	for _, qi := range st.selected {
		q := e.queries[qi]
		// Most lines fail a query's first line filter (a redaction
		// pattern): when PrepareLine ran it, skip the call.
		if q.firstFlt >= 0 && c.prep != nil && c.prep.fltOK && c.prep.flts&(1<<q.firstFlt) == 0 {
			continue
		}
		e.eval(q, c)
	}
}

func (e *Evaluator) eval(q *evalQuery, c *entryCtx) {
	if c.ts <= q.after || q.err != nil {
		return
	}
	line := c.line
	b := &e.b
	b.reset(c)
	for si, s := range q.stages {
		switch s := s.(type) {
		case *lineFilter:
			if c.prep != nil && c.prep.fltOK && q.fltBits != nil {
				if c.prep.flts&(1<<q.fltBits[si]) == 0 {
					return
				}
			} else if q.litIDs != nil && q.litIDs[si] != nil {
				if !c.litsOK {
					c.lits, c.litsOK = e.lits.scan(line), true
				}
				if !s.matchesLits(line, q.litIDs[si], c.lits) {
					return
				}
			} else if !s.matches(line) {
				return
			}
		case *jsonStage:
			if q.skipParsers {
				continue
			}
			if s.params == nil {
				b.apply(c.jsonAll())
			} else {
				c.params.reset()
				extractJSONParams(&c.params, c.st, line, s.params)
				b.apply(&c.params)
			}
		case *logfmtStage:
			if !q.skipParsers {
				b.apply(c.logfmt())
			}
		case *labelFilter:
			if !b.filter(s.m) {
				return
			}
		case *dropStage:
			b.drop(s)
		}
	}
	v := 1.0
	if !q.count {
		v = float64(len(line))
	}

	// The series of a line-only query depends on the stream alone
	// (detected_level too when a label gives it), as does a byStream
	// query's once the entry is counted (an error not kept has failed
	// the query first): look it up once. A line-only query has no
	// parser, so no error.
	constant := q.lineOnly && (!q.needsDetected || c.st.hasLevel)
	if b.errType != "" && !b.isDropped(errorLabel) && !q.preserveErr {
		// Parsers extracted what any query reads: the error names only
		// the labels of the entry that q's own would have.
		b.parsed = slices.DeleteFunc(b.parsed, func(p kv) bool { return !q.errWant.wants(p.name) })
		e.scratch = b.all(e.scratch[:0])
		q.err = &PipelineError{ErrorType: b.errType, Series: cloneLabels(e.scratch)}
		q.series = nil
		return
	}
	constant = constant || c.st.fixed[q.idx]
	if constant {
		if sr := c.st.cached[q.idx]; sr != nil {
			sr.v += v
			return
		}
	}
	sr := e.seriesFor(q, b)
	if sr == nil {
		return
	}
	if constant {
		c.st.cached[q.idx] = sr
	}
	sr.v += v
}

// seriesFor finds or makes the result series of the entry in b.
func (e *Evaluator) seriesFor(q *evalQuery, b *builder) *series {
	key := e.key[:0]
	var ls []labels.Label
	if q.all {
		ls = b.all(e.scratch[:0])
		ls = slices.DeleteFunc(ls, func(l labels.Label) bool { return slices.Contains(q.out, l.Name) })
		for _, l := range ls {
			key = appendKeyPart(key, l.Name)
			key = appendKeyPart(key, l.Value)
		}
	} else {
		ls = e.scratch[:0]
		for _, name := range q.by {
			v, ok := b.get(name)
			if !ok {
				key = append(key, 0)
				continue
			}
			key = append(key, 1)
			key = appendKeyPart(key, v)
			ls = append(ls, labels.Label{Name: name, Value: v})
		}
	}
	e.key, e.scratch = key, ls
	if q.lastSr != nil && string(q.lastKey) == string(key) {
		return q.lastSr
	}
	if sr, ok := q.series[string(key)]; ok {
		q.lastKey, q.lastSr = append(q.lastKey[:0], key...), sr
		return sr
	}
	if e.MaxSeries > 0 && len(q.series) >= e.MaxSeries {
		q.err = &SeriesLimitError{Limit: e.MaxSeries}
		q.series = nil
		return nil
	}
	sr := &series{lbls: cloneLabels(ls)}
	q.series[string(key)] = sr
	q.lastKey, q.lastSr = append(q.lastKey[:0], key...), sr
	return sr
}

func appendKeyPart(key []byte, s string) []byte {
	key = binary.AppendUvarint(key, uint64(len(s)))
	return append(key, s...)
}

// cloneLabels makes labels that own their strings: the scratch labels
// may point into buffers reused for the next entry.
func cloneLabels(ls []labels.Label) labels.Labels {
	b := labels.NewScratchBuilder(len(ls))
	for _, l := range ls {
		b.Add(strings.Clone(l.Name), strings.Clone(l.Value))
	}
	b.Sort()
	return b.Labels()
}

// Result is the i-th query's answer: its series sorted by labels, or the
// error that failed it (*PipelineError, *SeriesLimitError). A query no
// entry matched has an empty vector.
func (e *Evaluator) Result(i int) (model.Vector, error) {
	q := e.queries[i]
	if q.err != nil {
		return nil, q.err
	}
	all := make([]*series, 0, len(q.series))
	for _, sr := range q.series {
		all = append(all, sr)
	}
	slices.SortFunc(all, func(a, b *series) int { return labels.Compare(a.lbls, b.lbls) })
	ts := model.TimeFromUnixNano(e.at)
	vec := make(model.Vector, 0, len(all))
	for _, sr := range all {
		m := make(model.Metric, sr.lbls.Len())
		sr.lbls.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		vec = append(vec, &model.Sample{Metric: m, Value: model.SampleValue(sr.v), Timestamp: ts})
	}
	return vec, nil
}

// entryCtx is one entry and what has been worked out about it, shared by
// every query that reads it.
type entryCtx struct {
	st   *Stream
	ts   int64
	line []byte

	detected   string
	detectedOK bool
	levelArena []byte

	lits   uint64 // the literals of e.lits the line holds, once litsOK
	litsOK bool
	prep   *LinePrep // what PrepareLine worked out, or nil

	json     parseResult
	jsonOK   bool
	logfmtR  parseResult
	logfmtOK bool
	params   parseResult
}

func (c *entryCtx) reset(st *Stream, ts int64, line []byte) {
	c.st, c.ts, c.line, c.prep = st, ts, line, nil
	c.detectedOK, c.jsonOK, c.logfmtOK, c.litsOK = false, false, false, false
}

func (c *entryCtx) detectedLevel() string {
	if c.st.hasLevel {
		return c.st.level
	}
	if !c.detectedOK {
		c.levelArena = c.levelArena[:0]
		c.detected, c.detectedOK = bodyLevel(c.line, &c.levelArena), true
	}
	return c.detected
}

func (c *entryCtx) jsonAll() *parseResult {
	if !c.jsonOK {
		c.json.reset()
		if c.prep != nil && c.prep.jsonOK {
			jsonFromPrep(&c.json, c.st, c.prep)
		} else {
			extractJSON(&c.json, c.st, c.line)
		}
		c.jsonOK = true
	}
	return &c.json
}

func (c *entryCtx) logfmt() *parseResult {
	if !c.logfmtOK {
		c.logfmtR.reset()
		extractLogfmt(&c.logfmtR, c.st, c.line)
		c.logfmtOK = true
	}
	return &c.logfmtR
}

// kv is an extracted label. Both strings may point into the line or a
// reused buffer: they live as long as the entry is being evaluated.
type kv struct{ name, value string }

// parseResult is what a parser made of one line.
type parseResult struct {
	pairs      []kv
	errType    string
	errDetails string
	arena      []byte // unescaped and built strings

	// wanted limits extraction to the labels some query reads (by,
	// label filters, drop), unless wantAll: Loki's parser hints, which
	// change no answer but save the work.
	wanted  []string
	wantAll bool
	// wantLens has bit n set when a name n bytes long may be wanted (as
	// itself or with _extracted); names of 64 bytes or more are checked
	// against wanted in full.
	wantLens uint64
	// wantIdx holds, by length below 64, the names wants is true for:
	// each wanted name, and each without its _extracted.
	wantIdx *[64][]string

	jx jsonExtractor // reused: passing a fresh one as an interface allocates
}

// wants reports whether a parser should extract the field that would
// be labelled name (or name_extracted).
func (r *parseResult) wants(name string) bool {
	if r.wantAll {
		return true
	}
	if len(name) < 64 {
		if r.wantLens&(1<<len(name)) == 0 {
			return false // no wanted name is that long: the common case
		}
		if r.wantIdx != nil { // nil: no index (wantLens set by hand), try them all
			for _, w := range r.wantIdx[len(name)] {
				// The last bytes first: they differ most often between
				// names of one length (task_id, span_id), and comparing
				// one byte saves the call that compares strings.
				if len(name) > 0 && (w[len(w)-1] != name[len(name)-1] || w[0] != name[0]) {
					continue // every w here is as long as name
				}
				if w == name {
					return true
				}
			}
			return false
		}
	}
	for _, w := range r.wanted {
		if w == name || (len(w) == len(name)+len("_extracted") && w[:len(name)] == name && w[len(name):] == "_extracted") {
			return true
		}
	}
	return false
}

// wantsLen reports whether a name n bytes long may be wanted (as itself
// or with _extracted): wants is false for every name of a length for
// which this is false.
func (r *parseResult) wantsLen(n int) bool {
	if r.wantAll {
		return true
	}
	if n < 64 {
		return r.wantLens&(1<<n) != 0
	}
	for _, w := range r.wanted {
		if len(w) == n || len(w) == n+len("_extracted") {
			return true
		}
	}
	return false
}

// setWantLens works out wantLens from wanted.
func (r *parseResult) setWantLens() {
	r.wantLens = 0
	idx := new([64][]string)
	for _, w := range r.wanted {
		for _, n := range []int{len(w), len(w) - len("_extracted")} {
			if n >= 0 && n < 64 { // longer names are checked in full
				r.wantLens |= 1 << n
			}
		}
		if len(w) < 64 {
			idx[len(w)] = append(idx[len(w)], w)
		}
		if b, ok := strings.CutSuffix(w, "_extracted"); ok && len(b) < 64 {
			idx[len(b)] = append(idx[len(b)], b)
		}
	}
	r.wantIdx = idx
}

func (r *parseResult) reset() {
	r.pairs = r.pairs[:0]
	r.errType, r.errDetails = "", ""
	r.arena = r.arena[:0]
}

func (r *parseResult) has(name string) bool {
	for i := range r.pairs {
		if r.pairs[i].name == name {
			return true
		}
	}
	return false
}

// sanitize turns a key into a label name as Loki's parsers do: white
// space around it is trimmed, every character but ASCII letters, digits
// and _ becomes _, and a leading digit gets a _ before it (only for the
// first part of a nested name).
func (r *parseResult) sanitize(key []byte, first bool) string {
	key = bytes.TrimSpace(key)
	if len(key) == 0 {
		return ""
	}
	ok := !(first && key[0] >= '0' && key[0] <= '9')
	for _, c := range key {
		if !isIdentChar(c) {
			ok = false
			break
		}
	}
	if ok {
		return view(key)
	}
	start := len(r.arena)
	if first && key[0] >= '0' && key[0] <= '9' {
		r.arena = append(r.arena, '_')
	}
	for i := 0; i < len(key); {
		c := key[i]
		if c < utf8.RuneSelf {
			if !isIdentChar(c) {
				c = '_'
			}
			r.arena = append(r.arena, c)
			i++
			continue
		}
		_, n := utf8.DecodeRune(key[i:])
		r.arena = append(r.arena, '_')
		i += n
	}
	return view(r.arena[start:])
}

// dedupName is name, or name_extracted when the stream has a label name.
func (r *parseResult) dedupName(name string, st *Stream) string {
	if st.get(name) == "" {
		return name
	}
	start := len(r.arena)
	r.arena = append(r.arena, name...)
	r.arena = append(r.arena, "_extracted"...)
	return view(r.arena[start:])
}

// stringValue is the value of a JSON string: unescaped ("" when the
// escapes are invalid), without the replacement characters Prometheus
// would reject.
func (r *parseResult) stringValue(raw []byte) string {
	if !hasEscapeOrHighBit(raw) {
		return view(raw)
	}
	start := len(r.arena)
	var ok bool
	if r.arena, ok = AppendUnquoted(r.arena, raw); !ok {
		r.arena = r.arena[:start]
		return ""
	}
	v := r.arena[start:]
	if utf8.Valid(v) && !containsRuneError(v) {
		return view(v)
	}
	clean := r.arena[len(r.arena):]
	for i := 0; i < len(v); {
		ru, n := utf8.DecodeRune(v[i:])
		if ru != utf8.RuneError {
			clean = append(clean, v[i:i+n]...)
		}
		i += n
	}
	r.arena = append(r.arena, clean...)
	return view(clean)
}

func hasEscapeOrHighBit(b []byte) bool {
	// Eight bytes at a time: a byte with its high bit set, or a zero
	// byte of x^'\\'s (the exact zero-byte test, as no byte of it has
	// the high bit when none of x has).
	const ones, highs, backslashes = 0x0101010101010101, 0x8080808080808080, 0x5c5c5c5c5c5c5c5c
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		y := x ^ backslashes
		if (x|(y-ones)&^y)&highs != 0 {
			return true
		}
		b = b[8:]
	}
	for _, c := range b {
		if c == '\\' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// builder holds the labels of an entry as one query's pipeline changes
// them: the stream's, detected_level, what parsers extracted, errors.
type builder struct {
	c          *entryCtx
	parsed     []kv
	errType    string
	errDetails string
	dropped    []string
}

func (b *builder) reset(c *entryCtx) {
	b.c = c
	b.parsed = b.parsed[:0]
	b.errType, b.errDetails = "", ""
	b.dropped = b.dropped[:0]
}

// apply adds a parser's labels; a label an earlier parser set stays.
func (b *builder) apply(r *parseResult) {
	for _, p := range r.pairs {
		if !b.hasParsed(p.name) {
			b.parsed = append(b.parsed, p)
		}
	}
	if r.errType != "" && b.errType == "" {
		b.errType, b.errDetails = r.errType, r.errDetails
	}
}

func (b *builder) hasParsed(name string) bool {
	for i := range b.parsed {
		if b.parsed[i].name == name {
			return true
		}
	}
	return false
}

func (b *builder) isDropped(name string) bool { return slices.Contains(b.dropped, name) }

func (b *builder) get(name string) (string, bool) {
	if len(b.dropped) > 0 && b.isDropped(name) {
		return "", false
	}
	switch name {
	case errorLabel:
		return b.errType, b.errType != ""
	case errorDetailsLabel:
		return b.errDetails, b.errDetails != ""
	}
	for i := range b.parsed {
		if b.parsed[i].name == name {
			return b.parsed[i].value, true
		}
	}
	if name == detectedLevelLabel {
		return b.c.detectedLevel(), true
	}
	v := b.c.st.get(name)
	return v, v != ""
}

// filter runs a label filter. While an entry carries an error, only
// filters on __error__ can drop it, as in Loki.
func (b *builder) filter(m *labels.Matcher) bool {
	if m.Name != errorLabel && b.errType != "" && !b.isDropped(errorLabel) {
		return true
	}
	v, _ := b.get(m.Name)
	return m.Matches(v)
}

func (b *builder) drop(s *dropStage) {
	for _, it := range s.items {
		if it.m != nil {
			v, ok := b.get(it.name)
			if !ok || !it.m.Matches(v) {
				continue
			}
		}
		if !b.isDropped(it.name) {
			b.dropped = append(b.dropped, it.name)
		}
	}
}

// all appends every label of the entry to dst, sorted by name.
func (b *builder) all(dst []labels.Label) []labels.Label {
	add := func(name, value string) {
		if len(b.dropped) == 0 || !b.isDropped(name) {
			dst = append(dst, labels.Label{Name: name, Value: value})
		}
	}
	b.c.st.lbls.Range(func(l labels.Label) { add(l.Name, l.Value) })
	if !b.hasParsed(detectedLevelLabel) && !b.c.st.lbls.Has(detectedLevelLabel) {
		add(detectedLevelLabel, b.c.detectedLevel())
	}
	for _, p := range b.parsed {
		add(p.name, p.value)
	}
	if b.errType != "" {
		add(errorLabel, b.errType)
		if b.errDetails != "" {
			add(errorDetailsLabel, b.errDetails)
		}
	}
	slices.SortFunc(dst, func(x, y labels.Label) int { return strings.Compare(x.Name, y.Name) })
	return dst
}
