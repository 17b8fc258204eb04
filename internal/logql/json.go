package logql

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// The JSON reading here follows the lenient object walk Loki's `| json`
// does (the buger/jsonparser library's): values are delimited, not fully
// validated, text after the closing brace is ignored, and each failure
// has the library's message, which Loki puts in __error_details__.

type jsonType int

const (
	jsonNotExist jsonType = iota
	jsonString
	jsonNumber
	jsonObject
	jsonArray
	jsonBoolean
	jsonNull
	jsonUnknown
)

//lint:file-ignore ST1005 the error texts are Loki's own, capitalized as Loki writes them.

// The texts Loki reports in __error_details__.
var (
	errJSONUnknownType   = errors.New("Unknown value type")
	errJSONMalformed     = errors.New("Malformed JSON error")
	errJSONBadString     = errors.New("Value is string, but can't find closing '\"' symbol")
	errJSONBadArray      = errors.New("Value is array, but can't find closing ']' symbol")
	errJSONBadObject     = errors.New("Value looks like object, but can't find closing '}' symbol")
	errJSONBadEscape     = errors.New("Encountered an invalid escape sequence in a string")
	errJSONStopIteration = errors.New("stop") // internal: a member callback is done
	// errJSONTooDeep: more objects nested than maxJSONNesting.
	errJSONTooDeep = errors.New("Objects nested deeper than 100000 levels")
)

// jsonParserErr is the __error__ value of a line `| json` cannot read.
const jsonParserErr = "JSONParserErr"

func jsonNextToken(d []byte) int {
	for i, c := range d {
		switch c {
		case ' ', '\n', '\r', '\t':
		default:
			return i
		}
	}
	return -1
}

// jsonStringEnd returns the offset just past the closing quote of the
// string whose body starts d, and whether the body holds escapes: the
// first quote not escaped by a backslash (a backslash escapes the byte
// after it, so a quote after an even run of backslashes ends the
// string). It skips eight plain bytes at a time.
func jsonStringEnd(d []byte) (int, bool) {
	escaped := false
	i := 0
	for {
		i = indexQuoteOrBackslash(d, i)
		if i >= len(d) {
			return -1, escaped
		}
		if d[i] == '"' {
			return i + 1, escaped
		}
		escaped = true
		i += 2
	}
}

