package checks

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
)

// fieldExamples use every key of every budget type, between them: the
// drift test below holds what the builders read to what the types declare
// (and so to the JSON Schema generated from the declarations).
var fieldExamples = `version: 1
budgets:
  - {name: m, type: metric, expr: up, min: 0, max: 2, warn_min: 0.5, warn_max: 1.5, unit: ratio}
  - {name: p, type: metrics_present, metrics: [up], selector: '{job="a"}'}
  - {name: c, type: cardinality, selector: '{job="a"}', by: [job], max: 10, warn_max: 5}
  - {name: l, type: latency, histogram: h_seconds, selector: '{job="a"}', by: [job], percentiles: {p95: 1s}, warn: {p95: 500ms}, native: false}
  - {name: v, type: log_volume, selector: '{env="prod"}', by: [service], per: 1h, max: 100MB, warn_max: 80MB}
  - {name: ll, type: log_levels, selector: '{env="prod"}', by: [service], level_label: lvl, max_share: {ERROR: 10%}, min_share: {INFO: 1%}, warn_max_share: {ERROR: 5%}, warn_min_share: {INFO: 2%}}
  - {name: lj, type: log_levels, selector: '{env="prod"}', parser: json, level_field: level, max_share: {error: 10%}}
  - {name: r, type: log_redaction, selector: '{env="prod"}', by: [service], presets: [jwt], patterns: [{name: t, regex: 'sf_[a-f0-9]{32}'}], max_matches: 0}
  - {name: st, type: log_structure, selector: '{env="prod"}', by: [service], parser: logfmt, require_fields: [trace_id], min_share: 90%, warn_min_share: 95%}
  - {name: s, type: scrape, job: [api], interval: 15s, max_samples: 100, max_body_bytes: 1MB, up: 90%}
  - {name: s2, type: scrape, job: api, max_interval: 30s, up: true}
  - {name: e, type: endpoint, url: 'http://api:8080/metrics', max_bytes: 1MB, max_series: 10, require_auth: true, lint: true}
  - {name: a, type: alert_rules, rules_files: [deploy/alerts.yaml], require: [SecflowTaskDurationP95High], firing: warn, require_labels: [severity], require_annotations: [summary]}
  - {name: rt, type: retention, source: prometheus, min: 15d, warn_min: 20d}
`

// fieldReads loads text (named path) and returns, per budget, the keys
// its builder read (percentiles.p95, patterns[].name).
func fieldReads(t *testing.T, path string, text []byte) map[string][]string {
	t.Helper()
	var planned []*Planned
	plan := planner(&planned)
	reads := map[string][]string{}
	_, err := config.Parse(path, text, func(b *config.Budget) []string {
		done := b.Fields.StartTrace()
		allowed := plan(b)
		reads[b.Type] = append(reads[b.Type], done()...)
		return allowed
	})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return reads
}

// TestFieldDeclarationsMatchBuilders: every key a builder reads is declared
// for its type (with its nested keys), and every declared key is read by
// the builder when present, on the repo's budgets.yaml and on examples
// that use every field.
func TestFieldDeclarationsMatchBuilders(t *testing.T) {
	repoBudgets, err := os.ReadFile("../../budgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	all := map[string][]string{}
	for path, text := range map[string][]byte{"../../budgets.yaml": repoBudgets, "../../examples.yaml": []byte(fieldExamples)} {
		for typ, keys := range fieldReads(t, path, text) {
			all[typ] = append(all[typ], keys...)
		}
	}
	for _, td := range TypeDefs() {
		read := all[td.Name]
		if len(read) == 0 {
			t.Errorf("type %s: no example reads it: add one to fieldExamples", td.Name)
			continue
		}
		common := config.CommonFieldDefs(TypeNames())
		for _, k := range read {
			if !declared(td.Fields, k) && !declared(common, k) {
				t.Errorf("type %s: the builder reads %q, which the type does not declare (add it to its []config.Field, then make schema)", td.Name, k)
			}
		}
		for _, k := range declaredKeys(td.Fields, "") {
			if !slices.ContainsFunc(read, func(r string) bool { return r == k || strings.HasPrefix(r, k+".") }) {
				t.Errorf("type %s: declares %q but no example has the builder read it (add it to fieldExamples, or drop the declaration)", td.Name, k)
			}
		}
	}
}

// declared reports whether key (a.b, a[].b) is declared in fs.
func declared(fs []config.Field, key string) bool {
	head, rest, _ := strings.Cut(key, ".")
	list := strings.HasSuffix(head, "[]")
	head = strings.TrimSuffix(head, "[]")
	i := slices.IndexFunc(fs, func(f config.Field) bool { return f.Name == head })
	if i < 0 {
		return false
	}
	f := fs[i]
	switch {
	case rest == "":
		return !list
	case f.Kind == config.KindObjectList && list, f.Kind == config.KindObject && !list:
		return declared(f.Fields, rest)
	case f.Kind == config.KindDurationMap, f.Kind == config.KindShareMap, f.Kind == config.KindStringMap:
		return !list && !strings.Contains(rest, ".")
	}
	return false
}

// declaredKeys lists the keys fs declares, nested objects' keys included.
func declaredKeys(fs []config.Field, prefix string) []string {
	var out []string
	for _, f := range fs {
		out = append(out, prefix+f.Name)
		switch f.Kind {
		case config.KindObject:
			out = append(out, declaredKeys(f.Fields, prefix+f.Name+".")...)
		case config.KindObjectList:
			out = append(out, declaredKeys(f.Fields, prefix+f.Name+"[].")...)
		}
	}
	return out
}

// TestFieldDeclarationsCommon: the keys every budget may have are the
// declared ones.
func TestFieldDeclarationsCommon(t *testing.T) {
	decl := config.FieldNames(config.CommonFieldDefs(TypeNames()))
	loader := config.CommonFields()
	for _, k := range loader {
		if !slices.Contains(decl, k) {
			t.Errorf("the loader allows %q in every budget, but config.CommonFieldDefs does not declare it", k)
		}
	}
	for _, k := range decl {
		if !slices.Contains(loader, k) {
			t.Errorf("config.CommonFieldDefs declares %q, which the loader does not allow", k)
		}
	}
	i := slices.IndexFunc(config.CommonFieldDefs(TypeNames()), func(f config.Field) bool { return f.Name == "type" })
	if got := config.CommonFieldDefs(TypeNames())[i].Enum; !slices.Equal(got, TypeNames()) {
		t.Errorf("the type enum is %v, want the registry's %v", got, TypeNames())
	}
}
