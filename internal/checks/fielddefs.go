package checks

import (
	"sort"

	"github.com/secflow/secflow-budget/internal/config"
)

// Patterns of the declared fields (config.Field), as the builders check them.
const (
	metricNamePattern = `^[a-zA-Z_:][a-zA-Z0-9_:]*$`
	labelNamePattern  = `^[a-zA-Z_][a-zA-Z0-9_]*$`
	percentilePattern = `^p[0-9]{1,2}(\.[0-9]+)?$`
)

// levelKeys lists every spelling of a level that a share map accepts as a
// key (in any case).
func levelKeys() []string {
	keys := make([]string, 0, len(levelAliases))
	for k := range levelAliases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TypeDef is a budget type as the registry declares it: for the JSON
// Schema and the docs.
type TypeDef struct {
	Name     string
	Category string
	Fields   []config.Field // the type's own keys, beyond config.CommonFieldDefs
}

// TypeDefs lists the registry's budget types, sorted by name.
func TypeDefs() []TypeDef {
	var out []TypeDef
	for name, t := range types() {
		out = append(out, TypeDef{Name: name, Category: t.category, Fields: t.fields})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
