package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// checkText finds what yaml.v3 refuses without saying where: bytes that are
// not UTF-8 and control characters. The message names the character, never
// the text around it.
func checkText(path string, data []byte) *Error {
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return nil // UTF-16 with a byte order mark: yaml.v3 reads it
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return &Error{File: path, Line: line, Col: col, Msg: fmt.Sprintf("invalid UTF-8 (byte 0x%02X): YAML files are UTF-8 text", data[i])}
		case r == '\n':
			line, col = line+1, 0
		case r == '\t' || r == '\r' || r == 0x85:
		case r < 0x20 || (r >= 0x7F && r <= 0x9F) || r == 0xFFFE || r == 0xFFFF:
			return &Error{File: path, Line: line, Col: col, Msg: fmt.Sprintf("control character U+%04X is not allowed in YAML", r)}
		}
		i += size
		col++
	}
	return nil
}

// CheckYAML finds what makes data, a YAML file named path, unreadable:
// bytes that are not UTF-8, control characters, a syntax error; each at
// its line and column. It is for the other YAML files budgets name
// (rules files), whose parsers say less.
func CheckYAML(path string, data []byte) *Error {
	if e := checkText(path, data); e != nil {
		return e
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return yamlError(path, data, err)
		}
	}
}

// yamlErrRE splits yaml.v3's error text: "yaml: line 6: MSG" or "yaml: MSG".
var yamlErrRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// decodeYAML decodes the one document of a budgets file. Text after a
// second `---` would otherwise be ignored without a word.
func decodeYAML(path string, data []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &doc, nil
		}
		return nil, yamlError(path, data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(path, data, err)
	case len(next.Content) > 0 && !isNull(next.Content[0]):
		n := next.Content[0]
		return nil, &Error{File: path, Line: n.Line, Col: n.Column, Msg: "a second YAML document (after ---): a budgets file holds one document"}
	}
	return &doc, nil
}

// yamlError places a yaml.v3 syntax error. yaml.v3 reports the line where
// the enclosing block began (a bad indent on line 6 comes back as "line 2",
// the line of `budgets:`), or no line at all. The line at fault is the
// first one that makes the text up to it fail the same way, found by
// parsing prefixes of the file; the column is that line's first
// non-blank character, or its tab when a tab broke the indentation.
func yamlError(path string, data []byte, err error) *Error {
	e := &Error{File: path, Msg: "invalid YAML: " + err.Error()}
	m := yamlErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		return e
	}
	e.Msg = "invalid YAML: " + m[2]
	if m[1] != "" {
		e.Line, _ = strconv.Atoi(m[1])
		e.Col = 1
	}
	if len(data) > maxRefineBytes {
		return e
	}
	lines := lineEnds(data)
	fails := func(k int) bool { return prefixFails(data[:lines[k-1]], m[2]) }
	// The line at fault is at or after the one yaml.v3 names; search
	// forward in growing steps, then halve: O(n log n) parsing at worst,
	// and only for a file that does not parse.
	lo := max(e.Line, 1) - 1 // the first lo lines do not fail this way
	if lo >= len(lines) || (lo > 0 && fails(lo)) {
		lo = 0
	}
	hi := -1
	for step := 1; ; step *= 2 {
		k := min(lo+step, len(lines))
		if fails(k) {
			hi = k
			break
		}
		lo = k
		if k == len(lines) {
			break
		}
	}
	if hi < 0 {
		return e // only the whole text fails: keep yaml.v3's line
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	start := 0
	if hi > 1 {
		start = lines[hi-2]
	}
	e.Line, e.Col = hi, firstColumn(data[start:lines[hi-1]])
	return e
}

// maxRefineBytes bounds the files whose syntax errors yamlError places by
// parsing prefixes (some 30 parses of up to the whole file): budgets and
// rules files are kilobytes; a larger one keeps yaml.v3's line.
const maxRefineBytes = 256 << 10

// lineEnds returns the offset just past each line of data.
func lineEnds(data []byte) []int {
	var ends []int
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	return ends
}

// prefixFails reports whether text fails to decode with message msg.
func prefixFails(text []byte, msg string) bool {
	dec := yaml.NewDecoder(bytes.NewReader(text))
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == nil {
			continue
		}
		if errors.Is(err, io.EOF) {
			return false
		}
		m := yamlErrRE.FindStringSubmatch(err.Error())
		return m != nil && m[2] == msg
	}
}

// firstColumn is the 1-based column, in characters, of the first
// character of line that is not a space: a tab in the indentation is the
// character at fault.
func firstColumn(line []byte) int {
	col := 1
	for _, r := range string(line) {
		if r != ' ' {
			if r == '\n' || r == '\r' {
				return 1
			}
			return col
		}
		col++
	}
	return 1
}
