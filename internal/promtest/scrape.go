package promtest

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"time"
)

// defaultScrapeTimeout is Prometheus' global scrape_timeout; a job scraped
// more often gets its interval as its timeout, as Prometheus itself does.
const defaultScrapeTimeout = 10 * time.Second

// ScrapeJob is one scrape_configs entry with static targets. Only Name,
// Interval and Targets are required.
type ScrapeJob struct {
	// Name is the job_name, and so the job label of every target.
	Name string
	// Interval is the job's scrape_interval.
	Interval time.Duration
	// Timeout is the job's scrape_timeout; default the interval or 10s,
	// whichever is shorter. It may not exceed the interval.
	Timeout time.Duration
	// MetricsPath is the path scraped on every target; default /metrics.
	MetricsPath string
	// HonorLabels keeps the job and instance labels a target exposes
	// instead of renaming them exported_job, exported_instance.
	HonorLabels bool
	// Targets are host:port addresses on the loopback interface
	// (127.0.0.1, ::1 or localhost), e.g. an httptest server's Listener
	// address. A leading http:// (as in httptest.Server.URL) is dropped.
	Targets []string
	// Labels are added to every target of the job (static_configs labels).
	Labels map[string]string
}

// WithScrapeJob adds a scrape job: Prometheus scrapes /metrics of each
// target every interval, over plain HTTP. Targets are host:port (or
// http://host:port, as in httptest.Server.URL) on the loopback interface.
// Without any scrape job, Prometheus scrapes nothing and its head holds
// only what rules write.
func WithScrapeJob(job string, interval time.Duration, targets ...string) Option {
	return WithScrapeConfig(ScrapeJob{Name: job, Interval: interval, Targets: targets})
}

// WithScrapeConfig adds a scrape job described in full. Several jobs may be
// added; their names must differ.
func WithScrapeConfig(j ScrapeJob) Option {
	return func(s *settings) {
		j.Targets, j.Labels = slices.Clone(j.Targets), maps.Clone(j.Labels)
		s.scrapeJobs = append(s.scrapeJobs, j)
	}
}

// scrapeConfigs renders the scrape_configs section, or "" without jobs.
func scrapeConfigs(jobs []ScrapeJob) (string, error) {
	if len(jobs) == 0 {
		return "", nil
	}
	var b strings.Builder
	b.WriteString("scrape_configs:\n")
	seen := map[string]bool{}
	for _, j := range jobs {
		if j.Name == "" {
			return "", fmt.Errorf("scrape job: empty name")
		}
		if seen[j.Name] {
			return "", fmt.Errorf("scrape job %q added twice", j.Name)
		}
		seen[j.Name] = true
		if j.Interval <= 0 {
			return "", fmt.Errorf("scrape job %q: interval %s, want a positive duration", j.Name, j.Interval)
		}
		timeout := j.Timeout
		if timeout == 0 {
			timeout = min(j.Interval, defaultScrapeTimeout)
		}
		if timeout < 0 || timeout > j.Interval {
			return "", fmt.Errorf("scrape job %q: timeout %s, want a positive duration not over the interval %s", j.Name, timeout, j.Interval)
		}
		if len(j.Targets) == 0 {
			return "", fmt.Errorf("scrape job %q: no targets", j.Name)
		}
		path := j.MetricsPath
		if path == "" {
			path = "/metrics"
		}
		if !strings.HasPrefix(path, "/") {
			return "", fmt.Errorf("scrape job %q: metrics path %q does not start with /", j.Name, path)
		}
		// Quoted with %q: a Go-quoted string of printable characters is a
		// valid YAML double-quoted scalar.
		fmt.Fprintf(&b, "  - job_name: %q\n", j.Name)
		fmt.Fprintf(&b, "    scrape_interval: %s\n", promDuration(j.Interval))
		fmt.Fprintf(&b, "    scrape_timeout: %s\n", promDuration(timeout))
		fmt.Fprintf(&b, "    metrics_path: %q\n", path)
		if j.HonorLabels {
			b.WriteString("    honor_labels: true\n")
		}
		b.WriteString("    static_configs:\n      - targets:\n")
		for _, t := range j.Targets {
			addr, err := loopbackTarget(t)
			if err != nil {
				return "", fmt.Errorf("scrape job %q: %w", j.Name, err)
			}
			fmt.Fprintf(&b, "          - %q\n", addr)
		}
		if len(j.Labels) > 0 {
			b.WriteString("        labels:\n")
			for _, name := range slices.Sorted(maps.Keys(j.Labels)) {
				fmt.Fprintf(&b, "          %q: %q\n", name, j.Labels[name])
			}
		}
	}
	return b.String(), nil
}

// loopbackTarget checks that a target is host:port on the loopback
// interface, so that a test never makes Prometheus reach the network, and
// returns it without any http:// prefix.
func loopbackTarget(target string) (string, error) {
	addr := strings.TrimPrefix(target, "http://")
	if strings.Contains(addr, "/") {
		return "", fmt.Errorf("target %q: want host:port (the path is the job's metrics path)", target)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return "", fmt.Errorf("target %q: want host:port", target)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("target %q: not on the loopback interface; promtest scrapes only 127.0.0.1, ::1 or localhost", target)
	}
	return addr, nil
}
