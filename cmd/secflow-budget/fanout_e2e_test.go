package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// fanoutStub is a Prometheus that answers every instant query with one
// sample of value 1 after latency, and counts the requests per query.
type fanoutStub struct {
	*httptest.Server
	mu      sync.Mutex
	queries map[string]int
}

func fanoutStartStub(t testing.TB, latency time.Duration) *fanoutStub {
	t.Helper()
	s := &fanoutStub{queries: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if vmEngineProbe(w, r) {
			return
		}
		q := r.FormValue("query")
		s.mu.Lock()
		s.queries[r.URL.Path+" "+q]++
		s.mu.Unlock()
		time.Sleep(latency)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1764158400,"1"]}]}}`)
	}))
	t.Cleanup(s.Close)
	return s
}

// fanoutBudgets writes a budgets file of metric budgets, one per expr.
func fanoutBudgets(t testing.TB, exprs []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nbudgets:\n")
	for i, e := range exprs {
		fmt.Fprintf(&b, "  - name: b%02d\n    type: metric\n    expr: %s\n    max: 10\n", i, e)
	}
	p := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestFanoutSameQuerySharesOneRequest: budgets that ask the same query (at
// the run's one evaluation time) make one request between them, and each
// gets its verdict.
func TestFanoutSameQuerySharesOneRequest(t *testing.T) {
	stub := fanoutStartStub(t, 300*time.Millisecond) // long enough for all four to start on a busy machine
	file := fanoutBudgets(t, []string{"sum(up)", "sum(up)", "sum(up)", "sum(down)"})
	r := run(t, nil, "check", "--config", file, "--prometheus", stub.URL, "--format", "json")
	expectCode(t, r, 0)
	var rep report
	mustJSON(t, r.stdout, &rep)
	var got []string
	for _, b := range rep.Budgets {
		got = append(got, b.Name+" "+b.Status+" "+b.Message)
	}
	want := []string{"b00 pass 1 <= 10", "b01 pass 1 <= 10", "b02 pass 1 <= 10", "b03 pass 1 <= 10"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("budgets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	stub.mu.Lock()
	defer stub.mu.Unlock()
	wantQ := map[string]int{"/api/v1/query sum(up)": 1, "/api/v1/query sum(down)": 1}
	if fmt.Sprint(stub.queries) != fmt.Sprint(wantQ) {
		t.Errorf("the source saw %v, want %v", stub.queries, wantQ)
	}
}

// BenchmarkFanout measures 50 distinct live budgets against a source that
// takes 100 ms to answer, next to 1 budget in the same run, at the old
// default --concurrency 8, the default (20) and --concurrency 50. The goals
// (issue 10): 50/1 <= 3.2 at the default, <= 1.5 with --concurrency 50.
// Each figure is the fastest of a few runs of the binary: the machine is
// shared.
func BenchmarkFanout(b *testing.B) {
	const latency = 100 * time.Millisecond
	stub := fanoutStartStub(b, latency)
	one := fanoutBudgets(b, []string{"sum(q0)"})
	exprs := make([]string, 50)
	for i := range exprs {
		exprs[i] = fmt.Sprintf("sum(q%d)", i)
	}
	fifty := fanoutBudgets(b, exprs)
	home := b.TempDir()
	fastest := func(file string, extra ...string) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 5 {
			cmd := exec.Command(binary, append([]string{"check", "--config", file, "--prometheus", stub.URL}, extra...)...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home}
			start := time.Now()
			out, err := cmd.CombinedOutput()
			d := time.Since(start)
			if err != nil {
				b.Fatalf("%v: %s", err, out)
			}
			best = min(best, d)
		}
		return best
	}
	for b.Loop() {
		t1 := fastest(one)
		t8 := fastest(fifty, "--concurrency", "8")
		tDefault := fastest(fifty)
		t50 := fastest(fifty, "--concurrency", "50")
		b.ReportMetric(float64(t1.Milliseconds()), "ms/1-budget")
		b.ReportMetric(float64(t8)/float64(t1), "x-50vs1-c8")
		b.ReportMetric(float64(tDefault)/float64(t1), "x-50vs1-default")
		b.ReportMetric(float64(t50)/float64(t1), "x-50vs1-c50")
		b.Logf("fan-out, 100 ms source: 1 budget %v; 50 budgets: --concurrency 8 %v (%.2fx), default %v (%.2fx, goal <= 3.2x), --concurrency 50 %v (%.2fx, goal <= 1.5x)",
			t1.Round(time.Millisecond), t8.Round(time.Millisecond), float64(t8)/float64(t1),
			tDefault.Round(time.Millisecond), float64(tDefault)/float64(t1), t50.Round(time.Millisecond), float64(t50)/float64(t1))
	}
}