// indexQuoteOrBackslash returns the index of the first '"' or '\\' in d
// at or after i, or len(d) (or more) when there is none.
func indexQuoteOrBackslash(d []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(d); i += 8 {
		x := binary.LittleEndian.Uint64(d[i : i+8 : i+8])
		q := x ^ (ones * '"')
		bs := x ^ (ones * '\\')
		// The usual "has a zero byte" test: the lowest flagged byte is
		// always a true hit.
		if hit := (((q - ones) &^ q) | ((bs - ones) &^ bs)) & highs; hit != 0 {
			return i + bits.TrailingZeros64(hit)/8
		}
	}
	for ; i < len(d); i++ {
		if c := d[i]; c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

func jsonBlockEnd(d []byte, open, close byte) int {
	level := 0
	for i := 0; i < len(d); i++ {
		switch d[i] {
		case '"':
			se, _ := jsonStringEnd(d[i+1:])
			if se == -1 {
				return -1
			}
			i += se
		case open:
			level++
		case close:
			level--
			if level == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// maxJSONNesting bounds the objects `| json` walks into, one inside the
// other: the walk recurses, and a 16 MiB line can nest three million
// deep, past what a goroutine's stack may grow to (a crash no recover
// catches). A deeper line is a JSONParserErr line. Loki cannot hold one:
// its default max_line_size, 256 KB, allows about 50,000 levels.
const maxJSONNesting = 100_000

// deepJSON is the nesting at which `| json` indexes a line's blocks
// (blockIndex): deeper nesting is rare in logs.
var deepJSON = 32

// blockIndex holds the end of every block ({…} and […]) of a line,
// found in one pass. jsonBlockEnd scans a block to its end, and the
// walk then scans each block nested in it again: time quadratic in the
// nesting (a 600 KB line nested 100,000 deep took a minute). The pass
// is the same automaton as jsonBlockEnd (strings skipped, each kind of
// bracket counted apart), so a block it saw open gets the end
// jsonBlockEnd finds; a block it did not see (the walk and the pass may
// disagree on what is a string after a malformed value) is scanned as
// before.
type blockIndex struct {
	ready bool
	// line is the indexed line. Its address is read at each lookup, not
	// kept as a number: a line on a goroutine's stack moves when the
	// stack grows (and the walk recurses), and only pointers follow.
	line []byte
	pos  []int32 // the offsets of the blocks' opening brackets, in order
	end  []int32 // the end of each (past its closing bracket); -1: none

	braces, brackets []int32 // the open blocks during build (indexes in pos)
}

// build indexes line.
func (bi *blockIndex) build(line []byte) {
	bi.ready, bi.line = true, line
	bi.pos, bi.end, bi.braces, bi.brackets = bi.pos[:0], bi.end[:0], bi.braces[:0], bi.brackets[:0]
	for i := 0; i < len(line); i++ {
		switch line[i] {
		case '"':
			se, _ := jsonStringEnd(line[i+1:])
			if se == -1 {
				return // a string to the end: the blocks still open never end
			}
			i += se
		case '{', '[':
			if line[i] == '{' {
				bi.braces = append(bi.braces, int32(len(bi.pos)))
			} else {
				bi.brackets = append(bi.brackets, int32(len(bi.pos)))
			}
			bi.pos, bi.end = append(bi.pos, int32(i)), append(bi.end, -1)
		case '}':
			if n := len(bi.braces); n > 0 {
				bi.end[bi.braces[n-1]], bi.braces = int32(i+1), bi.braces[:n-1]
			}
		case ']':
			if n := len(bi.brackets); n > 0 {
				bi.end[bi.brackets[n-1]], bi.brackets = int32(i+1), bi.brackets[:n-1]
			}
		}
	}
}

// blockEnd is jsonBlockEnd(d, open, close), from the index when it knows
// the block at d (bi may be nil).
func (bi *blockIndex) blockEnd(d []byte, open, close byte) int {
	if bi != nil && bi.ready && len(d) > 0 {
		// d is part of the indexed line: its offset there.
		at := uintptr(unsafe.Pointer(unsafe.SliceData(d))) - uintptr(unsafe.Pointer(unsafe.SliceData(bi.line)))
		if at < uintptr(len(bi.line)) {
			if k, ok := slices.BinarySearch(bi.pos, int32(at)); ok {
				e := int(bi.end[k])
				if e < 0 || e-int(at) > len(d) {
					return -1 // no end, or not within d
				}
				return e - int(at)
			}
		}
	}
	return jsonBlockEnd(d, open, close)
}

// indexOf is the block index of a walk's receiver, or nil.
func indexOf(fn jsonMembers) *blockIndex {
	if x, ok := fn.(*jsonExtractor); ok && x.index.ready {
		return &x.index
	}
	return nil
}

func jsonTokenEnd(d []byte) int {
	for i, c := range d {
		switch c {
		case ' ', '\n', '\r', '\t', ',', '}', ']':
			return i
		}
	}
	return len(d)
}

// jsonValue reads the value at the start of d (after blanks). It returns
// the value (a string without its quotes, still escaped), its type, and
// the offset just past it.
func jsonValue(d []byte, bi *blockIndex) ([]byte, jsonType, int, error) {
	off := jsonNextToken(d)
	if off == -1 {
		return nil, jsonNotExist, 0, errJSONMalformed
	}
	switch c := d[off]; c {
	case '"':
		n, _ := jsonStringEnd(d[off+1:])
		if n == -1 {
			return nil, jsonString, 0, errJSONBadString
		}
		return d[off+1 : off+n], jsonString, off + 1 + n, nil
	case '[':
		n := bi.blockEnd(d[off:], '[', ']')
		if n == -1 {
			return nil, jsonArray, 0, errJSONBadArray
		}
		return d[off : off+n], jsonArray, off + n, nil
	case '{':
		n := bi.blockEnd(d[off:], '{', '}')
		if n == -1 {
			return nil, jsonObject, 0, errJSONBadObject
		}
		return d[off : off+n], jsonObject, off + n, nil
	default:
		n := jsonTokenEnd(d[off:])
		v := d[off : off+n]
		t := jsonUnknown
		switch c {
		case 't', 'f':
			if string(v) == "true" || string(v) == "false" {
				t = jsonBoolean
			}
		case 'u', 'n':
			if string(v) == "null" {
				t = jsonNull
			}
		case '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '-':
			t = jsonNumber
		}
		if t == jsonUnknown {
			return nil, jsonUnknown, 0, errJSONUnknownType
		}
		return v, t, off + n, nil
	}
}

// jsonMembers receives the members of an object in order. Returning
// errJSONStopIteration ends the walk without error.
type jsonMembers interface {
	member(key []byte, val []byte, t jsonType) error
}

// jsonObjectEach walks the object at the start of d. Escaped keys are
// unescaped into *arena.
func jsonObjectEach(d []byte, fn jsonMembers, arena *[]byte) error {
	off := jsonNextToken(d)
	if off == -1 || d[off] != '{' {
		return errJSONBadObject
	}
	off++
	n := jsonNextToken(d[off:])
	if n == -1 {
		return errJSONMalformed
	}
	off += n
	if d[off] == '}' {
		return nil
	}
	for off < len(d) {
		switch d[off] {
		case '"':
			off++
		case '}':
			return nil
		default:
			return errJSONBadObject
		}
		n, esc := jsonStringEnd(d[off:])
		if n == -1 {
			return errJSONMalformed
		}
		key := d[off : off+n-1]
		off += n
		if esc {
			start := len(*arena)
			var ok bool
			if *arena, ok = AppendUnquoted(*arena, key); !ok {
				return errJSONBadEscape
			}
			key = (*arena)[start:]
		}
		n = jsonNextToken(d[off:])
		if n == -1 {
			return errJSONMalformed
		}
		off += n
		if d[off] != ':' {
			return errJSONMalformed
		}
		off++
		val, t, end, err := jsonValue(d[off:], indexOf(fn))
		if err != nil {
			return err
		}
		if err := fn.member(key, val, t); err != nil {
			if err == errJSONStopIteration {
				return nil
			}
			return err
		}
		off += end
		n = jsonNextToken(d[off:])
		if n == -1 {
			return errJSONBadArray
		}
		off += n
		switch d[off] {
		case '}':
			return nil
		case ',':
			off++
		default:
			return errJSONBadObject
		}
		n = jsonNextToken(d[off:])
		if n == -1 {
			return errJSONBadArray
		}
		off += n
	}
	return errJSONBadObject
}

// AppendUnquoted appends the body of a JSON string (the text between
// its quotes), unescaped, to dst. Lone surrogates become U+FFFD, as
// encoding/json does. It reports false, with dst partly appended, when
// the body holds an invalid escape; raw control characters are let
// through.
func AppendUnquoted(dst, s []byte) ([]byte, bool) {
	for {
		n := indexBackslash(s)
		if n < 0 {
			return append(dst, s...), true
		}
		dst = append(dst, s[:n]...)
		s = s[n+1:]
		if len(s) == 0 {
			return dst, false
		}
		switch s[0] {
		case '"', '\\', '/':
			dst = append(dst, s[0])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, ok := hex4(s[1:])
			if !ok {
				return dst, false
			}
			s = s[4:]
			if r >= 0xD800 && r < 0xDC00 {
				// A surrogate pair, when a low surrogate follows.
				if len(s) >= 7 && s[1] == '\\' && s[2] == 'u' {
					if r2, ok := hex4(s[3:]); ok && r2 >= 0xDC00 && r2 < 0xE000 {
						r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
						s = s[6:]
					}
				}
			}
			if r >= 0xD800 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, false
		}
		s = s[1:]
	}
}

// indexBackslash is bytes.IndexByte(s, '\\'), quicker on the short runs
// between the escapes of JSON in JSON: the first bytes are tested eight
// at a time before handing over to the vectorised search.
func indexBackslash(s []byte) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i := 0
	for ; i+8 <= len(s) && i < 32; i += 8 {
		x := binary.LittleEndian.Uint64(s[i:]) ^ (ones * '\\')
		if hit := ((x - ones) &^ x) & highs; hit != 0 {
			return i + bits.TrailingZeros64(hit)/8
		}
	}
	if n := bytes.IndexByte(s[i:], '\\'); n >= 0 {
		return i + n
	}
	return -1
}

func hex4(s []byte) (rune, bool) {
	if len(s) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// jsonExtractor runs `| json` without parameters on one line: every
// string, number and boolean field becomes a label, nested objects'
// keys joined with "_", arrays and nulls skipped.
type jsonExtractor struct {
	res    *parseResult
	base   *Stream
	line   []byte     // the line walked
	index  blockIndex // its blocks' ends, once it nests deep (deepJSON)
	prefix []string   // the sanitized keys of the enclosing objects
	// prefixLen is the length of prefix joined with "_" and a trailing
	// "_": what a nested name adds to its own key.
	prefixLen int
}

func (x *jsonExtractor) member(key, val []byte, t jsonType) error {
	switch t {
	case jsonString, jsonNumber, jsonBoolean:
		var name string
		if len(x.prefix) == 0 && isLabelName(key) {
			// A top-level key that is a label name already: sanitizing
			// would change nothing.
			if !x.res.wantAll && !x.res.wants(view(key)) {
				return nil // A label no query reads.
			}
			name = x.res.dedupName(view(key), x.base)
		} else {
			name = x.name(key)
		}
		if name == "" || !x.res.wants(name) || x.res.has(name) {
			return nil // The first of duplicate keys wins.
		}
		var v string
		if t == jsonString {
			v = x.res.stringValue(val)
		} else {
			v = view(val)
		}
		x.res.pairs = append(x.res.pairs, kv{name, v})
	case jsonObject:
		part := x.res.sanitize(key, len(x.prefix) == 0)
		if part == "" {
			return nil
		}
		if len(x.prefix) == deepJSON && !x.index.ready {
			x.index.build(x.line)
		}
		if len(x.prefix) >= maxJSONNesting {
			return errJSONTooDeep
		}
		x.prefix = append(x.prefix, part)
		x.prefixLen += len(part) + 1
		err := jsonObjectEach(val, x, &x.res.arena)
		x.prefix = x.prefix[:len(x.prefix)-1]
		x.prefixLen -= len(part) + 1
		return err
	}
	return nil
}

// name is the label name of a field: sanitized, prefixed with its
// parents', and suffixed _extracted when a stream label has the name.
func (x *jsonExtractor) name(key []byte) string {
	part := x.res.sanitize(key, len(x.prefix) == 0)
	if part == "" {
		return ""
	}
	name := part
	if len(x.prefix) > 0 {
		if !x.res.wantsLen(x.prefixLen + len(part)) {
			// No query reads a name that long: building it would cost
			// the depth of the nesting for every key, quadratic in a
			// deeply nested line with many keys.
			return ""
		}
		a := &x.res.arena
		start := len(*a)
		for _, p := range x.prefix {
			*a = append(*a, p...)
			*a = append(*a, '_')
		}
		*a = append(*a, part...)
		name = view((*a)[start:])
	}
	return x.res.dedupName(name, x.base)
}

// extractJSON runs `| json` (every field) on line.
func extractJSON(res *parseResult, st *Stream, line []byte) {
	x := &res.jx
	x.res, x.base, x.prefix, x.prefixLen = res, st, x.prefix[:0], 0
	x.line, x.index.ready = line, false
	if err := jsonObjectEach(line, x, &res.arena); err != nil {
		res.errType, res.errDetails = jsonParserErr, err.Error()
	}
}

// extractJSONParams runs `| json name="path", ...` on line: a missing
// path gives name="", a string its text, any other value its JSON.
func extractJSONParams(res *parseResult, st *Stream, line []byte, params []jsonParam) {
	if !json.Valid(line) {
		res.errType = jsonParserErr
		return
	}
	for _, p := range params {
		name := res.dedupName(p.name, st)
		if res.has(name) {
			continue
		}
		val, t := jsonLookup(line, p.path, &res.arena)
		v := ""
		switch t {
		case jsonString:
			v = res.stringValue(val)
		case jsonNumber, jsonBoolean, jsonObject, jsonArray:
			v = view(val)
		}
		res.pairs = append(res.pairs, kv{name, v})
	}
}

// identChars marks the bytes isIdentChar accepts: one load a byte in
// the walk over every key of a line.
var identChars = func() (t [256]bool) {
	for c := range 256 {
		t[c] = isIdentChar(byte(c))
	}
	return t
}()

// isLabelName: key is its own label name, sanitizing changes nothing.
func isLabelName(key []byte) bool {
	if len(key) == 0 || (key[0] >= '0' && key[0] <= '9') {
		return false
	}
	for _, c := range key {
		if !identChars[c] {
			return false
		}
	}
	return true
}

// jsonFinder stops at the first member named key.
type jsonFinder struct {
	key   string
	val   []byte
	typ   jsonType
	found bool
}

func (f *jsonFinder) member(key, val []byte, t jsonType) error {
	if string(key) == f.key {
		f.val, f.typ, f.found = val, t, true
		return errJSONStopIteration
	}
	return nil
}

// jsonLookup follows path in the JSON document d.
func jsonLookup(d []byte, path []pathElem, arena *[]byte) ([]byte, jsonType) {
	cur, t := d, jsonObject
	for _, el := range path {
		if el.isIdx {
			if t != jsonArray {
				return nil, jsonNotExist
			}
			v, vt, ok := jsonArrayIndex(cur, el.index)
			if !ok {
				return nil, jsonNotExist
			}
			cur, t = v, vt
			continue
		}
		if t != jsonObject {
			return nil, jsonNotExist
		}
		f := jsonFinder{key: el.key}
		if err := jsonObjectEach(cur, &f, arena); err != nil || !f.found {
			return nil, jsonNotExist
		}
		cur, t = f.val, f.typ
	}
	return cur, t
}

func jsonArrayIndex(d []byte, idx int) ([]byte, jsonType, bool) {
	off := jsonNextToken(d)
	if off == -1 || d[off] != '[' {
		return nil, 0, false
	}
	off++
	for i := 0; ; i++ {
		n := jsonNextToken(d[off:])
		if n == -1 || d[off+n] == ']' {
			return nil, 0, false
		}
		v, t, end, err := jsonValue(d[off:], nil)
		if err != nil {
			return nil, 0, false
		}
		if i == idx {
			return v, t, true
		}
		off += end
		n = jsonNextToken(d[off:])
		if n == -1 || d[off+n] != ',' {
			return nil, 0, false
		}
		off += n + 1
	}
}

// jsonLevel is the body's level for detected_level, as Loki 3.7 finds
// it: the first string value, in document order, whose key is one of
// levelFields, looking into nested objects down to jsonLevelMaxDepth.
// A malformed line gives what was found before the fault.
func jsonLevel(obj []byte, depth int, arena *[]byte) []byte {
	if depth >= jsonLevelMaxDepth {
		return nil
	}
	f := jsonLevelFinder{depth: depth, arena: arena}
	_ = jsonObjectEach(obj, &f, arena)
	return f.val
}

type jsonLevelFinder struct {
	depth int
	arena *[]byte
	val   []byte
}

func (f *jsonLevelFinder) member(key, val []byte, t jsonType) error {
	switch t {
	case jsonString:
		if slices.Contains(levelFields, string(key)) {
			f.val = val
			return errJSONStopIteration
		}
	case jsonObject:
		if v := jsonLevel(val, f.depth+1, f.arena); v != nil {
			f.val = v
			return errJSONStopIteration
		}
	}
	return nil
}

// extractJSONQuoted is extractJSON for a line that holds no backslash
// and whose every '"' is at an offset in quotes (ascending), as the
// snapshot reader finds them while unescaping the line: a string's end
// is the next quote, found without reading the string. It takes a flat
// object of scalar members, which most log lines are, and reports false
// for anything else (a nested object or array, or any irregularity,
// malformed lines included), having left res as it found it: the caller
// then runs extractJSON, whose walk gives Loki's errors. On the lines it
// takes, it gives what extractJSON gives (the same member callback).
func extractJSONQuoted(res *parseResult, st *Stream, line []byte, quotes []int32) bool {
	x := &res.jx
	x.res, x.base, x.prefix, x.prefixLen = res, st, x.prefix[:0], 0
	pairs, arena := len(res.pairs), len(res.arena)
	if jsonWalkQuoted(line, quotes, x) {
		return true
	}
	res.pairs, res.arena = res.pairs[:pairs], res.arena[:arena]
	return false
}

// jsonWalkQuoted walks a flat object for extractJSONQuoted. Blanks are
// rare between members: each skip tests one byte before it loops.
func jsonWalkQuoted(d []byte, quotes []int32, x *jsonExtractor) bool {
	res := x.res
	k := 0
	off := 0
	if off < len(d) && d[off] <= ' ' {
		off = jsonSkipBlank(d, off)
	}
	if off >= len(d) || d[off] != '{' {
		return false
	}
	if off++; off < len(d) && d[off] <= ' ' {
		off = jsonSkipBlank(d, off)
	}
	if off < len(d) && d[off] == '}' {
		return true
	}
	for {
		// The key: its quotes are the next two.
		if off >= len(d) || d[off] != '"' || k+1 >= len(quotes) || int(quotes[k]) != off {
			return false
		}
		end := int(quotes[k+1])
		key := d[off+1 : end]
		k += 2
		if off = end + 1; off < len(d) && d[off] <= ' ' {
			off = jsonSkipBlank(d, off)
		}
		if off >= len(d) || d[off] != ':' {
			return false
		}
		if off++; off < len(d) && d[off] <= ' ' {
			off = jsonSkipBlank(d, off)
		}
		if off >= len(d) {
			return false
		}
		var val []byte
		var t jsonType
		switch c := d[off]; c {
		case '"':
			if k+1 >= len(quotes) || int(quotes[k]) != off {
				return false
			}
			end := int(quotes[k+1])
			val, t, off = d[off+1:end], jsonString, end+1
			k += 2
		case '{', '[':
			return false
		default:
			n := jsonTokenEnd(d[off:])
			val = d[off : off+n]
			switch {
			case c >= '0' && c <= '9' || c == '-':
				t = jsonNumber
			case string(val) == "true" || string(val) == "false":
				t = jsonBoolean
			case string(val) == "null":
				t = jsonNull
			default:
				return false
			}
			off += n
		}
		// A top-level field no query reads, as member would skip it,
		// without the call.
		if res.wantAll || (len(key) < 64 && res.wantLens&(1<<len(key)) != 0) || !isLabelName(key) {
			if x.member(key, val, t) != nil {
				return false
			}
		}
		if off < len(d) && d[off] <= ' ' {
			off = jsonSkipBlank(d, off)
		}
		if off >= len(d) {
			return false
		}
		switch d[off] {
		case '}':
			return true
		case ',':
			if off++; off < len(d) && d[off] <= ' ' {
				off = jsonSkipBlank(d, off)
			}
		default:
			return false
		}
	}
}

// jsonSkipBlank returns the offset of the first byte at or after i that
// is not JSON whitespace, or len(d).
func jsonSkipBlank(d []byte, i int) int {
	for i < len(d) {
		switch d[i] {
		case ' ', '\n', '\r', '\t':
			i++
		default:
			return i
		}
	}
	return i
}
