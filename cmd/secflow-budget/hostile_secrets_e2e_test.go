package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The hostile secrets tests (issue 7, items 13-16) run the binary with
// credentials in every place a user may put them (URL userinfo, query
// parameters, custom headers, token files) and with files that are not
// what they claim to be, and grep everything it writes (stdout, stderr,
// report files, snapshot files) for the secrets. Every secret is
// distinctive, holding "SECRET", so that finding one can only mean a leak.

// secretsWriteFile writes content to dir/name and returns the path.
func secretsWriteFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// secretsOutputs is everything a run wrote: stdout, stderr, and every
// file under paths (files or directories), by name.
func secretsOutputs(t *testing.T, r result, paths ...string) map[string]string {
	t.Helper()
	out := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if os.IsNotExist(err) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[path] = string(b)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// secretsExpectNoLeak fails when any output holds "SECRET" or one of
// more.
func secretsExpectNoLeak(t *testing.T, outs map[string]string, more ...string) {
	t.Helper()
	names := make([]string, 0, len(outs))
	for n := range outs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, s := range append([]string{"SECRET"}, more...) {
			if strings.Contains(outs[n], s) {
				t.Errorf("%s holds the secret %q:\n%s", n, s, outs[n])
			}
		}
	}
}

// secretsExpectIn fails unless some output holds each of wants.
func secretsExpectIn(t *testing.T, outs map[string]string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		found := false
		for _, o := range outs {
			if strings.Contains(o, w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no output holds %q; outputs:\n%v", w, outs)
		}
	}
}

const secretsBudgets = `version: 1
budgets:
  - name: up
    type: metric
    expr: up
    min: 1
  - name: api-logs
    type: log_volume
    selector: '{service="api"}'
    max: 100MB
`

