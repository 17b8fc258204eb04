package schema

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/config"
)

// TestGenerateIsStable: the same declarations give the same bytes (the
// committed file is compared byte for byte), as JSON.
func TestGenerateIsStable(t *testing.T) {
	a, b := Generate(), Generate()
	if !bytes.Equal(a, b) {
		t.Fatal("two runs of Generate differ")
	}
	var doc map[string]any
	if err := json.Unmarshal(a, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" || doc["$id"] != ID {
		t.Errorf("$schema %v, $id %v", doc["$schema"], doc["$id"])
	}
}

// TestPatternsCompile: every pattern the schema carries is a regular
// expression (RE2 here; they use no syntax ECMA-262 lacks).
func TestPatternsCompile(t *testing.T) {
	var walk func(v any)
	n := 0
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "pattern" {
					n++
					if _, err := regexp.Compile(s); err != nil {
						t.Errorf("pattern %q: %v", s, err)
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var doc any
	json.Unmarshal(Generate(), &doc)
	walk(doc)
	if n < 20 {
		t.Errorf("only %d patterns in the schema", n)
	}
}

// TestLevelKeysAnyCase: a share map's level keys match in any case, as
// the loader reads them, and nothing else.
func TestLevelKeysAnyCase(t *testing.T) {
	var levels config.Field
	for _, td := range checks.TypeDefs() {
		for _, f := range td.Fields {
			if td.Name == "log_levels" && f.Name == "max_share" {
				levels = f
			}
		}
	}
	re := regexp.MustCompile(keyNames(levels)["pattern"].(string))
	for k, want := range map[string]bool{"ERROR": true, "error": true, "Err": true, "WARN": true, "emergency": true, "SEVERE": false, "errorx": false, "": false} {
		if re.MatchString(k) != want {
			t.Errorf("level key %q: match %v, want %v", k, !want, want)
		}
	}
}
