package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/checks"
)

// The committed schema is what `secflow-budget schema` prints, and a real
// draft 2020-12 validator (santhosh-tekuri/jsonschema) accepts every
// budgets file of the repo and README and refuses what validate refuses.

const schemaFile = "schema/budgets.schema.json"

// schemaCompile compiles the committed schema with the real validator.
func schemaCompile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join(repo, schemaFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s is no JSON: %v", schemaFile, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("budgets.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("budgets.schema.json")
	if err != nil {
		t.Fatalf("compiling %s: %v", schemaFile, err)
	}
	return sch
}

// schemaYAMLToJSON converts a YAML document (anchors and merge keys
// resolved, as the loader follows them) to the JSON value the validator
// reads.
func schemaYAMLToJSON(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		t.Fatalf("YAML: %v\n%s", err, text)
	}
	b, err := json.Marshal(schemaJSONable(v))
	if err != nil {
		t.Fatalf("YAML to JSON: %v\n%s", err, text)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// schemaJSONable makes YAML's values JSON's: keys as strings, times as
// the text they were written as (a date).
func schemaJSONable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = schemaJSONable(e)
		}
		return x
	case map[any]any:
		m := map[string]any{}
		for k, e := range x {
			m[fmt.Sprint(k)] = schemaJSONable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = schemaJSONable(e)
		}
		return x
	case time.Time:
		if x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 {
			return x.Format("2006-01-02")
		}
		return x.Format(time.RFC3339Nano)
	}
	return v
}

func schemaValidate(t *testing.T, sch *jsonschema.Schema, text string) error {
	t.Helper()
	return sch.Validate(schemaYAMLToJSON(t, text))
}

func TestSchemaCommittedIsGenerated(t *testing.T) {
	r := run(t, nil, "schema")
	expectCode(t, r, 0)
	committed, err := os.ReadFile(filepath.Join(repo, schemaFile))
	if err != nil {
		t.Fatalf("%v: generate it with `go run ./cmd/secflow-budget schema > %s` (or make schema)", err, schemaFile)
	}
	if r.stdout != string(committed) {
		t.Errorf("%s differs from what `secflow-budget schema` prints: regenerate it with `go run ./cmd/secflow-budget schema > %s` (or make schema) and commit it", schemaFile, schemaFile)
	}
	var doc map[string]any
	mustJSON(t, r.stdout, &doc)
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", doc["$schema"])
	}
	// Every type of the registry has its if/then branch.
	budget := doc["$defs"].(map[string]any)["budget"].(map[string]any)
	var types []string
	for _, b := range budget["allOf"].([]any) {
		types = append(types, b.(map[string]any)["if"].(map[string]any)["properties"].(map[string]any)["type"].(map[string]any)["const"].(string))
	}
	if got, want := strings.Join(types, ","), strings.Join(checks.TypeNames(), ","); got != want {
		t.Errorf("schema types %s, want the registry's %s", got, want)
	}
	if budget["unevaluatedProperties"] != false {
		t.Errorf("budget unevaluatedProperties = %v, want false", budget["unevaluatedProperties"])
	}
}

func TestSchemaBudgetsYAMLNamesIt(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repo, "budgets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if want := "# yaml-language-server: $schema=./" + schemaFile; first != want {
		t.Errorf("budgets.yaml starts with %q, want %q", first, want)
	}
}