// TestHostileSecretsSchemelessURL: a URL without a scheme is a
// configuration error (exit 2) that shows the URL with its password
// masked, whether it comes from a flag, the environment or budgets.yaml.
func TestHostileSecretsSchemelessURL(t *testing.T) {
	dir := t.TempDir()
	cfg := secretsWriteFile(t, dir, "budgets.yaml", secretsBudgets)
	const bad = "ci:Pw-SECRET-a1@prom.example:9090"
	inFile := secretsWriteFile(t, dir, "in-file.yaml", "version: 1\nsources:\n  prometheus:\n    url: '"+bad+"'\n"+strings.TrimPrefix(secretsBudgets, "version: 1\n"))
	out := filepath.Join(dir, "snap")
	tests := []struct {
		name string
		env  []string
		args []string
		want string // on stderr
	}{
		{"--prometheus", nil, []string{"check", "-c", cfg, "--prometheus", bad}, `--prometheus: invalid URL "xxxxx@prom.example:9090"`},
		{"--loki", nil, []string{"check", "-c", cfg, "--loki", "ci:Pw-SECRET-a1@loki.example:3100", "--prometheus", "http://127.0.0.1:1"}, `--loki: invalid URL "xxxxx@loki.example:3100"`},
		{"SECFLOW_PROMETHEUS_URL", []string{"SECFLOW_PROMETHEUS_URL=" + bad}, []string{"check", "-c", cfg}, `SECFLOW_PROMETHEUS_URL: invalid URL "xxxxx@prom.example:9090"`},
		{"SECFLOW_LOKI_URL", []string{"SECFLOW_LOKI_URL=ci:Pw-SECRET-a1@loki.example:3100", "SECFLOW_PROMETHEUS_URL=http://127.0.0.1:1"}, []string{"check", "-c", cfg}, `SECFLOW_LOKI_URL: invalid URL "xxxxx@loki.example:3100"`},
		{"snapshot --prometheus", nil, []string{"snapshot", "-c", cfg, "--out", out, "--prometheus", bad}, `invalid URL "xxxxx@prom.example:9090"`},
		{"snapshot env", []string{"SECFLOW_PROMETHEUS_URL=" + bad}, []string{"snapshot", "-c", cfg, "--out", out}, `invalid URL "xxxxx@prom.example:9090"`},
		{"budgets.yaml validate", nil, []string{"validate", "-c", inFile}, `sources.prometheus.url: invalid URL "xxxxx@prom.example:9090"`},
		{"budgets.yaml check", nil, []string{"check", "-c", inFile}, `sources.prometheus.url: invalid URL "xxxxx@prom.example:9090"`},
		// A password holding an unescaped '/': the URL does not parse.
		{"slash in password", nil, []string{"check", "-c", cfg, "--prometheus", "http://ci:Pw/SECRET-a1@prom.example:9090"}, `invalid URL "http://xxxxx@prom.example:9090"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.env, tt.args...)
			expectCode(t, r, 2)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			secretsExpectNoLeak(t, secretsOutputs(t, r, out), "Pw-")
		})
	}
}

// TestHostileSecretsQueryCredentials: credential query parameters of the
// source URLs and of an endpoint budget's URL are masked in list, in every
// report format and in every error.
func TestHostileSecretsQueryCredentials(t *testing.T) {
	dir := t.TempDir()
	addr := closedAddr(t)
	cfg := secretsWriteFile(t, dir, "budgets.yaml", secretsBudgets+`  - name: api-metrics
    type: endpoint
    url: http://`+addr+`/metrics?sig=QS-SECRET-b3&Signature=QS-SECRET-b4&x=1
    max_bytes: 1MB
`)
	prom := "http://ci:QS-SECRET-b0@" + addr + "/prom?token=QS-SECRET-b1&ACCESS_TOKEN=QS-SECRET-b5&x=1"
	lokiURL := "http://" + addr + "/loki?api_key=QS-SECRET-b2&apikey=QS-SECRET-b6&Key=QS-SECRET-b7&password=QS-SECRET-b8&secret=QS-SECRET-b9"

	list := run(t, nil, "list", "-c", cfg)
	expectCode(t, list, 0)
	want := "GET http://" + addr + "/metrics?sig=xxxxx&Signature=xxxxx&x=1"
	if !strings.Contains(list.stdout, want) {
		t.Errorf("list lacks %q:\n%s", want, list.stdout)
	}
	secretsExpectNoLeak(t, secretsOutputs(t, list))

	reports := filepath.Join(dir, "reports")
	if err := os.Mkdir(reports, 0o755); err != nil {
		t.Fatal(err)
	}
	r := run(t, []string{"SECFLOW_LOKI_URL=" + lokiURL}, "check", "-c", cfg, "--prometheus", prom,
		"--report", "json="+filepath.Join(reports, "r.json"),
		"--report", "junit="+filepath.Join(reports, "r.xml"),
		"--report", "markdown="+filepath.Join(reports, "r.md"),
		"--report", "github="+filepath.Join(reports, "r.github"))
	expectCode(t, r, 3)
	outs := secretsOutputs(t, r, reports)
	if len(outs) != 6 {
		t.Errorf("want stdout, stderr and 4 reports, got %d outputs", len(outs))
	}
	secretsExpectNoLeak(t, outs)
	// The console names the sources, masked; the errors name them too.
	secretsExpectIn(t, outs,
		"http://xxxxx@"+addr+"/prom?token=xxxxx&ACCESS_TOKEN=xxxxx&x=1",
		"http://"+addr+"/loki?api_key=xxxxx&apikey=xxxxx&Key=xxxxx&password=xxxxx&secret=xxxxx",
		"http://"+addr+"/metrics?sig=xxxxx&Signature=xxxxx&x=1")
	var rep report
	mustJSON(t, outs[filepath.Join(reports, "r.json")], &rep)
	for _, b := range rep.Budgets {
		if b.Status != "error" {
			t.Errorf("%s: status %s, want error (the port is closed)", b.Name, b.Status)
		}
	}
}

// secretsRecorder is an HTTP server that records the headers of every
// request it gets.
type secretsRecorder struct {
	mu   sync.Mutex
	seen []http.Header
	srv  *httptest.Server
}

func secretsRecordingServer(t *testing.T) *secretsRecorder {
	rec := &secretsRecorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.seen = append(rec.seen, r.Header.Clone())
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

func (r *secretsRecorder) requests() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]http.Header(nil), r.seen...)
}

// secretsSourcesYAML configures both sources at url with a bearer token
// from the environment and a custom header holding a secret.
func secretsSourcesYAML(url string) string {
	return `sources:
  prometheus:
    url: ` + url + `
    bearer_token_env: SECFLOW_E2E_HOSTILE_TOKEN
    headers: {X-Api-Key: HDR-SECRET-c1}
    retries: 0
  loki:
    url: ` + url + `
    bearer_token_env: SECFLOW_E2E_HOSTILE_TOKEN
    headers: {X-Api-Key: HDR-SECRET-c1}
    retries: 0
`
}

const secretsToken = "BEARER-SECRET-c2"

// TestHostileSecretsRedirect: a Prometheus, Loki or /metrics endpoint
// that redirects to another host (localhost instead of 127.0.0.1) gets no
// request followed there: the other host sees nothing, so neither the
// Authorization header nor a custom header reaches it, live or while
// recording a snapshot.
func TestHostileSecretsRedirect(t *testing.T) {
	other := secretsRecordingServer(t)
	otherURL := strings.Replace(other.srv.URL, "127.0.0.1", "localhost", 1)
	home := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(home.Close)

	dir := t.TempDir()
	cfg := secretsWriteFile(t, dir, "budgets.yaml", "version: 1\n"+secretsSourcesYAML(home.URL)+strings.TrimPrefix(secretsBudgets, "version: 1\n")+`  - name: api-metrics
    type: endpoint
    url: `+home.URL+`/metrics
    max_bytes: 1MB
`)
	env := []string{"SECFLOW_E2E_HOSTILE_TOKEN=" + secretsToken}
	reportFile := filepath.Join(dir, "r.json")
	r := run(t, env, "check", "-c", cfg, "--report", "json="+reportFile, "--at", "2026-11-26T12:00:00Z")
	expectCode(t, r, 3)
	var rep report
	mustJSON(t, secretsMustRead(t, reportFile), &rep)
	for _, b := range rep.Budgets {
		if b.Status != "error" || !strings.Contains(b.Message, "a redirect to "+otherURL) || !strings.Contains(b.Message, "not followed") {
			t.Errorf("%s: status %s, message %q; want an error naming the redirect not followed", b.Name, b.Status, b.Message)
		}
	}
	secretsExpectNoLeak(t, secretsOutputs(t, r, reportFile), secretsToken)

	out := filepath.Join(dir, "snap")
	s := run(t, env, "snapshot", "-c", cfg, "--out", out, "--at", "2026-11-26T12:00:00Z")
	if s.code == 0 {
		t.Errorf("snapshot exit 0 although every source redirected away:\n%s\n%s", s.stdout, s.stderr)
	}
	secretsExpectNoLeak(t, secretsOutputs(t, s, out), secretsToken)

	if seen := other.requests(); len(seen) != 0 {
		t.Errorf("the other host got %d requests, want none; first one's headers: %v", len(seen), seen[0])
	}
}

// TestHostileSecretsErrorBodyEcho: a server that echoes our request's
// headers in its error body, with cookies, gets them masked in every
// message: custom header values, the token, Cookie and Set-Cookie values.
func TestHostileSecretsErrorBodyEcho(t *testing.T) {
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		names := make([]string, 0, len(r.Header))
		for n := range r.Header {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s: %s\n", n, strings.Join(r.Header[n], ", "))
		}
		b.WriteString("Cookie: session=COOKIE-SECRET-d1\nSet-Cookie: sid=COOKIE-SECRET-d2; Path=/; HttpOnly\n")
		if strings.HasPrefix(r.URL.Path, "/loki/") {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "bad request: "+b.String())
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		msg, _ := json.Marshal("invalid parameter: " + b.String())
		fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":%s}`, msg)
	}))
	t.Cleanup(echo.Close)

	dir := t.TempDir()
	cfg := secretsWriteFile(t, dir, "budgets.yaml", "version: 1\n"+secretsSourcesYAML(echo.URL)+strings.TrimPrefix(secretsBudgets, "version: 1\n"))
	reportFile := filepath.Join(dir, "r.json")
	r := run(t, []string{"SECFLOW_E2E_HOSTILE_TOKEN=" + secretsToken}, "check", "-c", cfg, "--report", "json="+reportFile, "--at", "2026-11-26T12:00:00Z")
	expectCode(t, r, 3)
	outs := secretsOutputs(t, r, reportFile)
	secretsExpectNoLeak(t, outs, secretsToken)
	// The names stay: they say what was echoed.
	secretsExpectIn(t, outs, "X-Api-Key: xxxxx", "Set-Cookie: xxxxx", "Cookie: xxxxx")
	var rep report
	mustJSON(t, outs[reportFile], &rep)
	for _, b := range rep.Budgets {
		if b.Status != "error" || b.Error == nil || b.Error.Kind != "bad_query" {
			t.Errorf("%s: status %s, error %+v; want a bad_query error", b.Name, b.Status, b.Error)
		}
	}
}

