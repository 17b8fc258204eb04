package logql

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`sum by (service) (bytes_over_time({service=~"api|worker|scanner"}[1h]))`,
			`sum by (service) (bytes_over_time({service=~"api|worker|scanner"}[1h]))`},
		{`sum by(service)(bytes_over_time({service=~"api|worker|scanner"} [60m]))`,
			`sum by (service) (bytes_over_time({service=~"api|worker|scanner"}[1h]))`},
		{`sum(count_over_time({env="prod"}[30m])) by (service, level)`,
			`sum by (service, level) (count_over_time({env="prod"}[30m]))`},
		{`sum by () (count_over_time({env="prod"}[30m]))`, `sum(count_over_time({env="prod"}[30m]))`},
		{`sum without (detected_level) (count_over_time({env="prod"}[1h]))`,
			`sum without (detected_level) (count_over_time({env="prod"}[1h]))`},
		{"count_over_time({service=\"api\"} |~ `AKIA[0-9A-Z]{16}` [1h])",
			`count_over_time({service="api"} |~ "AKIA[0-9A-Z]{16}" [1h])`},
		// The range before the pipeline, and a parenthesized log range.
		{`count_over_time({service="api"}[1h] | json | __error__="")`,
			`count_over_time({service="api"} | json | __error__="" [1h])`},
		{`count_over_time(({service="api"} |= "x") [1h])`, `count_over_time({service="api"} |= "x" [1h])`},
		{`count_over_time({a="b", c!="d", e=~"f", g!~"h"} |= "x" or "y" != "z" |~ "a" !~ "b" | logfmt | drop x, y="z" [5m])`,
			`count_over_time({a="b", c!="d", e=~"f", g!~"h"} |= "x" or "y" != "z" |~ "a" !~ "b" | logfmt | drop x, y="z" [5m])`},
		{`count_over_time({a="b"} | json level, x="a.b[0]" [1h30m])`,
			`count_over_time({a="b"} | json level="level", x="a.b[0]" [1h30m])`},
		{"# comment\ncount_over_time(\n  {a=\"b\\\"c\"}\n  [1d]\n)", `count_over_time({a="b\"c"}[1d])`},
	} {
		q, err := Parse(tc.in)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got := q.String(); got != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.in, got, tc.want)
		}
		q2, err := Parse(q.String())
		if err != nil || q2.String() != q.String() {
			t.Errorf("%s: String() does not parse back: %v", tc.in, err)
		}
	}
	q, _ := Parse(`sum(count_over_time({a="b"}[90s]))`)
	if q.Range() != 90*time.Second || len(q.Matchers()) != 1 {
		t.Errorf("Range %v, Matchers %v", q.Range(), q.Matchers())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		// Loki's texts, recorded.
		{`sum by (service) (bytes_over_time({service="api"}[1h])`, "parse error at line 1, col 55: syntax error: unexpected $end"},
		{"sum(count_over_time({service=\"api\"} |~ `AKIA[0-9A-Z` [1h]))",
			"parse error : stage '|~ \"AKIA[0-9A-Z\"' : error parsing regexp: missing closing ]: `[0-9A-Z`"},
		{`sum(count_over_time({service=~".*"}[1h]))`, "parse error : " + errEmptyCompatible},
		// Loki's rule for selectors.
		{`count_over_time({service!="api"}[1h])`, "parse error : " + errEmptyCompatible},
		{`count_over_time({service=""}[1h])`, "parse error : " + errEmptyCompatible},
		{`count_over_time({a=~".*", b!~"x"}[1h])`, "parse error : " + errEmptyCompatible},
		// Syntax, with positions.
		{`count_over_time({a="b"})`, "parse error at line 1, col 24: syntax error: unexpected )"},
		{`count_over_time({a="b"}[1h]`, "parse error at line 1, col 28: syntax error: unexpected $end"},
		{`count_over_time({a="b"}[1h][1h])`, "parse error at line 1, col 28: syntax error: unexpected RANGE"},
		{`count_over_time({a "b"}[1h])`, "parse error at line 1, col 20: syntax error: unexpected STRING"},
		{"count_over_time({a=\"b\"}\n | json [1h]", "parse error at line 2, col 13: syntax error: unexpected $end"},
		{`count_over_time({a="b}[1h])`, "parse error at line 1, col 20: literal not terminated"},
		{`count_over_time({a="b"}[0s])`, "parse error at line 1, col 24: range must be positive"},
		{`count_over_time({a="b"}[1x])`, `parse error at line 1, col 24: unknown unit "x" in duration "1x"`},
		{`count_over_time({a=~"["}[1h])`, "parse error at line 1, col 21: error parsing regexp: missing closing ]: `[`"},
		// Valid LogQL this package does not evaluate.
		{`rate({a="b"}[1h])`, "parse error at line 1, col 1: unsupported: rate"},
		{`sum(rate({a="b"}[1h]))`, "parse error at line 1, col 5: unsupported: rate"},
		{`topk(3, count_over_time({a="b"}[1h]))`, "unsupported: topk"},
		{`{a="b"} |= "x"`, "unsupported: a log query"},
		{`sum(count_over_time({a="b"}[1h])) / 2`, "unsupported: binary operations"},
		{`count_over_time({a="b"} | json | status > 400 [1h])`, "unsupported: numeric"},
		{`count_over_time({a="b"} | logfmt --strict [1h])`, "unsupported: logfmt parameters"},
		{`count_over_time({a="b"} | line_format "{{.x}}" [1h])`, "unsupported: line_format"},
		{`count_over_time({a="b"} | x="1" and y="2" [1h])`, "unsupported: combined label filters"},
		{`count_over_time({a="b"}[1h] offset 5m)`, "unsupported: offset"},
	} {
		_, err := Parse(tc.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a *ParseError", tc.in, err)
			continue
		}
		if got := err.Error(); got != tc.want && !(strings.Contains(tc.want, "unsupported") && strings.Contains(got, tc.want)) {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.in, got, tc.want)
		}
	}
}

func TestParseSelector(t *testing.T) {
	ms, err := ParseSelector(` {service="api", level=~"err.*"} `)
	if err != nil || len(ms) != 2 || ms[0].String() != `service="api"` || ms[1].String() != `level=~"err.*"` {
		t.Fatalf("got %v, %v", ms, err)
	}
	for _, tc := range []struct{ in, want string }{
		{`{service=~".*"}`, "parse error : " + errEmptyCompatible},
		{`{service=~".+"} |= "x"`, "parse error at line 1, col 17: syntax error: unexpected |="},
		{`{}`, "parse error at line 1, col 2: syntax error: unexpected }"},
		{`service="api"`, "parse error at line 1, col 1: syntax error: unexpected IDENTIFIER"},
	} {
		_, err := ParseSelector(tc.in)
		var pe *ParseError
		if !errors.As(err, &pe) || err.Error() != tc.want {
			t.Errorf("%s: got %v, want %s", tc.in, err, tc.want)
		}
	}
}
