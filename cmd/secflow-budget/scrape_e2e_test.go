package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/promtest"
)

// The scrape budget against a Prometheus that really scrapes: local
// /metrics servers, scraped every second, one of them failing with 500.
// The live check, the snapshot recorded from the same Prometheus, and the
// offline check of that snapshot must agree at one evaluation time.

// apiExposition holds 3 samples, workerExposition 6 (a histogram with
// three buckets, its sum and count, and a gauge).
const (
	apiExposition = `# HELP demo_requests_total Requests served.
# TYPE demo_requests_total counter
demo_requests_total{code="200"} 1027
demo_requests_total{code="500"} 3
# HELP demo_queue_depth Tasks waiting.
# TYPE demo_queue_depth gauge
demo_queue_depth 12
`
	workerExposition = `# HELP demo_task_duration_seconds Task duration.
# TYPE demo_task_duration_seconds histogram
demo_task_duration_seconds_bucket{le="1"} 4
demo_task_duration_seconds_bucket{le="10"} 9
demo_task_duration_seconds_bucket{le="+Inf"} 10
demo_task_duration_seconds_sum 48.5
demo_task_duration_seconds_count 10
# HELP demo_workers Workers running.
# TYPE demo_workers gauge
demo_workers 4
`
)

// scrapeBudgets: every budget reads the targets API, most also the scrape
// metrics. Their verdicts are fixed by the servers: api has one target
// down, worker is fully up with 6 samples per scrape.
const scrapeBudgets = `version: 1
budgets:
  - name: api-scrape          # fails: one target answers 500
    type: scrape
    job: api
    interval: 1s
    max_samples: 100
    max_body_bytes: 1KB
    up: true
  - name: worker-scrape       # passes
    type: scrape
    job: worker
    interval: 1s
    max_samples: 100
    max_body_bytes: 1KB
  - name: api-up-share        # passes: half the api targets must be up
    type: scrape
    job: api
    up: 50%
    max_interval: 5s
  - name: samples-tight       # fails: worker scrapes 6 samples > 5
    type: scrape
    job: [api, worker]
    up: false
    max_interval: 15s
    max_samples: 5
  - name: worker-interval     # fails: scraped every 1s, not 15s
    type: scrape
    job: worker
    interval: 15s
    up: false
`

const lastError500 = "server returned HTTP status 500 Internal Server Error"

