package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// testReader reads a `max` number, a `limit` size and a `share`, so that
// tests can put values through the getters.
func testReader(b *Budget) []string {
	b.Fields.Float("max")
	b.Fields.Size("limit")
	b.Fields.Share("share")
	b.Fields.Strings("list")
	return []string{"max", "limit", "share", "list"}
}

// parseErrs parses text and returns its errors, one string each.
func parseErrs(t *testing.T, text string) []string {
	t.Helper()
	_, err := Parse("b.yaml", []byte(text), testReader)
	if err == nil {
		return nil
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("error is %T, not Errors: %v", err, err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Error())
	}
	return out
}

func TestHostileYAMLPositions(t *testing.T) {
	head := "version: 1\nbudgets:\n  - name: a\n    type: t\n"
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"bad indent reported at its own line",
			head + "    max: 3\n   limit: 5MB\n",
			[]string{"b.yaml:6:4: invalid YAML: did not find expected '-' indicator"}},
		{"indent too deep",
			head + "    max: 3\n      limit: 5MB\n",
			[]string{"b.yaml:6:7: invalid YAML: mapping values are not allowed in this context"}},
		{"bad indent after many good budgets",
			head + strings.Repeat("  - name: x\n    type: t\n", 40) + "     max: 3\n  - name: y\n",
			[]string{"b.yaml:85:6: invalid YAML: mapping values are not allowed in this context"}},
		{"tab in the indentation",
			head + "\tmax: 3\n",
			[]string{"b.yaml:5:1: invalid YAML: found a tab character that violates indentation"}},
		{"unknown anchor",
			head + "    max: 3\n    limit: *nope\n",
			[]string{"b.yaml:6:5: invalid YAML: unknown anchor 'nope' referenced"}},
		{"not UTF-8",
			head + "    description: caf\xe9\n",
			[]string{"b.yaml:5:21: invalid UTF-8 (byte 0xE9): YAML files are UTF-8 text"}},
		{"control character",
			"version: 1\nbudgets:\n  - name: a\x1b[31m\n",
			[]string{"b.yaml:3:12: control character U+001B is not allowed in YAML"}},
		{"budgets empty",
			"version: 1\nbudgets:\n",
			[]string{"b.yaml:2:9: budgets: no budgets: add at least one"}},
		{"budgets empty list",
			"version: 1\nbudgets: []\n",
			[]string{"b.yaml:2:10: budgets: no budgets: add at least one"}},
		{"budgets a scalar",
			"version: 1\nbudgets: yes\n",
			[]string{`b.yaml:2:10: budgets: want a list, got a single value`}},
		{"second document",
			head + "---\nversion: 1\n",
			[]string{"b.yaml:6:1: a second YAML document (after ---): a budgets file holds one document"}},
		{"top level a list",
			"- version: 1\n",
			[]string{"b.yaml:1:1: want a mapping with version: 1 and budgets, got a list"}},
		{"escape written as a YAML escape", head + "    description: \"\\e[31mred\"\n",
			[]string{"b.yaml:5:18: budgets[0].description: the value holds the control character U+001B"}},
		{"NUL in a list item", head + "    list: [\"a\\0b\"]\n",
			[]string{"b.yaml:5:12: budgets[0].list[0]: the value holds the control character U+0000"}},
		{"null in a list",
			head + "    list: [a, ~]\n",
			[]string{"b.yaml:5:15: budgets[0].list[1]: want a single value, got an empty value"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseErrs(t, tc.text)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tc.want)
			}
		})
	}
}

