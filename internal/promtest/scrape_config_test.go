package promtest

import (
	"strings"
	"testing"
	"time"
)

func TestConfigWithoutScrapeJobsUnchanged(t *testing.T) {
	got, err := config(settings{evalInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if want := "global:\n  evaluation_interval: 60s\n"; got != want {
		t.Errorf("config = %q, want %q", got, want)
	}
}

func TestConfigScrapeJobs(t *testing.T) {
	var s settings
	s.evalInterval = time.Minute
	WithScrapeJob("api", time.Second, "http://127.0.0.1:4001", "127.0.0.1:4002")(&s)
	WithScrapeConfig(ScrapeJob{
		Name: "worker", Interval: 30 * time.Second, MetricsPath: "/custom/metrics", HonorLabels: true,
		Targets: []string{"localhost:4003", "[::1]:4004"}, Labels: map[string]string{"zone": "b", "team": "a"}},
	)(&s)
	got, err := config(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `global:
  evaluation_interval: 60s
scrape_configs:
  - job_name: "api"
    scrape_interval: 1s
    scrape_timeout: 1s
    metrics_path: "/metrics"
    static_configs:
      - targets:
          - "127.0.0.1:4001"
          - "127.0.0.1:4002"
  - job_name: "worker"
    scrape_interval: 30s
    scrape_timeout: 10s
    metrics_path: "/custom/metrics"
    honor_labels: true
    static_configs:
      - targets:
          - "localhost:4003"
          - "[::1]:4004"
        labels:
          "team": "a"
          "zone": "b"
`
	if got != want {
		t.Errorf("config:\n%s\nwant:\n%s", got, want)
	}
}

func TestConfigScrapeJobErrors(t *testing.T) {
	for _, tc := range []struct {
		job  ScrapeJob
		want string
	}{
		{ScrapeJob{Interval: time.Second, Targets: []string{"127.0.0.1:1"}}, "empty name"},
		{ScrapeJob{Name: "a", Targets: []string{"127.0.0.1:1"}}, "interval 0s"},
		{ScrapeJob{Name: "a", Interval: time.Second}, "no targets"},
		{ScrapeJob{Name: "a", Interval: time.Second, Timeout: 2 * time.Second, Targets: []string{"127.0.0.1:1"}}, "not over the interval 1s"},
		{ScrapeJob{Name: "a", Interval: time.Second, Targets: []string{"example.com:80"}}, "not on the loopback interface"},
		{ScrapeJob{Name: "a", Interval: time.Second, Targets: []string{"10.0.0.1:80"}}, "not on the loopback interface"},
		{ScrapeJob{Name: "a", Interval: time.Second, Targets: []string{"127.0.0.1"}}, "want host:port"},
		{ScrapeJob{Name: "a", Interval: time.Second, Targets: []string{"http://127.0.0.1:1/metrics"}}, "want host:port (the path"},
		{ScrapeJob{Name: "a", Interval: time.Second, Targets: []string{"https://127.0.0.1:1"}}, "want host:port"},
		{ScrapeJob{Name: "a", Interval: time.Second, MetricsPath: "metrics", Targets: []string{"127.0.0.1:1"}}, "does not start with /"},
	} {
		var s settings
		WithScrapeConfig(tc.job)(&s)
		if _, err := config(s); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one containing %q", tc.job, err, tc.want)
		}
	}
	var s settings
	WithScrapeJob("a", time.Second, "127.0.0.1:1")(&s)
	WithScrapeJob("a", time.Second, "127.0.0.1:2")(&s)
	if _, err := config(s); err == nil || !strings.Contains(err.Error(), `"a" added twice`) {
		t.Errorf("duplicate job: error %v", err)
	}
}
