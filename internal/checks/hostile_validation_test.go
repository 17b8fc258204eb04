package checks

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// hostileLoad writes text as budgets.yaml in a temporary directory (with
// files beside it) and returns Load's error text, "" for none.
func hostileLoad(t *testing.T, text string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "budgets.yaml"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	_, _, err := Load("budgets.yaml")
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestHostileLimits: every limit of every type is a finite number, in
// range, and consistent with the budget's other limits; anything else is
// a config error at the value, naming the keys involved.
func TestHostileLimits(t *testing.T) {
	const head = "version: 1\nbudgets:\n"
	levels := head + "  - name: lv\n    type: log_levels\n    selector: '{service=\"api\"}'\n"
	metric := head + "  - name: m\n    type: metric\n    expr: up\n"
	lat := head + "  - name: lat\n    type: latency\n    histogram: h_seconds\n"
	for _, tc := range []struct{ name, text, want string }{
		{"level share NaN", levels + "    max_share: {ERROR: NaN%}\n",
			`budgets.yaml:6:24: budgets[0].max_share.ERROR: invalid share "NaN%": want a percentage between 0% and 100%`},
		{"level share negative", levels + "    max_share: {ERROR: -5%}\n",
			`budgets.yaml:6:24: budgets[0].max_share.ERROR: invalid share "-5%": want a percentage between 0% and 100%`},
		{"level share over 100%", levels + "    max_share: {ERROR: 150%}\n",
			`budgets.yaml:6:24: budgets[0].max_share.ERROR: invalid share "150%": want a percentage between 0% and 100%`},
		{"two aliases of one level", levels + "    max_share: {ERR: 5%, ERROR: 50%}\n",
			`budgets.yaml:6:26: budgets[0].max_share.ERROR: "ERR" and "ERROR" both name the level ERROR: set its limit once`},
		{"one level in two cases", levels + "    max_share: {error: 10%, ERROR: 50%}\n",
			`budgets.yaml:6:29: budgets[0].max_share.ERROR: "error" and "ERROR" both name the level ERROR: set its limit once`},
		{"min_share above max_share", levels + "    max_share: {ERROR: 10%}\n    min_share: {err: 20%}\n",
			`budgets.yaml:7:16: budgets[0].min_share: min_share.ERROR is greater than max_share.ERROR: nothing could pass`},
		{"warn share looser than hard", levels + "    max_share: {WARNING: 25%}\n    warn_max_share: {warn: 30%}\n",
			`budgets.yaml:7:21: budgets[0].warn_max_share: warn_max_share.WARNING is greater than max_share.WARNING: it would never warn`},
		{"share maps that name no level", levels + "    max_share: {}\n",
			`budgets.yaml:6:16: budgets[0].max_share: no limit: the share maps name no level, e.g. {ERROR: 10%}`},
		{"max +Inf", metric + "    max: +Inf\n",
			`budgets.yaml:6:10: budgets[0].max: invalid number "+Inf": want a finite number such as 10000 or 0.5`},
		{"max NaN", metric + "    max: NaN\n",
			`budgets.yaml:6:10: budgets[0].max: invalid number "NaN": want a finite number such as 10000 or 0.5`},
		{"min above max", metric + "    min: 5\n    max: 1\n",
			`budgets.yaml:6:10: budgets[0].min: min is greater than max: nothing could pass`},
		{"warn_max above max", metric + "    max: 5\n    warn_max: 10\n",
			`budgets.yaml:7:15: budgets[0].warn_max: warn_max is greater than max: it would never warn`},
		{"warn_min below min", metric + "    min: 5\n    warn_min: 1\n",
			`budgets.yaml:7:15: budgets[0].warn_min: warn_min is less than min: it would never warn`},
		{"warn_min above warn_max", metric + "    warn_min: 5\n    warn_max: 1\n",
			`budgets.yaml:6:15: budgets[0].warn_min: warn_min is greater than warn_max: everything would warn`},
		{"size 1e300TB", head + "  - name: v\n    type: log_volume\n    selector: '{service=\"api\"}'\n    max: 1e300TB\n",
			`budgets.yaml:6:10: budgets[0].max: invalid size "1e300TB": too large (at most 8EiB)`},
		{"cardinality max +Inf", head + "  - name: c\n    type: cardinality\n    selector: '{job=\"api\"}'\n    max: .inf\n",
			`budgets.yaml:6:10: budgets[0].max: invalid number ".inf": want a finite number such as 10000 or 0.5`},
		{"p99 and p99.0", lat + "    percentiles: {p99: 600s, p99.0: 500s}\n",
			`budgets.yaml:6:30: budgets[0].percentiles.p99.0: p99 and p99.0 are the same percentile: set its limit once`},
		{"p9 and p09", lat + "    percentiles: {p9: 1s, p09: 2s}\n",
			`budgets.yaml:6:27: budgets[0].percentiles.p09: p9 and p09 are the same percentile: set its limit once`},
		{"empty job list", head + "  - name: s\n    type: scrape\n    job: []\n",
			`budgets.yaml:5:10: budgets[0].job: no job: name the scrape job (or a list of jobs)`},
		{"null job", head + "  - name: s\n    type: scrape\n    job:\n",
			`budgets.yaml:5:9: budgets[0].job: no job: name the scrape job (or a list of jobs)`},
		{"empty presets", head + "  - name: r\n    type: log_redaction\n    selector: '{service=\"api\"}'\n    presets: []\n",
			`budgets.yaml:6:14: budgets[0].presets: the list is empty: name a preset (aws_access_key, bearer_token, email, jwt, password_assignment, private_key_block) or set patterns`},
		{"empty metrics", head + "  - name: p\n    type: metrics_present\n    metrics: []\n",
			`budgets.yaml:5:14: budgets[0].metrics: the list is empty: name at least one metric`},
		{"null type (found by FuzzLoadBudgets: the budget loaded with no check)", head + "  - name: n\n    type:\n",
			`budgets.yaml:4:10: budgets[0].type: unknown budget type "" (known: alert_rules, cardinality, endpoint, latency, log_levels, log_redaction, log_structure, log_volume, metric, metrics_present, retention, scrape)`},
		{"empty require", head + "  - name: a\n    type: alert_rules\n    require: []\n",
			`budgets.yaml:5:14: budgets[0].require: no alerts: name at least one`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hostileLoad(t, tc.text, nil); got != tc.want {
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

// TestHostileQueries: what the engine would refuse at check time is
// refused at load: a selector that matches every series, an expression of
// a type a budget cannot judge, expressions and selectors past the
// parsing bounds.
func TestHostileQueries(t *testing.T) {
	const head = "version: 1\nbudgets:\n"
	card := head + "  - name: c\n    type: cardinality\n    max: 10\n"
	metric := head + "  - name: m\n    type: metric\n    max: 1\n"
	logs := head + "  - name: v\n    type: log_volume\n    max: 1MB\n"
	plus := strings.Repeat("up + ", 200000) + "up"
	nested := strings.Repeat("(", 500000) + "up" + strings.Repeat(")", 500000)
	ops := strings.Repeat("up + ", MaxPromQLOperators+1) + "up"
	deep := strings.Repeat("(", MaxPromQLDepth+1) + "up" + strings.Repeat(")", MaxPromQLDepth+1)
	for _, tc := range []struct{ name, text, want string }{
		{"selector {}", card + "    selector: '{}'\n",
			`budgets.yaml:6:15: budgets[0].selector: the selector matches every series: name at least one label with a value it must have, e.g. {job="api"} or {__name__=~"secflow_.*"} (a matcher that matches the empty string, such as job=~".*", selects nothing out)`},
		{"selector job=~.*", card + "    selector: '{job=~\".*\"}'\n",
			`budgets.yaml:6:15: budgets[0].selector: the selector matches every series: name at least one label with a value it must have, e.g. {job="api"} or {__name__=~"secflow_.*"} (a matcher that matches the empty string, such as job=~".*", selects nothing out)`},
		{"range vector", metric + "    expr: up[5m]\n",
			`budgets.yaml:6:11: budgets[0].expr: the expression is a range vector: a budget judges an instant vector or a scalar (wrap it in a function such as rate(...) or max_over_time(...))`},
		{"string", metric + "    expr: '\"hello\"'\n",
			`budgets.yaml:6:11: budgets[0].expr: the expression is a string: a budget judges an instant vector or a scalar`},
		{"200k terms", metric + "    expr: " + plus + "\n",
			`budgets.yaml:6:11: budgets[0].expr: the expression is 1000002 bytes long: the limit is 65536 (64KiB)`},
		{"500k parentheses", metric + "    expr: " + nested + "\n",
			`budgets.yaml:6:11: budgets[0].expr: the expression is 1000002 bytes long: the limit is 65536 (64KiB)`},
		{"too many operators", metric + "    expr: " + ops + "\n",
			`budgets.yaml:6:5134: budgets[0].expr: the expression has more than 1024 operators`},
		{"too deep", metric + "    expr: " + deep + "\n",
			`budgets.yaml:6:267: budgets[0].expr: the expression nests (), [] and {} more than 256 deep`},
		{"log selector too long", logs + "    selector: '{service=~\"" + strings.Repeat("a|", 40000) + "a\"}'\n",
			`budgets.yaml:6:16: budgets[0].selector: invalid LogQL stream selector: parse error at line 1, col 1: the query is 80014 bytes long: the limit is 65536 (64KiB)`},
		{"redaction regex makes the query too long", head + "  - name: r\n    type: log_redaction\n    selector: '{service=\"api\"}'\n    patterns: [{name: big, regex: '" + strings.Repeat("x", 70000) + "'}]\n",
			`budgets.yaml:4:11: budgets[0].type: the LogQL query this budget makes is invalid: parse error at line 1, col 1: the query is 70048 bytes long: the limit is 65536 (64KiB)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hostileLoad(t, tc.text, nil); got != tc.want {
				if len(got) > 400 {
					got = got[:400] + "..."
				}
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

// TestHostileRulesFileBounds: a rule expression past the PromQL bounds is
// refused before rulefmt parses it, at its line in the rules file.
func TestHostileRulesFileBounds(t *testing.T) {
	rules := "groups:\n  - name: g\n    rules:\n      - alert: Big\n        expr: " + strings.Repeat("up + ", 20000) + "up\n"
	got := hostileLoad(t, "version: 1\nbudgets:\n  - name: a\n    type: alert_rules\n    rules_files: [rules.yaml]\n", map[string]string{"rules.yaml": rules})
	want := `budgets.yaml:5:18: budgets[0].rules_files: rules.yaml:5:15: expr: the expression is 100002 bytes long: the limit is 65536 (64KiB)`
	if got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

// largestAllowed is a budgets file of n metric budgets, each with an
// expression at the parsing bounds: MaxPromQLOperators operators, nested
// MaxPromQLDepth deep.
func largestAllowed(n int) (text string, exprs []string) {
	var b strings.Builder
	b.WriteString("version: 1\nbudgets:\n")
	inner := strings.Repeat("(", MaxPromQLDepth-1) + "up" + strings.Repeat(")", MaxPromQLDepth-1)
	for i := range n {
		e := "sum(" + strings.Repeat("up + ", MaxPromQLOperators-1) + inner + ")"
		exprs = append(exprs, e)
		b.WriteString("  - name: m" + strings.Repeat("x", i%7) + "-" + string(rune('a'+i%26)) + strings.Repeat("0", i/26) + "\n")
		b.WriteString("    type: metric\n    max: 1\n    expr: " + e + "\n")
	}
	return b.String(), exprs
}

// TestHostileLargestAllowedLoads: expressions right at the bounds load,
// each budget with its own expression as its query. (How long it takes
// is BenchmarkHostileLoadLargestAllowed's business.)
func TestHostileLargestAllowedLoads(t *testing.T) {
	text, exprs := largestAllowed(50)
	dir := t.TempDir()
	path := filepath.Join(dir, "budgets.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	_, plan, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != len(exprs) {
		t.Fatalf("%d budgets planned, want %d", len(plan), len(exprs))
	}
	for i, p := range plan {
		if q := p.Check.Queries(); len(q) != 1 || q[0].Text != exprs[i] {
			t.Errorf("budget %d (%s): queries differ from its expression", i, p.Budget.Name)
		}
	}
}

// BenchmarkHostileLoadLargestAllowed times loading expressions at the
// bounds; b.N budgets, so that ns/op is the cost of one.
func BenchmarkHostileLoadLargestAllowed(b *testing.B) {
	text, _ := largestAllowed(b.N)
	path := filepath.Join(b.TempDir(), "budgets.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	if _, _, err := Load(path); err != nil {
		b.Fatal(err)
	}
}

// TestHostileLongLists: a list of 200,000 jobs is read in one pass (the
// duplicate check was quadratic: 2·10^10 comparisons), and its one
// duplicate is found.
func TestHostileLongLists(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nbudgets:\n  - name: s\n    type: scrape\n    job: [")
	for i := range 200000 {
		b.WriteString("j" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + "-" + strconv.Itoa(i) + ", ")
	}
	b.WriteString("ja-0]\n")
	got := hostileLoad(t, b.String(), nil)
	if want := `budgets.yaml:5:2488901: budgets[0].job[200000]: job "ja-0" listed twice: job[0] at 5:11 and job[200000] at 5:2488901`; got != want {
		t.Errorf("\n got: %.300s\nwant: %s", got, want)
	}
}

// TestHostileRulesFileTypes: an alerting rule whose expression is a range
// vector loads in Prometheus and fails at every evaluation: validate says
// so, at the rule's line.
func TestHostileRulesFileTypes(t *testing.T) {
	rules := "groups:\n  - name: g\n    rules:\n      - alert: Fine\n        expr: up == 0\n      - alert: Range\n        expr: up[5m]\n"
	got := hostileLoad(t, "version: 1\nbudgets:\n  - name: a\n    type: alert_rules\n    rules_files: [rules.yaml]\n", map[string]string{"rules.yaml": rules})
	want := `budgets.yaml:5:18: budgets[0].rules_files: rules.yaml:6: alert Range: the expression is a range vector: an alerting rule needs an instant vector`
	if got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

// TestHostileRulesFileText: a rules file that is not UTF-8, or not YAML,
// is refused at the line and column at fault.
func TestHostileRulesFileText(t *testing.T) {
	budgets := "version: 1\nbudgets:\n  - name: a\n    type: alert_rules\n    rules_files: [rules.yaml]\n"
	for _, tc := range []struct{ name, rules, want string }{
		{"not UTF-8", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == \xff\n",
			`budgets.yaml:5:18: budgets[0].rules_files: rules.yaml:5:21: invalid UTF-8 (byte 0xFF): YAML files are UTF-8 text`},
		{"bad indent deep in the file", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n      - alert: B\n       expr: up == 0\n",
			`budgets.yaml:5:18: budgets[0].rules_files: rules.yaml:7:8: invalid YAML: did not find expected '-' indicator`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := hostileLoad(t, budgets, map[string]string{"rules.yaml": tc.rules}); got != tc.want {
				t.Errorf("\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}
