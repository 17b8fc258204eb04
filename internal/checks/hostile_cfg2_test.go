package checks

import (
	"strings"
	"testing"
)

const cfg2RulesBudget = "version: 1\nbudgets:\n  - name: a\n    type: alert_rules\n    rules_files: [r.yaml]\n"

// cfg2RulesRefused loads cfg2RulesBudget with rules as r.yaml and wants
// exactly the message want, which must not quote hidden ("" for none).
func cfg2RulesRefused(t *testing.T, rules, want, hidden string) {
	t.Helper()
	got := hostileLoad(t, cfg2RulesBudget, map[string]string{"r.yaml": rules})
	if got != want {
		t.Errorf("\n got: %q\nwant: %q", got, want)
	}
	if hidden != "" && strings.Contains(got, hidden) {
		t.Errorf("the message quotes the file: %q", got)
	}
}

// TestHostileRulesFileShape: rules_files naming a file that is no rules
// file (a JSON of access keys, a shadow file, a list, a scalar) is one
// line saying so, quoting none of it; unknown keys are named only as a
// near miss of a field; a value of the wrong kind is said in words, once.
func TestHostileRulesFileShape(t *testing.T) {
	const at = "budgets.yaml:5:18: budgets[0].rules_files: "
	for _, tc := range []struct {
		name, rules, want, hidden string
	}{
		{"JSON of keys", `{"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI"}`,
			at + "r.yaml:1:1: not a rules file: want a mapping with groups", "AKIA"},
		{"shadow file", "root:$6$saltsalt$HASHSECRET:19000:0:99999:7:::\n",
			at + "r.yaml:1:1: not a rules file: want a mapping with groups", "HASHSECRET"},
		{"a list", "- groups\n- SECRETX\n",
			at + "r.yaml:1:1: not a rules file: want a mapping with groups", "SECRETX"},
		{"a scalar", "SECRETX\n",
			at + "r.yaml:1:1: not a rules file: want a mapping with groups", "SECRETX"},
		{"a mapping without groups", "grops: []\nAKIAXXXX: 1\n",
			at + "r.yaml:1:1: not a rules file: want a mapping with groups", "AKIA"},
		{"key beside groups", "groups: []\nAKIAIOSFODNN7EXAMPLE: 1\n",
			at + "r.yaml:2:1: an unknown field (not shown) at the top of a rules file (known: groups)", "AKIA"},
		{"near miss beside groups", "groups: []\ngruops: 1\n",
			at + `r.yaml:2:1: unknown field "gruops" at the top of a rules file (did you mean "groups"?)`, ""},
		{"key in a group", "groups:\n  - name: g\n    AKIAIOSFODNN7EXAMPLE: 1\n    rules: []\n",
			at + "r.yaml:3:5: an unknown field (not shown) in a rule group (known: interval, labels, limit, name, query_offset, rules)", "AKIA"},
		{"key in a rule", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        'export TOKEN=abc123': 1\n",
			at + "r.yaml:6:9: an unknown field (not shown) in a rule (known: alert, annotations, expr, for, keep_firing_for, labels, record)", "abc123"},
		{"keys merged into rules", "x: &x {AKIAIOSFODNN7EXAMPLE: 1, forr: 5m}\ngroups:\n  - name: g\n    rules:\n      - <<: *x\n        alert: A\n        expr: up == 0\n      - <<: *x\n        alert: B\n        expr: up == 0\n",
			at + "r.yaml:1:1: an unknown field (not shown) at the top of a rules file (known: groups)\n" +
				at + "r.yaml:1:8: an unknown field (not shown) in a rule (known: alert, annotations, expr, for, keep_firing_for, labels, record)\n" +
				at + `r.yaml:1:33: unknown field "forr" in a rule (did you mean "for"?)`, "AKIA"},
		{"groups a number", "groups: 5\n",
			at + "r.yaml:1:9: groups: want a list of rule groups, got a single value", ""},
		{"group a string", "groups: [SECRETX]\n",
			at + "r.yaml:1:10: groups[0]: want a rule group (a mapping with name and rules), got a single value", "SECRETX"},
		{"rules a mapping", "groups: [{name: g, rules: {a: SECRETX}}]\n",
			at + "r.yaml:1:27: groups[0].rules: want a list of rules, got a mapping", "SECRETX"},
		{"rule a string", "groups: [{name: g, rules: [SECRETX]}]\n",
			at + "r.yaml:1:28: groups[0].rules[0]: want a rule (a mapping with alert or record, and expr), got a single value", "SECRETX"},
		{"labels a number", "groups: [{name: g, rules: [{alert: A, expr: up == 0, labels: 5}]}]\n",
			at + "r.yaml:1: want a mapping of names to strings, got a number", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg2RulesRefused(t, tc.rules, tc.want, tc.hidden)
		})
	}
	// An empty file is no rules file's error: Prometheus loads it as no groups.
	cfg2RulesRefused(t, "# none yet\n", at+"the files define no alerting rule: set require, or list the files that hold the alerts", "")
}

