package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cfg2Quiet fails when r's output holds any of secrets.
func cfg2Quiet(t *testing.T, r result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("the output holds %q:\nstdout: %s\nstderr: %s", s, r.stdout, r.stderr)
		}
	}
}

// TestHostileCfg2NotABudgetsFile: -c naming another file (a shadow file,
// a JSON of access keys) is one line saying so, in every command, and
// prints none of its keys.
func TestHostileCfg2NotABudgetsFile(t *testing.T) {
	for _, tc := range []struct{ name, text, secret string }{
		{"shadow", "root:$6$saltsalt$HASHSECRET0123456789:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n", "HASHSECRET"},
		{"keys.json", `{"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI/K7MDENG"}`, "AKIA"},
	} {
		for _, command := range []string{"validate", "check", "list"} {
			t.Run(tc.name+" "+command, func(t *testing.T) {
				dir := configWrite(t, map[string]string{tc.name: tc.text})
				path := filepath.Join(dir, tc.name)
				r := run(t, nil, command, "-c", path)
				expectCode(t, r, 2)
				if want := "error: " + path + ":1:1: not a budgets file: it has no version or budgets\n"; r.stderr != want {
					t.Errorf("stderr:\n got: %q\nwant: %q", r.stderr, want)
				}
				cfg2Quiet(t, r, tc.secret)
			})
		}
	}
	// In a budgets file, a key that is no near miss of a field is placed,
	// not quoted; a near miss is named.
	configRefused(t, "validate", map[string]string{"budgets.yaml": "version: 1\nAKIAIOSFODNN7EXAMPLE: x\nbudgets:\n" + configMetric},
		":2:1: an unknown field (not shown) (known: budgets, defaults, sources, version, waivers)")
	configRefused(t, "validate", map[string]string{"budgets.yaml": configHead + configMetric + "    windw: 5m\n"},
		`:7:5: budgets[0].windw: unknown field "windw" (did you mean "window"?)`)
}

// TestHostileCfg2RulesFiles: rules_files naming a file that is no rules
// file is one line, quoting nothing of it; template errors are placed
// and masked.
func TestHostileCfg2RulesFiles(t *testing.T) {
	const budget = configHead + "  - name: a\n    type: alert_rules\n    rules_files: [j.json]\n"
	const at = ":5:18: budgets[0].rules_files: "
	for _, tc := range []struct{ name, rules, want, secret string }{
		{"JSON of keys", `{"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI"}`, at + "j.json:1:1: not a rules file: want a mapping with groups", "AKIA"},
		{"YAML list", "- SECRETX1\n- SECRETX2\n", at + "j.json:1:1: not a rules file: want a mapping with groups", "SECRETX"},
		{"scalar", "SECRETX1\n", at + "j.json:1:1: not a rules file: want a mapping with groups", "SECRETX"},
		{"shadow", "root:$6$saltsalt$HASHSECRET:19000:0:99999:7:::\n", at + "j.json:1:1: not a rules file: want a mapping with groups", "HASHSECRET"},
		{"unknown key beside groups", "groups: []\nAKIAIOSFODNN7EXAMPLE: 1\n", at + "j.json:2:1: an unknown field (not shown) at the top of a rules file (known: groups)", "AKIA"},
		{"near miss in a rule", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        forr: 5m\n",
			at + `j.json:6:9: unknown field "forr" in a rule (did you mean "for"?)`, ""},
		{"template", "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          summary: \"{{ HUNTER2SECRET\"\n",
			at + `j.json:7:20: group "g", rule 1, "A": annotation "summary": template: __alert_A:1: function (not shown) not defined`, "HUNTER2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, command := range []string{"validate", "check"} {
				r := configRefused(t, command, map[string]string{"budgets.yaml": budget, "j.json": tc.rules}, tc.want)
				if tc.secret != "" {
					cfg2Quiet(t, r, tc.secret)
				}
			}
		})
	}
}

// TestHostileCfg2Credentials: a token or password file holding a control
// character or invalid UTF-8 is refused at its field by validate and by
// check alike; an unset credential variable is refused by check at its
// field (validate does not read the CI job's environment).
func TestHostileCfg2Credentials(t *testing.T) {
	files := map[string]string{"ctl.tok": "TOK\x01SECRETX\n", "bad.tok": "\n\xff\xfeSECRETX\n"}
	with := func(settings string) map[string]string {
		m := map[string]string{"budgets.yaml": configWithSource(settings)}
		for k, v := range files {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct{ name, settings, want string }{
		{"control character", "    bearer_token_file: DIR/ctl.tok\n",
			":5:24: sources.prometheus.bearer_token_file: DIR/ctl.tok:1:4: a control character: not a token file (content not shown)"},
		{"invalid UTF-8", "    bearer_token_file: DIR/bad.tok\n",
			":5:24: sources.prometheus.bearer_token_file: DIR/bad.tok:2: invalid UTF-8: not a token file (content not shown)"},
		{"password invalid UTF-8", "    basic_auth: {username: u, password_file: DIR/bad.tok}\n",
			":5:46: sources.prometheus.basic_auth.password_file: DIR/bad.tok:2: invalid UTF-8: not a password file (content not shown)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, command := range []string{"validate", "check"} {
				cfg2Quiet(t, configRefused(t, command, with(tc.settings), tc.want), "SECRETX")
			}
		})
	}
	for _, tc := range []struct{ name, settings, want string }{
		{"unset token variable", "    bearer_token_env: CFG2_UNSET_TOKEN\n",
			":5:23: sources.prometheus.bearer_token_env: environment variable CFG2_UNSET_TOKEN is not set or empty"},
		{"unset password variable", "    basic_auth: {username: u, password_env: CFG2_UNSET_PW}\n",
			":5:45: sources.prometheus.basic_auth.password_env: environment variable CFG2_UNSET_PW is not set or empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			configRefused(t, "check", with(tc.settings), tc.want)
			dir := configWrite(t, with(tc.settings))
			r := run(t, nil, "validate", "-c", filepath.Join(dir, "budgets.yaml"))
			expectCode(t, r, 0)
		})
	}
}

