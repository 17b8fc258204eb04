package prometheus

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

// Bodies as Prometheus 2.42 answers them (trimmed).
const (
	rulesBody = `{"status":"success","data":{"groups":[{"name":"secflow-budgets","file":"/etc/prometheus/alerts.yaml","rules":[
		{"state":"firing","name":"SecflowSandboxFailuresHigh","query":"sum(x) > 0.02","duration":0,"keepFiringFor":0,
		 "labels":{"severity":"critical"},"annotations":{"summary":"s"},
		 "alerts":[{"labels":{"alertname":"SecflowSandboxFailuresHigh","severity":"critical"},"annotations":{"summary":"s"},"state":"firing","activeAt":"2026-11-26T19:34:28.575196999Z","value":"4.9999999999999996e-02"}],
		 "health":"ok","evaluationTime":0.0004,"lastEvaluation":"2026-11-26T19:34:32.576792021Z","type":"alerting"},
		{"name":"job:up:sum","query":"sum by (job) (up)","health":"err","lastError":"boom","evaluationTime":0.0001,"lastEvaluation":"2026-11-26T19:34:32Z","type":"recording"}],
		"interval":1,"limit":0,"evaluationTime":0.0011,"lastEvaluation":"2026-11-26T19:34:32.576216798Z"}]}}`
	alertsBody  = `{"status":"success","data":{"alerts":[{"labels":{"alertname":"SecflowSandboxFailuresHigh"},"annotations":{},"state":"firing","activeAt":"2026-11-26T19:34:28Z","value":"5e-02"}]}}`
	targetsBody = `{"status":"success","data":{"activeTargets":[{"discoveredLabels":{"__address__":"api:8080"},"labels":{"job":"api"},"scrapePool":"api","scrapeUrl":"http://api:8080/metrics","globalUrl":"http://api:8080/metrics","lastError":"","lastScrape":"2026-11-26T19:34:30Z","lastScrapeDuration":0.01,"health":"up","scrapeInterval":"15s","scrapeTimeout":"10s"}],"droppedTargets":[]}}`
	runtimeBody = `{"status":"success","data":{"startTime":"2026-11-26T19:34:28.040675738Z","CWD":"/","reloadConfigSuccess":true,"lastConfigTime":"2026-11-26T19:34:28Z","corruptionCount":0,"goroutineCount":25,"GOMAXPROCS":2,"GOGC":"","GODEBUG":"","storageRetention":"15d or 10GiB"}}`
)

func stateServer(t *testing.T) *fakeProm {
	return newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
		body := map[string]string{
			"/api/v1/rules":              rulesBody,
			"/api/v1/alerts":             alertsBody,
			"/api/v1/targets":            targetsBody,
			"/api/v1/status/runtimeinfo": runtimeBody,
		}[strings.TrimPrefix(r.URL.Path, "/prefix")]
		if body == "" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		jsonAnswer(200, body)(w, r)
	})
}

func TestStateEndpoints(t *testing.T) {
	srv := stateServer(t)
	c := mustNew(t, &config.Source{URL: srv.URL + "/prefix", Tenant: "secflow"})
	ctx := context.Background()

	rules, err := c.Rules(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if req := srv.last(t); req.path != "/prefix/api/v1/rules" || req.header.Get("X-Scope-OrgID") != "secflow" {
		t.Errorf("request %s %v", req.path, req.header)
	}
	if len(rules.Groups) != 1 || len(rules.Groups[0].Rules) != 2 {
		t.Fatalf("rules = %+v", rules)
	}
	ar, ok := rules.Groups[0].Rules[0].(v1.AlertingRule)
	if !ok || ar.Name != "SecflowSandboxFailuresHigh" || ar.State != "firing" || ar.Health != v1.RuleHealthGood || len(ar.Alerts) != 1 {
		t.Errorf("alerting rule = %#v", rules.Groups[0].Rules[0])
	}
	rr, ok := rules.Groups[0].Rules[1].(v1.RecordingRule)
	if !ok || rr.Health != v1.RuleHealthBad || rr.LastError != "boom" {
		t.Errorf("recording rule = %#v", rules.Groups[0].Rules[1])
	}

	alerts, err := c.Alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(alerts.Alerts) != 1 || alerts.Alerts[0].State != v1.AlertStateFiring || srv.last(t).path != "/prefix/api/v1/alerts" {
		t.Errorf("alerts = %+v", alerts)
	}

	targets, err := c.Targets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets.Active) != 1 || targets.Active[0].Health != v1.HealthGood || srv.last(t).path != "/prefix/api/v1/targets" {
		t.Errorf("targets = %+v", targets)
	}

	ri, err := c.Runtimeinfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ri.StorageRetention != "15d or 10GiB" || srv.last(t).path != "/prefix/api/v1/status/runtimeinfo" {
		t.Errorf("runtimeinfo = %+v", ri)
	}
}

