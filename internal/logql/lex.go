package logql

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"
)

type tokKind int

const (
	tEOF tokKind = iota
	tIdent
	tString
	tRange     // [1h]
	tLBrace    // {
	tRBrace    // }
	tLParen    // (
	tRParen    // )
	tComma     // ,
	tEq        // =
	tNeq       // !=
	tRe        // =~
	tNre       // !~
	tPipeExact // |=
	tPipeMatch // |~
	tPipe      // |
	tOther     // anything this subset has no use for: numbers, > < ==, |> ...
)

// name is how a token class appears in "syntax error: unexpected X",
// after goyacc's convention in Loki's grammar.
func (k tokKind) name() string {
	switch k {
	case tEOF:
		return "$end"
	case tIdent:
		return "IDENTIFIER"
	case tString:
		return "STRING"
	case tRange:
		return "RANGE"
	case tLBrace:
		return "{"
	case tRBrace:
		return "}"
	case tLParen:
		return "("
	case tRParen:
		return ")"
	case tComma:
		return ","
	case tEq:
		return "="
	case tNeq:
		return "!="
	case tRe:
		return "=~"
	case tNre:
		return "!~"
	case tPipeExact:
		return "|="
	case tPipeMatch:
		return "|~"
	case tPipe:
		return "|"
	}
	return "token"
}

type token struct {
	kind tokKind
	text string        // as written
	val  string        // the unquoted value of a tString
	dur  time.Duration // the duration of a tRange
	line int
	col  int
}

func (t token) describe() string {
	if t.kind == tOther {
		return t.text
	}
	return t.kind.name()
}

// Bounds on a query, checked as it is read, before any parsing: a budget's
// queries are a few hundred bytes, and these keep a hostile one from
// costing more than reading it.
const (
	// MaxQueryBytes is the longest query accepted.
	MaxQueryBytes = 64 << 10
	// MaxQueryDepth is the deepest nesting of () and {} accepted.
	MaxQueryDepth = 256
)

// lex splits a query into tokens. Positions are 1-based lines and
// columns counted in characters, as Loki reports them.
func lex(q string) ([]token, error) {
	if len(q) > MaxQueryBytes {
		return nil, &ParseError{Msg: fmt.Sprintf("the query is %d bytes long: the limit is %d (64KiB)", len(q), MaxQueryBytes), Line: 1, Col: 1}
	}
	var toks []token
	line, col := 1, 1
	depth := 0
	i := 0
	advance := func(n int) {
		for _, r := range q[i : i+n] {
			if r == '\n' {
				line++
				col = 1
			} else {
				col++
			}
		}
		i += n
	}
	for {
		// Blanks and # comments.
		for i < len(q) {
			c := q[i]
			if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				advance(1)
				continue
			}
			if c == '#' {
				n := strings.IndexByte(q[i:], '\n')
				if n < 0 {
					n = len(q) - i
				}
				advance(n)
				continue
			}
			break
		}
		if i >= len(q) {
			toks = append(toks, token{kind: tEOF, line: line, col: col})
			return toks, nil
		}
		t := token{line: line, col: col}
		c := q[i]
		n := 1
		two := ""
		if i+1 < len(q) {
			two = q[i : i+2]
		}
		switch {
		case isIdentStart(c):
			for i+n < len(q) && isIdentChar(q[i+n]) {
				n++
			}
			t.kind = tIdent
		case c >= '0' && c <= '9':
			for i+n < len(q) && (isIdentChar(q[i+n]) || q[i+n] == '.') {
				n++
			}
			t.kind = tOther
		case c == '"' || c == '`':
			end, val, ok := scanString(q[i:])
			if !ok {
				return nil, &ParseError{Msg: "literal not terminated", Line: line, Col: col}
			}
			n = end
			t.kind, t.val = tString, val
			if c == '"' {
				uq, err := strconv.Unquote(q[i : i+n])
				if err != nil {
					return nil, &ParseError{Msg: "invalid string literal " + q[i:i+n] + ": " + err.Error(), Line: line, Col: col}
				}
				t.val = uq
			}
		case c == '[':
			end := strings.IndexByte(q[i:], ']')
			if end < 0 {
				return nil, &ParseError{Msg: "missing closing ']' in duration", Line: line, Col: col}
			}
			n = end + 1
			d, err := parseDuration(strings.TrimSpace(q[i+1 : i+end]))
			if err != nil {
				return nil, &ParseError{Msg: err.Error(), Line: line, Col: col}
			}
			t.kind, t.dur = tRange, d
		case two == "!=":
			t.kind, n = tNeq, 2
		case two == "=~":
			t.kind, n = tRe, 2
		case two == "!~":
			t.kind, n = tNre, 2
		case two == "|=":
			t.kind, n = tPipeExact, 2
		case two == "|~":
			t.kind, n = tPipeMatch, 2
		case two == "==" || two == ">=" || two == "<=" || two == "|>" || two == "!>":
			t.kind, n = tOther, 2
		case c == '=':
			t.kind = tEq
		case c == '|':
			t.kind = tPipe
		case c == '{' || c == '(':
			t.kind = tLBrace
			if c == '(' {
				t.kind = tLParen
			}
			if depth++; depth > MaxQueryDepth {
				return nil, &ParseError{Msg: fmt.Sprintf("the query nests () and {} more than %d deep", MaxQueryDepth), Line: line, Col: col}
			}
		case c == '}' || c == ')':
			t.kind = tRBrace
			if c == ')' {
				t.kind = tRParen
			}
			depth = max(depth-1, 0)
		case c == ',':
			t.kind = tComma
		default:
			_, n = utf8.DecodeRuneInString(q[i:])
			t.kind = tOther
		}
		t.text = q[i : i+n]
		advance(n)
		toks = append(toks, t)
	}
}

// scanString finds the end of the string literal at the start of s (a
// "double-quoted" one with backslash escapes or a `raw` one) and returns
// its length and, for a raw string, its value.
func scanString(s string) (int, string, bool) {
	quote := s[0]
	for j := 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && quote == '"':
			j++
		case s[j] == '\n' && quote == '"':
			return 0, "", false
		case s[j] == quote:
			return j + 1, s[1:j], true
		}
	}
	return 0, "", false
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9')
}

// parseDuration reads a range as Go does (1h30m, 1.5h, 100ms, 1ns), or
// as Prometheus does (1d, 1w, 1y).
func parseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	d, err := model.ParseDuration(s)
	return time.Duration(d), err
}

// formatDuration writes a range so that parseDuration reads it back:
// Prometheus' style (1h30m, 1d) unless it has a sub-millisecond part.
func formatDuration(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return model.Duration(d).String()
	}
	return d.String()
}
