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

// fltStage is a line filter of a query, as PrepareLine runs it: for
// entries after the query's window start, with the bits of its regexps'
// literals.
type fltStage struct {
	after  int64
	litIDs []int
	f      *lineFilter
	// litMask, when the filter is |~ or !~ and every regexp of it has a
	// literal (else 0): the bits of those literals. A line holding none
	// of them matches none of the regexps.
	litMask uint64
}

// prepSetup is all PrepareLine reads of the evaluator. It lives apart
// from the evaluator's own state, which AddPrepared writes for every
// entry on another core: sharing a cache line with it, every such write
// would make the workers' next read miss (false sharing; measured: the
// two cores took 28% more CPU than one for the same work). The padding
// keeps other objects off its cache lines.
type prepSetup struct {
	_                   [64]byte
	at, after           int64 // the evaluator's window
	seed                maphash.Seed
	lits                *litSet
	flts                []fltStage
	fltAfter, jsonAfter int64
	json                parseResult // wanted, wantAll and wantLens of the fields kept
	_                   [64]byte
}

// maxFltStages is how many line filters PrepareLine runs (bits of a
// uint64); with more, the evaluator runs them all itself.
const maxFltStages = 64

// preparePrep sets up what PrepareLine does: which line filters it runs
// and which `| json` fields it keeps, and from when on (the earliest
// window start of the queries that need them).
func (e *Evaluator) preparePrep() {
	ps := &prepSetup{at: e.at, after: e.after, seed: e.seed, lits: e.lits, fltAfter: e.at, jsonAfter: e.at}
	e.prep = ps
	var flts []fltStage
	for _, q := range e.queries {
		q.fltBits = make([]int, len(q.stages))
		for si, s := range q.stages {
			q.fltBits[si] = -1
			if f, ok := s.(*lineFilter); ok {
				q.fltBits[si] = len(flts)
				var ids []int
				if q.litIDs != nil {
					ids = q.litIDs[si]
				}
				fs := fltStage{after: q.after, litIDs: ids, f: f}
				if (f.op == tPipeMatch || f.op == tNre) && len(ids) == len(f.res) && len(ids) > 0 {
					for _, id := range ids {
						if id < 0 {
							fs.litMask = 0
							break
						}
						fs.litMask |= 1 << id
					}
				}
				flts = append(flts, fs)
				ps.fltAfter = min(ps.fltAfter, q.after)
			}
			if js, ok := s.(*jsonStage); ok && js.params == nil && !q.skipParsers {
				ps.jsonAfter = min(ps.jsonAfter, q.after)
			}
		}
	}
	if len(flts) > maxFltStages {
		flts = nil
		ps.fltAfter = e.at
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
	ps.flts = flts
	if ps.jsonAfter < e.at {
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
		ps.json = parseResult{wanted: sortedUnique(want), wantAll: e.entry.json.wantAll}
		ps.json.setWantLens()
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
	ps := e.prep
	p := LinePrep{hash: maphash.Bytes(ps.seed, line)}
	if ts > ps.at || ts <= ps.after {
		return p
	}
	if ps.lits != nil {
		p.lits = ps.lits.scan(line)
	}
	if ts > ps.fltAfter && len(ps.flts) > 0 {
		p.fltOK = true
		for i := range ps.flts {
			fs := &ps.flts[i]
			if ts <= fs.after {
				continue
			}
			if fs.litMask != 0 && p.lits&fs.litMask == 0 {
				// None of the regexps' literals: no regexp matches,
				// which passes !~ only.
				if fs.f.op == tNre {
					p.flts |= 1 << i
				}
				continue
			}
			if fs.f.matchesLits(line, fs.litIDs, p.lits) {
				p.flts |= 1 << i
			}
		}
	}
	if ts > ps.jsonAfter && s != nil {
		r := &s.res
		r.wanted, r.wantAll, r.wantLens, r.wantIdx = ps.json.wanted, ps.json.wantAll, ps.json.wantLens, ps.json.wantIdx
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
