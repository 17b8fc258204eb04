package logql

import (
	"bytes"
	"regexp"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// Narrowing a regexp line filter to part of the line. Go's regexp looks
// for an unanchored match from every position of the line, which costs
// microseconds on a line that holds a pattern's literal but no match
// ("password reset requested" for `(?i)password\s*[=:]\s*\S+`): the
// near misses the prefilter lets through. Every match holds the
// prefilter's literal, so the regexp is run only where a match can be:
//
//   - when every match starts with the literal, the regexp anchored at
//     each place the literal is (`^(?:RE)` on the rest of the line);
//   - when a match is made of a known set of bytes only and the regexp
//     tests no context (no ^ $ \b \B), the regexp on the run of such
//     bytes around each place the literal is (for an e-mail address: the
//     word around the @).
//
// Both give the answer the regexp gives on the whole line. A folded
// literal is found in ASCII spellings only: a line that holds one of the
// two non-ASCII runes that fold to ASCII letters (see prefilter) is
// matched whole.
type narrowing struct {
	anchored *regexp.Regexp // the regexp anchored at its start, or nil
	member   *[256]bool     // the bytes a match is made of, or nil
}

// newNarrowing works out how expr, whose prefilter is p, can be run on
// less of a line; the zero narrowing when it cannot.
func newNarrowing(expr string, p prefilter) narrowing {
	if len(p.lit) == 0 {
		return narrowing{}
	}
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return narrowing{}
	}
	re = re.Simplify()
	if startsWithLiteral(re, p) {
		if a, err := regexp.Compile(`^(?:` + expr + `)`); err == nil {
			return narrowing{anchored: a}
		}
	}
	var m [256]bool
	if alphabet(re, &m) {
		return narrowing{member: &m}
	}
	return narrowing{}
}

// startsWithLiteral: every match of re starts with the prefilter's
// literal.
func startsWithLiteral(re *syntax.Regexp, p prefilter) bool {
	for re.Op == syntax.OpCapture {
		re = re.Sub[0]
	}
	if re.Op == syntax.OpConcat && len(re.Sub) > 0 {
		re = re.Sub[0]
		for re.Op == syntax.OpCapture {
			re = re.Sub[0]
		}
	}
	if re.Op != syntax.OpLiteral || (re.Flags&syntax.FoldCase != 0) != p.fold {
		return false
	}
	lit := []byte(string(re.Rune))
	if p.fold {
		lit = bytes.ToLower(lit)
	}
	return bytes.HasPrefix(lit, p.lit)
}

// alphabet marks in m every byte of the UTF-8 of every rune a match of
// re can hold (all bytes from 0x80 on when it can hold a non-ASCII
// rune); false when that is unbounded (., a class with most runes) or
// re tests context, which a cut line would change.
func alphabet(re *syntax.Regexp, m *[256]bool) bool {
	switch re.Op {
	case syntax.OpNoMatch, syntax.OpEmptyMatch:
		return true
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			addRune(m, r)
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					addRune(m, f)
				}
			}
		}
		return true
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo > 0x1000 {
				return false // \S, [^"] and the like: most of Unicode
			}
			for r := lo; r <= hi; r++ {
				addRune(m, r)
				if r >= utf8.RuneSelf {
					break // addRune marked every byte from 0x80
				}
			}
		}
		return true
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat, syntax.OpConcat, syntax.OpAlternate:
		for _, sub := range re.Sub {
			if !alphabet(sub, m) {
				return false
			}
		}
		return true
	}
	// ., assertions (^ $ \A \z \b \B).
	return false
}

func addRune(m *[256]bool, r rune) {
	if r < utf8.RuneSelf {
		m[r] = true
		return
	}
	for c := 0x80; c < 256; c++ {
		m[c] = true
	}
}

// match reports whether re (narrowed by n, its prefilter p) matches
// line.
func (n *narrowing) match(re *regexp.Regexp, p *prefilter, line []byte) bool {
	if (n.anchored == nil && n.member == nil) ||
		(p.kelvin && bytes.Contains(line, kelvinSign)) || (p.longS && bytes.Contains(line, longS)) {
		return re.Match(line)
	}
	for from := 0; from < len(line); {
		at := indexLit(line[from:], p)
		if at < 0 {
			return false
		}
		at += from
		if n.anchored != nil {
			if n.anchored.Match(line[at:]) {
				return true
			}
			from = at + 1
			continue
		}
		start, end := at, at+len(p.lit)
		for start > 0 && n.member[line[start-1]] {
			start--
		}
		for end < len(line) && n.member[line[end]] {
			end++
		}
		if re.Match(line[start:end]) {
			return true
		}
		from = end
	}
	return false
}

// indexLit is the offset of the literal's first ASCII spelling in line
// (in any ASCII case when folded), or -1.
func indexLit(line []byte, p *prefilter) int {
	if !p.fold {
		return bytes.Index(line, p.lit)
	}
	for from := 0; ; {
		i := indexFoldByte(line[from:], p.lit[0])
		if i < 0 {
			return -1
		}
		i += from
		if i+len(p.lit) > len(line) {
			return -1
		}
		if equalFoldASCII(line[i:i+len(p.lit)], p.lit) {
			return i
		}
		from = i + 1
	}
}

// indexFoldByte is the offset of the first c (lower-case) in line, in
// either ASCII case, or -1.
func indexFoldByte(line []byte, c byte) int {
	i := bytes.IndexByte(line, c)
	if u := upperASCII(c); u != c {
		s := line
		if i >= 0 {
			s = line[:i]
		}
		if j := bytes.IndexByte(s, u); j >= 0 {
			return j
		}
	}
	return i
}

// equalFoldASCII: s equals lit (lower-case ASCII) ignoring ASCII case.
func equalFoldASCII(s, lit []byte) bool {
	for i, c := range lit {
		if lowerASCII(s[i]) != c {
			return false
		}
	}
	return true
}