func exposing(t *testing.T, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestScrapeBudgetsLiveAndSnapshot(t *testing.T) {
	apiUp := exposing(t, apiExposition)
	apiDown := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down on purpose", http.StatusInternalServerError)
	}))
	t.Cleanup(apiDown.Close)
	worker := exposing(t, workerExposition)
	up, down, wk := hostOf(apiUp.URL), hostOf(apiDown.URL), hostOf(worker.URL)

	prom := promtest.StartWith(t, []promtest.Option{
		promtest.WithScrapeJob("api", time.Second, apiUp.URL, apiDown.URL),
		promtest.WithScrapeJob("worker", time.Second, worker.URL),
		// scrape_body_size_bytes, for max_body_bytes.
		promtest.WithFlags("--enable-feature=extra-scrape-metrics"),
	})
	targets := []string{"api " + up, "api " + down, "worker " + wk}
	at := waitScrapedTwice(t, prom, targets)
	atText := at.UTC().Format(time.RFC3339)
	t.Logf("evaluating at %s", atText)

	cfg := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(cfg, []byte(scrapeBudgets), 0o644); err != nil {
		t.Fatal(err)
	}

	live := run(t, nil, "check", "-c", cfg, "--prometheus", prom.URL, "--at", atText, "--format", "json")
	expectCode(t, live, 1)
	var liveRep report
	mustJSON(t, live.stdout, &liveRep)
	if liveRep.Mode != "live" || liveRep.EvaluatedAt != atText {
		t.Errorf("live report: mode %q evaluated_at %q, want live at %s", liveRep.Mode, liveRep.EvaluatedAt, atText)
	}
	budgets := byName(liveRep)

	// api-scrape: the 500 target is down, with Prometheus' lastError; the
	// other is up; both scraped every 1s; the down one scraped 0 samples
	// of 0 bytes.
	b := budgets["api-scrape"]
	expectStatus(t, b, "fail")
	if want := down + " down: " + lastError500; b.Message != want {
		t.Errorf("api-scrape message %q, want %q", b.Message, want)
	}
	expectResult(t, b, "up", up, 1, "pass", "")
	expectResult(t, b, "up", down, 0, "fail", "down: "+lastError500)
	expectResult(t, b, "interval", up, 1, "pass", "")
	expectResult(t, b, "interval", down, 1, "pass", "")
	expectResult(t, b, "samples", up, 3, "pass", "")
	expectResult(t, b, "samples", down, 0, "pass", "")
	expectResult(t, b, "body_bytes", up, float64(len(apiExposition)), "pass", "")
	expectResult(t, b, "body_bytes", down, 0, "pass", "")
	expectResultCount(t, b, 8)

	// worker-scrape: fully up.
	b = budgets["worker-scrape"]
	expectStatus(t, b, "pass")
	if want := fmt.Sprintf("1 target up, scraped every 1s, at most 6 samples <= 100, at most %d B per scrape <= 1 kB", len(workerExposition)); b.Message != want {
		t.Errorf("worker-scrape message %q, want %q", b.Message, want)
	}
	expectResult(t, b, "up", wk, 1, "pass", "")
	expectResult(t, b, "interval", wk, 1, "pass", "")
	expectResult(t, b, "samples", wk, 6, "pass", "")
	expectResult(t, b, "body_bytes", wk, float64(len(workerExposition)), "pass", "")
	expectResultCount(t, b, 4)

	// api-up-share: one of two targets up is the 50% asked for; the down
	// target's own result is tolerated.
	b = budgets["api-up-share"]
	expectStatus(t, b, "pass")
	if want := "1 of 2 targets up, scraped at most every 1s <= 5s"; b.Message != want {
		t.Errorf("api-up-share message %q, want %q", b.Message, want)
	}
	expectResult(t, b, "up", down, 0, "pass", "down: "+lastError500+" (up_share judges the job)")
	expectResult(t, b, "up_share", "", 0.5, "pass", "")
	expectResultCount(t, b, 5)

	// samples-tight: worker's 6 samples break the limit of 5, api's 3
	// (and the down target's 0) do not.
	b = budgets["samples-tight"]
	expectStatus(t, b, "fail")
	if want := wk + " scraped 6 samples > 5"; b.Message != want {
		t.Errorf("samples-tight message %q, want %q", b.Message, want)
	}
	expectResult(t, b, "samples", up, 3, "pass", "")
	expectResult(t, b, "samples", down, 0, "pass", "")
	expectResult(t, b, "samples", wk, 6, "fail", "")
	expectResult(t, b, "interval", wk, 1, "pass", "")
	expectResultCount(t, b, 6)

	// worker-interval: 1s is not the 15s asked for.
	b = budgets["worker-interval"]
	expectStatus(t, b, "fail")
	if want := wk + " scraped every 1s, want 15s"; b.Message != want {
		t.Errorf("worker-interval message %q, want %q", b.Message, want)
	}
	expectResult(t, b, "interval", wk, 1, "fail", "")
	expectResultCount(t, b, 1)

	if s := liveRep.Summary; s["pass"] != 2 || s["fail"] != 3 || s["error"] != 0 {
		t.Errorf("live summary %v, want 2 passed, 3 failed", s)
	}

	// The console shows the down target's lastError on the budget's line.
	console := run(t, nil, "check", "-c", cfg, "--prometheus", prom.URL, "--at", atText, "--only", "api-scrape")
	expectCode(t, console, 1)
	if want := "❌ api-scrape  " + down + " down: " + lastError500; !strings.Contains(console.stdout, want) {
		t.Errorf("console lacks %q:\n%s", want, console.stdout)
	}

	// Record a snapshot from the same Prometheus at the same time, and
	// check it offline: the same verdicts, values and messages.
	dir := filepath.Join(t.TempDir(), "snap")
	rec := run(t, nil, "snapshot", "-c", cfg, "--out", dir, "--prometheus", prom.URL, "--at", atText)
	expectCode(t, rec, 0)
	t.Logf("snapshot: %s", strings.TrimSpace(rec.stdout))
	for _, f := range []string{"manifest.yaml", "metrics.om", "targets.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the snapshot lacks %s: %v\n%s", f, err, rec.stdout)
		}
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if want := "evaluated_at: " + atText; !strings.Contains(string(manifest), want) {
		t.Errorf("manifest.yaml lacks %q:\n%s", want, manifest)
	}

	off := run(t, nil, "check", "-c", cfg, "--offline", dir, "--at", atText, "--format", "json")
	if off.code != live.code {
		t.Errorf("exit codes differ: offline %d, live %d\n%s\n%s", off.code, live.code, off.stdout, off.stderr)
	}
	var offRep report
	mustJSON(t, off.stdout, &offRep)
	if offRep.Mode != "offline" || offRep.EvaluatedAt != atText {
		t.Errorf("offline report: mode %q evaluated_at %q, want offline at %s", offRep.Mode, offRep.EvaluatedAt, atText)
	}
	compareReports(t, offRep, liveRep)
	for i, o := range offRep.Budgets {
		if l := liveRep.Budgets[i]; o.Message != l.Message {
			t.Errorf("%s: message offline %q, live %q", o.Name, o.Message, l.Message)
		}
	}
}

