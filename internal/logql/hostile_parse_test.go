package logql

import (
	"strings"
	"testing"
)

// TestHostileParseBounds: queries past the documented bounds are refused
// before parsing, with a position; a query just inside them parses.
func TestHostileParseBounds(t *testing.T) {
	long := `count_over_time({a="b"} |= "` + strings.Repeat("x", MaxQueryBytes) + `" [1h])`
	deep := "count_over_time(" + strings.Repeat("(", MaxQueryDepth) + `{a="b"}` + strings.Repeat(")", MaxQueryDepth) + "[1h])"
	for _, tc := range []struct{ name, q, want string }{
		{"over 64KiB", long, "parse error at line 1, col 1: the query is 65571 bytes long: the limit is 65536 (64KiB)"},
		{"500k parentheses", strings.Repeat("(", 500000) + strings.Repeat(")", 500000),
			"parse error at line 1, col 1: the query is 1000000 bytes long: the limit is 65536 (64KiB)"},
		{"nested too deep", deep, "parse error at line 1, col 272: the query nests () and {} more than 256 deep"},
		{"nested too deep on line 2", "count_over_time(\n" + strings.Repeat("(", MaxQueryDepth+5), "parse error at line 2, col 256: the query nests () and {} more than 256 deep"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.q)
			if err == nil || err.Error() != tc.want {
				t.Errorf("Parse:\n got: %v\nwant: %s", err, tc.want)
			}
			if _, err := ParseSelector(tc.q); err == nil || err.Error() != tc.want {
				t.Errorf("ParseSelector:\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
	// Just inside the bound: a long line filter is a query like any other.
	okFilter := strings.Repeat("y", MaxQueryBytes-100)
	q, err := Parse(`count_over_time({a="b"} |= "` + okFilter + `" [1h])`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `count_over_time({a="b"} |= "` + okFilter + `" [1h])`; q.String() != want {
		t.Errorf("String of the longest allowed query differs")
	}
}
