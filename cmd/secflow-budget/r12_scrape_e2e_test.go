package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/vmtest"
)

// TestR12VMScrape: a scrape budget runs live against a VictoriaMetrics
// that scrapes its targets itself (-promscrape.config): an up target with
// its interval and samples, and a down one with VictoriaMetrics' error.
func TestR12VMScrape(t *testing.T) {
	exporter := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "# TYPE secflow_queue_depth gauge\nsecflow_queue_depth{queue=\"default\"} 5\nsecflow_queue_depth{queue=\"batch\"} 3\n")
	}))
	t.Cleanup(exporter.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()

	dir := t.TempDir()
	scrapeCfg := filepath.Join(dir, "scrape.yml")
	cfg := fmt.Sprintf(`scrape_configs:
  - job_name: api
    scrape_interval: 1s
    static_configs: [{targets: [%q]}]
  - job_name: worker
    scrape_interval: 1s
    static_configs: [{targets: [%q]}]
`, strings.TrimPrefix(exporter.URL, "http://"), dead)
	if err := os.WriteFile(scrapeCfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	budgets := filepath.Join(dir, "budgets.yaml")
	if err := os.WriteFile(budgets, []byte(`version: 1
budgets:
  - name: scrape-targets
    type: scrape
    job: [api, worker]
    interval: 1s
    max_samples: 100
`), 0o644); err != nil {
		t.Fatal(err)
	}
	vm := vmtest.StartWith(t, []vmtest.Option{vmtest.WithFlags("-promscrape.config=" + scrapeCfg)})

	var r result
	var rep vmReport
	got := map[string]string{}
	// VictoriaMetrics reports a target's health once it scraped it, and
	// its scrape_samples_scraped once its buffers are searchable.
	for deadline := time.Now().Add(20 * time.Second); ; {
		vm.Flush(t)
		r = run(t, nil, "check", "-c", budgets, "--prometheus", vm.URL, "--format", "json")
		rep = vmReport{}
		mustJSON(t, r.stdout, &rep)
		clear(got)
		for _, b := range rep.Budgets {
			for _, res := range b.Results {
				labels, _ := res["labels"].(map[string]any)
				got[fmt.Sprintf("%v %v", labels["job"], res["subject"])] = fmt.Sprintf("%v %v", res["value"], res["status"])
			}
		}
		if (got["api samples"] != "<nil> fail" && strings.Contains(r.stdout, "connection refused")) || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	expectCode(t, r, 1)
	if len(rep.Sources) != 1 || rep.Sources[0].Engine != "victoriametrics" {
		t.Errorf("sources %+v, want VictoriaMetrics", rep.Sources)
	}
	b := rep.Budgets[0]
	if b.Status != "fail" || b.Error != nil {
		t.Fatalf("status %s, error %+v; want fail (worker down)\n%s", b.Status, b.Error, r.stdout)
	}
	for key, want := range map[string]string{
		"api up":       "1 pass",
		"api interval": "1 pass",
		"api samples":  "2 pass",
		"worker up":    "0 fail",
	} {
		if got[key] != want {
			t.Errorf("%s: %q, want %q (all: %v)\n%s", key, got[key], want, got, r.stdout)
		}
	}
	// VictoriaMetrics' own words for the down target.
	want := "down: error when scraping \"http://" + dead + "/metrics\": dial tcp4 " + dead + ": connect: connection refused"
	found := false
	for _, res := range b.Results {
		note, _ := res["note"].(string)
		found = found || (res["subject"] == "up" && strings.HasPrefix(note, want))
	}
	if !found {
		t.Errorf("the down target's note is not %q...:\n%s", want, r.stdout)
	}
}
