package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// configWrite writes files (budgets.yaml and what it names) into a fresh
// directory and returns the directory; "DIR" in any file's text becomes
// the directory's path.
func configWrite(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(text, "DIR", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// configHead starts a budgets file; configMetric is a budget that passes
// validation, for cases about sources.
const (
	configHead   = "version: 1\nbudgets:\n"
	configMetric = "  - name: m\n    type: metric\n    expr: up\n    max: 1\n"
)

// configRefused runs command (validate or check) on the budgets.yaml of
// files and expects exit 2 and the one line "error: PATH"+want on stderr,
// PATH being the file's and "DIR" in want its directory's path.
func configRefused(t *testing.T, command string, files map[string]string, want string) result {
	t.Helper()
	dir := configWrite(t, files)
	path := filepath.Join(dir, "budgets.yaml")
	r := run(t, nil, command, "-c", path)
	expectCode(t, r, 2)
	if want := "error: " + path + strings.ReplaceAll(want, "DIR", dir) + "\n"; r.stderr != want {
		t.Errorf("stderr:\n got: %q\nwant: %q", r.stderr, want)
	}
	return r
}

// configValid writes text as budgets.yaml, expects validate to accept it
// (exit 0 and the one line "PATH: "+want on stdout) and returns PATH.
func configValid(t *testing.T, text, want string) string {
	t.Helper()
	path := filepath.Join(configWrite(t, map[string]string{"budgets.yaml": text}), "budgets.yaml")
	r := run(t, nil, "validate", "-c", path)
	expectCode(t, r, 0)
	if want := path + ": " + want + "\n"; r.stdout != want {
		t.Errorf("validate stdout:\n got: %q\nwant: %q", r.stdout, want)
	}
	return path
}

func configWithSource(settings string) string {
	return "version: 1\nsources:\n  prometheus:\n    url: http://127.0.0.1:1\n" + settings + "budgets:\n" + configMetric
}

// TestHostileConfigValidate: every configuration problem check would
// refuse, validate refuses too: exit 2 and one line per problem,
// FILE:LINE:COL: field: message, quoting no secret and no file content.
func TestHostileConfigValidate(t *testing.T) {
	lat := configHead + "  - name: lat\n    type: latency\n    histogram: h_seconds\n"
	levels := configHead + "  - name: lv\n    type: log_levels\n    selector: '{service=\"api\"}'\n"
	card := configHead + "  - name: c\n    type: cardinality\n    max: 10\n"
	metric := configHead + "  - name: m\n    type: metric\n    max: 1\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // after "error: DIR/budgets.yaml"
	}{
		{"bad indent at its own line", map[string]string{"budgets.yaml": configHead + "  - name: a\n    type: metric\n    expr: up\n   max: 3\n"},
			`:6:4: invalid YAML: did not find expected '-' indicator`},
		{"not UTF-8", map[string]string{"budgets.yaml": configHead + "  - name: a\n    description: caf\xe9\n"},
			`:4:21: invalid UTF-8 (byte 0xE9): YAML files are UTF-8 text`},
		{"budgets empty", map[string]string{"budgets.yaml": "version: 1\nbudgets:\n"},
			`:2:9: budgets: no budgets: add at least one`},
		{"merged value reported at its use", map[string]string{"budgets.yaml": "version: 1\nbudgets:\n  - &m\n    name: a\n    type: metric\n    expr: up\n    max: 1\n  - <<: *m\n    name: b\n    window: 5x\n"},
			`:10:13: budgets[1].window: invalid duration "5x": use a number and a unit: ms, s, m, h, d, w, y (e.g. 300s, 5m, 1h)`},
		{"one level named twice", map[string]string{"budgets.yaml": levels + "    max_share: {ERR: 5%, ERROR: 50%}\n"},
			`:6:26: budgets[0].max_share.ERROR: "ERR" and "ERROR" both name the level ERROR: set its limit once`},
		{"level share NaN", map[string]string{"budgets.yaml": levels + "    max_share: {ERROR: NaN%}\n"},
			`:6:24: budgets[0].max_share.ERROR: invalid share "NaN%": want a percentage between 0% and 100%`},
		{"min_share above max_share", map[string]string{"budgets.yaml": levels + "    max_share: {ERROR: 10%}\n    min_share: {ERROR: 20%}\n"},
			`:7:16: budgets[0].min_share: min_share.ERROR is greater than max_share.ERROR: nothing could pass`},
		{"max +Inf", map[string]string{"budgets.yaml": configHead + "  - name: m\n    type: metric\n    expr: up\n    max: +Inf\n"},
			`:6:10: budgets[0].max: invalid number "+Inf": want a finite number such as 10000 or 0.5`},
		{"warn looser than max", map[string]string{"budgets.yaml": configHead + "  - name: m\n    type: metric\n    expr: up\n    max: 1\n    warn_max: 2\n"},
			`:7:15: budgets[0].warn_max: warn_max is greater than max: it would never warn`},
		{"size 1e300TB", map[string]string{"budgets.yaml": configHead + "  - name: v\n    type: log_volume\n    selector: '{service=\"api\"}'\n    max: 1e300TB\n"},
			`:6:10: budgets[0].max: invalid size "1e300TB": too large (at most 8EiB)`},
		{"p99 and p99.0", map[string]string{"budgets.yaml": lat + "    percentiles: {p99: 600s, p99.0: 500s}\n"},
			`:6:30: budgets[0].percentiles.p99.0: p99 and p99.0 are the same percentile: set its limit once`},
		{"empty job list", map[string]string{"budgets.yaml": configHead + "  - name: s\n    type: scrape\n    job: []\n"},
			`:5:10: budgets[0].job: no job: name the scrape job (or a list of jobs)`},
		{"selector {}", map[string]string{"budgets.yaml": card + "    selector: '{}'\n"},
			`:6:15: budgets[0].selector: the selector matches every series: name at least one label with a value it must have, e.g. {job="api"} or {__name__=~"secflow_.*"} (a matcher that matches the empty string, such as job=~".*", selects nothing out)`},
		{"selector job=~.*", map[string]string{"budgets.yaml": card + "    selector: '{job=~\".*\"}'\n"},
			`:6:15: budgets[0].selector: the selector matches every series: name at least one label with a value it must have, e.g. {job="api"} or {__name__=~"secflow_.*"} (a matcher that matches the empty string, such as job=~".*", selects nothing out)`},
		{"range vector expr", map[string]string{"budgets.yaml": metric + "    expr: up[5m]\n"},
			`:6:11: budgets[0].expr: the expression is a range vector: a budget judges an instant vector or a scalar (wrap it in a function such as rate(...) or max_over_time(...))`},
		{"string expr", map[string]string{"budgets.yaml": metric + "    expr: '\"up\"'\n"},
			`:6:11: budgets[0].expr: the expression is a string: a budget judges an instant vector or a scalar`},
		{"200k-term expression", map[string]string{"budgets.yaml": metric + "    expr: " + strings.Repeat("up + ", 200000) + "up\n"},
			`:6:11: budgets[0].expr: the expression is 1000002 bytes long: the limit is 65536 (64KiB)`},
		{"500k nested parentheses", map[string]string{"budgets.yaml": metric + "    expr: " + strings.Repeat("(", 500000) + "up" + strings.Repeat(")", 500000) + "\n"},
			`:6:11: budgets[0].expr: the expression is 1000002 bytes long: the limit is 65536 (64KiB)`},
		{"Authorization header", map[string]string{"budgets.yaml": configWithSource("    headers: {Authorization: Bearer hunter2}\n")},
			`:5:15: sources.prometheus.headers.Authorization: header Authorization cannot be set here: use bearer_token_file, bearer_token_env or basic_auth`},
		{"Host header", map[string]string{"budgets.yaml": configWithSource("    headers: {Host: evil.example}\n")},
			`:5:15: sources.prometheus.headers.Host: header Host cannot be set here: the HTTP client sets it itself`},
		{"Content-Length header", map[string]string{"budgets.yaml": configWithSource("    headers: {Content-Length: '0'}\n")},
			`:5:15: sources.prometheus.headers.Content-Length: header Content-Length cannot be set here: the HTTP client sets it itself`},
		{"header name not a token", map[string]string{"budgets.yaml": configWithSource("    headers: {'X-Org ID': a}\n")},
			`:5:15: sources.prometheus.headers.X-Org ID: invalid header name "X-Org ID": a name is letters, digits and !#$%&'*+-.^_` + "`" + `|~ only`},
		{"header value with CR LF", map[string]string{"budgets.yaml": configWithSource("    headers: {X-Token: \"hunter2\\r\\nX-Evil: 1\"}\n")},
			`:5:24: sources.prometheus.headers.X-Token: the value of header X-Token holds a line break (not shown)`},
		{"basic_auth with both passwords", map[string]string{"budgets.yaml": configWithSource("    basic_auth: {username: u, password_file: /pw, password_env: PW}\n")},
			`:5:65: sources.prometheus.basic_auth.password_env: set only one of password_file and password_env`},
		{"basic_auth with no password", map[string]string{"budgets.yaml": configWithSource("    basic_auth: {username: u}\n")},
			`:5:17: sources.prometheus.basic_auth.password_file: basic_auth needs a password: set password_file or password_env`},
		{"token file of two lines", map[string]string{"budgets.yaml": configWithSource("    bearer_token_file: DIR/token\n"), "token": "hunter2\nhunter3\n"},
			`:5:24: sources.prometheus.bearer_token_file: DIR/token:2: a second line: a token file holds the token alone, on one line (content not shown)`},
		{"token file missing", map[string]string{"budgets.yaml": configWithSource("    bearer_token_file: DIR/nope\n")},
			`:5:24: sources.prometheus.bearer_token_file: DIR/nope: no such file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := configRefused(t, "validate", tc.files, tc.want)
			if r.stdout != "" {
				t.Errorf("stdout: %q", r.stdout)
			}
			if strings.Contains(r.stderr, "hunter") {
				t.Errorf("a secret is printed: %q", r.stderr)
			}
		})
	}
}

// TestHostileConfigMergeKeysValidate: anchors, aliases and merge keys
// are followed; the merged budgets are what validate counts and list
// shows.
func TestHostileConfigMergeKeysValidate(t *testing.T) {
	text := `version: 1
budgets:
  - &base
    name: up-a
    type: metric
    expr: up{job="a"}
    max: 1
    tags: &tags [metrics, core]
  - <<: *base
    name: up-b
    expr: up{job="b"}
    tags: *tags
`
	path := configValid(t, text, "OK, 2 budgets (2 metric)")
	r := run(t, nil, "list", "-c", path)
	expectCode(t, r, 0)
	for _, want := range []string{"up-a", "up-b", `up{job="a"}`, `up{job="b"}`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestHostileConfigCheckCredentialFiles: check refuses a missing or
// malformed credential file as a config error (exit 2) at the field's
// position, before any request.
func TestHostileConfigCheckCredentialFiles(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"missing token file", map[string]string{"budgets.yaml": configWithSource("    bearer_token_file: DIR/nope\n")},
			`:5:24: sources.prometheus.bearer_token_file: DIR/nope: no such file`},
		{"missing password file", map[string]string{"budgets.yaml": configWithSource("    basic_auth:\n      username: u\n      password_file: DIR/nope\n")},
			`:7:22: sources.prometheus.basic_auth.password_file: DIR/nope: no such file`},
		{"token file of two lines", map[string]string{"budgets.yaml": configWithSource("    bearer_token_file: DIR/token\n"), "token": "hunter2\nhunter3\n"},
			`:5:24: sources.prometheus.bearer_token_file: DIR/token:2: a second line: a token file holds the token alone, on one line (content not shown)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := configRefused(t, "check", tc.files, tc.want)
			if strings.Contains(r.stderr+r.stdout, "hunter") {
				t.Errorf("a secret is printed")
			}
		})
	}
}
