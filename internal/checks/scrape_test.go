package checks

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// scrapeTargetsFake answers /api/v1/targets only.
type scrapeTargetsFake struct {
	result v1.TargetsResult
	err    error
}

func (f *scrapeTargetsFake) Targets(context.Context) (v1.TargetsResult, error) {
	return f.result, f.err
}

func (f *scrapeTargetsFake) Rules(context.Context) (v1.RulesResult, error) {
	return v1.RulesResult{}, errors.New("scrapeTargetsFake: no rules")
}

func (f *scrapeTargetsFake) Alerts(context.Context) (v1.AlertsResult, error) {
	return v1.AlertsResult{}, errors.New("scrapeTargetsFake: no alerts")
}

func (f *scrapeTargetsFake) Runtimeinfo(context.Context) (v1.RuntimeinfoResult, error) {
	return v1.RuntimeinfoResult{}, errors.New("scrapeTargetsFake: no runtime info")
}

// scrapeTarget is an active target as Prometheus lists it; interval ""
// leaves __scrape_interval__ out of the discovered labels.
func scrapeTarget(job, instance string, health v1.HealthStatus, interval, lastErr string) v1.ActiveTarget {
	disc := map[string]string{"__address__": instance, "__metrics_path__": "/metrics", "__scheme__": "http", "job": job}
	if interval != "" {
		disc["__scrape_interval__"] = interval
		disc["__scrape_timeout__"] = "10s"
	}
	return v1.ActiveTarget{
		DiscoveredLabels: disc,
		Labels:           model.LabelSet{"job": model.LabelValue(job), "instance": model.LabelValue(instance)},
		ScrapePool:       job,
		ScrapeURL:        "http://" + instance + "/metrics",
		Health:           health,
		LastError:        lastErr,
	}
}

func secflowTargets() []v1.ActiveTarget {
	return []v1.ActiveTarget{
		scrapeTarget("scanner", "scanner:8080", v1.HealthGood, "15s", ""),
		scrapeTarget("api", "api:8080", v1.HealthGood, "15s", ""),
		scrapeTarget("worker", "worker:8080", v1.HealthGood, "15s", ""),
		scrapeTarget("prometheus", "localhost:9090", v1.HealthBad, "1m", "not ours"),
	}
}

func runScrape(t *testing.T, p *Planned, api *scrapeTargetsFake, prom *fakeProm) Outcome {
	t.Helper()
	env := Env{PromAPI: api, At: time.Unix(1795694407, 0)}
	if prom != nil {
		env.Prometheus = prom
	}
	out, _ := Run(context.Background(), []*Planned{p}, env, 1, time.Now)
	return out[0]
}

const secflowScrapeBudget = `- name: scrape
  type: scrape
  job: [api, worker, scanner]
  interval: 15s
  max_samples: 10000
`

const samplesQuery = `scrape_samples_scraped{job=~"api|worker|scanner"}`

func samplesAnswer(api, worker, scanner float64) map[string]model.Vector {
	return map[string]model.Vector{samplesQuery: {
		sample(api, "__name__", "scrape_samples_scraped", "job", "api", "instance", "api:8080"),
		sample(worker, "__name__", "scrape_samples_scraped", "job", "worker", "instance", "worker:8080"),
		sample(scanner, "__name__", "scrape_samples_scraped", "job", "scanner", "instance", "scanner:8080"),
	}}
}

