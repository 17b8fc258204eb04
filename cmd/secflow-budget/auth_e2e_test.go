package main

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/lokitest"
	"github.com/secflow/secflow-budget/internal/promtest"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// The auth tests put the real Prometheus of promtest (and the Loki test
// server) behind gates that demand credentials, a tenant or TLS, as
// production deployments do, and run the binary with and without the
// matching source configuration: accepted with it, refused with a clear
// one-line error (exit 3) without it, and no secret ever in stdout, stderr
// or any report file.

const (
	authAt = "2026-11-26T12:00:07Z"

	// The secrets. Each is distinctive, so that finding it in an output
	// can only mean it leaked.
	bearerToken = "e2e-bearer-token-7f3c9a1d"
	wrongToken  = "e2e-wrong-token-5b2e0c"
	basicUser   = "secflow-ci"
	basicPass   = "e2e-basic-pass-91c4d7"
	wrongPass   = "e2e-wrong-pass-33aa6f"
	tenant      = "secflow"
)

// allSecrets are the strings no output may hold: the passwords and tokens,
// and the Authorization header values made of them.
var allSecrets = []string{
	bearerToken, wrongToken, basicPass, wrongPass,
	basicHeader(basicUser, basicPass), basicHeader(basicUser, wrongPass),
}

func basicHeader(user, pw string) string {
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pw))
}

// promBudgets and lokiBudgets are SecFlow's budgets of budgets.yaml that
// pass on testdata/snapshots/healthy at authAt, one source each.
const promBudgets = `  - name: core-metrics
    type: metrics_present
    metrics:
      - secflow_requests_total
      - secflow_request_duration_seconds
      - secflow_task_duration_seconds
      - secflow_scan_duration_seconds
      - secflow_findings_total
      - secflow_gc_runs_total
      - secflow_gc_reclaimed_bytes_total
      - secflow_sandbox_failures_total
      - secflow_queue_depth
  - name: task-duration
    type: latency
    histogram: secflow_task_duration_seconds
    selector: '{job="worker"}'
    window: 1h
    percentiles: {p95: 300s, p99: 600s}
`

const lokiBudgets = `  - name: log-volume
    type: log_volume
    selector: '{env="prod"}'
    by: [service]
    window: 5m
    per: 1h
    max: 100MB
  - name: log-levels
    type: log_levels
    selector: '{env="prod"}'
    by: [service]
    parser: json
    level_field: level
    max_share: {WARNING: 25%, ERROR: 10%, CRITICAL: 5%}
`

// authCase is one run: the source settings to add under sources.NAME (YAML
// lines indented by four spaces), the environment, and what must come out.
type authCase struct {
	name     string
	settings string
	env      []string
	url      string // overrides the gate's URL when set
	code     int
	// line must appear on every budget's report line: the reason of a
	// refusal.
	line string
}

// secretFiles writes the secrets to files and returns their paths.
type secretFiles struct {
	token, wrongToken, pass, wrongPass string
}

func writeSecrets(t *testing.T) secretFiles {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		// A trailing newline, as editors and `echo` leave it.
		if err := os.WriteFile(path, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	return secretFiles{
		token:      write("token", bearerToken),
		wrongToken: write("wrong-token", wrongToken),
		pass:       write("password", basicPass),
		wrongPass:  write("wrong-password", wrongPass),
	}
}

// runAuthCase writes budgets.yaml for source (prometheus or loki) at url
// with c's settings, runs check with every report format, and asserts the
// exit code, the reason on each budget's line, and that no secret is in any
// output.
func runAuthCase(t *testing.T, source, url string, c authCase) {
	t.Helper()
	if c.url != "" {
		url = c.url
	}
	budgets, only := promBudgets, "core-metrics,task-duration"
	if source == "loki" {
		budgets, only = lokiBudgets, "log-volume,log-levels"
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "budgets.yaml")
	text := fmt.Sprintf("version: 1\nsources:\n  %s:\n    url: %s\n    timeout: 20s\n%sbudgets:\n%s", source, url, c.settings, budgets)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	reports := map[string]string{
		"json":     filepath.Join(dir, "report.json"),
		"junit":    filepath.Join(dir, "report.xml"),
		"markdown": filepath.Join(dir, "report.md"),
	}
	args := []string{"check", "-c", cfg, "--only", only, "--at", authAt, "--no-color"}
	for format, path := range reports {
		args = append(args, "--report", format+"="+path)
	}
	r := run(t, c.env, args...)
	expectCode(t, r, c.code)
	expectNoPanic(t, r)

	outputs := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	for format, path := range reports {
		b, err := os.ReadFile(path)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s report: %v (%d bytes)", format, err, len(b))
		}
		outputs[format+" report"] = string(b)
	}
	for name, out := range outputs {
		for _, secret := range allSecrets {
			if strings.Contains(out, secret) {
				t.Errorf("%s holds the secret %q:\n%s", name, secret, out)
			}
		}
	}
	if strings.Count(r.stderr, "\n") > 1 {
		t.Errorf("stderr has more than one line:\n%s", r.stderr)
	}
	for _, name := range strings.Split(only, ",") {
		line := budgetLine(t, r, name)
		want := "✅"
		if c.code != 0 {
			want = "💥"
		}
		if !strings.Contains(line, want) || !strings.Contains(line, c.line) {
			t.Errorf("%s: line %q, want %s and %q", name, line, want, c.line)
		}
	}
}

