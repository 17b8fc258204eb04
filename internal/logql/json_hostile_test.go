package logql

import (
	"fmt"
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
