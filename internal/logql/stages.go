package logql

import (
	"bytes"
	"errors"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
)

// stage is one step of a log pipeline.
type stage interface {
	// String is the stage as canonical LogQL, e.g. `|~ "AKIA[0-9A-Z]{16}"`
	// or `| json`; Loki quotes it so in its errors.
	String() string
	// compile prepares the stage for evaluation (regular expressions).
	compile() error
}

// lineFilter is |= != |~ !~, with `or` alternatives.
type lineFilter struct {
	op     tokKind // tPipeExact, tNeq, tPipeMatch or tNre
	values []string

	lits [][]byte         // |= and !=: the values as bytes
	res  []*regexp.Regexp // |~ and !~
	pres []prefilter      // for each regexp, a cheap necessary condition
	nars []narrowing      // for each regexp, where in a line it is run
}

func (f *lineFilter) String() string {
	var b strings.Builder
	b.WriteString(f.op.name())
	for i, v := range f.values {
		if i > 0 {
			b.WriteString(" or")
		}
		b.WriteString(" ")
		b.WriteString(strconv.Quote(v))
	}
	return b.String()
}

func (f *lineFilter) compile() error {
	f.lits, f.res, f.pres, f.nars = nil, nil, nil, nil
	for _, v := range f.values {
		if f.op == tPipeExact || f.op == tNeq {
			f.lits = append(f.lits, []byte(v))
			continue
		}
		// Loki compiles line filter regexps with Perl flags, unanchored,
		// as regexp.Compile does.
		re, err := regexp.Compile(v)
		if err != nil {
			return err
		}
		pre := newPrefilter(v)
		f.res = append(f.res, re)
		f.pres = append(f.pres, pre)
		f.nars = append(f.nars, newNarrowing(v, pre))
	}
	return nil
}

// matches reports whether the line passes the filter.
func (f *lineFilter) matches(line []byte) bool { return f.matchesLits(line, nil, 0) }

// matchesLits is matches, with the literals of the regexps' prefilters
// already looked for: ids[i] is the bit of regexp i's literal in found
// (-1, or ids nil: run its prefilter).
func (f *lineFilter) matchesLits(line []byte, ids []int, litsFound uint64) bool {
	found := false
	switch f.op {
	case tPipeExact, tNeq:
		for _, l := range f.lits {
			if bytes.Contains(line, l) {
				found = true
				break
			}
		}
	default:
		for i, re := range f.res {
			if ids != nil && ids[i] >= 0 {
				if litsFound&(1<<ids[i]) == 0 {
					continue
				}
			} else if !f.pres[i].mayMatch(line) {
				continue
			}
			if f.nars[i].match(re, &f.pres[i], line) {
				found = true
				break
			}
		}
	}
	if f.op == tNeq || f.op == tNre {
		return !found
	}
	return found
}

// prefilter is a literal that every match of a regexp contains: lines
// without it are rejected without running the regexp, which is most
// lines for redaction patterns.
type prefilter struct {
	lit  []byte // empty: no prefilter
	fold bool   // case-insensitive; lit is lower-case ASCII
	// Under Unicode simple case folding, as (?i) in Go's regexp (and so
	// Loki) uses it, exactly two non-ASCII runes fold to ASCII letters:
	// U+212A KELVIN SIGN to k and U+017F LATIN SMALL LETTER LONG S to s.
	// A folded literal with a k (an s) may therefore match a line
	// through that rune: such a line always "may" match.
	kelvin, longS bool
}

func newPrefilter(expr string) prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return prefilter{}
	}
	runes, fold := requiredLiteral(re.Simplify())
	if len(runes) == 0 {
		return prefilter{}
	}
	lit := []byte(string(runes))
	if fold {
		for _, c := range lit {
			if c >= utf8.RuneSelf {
				// Folding a non-ASCII literal: no prefilter.
				return prefilter{}
			}
		}
		lit = bytes.ToLower(lit)
	}
	return prefilter{lit: lit, fold: fold,
		kelvin: fold && bytes.IndexByte(lit, 'k') >= 0,
		longS:  fold && bytes.IndexByte(lit, 's') >= 0}
}

