package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
)

// runCLI runs the command line in-process with the given environment.
func runCLI(t *testing.T, env map[string]string, terminal bool, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, IO{
		Out: &out, Err: &errb, StdoutIsTerminal: terminal,
		Getenv: func(k string) string { return env[k] },
		Now:    func() time.Time { return time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC) },
	})
	return code, out.String(), errb.String()
}

func TestVerdict(t *testing.T) {
	o := func(ss ...checks.Status) []checks.Outcome {
		var out []checks.Outcome
		for _, s := range ss {
			out = append(out, checks.Outcome{Status: s})
		}
		return out
	}
	tests := []struct {
		name     string
		outcomes []checks.Outcome
		timedOut bool
		failOn   checks.Status
		want     int
	}{
		{"all pass", o(checks.Pass, checks.Skip), false, checks.Fail, ExitOK},
		{"warnings allowed", o(checks.Pass, checks.Warn), false, checks.Fail, ExitOK},
		{"warnings fail with --fail-on warn", o(checks.Pass, checks.Warn), false, checks.Warn, ExitViolation},
		{"violation", o(checks.Fail, checks.Pass), false, checks.Fail, ExitViolation},
		{"violation beats source error", o(checks.Error, checks.Fail), false, checks.Fail, ExitViolation},
		{"violation beats timeout", o(checks.Error, checks.Fail), true, checks.Fail, ExitViolation},
		{"source error", o(checks.Error, checks.Pass), false, checks.Fail, ExitSource},
		{"timeout beats source error", o(checks.Error), true, checks.Fail, ExitTimeout},
	}
	for _, tt := range tests {
		if got := verdict(tt.outcomes, tt.timedOut, tt.failOn); got != tt.want {
			t.Errorf("%s: verdict = %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestColorAndEmoji(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		terminal  bool
		noColor   bool
		noEmoji   bool
		wantColor bool
		wantEmoji bool
	}{
		{"terminal", map[string]string{"LANG": "en_US.UTF-8"}, true, false, false, true, true},
		{"pipe", map[string]string{"LANG": "en_US.UTF-8"}, false, false, false, false, true},
		{"NO_COLOR", map[string]string{"NO_COLOR": "1"}, true, false, false, false, true},
		{"--no-color", nil, true, true, false, false, true},
		{"TERM=dumb", map[string]string{"TERM": "dumb"}, true, false, false, false, true},
		{"LANG=C", map[string]string{"LANG": "C"}, true, false, false, true, false},
		{"LC_ALL wins over LANG", map[string]string{"LC_ALL": "C.UTF-8", "LANG": "C"}, true, false, false, true, true},
		{"--no-emoji", nil, false, false, true, false, false},
	}
	for _, tt := range tests {
		o := &checkOptions{io: IO{StdoutIsTerminal: tt.terminal, Getenv: func(k string) string { return tt.env[k] }}, noColor: tt.noColor, noEmoji: tt.noEmoji}
		if got := o.color(); got != tt.wantColor {
			t.Errorf("%s: color = %v, want %v", tt.name, got, tt.wantColor)
		}
		if got := o.emoji(); got != tt.wantEmoji {
			t.Errorf("%s: emoji = %v, want %v", tt.name, got, tt.wantEmoji)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-11-26T12:00:07Z":      time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC),
		"2026-11-26T13:00:07+01:00": time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC),
		"1795694407":                time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC),
		"1795694407.5":              time.Date(2026, 11, 26, 12, 0, 7, 5e8, time.UTC),
	} {
		got, err := parseTime(in)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseTime("yesterday"); err == nil {
		t.Error("parseTime(yesterday) gave no error")
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"check", "--formt", "json"}, "error: unknown flag: --formt"},
		{[]string{"check", "--format", "xml"}, `error: --format: unknown report format "xml"`},
		{[]string{"check", "--fail-on", "error"}, `error: --fail-on: invalid value "error": want fail or warn`},
		{[]string{"check", "--concurrency", "0"}, "error: --concurrency: must be at least 1"},
		{[]string{"check", "--report", "junit"}, `error: --report: invalid value "junit": want FORMAT=FILE`},
		{[]string{"check", "--prometheus", "localhost:9090"}, `error: --prometheus: invalid URL "localhost:9090"`},
		{[]string{"check", "extra"}, `error: check takes no arguments, got "extra"`},
		{[]string{"check", "-c", "nope.yaml"}, "error: nope.yaml: file not found"},
		{[]string{"check", "-c", "../../budgets.yaml", "--only", "nope"}, `error: --only: no budget or tag named "nope"`},
		{[]string{"bogus"}, `error: unknown command "bogus"`},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, nil, false, tt.args...)
		if code != ExitUsage || !strings.HasPrefix(stderr, tt.want) || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 2 and stderr starting %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
}

func TestNoPrometheusConfigured(t *testing.T) {
	code, _, stderr := runCLI(t, nil, false, "check", "-c", "testdata/no-sources.yaml")
	if code != ExitUsage || !strings.Contains(stderr, "no Prometheus to ask: set --prometheus URL, SECFLOW_PROMETHEUS_URL") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestPrometheusURLPrecedence: the flag beats the environment, which beats
// the file.
func TestPrometheusURLPrecedence(t *testing.T) {
	var hitsA, hitsB atomic.Int32
	answer := func(n *atomic.Int32) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/query" { // not the engine's buildinfo
				n.Add(1)
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1795694407,"3"]}]}}`))
		}
	}
	a := httptest.NewServer(answer(&hitsA))
	defer a.Close()
	b := httptest.NewServer(answer(&hitsB))
	defer b.Close()
	env := map[string]string{"SECFLOW_PROMETHEUS_URL": a.URL}
	code, stdout, stderr := runCLI(t, env, false, "check", "-c", "testdata/no-sources.yaml")
	if code != ExitOK || hitsA.Load() != 1 || hitsB.Load() != 0 {
		t.Fatalf("env: exit %d, hits %d/%d\n%s%s", code, hitsA.Load(), hitsB.Load(), stdout, stderr)
	}
	code, _, _ = runCLI(t, env, false, "check", "-c", "testdata/no-sources.yaml", "--prometheus", b.URL)
	if code != ExitOK || hitsA.Load() != 1 || hitsB.Load() != 1 {
		t.Fatalf("flag: exit %d, hits %d/%d", code, hitsA.Load(), hitsB.Load())
	}
}

func TestListShowsQueries(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, false, "list", "-c", "../../budgets.yaml")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		"task-duration latency, performance",
		`  promql: histogram_quantile(0.95, sum by (le) (rate(secflow_task_duration_seconds_bucket{job="worker"}[1h])))`,
		`  promql: count({__name__=~"secflow_.*"})`,
		`  promql: topk(5, count by (__name__) ({__name__=~"secflow_.*"}))  # only when the budget is over its limit`,
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list output lacks %q:\n%s", want, stdout)
		}
	}
}

func TestVersion(t *testing.T) {
	code, stdout, _ := runCLI(t, nil, false, "version")
	if code != ExitOK || !strings.HasPrefix(stdout, "secflow-budget dev (commit unknown, go1.") {
		t.Errorf("exit %d, %q", code, stdout)
	}
}
