package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// Budgets such as alert_rules, scrape, endpoint and retention read more
// than PromQL and LogQL answers: the bodies of Prometheus' state API, a
// /metrics exposition, Loki's configured retention. What exactly depends
// on each budget (which endpoint, whether anonymously), so rather than
// second-guess them, the recorder runs those budgets' checks once against
// the live sources with recording stand-ins for the state sources, and
// writes what the checks asked for: the raw bodies of /api/v1/rules,
// /api/v1/alerts and /api/v1/targets, the data of /api/v1/status/
// runtimeinfo and Loki's retention in runtime.json, and each endpoint's
// body and facts in endpoints/NAME.prom and NAME.json.

// StateGetter fetches the raw body of a Prometheus API path; the live
// Prometheus client implements it.
type StateGetter interface {
	StateBody(ctx context.Context, path string) ([]byte, error)
}

// StateSources are the live sources of the data budgets read beyond
// queries. Any may be nil: a budget that needs it then fails live, is
// reported in a warning, and lacks its data offline.
type StateSources struct {
	Prometheus StateGetter
	LokiAPI    sources.LokiAPI
	Endpoints  sources.Endpoints
}

// NeedsState reports whether a budget reads anything beyond PromQL and
// LogQL queries, which only running its check can record.
func NeedsState(p *checks.Planned) bool {
	qs := p.Check.Queries()
	if len(qs) == 0 {
		return true
	}
	for _, q := range qs {
		if q.Lang != "promql" && q.Lang != "logql" {
			return true
		}
	}
	return false
}

// Prometheus' state endpoints and the snapshot files that hold them.
var promStateFiles = map[string]string{
	"/api/v1/rules":   snapshot.RulesFile,
	"/api/v1/alerts":  snapshot.AlertsFile,
	"/api/v1/targets": snapshot.TargetsFile,
}

const runtimeinfoPath = "/api/v1/status/runtimeinfo"

// stateRecorder stands in for the state sources while checks run, and
// keeps what they were answered.
type stateRecorder struct {
	src  StateSources
	warn func(string)

	mu        sync.Mutex
	bodies    map[string][]byte // API path → body
	errs      map[string]error  // API path → failure
	retention *time.Duration
	endpoints map[string]*endpointRecord // budget name → what was fetched
}

type endpointRecord struct {
	auth      *sources.Exposition
	anonymous *sources.Exposition
}

// recordState runs the checks of plan at at against the live query
// sources and recording state sources, and writes the state files into
// dir. Failures of single requests become warnings: the budget errs live
// as it will offline (its file is missing). It returns the files written.
func recordState(ctx context.Context, dir string, plan []*checks.Planned, o Options) ([]string, []Unrecorded, error) {
	r := &stateRecorder{
		src: o.State, warn: o.Warn,
		bodies: map[string][]byte{}, errs: map[string]error{}, endpoints: map[string]*endpointRecord{},
	}
	env := checks.Env{At: o.At, PromAPI: r, Endpoints: r}
	if o.Prometheus != nil {
		env.Prometheus = o.Prometheus
	}
	if o.Loki != nil {
		env.Loki = o.Loki
	}
	if o.State.LokiAPI != nil {
		env.LokiAPI = lokiStateRecorder{r}
	}
	outcomes, _ := checks.Run(ctx, plan, env, 4, time.Now)
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	var unrecorded []Unrecorded
	for _, oc := range outcomes {
		// checks.Run collected each budget's warnings apart: charge them
		// to its queries.
		charge(ctx, oc.Queries, oc.Warnings)
		if oc.Err != nil && oc.Err.Kind != sources.Missing.String() {
			o.Warn(fmt.Sprintf("budget %s failed live while recording its data (%s); the snapshot lacks what it could not get", oc.Name, oc.Err.Message))
			unrecorded = append(unrecorded, Unrecorded{Budget: oc.Name, Message: oc.Err.Message})
		}
	}
	files, err := r.write(dir)
	return files, unrecorded, err
}

// body fetches path once, however many checks ask for it.
func (r *stateRecorder) body(ctx context.Context, path string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.bodies[path]; ok {
		return b, nil
	}
	if err, ok := r.errs[path]; ok {
		return nil, err
	}
	if r.src.Prometheus == nil {
		return nil, sources.Errorf(sources.NotConfigured, "prometheus", "no Prometheus to record %s from", path)
	}
	b, err := r.src.Prometheus.StateBody(ctx, path)
	if err != nil {
		if ctx.Err() == nil {
			r.errs[path] = err
		}
		return nil, err
	}
	r.bodies[path] = b
	return b, nil
}

