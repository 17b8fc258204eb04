package prometheus

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
		"500": jsonAnswer(500, `{"status":"error","errorType":"internal","error":"storage broke"}`),
		"502 html": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
		},
		"429":         jsonAnswer(429, `slow down`),
		"dropped":     func(w http.ResponseWriter, _ *http.Request) { c, _, _ := w.(http.Hijacker).Hijack(); c.Close() },
		"503 timeout": jsonAnswer(503, `{"status":"error","errorType":"timeout","error":"query timed out"}`),
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeProm(t, httpclienttest.FailFirst(2, fail, jsonAnswer(200, vectorBody)))
			got, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), `up`, evalTime)
			if err != nil || len(got) != 2 {
				t.Fatalf("got %v, %v", got, err)
			}
			srv.mu.Lock()
			defer srv.mu.Unlock()
			// Two failures and the answer, each with the whole form.
			if len(srv.reqs) != 3 {
				t.Errorf("server saw %d requests, want 3", len(srv.reqs))
			}
			for _, r := range srv.reqs {
				if r.method != http.MethodPost || r.form.Get("query") != "up" {
					t.Errorf("request %s %v: the form body was not re-sent", r.method, r.form)
				}
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
		{"503", jsonAnswer(503, `{"status":"error","errorType":"unavailable","error":"no store"}`), sources.Unavailable, "answered HTTP 503 Service Unavailable: no store (after 4 attempts)"},
		{"429", jsonAnswer(429, `slow down`), sources.Unavailable, "rate limiting us: HTTP 429 Too Many Requests (after 4 attempts)"},
		{"401 not retried", jsonAnswer(401, `no`), sources.Unauthorized, "answered HTTP 401 Unauthorized: it requires authentication and no credentials are configured (set sources.prometheus.bearer_token_file, bearer_token_env, basic_auth or tenant)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) { n.Add(1); tt.handler(w, r) })
			_, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), `up`, evalTime)
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
	_, err := mustNew(t, &config.Source{URL: "http://" + addr}).Query(context.Background(), `up`, evalTime)
	wantKind(t, err, sources.Unavailable)
	if want := fmt.Sprintf("cannot reach http://%s: dial tcp %s: connect: connection refused (after 4 attempts)", addr, addr); !strings.HasSuffix(err.Error(), want) {
		t.Errorf("error %q, want it to end in %q", err, want)
	}
}
