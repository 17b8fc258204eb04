package loki

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

// configYAML is the shape of Loki 3.x's GET /config (an excerpt: the real
// one is some 1,500 lines).
func configYAML(retentionPeriod, retentionEnabled string) string {
	return `target: all
auth_enabled: true
server:
  http_listen_port: 3100
compactor:
  working_directory: /loki/compactor
  compaction_interval: 10m
  retention_enabled: ` + retentionEnabled + `
  retention_delete_delay: 2h
limits_config:
  ingestion_rate_mb: 4
  max_query_lookback: 0s
  retention_period: ` + retentionPeriod + `
  retention_stream: []
`
}

func TestRetentionPeriod(t *testing.T) {
	const day = 24 * time.Hour
	tests := []struct {
		name string
		body string
		want time.Duration
	}{
		{"7 days in hours", configYAML("168h", "true"), 7 * day},
		{"as Loki prints 31 days", configYAML("4w3d", "true"), 31 * day},
		{"days", configYAML("7d", "true"), 7 * day},
		{"0s: retention disabled, kept forever", configYAML("0s", "true"), 0},
		{"compactor retention off: kept forever whatever the period", configYAML("168h", "false"), 0},
		{"no retention_period: Loki's default 0", "limits_config:\n  ingestion_rate_mb: 4\ncompactor:\n  retention_enabled: true\n", 0},
		{"no compactor section: the period as is", "limits_config:\n  retention_period: 720h\n", 30 * day},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLoki(t, answer(200, "text/plain; charset=utf-8", tt.body))
			c := mustNew(t, &config.Source{URL: srv.URL + "/loki-base", Tenant: "secflow"})
			got, err := c.RetentionPeriod(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("retention = %s, want %s", got, tt.want)
			}
			req := srv.last(t)
			if req.method != http.MethodGet || req.path != "/loki-base/config" {
				t.Errorf("request %s %s", req.method, req.path)
			}
			if req.header.Get("X-Scope-OrgID") != "secflow" {
				t.Errorf("tenant header = %q", req.header.Get("X-Scope-OrgID"))
			}
		})
	}
}

func TestRetentionPeriodErrors(t *testing.T) {
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		kind     sources.Kind
		contains string
	}{
		{"404 names /config", answer(404, "text/plain", "404 page not found"), sources.BadResponse, "404 Not Found to /config: is this the base URL of Loki"},
		{"401", answer(401, "text/plain", "no org id"), sources.Unauthorized, "401"},
		{"html login page", answer(200, "text/html", "<html><body>Sign in</body></html>"), sources.BadResponse, "text/html"},
		{"not YAML", answer(200, "text/plain", "limits_config: [unclosed"), sources.BadResponse, "not Loki's YAML configuration"},
		{"some other document", answer(200, "application/json", `{"status":"success","data":{}}`), sources.BadResponse, "no limits_config or compactor section"},
		{"bad duration", answer(200, "text/plain", configYAML("a week", "true")), sources.BadResponse, `retention_period "a week" is not a duration`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFakeLoki(t, tt.handler)
			c := mustNew(t, &config.Source{URL: srv.URL})
			_, err := c.RetentionPeriod(context.Background())
			wantKind(t, err, tt.kind)
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not contain %q", err, tt.contains)
			}
			if strings.Contains(err.Error(), "<html>") {
				t.Errorf("error %q quotes the body", err)
			}
		})
	}
}

func TestRetentionPeriodTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	srv := newFakeLoki(t, hang(release))
	c := mustNew(t, &config.Source{URL: srv.URL, Timeout: 100 * time.Millisecond})
	_, err := c.RetentionPeriod(context.Background())
	se := wantKind(t, err, sources.Timeout)
	if se.Err.Error() != "GET /config timed out after 100ms" {
		t.Errorf("message = %q", se.Err.Error())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.RetentionPeriod(ctx); err == nil || !strings.Contains(err.Error(), "abandoned") {
		t.Errorf("cancelled: err = %v", err)
	}
}
