package logql

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestJSONDeepNestingManyKeysBounded: `| json` names a nested field by
// its parents' keys joined with _, but only the names some query reads
// are kept. Building every name before asking cost the depth of the
// nesting for each key: a 260 KB line (2,000 levels, 20,000 keys) made
// 469 MiB of allocations for names no query wanted. The answer stays
// Loki's.
func TestJSONDeepNestingManyKeysBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"trace_id":"t","span_id":"s","x":` + strings.Repeat(`{"a":`, 2000) + "{")
	for i := range 20000 {
		fmt.Fprintf(&b, `"k%d":"v",`, i)
	}
	b.WriteString(`"z":1}` + strings.Repeat("}", 2000) + "}")
	line := b.String()
	at := time.Unix(3600, 0)
	q, err := Parse(`sum by (service) (count_over_time({service="api"} | json | __error__="" | trace_id!="" | span_id!="" [1h]))`)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEvaluator(at, q)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	e.Add(Entry{TS: at.Add(-time.Minute).UnixNano(), Labels: map[string]string{"service": "api"}, Line: line})
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("one %d-byte line allocated %d MiB", len(line), grew>>20)
	}
	v, err := e.Result(0)
	if err != nil {
		t.Fatal(err)
	}
	if got := vectorText(v); got != "{service=\"api\"} 1\n" {
		t.Errorf("result %q, want the line counted as structured", got)
	}
}

// The block index (deep nesting) gives `| json` the answers the plain
// scans give: fields, error and its details, on random lines of
// brackets, strings, escapes and malformed values, nested and not.
func TestJSONBlockIndexSameAnswers(t *testing.T) {
	pieces := []string{`{`, `{`, `}`, `}`, `[`, `]`, `"k":`, `"a":`, `"a_b":`, `"v"`, `1`, `1"x`, `,`, `,`, `\"`, `"`, ` `, `true`, `{"n":`, `"s\"}":`, `"[`}
	rng := rand.New(rand.NewPCG(31, 32))
	run := func(line string, deep int) string {
		old := deepJSON
		deepJSON = deep
		defer func() { deepJSON = old }()
		res := &parseResult{wantAll: true}
		extractJSON(res, &Stream{}, []byte(line))
		return fmt.Sprintf("%v %q %q", res.pairs, res.errType, res.errDetails)
	}
	lines := []string{
		strings.Repeat(`{"a":`, 300) + `"x"` + strings.Repeat(`}`, 300),
		strings.Repeat(`{"a":1,"b":`, 200) + `{}` + strings.Repeat(`}`, 199),
		strings.Repeat(`{"a":[`, 100) + strings.Repeat(`]}`, 100),
		`{"a":{"b":1"x,"c":{"d":2}}}`,
	}
	for range 20000 {
		var b strings.Builder
		b.WriteString(`{`)
		for range rng.IntN(60) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		lines = append(lines, b.String())
	}
	for _, line := range lines {
		if with, without := run(line, 0), run(line, 1<<30); with != without {
			t.Fatalf("%q:\nindexed %s\nscanned %s", line, with, without)
		}
	}
}

// BenchmarkJSONDeep: a 600 KB line nested 100,000 deep, under `| json`
// (a minute a query before the block index).
func BenchmarkJSONDeep(b *testing.B) {
	line := []byte(strings.Repeat(`{"a":`, 100000) + `"x"` + strings.Repeat(`}`, 100000))
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		res := &parseResult{wanted: []string{"level"}}
		res.setWantLens()
		extractJSON(res, &Stream{}, line)
		if res.errType != "" {
			b.Fatal(res.errType, res.errDetails)
		}
	}
}

// A line nested deeper than maxJSONNesting is a JSONParserErr line, not a
// stack overflow (which no recover catches): three million levels fit in
// a 16 MiB line. One level less is walked as Loki walks it.
func TestJSONNestingBounded(t *testing.T) {
	for _, tc := range []struct {
		depth   int
		errType string
	}{
		{maxJSONNesting, ""},
		{3_000_000, jsonParserErr},
	} {
		line := []byte(strings.Repeat(`{"a":`, tc.depth) + `"x"` + strings.Repeat(`}`, tc.depth))
		res := &parseResult{wanted: []string{"level"}}
		res.setWantLens()
		extractJSON(res, &Stream{}, line)
		if res.errType != tc.errType || (tc.errType != "" && res.errDetails != errJSONTooDeep.Error()) {
			t.Errorf("depth %d: __error__ %q (%q), want %q", tc.depth, res.errType, res.errDetails, tc.errType)
		}
	}
}
