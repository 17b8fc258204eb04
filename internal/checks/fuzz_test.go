package checks

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
)

// FuzzLoadBudgets: any bytes given as a budgets file load, or fail with
// config errors that each name the file and a line; nothing panics, and
// a file that loads plans every budget with its queries.
func FuzzLoadBudgets(f *testing.F) {
	for _, p := range []string{"../../budgets.yaml", "../cli/testdata/no-sources.yaml"} {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"version: 1\nx: &c {type: metric, expr: up, max: 1}\nbudgets:\n  - <<: *c\n    name: a\n",
		"version: 1\nbudgets:\n  - name: a\n    type: metric\n    expr: up\n   max: 3\n",
		"version: 1\nbudgets:\n  - name: lv\n    type: log_levels\n    selector: '{service=\"api\"}'\n    max_share: {ERR: 5%, ERROR: 50%}\n",
		"version: 1\nbudgets:\n  - name: l\n    type: latency\n    histogram: h\n    percentiles: {p99: 1s, p99.0: 2s}\n    warn: {p99: 3s}\n",
		"version: 1\nsources:\n  prometheus: {url: 'http://p', headers: {Host: x}, basic_auth: {username: u}}\nbudgets: []\n",
		"version: 1\nbudgets:\n  - name: c\n    type: cardinality\n    selector: '{job=~\".*\"}'\n    max: +Inf\n",
		"version: 1\nbudgets:\n",
		"a: b\n---\nc: d\n",
		"\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, plan, err := Parse("fuzz.yaml", data)
		if err == nil {
			if len(plan) != len(cfg.Budgets) || len(plan) == 0 {
				t.Fatalf("loaded with %d budgets but %d planned", len(cfg.Budgets), len(plan))
			}
			for _, p := range plan {
				if len(p.Check.Queries()) == 0 {
					t.Errorf("budget %s plans no query", p.Budget.Name)
				}
			}
			return
		}
		var es config.Errors
		if !errors.As(err, &es) || len(es) == 0 {
			t.Fatalf("error is not config.Errors: %T %v", err, err)
		}
		for _, e := range es {
			if e.File != "fuzz.yaml" {
				t.Errorf("error names file %q: %v", e.File, e)
			}
			if e.Line <= 0 && !strings.HasPrefix(e.Msg, "file is empty") {
				t.Errorf("error without a line: %v", e)
			}
		}
	})
}