func TestHostileYAMLAliasesAndMerge(t *testing.T) {
	text := `version: 1
common: &common
  type: t
  max: 3
budgets:
  - <<: *common
    name: a
  - <<: *common
    name: b
    max: 7
  - name: c
    type: t
    limit: &size 5MB
  - name: d
    type: t
    limit: *size
`
	// "common" is not a known top-level key (and no near miss of one,
	// so it is not named): only that is reported.
	got := parseErrs(t, text)
	want := []string{`b.yaml:2:1: an unknown field (not shown) (known: budgets, defaults, sources, version, waivers)`}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("errors:\n got: %q\nwant: %q", got, want)
	}
	var maxes []float64
	var sizes []float64
	cfg, err := Parse("b.yaml", []byte(strings.Replace(text, "common: &common", "defaults: {}\nx: &common", 1)), func(b *Budget) []string {
		if v, ok := b.Fields.Float("max"); ok {
			maxes = append(maxes, v)
		}
		if v, ok := b.Fields.Size("limit"); ok {
			sizes = append(sizes, v)
		}
		return []string{"max", "limit"}
	})
	if err == nil || err.Error() != `b.yaml:3:1: an unknown field (not shown) (known: budgets, defaults, sources, version, waivers)` {
		t.Fatalf("want only the unknown x, got %v", err)
	}
	_ = cfg
	if len(maxes) != 2 || maxes[0] != 3 || maxes[1] != 7 {
		t.Errorf("max per budget = %v, want [3 7] (merged, then overridden)", maxes)
	}
	if len(sizes) != 2 || sizes[0] != 5e6 || sizes[1] != 5e6 {
		t.Errorf("limit per budget = %v, want [5e6 5e6] (anchor and alias)", sizes)
	}

	// An error in a merged value is reported where the merge is used,
	// once per budget that uses it, naming the anchor's line.
	bad := `version: 1
budgets:
  - &common
    name: a
    type: t
    max: lots
  - <<: *common
    name: b
`
	got = parseErrs(t, bad)
	want = []string{
		`b.yaml:6:10: budgets[0].max: invalid number "lots": want a finite number such as 10000 or 0.5`,
		`b.yaml:7:9: budgets[1].max: invalid number "lots": want a finite number such as 10000 or 0.5 (in the value of the anchor at line 6)`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n got: %q\nwant: %q", got, want)
	}
}

func TestHostileLimitValues(t *testing.T) {
	head := "version: 1\nbudgets:\n  - name: a\n    type: t\n"
	for _, tc := range []struct{ line, want string }{
		{"max: +Inf", `b.yaml:5:10: budgets[0].max: invalid number "+Inf": want a finite number such as 10000 or 0.5`},
		{"max: -Inf", `b.yaml:5:10: budgets[0].max: invalid number "-Inf": want a finite number such as 10000 or 0.5`},
		{"max: NaN", `b.yaml:5:10: budgets[0].max: invalid number "NaN": want a finite number such as 10000 or 0.5`},
		{"max: 1e999", `b.yaml:5:10: budgets[0].max: invalid number "1e999": want a finite number such as 10000 or 0.5`},
		{"limit: 1e300TB", `b.yaml:5:12: budgets[0].limit: invalid size "1e300TB": too large (at most 8EiB)`},
		{"limit: 1e18TB", `b.yaml:5:12: budgets[0].limit: invalid size "1e18TB": too large (at most 8EiB)`},
		{"limit: NaNMB", `b.yaml:5:12: budgets[0].limit: invalid size "NaNMB": use a number and a unit: B, KB, MB, GB (10^3) or KiB, MiB, GiB (2^10)`},
		{"share: NaN%", `b.yaml:5:12: budgets[0].share: invalid share "NaN%": want a percentage between 0% and 100%`},
		{"share: NaN", `b.yaml:5:12: budgets[0].share: invalid share "NaN": want a percentage such as 10% (or a fraction between 0 and 1)`},
		{"share: -5%", `b.yaml:5:12: budgets[0].share: invalid share "-5%": want a percentage between 0% and 100%`},
		{"share: 101%", `b.yaml:5:12: budgets[0].share: invalid share "101%": want a percentage between 0% and 100%`},
		{"share: Inf%", `b.yaml:5:12: budgets[0].share: invalid share "Inf%": want a percentage between 0% and 100%`},
	} {
		got := parseErrs(t, head+"    "+tc.line+"\n")
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s:\n got: %q\nwant: %q", tc.line, got, tc.want)
		}
	}
}

