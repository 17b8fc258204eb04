package logql

import (
	"bytes"
	"math/bits"

	"github.com/secflow/secflow-budget/internal/simdscan"
)

// litSet finds which of a set of literals a line holds, for the
// prefilters of every regexp line filter of an evaluator's queries at
// once: each literal is looked for by its rarest byte (both cases when
// folded) with the vectorised bytes.IndexByte, then confirmed around
// it. (An Aho-Corasick automaton reading the line once for all of them
// was measured first: a table lookup a byte, 1.8 ns/byte here, slower
// than six vectorised searches for rare bytes.) It is immutable once
// built: safe for concurrent use.
type litSet struct {
	lits []litSearch
	// The bits of folded literals with a k (an s), set when the line
	// holds U+212A KELVIN SIGN (U+017F LONG S), which fold to k (s).
	kelvinLits, longSLits uint64

	// With at most eight rare bytes in all (both cases of a folded
	// literal's), the line can be read once, 64 bytes at a time, for
	// all of them (scanBlocks, used with vector instructions only:
	// simdscan.Fast): rare is their set, byRare the bits of the
	// literals looked for by each byte.
	rare   *simdscan.Set
	byRare [256]uint64
}

// litSearch is one literal and how to look for it.
type litSearch struct {
	lit    []byte // lower-case ASCII when fold
	fold   bool
	at     int  // the offset of the rare byte in lit
	b1, b2 byte // the rare byte, in both cases when fold (else b2 == b1)
}

// maxLits is how many literals a litSet takes (bits of a uint64).
const maxLits = 64

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// byteRank estimates how often a byte occurs in log lines (JSON, text):
// higher is more frequent. Rough, but enough to look for "J" rather
// than "e" in "eyJ".
var byteRank = func() (r [256]int) {
	for c := range 256 {
		r[c] = 1 // other bytes: rare
	}
	for c := byte('0'); c <= '9'; c++ {
		r[c] = 30
	}
	// Letters, rarest first: English, with w, y and g before b and p as
	// they are in logs (JSON keys like "bytes", "path", "prod").
	for i, c := range []byte("zqjxkvwygbfpmcludhrsnioate") {
		r[c] = 20 + 4*i
		r[upperASCII(c)] = 2 + i/2 // capitals: rarer, in the same order
	}
	for _, c := range []byte(` ":,{}`) {
		r[c] = 200
	}
	for _, c := range []byte(`._-/=`) {
		r[c] = 60
	}
	return r
}()

func newLitSearch(lit []byte, fold bool) litSearch {
	ls := litSearch{lit: lit, fold: fold}
	best := -1
	for i, c := range lit {
		cost := byteRank[c]
		if fold && upperASCII(c) != c {
			cost += byteRank[upperASCII(c)]
		}
		if best < 0 || cost < best {
			best, ls.at = cost, i
		}
	}
	ls.b1, ls.b2 = lit[ls.at], lit[ls.at]
	if fold {
		ls.b2 = upperASCII(ls.b1)
	}
	return ls
}

// newLitSet builds the set of the prefilters' literals; ids[i] is the
// bit of prefilter i (-1: it has no literal). Nil when there are none or
// too many.
func newLitSet(pres []prefilter) (*litSet, []int) {
	ids := make([]int, len(pres))
	s := &litSet{}
	for i, p := range pres {
		ids[i] = -1
		if len(p.lit) == 0 {
			continue
		}
		id := -1
		for j, l := range s.lits {
			if l.fold == p.fold && bytes.Equal(l.lit, p.lit) {
				id = j
			}
		}
		if id < 0 {
			if len(s.lits) == maxLits {
				return nil, nil
			}
			id = len(s.lits)
			s.lits = append(s.lits, newLitSearch(p.lit, p.fold))
		}
		ids[i] = id
		if p.kelvin {
			s.kelvinLits |= 1 << id
		}
		if p.longS {
			s.longSLits |= 1 << id
		}
	}
	if len(s.lits) == 0 {
		return nil, nil
	}
	var rare []byte
	for id, l := range s.lits {
		s.byRare[l.b1] |= 1 << id
		s.byRare[l.b2] |= 1 << id
		rare = append(rare, l.b1, l.b2)
	}
	s.rare = simdscan.NewSet(rare) // nil with more than eight
	return s, ids
}

