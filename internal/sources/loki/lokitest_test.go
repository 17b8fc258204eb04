package loki

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/logql"
	"github.com/secflow/secflow-budget/internal/lokitest"
	"github.com/secflow/secflow-budget/internal/sources"
)

// sharedLogs is what was pushed to the real Loki 3.7.6 whose answers the
// repository keeps in testdata/loki.
var sharedLogs = filepath.Join("..", "..", "..", "testdata", "loki", "logs.jsonl")

func sharedServer(t *testing.T, opts ...lokitest.Option) *lokitest.Server {
	t.Helper()
	path, _ := filepath.Abs(sharedLogs)
	es, err := lokitest.ReadJSONL(path)
	if err != nil {
		t.Fatalf("recorded Loki data missing (testdata/loki belongs to the repository): %v", err)
	}
	return lokitest.Start(t, append([]lokitest.Option{lokitest.WithEntries(es)}, opts...)...)
}

func byService(t *testing.T, v model.Vector) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, s := range v {
		out[string(s.Metric["service"])] = float64(s.Value)
	}
	return out
}

func TestAgainstLokitestValues(t *testing.T) {
	srv := sharedServer(t)
	c := mustNew(t, &config.Source{URL: srv.URL})
	ctx := context.Background()

	// The numbers Loki 3.7.6 gave (testdata/loki/README.md).
	got, err := c.Query(ctx, `sum by (service) (bytes_over_time({service=~"api|worker|scanner"}[1h]))`, evalTime)
	if err != nil {
		t.Fatal(err)
	}
	if m := byService(t, got); len(m) != 3 || m["api"] != 96949 || m["worker"] != 46503 || m["scanner"] != 34459 {
		t.Errorf("bytes by service: %v", m)
	}
	got, err = c.Query(ctx, `sum(count_over_time({service=~"api|worker|scanner"}[1h]))`, evalTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != 1231 || len(got[0].Metric) != 0 {
		t.Errorf("count: %v", got)
	}
	// The window's edges to the nanosecond: T-1h is out, T-1h+1ns in.
	for marker, want := range map[string]int{"edge:T-1h:0": 0, "edge:T-1h:+1ns": 3, "edge:T:0": 3, "edge:T:+1ns": 0} {
		got, err := c.Query(ctx, fmt.Sprintf(`sum(count_over_time({service=~"api|worker|scanner"} |= %q [1h]))`, marker), evalTime)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		if len(got) == 1 {
			n = int(got[0].Value)
		}
		if n != want {
			t.Errorf("%s: %d lines, want %d", marker, n, want)
		}
	}
	if ts := srv.LastRequest(t).Form.Get("time"); ts != "1795718400000000000" {
		t.Errorf("time sent as %q", ts)
	}
}

func TestAgainstLokitestErrors(t *testing.T) {
	srv := sharedServer(t)
	c := mustNew(t, &config.Source{URL: srv.URL})
	ctx := context.Background()

	_, err := c.Query(ctx, `sum by (service) (bytes_over_time({service="api"}[1h])`, evalTime)
	se := wantKind(t, err, sources.BadQuery)
	if want := "400 Bad Request: parse error at line 1, col 55: syntax error: unexpected $end"; se.Err.Error() != want {
		t.Errorf("message %q, want %q", se.Err, want)
	}
	_, err = c.Query(ctx, `sum by (service, level) (count_over_time({service="scanner"} | json [1h]))`, evalTime)
	se = wantKind(t, err, sources.BadQuery)
	if !strings.HasPrefix(se.Err.Error(), "400 Bad Request: pipeline error: 'JSONParserErr'") {
		t.Errorf("message %q", se.Err)
	}
}

func TestAgainstLokitestTenant(t *testing.T) {
	srv := sharedServer(t, lokitest.WithAuth())
	const q = `sum by (service) (bytes_over_time({service=~"api|worker|scanner"}[1h]))`
	ctx := context.Background()

	_, err := mustNew(t, &config.Source{URL: srv.URL}).Query(ctx, q, evalTime)
	se := wantKind(t, err, sources.Unauthorized)
	if !strings.Contains(se.Error(), "401 Unauthorized: no org id") || !strings.Contains(se.Error(), "sources.loki.tenant") {
		t.Errorf("message %q", se)
	}

	got, err := mustNew(t, &config.Source{URL: srv.URL, Tenant: "fake"}).Query(ctx, q, evalTime)
	if err != nil || len(got) != 3 {
		t.Errorf("tenant fake: %v, %v", got, err)
	}
	if h := srv.LastRequest(t).Header.Values("X-Scope-OrgID"); len(h) != 1 || h[0] != "fake" {
		t.Errorf("X-Scope-OrgID = %q", h)
	}
	got, err = mustNew(t, &config.Source{URL: srv.URL, Tenant: "secflow"}).Query(ctx, q, evalTime)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("tenant secflow: %#v, %v; want an empty vector", got, err)
	}
}

