package loki

import (
	"context"
	"fmt"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

func TestServerErrorsAreRetried(t *testing.T) {
	for name, fail := range map[string]http.HandlerFunc{
		"500":     answer(500, textType, "rpc error: code = Unavailable desc = ingester down\n"),
		"502":     answer(502, "text/html", "<html>bad gateway</html>"),
		"504":     answer(504, textType, "context deadline exceeded"),
		"429":     answer(429, textType, "too many outstanding requests\n"),
		"dropped": func(w http.ResponseWriter, _ *http.Request) { c, _, _ := w.(http.Hijacker).Hijack(); c.Close() },
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeLoki(t, httpclienttest.FailFirst(2, fail, answer(200, jsonType, vectorBody)))
			got, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), `sum by (service) (bytes_over_time({a="b"}[1h]))`, evalTime)
			if err != nil || len(got) != 3 {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestGivingUpSaysHowOften(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		kind    sources.Kind
		want    string
	}{
		{"503", answer(503, textType, "Ingester not ready\n"), sources.Unavailable, "answered 503 Service Unavailable: Ingester not ready (after 4 attempts)"},
		{"429", answer(429, textType, "too many outstanding requests\n"), sources.Unavailable, "rate limiting us: 429 Too Many Requests: too many outstanding requests (after 4 attempts)"},
		{"504", answer(504, textType, "context deadline exceeded"), sources.Timeout, "timed out the query: 504 Gateway Timeout: context deadline exceeded (after 4 attempts)"},
		{"400 not retried", answer(400, textType, "parse error at line 1, col 2"), sources.BadQuery, "400 Bad Request: parse error at line 1, col 2"},
		{"401 not retried", answer(401, textType, "no org id"), sources.Unauthorized, "401 Unauthorized: no org id (Loki runs with auth enabled: set sources.loki.tenant, sent as the X-Scope-OrgID header)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := newFakeLoki(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1); tt.handler(w, r) })
			_, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), `x`, evalTime)
			wantKind(t, err, tt.kind)
			if !strings.HasSuffix(err.Error(), tt.want) {
				t.Errorf("error %q does not end in %q", err, tt.want)
			}
			wantN := int32(4)
			if !strings.Contains(tt.want, "attempts") {
				wantN = 1
			}
			if n.Load() != wantN {
				t.Errorf("server saw %d requests, want %d", n.Load(), wantN)
			}
		})
	}
	addr := httpclienttest.ClosedPort(t)
	_, err := mustNew(t, &config.Source{URL: "http://" + addr}).Query(context.Background(), `x`, evalTime)
	wantKind(t, err, sources.Unavailable)
	if want := fmt.Sprintf("cannot reach http://%s: dial tcp %s: connect: connection refused (after 4 attempts)", addr, addr); !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q, want it to end in %q", err, want)
	}
}