// schemaREADMEBlocks returns the yaml blocks of README.md, each made a
// whole budgets file: a list of budgets gets version and budgets around
// it, a fragment (sources only) a version and a budget.
func schemaREADMEBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile("(?ms)^```yaml\n(.*?)^```").FindAllStringSubmatch(string(b), -1) {
		text := m[1]
		var top any
		if err := yaml.Unmarshal([]byte(text), &top); err != nil {
			t.Fatalf("README yaml block does not parse: %v\n%s", err, text)
		}
		switch v := top.(type) {
		case []any:
			if schemaIsCISteps(v) {
				continue // a workflow's steps shown next to budgets
			}
			text = "version: 1\nbudgets:\n" + regexp.MustCompile("(?m)^").ReplaceAllString(text, "  ")
		case map[string]any:
			if schemaIsCIFile(v) {
				continue // a workflow or pipeline shown next to budgets
			}
			if _, ok := v["budgets"]; !ok {
				text += "budgets: [{name: placeholder, type: metric, expr: up, min: 1}]\n"
			}
			if _, ok := v["version"]; !ok {
				text = "version: 1\n" + text
			}
		default:
			t.Fatalf("README yaml block is neither a mapping nor a list:\n%s", text)
		}
		out = append(out, text)
	}
	if len(out) < 15 {
		t.Fatalf("found only %d yaml blocks in README.md", len(out))
	}
	return out
}

// schemaIsCIFile tells a CI system's file shown in the README (a GitHub
// workflow or action, a GitLab pipeline) from a budgets file.
func schemaIsCIFile(top map[string]any) bool {
	for _, k := range []string{"jobs", "on", "stages", "runs"} {
		if _, ok := top[k]; ok {
			return true
		}
	}
	for _, v := range top {
		if job, ok := v.(map[string]any); ok {
			for _, k := range []string{"script", "steps", "runs-on"} {
				if _, ok := job[k]; ok {
					return true
				}
			}
		}
	}
	return false
}

// schemaIsCISteps tells a list of GitHub workflow steps from a list of
// budgets.
func schemaIsCISteps(list []any) bool {
	for _, item := range list {
		if step, ok := item.(map[string]any); ok {
			if _, ok := step["uses"]; ok {
				return true
			}
			if _, ok := step["run"]; ok {
				return true
			}
		}
	}
	return false
}

// TestSchemaAcceptsRepoFiles: budgets.yaml, the budgets files of testdata
// and every yaml block of README.md are valid for the schema and for the
// loader.
func TestSchemaAcceptsRepoFiles(t *testing.T) {
	sch := schemaCompile(t)
	files := map[string]string{}
	for _, p := range []string{"budgets.yaml", "internal/cli/testdata/no-sources.yaml"} {
		b, err := os.ReadFile(filepath.Join(repo, p))
		if err != nil {
			t.Fatal(err)
		}
		files[p] = string(b)
	}
	for i, text := range schemaREADMEBlocks(t) {
		files[fmt.Sprintf("README.md yaml block %d", i+1)] = text
	}
	for name, text := range files {
		if err := schemaValidate(t, sch, text); err != nil {
			t.Errorf("%s: the schema refuses it: %v\n%s", name, err, text)
		}
		// The loader, from the repository root (rules_files are relative).
		if _, _, err := checks.Parse(filepath.Join(repo, "budgets.yaml"), []byte(text)); err != nil {
			t.Errorf("%s: the loader refuses it: %v\n%s", name, err, text)
		}
	}
}