func TestHostileSourceSettings(t *testing.T) {
	src := func(settings string) string {
		return "version: 1\nsources:\n  prometheus:\n    url: http://p:9090\n" + settings + "budgets:\n  - name: a\n    type: t\n"
	}
	for _, tc := range []struct{ name, settings, want string }{
		{"authorization header", "    headers: {Authorization: Bearer abc}\n",
			"b.yaml:5:15: sources.prometheus.headers.Authorization: header Authorization cannot be set here: use bearer_token_file, bearer_token_env or basic_auth"},
		{"host header", "    headers:\n      host: evil\n",
			"b.yaml:6:7: sources.prometheus.headers.host: header Host cannot be set here: the HTTP client sets it itself"},
		{"content-length header", "    headers: {content-length: '0'}\n",
			"b.yaml:5:15: sources.prometheus.headers.content-length: header Content-Length cannot be set here: the HTTP client sets it itself"},
		{"name not a token", "    headers: {'X Bad': v}\n",
			`b.yaml:5:15: sources.prometheus.headers.X Bad: invalid header name "X Bad": a name is letters, digits and !#$%&'*+-.^_` + "`" + `|~ only`},
		{"value with CR LF", "    headers: {X-A: \"v\\r\\nX-Injected: 1\"}\n",
			"b.yaml:5:20: sources.prometheus.headers.X-A: the value of header X-A holds a line break (not shown)"},
		{"same header twice", "    headers: {x-a: '1', X-A: '2'}\n",
			`b.yaml:5:25: sources.prometheus.headers.X-A: headers "x-a" and "X-A" name the same header X-A`},
		{"tenant with CR LF", "    tenant: \"a\\r\\nX-Evil: 1\"\n",
			"b.yaml:5:13: sources.prometheus.tenant: the tenant holds a line break or another control character: it is sent as the X-Scope-OrgID header"},
		{"user name with a colon", "    basic_auth: {username: 'a:b', password_env: P}\n",
			"b.yaml:5:28: sources.prometheus.basic_auth.username: a basic auth user name cannot hold ':' or control characters"},
		{"basic auth without password", "    basic_auth: {username: u}\n",
			"b.yaml:5:17: sources.prometheus.basic_auth.password_file: basic_auth needs a password: set password_file or password_env"},
		{"basic auth both passwords", "    basic_auth: {username: u, password_file: /p, password_env: P}\n",
			"b.yaml:5:64: sources.prometheus.basic_auth.password_env: set only one of password_file and password_env"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseErrs(t, src(tc.settings))
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("\n got: %q\nwant: %q", got, tc.want)
			}
		})
	}
}

// credentialFile writes content to name in dir, readable by its owner
// alone as a token or password file is, and returns its path.
func credentialFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHostileCredentialFiles(t *testing.T) {
	dir := t.TempDir()
	good := credentialFile(t, dir, "good", "s3cret-token\n")
	twoLines := credentialFile(t, dir, "two", "s3cret-token\nsecond-line\n")
	empty := credentialFile(t, dir, "empty", "\n")
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct{ name, settings, want string }{
		{"good token", "    bearer_token_file: " + good + "\n", ""},
		{"two lines", "    bearer_token_file: " + twoLines + "\n",
			"b.yaml:5:24: sources.prometheus.bearer_token_file: " + twoLines + ":2: a second line: a token file holds the token alone, on one line (content not shown)"},
		{"empty", "    bearer_token_file: " + empty + "\n",
			"b.yaml:5:24: sources.prometheus.bearer_token_file: " + empty + " is empty: it must hold the token"},
		{"missing", "    bearer_token_file: " + missing + "\n",
			"b.yaml:5:24: sources.prometheus.bearer_token_file: " + missing + ": no such file"},
		{"missing password", "    basic_auth:\n      username: u\n      password_file: " + missing + "\n",
			"b.yaml:7:22: sources.prometheus.basic_auth.password_file: " + missing + ": no such file"},
		{"directory", "    tls: {ca_file: " + dir + "}\n",
			"b.yaml:5:20: sources.prometheus.tls.ca_file: " + dir + " is a directory, not a file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "version: 1\nsources:\n  prometheus:\n    url: http://p:9090\n" + tc.settings + "budgets:\n  - name: a\n    type: t\n"
			cfg, err := Parse("b.yaml", []byte(text), testReader)
			if err != nil {
				t.Fatal(err)
			}
			got := cfg.SourceFileErrors().Error()
			if got != tc.want {
				t.Errorf("\n got: %q\nwant: %q", got, tc.want)
			}
			if strings.Contains(got, "s3cret") || strings.Contains(got, "second-line") {
				t.Errorf("the message quotes the file: %q", got)
			}
		})
	}
}

func TestHostileFileTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte("version: 1\n"+strings.Repeat("# padding\n", MaxFileBytes/10+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p, nil)
	if err == nil || err.Error() != p+": file is larger than 4MiB: not a budgets file" {
		t.Errorf("got %v", err)
	}
}

func TestHostileTLSFiles(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := "version: 1\nsources:\n  loki:\n    url: https://l:3100\n    tls: {ca_file: " + notPEM + "}\nbudgets:\n  - name: a\n    type: t\n"
	cfg, err := Parse("b.yaml", []byte(text), testReader)
	if err != nil {
		t.Fatal(err)
	}
	want := "b.yaml:5:10: sources.loki.tls: unable to use specified CA cert file " + notPEM
	if got := cfg.SourceFileErrors().Error(); got != want {
		t.Errorf("\n got: %q\nwant: %q", got, want)
	}
}

// TestHostileMergeBomb: merge keys that would bring in millions of keys
// stop at the bound, with one error per mapping that goes past it.
func TestHostileMergeBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nx: &big\n")
	for i := range 1000 {
		b.WriteString("  k" + strings.Repeat("k", i%10) + string(rune('a'+i%26)) + strings.Repeat("0", i/260) + ": 1\n")
	}
	b.WriteString("budgets:\n")
	for range 1000 {
		b.WriteString("  - <<: *big\n    name: n\n    type: t\n")
	}
	_, err := Parse("b.yaml", []byte(b.String()), nil)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("got %v", err)
	}
	bombs := 0
	for _, e := range es {
		if strings.Contains(e.Msg, "merge keys (<<) bring in more than 10000 keys") {
			bombs++
		}
	}
	// 1000 keys a budget: the 11th budget goes past the bound, and each
	// later one stops at its first merged key.
	if bombs != 990 {
		t.Errorf("%d mappings stopped at the bound, want 990", bombs)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != MaxErrorLines+1 || !strings.HasPrefix(lines[MaxErrorLines], "... and ") {
		t.Errorf("printed %d lines, the last %q: want %d and a count of the rest", len(lines), lines[len(lines)-1], MaxErrorLines+1)
	}
}

// BenchmarkHostileYAMLErrorPosition times placing a bad indent at the end
// of a 256KiB file, the largest whose errors are placed by parsing prefixes.
func BenchmarkHostileYAMLErrorPosition(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("version: 1\nbudgets:\n")
	for i := 0; sb.Len() < maxRefineBytes-100; i++ {
		sb.WriteString("  - name: b\n    type: metric\n    expr: up\n    max: 3\n")
	}
	sb.WriteString("   bad: 1\n")
	data := []byte(sb.String())
	b.ResetTimer()
	for range b.N {
		if _, err := Parse("b.yaml", data, nil); err == nil || !strings.Contains(err.Error(), ":4: invalid YAML") {
			b.Fatalf("got %v", err)
		}
	}
}
