package logql

import (
	"bytes"
	"fmt"
	"testing"
)

// extractBoth runs extractJSON and, on the same line with its quote
// offsets, extractJSONQuoted; it returns both results as text and
// whether the quoted walk took the line.
func extractBoth(line []byte, st *Stream, wanted []string, wantAll bool) (plain, quoted string, took bool) {
	show := func(r *parseResult) string {
		return fmt.Sprintf("%q %q %q", r.pairs, r.errType, r.errDetails)
	}
	a := parseResult{wanted: wanted, wantAll: wantAll}
	a.setWantLens()
	extractJSON(&a, st, line)
	b := parseResult{wanted: wanted, wantAll: wantAll}
	b.setWantLens()
	h := quoteHint(line)
	if !h.QuotesKnown {
		return show(&a), show(&a), false
	}
	if !extractJSONQuoted(&b, st, line, h.Quotes) {
		if len(b.pairs) != 0 || len(b.arena) != 0 {
			return show(&a), "declined but left " + show(&b), false
		}
		return show(&a), show(&a), false
	}
	return show(&a), show(&b), true
}

func TestExtractJSONQuotedSameAsExtractJSON(t *testing.T) {
	st := &Stream{}
	lines := []string{
		benchJSONLine,
		`{}`, ` { } `, `{"level":"INFO"}`, `{"level":"INFO","level":"ERROR"}`, `{"level":1.5e3,"ok":true,"n":null}`,
		`{"Level":"x","level":"","service":"s","trace.id":"t","1a":"b"}`, `{"a":{"level":"nested"}}`, `{"a":[1,2]}`,
		`{"level":"INFO"`, `{"level":"INFO",}`, `{"level" "INFO"}`, `{"level":tru}`, `{"level":"INFO"} trailing`,
		`[{"level":"INFO"}]`, ``, `{"level":"é\xff"}`, `{"level":1"x"}`, `{"a":"b""c":"d"}`, `{"":"empty key"}`,
	}
	took := 0
	for _, l := range lines {
		for _, wantAll := range []bool{false, true} {
			p, q, ok := extractBoth([]byte(l), st, []string{"__error__", "level", "service", "trace_id"}, wantAll)
			if p != q {
				t.Errorf("%q (wantAll %v): extractJSON %s, extractJSONQuoted %s", l, wantAll, p, q)
			}
			if ok {
				took++
			}
		}
	}
	// The fast walk must actually take the common lines, or it is
	// only slower.
	if took < 20 {
		t.Errorf("the quoted walk took %d of %d lines, want at least 20", took, 2*len(lines))
	}
}

// FuzzExtractJSONQuoted: on every line without a backslash, the walk by
// quote offsets gives what the full walk gives, or declines untouched.
func FuzzExtractJSONQuoted(f *testing.F) {
	f.Add([]byte(benchJSONLine))
	f.Add([]byte(`{"level":"INFO","a":{"b":1},"c":[1]}`))
	f.Add([]byte(`{"level":"INFO" , "x" : 12 }`))
	st := &Stream{}
	f.Fuzz(func(t *testing.T, line []byte) {
		if bytes.IndexByte(line, '\\') >= 0 {
			return
		}
		p, q, _ := extractBoth(line, st, []string{"level", "a_b"}, false)
		if p != q {
			t.Fatalf("%q: extractJSON %s, extractJSONQuoted %s", line, p, q)
		}
		p, q, _ = extractBoth(line, st, nil, true)
		if p != q {
			t.Fatalf("%q (all fields): extractJSON %s, extractJSONQuoted %s", line, p, q)
		}
	})
}
