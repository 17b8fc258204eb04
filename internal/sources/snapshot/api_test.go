package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/secflow/secflow-budget/internal/sources"
)

const (
	testRules = `{"status":"success","data":{"groups":[{"name":"secflow-budgets","file":"/etc/prometheus/alerts.yaml","rules":[
  {"state":"firing","name":"SecflowSandboxFailuresHigh","query":"x > 0.02","duration":0,"keepFiringFor":0,"labels":{"severity":"critical"},"annotations":{"summary":"s"},
   "alerts":[{"labels":{"alertname":"SecflowSandboxFailuresHigh"},"annotations":{},"state":"firing","activeAt":"2026-11-26T11:30:07Z","value":"5e-02"}],
   "health":"ok","evaluationTime":0.0004,"lastEvaluation":"2026-11-26T12:00:05Z","type":"alerting"},
  {"name":"job:up:sum","query":"sum by (job) (up)","health":"ok","evaluationTime":0.0001,"lastEvaluation":"2026-11-26T12:00:05Z","type":"recording"}],
  "interval":15,"limit":0,"evaluationTime":0.001,"lastEvaluation":"2026-11-26T12:00:05Z"}]}}`
	testAlerts  = `{"status":"success","data":{"alerts":[{"labels":{"alertname":"SecflowSandboxFailuresHigh"},"annotations":{},"state":"firing","activeAt":"2026-11-26T11:30:07Z","value":"5e-02"}]}}`
	testTargets = `{"status":"success","data":{"activeTargets":[{"labels":{"job":"api"},"scrapePool":"api","scrapeUrl":"http://api:8080/metrics","health":"up","lastScrape":"2026-11-26T12:00:00Z"}],"droppedTargets":[]}}`
	testRuntime = `{
  "prometheus": {"startTime": "2026-11-20T08:00:00Z", "CWD": "/prometheus", "reloadConfigSuccess": true,
                 "lastConfigTime": "2026-11-20T08:00:00Z", "storageRetention": "15d", "hostname": "prom-0"},
  "loki": {"retention_period": "168h"}
}
`
)

