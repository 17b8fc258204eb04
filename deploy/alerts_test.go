// Package deploy holds what SecFlow deploys next to secflow-budget:
// alerts.yaml, the budget alert rules, and their promtool unit tests. This
// test runs promtool on them, so `go test ./...` covers the rules too.
package deploy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/promtest"
)

const (
	rulesFile = "alerts.yaml"
	testsFile = "alerts_test.yaml"
)

// wantAlerts are SecFlow's budget alerts, in file order.
var wantAlerts = []string{
	"SecflowTaskDurationP95High",
	"SecflowTaskDurationP99High",
	"SecflowLogVolumeHigh",
	"SecflowErrorShareHigh",
	"SecflowSandboxFailuresHigh",
	"SecflowCardinalityHigh",
}

func promtool(t *testing.T, dir string, args ...string) string {
	t.Helper()
	bin := promtest.Promtool(t) // fails when promtool is missing (skips under -short)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

func TestPromtoolCheckRules(t *testing.T) {
	out := promtool(t, ".", "check", "rules", rulesFile)
	if want := fmt.Sprintf("SUCCESS: %d rules found", len(wantAlerts)); !strings.Contains(out, want) {
		t.Errorf("promtool check rules said:\n%s\nwant %q", out, want)
	}
}

func TestPromtoolTestRules(t *testing.T) {
	out := promtool(t, ".", "test", "rules", testsFile)
	if !strings.Contains(out, "SUCCESS") {
		t.Errorf("promtool test rules said:\n%s", out)
	}
}

// TestCardinalityAlertInPrometheus is the firing side of
// SecflowCardinalityHigh. It needs more than 10,000 series, and promtool's
// unit test engine refuses any query that loads more than 10,000 samples
// ("query processing would load too many samples"), so the alert cannot
// cross its threshold under `promtool test rules`; a real Prometheus (whose
// limit is 50 million) can. Rules evaluate at wall-clock time, so the
// series are backfilled with recent samples, and the test waits for the
// alert to go pending: firing takes its `for` of 15 minutes, which is
// Prometheus' own business.
func TestCardinalityAlertInPrometheus(t *testing.T) {
	now := time.Now().Unix()
	var b strings.Builder
	b.WriteString("# TYPE secflow_requests counter\n")
	for i := range 10001 {
		for _, ago := range []int64{90, 30} {
			fmt.Fprintf(&b, "secflow_requests_total{path=\"/p/%d\"} 1 %d\n", i, now-ago)
		}
	}
	// Series of other metrics do not count.
	b.WriteString("# TYPE go_goroutines gauge\n")
	fmt.Fprintf(&b, "go_goroutines{job=\"api\"} 12 %d\n", now-30)
	b.WriteString("# EOF\n")
	om := filepath.Join(t.TempDir(), "cardinality.om")
	if err := os.WriteFile(om, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := promtest.StartWith(t, []promtest.Option{promtest.WithRulesFiles(rulesFile)}, om)

	deadline := time.Now().Add(30 * time.Second)
	for {
		var body struct {
			Data struct {
				Alerts []struct {
					Labels map[string]string `json:"labels"`
					State  string            `json:"state"`
					Value  string            `json:"value"`
				} `json:"alerts"`
			} `json:"data"`
		}
		getJSON(t, srv.URL+"/api/v1/alerts", &body)
		var states []string
		for _, a := range body.Data.Alerts {
			states = append(states, a.Labels["alertname"]+" "+a.State)
			if a.Labels["alertname"] != "SecflowCardinalityHigh" {
				t.Errorf("unexpected alert %v", a.Labels)
				continue
			}
			if a.State != "pending" || a.Value != "1.0001e+04" {
				t.Fatalf("SecflowCardinalityHigh: state %s value %s, want pending 1.0001e+04", a.State, a.Value)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("SecflowCardinalityHigh did not go pending; alerts: %v\n%s", states, srv.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// TestAlertsFollowTheConventions holds every alert to what the budget-alerts
// budget requires (a severity label, summary and runbook_url annotations)
// without needing promtool.
func TestAlertsFollowTheConventions(t *testing.T) {
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, parser.NewParser(parser.Options{}), slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("parsing %s: %v", rulesFile, errs)
	}
	if len(groups.Groups) != 1 || groups.Groups[0].Name != "secflow-budgets" {
		t.Fatalf("want one group secflow-budgets, got %+v", groups.Groups)
	}
	var names []string
	for _, r := range groups.Groups[0].Rules {
		if r.Alert == "" {
			t.Errorf("recording rule %s: this file holds alerts only", r.Record)
			continue
		}
		names = append(names, r.Alert)
		if s := r.Labels["severity"]; s != "warning" && s != "critical" {
			t.Errorf("%s: severity %q, want warning or critical", r.Alert, s)
		}
		if r.Labels["budget"] == "" {
			t.Errorf("%s: no budget label", r.Alert)
		}
		for _, a := range []string{"summary", "description", "runbook_url"} {
			if r.Annotations[a] == "" {
				t.Errorf("%s: no %s annotation", r.Alert, a)
			}
		}
		if !strings.HasPrefix(r.Annotations["runbook_url"], "https://runbooks.secflow.dev/budgets/"+r.Labels["budget"]) {
			t.Errorf("%s: runbook_url %q does not point at the budget's runbook", r.Alert, r.Annotations["runbook_url"])
		}
	}
	if !slices.Equal(names, wantAlerts) {
		t.Errorf("alerts = %v, want %v", names, wantAlerts)
	}
}

// TestEveryAlertIsTestedBothWays reads alerts_test.yaml: each alert must be
// expected to fire in some test and to stay quiet in another.
// SecflowCardinalityHigh fires in TestCardinalityAlertInPrometheus.
func TestEveryAlertIsTestedBothWays(t *testing.T) {
	data, err := os.ReadFile(testsFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `yaml:"alertname"`
				ExpAlerts []any  `yaml:"exp_alerts"`
			} `yaml:"alert_rule_test"`
		} `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	fires, quiet := map[string]bool{"SecflowCardinalityHigh": true}, map[string]bool{}
	for _, tc := range file.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				fires[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	for _, a := range wantAlerts {
		if !fires[a] {
			t.Errorf("%s: no test where it fires", a)
		}
		if !quiet[a] {
			t.Errorf("%s: no test where it stays quiet", a)
		}
	}
}
