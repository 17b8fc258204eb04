package logql

import (
	"strings"
	"testing"
)

// parseSeeds are queries of every shape the budgets generate and the
// parser tests hold.
var parseSeeds = []string{
	`sum by (service) (bytes_over_time({service=~"api|worker|scanner"}[1h]))`,
	`sum(count_over_time({env="prod"}[30m])) by (service, level)`,
	`sum without (detected_level) (count_over_time({env="prod"}[1h]))`,
	"count_over_time({service=\"api\"} |~ `AKIA[0-9A-Z]{16}` [1h])",
	`count_over_time({service="api"}[1h] | json | __error__="")`,
	`count_over_time(({service="api"} |= "x") [1h])`,
	`count_over_time({a="b", c!="d", e=~"f", g!~"h"} |= "x" or "y" != "z" |~ "a" !~ "b" | logfmt | drop x, y="z" [5m])`,
	`count_over_time({a="b"} | json level, x="a.b[0]" [1h30m])`,
	"# comment\ncount_over_time(\n  {a=\"b\\\"c\"}\n  [1d]\n)",
	`sum by (service, level) (count_over_time({service=~".+"} | json | __error__="" [1h]))`,
	`{service="api"}`,
	`rate({a="b"}[1m]) > 1`,
}

// FuzzParse: no query makes the parser panic or hang, and a query it
// accepts prints as text that parses back to the same query.
func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if _, serr := ParseSelector(s); serr != nil && len(s) > MaxQueryBytes && !strings.Contains(serr.Error(), "the limit is") {
			t.Errorf("a selector past the bound was parsed: %v", serr)
		}
		if err != nil {
			return
		}
		back, err := Parse(q.String())
		if err != nil {
			t.Fatalf("%q parses, but its String %q does not: %v", s, q.String(), err)
		}
		if back.String() != q.String() {
			t.Fatalf("String does not round-trip: %q -> %q", q.String(), back.String())
		}
	})
}