func TestScrapeBudgets(t *testing.T) {
	down := func(ts []v1.ActiveTarget, i int, msg string) []v1.ActiveTarget {
		ts[i].Health, ts[i].LastError = v1.HealthBad, msg
		return ts
	}
	interval := func(ts []v1.ActiveTarget, i int, d string) []v1.ActiveTarget {
		ts[i].DiscoveredLabels["__scrape_interval__"] = d
		return ts
	}
	tests := []struct {
		name        string
		budget      string
		targets     []v1.ActiveTarget
		answers     map[string]model.Vector
		wantStatus  Status
		wantMessage string
		wantResults int
	}{
		{
			name: "healthy", budget: secflowScrapeBudget, targets: secflowTargets(), answers: samplesAnswer(589, 40, 25),
			wantStatus: Pass, wantMessage: "3 targets up, scraped every 15s, at most 589 samples <= 10,000", wantResults: 9,
		},
		{
			name: "target down", budget: secflowScrapeBudget, answers: samplesAnswer(589, 0, 25),
			targets:    down(secflowTargets(), 2, `Get "http://ci:tok3n-secret@worker:8080/metrics": dial tcp 10.0.0.7:8080: connect: connection refused`),
			wantStatus: Fail, wantResults: 9,
			wantMessage: `worker:8080 down: Get "http://xxxxx@worker:8080/metrics": dial tcp 10.0.0.7:8080: connect: connection refused`,
		},
		{
			name: "interval not 15s", budget: secflowScrapeBudget, targets: interval(secflowTargets(), 1, "30s"), answers: samplesAnswer(589, 40, 25),
			wantStatus: Fail, wantMessage: "api:8080 scraped every 30s, want 15s", wantResults: 9,
		},
		{
			name: "too many samples", budget: secflowScrapeBudget, targets: secflowTargets(), answers: samplesAnswer(10388, 40, 25),
			wantStatus: Fail, wantMessage: "api:8080 scraped 10,388 samples > 10,000", wantResults: 9,
		},
		{
			name: "several problems", budget: secflowScrapeBudget, targets: interval(down(secflowTargets(), 0, "EOF"), 1, "1m"),
			answers: samplesAnswer(10388, 40, 0), wantStatus: Fail, wantResults: 9,
			wantMessage: "api:8080 scraped every 60s, want 15s (and 2 more not passing)",
		},
		{
			name:   "max interval",
			budget: "- name: scrape\n  type: scrape\n  job: api\n  max_interval: 30s\n  up: false\n",
			targets: []v1.ActiveTarget{scrapeTarget("api", "api-1:8080", v1.HealthBad, "15s", "x"),
				scrapeTarget("api", "api-0:8080", v1.HealthGood, "30s", "")},
			wantStatus: Pass, wantMessage: "2 targets, scraped at most every 30s <= 30s", wantResults: 2,
		},
		{
			name:       "max interval exceeded",
			budget:     "- name: scrape\n  type: scrape\n  job: api\n  max_interval: 30s\n",
			targets:    []v1.ActiveTarget{scrapeTarget("api", "api:8080", v1.HealthGood, "1m", "")},
			wantStatus: Fail, wantMessage: "api:8080 interval 60s > 30s", wantResults: 2,
		},
		{
			name:   "share of targets up",
			budget: "- name: scrape\n  type: scrape\n  job: worker\n  up: 50%\n",
			targets: []v1.ActiveTarget{scrapeTarget("worker", "w-0:8080", v1.HealthGood, "15s", ""),
				scrapeTarget("worker", "w-1:8080", v1.HealthBad, "15s", "EOF")},
			wantStatus: Pass, wantMessage: "1 of 2 targets up", wantResults: 3,
		},
		{
			name:   "share of targets up too low",
			budget: "- name: scrape\n  type: scrape\n  job: worker\n  up: 90%\n",
			targets: []v1.ActiveTarget{scrapeTarget("worker", "w-0:8080", v1.HealthGood, "15s", ""),
				scrapeTarget("worker", "w-1:8080", v1.HealthUnknown, "15s", "")},
			wantStatus: Fail, wantMessage: "job worker: up 50% < 90%", wantResults: 3,
		},
		{
			name: "not scraped yet", budget: "- name: scrape\n  type: scrape\n  job: api\n",
			targets:    []v1.ActiveTarget{scrapeTarget("api", "api:8080", v1.HealthUnknown, "15s", "")},
			wantStatus: Fail, wantMessage: `api:8080: not scraped yet (health "unknown")`, wantResults: 1,
		},
		{
			name: "no interval reported", budget: "- name: scrape\n  type: scrape\n  job: api\n  interval: 15s\n  on_missing: warn\n",
			targets:    []v1.ActiveTarget{scrapeTarget("api", "api:8080", v1.HealthGood, "", "")},
			wantStatus: Warn, wantResults: 2,
			wantMessage: "api:8080: the server reports no scrape interval for this target (no __scrape_interval__ among its discovered labels)",
		},
		{
			name: "a job without targets", budget: secflowScrapeBudget, targets: secflowTargets()[:2], answers: samplesAnswer(589, 40, 25),
			wantStatus: Fail, wantMessage: "job worker: no active target of this job in /api/v1/targets", wantResults: 7,
		},
		{
			name: "no samples series for a target", budget: secflowScrapeBudget, targets: secflowTargets(),
			answers:    map[string]model.Vector{samplesQuery: samplesAnswer(589, 40, 25)[samplesQuery][:2]},
			wantStatus: Fail, wantMessage: "scanner:8080: no scrape_samples_scraped series for this target at the evaluation time", wantResults: 9,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadOne(t, tt.budget)
			prom := &fakeProm{t: t, answers: tt.answers}
			o := runScrape(t, plan[0], &scrapeTargetsFake{result: v1.TargetsResult{Active: tt.targets}}, prom)
			if o.Status != tt.wantStatus || o.Message != tt.wantMessage || len(o.Results) != tt.wantResults {
				t.Errorf("got %s %q with %d results\nwant %s %q with %d", o.Status, o.Message, len(o.Results), tt.wantStatus, tt.wantMessage, tt.wantResults)
				for _, r := range o.Results {
					t.Logf("  %s", DescribeResult(r, "fail"))
				}
			}
			if o.Category != "metrics" || o.Err != nil {
				t.Errorf("category %q, error %v", o.Category, o.Err)
			}
		})
	}
}

