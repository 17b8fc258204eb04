package checks

import (
	"fmt"
	"regexp"
	"strings"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

// NoRulerMessage is alert_rules' message when /api/v1/rules holds no group
// at all: the server evaluates no rules (VictoriaMetrics without vmalert
// behind -vmalert.proxyURL, a Prometheus without rule_files), which is not
// the same as lacking the required ones.
const NoRulerMessage = "this server evaluates no rules (VictoriaMetrics: point `-vmalert.proxyURL` at vmalert; Prometheus: list the rule files under rule_files)"

// noRulerNote is each required alert's note then: the hint is said once,
// in the budget's message.
const noRulerNote = "this server evaluates no rules"

// sharedGroupErrors counts, per group (file and name), how many rules
// report each last error, by its shape (errorShape). vmalert gives every
// rule of a group the same long error when its datasource fails, each
// with its own query in the URLs; such a text is shown once per group
// (sharedErrorNotes), the rules refer to it.
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
			shared[key][errorShape(lastError)]++
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
			shape := errorShape(lastError)
			if n := shared[key][shape]; n > 1 && lastError != "" {
				notes = append(notes, fmt.Sprintf("group %s: %d rules fail with: %s", g.Name, n, shape))
				delete(shared[key], shape) // once per group and text
			}
		}
	}
	return notes
}

// urlQueryRE matches the query string of a URL in an error text.
var urlQueryRE = regexp.MustCompile(`(https?://[^\s"?]+)\?[^\s"]*`)

// errorShape is an error text without the query strings of its URLs:
// vmalert's "error getting response from http://vm/api/v1/query?query=
// ...&time=...: ..." reads the same for every rule of a group, and the
// query it carries is the rule's own expression (and may hold what the
// URL should not show).
func errorShape(s string) string {
	return urlQueryRE.ReplaceAllStringFunc(s, func(m string) string {
		base, query, _ := strings.Cut(m, "?")
		// A colon or comma that ends the match ends the sentence, not the
		// query: "...&time=1796623542: Post ...".
		return base + query[len(strings.TrimRight(query, ":,;.")):]
	})
}

// isSharedError says whether lastError is one the rules of its group
// share (and so is shown once, in a note of the group).
func isSharedError(shared map[string]map[string]int, key, lastError string) bool {
	return lastError != "" && shared[key][errorShape(lastError)] > 1
}
