package promtest_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/promtest"
)

// TestPushgatewayAcceptsAPush: the harness' Pushgateway takes a PUT of the
// text format and serves it on /metrics with the grouping labels, and is
// gone after the test.
func TestPushgatewayAcceptsAPush(t *testing.T) {
	var pg *promtest.Pushgateway
	t.Run("push", func(t *testing.T) {
		pg = promtest.StartPushgateway(t)
		req, err := http.NewRequest(http.MethodPut, pg.URL+"/metrics/job/harness/branch/main",
			strings.NewReader("# TYPE harness_value gauge\nharness_value{k=\"v\"} 42\n"))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusAccepted {
			t.Fatalf("PUT answered %s\n%s", resp.Status, pg.Log())
		}
		resp, err = http.Get(pg.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		const want = `harness_value{branch="main",instance="",job="harness",k="v"} 42`
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s:\n%s", want, body)
		}
		if job := pg.ScrapeJob("pg", time.Second); !job.HonorLabels || len(job.Targets) != 1 || job.Targets[0] != pg.URL {
			t.Errorf("ScrapeJob = %+v", job)
		}
	})
	client := &http.Client{Timeout: time.Second}
	if resp, err := client.Get(pg.URL + "/-/ready"); err == nil {
		resp.Body.Close()
		t.Errorf("the Pushgateway at %s still answers after its test ended", pg.URL)
	}
}
