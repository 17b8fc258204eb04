package report

import (
	"slices"

	dto "github.com/prometheus/client_model/go"
)

// sourceInfoLabels are the labels of a source's secflow_budget_source_info
// series: source, engine and version (left out when the engine reported
// none, as Prometheus reads an empty label). A name that a target label
// (job, instance) or a --push-label takes is prefixed source_ (as often as
// it takes): the push would refuse a series carrying a grouping label.
func sourceInfoLabels(src SourceInfo, pushLabels []string) []*dto.LabelPair {
	reserved := slices.Concat(targetLabels, pushLabels)
	set := map[string]string{}
	put := func(name, value string) {
		for slices.Contains(reserved, name) {
			name = "source_" + name
		}
		set[name] = value
	}
	put("source", src.Name)
	put("engine", src.engineName())
	if src.Version != "" {
		put("version", src.Version)
	}
	return sortedPairs(set)
}