// requiredLiteral finds the longest literal that every match of re
// contains, and whether it matches case-insensitively.
func requiredLiteral(re *syntax.Regexp) ([]rune, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return re.Rune, re.Flags&syntax.FoldCase != 0
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLiteral(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLiteral(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []rune
		bestFold := false
		for _, sub := range re.Sub {
			if r, f := requiredLiteral(sub); len(r) > len(best) {
				best, bestFold = r, f
			}
		}
		return best, bestFold
	}
	return nil, false
}

// The UTF-8 of the two non-ASCII runes that fold to ASCII letters.
var (
	kelvinSign = []byte("\u212a")
	longS      = []byte("\u017f")
)

func (p prefilter) mayMatch(line []byte) bool {
	if len(p.lit) == 0 {
		return true
	}
	if !p.fold {
		return bytes.Contains(line, p.lit)
	}
	if containsFoldASCII(line, p.lit) {
		return true
	}
	// Not there in ASCII letters; only the two runes that fold to ASCII
	// could still spell it.
	return (p.kelvin && bytes.Contains(line, kelvinSign)) || (p.longS && bytes.Contains(line, longS))
}

// containsFoldASCII reports whether s contains lit (lower-case ASCII)
// ignoring ASCII case. s may hold any bytes: one of a multi-byte UTF-8
// sequence (0x80 and up) never equals an ASCII byte, folded or not, so
// only ASCII spellings of lit are found (mayMatch handles the rest).
func containsFoldASCII(s, lit []byte) bool {
	first := lit[0]
	upper := first
	if first >= 'a' && first <= 'z' {
		upper = first - 'a' + 'A'
	}
	n := len(lit)
	// The next positions of first and upper at or after i; -1: none.
	nl, nu := -2, -2
	if upper == first {
		nu = -1
	}
	for i := 0; ; {
		if nl != -1 && nl < i {
			if nl = bytes.IndexByte(s[i:], first); nl >= 0 {
				nl += i
			}
		}
		if nu != -1 && nu < i {
			if nu = bytes.IndexByte(s[i:], upper); nu >= 0 {
				nu += i
			}
		}
		p := nl
		if p < 0 || (nu >= 0 && nu < p) {
			p = nu
		}
		if p < 0 || p+n > len(s) {
			return false
		}
		j := 1
		for ; j < n; j++ {
			d := s[p+j]
			if d >= 'A' && d <= 'Z' {
				d += 'a' - 'A'
			}
			if d != lit[j] {
				break
			}
		}
		if j == n {
			return true
		}
		i = p + 1
	}
}

// jsonStage is `| json` (every field) or `| json a="path", ...`.
type jsonStage struct {
	params []jsonParam // nil: extract every field
}

type jsonParam struct {
	name string
	expr string
	path []pathElem
}

func (s *jsonStage) String() string {
	if len(s.params) == 0 {
		return "| json"
	}
	parts := make([]string, len(s.params))
	for i, p := range s.params {
		parts[i] = p.name + "=" + strconv.Quote(p.expr)
	}
	return "| json " + strings.Join(parts, ", ")
}

func (s *jsonStage) compile() error { return nil }

// pathElem is one step of a json parameter: a field or an array index.
type pathElem struct {
	key   string
	index int
	isIdx bool
}

// parseJSONPath reads `a.b[0]["c d"]`.
func parseJSONPath(expr string) ([]pathElem, error) {
	bad := func() error { return errors.New("invalid json expression: " + strconv.Quote(expr)) }
	var path []pathElem
	s := expr
	for first := true; len(s) > 0; first = false {
		switch {
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, bad()
			}
			in := strings.TrimSpace(s[1:end])
			if strings.HasPrefix(in, `"`) {
				k, err := strconv.Unquote(in)
				if err != nil {
					return nil, bad()
				}
				path = append(path, pathElem{key: k})
			} else {
				n, err := strconv.Atoi(in)
				if err != nil || n < 0 {
					return nil, bad()
				}
				path = append(path, pathElem{index: n, isIdx: true})
			}
			s = s[end+1:]
		case s[0] == '.' && !first:
			s = s[1:]
			fallthrough
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			if end == 0 || strings.ContainsAny(s[:end], `]"`) {
				return nil, bad()
			}
			path = append(path, pathElem{key: s[:end]})
			s = s[end:]
		}
	}
	if len(path) == 0 {
		return nil, bad()
	}
	return path, nil
}

// logfmtStage is `| logfmt`.
type logfmtStage struct{}

func (logfmtStage) String() string { return "| logfmt" }
func (logfmtStage) compile() error { return nil }

// labelFilter is `| name OP "value"` on a string label; on __error__ it
// is how queries skip entries a parser could not read.
type labelFilter struct {
	m *labels.Matcher
}

func (f *labelFilter) String() string { return "| " + matcherString(f.m) }
func (f *labelFilter) compile() error { return nil }

// dropStage is `| drop a, b="v"`.
type dropStage struct {
	items []dropItem
}

type dropItem struct {
	name string
	m    *labels.Matcher // nil: drop the label whatever its value
}

func (s *dropStage) String() string {
	parts := make([]string, len(s.items))
	for i, it := range s.items {
		if it.m != nil {
			parts[i] = matcherString(it.m)
		} else {
			parts[i] = it.name
		}
	}
	return "| drop " + strings.Join(parts, ", ")
}

func (s *dropStage) compile() error { return nil }