// schemaBadInputs are budgets files that validate refuses: the schema
// must refuse each too.
var schemaBadInputs = []struct {
	name, text, validateSays string
}{
	{"unknown budget key", "  - {name: a, type: metric, expr: up, max: 1, maxx: 2}\n", `budgets[0].maxx: unknown field "maxx"`},
	{"unknown top-level key", "", "an unknown field"},
	{"bad duration unit", "  - {name: a, type: latency, histogram: h, percentiles: {p95: 300 parsecs}}\n", `budgets[0].percentiles.p95: invalid duration "300 parsecs"`},
	{"bare number duration", "  - {name: a, type: retention, source: prometheus, min: 15}\n", `budgets[0].min: invalid duration "15": missing unit`},
	{"bad size unit", "  - {name: a, type: log_volume, selector: '{env=\"prod\"}', max: 100 parsecs}\n", `budgets[0].max: invalid size "100 parsecs"`},
	{"bad share", "  - {name: a, type: log_levels, selector: '{env=\"prod\"}', max_share: {ERROR: 10 percent}}\n", `budgets[0].max_share.ERROR: invalid share "10 percent"`},
	{"share over 100%", "  - {name: a, type: log_levels, selector: '{env=\"prod\"}', max_share: {ERROR: 150%}}\n", `invalid share "150%"`},
	{"string for a number", "  - {name: a, type: metric, expr: up, min: abc}\n", `budgets[0].min: invalid number "abc"`},
	{"list where a map belongs", "  - {name: a, type: latency, histogram: h, percentiles: [p95, p99]}\n", "budgets[0].percentiles: want a mapping, got a list"},
	{"map where a list belongs", "  - {name: a, type: metrics_present, metrics: {a: b}}\n", "budgets[0].metrics: want a list, got a mapping"},
	{"unknown budget type", "  - {name: a, type: latencyy, histogram: h}\n", `unknown budget type "latencyy" (did you mean "latency"?)`},
	{"missing required field", "  - {name: a, type: metric, max: 1}\n", "budgets[0].expr: required field is missing"},
	{"bad name", "  - {name: A B, type: metric, expr: up, max: 1}\n", `invalid name "A B"`},
	{"bad enum", "  - {name: a, type: metric, expr: up, max: 1, on_missing: maybe}\n", `invalid on_missing "maybe"`},
	{"unknown level", "  - {name: a, type: log_levels, selector: '{env=\"prod\"}', max_share: {SEVERE: 10%}}\n", `unknown level "SEVERE"`},
	{"bad percentile", "  - {name: a, type: latency, histogram: h, percentiles: {q95: 1s}}\n", `invalid percentile "q95"`},
	{"unknown preset", "  - {name: a, type: log_redaction, selector: '{env=\"prod\"}', presets: [passwords]}\n", `unknown preset "passwords"`},
	{"unknown source key", "", "sources.prometheus"},
	{"wrong version", "", "unsupported version 2"},
	{"negative count", "  - {name: a, type: cardinality, selector: '{job=\"a\"}', max: -1}\n", "a number of series cannot be negative"},
	{"string for a boolean", "  - {name: a, type: endpoint, url: 'http://a/metrics', lint: yes}\n", `invalid boolean "yes"`},
	{"key of another type", "  - {name: a, type: metric, expr: up, max: 1, histogram: h}\n", "budgets[0]: an unknown field"},
}

// schemaBadText makes a bad input a whole file.
func schemaBadText(name, budgets string) string {
	switch name {
	case "unknown top-level key":
		return "version: 1\nbudget_defaults: {window: 1h}\nbudgets:\n  - {name: a, type: metric, expr: up, max: 1}\n"
	case "unknown source key":
		return "version: 1\nsources: {prometheus: {url: 'http://p:9090', timeuot: 5s}}\nbudgets:\n  - {name: a, type: metric, expr: up, max: 1}\n"
	case "wrong version":
		return "version: 2\nbudgets:\n  - {name: a, type: metric, expr: up, max: 1}\n"
	}
	return "version: 1\nbudgets:\n" + budgets
}

// TestSchemaAndValidateAgree: on each bad input, validate exits 2 naming
// the field and the schema refuses the file; on its fixed twin (the
// last good state), both accept.
func TestSchemaAndValidateAgree(t *testing.T) {
	sch := schemaCompile(t)
	dir := t.TempDir()
	for _, c := range schemaBadInputs {
		t.Run(c.name, func(t *testing.T) {
			text := schemaBadText(c.name, c.text)
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			r := run(t, nil, "validate", "-c", path)
			expectCode(t, r, 2)
			if !strings.Contains(r.stderr, c.validateSays) {
				t.Errorf("validate says:\n%s\nwant it to say %q", r.stderr, c.validateSays)
			}
			if err := schemaValidate(t, sch, text); err == nil {
				t.Errorf("the schema accepts what validate refuses:\n%s", text)
			}
		})
	}
	good := "version: 1\nbudgets:\n  - {name: a, type: metric, expr: up, max: 1}\n"
	path := filepath.Join(dir, "good.yaml")
	os.WriteFile(path, []byte(good), 0o644)
	expectCode(t, run(t, nil, "validate", "-c", path), 0)
	if err := schemaValidate(t, sch, good); err != nil {
		t.Errorf("the schema refuses a good file: %v", err)
	}
}