// scan returns the bits of the literals line may hold: every literal it
// holds, and the folded literals with a k or an s when it holds a rune
// that folds to one.
func (s *litSet) scan(line []byte) uint64 {
	var found uint64
	if s.rare != nil && simdscan.Fast() {
		found = s.scanBlocks(line)
	} else {
		for id := range s.lits {
			if s.lits[id].in(line) {
				found |= 1 << id
			}
		}
	}
	if missing := s.kelvinLits &^ found; missing != 0 && bytes.Contains(line, kelvinSign) {
		found |= missing
	}
	if missing := s.longSLits &^ found; missing != 0 && bytes.Contains(line, longS) {
		found |= missing
	}
	return found
}

// scanBlocks returns the bits of the literals line holds: every place
// of a rare byte, found 64 bytes at a time, is a candidate for the
// literals looked for by it, confirmed around it.
func (s *litSet) scanBlocks(line []byte) uint64 {
	var found uint64
	all := uint64(1)<<len(s.lits) - 1
	var blk [simdscan.BlockSize]byte
	for pos := 0; pos < len(line); pos += simdscan.BlockSize {
		var m uint64
		if n := len(line) - pos; n >= simdscan.BlockSize {
			m = s.rare.Mask((*[simdscan.BlockSize]byte)(line[pos : pos+simdscan.BlockSize]))
		} else {
			copy(blk[:], line[pos:])
			clear(blk[n:])
			m = s.rare.Mask(&blk) & (1<<n - 1)
		}
		for ; m != 0; m &= m - 1 {
			at := pos + bits.TrailingZeros64(m)
			for cand := s.byRare[line[at]] &^ found; cand != 0; cand &= cand - 1 {
				id := bits.TrailingZeros64(cand)
				l := &s.lits[id]
				if start := at - l.at; start >= 0 && start+len(l.lit) <= len(line) && l.equalAt(line[start:start+len(l.lit)]) {
					found |= 1 << id
				}
			}
		}
		if found == all {
			break
		}
	}
	return found
}

// in reports whether line holds the literal (in any ASCII case when
// folded).
func (l *litSearch) in(line []byte) bool {
	n := len(l.lit)
	// The next place of each spelling of the rare byte at or after i
	// (-1: none left, -2: not looked for yet): a folded literal's two
	// spellings are each looked for once per place, not again for every
	// candidate of the other.
	n1, n2 := -2, -2
	if l.b2 == l.b1 {
		n2 = -1
	}
	for i := l.at; i+n-l.at <= len(line); {
		if n1 != -1 && n1 < i {
			if n1 = bytes.IndexByte(line[i:], l.b1); n1 >= 0 {
				n1 += i
			}
		}
		if n2 != -1 && n2 < i {
			if n2 = bytes.IndexByte(line[i:], l.b2); n2 >= 0 {
				n2 += i
			}
		}
		p := n1
		if p < 0 || (n2 >= 0 && n2 < p) {
			p = n2
		}
		if p < 0 {
			return false
		}
		start := p - l.at
		if start+n > len(line) {
			return false
		}
		if l.equalAt(line[start : start+n]) {
			return true
		}
		i = p + 1
	}
	return false
}

func (l *litSearch) equalAt(w []byte) bool {
	if !l.fold {
		return bytes.Equal(w, l.lit)
	}
	for k, c := range w {
		if lowerASCII(c) != l.lit[k] {
			return false
		}
	}
	return true
}
