package logql

import (
	"bytes"
	"unicode/utf8"
)

// logfmtScanner reads the key=value pairs of a logfmt line the way the
// go-logfmt decoder Loki uses does: keys end at '=' or a blank, values
// are bare or "quoted" with JSON escapes. Unlike that decoder it does
// not stop at a syntax error: the bad pair is flagged and skipped up to
// the next blank, as Loki's non-strict `| logfmt` goes on after one.
type logfmtScanner struct {
	line   []byte
	pos    int
	key    []byte
	val    []byte
	quoted bool // val is the body of a quoted value with escapes
	bad    bool // this pair has a syntax error
}

// scan advances to the next pair; false at the end of the line.
func (s *logfmtScanner) scan() bool {
	s.key, s.val, s.quoted, s.bad = nil, nil, false, false
	line := s.line
	for s.pos < len(line) && line[s.pos] <= ' ' {
		s.pos++
	}
	if s.pos >= len(line) {
		return false
	}
	start := s.pos
	multibyte := false
	for s.pos < len(line) {
		c := line[s.pos]
		switch {
		case c == '=':
			if s.pos == start {
				s.fail()
				return true
			}
			s.key = line[start:s.pos]
			s.pos++
			if multibyte && !utf8.Valid(s.key) {
				s.fail()
				return true
			}
			s.value()
			return true
		case c == '"':
			s.fail()
			return true
		case c <= ' ':
			s.key = line[start:s.pos]
			if multibyte && !utf8.Valid(s.key) {
				s.bad = true
			}
			return true
		case c >= utf8.RuneSelf:
			multibyte = true
		}
		s.pos++
	}
	s.key = line[start:]
	if multibyte && !utf8.Valid(s.key) {
		s.bad = true
	}
	return true
}

// value reads the value after '='.
func (s *logfmtScanner) value() {
	line := s.line
	if s.pos >= len(line) || line[s.pos] <= ' ' {
		return // `key=`: no value
	}
	if line[s.pos] == '"' {
		s.pos++
		start, esc, hasEsc := s.pos, false, false
		for ; s.pos < len(line); s.pos++ {
			c := line[s.pos]
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc, hasEsc = true, true
			case c == '"':
				s.val, s.quoted = line[start:s.pos], hasEsc
				s.pos++
				return
			}
		}
		s.bad = true // unterminated quoted value
		return
	}
	start := s.pos
	for ; s.pos < len(line); s.pos++ {
		c := line[s.pos]
		if c == '=' || c == '"' {
			s.fail()
			return
		}
		if c <= ' ' {
			break
		}
	}
	s.val = line[start:s.pos]
}

// fail flags the pair and skips the rest of its token.
func (s *logfmtScanner) fail() {
	s.bad = true
	s.key, s.val = nil, nil
	for s.pos < len(s.line) && s.line[s.pos] > ' ' {
		s.pos++
	}
}

// extractLogfmt runs `| logfmt` on line. It never fails: pairs it
// cannot read, bare words and empty values (`level=`, `level=""`) give
// no label; of duplicate keys the first wins.
func extractLogfmt(res *parseResult, st *Stream, line []byte) {
	s := logfmtScanner{line: line}
	for s.scan() {
		if s.bad || len(s.val) == 0 {
			continue
		}
		name := res.sanitize(s.key, true)
		if name == "" || !res.wants(name) {
			continue
		}
		name = res.dedupName(name, st)
		if res.has(name) {
			continue
		}
		val := s.val
		if s.quoted {
			start := len(res.arena)
			var ok bool
			if res.arena, ok = AppendUnquoted(res.arena, val); !ok {
				res.arena = res.arena[:start]
				continue
			}
			val = res.arena[start:]
		}
		// Prometheus rejects the replacement character: Loki drops
		// such a value.
		if !utf8.Valid(val) || containsRuneError(val) {
			continue
		}
		res.pairs = append(res.pairs, kv{name, view(val)})
	}
}

// logfmtLevel is the level field of a logfmt line, for detected_level,
// as Loki 3.7 reads it: keys match levelFields case-insensitively, the
// earliest name of levelFields wins wherever it stands, and reading
// stops at the first syntax error, keeping what was found before.
func logfmtLevel(line []byte, arena *[]byte) []byte {
	s := logfmtScanner{line: line}
	best := len(levelFields)
	var val []byte
	quoted := false
	for s.scan() {
		if s.bad {
			break
		}
		for i := 0; i < best; i++ {
			if bytes.EqualFold(s.key, []byte(levelFields[i])) {
				best, val, quoted = i, s.val, s.quoted
				break
			}
		}
		if best == 0 {
			break
		}
	}
	if quoted {
		start := len(*arena)
		var ok bool
		if *arena, ok = AppendUnquoted(*arena, val); !ok {
			return nil
		}
		val = (*arena)[start:]
	}
	return val
}

func containsRuneError(b []byte) bool {
	for i := 0; i+2 < len(b); i++ {
		if b[i] == 0xEF && b[i+1] == 0xBF && b[i+2] == 0xBD {
			return true
		}
	}
	return false
}
