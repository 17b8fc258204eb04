package config

import (
	"strings"
	"testing"
)

// TestHostileNotABudgetsFile: -c naming some other file (a shadow file,
// a JSON of access keys) is one line saying so, and none of its keys.
func TestHostileNotABudgetsFile(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
		hidden     string
	}{
		{"shadow", "root:$6$saltsalt$HASHSECRET:19000:0:99999:7:::\nbin:*:19000:0:99999:7:::\n",
			[]string{"b.yaml:1:1: not a budgets file: it has no version or budgets"}, "HASHSECRET"},
		{"json of keys", `{"AKIAIOSFODNN7EXAMPLE": "wJalrXUtnFEMI"}`,
			[]string{"b.yaml:1:1: not a budgets file: it has no version or budgets"}, "AKIA"},
		{"only x- keys", "x-common: &c {type: t}\n",
			[]string{"b.yaml:1:1: not a budgets file: it has no version or budgets"}, ""},
		// Both keys misspelt: still a budgets file, its near misses named.
		{"versoin and budget", "versoin: 1\nbudget: []\n",
			[]string{
				`b.yaml:1:1: version: required field is missing`,
				`b.yaml:1:1: budgets: required field is missing`,
				`b.yaml:1:1: versoin: unknown field "versoin" (did you mean "version"?)`,
				`b.yaml:2:1: budget: unknown field "budget" (did you mean "budgets"?)`,
			}, ""},
		// A budgets file with a key that is no near miss of a field:
		// where it is, not what it is.
		{"credential as a top-level key", "version: 1\nAKIAIOSFODNN7EXAMPLE: x\nbudgets: [{name: a, type: t}]\n",
			[]string{"b.yaml:2:1: an unknown field (not shown) (known: budgets, defaults, sources, version, waivers)"}, "AKIA"},
		{"shell line as a budget key", "version: 1\nbudgets:\n  - name: a\n    type: t\n    'export TOKEN=abc123': 1\n",
			[]string{"b.yaml:5:5: budgets[0]: an unknown field (not shown) (known: category, description, limit, list, max, name, on_missing, regression, runbook, severity, share, tags, type, window)"}, "abc123"},
		// A near miss is named, with the field it probably means.
		{"typo", "version: 1\nbudgets:\n  - name: a\n    type: t\n    windw: 5m\n",
			[]string{`b.yaml:5:5: budgets[0].windw: unknown field "windw" (did you mean "window"?)`}, ""},
		{"near miss that is no field name", "version: 1\nbudgets:\n  - name: a\n    type: t\n    'win dow': 5m\n",
			[]string{"b.yaml:5:5: budgets[0]: an unknown field (not shown) (known: category, description, limit, list, max, name, on_missing, regression, runbook, severity, share, tags, type, window)"}, "win dow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := parseErrs(t, tc.text)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("errors:\n got: %q\nwant: %q", got, tc.want)
			}
			if tc.hidden != "" && strings.Contains(strings.Join(got, "\n"), tc.hidden) {
				t.Errorf("errors quote the file: %q", got)
			}
		})
	}
}

// TestHostileExtensionAnchors: top-level x-* keys hold anchors for merge
// keys, as docker-compose's extension fields do, and are otherwise ignored.
func TestHostileExtensionAnchors(t *testing.T) {
	text := `version: 1
x-common: &common
  type: t
  max: 3
x-unused: {anything: [1, 2]}
budgets:
  - <<: *common
    name: a
  - <<: *common
    name: b
    max: 7
`
	var maxes []float64
	var types []string
	cfg, err := Parse("b.yaml", []byte(text), func(b *Budget) []string {
		if v, ok := b.Fields.Float("max"); ok {
			maxes = append(maxes, v)
		}
		types = append(types, b.Type)
		return []string{"max"}
	})
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(cfg.Budgets) != 2 || cfg.Budgets[0].Name != "a" || cfg.Budgets[1].Name != "b" {
		t.Fatalf("budgets = %v", cfg.Budgets)
	}
	if strings.Join(types, ",") != "t,t" || len(maxes) != 2 || maxes[0] != 3 || maxes[1] != 7 {
		t.Errorf("types %v, maxes %v: want t,t and [3 7]", types, maxes)
	}
	// x- only at the top: inside a budget it is an unknown key.
	got := parseErrs(t, "version: 1\nbudgets:\n  - name: a\n    type: t\n    x-note: 1\n")
	want := "b.yaml:5:5: budgets[0]: an unknown field (not shown) (known: category, description, limit, list, max, name, on_missing, regression, runbook, severity, share, tags, type, window)"
	if strings.Join(got, "\n") != want {
		t.Errorf("x- in a budget:\n got: %q\nwant: %q", got, want)
	}
}

