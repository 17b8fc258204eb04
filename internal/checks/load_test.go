package checks

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLoadErrors pins the one-line error of each kind of broken budgets
// file: file, line, column, field path and what is wrong.
func TestLoadErrors(t *testing.T) {
	const head = "version: 1\nbudgets:\n"
	const lat = "  - name: lat\n    type: latency\n    histogram: h_seconds\n"
	tests := []struct {
		name, text, want string
	}{
		{
			name: "bad duration",
			text: head + lat + "    percentiles: {p95: 30O s}\n",
			want: `budgets.yaml:6:24: budgets[0].percentiles.p95: invalid duration "30O s": use a number and a unit: ms, s, m, h, d, w, y (e.g. 300s, 5m, 1h)`,
		},
		{
			name: "duration without unit",
			text: head + lat + "    percentiles:\n      p95: 300\n",
			want: `budgets.yaml:7:12: budgets[0].percentiles.p95: invalid duration "300": missing unit (e.g. 300s)`,
		},
		{
			name: "unknown key with suggestion",
			text: head + lat + "    percentiles: {p95: 300s}\n    windw: 1h\n",
			want: `budgets.yaml:7:5: budgets[0].windw: unknown field "windw" (did you mean "window"?)`,
		},
		{
			name: "duplicate names",
			text: head + lat + "    percentiles: {p95: 300s}\n" + lat + "    percentiles: {p99: 1s}\n",
			want: `budgets.yaml:7:11: budgets[1].name: duplicate budget name "lat" (first used by budgets[0] at line 3)`,
		},
		{
			name: "bad size unit",
			text: head + "  - name: m\n    type: metric\n    expr: up\n    max: 10\n    window: 1 hour\n",
			want: `budgets.yaml:7:13: budgets[0].window: invalid duration "1 hour": use a number and a unit: ms, s, m, h, d, w, y (e.g. 300s, 5m, 1h)`,
		},
		{
			name: "unparsable PromQL points at the column",
			text: head + "  - name: m\n    type: metric\n    expr: sum(rate(x[5m])\n    max: 1\n",
			want: `budgets.yaml:5:26: budgets[0].expr: invalid PromQL: unclosed left parenthesis`,
		},
		{
			name: "bad percentile name",
			text: head + lat + "    percentiles: {q95: 300s}\n",
			want: `budgets.yaml:6:19: budgets[0].percentiles.q95: invalid percentile "q95": want p followed by a number below 100, e.g. p95 or p99.9`,
		},
		{
			name: "unknown type",
			text: head + "  - name: m\n    type: latncy\n",
			want: `budgets.yaml:4:11: budgets[0].type: unknown budget type "latncy" (known: alert_rules, cardinality, endpoint, latency, log_levels, log_redaction, log_volume, metric, metrics_present, retention, scrape)`,
		},
		{
			name: "bad name",
			text: head + "  - name: Task Duration\n    type: metric\n    expr: up\n    max: 1\n",
			want: `budgets.yaml:3:11: budgets[0].name: invalid name "Task Duration": use lower-case letters, digits, '.', '_' and '-', starting with a letter or digit`,
		},
		{
			name: "bad on_missing",
			text: head + "  - name: m\n    type: metric\n    expr: up\n    max: 1\n    on_missing: ignore\n",
			want: `budgets.yaml:7:17: budgets[0].on_missing: invalid on_missing "ignore": want fail, warn, pass or skip`,
		},
		{
			name: "secret in yaml",
			text: "version: 1\nsources:\n  prometheus:\n    url: http://p:9090\n    bearer_token: abc\nbudgets:\n  - name: m\n    type: metric\n    expr: up\n    max: 1\n",
			want: `budgets.yaml:5:19: sources.prometheus.bearer_token: secrets are not read from budgets.yaml: use bearer_token_file or bearer_token_env`,
		},
		{
			name: "invalid YAML",
			text: "version: 1\nbudgets:\n  - name: m\n   type: metric\n",
			want: `budgets.yaml:4:4: invalid YAML: did not find expected '-' indicator`, // the line at fault, not the start of budgets
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "budgets.yaml")
			if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			_, _, err := Load("budgets.yaml")
			if err == nil {
				t.Fatalf("no error for:\n%s", tt.text)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got: %s\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestLoadRepoBudgets(t *testing.T) {
	cfg, plan, err := Load("../../budgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != len(cfg.Budgets) || len(plan) < 7 {
		t.Fatalf("got %d planned of %d budgets", len(plan), len(cfg.Budgets))
	}
}
