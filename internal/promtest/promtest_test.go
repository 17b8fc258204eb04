package promtest_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/promtest"
)

// The committed healthy snapshot; promtest does not import the generator so
// that the generator's own tests can use promtest.
const (
	healthyOM   = "../../testdata/snapshots/healthy/metrics.om"
	evaluatedAt = "2026-11-26T12:00:07Z"
)

// coreMetricsPresent counts the distinct core metrics, folding a histogram's
// _bucket/_count/_sum series into one name.
const coreMetricsPresent = `count(count by (name) (label_replace(
  {__name__=~"secflow_(requests_total|request_duration_seconds_(bucket|count|sum)|task_duration_seconds_(bucket|count|sum)|` +
	`scan_duration_seconds_(bucket|count|sum)|findings_total|gc_runs_total|gc_reclaimed_bytes_total|sandbox_failures_total|queue_depth)"},
  "name", "$1", "__name__", "(.+?)(_bucket|_count|_sum)?")))`

func TestStartHealthySnapshot(t *testing.T) {
	at, _ := time.Parse(time.RFC3339, evaluatedAt)
	began := time.Now()
	srv := promtest.Start(t, healthyOM)
	t.Logf("backfill + start + ready: %s (%s)", time.Since(began).Round(time.Millisecond), srv.URL)

	if got := srv.QueryValue(t, coreMetricsPresent, at); got != 9 {
		t.Errorf("core metrics present at %s = %g, want 9", evaluatedAt, got)
	}
	// Before the fixture's first sample nothing is there: the data is where
	// the fixture put it, not shifted by a unit mistake.
	if got := srv.Query(t, `count({__name__=~"secflow_.*"})`, at.Add(-3*time.Hour)); len(got) != 0 {
		t.Errorf("series three hours before evaluated_at: %v, want none", got)
	}
	if got := srv.QueryValue(t, `scalar(vector(1))`, at); got != 1 {
		t.Errorf("scalar query = %g, want 1", got)
	}
}

func TestStartWithRules(t *testing.T) {
	rules := filepath.Join(t.TempDir(), "rules.yml")
	err := os.WriteFile(rules, []byte(`groups:
  - name: promtest
    rules:
      - alert: AlwaysFiring
        expr: vector(1)
        labels: {severity: info}
`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	srv := promtest.StartWith(t, []promtest.Option{promtest.WithRulesFiles(rules)})

	// Rules evaluate every second (WithRulesFiles' default): poll, bounded.
	deadline := time.Now().Add(15 * time.Second)
	for {
		state, health := alertState(t, srv.URL, "AlwaysFiring")
		if state == "firing" && health == "ok" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("AlwaysFiring: state %q health %q after 15s\n%s", state, health, srv.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func alertState(t *testing.T, base, alert string) (state, health string) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name   string `json:"name"`
					State  string `json:"state"`
					Health string `json:"health"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, g := range body.Data.Groups {
		for _, r := range g.Rules {
			if r.Name == alert {
				return r.State, r.Health
			}
		}
	}
	return "", ""
}
