package checks

import (
	"fmt"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// NoRulerMessage is alert_rules' message when /api/v1/rules holds no group
// at all: the server evaluates no rules (VictoriaMetrics without vmalert
// behind -vmalert.proxyURL, a Prometheus without rule_files), which is not
// the same as lacking the required ones.
const NoRulerMessage = "this server evaluates no rules (VictoriaMetrics: point `-vmalert.proxyURL` at vmalert; Prometheus: list the rule files under rule_files)"

// sharedGroupErrors counts, per group (file and name), how many rules
// report each last error. vmalert gives every rule of a group the same
// long error when its datasource fails; such a text is shown once per
// group (sharedErrorNotes), the rules refer to it.
func sharedGroupErrors(groups []v1.RuleGroup) map[string]map[string]int {
	shared := map[string]map[string]int{}
	for _, g := range groups {
		key := g.File + "\x00" + g.Name
		for _, r := range g.Rules {
			var lastError string
			switch r := r.(type) {
			case v1.AlertingRule:
				lastError = r.LastError
			case v1.RecordingRule:
				lastError = r.LastError
			}
			if lastError == "" {
				continue
			}
			if shared[key] == nil {
				shared[key] = map[string]int{}
			}
			shared[key][lastError]++
		}
	}
	return shared
}

// sharedErrorRef stands in for a group's shared error in a rule's note.
func sharedErrorRef(group string) string {
	return fmt.Sprintf("the error of every rule in group %s (see the budget's notes)", group)
}

// sharedErrorNotes are the errors several rules of a group share, once
// per group, for the groups that hold a required alert.
func sharedErrorNotes(groups []v1.RuleGroup, shared map[string]map[string]int, required map[string]bool) []string {
	var notes []string
	for _, g := range groups {
		key := g.File + "\x00" + g.Name
		if !required[key] {
			continue
		}
		for _, r := range g.Rules {
			var lastError string
			switch r := r.(type) {
			case v1.AlertingRule:
				lastError = r.LastError
			case v1.RecordingRule:
				lastError = r.LastError
			}
			if n := shared[key][lastError]; n > 1 {
				notes = append(notes, fmt.Sprintf("group %s: %d rules fail with: %s", g.Name, n, lastError))
				delete(shared[key], lastError) // once per group and text
			}
		}
	}
	return notes
}
