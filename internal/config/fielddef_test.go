package config

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// knownIn is the list of keys an unknown-key error names as allowed.
func knownIn(t *testing.T, text string) []string {
	t.Helper()
	_, err := Parse("f.yaml", []byte(text), nil)
	if err == nil {
		t.Fatalf("no error for an unknown key in:\n%s", text)
	}
	m := regexp.MustCompile(`\(known: ([^)]*)\)`).FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("no known list in %q", err)
	}
	return strings.Split(m[1], ", ")
}

// TestFieldDefsMatchLoader: the keys the loader allows at the top, in
// defaults, in a source and its basic_auth and tls are exactly the
// declared ones.
func TestFieldDefsMatchLoader(t *testing.T) {
	const budget = "budgets: [{name: a, type: t}]\n"
	cases := []struct {
		where string
		text  string
		defs  []Field
	}{
		{"top", "version: 1\nzzzzzzzzzz: 1\n" + budget, TopFieldDefs()},
		{"defaults", "version: 1\ndefaults: {zzzzzzzzzz: 1}\n" + budget, DefaultsFieldDefs()},
		{"sources", "version: 1\nsources: {zzzzzzzzzz: 1}\n" + budget, TopFieldDefs()[2].Fields},
		{"source", "version: 1\nsources: {loki: {zzzzzzzzzz: 1}}\n" + budget, SourceFieldDefs()},
		{"basic_auth", "version: 1\nsources: {loki: {basic_auth: {username: u, password_env: P, zzzzzzzzzz: 1}}}\n" + budget, SourceFieldDefs()[6].Fields},
		{"tls", "version: 1\nsources: {loki: {tls: {zzzzzzzzzz: 1}}}\n" + budget, SourceFieldDefs()[7].Fields},
		{"waivers", "version: 1\nwaivers: [{zzzzzzzzzz: 1}]\n" + budget, WaiverFieldDefs()},
	}
	for _, c := range cases {
		known := knownIn(t, c.text)
		decl := FieldNames(c.defs)
		for _, k := range known {
			if !slices.Contains(decl, k) {
				t.Errorf("%s: the loader allows %q, which is not declared", c.where, k)
			}
		}
		for _, k := range decl {
			if !slices.Contains(known, k) {
				t.Errorf("%s: %q is declared, but the loader does not allow it", c.where, k)
			}
		}
	}
}