// TestHostileRulesFileContent: rulefmt's messages about a template, a
// label or a recording rule's name quote the file; they are said at the
// line and column of what they are about, without it.
func TestHostileRulesFileContent(t *testing.T) {
	const at = "budgets.yaml:5:18: budgets[0].rules_files: "
	for _, tc := range []struct {
		name, rules, want, hidden string
	}{
		{"annotation template", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          summary: \"{{ HUNTER2SECRET\"\n",
			at + `r.yaml:7:20: group "g", rule 1, "A": annotation "summary": template: __alert_A:1: function (not shown) not defined`, "HUNTER2"},
		{"label template", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        labels:\n          team: \"{{ .HUNTER2SECRET\"\n",
			at + `r.yaml:7:17: group "g", rule 1, "A": label "team": template: __alert_A:1: unclosed action`, "HUNTER2"},
		{"recording rule name", "groups:\n  - name: g\n    rules:\n      - record: 'job:HUNTER2SECRET{x}'\n        expr: up\n      - alert: A\n        expr: up == 0\n",
			at + `r.yaml:4:17: group "g", rule 1, "job:HUNTER2SECRET{x}": braces present in the recording rule name; should it be in expr? (not shown)`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg2RulesRefused(t, tc.rules, tc.want, tc.hidden)
		})
	}
}