// TestHostileSecretsFileContent: a file that is not what its field says
// (rules_files, endpoints/NAME.prom, metrics.om, manifest.yaml,
// logs.jsonl, a token file) gets an error naming the file and the line,
// never printing the line.
func TestHostileSecretsFileContent(t *testing.T) {
	healthy := filepath.Join(secretsRepoAbs(t), "testdata", "snapshots", "healthy")
	copySnap := func(t *testing.T) string {
		t.Helper()
		dst := filepath.Join(t.TempDir(), "snap")
		if err := os.CopyFS(dst, os.DirFS(healthy)); err != nil {
			t.Fatal(err)
		}
		return dst
	}
	rulesBudget := func(t *testing.T, name, content string) string {
		dir := t.TempDir()
		secretsWriteFile(t, dir, name, content)
		return secretsWriteFile(t, dir, "budgets.yaml", "version: 1\nbudgets:\n  - name: alerts\n    type: alert_rules\n    rules_files: ["+name+"]\n")
	}
	tests := []struct {
		name  string
		setup func(t *testing.T) []string // the arguments
		codes []int                       // any of
		want  []string                    // on stderr or stdout
	}{
		{"-c at a token file", func(t *testing.T) []string {
			return []string{"validate", "-c", secretsWriteFile(t, t.TempDir(), "token", "SECRETtoken-abcdef-0123\n")}
		}, []int{2}, []string{"token:1:1: want a mapping with version: 1 and budgets, got a single value"}},
		{"-c at a netrc file", func(t *testing.T) []string {
			return []string{"check", "-c", secretsWriteFile(t, t.TempDir(), "netrc", "machine x login y password SECRETnetrc\n")}
		}, []int{2}, []string{"netrc:1:1: want a mapping"}},
		{"rules_files: a shell script", func(t *testing.T) []string {
			return []string{"validate", "-c", rulesBudget(t, "deploy.sh", "#!/bin/sh\ncurl -H \"Authorization: Bearer FILE-SECRET-e1\" http://x\n")}
		}, []int{2}, []string{"deploy.sh:2:1: not a rules file: want a mapping with groups"}},
		{"rules_files: a YAML value", func(t *testing.T) []string {
			return []string{"validate", "-c", rulesBudget(t, "creds.yaml", "groups: SECRETe2-value\n")}
		}, []int{2}, []string{"creds.yaml:1:9: groups: want a list of rule groups, got a single value"}},
		{"rules_files: a YAML syntax error", func(t *testing.T) []string {
			return []string{"validate", "-c", rulesBudget(t, "env.yaml", "password: \"FILE-SECRET-e3\nfoo: [bar\n")}
		}, []int{2}, []string{"env.yaml:"}},
		{"rules_files: check", func(t *testing.T) []string {
			return []string{"check", "--offline", healthy, "-c", rulesBudget(t, "creds.yaml", "groups: SECRETe2-value\n")}
		}, []int{2}, []string{"creds.yaml:1:9: "}},
		{"endpoints/NAME.prom", func(t *testing.T) []string {
			snap := copySnap(t)
			secretsWriteFile(t, snap, "endpoints/secflow-metrics.prom", "# TYPE secflow_up gauge\nsecflow_up{token=\"x\"} FILE-SECRET-e4 hunter2\n")
			return []string{"check", "--offline", snap, "--only", "secflow-metrics"}
		}, []int{2, 3}, []string{"endpoints/secflow-metrics.prom:2: "}},
		{"metrics.om value", func(t *testing.T) []string {
			snap := copySnap(t)
			secretsWriteFile(t, snap, "metrics.om", "# TYPE a counter\na_total{x=\"y\"} 1 1795694400\nSECRET_e5 hunter2 token\n# EOF\n")
			return []string{"check", "--offline", snap, "--only", "core-metrics"}
		}, []int{2}, []string{"metrics.om:3: "}},
		{"metrics.om label", func(t *testing.T) []string {
			snap := copySnap(t)
			secretsWriteFile(t, snap, "metrics.om", "# TYPE a counter\na_total{x=\"FILE-SECRET-e6} 1 1795694400\n# EOF\n")
			return []string{"check", "--offline", snap, "--only", "core-metrics"}
		}, []int{2}, []string{"metrics.om:2: "}},
		{"manifest.yaml", func(t *testing.T) []string {
			snap := copySnap(t)
			secretsWriteFile(t, snap, "manifest.yaml", "version: 1\nevaluated_at: FILE-SECRET-e7\n")
			return []string{"check", "--offline", snap}
		}, []int{2}, []string{"manifest.yaml:2: evaluated_at"}},
		{"logs.jsonl", func(t *testing.T) []string {
			snap := copySnap(t)
			secretsWriteFile(t, snap, "logs.jsonl", "{\"ts\":\"FILE-SECRET-e8\",\"labels\":{\"service\":\"api\"},\"line\":\"x\"}\n")
			return []string{"check", "--offline", snap, "--only", "log-volume"}
		}, []int{2}, []string{"logs.jsonl:1: ts: bad timestamp"}},
		{"bearer_token_file of two lines", func(t *testing.T) []string {
			dir := t.TempDir()
			tok := secretsWriteFile(t, dir, "token", "FILE-SECRET-e9-line-one\nFILE-SECRET-e9-line-two\n")
			return []string{"check", "-c", secretsWriteFile(t, dir, "budgets.yaml", "version: 1\nsources:\n  prometheus:\n    url: http://127.0.0.1:1\n    bearer_token_file: "+tok+"\nbudgets:\n  - name: up\n    type: metric\n    expr: up\n    min: 1\n")}
		}, []int{2}, []string{"token:2: "}},
		{"basic_auth password_file of a JSON document", func(t *testing.T) []string {
			dir := t.TempDir()
			pw := secretsWriteFile(t, dir, "pw.json", "{\n  \"password\": \"FILE-SECRET-e10\"\n}\n")
			return []string{"check", "-c", secretsWriteFile(t, dir, "budgets.yaml", "version: 1\nsources:\n  prometheus:\n    url: http://127.0.0.1:1\n    basic_auth: {username: ci, password_file: "+pw+"}\nbudgets:\n  - name: up\n    type: metric\n    expr: up\n    min: 1\n")}
		}, []int{2}, []string{"pw.json:2: "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, tt.setup(t)...)
			ok := false
			for _, c := range tt.codes {
				ok = ok || r.code == c
			}
			if !ok {
				t.Errorf("exit code %d, want one of %v\nstdout:\n%s\nstderr:\n%s", r.code, tt.codes, r.stdout, r.stderr)
			}
			outs := secretsOutputs(t, r)
			secretsExpectNoLeak(t, outs, "hunter2", "curl")
			secretsExpectIn(t, outs, tt.want...)
		})
	}
}

