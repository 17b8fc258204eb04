package config

import (
	"maps"
	"regexp"
	"sort"
)

// StartTrace records which keys are read from f and from every mapping
// read below it from now on; the returned function lists them, each as
// its field path with list indexes elided (percentiles.p95,
// patterns[].name); keys of f read before the call are left out. Tests use it to hold the keys a builder reads to the
// keys its type declares.
func (f *Fields) StartTrace() func() []string {
	list := []*Fields{f}
	f.trace = &list
	before := maps.Clone(f.used)
	return func() []string {
		seen := map[string]bool{}
		for _, m := range *f.trace {
			rel := m.path[len(f.path):]
			if len(rel) > 0 && rel[0] == '.' {
				rel = rel[1:]
			}
			rel = indexRE.ReplaceAllString(rel, "[]")
			for k, used := range m.used {
				if !used || (m == f && before[k]) {
					continue
				}
				if rel != "" {
					k = rel + "." + k
				}
				seen[k] = true
			}
		}
		out := make([]string, 0, len(seen))
		for k := range seen {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
}

var indexRE = regexp.MustCompile(`\[[0-9]+\]`)
