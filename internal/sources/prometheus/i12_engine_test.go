package prometheus

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
)

// vmUnsupported answers as Debian's VictoriaMetrics 1.79 answers a path it
// does not serve: 400, text/plain, its own words (with our address, and
// here a token a proxy echoed, which must be masked).
func vmUnsupported(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Server-Hostname", "vm")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "remoteAddr: %q; requestURI: %s?access_token=s3cr3t-token; unsupported path requested: %q\n", "127.0.0.1:55526", r.URL.Path, r.URL.Path)
}

func TestStateEndpoint4xxNamesPathAndQuotesServer(t *testing.T) {
	srv := newFakeProm(t, vmUnsupported)
	c := mustNew(t, &config.Source{URL: srv.URL})
	ctx := context.Background()
	_, err := c.Runtimeinfo(ctx)
	if err == nil {
		t.Fatal("Runtimeinfo: no error from a 400")
	}
	want := fmt.Sprintf(`prometheus: %s answered HTTP 400 Bad Request to /api/v1/status/runtimeinfo: "remoteAddr: \"127.0.0.1:55526\"; requestURI: /api/v1/status/runtimeinfo?access_token=%s; unsupported path requested: \"/api/v1/status/runtimeinfo\""`, srv.URL, secret.Mask)
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
	if k := sources.KindOf(err); k != sources.BadResponse {
		t.Errorf("kind %v, want bad_response", k)
	}
	// The raw body the snapshot command records fails the same way.
	_, err = c.StateBody(ctx, "/api/v1/status/runtimeinfo")
	if err == nil || err.Error() != want {
		t.Errorf("StateBody error\n got %v\nwant %s", err, want)
	}
}

func TestEngineAskedOnce(t *testing.T) {
	srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Server-Hostname", "vm")
		jsonAnswer(200, `{"status":"success","data":{}}`)(w, r)
	})
	c := mustNew(t, &config.Source{URL: srv.URL})
	for range 3 {
		e, why := c.Engine(context.Background())
		if e != (sources.Engine{Name: sources.EngineVictoriaMetrics}) || why != "" {
			t.Errorf("Engine = %+v, %q", e, why)
		}
	}
	if n := len(srv.reqs); n != 1 || srv.reqs[0].path != "/api/v1/status/buildinfo" {
		t.Errorf("requests %+v, want one GET /api/v1/status/buildinfo", srv.reqs)
	}
}

func TestEngineUnrecognisedFallsBackToTSDBStatus(t *testing.T) {
	for _, tc := range []struct {
		tsdb string
		want sources.Engine
		why  string
	}{
		{`{"status":"success","data":{"totalSeries":3,"totalLabelValuePairs":9,"seriesCountByMetricName":[]}}`, sources.Engine{Name: sources.EngineVictoriaMetrics}, ""},
		{`{"status":"success","data":{"headStats":{"numSeries":3}}}`, sources.Engine{Name: sources.EngineUnknown}, "GET /api/v1/status/buildinfo answered no build information"},
	} {
		srv := newFakeProm(t, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/v1/status/tsdb" {
				jsonAnswer(200, tc.tsdb)(w, r)
				return
			}
			// Build information of no shape we know.
			jsonAnswer(200, `{"status":"success","data":{"build":"x"}}`)(w, r)
		})
		c := mustNew(t, &config.Source{URL: srv.URL})
		e, why := c.Engine(context.Background())
		if e != tc.want || why != tc.why {
			t.Errorf("Engine = %+v, %q; want %+v, %q", e, why, tc.want, tc.why)
		}
	}
}

func TestEngineNoBuildinfoAsksNothingMore(t *testing.T) {
	srv := newFakeProm(t, http.NotFound)
	c := mustNew(t, &config.Source{URL: srv.URL})
	e, why := c.Engine(context.Background())
	if e.Name != sources.EngineUnknown || why != "GET /api/v1/status/buildinfo answered HTTP 404 Not Found" {
		t.Errorf("Engine = %+v, %q", e, why)
	}
	if len(srv.reqs) != 1 {
		t.Errorf("%d requests, want only buildinfo: %+v", len(srv.reqs), srv.reqs)
	}
}

// TestEngineVersionEchoingTheCredentialIsMasked: a buildinfo version
// that echoes the source's password, with a control character or a run
// of spaces in it, is masked before it is made one line; masking after
// would no longer find the password, and print it with a space in it.
func TestEngineVersionEchoingTheCredentialIsMasked(t *testing.T) {
	t.Setenv("SECFLOW_TEST_PROM_PW", "open  sesame-77")
	for _, version := range []string{`3.0 open  sesame-77`, `3.0 open  sesame-77\u0000`, `3.0\nopen  sesame-77\r`} {
		srv := newFakeProm(t, jsonAnswer(200, `{"status":"success","data":{"version":"`+version+`","revision":"r","goVersion":"go1.23"}}`))
		c := mustNew(t, &config.Source{URL: srv.URL, BasicAuth: &config.BasicAuth{Username: "ci", PasswordEnv: "SECFLOW_TEST_PROM_PW"}})
		e, why := c.Engine(context.Background())
		if e.Name != sources.EnginePrometheus || why != "" {
			t.Fatalf("%s: Engine = %+v, %q", version, e, why)
		}
		if strings.Contains(e.Version, "sesame") || e.Version != "3.0 "+secret.Mask {
			t.Errorf("%s: version %q, want %q", version, e.Version, "3.0 "+secret.Mask)
		}
	}
}
