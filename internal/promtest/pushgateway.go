package promtest

import (
	"fmt"
	"os/exec"
	"testing"
	"time"
)

// Pushgateway is a running Prometheus Pushgateway (Debian's
// prometheus-pushgateway), in memory only, on a free port of 127.0.0.1. It
// is stopped by the test's cleanup. Scrape it with
// WithScrapeConfig(pg.ScrapeJob(...)).
type Pushgateway struct {
	// URL is the base URL, e.g. http://127.0.0.1:38211.
	URL string
	srv *Server
}

// StartPushgateway starts a Pushgateway and waits until it is ready. It
// fails the test when the binary is missing (skips it under -short).
func StartPushgateway(t testing.TB) *Pushgateway {
	t.Helper()
	bin := PushgatewayBinary(t)
	srv := &Server{name: "pushgateway", log: newLogBuffer(), done: make(chan struct{})}
	srv.cmd = exec.Command(bin,
		// Port 0 and the logged address, as for Prometheus.
		"--web.listen-address=127.0.0.1:0",
		// Nothing on disk: the package's default is /var/lib/prometheus.
		"--persistence.file=",
		"--log.level=info",
		"--log.format=logfmt",
	)
	srv.cmd.Stdout = srv.log
	srv.cmd.Stderr = srv.log
	if err := srv.cmd.Start(); err != nil {
		t.Fatalf("promtest: starting %s: %v", bin, err)
	}
	go func() {
		srv.exitErr = srv.cmd.Wait()
		close(srv.done)
	}()
	t.Cleanup(srv.stop)
	if err := srv.waitReady(defaultReadyTimeout); err != nil {
		t.Fatalf("promtest: %v\n--- pushgateway log (last %d lines) ---\n%s", err, logTailLines, srv.log.tail())
	}
	return &Pushgateway{URL: srv.URL, srv: srv}
}

// ScrapeJob is a job that scrapes the Pushgateway every interval and keeps
// the pushed job and instance labels (honor_labels), as a Pushgateway
// must be scraped.
func (p *Pushgateway) ScrapeJob(name string, interval time.Duration) ScrapeJob {
	return ScrapeJob{Name: name, Interval: interval, HonorLabels: true, Targets: []string{p.URL}}
}

// Log returns the last lines the Pushgateway logged, for failure messages.
func (p *Pushgateway) Log() string { return p.srv.log.tail() }

// PushgatewayBinary returns the path of prometheus-pushgateway, or fails
// the test when there is none (skips it under -short).
func PushgatewayBinary(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("prometheus-pushgateway")
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("prometheus-pushgateway not found on PATH (%v): install Debian's package `prometheus-pushgateway` "+
		"(apt-get install --no-install-recommends prometheus-pushgateway, or scripts/ensure-prometheus.sh)", err)
	if testing.Short() {
		t.Skipf("promtest: %s; skipped under -short", msg)
	}
	t.Fatalf("promtest: %s (or run with -short to skip the tests that need it)", msg)
	return ""
}
