package promtest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/promtest"
)

// exposition holds 3 samples; the custom path adds a fourth series that
// names its own job.
const (
	exposition = `# HELP promtest_requests_total Requests.
# TYPE promtest_requests_total counter
promtest_requests_total{code="200"} 7
promtest_requests_total{code="500"} 1
# HELP promtest_queue_depth Queue depth.
# TYPE promtest_queue_depth gauge
promtest_queue_depth 3
`
	customExposition = exposition + `# HELP promtest_info Info.
# TYPE promtest_info gauge
promtest_info{job="exposed"} 1
`
)

func TestStartWithScrapeJobs(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		switch r.URL.Path {
		case "/metrics":
			w.Write([]byte(exposition))
		case "/custom/metrics":
			w.Write([]byte(customExposition))
		default:
			http.NotFound(w, r)
		}
	}))
	defer ok.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "broken on purpose", http.StatusInternalServerError)
	}))
	defer broken.Close()

	srv := promtest.StartWith(t, []promtest.Option{
		promtest.WithScrapeJob("demo", time.Second, ok.URL, broken.URL),
		promtest.WithScrapeConfig(promtest.ScrapeJob{
			Name: "custom", Interval: time.Second, MetricsPath: "/custom/metrics", HonorLabels: true,
			Targets: []string{ok.Listener.Addr().String()}, Labels: map[string]string{"team": "platform"},
		}),
	})

	// Prometheus hands static targets to its scrape loops within about 5s,
	// which then scrape every second: poll, bounded, until all three
	// targets report their health and their scrape metrics are stored
	// (a target's health shows a moment before its samples are committed).
	deadline := time.Now().Add(60 * time.Second)
	var health map[string]string
	var now time.Time
	samples := map[string]float64{}
	for {
		health = targetHealth(t, srv.URL)
		now = time.Now()
		clear(samples)
		for _, s := range srv.Query(t, `scrape_samples_scraped`, now) {
			samples[s.Labels["job"]+" "+s.Labels["instance"]] = s.Value
		}
		if len(samples) == 3 && health["demo "+host(ok.URL)] == "up" && health["demo "+host(broken.URL)] == "down" && health["custom "+host(ok.URL)] == "up" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s: targets %v, want demo up and down, custom up; scrape_samples_scraped %v\n%s", health, samples, srv.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}

	want := map[string]float64{"demo " + host(ok.URL): 3, "demo " + host(broken.URL): 0, "custom " + host(ok.URL): 4}
	for k, v := range want {
		if got, found := samples[k]; !found || got != v {
			t.Errorf("scrape_samples_scraped of %s = %v (found %v), want %v; all: %v", k, got, found, v, samples)
		}
	}
	if got := srv.QueryValue(t, `sum(up{job="demo"})`, now); got != 1 {
		t.Errorf(`sum(up{job="demo"}) = %v, want 1`, got)
	}
	// honor_labels keeps the exposed job label; the static labels are
	// added to every series of the job.
	if got := srv.QueryValue(t, `promtest_info{job="exposed", team="platform"}`, now); got != 1 {
		t.Errorf("promtest_info with honored job = %v, want 1", got)
	}
	if got := srv.QueryValue(t, `promtest_queue_depth{job="demo"}`, now); got != 3 {
		t.Errorf("promtest_queue_depth = %v, want 3", got)
	}
}

func host(url string) string { return url[len("http://"):] }

// targetHealth is "job instance" → health of every active target.
func targetHealth(t *testing.T, base string) map[string]string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/targets?state=active")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Data struct {
			ActiveTargets []struct {
				Labels map[string]string `json:"labels"`
				Health string            `json:"health"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, a := range body.Data.ActiveTargets {
		out[a.Labels["job"]+" "+a.Labels["instance"]] = a.Health
	}
	return out
}