func TestAgainstLokitestCredentials(t *testing.T) {
	t.Setenv("SECFLOW_TEST_LOKI_TOKEN", "gateway-token-123")
	t.Setenv("SECFLOW_TEST_LOKI_PW", "gateway-pw-456")
	srv := lokitest.Start(t, lokitest.WithBearerToken("gateway-token-123"), lokitest.WithBasicAuth("alice", "gateway-pw-456"))
	ctx := context.Background()
	for name, src := range map[string]*config.Source{
		"bearer": {URL: srv.URL, BearerTokenEnv: "SECFLOW_TEST_LOKI_TOKEN"},
		"basic":  {URL: srv.URL, BasicAuth: &config.BasicAuth{Username: "alice", PasswordEnv: "SECFLOW_TEST_LOKI_PW"}},
	} {
		if _, err := mustNew(t, src).Query(ctx, `sum(count_over_time({a="b"}[1h]))`, evalTime); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	_, err := mustNew(t, &config.Source{URL: srv.URL}).Query(ctx, `sum(count_over_time({a="b"}[1h]))`, evalTime)
	wantKind(t, err, sources.Unauthorized)
}

// TestBytesReadAreOGroups shows that a live log budget reads a few hundred
// bytes whatever the log volume: Loki aggregates, the client receives one
// sample per group.
func TestBytesReadAreOGroups(t *testing.T) {
	const n = 300
	const q = `sum by (service) (bytes_over_time({service=~".+"}[1h]))`
	line := strings.Repeat("x", 200)
	read := func(scale int) (int64, model.Vector) {
		var es []logql.Entry
		for _, svc := range []string{"api", "worker", "scanner"} {
			for i := range n * scale / 3 {
				es = append(es, logql.Entry{
					TS:     evalTime.Add(-time.Duration(i+1) * time.Millisecond).UnixNano(),
					Labels: map[string]string{"service": svc, "env": "prod"},
					Line:   line,
				})
			}
		}
		srv := lokitest.Start(t, lokitest.WithEntries(es))
		c := mustNew(t, &config.Source{URL: srv.URL})
		v, err := c.Query(context.Background(), q, evalTime)
		if err != nil {
			t.Fatal(err)
		}
		if c.BytesRead() != srv.BytesWritten() {
			t.Errorf("client read %d bytes, server wrote %d", c.BytesRead(), srv.BytesWritten())
		}
		return c.BytesRead(), v
	}
	small, v1 := read(1)
	large, v100 := read(100)
	if len(v1) != 3 || len(v100) != 3 {
		t.Fatalf("groups: %v / %v", v1, v100)
	}
	if got := byService(t, v100)["api"]; got != float64(n*100/3*len(line)) {
		t.Errorf("api bytes = %v, want %d", got, n*100/3*len(line))
	}
	t.Logf("%d entries: %d bytes read; %d entries: %d bytes read", n, small, 100*n, large)
	if small > 2048 || large > 2048 {
		t.Errorf("read %d and %d bytes, want under 2 KiB", small, large)
	}
	// Only the values' digits grow: two per group.
	if d := large - small; d < 0 || d > 8 {
		t.Errorf("100 times the logs read %d more bytes", d)
	}
}