// cfg2Bomb is a billion laughs: x-a9 stands for 10^10 values.
var cfg2Bomb = func() string {
	var b strings.Builder
	b.WriteString("version: 1\nx-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		b.WriteString(fmt.Sprintf("x-a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", ")))
	}
	return b.String()
}()

// TestHostileCfg2Lists: a name listed twice is refused in every list,
// naming both places; a bad list says what is wrong once; headers the
// HTTP client sets itself are refused like Authorization.
func TestHostileCfg2Lists(t *testing.T) {
	present := configHead + "  - name: p\n    type: metrics_present\n"
	for _, tc := range []struct{ name, text, want string }{
		{"metrics twice", present + "    metrics: [a, b, a]\n",
			`:5:21: budgets[0].metrics[2]: metric "a" listed twice: metrics[0] at 5:15 and metrics[2] at 5:21`},
		{"jobs twice", configHead + "  - name: s\n    type: scrape\n    job: [api, api]\n",
			`:5:16: budgets[0].job[1]: job "api" listed twice: job[0] at 5:11 and job[1] at 5:16`},
		{"bad name, not also empty", present + "    metrics: ['bad name']\n",
			`:5:14: budgets[0].metrics: invalid metric name "bad name"`},
		{"alias bomb, not also empty", cfg2Bomb + "budgets:\n  - name: p\n    type: metrics_present\n    metrics: *a9\n",
			`:15:14: budgets[0].metrics[0]: want a single value, got a list (in the value of the anchor at line 10)`},
		{"Transfer-Encoding header", configWithSource("    headers: {Transfer-Encoding: chunked}\n"),
			":5:15: sources.prometheus.headers.Transfer-Encoding: header Transfer-Encoding cannot be set here: the HTTP client sets it itself"},
		{"Connection header", configWithSource("    headers: {connection: close}\n"),
			":5:15: sources.prometheus.headers.connection: header Connection cannot be set here: the HTTP client sets it itself"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, command := range []string{"validate", "check"} {
				configRefused(t, command, map[string]string{"budgets.yaml": tc.text}, tc.want)
			}
		})
	}
}

// TestHostileCfg2Regexp: a regular expression that nests too deeply is
// refused at its position, quoting at most its first 40 bytes.
func TestHostileCfg2Regexp(t *testing.T) {
	deep := strings.Repeat("(", 3000) + "a" + strings.Repeat(")", 3000)
	text := configHead + "  - name: c\n    type: cardinality\n    max: 10\n    selector: '{job=~\"" + deep + "\"}'\n"
	r := configRefused(t, "validate", map[string]string{"budgets.yaml": text},
		":6:17: budgets[0].selector: invalid selector: error parsing regexp: expression nests too deeply: `"+strings.Repeat("(", 40)+"…` (6001 bytes)")
	if len(r.stderr) > 300 {
		t.Errorf("stderr is %d bytes long", len(r.stderr))
	}
}

// TestHostileCfg2Anchors: top-level x-* keys hold anchors that budgets
// merge with <<:, as the README shows.
func TestHostileCfg2Anchors(t *testing.T) {
	text := "version: 1\nx-common: &common\n  type: metric\n  expr: up\n  max: 1\nbudgets:\n  - <<: *common\n    name: a\n  - <<: *common\n    name: b\n    expr: up{job=\"b\"}\n"
	path := configValid(t, text, "OK, 2 budgets (2 metric)")
	r := run(t, nil, "list", "-c", path)
	expectCode(t, r, 0)
	if !strings.Contains(r.stdout, "a metric, metrics\n  promql: up\n") || !strings.Contains(r.stdout, "b metric, metrics\n  promql: up{job=\"b\"}") {
		t.Errorf("list:\n%s", r.stdout)
	}
	// The README's example validates as it stands.
	readme, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, example, ok := strings.Cut(string(readme), "```yaml\nx-common: &common")
	example, _, _ = strings.Cut(example, "```")
	if !ok {
		t.Fatal("README.md has no x-common example")
	}
	configValid(t, "version: 1\nx-common: &common"+example, "OK, 1 budget (1 metric)")

	// Only at the top: in a budget, x-note is an unknown field.
	configRefused(t, "validate", map[string]string{"budgets.yaml": configHead + configMetric + "    x-note: 1\n"},
		":7:5: budgets[0]: an unknown field (not shown) (known: category, description, expr, max, min, name, on_missing, regression, runbook, severity, tags, type, unit, warn_max, warn_min, window)")
}