// waitScrapedTwice polls /api/v1/targets until each of the targets ("job
// instance") has been scraped at least twice, and returns an evaluation
// time on the whole second just after the last of those scrapes. It then
// waits until every target has started a scrape well after that time, so
// that every sample stamped at or before it is in the TSDB: a target's
// scrapes run one after the other. Bounded; never a fixed sleep.
func waitScrapedTwice(t *testing.T, prom *promtest.Server, targets []string) time.Time {
	t.Helper()
	// Prometheus hands new targets to the scrape manager within about 5s
	// of start-up; the bound is generous for a loaded machine.
	const bound = 60 * time.Second
	deadline := time.Now().Add(bound)
	seen := map[string]map[int64]bool{} // target → lastScrape values seen (unix ns)
	var state map[string]scrapeTarget
	poll := func(what string, done func() bool) {
		t.Helper()
		for {
			state = targetStates(t, prom.URL)
			for k, s := range state {
				if !s.LastScrape.IsZero() {
					if seen[k] == nil {
						seen[k] = map[int64]bool{}
					}
					seen[k][s.LastScrape.UnixNano()] = true
				}
			}
			if done() {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within %s; targets: %+v\n%s", what, bound, state, prom.Log())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	poll("every target scraped twice", func() bool {
		for _, k := range targets {
			if len(seen[k]) < 2 {
				return false
			}
		}
		return true
	})
	var last time.Time
	for _, k := range targets {
		if l := state[k].LastScrape; l.After(last) {
			last = l
		}
	}
	at := last.Truncate(time.Second).Add(time.Second)
	poll("every target scraped after the evaluation time", func() bool {
		for _, k := range targets {
			if !state[k].LastScrape.After(at.Add(500 * time.Millisecond)) {
				return false
			}
		}
		return true
	})
	for _, k := range targets {
		t.Logf("target %s: %d scrapes seen, health %s, last error %q", k, len(seen[k]), state[k].Health, state[k].LastError)
	}
	return at
}

type scrapeTarget struct {
	Health     string    `json:"health"`
	LastError  string    `json:"lastError"`
	LastScrape time.Time `json:"lastScrape"`
}

// targetStates is "job instance" → state of every active target.
func targetStates(t *testing.T, base string) map[string]scrapeTarget {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/targets?state=active")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			ActiveTargets []struct {
				scrapeTarget
				Labels map[string]string `json:"labels"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string]scrapeTarget{}
	for _, a := range body.Data.ActiveTargets {
		out[a.Labels["job"]+" "+a.Labels["instance"]] = a.scrapeTarget
	}
	return out
}

func hostOf(url string) string { return strings.TrimPrefix(url, "http://") }

type reportBudget = struct {
	Name    string   `json:"name"`
	Status  string   `json:"status"`
	Message string   `json:"message"`
	Queries []string `json:"queries"`
	Results []map[string]any
	Error   *struct{ Kind, Message string }
}

func byName(r report) map[string]reportBudget {
	out := map[string]reportBudget{}
	for _, b := range r.Budgets {
		out[b.Name] = b
	}
	return out
}

func expectStatus(t *testing.T, b reportBudget, want string) {
	t.Helper()
	if b.Status != want || b.Error != nil {
		t.Errorf("%s: status %s (error %+v), want %s: %s", b.Name, b.Status, b.Error, want, b.Message)
	}
}

func expectResultCount(t *testing.T, b reportBudget, want int) {
	t.Helper()
	if len(b.Results) != want {
		t.Errorf("%s: %d results, want %d: %s", b.Name, len(b.Results), want, js(b.Results))
	}
}

// expectResult finds the result of subject for instance (any instance
// when ""), and checks its value, status and, when given, its note.
func expectResult(t *testing.T, b reportBudget, subject, instance string, value float64, status, note string) {
	t.Helper()
	for _, r := range b.Results {
		labels, _ := r["labels"].(map[string]any)
		if r["subject"] != subject || (instance != "" && labels["instance"] != instance) {
			continue
		}
		if v, ok := r["value"].(float64); !ok || v != value || r["status"] != status {
			t.Errorf("%s %s %s: value %v status %v, want %v %s", b.Name, subject, instance, r["value"], r["status"], value, status)
		}
		if n, _ := r["note"].(string); note != "" && n != note {
			t.Errorf("%s %s %s: note %q, want %q", b.Name, subject, instance, n, note)
		}
		return
	}
	t.Errorf("%s: no %s result for %q: %s", b.Name, subject, instance, js(b.Results))
}