// TestHostileSecretsSnapshot: snapshot masks userinfo and credential
// parameters in what it writes (targets.json's scrape URLs, the
// manifest's captured_from), names only the sources it asked, and the
// masked snapshot gives the live verdict.
func TestHostileSecretsSnapshot(t *testing.T) {
	targets := `{"status":"success","data":{"activeTargets":[{"discoveredLabels":{"__address__":"api:8080","__param_token":"SNAP-SECRET-f1","__scheme__":"http","__scrape_interval__":"15s","__scrape_timeout__":"10s","__metrics_path__":"/metrics","job":"api"},` +
		`"labels":{"instance":"api:8080","job":"api"},"scrapePool":"api","scrapeUrl":"http://scraper:SNAP-SECRET-f2@api:8080/metrics?token=SNAP-SECRET-f1",` +
		`"globalUrl":"http://scraper:SNAP-SECRET-f2@api.example:8080/metrics?token=SNAP-SECRET-f1","lastError":"Get \"http://scraper:SNAP-SECRET-f2@api:8080/metrics?token=SNAP-SECRET-f1\": context deadline exceeded",` +
		`"lastScrape":"2026-11-26T11:59:58Z","lastScrapeDuration":0.01,"health":"down","scrapeInterval":"15s","scrapeTimeout":"10s"}],"droppedTargets":[]}}`
	var lokiAsked sync.Mutex
	lokiRequests := 0
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/api/v1/targets"):
			fmt.Fprint(w, targets)
		case strings.Contains(r.URL.Path, "/loki/"):
			lokiAsked.Lock()
			lokiRequests++
			lokiAsked.Unlock()
			http.NotFound(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(prom.Close)
	host := strings.TrimPrefix(prom.URL, "http://")

	dir := t.TempDir()
	cfg := secretsWriteFile(t, dir, "budgets.yaml", "version: 1\nbudgets:\n  - name: api-scrape\n    type: scrape\n    job: api\n    interval: 15s\n")
	out := filepath.Join(dir, "snap")
	promURL := "http://ci:SNAP-SECRET-f3@" + host + "/?token=SNAP-SECRET-f4&x=1"
	env := []string{"SECFLOW_LOKI_URL=http://ci:SNAP-SECRET-f5@" + host + "/loki-base?api_key=SNAP-SECRET-f6"}
	s := run(t, env, "snapshot", "-c", cfg, "--out", out, "--prometheus", promURL, "--at", "2026-11-26T12:00:00Z")
	expectCode(t, s, 0)
	outs := secretsOutputs(t, s, out)
	secretsExpectNoLeak(t, outs)
	manifest := outs[filepath.Join(out, "manifest.yaml")]
	if want := "prometheus=http://xxxxx@" + host + "/?token=xxxxx&x=1"; !strings.Contains(manifest, want) {
		t.Errorf("manifest.yaml lacks captured_from %s:\n%s", want, manifest)
	}
	if strings.Contains(manifest, "loki") {
		t.Errorf("manifest.yaml names Loki, which the snapshot never asked:\n%s", manifest)
	}
	tj := outs[filepath.Join(out, "targets.json")]
	for _, want := range []string{
		`"scrapeUrl":"http://xxxxx@api:8080/metrics?token=xxxxx"`,
		`"__param_token":"xxxxx"`,
		`"lastError":"Get \"http://xxxxx@api:8080/metrics?token=xxxxx\": context deadline exceeded"`,
	} {
		if !strings.Contains(tj, want) {
			t.Errorf("targets.json lacks %s:\n%s", want, tj)
		}
	}

	live := run(t, nil, "check", "-c", cfg, "--prometheus", promURL, "--at", "2026-11-26T12:00:00Z", "--format", "json")
	off := run(t, nil, "check", "-c", cfg, "--offline", out, "--format", "json")
	expectCode(t, live, 1)
	expectCode(t, off, 1)
	secretsExpectNoLeak(t, secretsOutputs(t, live))
	secretsExpectNoLeak(t, secretsOutputs(t, off))
	var lr, or report
	mustJSON(t, live.stdout, &lr)
	mustJSON(t, off.stdout, &or)
	if len(lr.Budgets) != 1 || len(or.Budgets) != 1 || lr.Budgets[0].Status != "fail" || or.Budgets[0].Status != "fail" ||
		lr.Budgets[0].Message != or.Budgets[0].Message {
		t.Errorf("live %+v\noffline %+v\nwant the same failing api-scrape", lr.Budgets, or.Budgets)
	}
	if lokiRequests != 0 {
		t.Errorf("Loki was asked %d times", lokiRequests)
	}
}

func secretsMustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func secretsRepoAbs(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// TestHostileSecretsHeaderValues: a custom header whose value HTTP cannot
// carry is a configuration error (exit 2) naming the header, never showing
// the value.
func TestHostileSecretsHeaderValues(t *testing.T) {
	dir := t.TempDir()
	cfg := secretsWriteFile(t, dir, "budgets.yaml", `version: 1
sources:
  prometheus:
    url: http://127.0.0.1:1
    headers: {X-Api-Key: "HDR-SECRET-g1\r\nX-Injected: HDR-SECRET-g2"}
budgets:
  - name: up
    type: metric
    expr: up
    min: 1
`)
	r := run(t, nil, "check", "-c", cfg)
	expectCode(t, r, 2)
	outs := secretsOutputs(t, r)
	secretsExpectNoLeak(t, outs)
	secretsExpectIn(t, outs, "X-Api-Key")
}