func TestScrapeResults(t *testing.T) {
	plan := loadOne(t, secflowScrapeBudget)
	prom := &fakeProm{t: t, answers: samplesAnswer(589, 40, 25)}
	o := runScrape(t, plan[0], &scrapeTargetsFake{result: v1.TargetsResult{Active: secflowTargets()}}, prom)
	var got []string
	for _, r := range o.Results {
		got = append(got, DescribeResult(r, "fail")+" "+r.Status.String())
	}
	want := []string{
		`up{instance="api:8080", job="api"} 1 pass`,
		`interval{instance="api:8080", job="api"} 15s == 15s pass`,
		`samples{instance="api:8080", job="api"} 589 samples <= 10,000 samples pass`,
		`up{instance="worker:8080", job="worker"} 1 pass`,
		`interval{instance="worker:8080", job="worker"} 15s == 15s pass`,
		`samples{instance="worker:8080", job="worker"} 40 samples <= 10,000 samples pass`,
		`up{instance="scanner:8080", job="scanner"} 1 pass`,
		`interval{instance="scanner:8080", job="scanner"} 15s == 15s pass`,
		`samples{instance="scanner:8080", job="scanner"} 25 samples <= 10,000 samples pass`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("results:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if q := o.Queries; len(q) != 2 || q[0] != "GET /api/v1/targets" || q[1] != samplesQuery {
		t.Errorf("queries %q", q)
	}
}

func TestScrapeBodySize(t *testing.T) {
	plan := loadOne(t, "- name: scrape\n  type: scrape\n  job: api\n  max_body_bytes: 1MB\n")
	q := `scrape_body_size_bytes{job="api"}`
	targets := &scrapeTargetsFake{result: v1.TargetsResult{Active: secflowTargets()}}

	// Prometheus without extra-scrape-metrics: a note, not a failure.
	o := runScrape(t, plan[0], targets, &fakeProm{t: t, answers: map[string]model.Vector{q: {}}})
	if o.Status != Pass || len(o.Results) != 1 || len(o.Notes) != 1 || !strings.Contains(o.Notes[0], "not exposed by this server") {
		t.Errorf("not exposed: %s %q, %d results, notes %q", o.Status, o.Message, len(o.Results), o.Notes)
	}

	for v, want := range map[float64]Status{412_000: Pass, 1_200_000: Fail} {
		o = runScrape(t, plan[0], targets, &fakeProm{t: t, answers: map[string]model.Vector{
			q: {sample(v, "job", "api", "instance", "api:8080")},
		}})
		if o.Status != want || len(o.Results) != 2 || len(o.Notes) != 0 {
			t.Errorf("%g bytes: %s %q, %d results, notes %q", v, o.Status, o.Message, len(o.Results), o.Notes)
		}
		if want == Fail && o.Message != "api:8080 scrape body 1.2 MB > 1 MB" {
			t.Errorf("message %q", o.Message)
		}
		if want == Pass && o.Message != "1 target up, at most 412 kB per scrape <= 1 MB" {
			t.Errorf("message %q", o.Message)
		}
	}
}

func TestScrapeNoTargetsAtAll(t *testing.T) {
	plan := loadOne(t, "- name: scrape\n  type: scrape\n  job: [api, worker]\n  on_missing: skip\n")
	o := runScrape(t, plan[0], &scrapeTargetsFake{result: v1.TargetsResult{Active: secflowTargets()[3:]}}, nil)
	if o.Status != Skip || o.Message != "no data: no active target of job api, worker in /api/v1/targets (on_missing: skip)" {
		t.Errorf("got %s %q", o.Status, o.Message)
	}
}

func TestScrapeSourceErrors(t *testing.T) {
	plan := loadOne(t, secflowScrapeBudget)
	o := runScrape(t, plan[0], &scrapeTargetsFake{err: sources.Errorf(sources.Unauthorized, "prometheus", "refused")}, nil)
	if o.Status != Error || o.Err == nil || o.Err.Kind != "unauthorized" {
		t.Errorf("targets error: %s %+v", o.Status, o.Err)
	}
	prom := &fakeProm{t: t, errs: map[string]error{samplesQuery: sources.Errorf(sources.Unavailable, "prometheus", "down")}}
	o = runScrape(t, plan[0], &scrapeTargetsFake{result: v1.TargetsResult{Active: secflowTargets()}}, prom)
	if o.Status != Error || o.Err == nil || o.Err.Kind != "unavailable" {
		t.Errorf("query error: %s %+v", o.Status, o.Err)
	}
	out, _ := Run(context.Background(), plan, Env{}, 1, time.Now)
	if out[0].Status != Error || out[0].Err.Kind != "not_configured" {
		t.Errorf("no PromAPI: %s %+v", out[0].Status, out[0].Err)
	}
}

func TestScrapeQueries(t *testing.T) {
	for budget, want := range map[string][]string{
		"job: api\nmax_samples: 1":                      {"GET /api/v1/targets", `scrape_samples_scraped{job="api"}`},
		"job: [a.b, c]\nmax_samples: 1":                 {"GET /api/v1/targets", `scrape_samples_scraped{job=~"a\\.b|c"}`},
		"job: api\nmax_body_bytes: 1MB\nmax_samples: 1": {"GET /api/v1/targets", `scrape_samples_scraped{job="api"}`, `scrape_body_size_bytes{job="api"}`},
		"job: api": {"GET /api/v1/targets"},
	} {
		plan := loadOne(t, "- name: s\n  type: scrape\n"+indentBy(budget, "  "))
		var got []string
		for _, q := range plan[0].Check.Queries() {
			got = append(got, q.Text)
			if err := checkParses(q); err != nil {
				t.Errorf("%s: %v", q.Text, err)
			}
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", budget, got, want)
		}
	}
}

func checkParses(q Query) error {
	if q.Lang != "promql" {
		return nil
	}
	_, err := newParser().ParseExpr(q.Text)
	return err
}

func TestScrapeConfigErrors(t *testing.T) {
	for budget, want := range map[string]string{
		"interval: 15s": "budgets[0].job: required field is missing",
		"job: api\ninterval: 15s\nmax_interval: 30s": "budgets[0].max_interval: set interval",
		"job: api\nup: false":                        "budgets[0].up: nothing to check",
		"job: api\nup: sometimes":                    `budgets[0].up: invalid value "sometimes"`,
		"job: api\nup: 120%":                         `budgets[0].up: invalid value "120%"`,
		"job: [api, api]":                            `:5:16: budgets[0].job[1]: job "api" listed twice: job[0] at 5:11 and job[1] at 5:16`,
		"job: api\nmax_samples: -1":                  "budgets[0].max_samples: a number of samples cannot be negative",
		"job: api\nmax_body_bytes: 1 parsec":         `budgets[0].max_body_bytes: invalid size`,
		"job: api\ninterval: 15":                     `budgets[0].interval:`,
		"job: api\nmax_sample: 10":                   `unknown field "max_sample" (did you mean "max_samples"?)`,
	} {
		_, _, err := loadText(t, "version: 1\nbudgets:\n  - name: s\n    type: scrape\n"+indentBy(budget, "    "))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant %q", budget, err, want)
		}
	}
}

