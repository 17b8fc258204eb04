package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fault tests run the binary against servers on 127.0.0.1 that fail in
// the ways real deployments do, with a metric budget (Prometheus) and a log
// budget (Loki) in one run. Each fault must end in its documented exit code
// with a one-line reason on each budget's report line; never a panic, never
// exit 0 on a failure.

const faultAt = "2026-11-26T12:00:07Z"

// faultBudgets is a budgets.yaml with one budget per source; %s are the
// Prometheus and the Loki URL.
const faultBudgets = `version: 1
sources:
  prometheus:
    url: %s
    timeout: 30s
  loki:
    url: %s
    timeout: 30s
budgets:
  - name: up-count
    type: metric
    expr: sum(up)
    max: 10
  - name: log-volume
    type: log_volume
    selector: '{env="prod"}'
    by: [service]
    window: 5m
    per: 1h
    max: 100MB
`

// Good answers to the two budgets' queries: 1 target up; 1000 bytes of
// logs in 5 minutes.
const (
	promAnswer = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795694407,"1"]}]}}`
	lokiAnswer = `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"api"},"value":[1795694407,"1000"]}]}}`
)

// writeFaultBudgets writes faultBudgets for the two URLs into a temp dir.
func writeFaultBudgets(t *testing.T, promURL, lokiURL string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(path, fmt.Appendf(nil, faultBudgets, promURL, lokiURL), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// faultServer serves both APIs (/api/v1/query and /loki/api/v1/query).
// Each source's n-th request (from 0) is answered by fault(source, n, w, r)
// when it returns true, else with the good answer. It records when each
// source's requests arrived.
type faultServer struct {
	*httptest.Server
	fault func(source string, n int, w http.ResponseWriter, r *http.Request) bool

	mu   sync.Mutex
	hits map[string][]time.Time
}

func newFaultServer(t *testing.T, fault func(source string, n int, w http.ResponseWriter, r *http.Request) bool) *faultServer {
	t.Helper()
	f := &faultServer{fault: fault, hits: map[string][]time.Time{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	f.Config.ErrorLog = log.New(io.Discard, "", 0) // hijacked and cut connections are the point
	t.Cleanup(f.Close)
	return f
}

func (f *faultServer) serve(w http.ResponseWriter, r *http.Request) {
	if vmEngineProbe(w, r) {
		return
	}
	source, good := "prometheus", promAnswer
	if strings.HasPrefix(r.URL.Path, "/loki/") {
		source, good = "loki", lokiAnswer
	}
	f.mu.Lock()
	n := len(f.hits[source])
	f.hits[source] = append(f.hits[source], time.Now())
	f.mu.Unlock()
	if f.fault(source, n, w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, good)
}

func (f *faultServer) times(source string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.hits[source]...)
}

// checkFaults runs check on the two budgets against promURL and lokiURL.
func checkFaults(t *testing.T, promURL, lokiURL string, extra ...string) result {
	t.Helper()
	cfg := writeFaultBudgets(t, promURL, lokiURL)
	args := append([]string{"check", "-c", cfg, "--only", "up-count,log-volume", "--at", faultAt, "--no-color"}, extra...)
	return run(t, nil, args...)
}

// budgetLine returns the console line of budget name.
func budgetLine(t *testing.T, r result, name string) string {
	t.Helper()
	for _, line := range strings.Split(r.stdout, "\n") {
		if fields := strings.Fields(line); len(fields) >= 2 && fields[1] == name {
			return line
		}
	}
	t.Fatalf("no report line for %s:\n%s", name, r.stdout)
	return ""
}

// expectErrorLines asserts that both budgets are errors whose line says
// every one of wants.
func expectErrorLines(t *testing.T, r result, wants ...string) {
	t.Helper()
	for _, name := range []string{"up-count", "log-volume"} {
		line := budgetLine(t, r, name)
		if !strings.Contains(line, "💥") {
			t.Errorf("%s is not an error: %q", name, line)
		}
		for _, want := range wants {
			if !strings.Contains(line, want) {
				t.Errorf("%s: line %q does not say %q", name, line, want)
			}
		}
	}
}

func expectNoPanic(t *testing.T, r result) {
	t.Helper()
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Errorf("stderr shows a panic:\n%s", r.stderr)
	}
}

func TestFaultConnectionRefused(t *testing.T) {
	addr := closedAddr(t)
	r := checkFaults(t, "http://"+addr, "http://"+addr)
	expectCode(t, r, 3)
	expectNoPanic(t, r)
	expectErrorLines(t, r, "cannot reach http://"+addr, "connection refused (after 4 attempts)")
}

func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestFaultNeverAnswers(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // accept, read nothing, answer nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	url := "http://" + l.Addr().String()
	start := time.Now()
	r := checkFaults(t, url, url, "--timeout", "2s")
	expectCode(t, r, 4)
	expectNoPanic(t, r)
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the run took %s despite --timeout 2s", d)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "--timeout (2s) expired") {
		t.Errorf("stderr should be one line saying the run timed out:\n%s", r.stderr)
	}
	for _, name := range []string{"up-count", "log-volume"} {
		if line := budgetLine(t, r, name); !strings.Contains(line, "💥") {
			t.Errorf("%s: %q", name, line)
		}
	}
}

func TestFaultServerErrorThenSuccess(t *testing.T) {
	srv := newFaultServer(t, func(_ string, n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 0 {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "internal error\n")
			return true
		}
		return false
	})
	r := checkFaults(t, srv.URL, srv.URL)
	expectCode(t, r, 0)
	for _, name := range []string{"up-count", "log-volume"} {
		if line := budgetLine(t, r, name); !strings.Contains(line, "✅") {
			t.Errorf("%s did not pass: %q", name, line)
		}
	}
	for _, source := range []string{"prometheus", "loki"} {
		if n := len(srv.times(source)); n != 2 {
			t.Errorf("%s saw %d requests, want the failed one and its retry", source, n)
		}
	}
}

func TestFaultRateLimitedHonoursRetryAfter(t *testing.T) {
	srv := newFaultServer(t, func(_ string, n int, w http.ResponseWriter, _ *http.Request) bool {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, "too many outstanding requests\n")
			return true
		}
		return false
	})
	r := checkFaults(t, srv.URL, srv.URL)
	expectCode(t, r, 0)
	for _, source := range []string{"prometheus", "loki"} {
		times := srv.times(source)
		if len(times) != 2 {
			t.Fatalf("%s saw %d requests, want 2", source, len(times))
		}
		// Only a lower bound: a loaded machine may be slower, never faster.
		if gap := times[1].Sub(times[0]); gap < time.Second {
			t.Errorf("%s: the retry came %s after the 429, before its Retry-After of 1s", source, gap)
		}
	}
}

func TestFaultTruncatedJSON(t *testing.T) {
	srv := newFaultServer(t, func(source string, _ int, w http.ResponseWriter, _ *http.Request) bool {
		good := promAnswer
		if source == "loki" {
			good = lokiAnswer
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, good[:len(good)/2])
		return true
	})
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "report.json")
	r := checkFaults(t, srv.URL, srv.URL, "--report", "json="+jsonPath)
	expectCode(t, r, 3)
	expectNoPanic(t, r)
	expectErrorLines(t, r, "unreadable response from "+srv.URL)
	expectErrorKinds(t, jsonPath, "bad_response")
	for _, source := range []string{"prometheus", "loki"} {
		if n := len(srv.times(source)); n != 1 {
			t.Errorf("%s saw %d requests: a 200 must not be retried", source, n)
		}
	}
}

// expectErrorKinds asserts that every budget of the JSON report is an
// error of kind.
func expectErrorKinds(t *testing.T, path, kind string) {
	t.Helper()
	rep := readReport(t, path)
	if len(rep.Budgets) != 2 {
		t.Fatalf("report holds %d budgets, want 2", len(rep.Budgets))
	}
	for _, b := range rep.Budgets {
		if b.Status != "error" || b.Error == nil || b.Error.Kind != kind {
			t.Errorf("%s: status %s, error %+v; want kind %s", b.Name, b.Status, b.Error, kind)
		}
	}
}

func TestFaultHTMLInsteadOfJSON(t *testing.T) {
	const page = `<!DOCTYPE html><html><head><title>Sign in to Example SSO</title></head><body><form action="/login">secret-form-marker</form></body></html>`
	srv := newFaultServer(t, func(_ string, _ int, w http.ResponseWriter, _ *http.Request) bool {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
		return true
	})
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "report.json")
	r := checkFaults(t, srv.URL, srv.URL, "--report", "json="+jsonPath)
	expectCode(t, r, 3)
	expectNoPanic(t, r)
	expectErrorLines(t, r, "unreadable response from "+srv.URL, "text/html")
	expectErrorKinds(t, jsonPath, "bad_response")
	report, _ := os.ReadFile(jsonPath)
	for _, out := range []string{r.stdout, r.stderr, string(report)} {
		for _, piece := range []string{"<html", "Sign in", "secret-form-marker"} {
			if strings.Contains(out, piece) {
				t.Errorf("the HTML page leaked into the output (%q):\n%s", piece, out)
			}
		}
	}
}

// TestFaultHugeResponse answers 50 MB, once declared in Content-Length and
// once streamed without it: the size cap (16 MiB) must stop the read, so
// the process never holds the whole body.
func TestFaultHugeResponse(t *testing.T) {
	const size = 50_000_000
	for _, declared := range []bool{true, false} {
		name := map[bool]string{true: "content-length", false: "streamed"}[declared]
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var written []int64 // per response
			srv := newFaultServer(t, func(_ string, _ int, w http.ResponseWriter, _ *http.Request) bool {
				w.Header().Set("Content-Type", "application/json")
				if declared {
					w.Header().Set("Content-Length", fmt.Sprint(size))
				}
				chunk := []byte(`{"metric":{"job":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},"value":[1795694407,"1"]},`)
				n, _ := io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[`)
				body := int64(n)
				defer func() {
					mu.Lock()
					written = append(written, body)
					mu.Unlock()
				}()
				for body < size-int64(len(chunk)) {
					n, err := w.Write(chunk)
					body += int64(n)
					if err != nil {
						return true // the client hung up
					}
				}
				return true
			})
			dir := t.TempDir()
			jsonPath := filepath.Join(dir, "report.json")
			r := checkFaults(t, srv.URL, srv.URL, "--report", "json="+jsonPath)
			expectCode(t, r, 3)
			expectNoPanic(t, r)
			expectErrorLines(t, r, "response too large", "16 MiB limit")
			expectErrorKinds(t, jsonPath, "bad_response")
			// The client stopped reading at the cap: the server got rid of
			// no more than that plus what socket buffers hold (a few MB on
			// loopback), far from the 50 MB it meant to send.
			srv.Close() // waits for the handlers
			mu.Lock()
			defer mu.Unlock()
			if len(written) != 2 {
				t.Fatalf("the server answered %d requests, want 2 (a 200 is not retried)", len(written))
			}
			for _, w := range written {
				if w > 40_000_000 {
					t.Errorf("the server wrote %d bytes of a response: the client read on past its cap", w)
				}
			}
		})
	}
}