// TestHostileDuplicatesInLists: a value listed twice is refused in every
// list of names (metrics as job, require, by and presets), naming both
// places; a list with a bad name says that alone, not also "empty".
func TestHostileDuplicatesInLists(t *testing.T) {
	const head = "version: 1\nbudgets:\n  - name: a\n"
	for _, tc := range []struct {
		name, budget, want string
	}{
		{"metrics", "    type: metrics_present\n    metrics: [a, b, a]\n",
			`budgets.yaml:5:21: budgets[0].metrics[2]: metric "a" listed twice: metrics[0] at 5:15 and metrics[2] at 5:21`},
		{"metrics, one per line", "    type: metrics_present\n    metrics:\n      - up\n      - up\n",
			`budgets.yaml:7:9: budgets[0].metrics[1]: metric "up" listed twice: metrics[0] at 6:9 and metrics[1] at 7:9`},
		{"job", "    type: scrape\n    job: [api, api]\n",
			`budgets.yaml:5:16: budgets[0].job[1]: job "api" listed twice: job[0] at 5:11 and job[1] at 5:16`},
		{"require", "    type: alert_rules\n    require: [A, B, A]\n",
			`budgets.yaml:5:21: budgets[0].require[2]: alert "A" listed twice: require[0] at 5:15 and require[2] at 5:21`},
		{"by", "    type: cardinality\n    selector: '{job=\"a\"}'\n    max: 5\n    by: [pod, pod]\n",
			`budgets.yaml:7:15: budgets[0].by[1]: label "pod" listed twice: by[0] at 7:10 and by[1] at 7:15`},
		{"rules_files", "    type: alert_rules\n    require: [A]\n    rules_files: [r.yaml, ./r.yaml]\n",
			`budgets.yaml:6:27: budgets[0].rules_files[1]: file "./r.yaml" listed twice: rules_files[0] at 6:19 and rules_files[1] at 6:27`},
		{"require_labels", "    type: alert_rules\n    require: [A]\n    require_labels: [severity, team, severity]\n",
			`budgets.yaml:6:38: budgets[0].require_labels[2]: "severity" listed twice: require_labels[0] at 6:22 and require_labels[2] at 6:38`},
		{"presets", "    type: log_redaction\n    selector: '{service=\"api\"}'\n    presets: [jwt, jwt]\n",
			`budgets.yaml:6:20: budgets[0].presets[1]: preset "jwt" listed twice: presets[0] at 6:15 and presets[1] at 6:20`},
		{"bad name is not also empty", "    type: metrics_present\n    metrics: ['bad name']\n",
			`budgets.yaml:5:14: budgets[0].metrics: invalid metric name "bad name"`},
		{"alias of a list is not also empty", "version: 1\nx-l: &l [[a]]\nbudgets:\n  - name: a\n    type: metrics_present\n    metrics: *l\n",
			`budgets.yaml:6:14: budgets[0].metrics[0]: want a single value, got a list (in the value of the anchor at line 2)`},
		{"empty", "    type: metrics_present\n    metrics: []\n",
			`budgets.yaml:5:14: budgets[0].metrics: the list is empty: name at least one metric`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := head + tc.budget
			if strings.HasPrefix(tc.budget, "version") {
				text = tc.budget
			}
			rules := map[string]string{"r.yaml": "groups: [{name: g, rules: [{alert: A, expr: up == 0}]}]\n"}
			if got := hostileLoad(t, text, rules); got != tc.want {
				t.Errorf("\n got: %q\nwant: %q", got, tc.want)
			}
		})
	}
}

// TestHostileRegexpErrorsCut: a regular expression that does not compile
// is said with its position, and the message quotes at most its start,
// not the whole (up to 64KiB) expression.
func TestHostileRegexpErrorsCut(t *testing.T) {
	deep := strings.Repeat("(", 1001) + "a" + strings.Repeat(")", 1001)
	const head = "version: 1\nbudgets:\n  - name: a\n"
	const cut = "error parsing regexp: expression nests too deeply: `" + "((((((((((((((((((((((((((((((((((((((((" + "…` (2003 bytes)"
	for _, tc := range []struct {
		name, budget, want string
	}{
		{"log_redaction pattern", "    type: log_redaction\n    selector: '{service=\"api\"}'\n    patterns: [{name: p, regex: '" + deep + "'}]\n",
			"budgets.yaml:6:33: budgets[0].patterns[0].regex: invalid regular expression (RE2, as Loki uses): " + cut},
		{"short regexp kept", "    type: log_redaction\n    selector: '{service=\"api\"}'\n    patterns: [{name: p, regex: 'a{1001}'}]\n",
			"budgets.yaml:6:33: budgets[0].patterns[0].regex: invalid regular expression (RE2, as Loki uses): error parsing regexp: invalid repeat count: `{1001}`"},
		{"cardinality selector", "    type: cardinality\n    max: 5\n    selector: '{job=~\"" + deep + "\"}'\n",
			"budgets.yaml:6:17: budgets[0].selector: invalid selector: " + cut},
		{"LogQL selector", "    type: log_volume\n    max: 1MB\n    selector: '{service=~\"" + deep + "\"}'\n",
			"budgets.yaml:6:26: budgets[0].selector: invalid LogQL stream selector: parse error at line 1, col 11: " + cut},
		{"metric expression", "    type: metric\n    max: 1\n    expr: 'up{job=~\"" + deep + "\"}'\n",
			"budgets.yaml:6:15: budgets[0].expr: invalid PromQL: " + cut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hostileLoad(t, head+tc.budget, nil); got != tc.want {
				t.Errorf("\n got: %.500q\nwant: %q", got, tc.want)
			}
		})
	}
}