// decodeBody decodes the data of the API answer at path into T, as the
// snapshot reader will decode the recorded file.
func decodeBody[T any](ctx context.Context, r *stateRecorder, path string) (T, error) {
	var out T
	b, err := r.body(ctx, path)
	if err != nil {
		return out, err
	}
	var env struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return out, sources.Errorf(sources.BadResponse, "prometheus", "decoding %s: %v", path, err)
	}
	if err := json.Unmarshal(env.Data, &out); err != nil {
		return out, sources.Errorf(sources.BadResponse, "prometheus", "decoding %s: %v", path, err)
	}
	return out, nil
}

func (r *stateRecorder) Rules(ctx context.Context) (v1.RulesResult, error) {
	return decodeBody[v1.RulesResult](ctx, r, "/api/v1/rules")
}

func (r *stateRecorder) Alerts(ctx context.Context) (v1.AlertsResult, error) {
	return decodeBody[v1.AlertsResult](ctx, r, "/api/v1/alerts")
}

func (r *stateRecorder) Targets(ctx context.Context) (v1.TargetsResult, error) {
	return decodeBody[v1.TargetsResult](ctx, r, "/api/v1/targets")
}

func (r *stateRecorder) Runtimeinfo(ctx context.Context) (v1.RuntimeinfoResult, error) {
	return decodeBody[v1.RuntimeinfoResult](ctx, r, runtimeinfoPath)
}

// Fetch records an endpoint's exposition, authenticated or anonymous.
func (r *stateRecorder) Fetch(ctx context.Context, req sources.EndpointRequest) (*sources.Exposition, error) {
	if r.src.Endpoints == nil {
		return nil, sources.Errorf(sources.NotConfigured, "endpoint", "no source for /metrics endpoints was configured")
	}
	exp, err := r.src.Endpoints.Fetch(ctx, req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := r.endpoints[req.Name]
	if rec == nil {
		rec = &endpointRecord{}
		r.endpoints[req.Name] = rec
	}
	if req.Anonymous {
		rec.anonymous = exp
	} else {
		rec.auth = exp
	}
	return exp, nil
}

type lokiStateRecorder struct{ r *stateRecorder }

func (l lokiStateRecorder) RetentionPeriod(ctx context.Context) (time.Duration, error) {
	d, err := l.r.src.LokiAPI.RetentionPeriod(ctx)
	if err != nil {
		return 0, err
	}
	l.r.mu.Lock()
	l.r.retention = &d
	l.r.mu.Unlock()
	return d, nil
}

// write puts what was recorded into dir.
func (r *stateRecorder) write(dir string) ([]string, error) {
	var files []string
	for path, name := range promStateFiles {
		if b, ok := r.bodies[path]; ok {
			if err := os.WriteFile(filepath.Join(dir, name), maskStateBody(b), 0o644); err != nil {
				return nil, err
			}
			files = append(files, name)
		}
	}
	rt := map[string]any{}
	if b, ok := r.bodies[runtimeinfoPath]; ok {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(b, &env); err == nil {
			rt["prometheus"] = env.Data
		}
	}
	if r.retention != nil {
		rt["loki"] = map[string]string{"retention_period": model.Duration(*r.retention).String()}
	}
	if len(rt) > 0 {
		b, err := json.MarshalIndent(rt, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, snapshot.RuntimeFile), append(b, '\n'), 0o644); err != nil {
			return nil, err
		}
		files = append(files, snapshot.RuntimeFile)
	}
	for name, rec := range r.endpoints {
		if rec.auth == nil {
			continue // the authenticated GET failed: nothing to reproduce
		}
		epDir := filepath.Join(dir, snapshot.EndpointsDir)
		if err := os.MkdirAll(epDir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(epDir, name+snapshot.EndpointBodyExt), rec.auth.Body, 0o644); err != nil {
			return nil, err
		}
		meta := snapshot.EndpointMeta{ContentType: rec.auth.ContentType}
		if rec.auth.Size > int64(len(rec.auth.Body)) {
			meta.Size = rec.auth.Size
		}
		if rec.anonymous != nil {
			meta.AnonymousStatus = rec.anonymous.StatusCode
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(meta); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(epDir, name+snapshot.EndpointMetaExt), b.Bytes(), 0o644); err != nil {
			return nil, err
		}
		files = append(files, filepath.Join(snapshot.EndpointsDir, name+snapshot.EndpointBodyExt))
	}
	slices.Sort(files)
	return files, nil
}
