package logql

import (
	"hash/maphash"
	"strings"
)

// Preparing lines apart. What a line's evaluation needs from the line
// alone (its hash for the duplicate check, the prefilters' literals, the
// line filters' verdicts, and what `| json` extracts) can be worked out
// on other goroutines, ahead of AddPrepared, which is left with what
// depends on the stream: that splits the work of a line about evenly
// between the caller's workers and the evaluating goroutine.
//
// `| json` is extracted in two steps. PrepareLine walks the line as for
// a stream without labels and keeps every field whose label some query
// may read, under its own name (the first of duplicate names); then
// AddPrepared renames the fields the stream has labels for
// (name_extracted, as Loki does) and keeps the first of the names that
// now collide. A field is kept in the first step when its name n, or
// n_extracted, may be read (wants): after renaming, its label is n or
// n_extracted, and wants(n_extracted) holds only for a wanted
// n_extracted or n_extracted_extracted, both covered.

// LineScratch holds what PrepareLine extracted from the lines of one
// batch; the LinePreps of these lines refer to it. Reset it once they
// have all been added (AddPrepared). One LineScratch serves one
// goroutine at a time.
type LineScratch struct {
	pairs []kv        // the fields of every prepared line, in turn
	res   parseResult // the walk of one line; its arena holds the text of pairs
}

// Reset forgets the prepared lines, reusing the memory.
func (s *LineScratch) Reset() {
	s.pairs = s.pairs[:0]
	s.res.arena = s.res.arena[:0]
}

// LinePrep is what an evaluator works out about a line alone, before
// its stream matters: PrepareLine may run on other goroutines, ahead of
// AddPrepared.
type LinePrep struct {
	hash uint64
	lits uint64

	// flts has bit i set when the line passes the evaluator's line
	// filter i (fltStages); fltOK: the bits were worked out.
	flts  uint64
	fltOK bool

	// The fields `| json` extracted (scratch.pairs[jsonFrom:jsonTo],
	// before renaming) and what it made of the line; jsonOK: worked out.
	jsonOK                bool
	jsonFrom, jsonTo      int32
	jsonErr, jsonErrTexts string
	scratch               *LineScratch
}

// fltStage is a line filter of a query, as PrepareLine runs it.
type fltStage struct {
	q  *evalQuery
	si int
	f  *lineFilter
}

// maxFltStages is how many line filters PrepareLine runs (bits of a
// uint64); with more, the evaluator runs them all itself.
const maxFltStages = 64

// preparePrep sets up what PrepareLine does: which line filters it runs
// and which `| json` fields it keeps, and from when on (the earliest
// window start of the queries that need them).
func (e *Evaluator) preparePrep() {
	e.fltAfter, e.jsonAfter = e.at, e.at
	var flts []fltStage
	for _, q := range e.queries {
		q.fltBits = make([]int, len(q.stages))
		for si, s := range q.stages {
			q.fltBits[si] = -1
			if f, ok := s.(*lineFilter); ok {
				q.fltBits[si] = len(flts)
				flts = append(flts, fltStage{q: q, si: si, f: f})
				e.fltAfter = min(e.fltAfter, q.after)
			}
			if js, ok := s.(*jsonStage); ok && js.params == nil && !q.skipParsers {
				e.jsonAfter = min(e.jsonAfter, q.after)
			}
		}
	}
	if len(flts) > maxFltStages {
		flts = nil
		e.fltAfter = e.at
		for _, q := range e.queries {
			q.fltBits = nil
		}
	}
	for _, q := range e.queries {
		q.firstFlt = -1
		if len(q.fltBits) > 0 {
			q.firstFlt = q.fltBits[0]
		}
	}
	e.flts = flts
	if e.jsonAfter < e.at {
		// The names wanted as they are, and without one or two
		// _extracted suffixes (see above).
		want := e.entry.json.wanted
		for _, w := range e.entry.json.wanted {
			for range 2 {
				var ok bool
				if w, ok = strings.CutSuffix(w, "_extracted"); !ok {
					break
				}
				want = append(want, w)
			}
		}
		e.preJSON = parseResult{wanted: sortedUnique(want), wantAll: e.entry.json.wantAll}
		e.preJSON.setWantLens()
	}
}

// noLabels is the stream PrepareLine extracts `| json` fields for: one
// without labels, so that no field is renamed.
var noLabels = &Stream{}

// LineHint is what a caller learnt of a line while reading it, which
// saves PrepareLine work.
type LineHint struct {
	// Quotes, when QuotesKnown, are the offsets of every '"' of the
	// line, in order, and the line holds no backslash.
	Quotes      []int32
	QuotesKnown bool
}

// PrepareLine works out what can be of line, an entry at ts, ahead of
// AddPrepared; what it extracts goes to s, which must live until the
// line is added. It is safe for concurrent use (with a LineScratch per
// goroutine), also with AddLine and AddPrepared.
func (e *Evaluator) PrepareLine(line []byte, ts int64, s *LineScratch, hint LineHint) LinePrep {
	p := LinePrep{hash: maphash.Bytes(e.seed, line)}
	if ts > e.at || ts <= e.after {
		return p
	}
	if e.lits != nil {
		p.lits = e.lits.scan(line)
	}
	if ts > e.fltAfter && len(e.flts) > 0 {
		p.fltOK = true
		for i, fs := range e.flts {
			if ts > fs.q.after && fs.f.matchesLits(line, fs.q.litIDs[fs.si], p.lits) {
				p.flts |= 1 << i
			}
		}
	}
	if ts > e.jsonAfter && s != nil {
		r := &s.res
		r.wanted, r.wantAll, r.wantLens = e.preJSON.wanted, e.preJSON.wantAll, e.preJSON.wantLens
		r.pairs = r.pairs[:0]
		r.errType, r.errDetails = "", ""
		if !hint.QuotesKnown || !extractJSONQuoted(r, noLabels, line, hint.Quotes) {
			extractJSON(r, noLabels, line)
		}
		p.jsonOK, p.scratch = true, s
		p.jsonFrom = int32(len(s.pairs))
		s.pairs = append(s.pairs, r.pairs...)
		p.jsonTo = int32(len(s.pairs))
		p.jsonErr, p.jsonErrTexts = r.errType, r.errDetails
	}
	return p
}

// jsonFromPrep fills res, for st, from what PrepareLine extracted.
func jsonFromPrep(res *parseResult, st *Stream, p *LinePrep) {
	for _, kv := range p.scratch.pairs[p.jsonFrom:p.jsonTo] {
		name := res.dedupName(kv.name, st)
		if !res.wants(name) || res.has(name) {
			continue
		}
		kv.name = name
		res.pairs = append(res.pairs, kv)
	}
	res.errType, res.errDetails = p.jsonErr, p.jsonErrTexts
}