// gate is a reverse proxy in front of backend that lets a request through
// only when allow says so; a refused request gets 401 with a text body that
// says refusal and echoes the Authorization header it got, as careless
// gateways do, so that a client quoting error bodies would leak it.
func gate(t *testing.T, backend string, allow func(*http.Request) bool, refusal string, tlsConfig *tls.Config) string {
	t.Helper()
	target, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow != nil && !allow(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="secflow"`)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, "%s (got Authorization %q)\n", refusal, r.Header.Get("Authorization"))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	if tlsConfig != nil {
		srv.TLS = tlsConfig
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.URL
}

func bearerGate(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bearer "+bearerToken
}

func basicGate(r *http.Request) bool {
	u, p, ok := r.BasicAuth()
	return ok && u == basicUser && p == basicPass
}

func tenantGate(r *http.Request) bool {
	return r.Header.Get("X-Scope-OrgID") == tenant
}

// pki is httpclienttest's CA, server and client certificates, with the
// gate's TLS settings.
type pki struct{ *httpclienttest.PKI }

func newPKI(t *testing.T) pki { return pki{httpclienttest.NewPKI(t)} }

// serverTLS is the gate's TLS: the server certificate, and with
// requireClient, a client certificate signed by the CA.
func (p pki) serverTLS(requireClient bool) *tls.Config {
	c := &tls.Config{Certificates: []tls.Certificate{p.Server}, MinVersion: tls.VersionTLS12}
	if requireClient {
		c.ClientAuth = tls.RequireAndVerifyClientCert
		c.ClientCAs = p.Pool
	}
	return c
}

// authVariants are the gates both sources are tested behind, in front of
// backend: bearer token, basic auth, tenant header, TLS, mutual TLS; and
// the runs against each.
func authVariants(t *testing.T, source, backend string, secrets secretFiles, p pki) map[string]struct {
	url   string
	cases []authCase
} {
	t.Helper()
	const badCredentials, noTenant = "invalid credentials", "no org id" // as Mimir and Loki say it
	// What each source makes of the gates' 401: client_golang keeps only
	// the status; Loki's client quotes a text body, scrubbed, with a hint
	// when it is Loki's "no org id".
	// Without any credentials configured, the refusal says that the
	// server wants some, and which fields to set (issue 7, item 21).
	refused := "refused our credentials: HTTP 401 Unauthorized"
	anonymous := "answered HTTP 401 Unauthorized: it requires authentication and no credentials are configured (set sources.prometheus.bearer_token_file, bearer_token_env, basic_auth or tenant)"
	tenantRefused := "answered HTTP 401 Unauthorized: no org id (Mimir and Cortex run with multi-tenancy: set sources.prometheus.tenant, sent as the X-Scope-OrgID header)"
	if source == "loki" {
		refused = "refused the request: 401 Unauthorized: invalid credentials (got Authorization"
		anonymous = "it requires authentication and no credentials are configured (set sources.loki.bearer_token_file, bearer_token_env, basic_auth or tenant)"
		tenantRefused = "401 Unauthorized: no org id (got Authorization \"\") (Loki runs with auth enabled: set sources.loki.tenant"
	}
	return map[string]struct {
		url   string
		cases []authCase
	}{
		"bearer": {gate(t, backend, bearerGate, badCredentials, nil), []authCase{
			{name: "token file", settings: "    bearer_token_file: " + secrets.token + "\n", code: 0},
			{name: "token env", settings: "    bearer_token_env: SECFLOW_E2E_TOKEN\n", env: []string{"SECFLOW_E2E_TOKEN=" + bearerToken}, code: 0},
			{name: "no token", code: 3, line: anonymous},
			{name: "wrong token", settings: "    bearer_token_file: " + secrets.wrongToken + "\n", code: 3, line: refused},
		}},
		"basic": {gate(t, backend, basicGate, badCredentials, nil), []authCase{
			{name: "password file", settings: "    basic_auth:\n      username: " + basicUser + "\n      password_file: " + secrets.pass + "\n", code: 0},
			{name: "password env", settings: "    basic_auth: {username: " + basicUser + ", password_env: SECFLOW_E2E_PASSWORD}\n", env: []string{"SECFLOW_E2E_PASSWORD=" + basicPass}, code: 0},
			{name: "no password", code: 3, line: anonymous},
			{name: "wrong password", settings: "    basic_auth: {username: " + basicUser + ", password_file: " + secrets.wrongPass + "}\n", code: 3, line: refused},
		}},
		"tenant": {gate(t, backend, tenantGate, noTenant, nil), []authCase{
			{name: "tenant", settings: "    tenant: " + tenant + "\n", code: 0},
			{name: "header", settings: "    headers: {X-Scope-OrgID: " + tenant + "}\n", code: 0},
			{name: "no tenant", code: 3, line: tenantRefused},
		}},
		"tls": {gate(t, backend, nil, "", p.serverTLS(false)), []authCase{
			{name: "ca file", settings: "    tls: {ca_file: " + p.CAFile + "}\n", code: 0},
			{name: "no ca", code: 3, line: "x509: certificate signed by unknown authority"},
		}},
		"mtls": {gate(t, backend, nil, "", p.serverTLS(true)), []authCase{
			{name: "client cert", settings: "    tls: {ca_file: " + p.CAFile + ", cert_file: " + p.CertFile + ", key_file: " + p.KeyFile + "}\n", code: 0},
			{name: "no client cert", settings: "    tls: {ca_file: " + p.CAFile + "}\n", code: 3, line: "certificate required"},
		}},
	}
}

func TestAuthPrometheus(t *testing.T) {
	prom := promtest.Start(t, filepath.Join(repo, "testdata", "snapshots", "healthy", "metrics.om"))
	secrets := writeSecrets(t)
	p := newPKI(t)
	variants := authVariants(t, "prometheus", prom.URL, secrets, p)
	// Basic auth from the URL's userinfo (SECFLOW_PROMETHEUS_URL): the
	// password must not reach the report's target line either.
	basic := variants["basic"]
	u, _ := url.Parse(basic.url)
	u.User = url.UserPassword(basicUser, basicPass)
	basic.cases = append(basic.cases, authCase{name: "url userinfo", env: []string{"SECFLOW_PROMETHEUS_URL=" + u.String()}, code: 0})
	variants["basic"] = basic
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			for _, c := range v.cases {
				t.Run(c.name, func(t *testing.T) { runAuthCase(t, "prometheus", v.url, c) })
			}
		})
	}
}

func TestAuthLoki(t *testing.T) {
	logs := filepath.Join(repo, "testdata", "snapshots", "healthy", "logs.jsonl")
	secrets := writeSecrets(t)
	p := newPKI(t)

	// Loki's own refusals, from the Loki test server: a gateway's 401 for
	// missing credentials, Loki's "no org id" for a missing tenant.
	const unauthorized = "refused the request: 401 Unauthorized"
	const anonymous = "answered 401 Unauthorized: Unauthorized: it requires authentication and no credentials are configured (set sources.loki.bearer_token_file, bearer_token_env, basic_auth or tenant)"
	bearer := lokitest.Start(t, lokitest.WithJSONL(logs), lokitest.WithBearerToken(bearerToken))
	basic := lokitest.Start(t, lokitest.WithJSONL(logs), lokitest.WithBasicAuth(basicUser, basicPass))
	tenanted := lokitest.Start(t, lokitest.WithJSONL(logs), lokitest.WithAuth())
	for name, v := range map[string]struct {
		url   string
		cases []authCase
	}{
		"lokitest bearer": {bearer.URL, []authCase{
			{name: "token file", settings: "    bearer_token_file: " + secrets.token + "\n", code: 0},
			{name: "token env", settings: "    bearer_token_env: SECFLOW_E2E_TOKEN\n", env: []string{"SECFLOW_E2E_TOKEN=" + bearerToken}, code: 0},
			{name: "no token", code: 3, line: anonymous},
			{name: "wrong token", settings: "    bearer_token_file: " + secrets.wrongToken + "\n", code: 3, line: unauthorized},
		}},
		"lokitest basic": {basic.URL, []authCase{
			{name: "password file", settings: "    basic_auth: {username: " + basicUser + ", password_file: " + secrets.pass + "}\n", code: 0},
			{name: "password env", settings: "    basic_auth: {username: " + basicUser + ", password_env: SECFLOW_E2E_PASSWORD}\n", env: []string{"SECFLOW_E2E_PASSWORD=" + basicPass}, code: 0},
			{name: "no password", code: 3, line: anonymous},
			{name: "wrong password", settings: "    basic_auth: {username: " + basicUser + ", password_env: SECFLOW_E2E_PASSWORD}\n", env: []string{"SECFLOW_E2E_PASSWORD=" + wrongPass}, code: 3, line: unauthorized},
		}},
		"lokitest tenant": {tenanted.URL, []authCase{
			{name: "tenant", settings: "    tenant: " + lokitest.DefaultTenant + "\n", code: 0},
			{name: "header", settings: "    headers: {X-Scope-OrgID: " + lokitest.DefaultTenant + "}\n", code: 0},
			{name: "no tenant", code: 3, line: "401 Unauthorized: no org id (Loki runs with auth enabled: set sources.loki.tenant"},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			for _, c := range v.cases {
				t.Run(c.name, func(t *testing.T) { runAuthCase(t, "loki", v.url, c) })
			}
		})
	}

	// The same gates as for Prometheus, in front of an open Loki. Loki's
	// client quotes text error bodies, and these gates echo the
	// Authorization header they got: the secret must still not show.
	open := lokitest.Start(t, lokitest.WithJSONL(logs))
	for name, v := range authVariants(t, "loki", open.URL, secrets, p) {
		t.Run(name, func(t *testing.T) {
			for _, c := range v.cases {
				t.Run(c.name, func(t *testing.T) { runAuthCase(t, "loki", v.url, c) })
			}
		})
	}
}