// stateDir writes a snapshot directory with a manifest and the given files.
func stateDir(t *testing.T, files map[string]string) *Snapshot {
	t.Helper()
	dir := t.TempDir()
	if err := WriteManifest(dir, Manifest{EvaluatedAt: time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStateAnswersFromFiles(t *testing.T) {
	s := stateDir(t, map[string]string{
		RulesFile: testRules, AlertsFile: testAlerts, TargetsFile: testTargets, RuntimeFile: testRuntime,
	})
	st, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	rules, err := st.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rules.Groups) != 1 || len(rules.Groups[0].Rules) != 2 {
		t.Fatalf("rules = %+v", rules)
	}
	ar, ok := rules.Groups[0].Rules[0].(v1.AlertingRule)
	if !ok || ar.State != "firing" || ar.Health != v1.RuleHealthGood || len(ar.Alerts) != 1 || ar.Alerts[0].State != v1.AlertStateFiring {
		t.Errorf("alerting rule = %#v", rules.Groups[0].Rules[0])
	}
	if _, ok := rules.Groups[0].Rules[1].(v1.RecordingRule); !ok {
		t.Errorf("recording rule = %#v", rules.Groups[0].Rules[1])
	}

	alerts, err := st.Alerts(ctx)
	if err != nil || len(alerts.Alerts) != 1 || alerts.Alerts[0].Labels["alertname"] != "SecflowSandboxFailuresHigh" {
		t.Errorf("alerts = %+v, %v", alerts, err)
	}
	targets, err := st.Targets(ctx)
	if err != nil || len(targets.Active) != 1 || targets.Active[0].Health != v1.HealthGood {
		t.Errorf("targets = %+v, %v", targets, err)
	}
	ri, err := st.Runtimeinfo(ctx)
	if err != nil || ri.StorageRetention != "15d" || !ri.ReloadConfigSuccess {
		t.Errorf("runtimeinfo = %+v, %v", ri, err)
	}
	d, err := st.RetentionPeriod(ctx)
	if err != nil || d != 7*24*time.Hour {
		t.Errorf("loki retention = %s, %v", d, err)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := st.Rules(cancelled); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestStateMissingFiles(t *testing.T) {
	s := stateDir(t, nil)
	st, err := s.State()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for name, call := range map[string]func() error{
		RulesFile:   func() error { _, err := st.Rules(ctx); return err },
		AlertsFile:  func() error { _, err := st.Alerts(ctx); return err },
		TargetsFile: func() error { _, err := st.Targets(ctx); return err },
		RuntimeFile: func() error { _, err := st.Runtimeinfo(ctx); return err },
		"runtime.json (loki)": func() error {
			_, err := st.RetentionPeriod(ctx)
			return err
		},
	} {
		err := call()
		var se *sources.Error
		if !errors.As(err, &se) || se.Kind != sources.Missing || se.Source != "snapshot" {
			t.Errorf("%s: err = %v, want a Missing *sources.Error", name, err)
			continue
		}
		file, _, _ := strings.Cut(name, " ")
		if !strings.Contains(err.Error(), "no "+file+" in "+s.Dir()) {
			t.Errorf("%s: message %q does not name the file", name, err)
		}
	}

	// A runtime.json with one section: the other is missing, said so.
	s = stateDir(t, map[string]string{RuntimeFile: `{"loki": {"retention_period": "0s"}}`})
	st, err = s.State()
	if err != nil {
		t.Fatal(err)
	}
	if d, err := st.RetentionPeriod(ctx); err != nil || d != 0 {
		t.Errorf("loki 0s: %s, %v", d, err)
	}
	_, err = st.Runtimeinfo(ctx)
	if sources.KindOf(err) != sources.Missing || !strings.Contains(err.Error(), `runtime.json in `+s.Dir()+` has no "prometheus" section`) {
		t.Errorf("no prometheus section: %v", err)
	}
}

func TestStateCorruptFiles(t *testing.T) {
	tests := []struct {
		name, file, body string
		line             int
		contains         string
	}{
		{"syntax", RulesFile, "{\"status\":\"success\",\n\"data\": {\"groups\": [\n}", 3, "invalid character"},
		{"error answer", RulesFile, `{"status":"error","errorType":"bad_data","error":"nope"}`, 0, "holds an error answer, not data"},
		{"no envelope", AlertsFile, `{"alerts":[]}`, 0, `status is not "success"`},
		{"null data", TargetsFile, `{"status":"success","data":null}`, 0, "no data"},
		{"rule without type", RulesFile, "{\"status\":\"success\",\"data\":{\"groups\":[{\"name\":\"g\",\"rules\":[{\"name\":\"x\"}]}]}}", 1, "type field not present"},
		{"wrong type", AlertsFile, "{\"status\":\"success\",\n\"data\":{\"alerts\":\n\"x\"}}", 3, "not the data of Prometheus' answer"},
		{"runtime unknown key", RuntimeFile, "{\n  \"prometheus\": {},\n  \"grafana\": {}\n}", 3, `unknown key "grafana"`},
		{"runtime envelope", RuntimeFile, "{\"prometheus\": {\"status\":\"success\",\"data\":{\"storageRetention\":\"15d\"}}}", 1, "want only its data"},
		{"loki without period", RuntimeFile, `{"loki": {}}`, 1, `write "0s"`},
		{"loki unknown field", RuntimeFile, `{"loki": {"retention": "7d"}}`, 1, `unknown field "retention"`},
		{"loki bad period", RuntimeFile, `{"loki": {"retention_period": "a week"}}`, 0, `loki.retention_period: not a duration`},
		{"not an object", RuntimeFile, `[]`, 1, "want {"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stateDir(t, map[string]string{tt.file: tt.body})
			_, err := s.State()
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want a *CorruptError", err, err)
			}
			if ce.File != filepath.Join(s.Dir(), tt.file) || ce.Line != tt.line {
				t.Errorf("at %s:%d, want %s:%d (%v)", ce.File, ce.Line, tt.file, tt.line, err)
			}
			if !strings.Contains(ce.Msg, tt.contains) {
				t.Errorf("message %q does not contain %q", ce.Msg, tt.contains)
			}
		})
	}
}