// TestHostileCredentialFileContent: a token or password file holding a
// control character or invalid UTF-8 is refused at its field, by
// validate as by check, naming the file and line but not the content;
// an unset environment variable is refused at its field by live runs.
func TestHostileCredentialFileContent(t *testing.T) {
	dir := t.TempDir()
	ctl := credentialFile(t, dir, "ctl.txt", "TOK\x01SECRETX\n")
	bad := credentialFile(t, dir, "bad.txt", "\n\xff\xfeSECRETX\n")
	ok := credentialFile(t, dir, "ok.txt", "  TOKEN\n")
	for _, tc := range []struct {
		name, settings, want string
	}{
		{"control character", "    bearer_token_file: " + ctl + "\n",
			"b.yaml:5:24: sources.prometheus.bearer_token_file: " + ctl + ":1:4: a control character: not a token file (content not shown)"},
		{"invalid UTF-8", "    basic_auth: {username: u, password_file: " + bad + "}\n",
			"b.yaml:5:46: sources.prometheus.basic_auth.password_file: " + bad + ":2: invalid UTF-8: not a password file (content not shown)"},
		{"good token", "    bearer_token_file: " + ok + "\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "version: 1\nsources:\n  prometheus:\n    url: http://127.0.0.1:1\n" + tc.settings + "budgets: [{name: a, type: t}]\n"
			cfg, err := Parse("b.yaml", []byte(text), nil)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := cfg.SourceFileErrors().Error()
			if tc.want == "" {
				if errs := cfg.SourceFileErrors(); len(errs) > 0 {
					t.Errorf("unexpected errors: %v", errs)
				}
				return
			}
			if got != tc.want {
				t.Errorf("SourceFileErrors:\n got: %q\nwant: %q", got, tc.want)
			}
			if live := cfg.Sources.Prometheus.CheckFiles().Error(); live != tc.want {
				t.Errorf("CheckFiles:\n got: %q\nwant: %q", live, tc.want)
			}
			if strings.Contains(got, "SECRETX") {
				t.Errorf("content printed: %q", got)
			}
		})
	}

	t.Run("unset environment variables", func(t *testing.T) {
		t.Setenv("CFG2_TOKEN", "")
		t.Setenv("CFG2_PW", " ")
		text := "version: 1\nsources:\n  prometheus:\n    url: http://127.0.0.1:1\n    bearer_token_env: CFG2_TOKEN\n  loki:\n    url: http://127.0.0.1:2\n    basic_auth: {username: u, password_env: CFG2_PW}\nbudgets: [{name: a, type: t}]\n"
		cfg, err := Parse("b.yaml", []byte(text), nil)
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		if errs := cfg.SourceFileErrors(); len(errs) > 0 {
			t.Errorf("validate checks the environment: %v", errs)
		}
		if got, want := cfg.Sources.Prometheus.CheckFiles().Error(), "b.yaml:5:23: sources.prometheus.bearer_token_env: environment variable CFG2_TOKEN is not set or empty"; got != want {
			t.Errorf("prometheus:\n got: %q\nwant: %q", got, want)
		}
		if got, want := cfg.Sources.Loki.CheckFiles().Error(), "b.yaml:8:45: sources.loki.basic_auth.password_env: environment variable CFG2_PW is not set or empty"; got != want {
			t.Errorf("loki:\n got: %q\nwant: %q", got, want)
		}
		t.Setenv("CFG2_TOKEN", "tok")
		if errs := cfg.Sources.Prometheus.CheckFiles(); len(errs) > 0 {
			t.Errorf("set variable refused: %v", errs)
		}
	})
}

// TestHostileHopByHopHeaders: headers the HTTP client sets or drops
// itself are refused, not silently not sent.
func TestHostileHopByHopHeaders(t *testing.T) {
	for _, h := range []string{"Transfer-Encoding", "te", "Trailer", "Upgrade", "Proxy-Connection", "Connection", "Keep-Alive", "Accept-Encoding"} {
		text := "version: 1\nsources:\n  prometheus:\n    url: http://127.0.0.1:1\n    headers: {" + h + ": chunked}\nbudgets: [{name: a, type: t}]\n"
		got := parseErrs(t, text)
		want := "b.yaml:5:15: sources.prometheus.headers." + h + ": header " + canonical(h) + " cannot be set here: the HTTP client sets it itself"
		if strings.Join(got, "\n") != want {
			t.Errorf("%s:\n got: %q\nwant: %q", h, got, want)
		}
	}
}

func canonical(h string) string {
	if h == "te" {
		return "Te"
	}
	return h
}
