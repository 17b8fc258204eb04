package config

import "testing"

func TestSourceMaxConcurrency(t *testing.T) {
	for _, tc := range []struct {
		name, setting string
		want          int
		err           string
	}{
		{"unset", "", 0, ""},
		{"one", "    max_concurrency: 1\n", 1, ""},
		{"five", "    max_concurrency: 5\n", 5, ""},
		{"zero", "    max_concurrency: 0\n", 0, "b.yaml:5:22: sources.loki.max_concurrency: max_concurrency must be at least 1, got 0"},
		{"negative", "    max_concurrency: -3\n", 0, "b.yaml:5:22: sources.loki.max_concurrency: max_concurrency must be at least 1, got -3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "version: 1\nsources:\n  loki:\n    url: http://l:3100\n" + tc.setting + "budgets:\n  - name: a\n    type: t\n"
			cfg, err := Parse("b.yaml", []byte(text), testReader)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("got error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Sources.Loki.MaxConcurrency; got != tc.want {
				t.Errorf("MaxConcurrency = %d, want %d", got, tc.want)
			}
		})
	}
}