func TestStateErrorMapping(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		kind     sources.Kind
		contains string
	}{
		{"401", jsonAnswer(401, `Unauthorized`), sources.Unauthorized, "HTTP 401"},
		{"403", jsonAnswer(403, `{"status":"error","errorType":"forbidden","error":"no"}`), sources.Unauthorized, "HTTP 403"},
		{"404 names the endpoint", http.NotFound, sources.BadResponse, "HTTP 404 Not Found to /api/v1/rules: is this the base URL of a Prometheus-compatible API, and does it serve /api/v1/rules?"},
		{"500", jsonAnswer(500, `{"status":"error","errorType":"internal","error":"broke"}`), sources.Unavailable, "HTTP 500"},
		{"503 html", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(503)
			fmt.Fprint(w, "<html>down</html>")
		}, sources.Unavailable, "HTTP 503"},
		{"200 html", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>Sign in</html>")
		}, sources.BadResponse, "text/html"},
		{"200 wrong shape", jsonAnswer(200, `{"status":"success","data":{"groups":"nope"}}`), sources.BadResponse, "unreadable response"},
		{"rule without type", jsonAnswer(200, `{"status":"success","data":{"groups":[{"name":"g","rules":[{"name":"x"}]}]}}`), sources.BadResponse, "unreadable response"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeProm(t, tt.handler)
			c := mustNew(t, &config.Source{URL: srv.URL})
			_, err := c.Rules(context.Background())
			wantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), "<html>") {
				t.Errorf("error %q quotes the body", err)
			}
		})
	}
}

func TestStateRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := mustNew(t, &config.Source{URL: srv.URL, Timeout: 100 * time.Millisecond})
	_, err := c.Runtimeinfo(context.Background())
	se := wantKind(t, err, sources.Timeout)
	if se.Err.Error() != "GET /api/v1/status/runtimeinfo timed out after 100ms" {
		t.Errorf("message = %q", se.Err.Error())
	}
}

// The run's own deadline is not the source's fault: the error wraps the
// caller's context error, as Query's does.
func TestStateCallerDeadline(t *testing.T) {
	release := make(chan struct{})
	srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := mustNew(t, &config.Source{URL: srv.URL, Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Alerts(ctx)
	if err == nil || sources.KindOf(err) != sources.Timeout || !strings.Contains(err.Error(), "abandoned") {
		t.Fatalf("err = %v (kind %v), want the caller's deadline", err, sources.KindOf(err))
	}

	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := c.Targets(cancelled); err == nil || !strings.Contains(err.Error(), "abandoned") {
		t.Errorf("cancelled context: err = %v", err)
	}
}

func TestStateSecretsNotInErrors(t *testing.T) {
	const token = "state-secret-token-value"
	t.Setenv("SECFLOW_TEST_STATE_TOKEN", token)
	srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":"got %s"}`, r.Header.Get("Authorization"))
	})
	c := mustNew(t, &config.Source{URL: srv.URL, BearerTokenEnv: "SECFLOW_TEST_STATE_TOKEN"})
	_, err := c.Rules(context.Background())
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error %q leaks the token", err)
	}
}
