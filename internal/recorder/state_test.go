package recorder

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// Canned answers of a Prometheus 2.42, as the state API returns them.
var fakeBodies = map[string]string{
	"/api/v1/rules": `{"status":"success","data":{"groups":[{"name":"secflow-budgets","file":"/etc/prometheus/alerts.yaml","rules":[` +
		`{"state":"firing","name":"SecflowSandboxFailuresHigh","query":"x > 1","duration":300,"labels":{"severity":"warning"},"annotations":{"summary":"s","runbook_url":"r"},` +
		`"alerts":[{"labels":{"alertname":"SecflowSandboxFailuresHigh","severity":"warning"},"annotations":{"summary":"s","runbook_url":"r"},"state":"firing","activeAt":"2026-11-26T11:00:00Z","value":"2e+00"}],` +
		`"health":"ok","evaluationTime":0.001,"lastEvaluation":"2026-11-26T12:00:00Z","type":"alerting"},` +
		`{"name":"job:up:sum","query":"sum(up)","health":"ok","evaluationTime":0.001,"lastEvaluation":"2026-11-26T12:00:00Z","type":"recording"}],` +
		`"interval":15,"limit":0,"evaluationTime":0.002,"lastEvaluation":"2026-11-26T12:00:00Z"}]}}`,
	"/api/v1/alerts": `{"status":"success","data":{"alerts":[{"labels":{"alertname":"SecflowSandboxFailuresHigh","severity":"warning"},"annotations":{"summary":"s","runbook_url":"r"},"state":"firing","activeAt":"2026-11-26T11:00:00Z","value":"2e+00"}]}}`,
	"/api/v1/targets": `{"status":"success","data":{"activeTargets":[{"discoveredLabels":{"__address__":"api:8080","__scrape_interval__":"15s","__scrape_timeout__":"10s","job":"api"},` +
		`"labels":{"instance":"api:8080","job":"api"},"scrapePool":"api","scrapeUrl":"http://api:8080/metrics","globalUrl":"http://api:8080/metrics","lastError":"",` +
		`"lastScrape":"2026-11-26T12:00:00Z","lastScrapeDuration":0.01,"health":"up","scrapeInterval":"15s","scrapeTimeout":"10s"}],"droppedTargets":[]}}`,
	"/api/v1/status/runtimeinfo": `{"status":"success","data":{"startTime":"2026-11-01T00:00:00Z","CWD":"/","reloadConfigSuccess":true,"lastConfigTime":"2026-11-01T00:00:00Z",` +
		`"corruptionCount":0,"goroutineCount":40,"GOMAXPROCS":2,"GOGC":"","GODEBUG":"","storageRetention":"15d"}}`,
}

type fakeState struct{ asked []string }

func (f *fakeState) StateBody(_ context.Context, path string) ([]byte, error) {
	f.asked = append(f.asked, path)
	b, ok := fakeBodies[path]
	if !ok {
		return nil, sources.Errorf(sources.BadResponse, "prometheus", "no %s", path)
	}
	return []byte(b), nil
}

type fakeLokiAPI struct{}

func (fakeLokiAPI) RetentionPeriod(context.Context) (time.Duration, error) {
	return 7 * 24 * time.Hour, nil
}

type fakeEndpoints struct{}

func (fakeEndpoints) Fetch(_ context.Context, req sources.EndpointRequest) (*sources.Exposition, error) {
	if req.Anonymous {
		return &sources.Exposition{StatusCode: 401, ContentType: "text/plain", Body: []byte("Unauthorized\n"), Size: 13}, nil
	}
	body := "# HELP up x\n# TYPE up gauge\nup 1\n"
	return &sources.Exposition{StatusCode: 200, ContentType: "text/plain; version=0.0.4; charset=utf-8", Body: []byte(body), Size: int64(len(body))}, nil
}

const stateBudgets = `version: 1
budgets:
  - name: budget-alerts
    type: alert_rules
    require: [SecflowSandboxFailuresHigh]
    require_labels: [severity]
    firing: warn
  - name: api-scrape
    type: scrape
    job: api
    interval: 15s
  - name: api-metrics
    type: endpoint
    url: http://api:8080/metrics
    max_bytes: 1MB
    require_auth: true
  - name: prometheus-retention
    type: retention
    source: prometheus
    min: 15d
  - name: loki-retention
    type: retention
    source: loki
    min: 7d
`

// TestRecordState runs state budgets against fake live sources, records
// what they read, and evaluates them again on the snapshot: the same
// outcomes.
func TestRecordState(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(cfg, []byte(stateBudgets), 0o644); err != nil {
		t.Fatal(err)
	}
	_, plan, err := checks.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plan {
		if !NeedsState(p) {
			t.Fatalf("%s (%s) reads state, NeedsState says no", p.Budget.Name, p.Budget.Type)
		}
	}
	dir := t.TempDir()
	prom := &fakeState{}
	o := Options{At: planAt, State: StateSources{Prometheus: prom, LokiAPI: fakeLokiAPI{}, Endpoints: fakeEndpoints{}}, Warn: func(s string) { t.Error(s) }}
	files, unrecorded, err := recordState(context.Background(), dir, plan, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(unrecorded) != 0 {
		t.Errorf("unrecorded budgets %v, want none", unrecorded)
	}
	want := []string{"alerts.json", "endpoints/api-metrics.prom", "rules.json", "runtime.json", "targets.json"}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("files %v, want %v", files, want)
	}
	slices.Sort(prom.asked)
	if !slices.Equal(slices.Compact(prom.asked), prom.asked) {
		t.Errorf("a state body was fetched twice: %v", prom.asked)
	}
	body, _ := os.ReadFile(filepath.Join(dir, "rules.json"))
	if string(body) != fakeBodies["/api/v1/rules"] {
		t.Errorf("rules.json is not the body Prometheus answered")
	}
	var meta snapshot.EndpointMeta
	b, _ := os.ReadFile(filepath.Join(dir, "endpoints", "api-metrics.json"))
	if err := json.Unmarshal(b, &meta); err != nil || meta.AnonymousStatus != 401 {
		t.Errorf("endpoints/api-metrics.json = %s (%v), want anonymous_status 401", b, err)
	}

	// Live outcomes, then the same checks on the snapshot.
	// The live client decodes the same bodies into the same types.
	livePromAPI := &stateRecorder{src: StateSources{Prometheus: &fakeState{}}, bodies: map[string][]byte{}, errs: map[string]error{}}
	liveEnv := checks.Env{At: planAt, PromAPI: livePromAPI, LokiAPI: fakeLokiAPI{}, Endpoints: fakeEndpoints{}}
	live, _ := checks.Run(context.Background(), plan, liveEnv, 1, time.Now)
	if err := snapshot.WriteManifest(dir, snapshot.Manifest{EvaluatedAt: planAt}); err != nil {
		t.Fatal(err)
	}
	snap, err := snapshot.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	st, err := snap.State()
	if err != nil {
		t.Fatal(err)
	}
	off, _ := checks.Run(context.Background(), plan, checks.Env{At: planAt, PromAPI: st, LokiAPI: st, Endpoints: snap.Endpoints()}, 1, time.Now)
	for i := range live {
		l, o := live[i], off[i]
		l.Duration, o.Duration = 0, 0
		if l.Status == checks.Error {
			t.Errorf("%s: live error %+v", l.Name, l.Err)
		}
		if !reflect.DeepEqual(l, o) {
			t.Errorf("%s:\nlive    %+v\noffline %+v", l.Name, l, o)
		}
	}
}