// scrapeBudgetYAML is the scrape budget proposed for SecFlow's budgets.yaml.
const scrapeBudgetYAML = `- name: scrape-targets
  type: scrape
  job: [api, worker, scanner]
  interval: 15s
  max_samples: 10000
`

// snapshotTargets reads a snapshot's targets.json, the body of
// /api/v1/targets, as the offline PromAPI does.
func snapshotTargets(t *testing.T, dir string) *scrapeTargetsFake {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "targets.json"))
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Status string           `json:"status"`
		Data   v1.TargetsResult `json:"data"`
	}
	if err := json.Unmarshal(data, &body); err != nil || body.Status != "success" {
		t.Fatalf("targets.json: %v", err)
	}
	return &scrapeTargetsFake{result: body.Data}
}

// TestScrapeOnShippedSnapshots: healthy passes; degraded's path-label
// explosion is its one scrape problem.
func TestScrapeOnShippedSnapshots(t *testing.T) {
	want := map[string]struct {
		status  Status
		message string
	}{
		"healthy":  {Pass, "3 targets up, scraped every 15s, at most 589 samples <= 10,000"},
		"degraded": {Fail, "api:8080 scraped 10,388 samples > 10,000"},
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "testdata", "snapshots", name)
			snap, err := snapshot.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer snap.Close()
			q, err := snap.PromQL(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			plan := loadOne(t, scrapeBudgetYAML)
			out, _ := Run(context.Background(), plan, Env{Prometheus: q, PromAPI: snapshotTargets(t, dir), At: snap.EvaluatedAt()}, 1, time.Now)
			if o := out[0]; o.Status != w.status || o.Message != w.message || len(o.Results) != 9 {
				t.Errorf("got %s %q (%d results), want %s %q", o.Status, o.Message, len(o.Results), w.status, w.message)
			}
		})
	}
}