// TestSchemaMergeKeysAndExtensions: x- keys and merge keys, which the
// loader follows, are accepted by the schema as the YAML resolves them,
// and a merge key itself is allowed where an editor sees it unresolved.
func TestSchemaMergeKeysAndExtensions(t *testing.T) {
	sch := schemaCompile(t)
	text := `version: 1
x-common: &common {type: metric, window: 1h, severity: warning}
budgets:
  - <<: *common
    name: queue-depth
    expr: max(secflow_queue_depth)
    max: 500
`
	if err := schemaValidate(t, sch, text); err != nil {
		t.Errorf("schema refuses merge keys and x- keys: %v", err)
	}
	unresolved := map[string]any{"version": 1, "x-common": map[string]any{"type": "metric"}, "budgets": []any{
		map[string]any{"<<": map[string]any{"type": "metric"}, "name": "a", "type": "metric", "expr": "up", "max": 1},
	}}
	b, _ := json.Marshal(unresolved)
	doc, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err := sch.Validate(doc); err != nil {
		t.Errorf("schema refuses a budget with an unresolved merge key: %v", err)
	}
	// x- only at the top, as the loader says.
	bad := "version: 1\nbudgets:\n  - {name: a, type: metric, expr: up, max: 1, x-note: 1}\n"
	if err := schemaValidate(t, sch, bad); err == nil {
		t.Error("schema accepts an x- key inside a budget; the loader refuses it")
	}
}

// TestSchemaUnitPatterns: the unit patterns accept what the unit parsers
// accept, and refuse what they refuse, on a table of values.
func TestSchemaUnitPatterns(t *testing.T) {
	sch := schemaCompile(t)
	budget := func(field, v string) string {
		switch field {
		case "duration":
			return "version: 1\nbudgets:\n  - {name: a, type: retention, source: loki, min: " + v + "}\n"
		case "size":
			return "version: 1\nbudgets:\n  - {name: a, type: log_volume, selector: '{env=\"p\"}', max: " + v + "}\n"
		default:
			return "version: 1\nbudgets:\n  - {name: a, type: log_levels, selector: '{env=\"p\"}', max_share: {ERROR: " + v + "}}\n"
		}
	}
	for _, c := range []struct {
		field, value string
		ok           bool
	}{
		{"duration", "300s", true}, {"duration", "250ms", true}, {"duration", "1h30m", true}, {"duration", "15d", true}, {"duration", "2w", true},
		{"duration", "300", false}, {"duration", "5 minutes", false}, {"duration", "1.5h", false}, {"duration", "''", false},
		{"size", "100MB", true}, {"size", "100MiB", true}, {"size", "1.5GB", true}, {"size", "512", true}, {"size", "42B", true},
		{"size", "100 parsecs", false}, {"size", "100Mb", false}, {"size", "-1MB", false},
		{"share", "10%", true}, {"share", "2.5%", true}, {"share", "0.1", true},
		{"share", "10 percent", false}, {"share", "1.5", false}, {"share", "100%", true}, {"share", "100.5%", false}, {"share", "101%", false},
	} {
		text := budget(c.field, c.value)
		err := schemaValidate(t, sch, text)
		if (err == nil) != c.ok {
			t.Errorf("%s %s: schema error %v, want ok=%v", c.field, c.value, err, c.ok)
		}
		_, _, lerr := checks.Parse("b.yaml", []byte(text))
		if (lerr == nil) != c.ok {
			t.Errorf("%s %s: loader error %v, want ok=%v (schema and loader must agree)", c.field, c.value, lerr, c.ok)
		}
	}
}
