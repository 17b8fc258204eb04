package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/promtest"
)

// The README's examples, run as they are written: the getting-started
// budgets and console session, the GitLab CI job (with a stand-in for
// GitLab's notes API), the Jenkins stage's shell script and the pre-push
// hook. Each block is found by the HTML comment `<!-- docs-test: NAME -->`
// just before it, so rewording the prose around it never breaks the test,
// but changing the example does.

// docsReadme is the repository's README.md.
func docsReadme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docsBlock returns the body of the fenced block right after the marker
// `<!-- docs-test: name -->`, which must occur exactly once.
func docsBlock(t *testing.T, readme, name string) string {
	t.Helper()
	marker := "<!-- docs-test: " + name + " -->\n"
	if n := strings.Count(readme, marker); n != 1 {
		t.Fatalf("README.md holds %d markers %q, want 1", n, strings.TrimSpace(marker))
	}
	rest := readme[strings.Index(readme, marker)+len(marker):]
	if !strings.HasPrefix(rest, "```") {
		t.Fatalf("README.md: %q is not followed by a fenced block", strings.TrimSpace(marker))
	}
	nl := strings.IndexByte(rest, '\n')
	body := rest[nl+1:]
	end := strings.Index(body, "\n```\n")
	if end < 0 {
		t.Fatalf("README.md: the block after %q is not closed", strings.TrimSpace(marker))
	}
	return body[:end+1]
}

// docsPATH puts the built binary first on PATH, as `go install` or a release
// archive would.
func docsPATH() string {
	return "PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH")
}

// docsWorkspace is a project directory as the README's examples assume it:
// budgets.yaml from "Getting started" and the snapshot as snap/.
func docsWorkspace(t *testing.T, readme, snapshot string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "budgets.yaml"), []byte(docsBlock(t, readme, "first-budgets")), 0o644); err != nil {
		t.Fatal(err)
	}
	docsSetSnapshot(t, dir, snapshot)
	return dir
}

// docsSetSnapshot makes dir/snap a copy of testdata/snapshots/<snapshot>.
func docsSetSnapshot(t *testing.T, dir, snapshot string) {
	t.Helper()
	snap := filepath.Join(dir, "snap")
	if err := os.RemoveAll(snap); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("cp", "-R", filepath.Join(repo, "testdata", "snapshots", snapshot), snap).CombinedOutput(); err != nil {
		t.Fatalf("copying the %s snapshot: %v\n%s", snapshot, err, out)
	}
}

// docsRun runs a shell (argv) in dir with exactly env, and returns its exit
// code and its stdout and stderr interleaved, as a CI log shows them.
func docsRun(t *testing.T, dir string, env []string, argv ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	case err != nil:
		t.Fatalf("running %v: %v", argv, err)
	}
	return 0, out.String()
}

// docsBaseEnv is a clean environment with the binary on PATH.
func docsBaseEnv(t *testing.T) []string {
	return []string{docsPATH(), "LANG=C.UTF-8", "HOME=" + t.TempDir()}
}

// docsJUnit reads a JUnit report and returns it with the names of its
// failed testcases.
func docsJUnit(t *testing.T, path string) (testsJUnitSuites, []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the JUnit report: %v", err)
	}
	var doc testsJUnitSuites
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not XML: %v\n%s", path, err, b)
	}
	var failed []string
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				failed = append(failed, c.Name)
			}
		}
	}
	return doc, failed
}

// docsClosedURL is an http:// URL nobody listens on.
func docsClosedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// docsHeaderVersion is the version in a report's header line, which
// depends on how the binary was built.
var docsHeaderVersion = regexp.MustCompile(`(?m)^secflow-budget \S+ · `)

func TestDocsGettingStarted(t *testing.T) {
	readme := docsReadme(t)

	// Install: the module path is this module's, and the command exists.
	install := docsBlock(t, readme, "install")
	gomod, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	module := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(string(gomod), "\n", 2)[0], "module"))
	if want := "go install " + module + "/cmd/secflow-budget@latest"; !strings.Contains(install, want) {
		t.Errorf("install block lacks %q:\n%s", want, install)
	}
	if _, err := os.Stat(filepath.Join(repo, "cmd", "secflow-budget", "main.go")); err != nil {
		t.Errorf("the installed package: %v", err)
	}
	// What follows the install, with the binary on PATH as go install
	// leaves it.
	_, after, _ := strings.Cut(install, "\n")
	if code, out := docsRun(t, t.TempDir(), docsBaseEnv(t), "bash", "-c", after); code != 0 || !strings.HasPrefix(out, "secflow-budget ") || strings.Count(out, "\n") != 1 {
		t.Errorf("%q: exit %d, %q; want one line naming secflow-budget's version", after, code, out)
	}

	// The console session, command by command, in one shell (so `echo $?`
	// sees the previous command), from a project directory holding the
	// README's budgets.yaml and a clone of this repository as
	// secflow-budget/.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "budgets.yaml"), []byte(docsBlock(t, readme, "first-budgets")), 0o644); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(abs, filepath.Join(dir, "secflow-budget")); err != nil {
		t.Fatal(err)
	}
	type step struct{ cmd, want string }
	var steps []step
	for line := range strings.Lines(docsBlock(t, readme, "first-run")) {
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			steps = append(steps, step{cmd: strings.TrimSuffix(cmd, "\n")})
			continue
		}
		if len(steps) == 0 {
			t.Fatalf("first-run block starts with output, not a command: %q", line)
		}
		steps[len(steps)-1].want += line
	}
	const sep = "----docs-step----"
	var script strings.Builder
	for _, s := range steps {
		// The separator must not change $? for the next command.
		script.WriteString("docs_s=$?; echo " + sep + "; (exit $docs_s); " + s.cmd + " 2>&1\n")
	}
	_, out := docsRun(t, dir, docsBaseEnv(t), "bash", "-c", script.String())
	got := strings.Split(out, sep+"\n")[1:]
	if len(got) != len(steps) {
		t.Fatalf("%d outputs for %d commands:\n%s", len(got), len(steps), out)
	}
	var healthyOut string
	for i, s := range steps {
		g := docsHeaderVersion.ReplaceAllString(got[i], "secflow-budget VERSION · ")
		w := docsHeaderVersion.ReplaceAllString(s.want, "secflow-budget VERSION · ")
		if g != w {
			t.Errorf("README's `$ %s` shows:\n%s\nthe binary prints:\n%s", s.cmd, w, g)
		}
		if strings.HasSuffix(s.cmd, "snapshots/healthy") {
			healthyOut = s.want
		}
	}
	// What the prose after the session claims.
	if last := steps[len(steps)-1]; last.cmd != "echo $?" || last.want != "1\n" || !strings.Contains(steps[len(steps)-2].cmd, "snapshots/degraded") {
		t.Errorf("the session should end with the degraded run's `echo $?` showing 1: %+v", steps)
	}
	doc, failed := docsJUnit(t, filepath.Join(dir, "secflow-budget.xml"))
	if doc.Tests != 3 || doc.Failures != 3 || strings.Join(failed, ",") != "core-metrics,task-duration,series-cardinality" {
		t.Errorf("secflow-budget.xml: tests=%d failures=%d failed %v, want 3 testcases, all three failures", doc.Tests, doc.Failures, failed)
	}

	// The same budgets against a live Prometheus holding the healthy
	// snapshot's samples give the README's lines, value for value.
	if healthyOut == "" {
		t.Fatal("the session has no run on the healthy snapshot")
	}
	srv := promtest.Start(t, filepath.Join(repo, "testdata", "snapshots", "healthy", "metrics.om"))
	code, live := docsRun(t, dir, docsBaseEnv(t), binary, "check", "--prometheus", srv.URL, "--at", "2026-11-26T12:00:07Z")
	if code != 0 {
		t.Fatalf("live check: exit %d, want 0\n%s", code, live)
	}
	_, wantBody, _ := strings.Cut(healthyOut, "\n")
	_, liveBody, _ := strings.Cut(live, "\n")
	if liveBody != wantBody {
		t.Errorf("live Prometheus gives:\n%s\nthe README shows (offline):\n%s", liveBody, wantBody)
	}
	if want := "secflow-budget dev · live · " + srv.URL + " · prometheus: Prometheus 2.42.0+ds · evaluated at 2026-11-26T12:00:07Z\n"; !strings.HasPrefix(docsHeaderVersion.ReplaceAllString(live, "secflow-budget dev · "), want) {
		t.Errorf("live header: %q, want %q", strings.SplitN(live, "\n", 2)[0], want)
	}
}

// The README's links into its own sections resolve.
func TestDocsAnchors(t *testing.T) {
	readme := docsReadme(t)
	anchors := map[string]bool{}
	punct := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	fenced := false
	for line := range strings.Lines(readme) {
		if strings.HasPrefix(line, "```") {
			fenced = !fenced
		}
		if h, ok := strings.CutPrefix(line, "#"); ok && !fenced {
			h = strings.TrimSpace(strings.TrimLeft(h, "#"))
			anchors[strings.ReplaceAll(punct.ReplaceAllString(strings.ToLower(h), ""), " ", "-")] = true
		}
	}
	start := strings.Index(readme, "## Getting started in five minutes")
	end := strings.Index(readme, "## A tour")
	other := strings.Index(readme, "## Other CI systems")
	if start < 0 || end < start || other < 0 {
		t.Fatal("README.md lacks the Getting started or Other CI systems section")
	}
	otherEnd := other + strings.Index(readme[other:], "\n## Development")
	sections := readme[start:end] + readme[other:otherEnd]
	links := regexp.MustCompile(`\]\(#([^)]+)\)`).FindAllStringSubmatch(sections, -1)
	var checked []string
	for _, m := range links {
		checked = append(checked, m[1])
		if !anchors[m[1]] {
			t.Errorf("link to #%s: no such heading in README.md", m[1])
		}
	}
	for _, want := range []string{"gitlab-ci", "jenkins-or-any-shell", "before-pushing-a-local-run", "exit-codes", "budget-types", "recording-a-snapshot-gate-pr-pipelines-without-network-access", "sources", "init-start-from-what-you-run-today", "github-action"} {
		if !slices.Contains(checked, want) {
			t.Errorf("no link to #%s in the sections (links: %v)", want, checked)
		}
	}
}

// docsGitLabJob is the part of a .gitlab-ci.yml job the test reads; the
// decoder refuses any other key, so a misspelt one (artefacts) fails.
type docsGitLabJob struct {
	Stage        string            `yaml:"stage"`
	Image        string            `yaml:"image"`
	Variables    map[string]string `yaml:"variables"`
	BeforeScript []string          `yaml:"before_script"`
	Script       []string          `yaml:"script"`
	Artifacts    struct {
		When    string `yaml:"when"`
		Reports struct {
			JUnit string `yaml:"junit"`
		} `yaml:"reports"`
		Paths []string `yaml:"paths"`
	} `yaml:"artifacts"`
	AllowFailure struct {
		ExitCodes []int `yaml:"exit_codes"`
	} `yaml:"allow_failure"`
}

// docsGitLab stands in for the part of GitLab's REST API the job uses:
// GET /user, and list, create and update the notes of merge request 5 of
// project 42.
type docsGitLab struct {
	user      int
	notes     []map[string]any
	failWrite bool

	mu       sync.Mutex
	requests []docsRequest
}

type docsRequest struct {
	method, path, query, token, body string
}

func (g *docsGitLab) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := ""
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = r.PostForm.Get("body")
	}
	g.mu.Lock()
	g.requests = append(g.requests, docsRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("PRIVATE-TOKEN"), body})
	g.mu.Unlock()
	if r.Header.Get("PRIVATE-TOKEN") != docsToken {
		http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	const notes = "/api/v4/projects/42/merge_requests/5/notes"
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v4/user":
		json.NewEncoder(w).Encode(map[string]any{"id": g.user, "username": "project_42_bot"})
	case r.Method == http.MethodGet && r.URL.Path == notes:
		g.mu.Lock()
		defer g.mu.Unlock()
		json.NewEncoder(w).Encode(append([]map[string]any{}, g.notes...))
	case g.failWrite:
		http.Error(w, `{"message":"500 Internal Server Error"}`, http.StatusInternalServerError)
	case r.Method == http.MethodPost && r.URL.Path == notes:
		// Kept, newest first as the job lists them, so that a later run
		// finds it.
		g.mu.Lock()
		note := map[string]any{"id": 100 + len(g.notes), "body": body, "author": map[string]any{"id": g.user}}
		g.notes = append([]map[string]any{note}, g.notes...)
		g.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(note)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, notes+"/"):
		id := strings.TrimPrefix(r.URL.Path, notes+"/")
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, n := range g.notes {
			if fmt.Sprint(n["id"]) == id {
				n["body"] = body
				json.NewEncoder(w).Encode(n)
				return
			}
		}
		http.Error(w, `{"message":"404 Not found"}`, http.StatusNotFound)
	default:
		http.Error(w, `{"message":"404 Not Found"}`, http.StatusNotFound)
	}
}

func (g *docsGitLab) writes() []docsRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	var w []docsRequest
	for _, r := range g.requests {
		if r.method != http.MethodGet {
			w = append(w, r)
		}
	}
	return w
}

const docsToken = "glpat-docs-test-Zq81xR"

// docsGitLabScript is the job's script as GitLab Runner's bash shell runs
// it: one shell, `set -eo pipefail`, each item echoed (unexpanded) before it
// runs.
func docsGitLabScript(items []string) string {
	var b strings.Builder
	b.WriteString("set -eo pipefail\nset +o noclobber\n")
	for _, it := range items {
		first, _, _ := strings.Cut(it, "\n")
		b.WriteString("printf '%s\\n' '$ " + strings.ReplaceAll(first, "'", `'\''`) + "'\n")
		b.WriteString(it + "\n")
	}
	return b.String()
}

var docsReportFlag = regexp.MustCompile(`--report (junit|json|markdown)=(\S+)`)

func TestDocsGitLabJob(t *testing.T) {
	readme := docsReadme(t)
	var jobs map[string]docsGitLabJob
	dec := yaml.NewDecoder(strings.NewReader(docsBlock(t, readme, "gitlab")))
	dec.KnownFields(true)
	if err := dec.Decode(&jobs); err != nil {
		t.Fatalf("the GitLab example: %v", err)
	}
	job, ok := jobs["secflow-budget"]
	if !ok || len(jobs) != 1 {
		t.Fatalf("the GitLab example should hold the one job secflow-budget, got %v", slices.Collect(maps.Keys(jobs)))
	}

	// The keys that matter, and that they name the files the check writes.
	reports := map[string]string{}
	for _, line := range job.Script {
		if strings.HasPrefix(line, "secflow-budget check ") {
			for _, m := range docsReportFlag.FindAllStringSubmatch(line, -1) {
				reports[m[1]] = m[2]
			}
		}
	}
	if reports["junit"] == "" || reports["json"] == "" || reports["markdown"] == "" {
		t.Fatalf("the job's check should write junit, json and markdown reports, found %v in %q", reports, job.Script)
	}
	if job.Artifacts.When != "always" {
		t.Errorf("artifacts:when = %q, want always (reports of a failed job are the ones that matter)", job.Artifacts.When)
	}
	if job.Artifacts.Reports.JUnit != reports["junit"] {
		t.Errorf("artifacts:reports:junit = %q, the check writes JUnit to %q", job.Artifacts.Reports.JUnit, reports["junit"])
	}
	if !slices.Contains(job.Artifacts.Paths, reports["json"]) || !slices.Contains(job.Artifacts.Paths, reports["markdown"]) {
		t.Errorf("artifacts:paths = %v, want the JSON %q and Markdown %q reports", job.Artifacts.Paths, reports["json"], reports["markdown"])
	}
	if !slices.Equal(job.AllowFailure.ExitCodes, []int{3}) {
		t.Errorf("allow_failure:exit_codes = %v, want [3] (a source failure is orange, not red)", job.AllowFailure.ExitCodes)
	}
	if len(job.BeforeScript) == 0 || job.BeforeScript[0] != `go install github.com/secflow/secflow-budget/cmd/secflow-budget@"$SECFLOW_BUDGET_VERSION"` {
		t.Errorf("before_script should install the release named by SECFLOW_BUDGET_VERSION: %q", job.BeforeScript)
	}
	if job.Variables["SECFLOW_BUDGET_VERSION"] == "" || !strings.HasPrefix(job.Variables["SECFLOW_BUDGET_ARGS"], "--prometheus ") {
		t.Errorf("variables = %v, want SECFLOW_BUDGET_VERSION and SECFLOW_BUDGET_ARGS", job.Variables)
	}
	script := docsGitLabScript(job.Script)

	// runJob runs the job's script (before_script installs the binary,
	// which is already on PATH here) in ws, with the job's variables, the
	// project variables vars (which override them, as in GitLab) and
	// GitLab's predefined variables of a merge request pipeline when api
	// is not nil.
	runJob := func(t *testing.T, ws string, api *docsGitLab, vars ...string) (int, string) {
		t.Helper()
		env := docsBaseEnv(t)
		for k, v := range job.Variables {
			env = append(env, k+"="+v)
		}
		env = append(env, "CI=true", "GITLAB_CI=true")
		if api != nil {
			srv := httptest.NewServer(api)
			t.Cleanup(srv.Close)
			env = append(env, "CI_API_V4_URL="+srv.URL+"/api/v4", "CI_PROJECT_ID=42", "CI_MERGE_REQUEST_IID=5", "SECFLOW_BUDGET_GITLAB_TOKEN="+docsToken)
		}
		env = append(env, vars...)
		code, out := docsRun(t, ws, env, "bash", "-c", script)
		if strings.Contains(out, docsToken) {
			t.Errorf("the job's log shows the token:\n%s", out)
		}
		filepath.WalkDir(ws, func(path string, d os.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && !strings.Contains(path, string(filepath.Separator)+"snap"+string(filepath.Separator)) {
				if b, _ := os.ReadFile(path); bytes.Contains(b, []byte(docsToken)) {
					t.Errorf("%s holds the token", path)
				}
			}
			return nil
		})
		return code, out
	}
	offline := "SECFLOW_BUDGET_ARGS=--offline snap"
	noteWrite := func(t *testing.T, api *docsGitLab, ws, method, path string) {
		t.Helper()
		w := api.writes()
		md, err := os.ReadFile(filepath.Join(ws, reports["markdown"]))
		if err != nil {
			t.Fatal(err)
		}
		if len(w) != 1 {
			t.Fatalf("the job wrote %d notes, want one %s %s: %+v", len(w), method, path, w)
		}
		if w[0].method != method || w[0].path != path || w[0].token != docsToken {
			t.Errorf("the note: %s %s with PRIVATE-TOKEN %q, want %s %s with the project token", w[0].method, w[0].path, w[0].token, method, path)
		}
		if !strings.HasPrefix(w[0].body, "<!-- secflow-budget -->\n") {
			t.Errorf("the note does not start with the marker a later run looks for: %.80q", w[0].body)
		}
		if w[0].body != string(md) {
			t.Errorf("the note's body is not the Markdown report byte for byte:\n%s\nreport:\n%s", w[0].body, md)
		}
		for _, r := range api.requests {
			if r.token != docsToken {
				t.Errorf("%s %s without the token", r.method, r.path)
			}
		}
	}

	t.Run("degraded: fails, JUnit and JSON kept, the report posted as a new note", func(t *testing.T) {
		ws := docsWorkspace(t, readme, "degraded")
		api := &docsGitLab{user: 7, notes: []map[string]any{
			{"id": 10, "body": "<!-- secflow-budget -->\n## ✅ secflow-budget: PASS", "author": map[string]any{"id": 3}},
			{"id": 11, "body": "LGTM", "author": map[string]any{"id": 7}},
		}}
		code, out := runJob(t, ws, api, offline)
		if code != 1 {
			t.Fatalf("job exit %d, want 1 (README: 1 fails the job)\n%s", code, out)
		}
		doc, failed := docsJUnit(t, filepath.Join(ws, job.Artifacts.Reports.JUnit))
		if doc.Tests != 3 || doc.Failures != 3 || doc.Errors != 0 || strings.Join(failed, ",") != "core-metrics,task-duration,series-cardinality" {
			t.Errorf("JUnit tests=%d failures=%d errors=%d failed %v, want 3 failures: core-metrics, task-duration, series-cardinality", doc.Tests, doc.Failures, doc.Errors, failed)
		}
		rep := readReport(t, filepath.Join(ws, reports["json"]))
		if rep.Status != "fail" || rep.ExitCode != 1 || len(rep.Budgets) != 3 {
			t.Errorf("JSON artifact: status %s, exit_code %d, %d budgets; want fail, 1, 3", rep.Status, rep.ExitCode, len(rep.Budgets))
		}
		// Someone else's note with the marker (id 10) is not ours: a new
		// note is added.
		noteWrite(t, api, ws, http.MethodPost, "/api/v4/projects/42/merge_requests/5/notes")
		if !strings.Contains(out, "$ secflow-budget check $SECFLOW_BUDGET_ARGS") || !strings.Contains(out, "❌ task-duration") {
			t.Errorf("the job's log should show the command and the failing budgets:\n%s", out)
		}
		list := api.requests[1]
		if list.method != http.MethodGet || list.query != "sort=desc&order_by=updated_at&per_page=100" {
			t.Errorf("notes listed with %s ?%s, want GET, newest first, 100 a page", list.method, list.query)
		}
	})

	t.Run("healthy: passes, our own note updated in place", func(t *testing.T) {
		ws := docsWorkspace(t, readme, "healthy")
		api := &docsGitLab{user: 7, notes: []map[string]any{
			{"id": 20, "body": "the report says `<!-- secflow-budget -->` at its top", "author": map[string]any{"id": 7}},
			{"id": 21, "body": "<!-- secflow-budget -->\n## ❌ secflow-budget: FAIL", "author": map[string]any{"id": 8}},
			{"id": 22, "body": "<!-- secflow-budget -->\n## ❌ secflow-budget: FAIL", "author": map[string]any{"id": 7}},
			{"id": 23, "body": "<!-- secflow-budget -->\n## ❌ an older one", "author": map[string]any{"id": 7}},
		}}
		code, out := runJob(t, ws, api, offline)
		if code != 0 {
			t.Fatalf("job exit %d, want 0\n%s", code, out)
		}
		doc, failed := docsJUnit(t, filepath.Join(ws, job.Artifacts.Reports.JUnit))
		if doc.Tests != 3 || doc.Failures != 0 || len(failed) != 0 {
			t.Errorf("JUnit tests=%d failures=%d, want 3 and 0", doc.Tests, doc.Failures)
		}
		noteWrite(t, api, ws, http.MethodPut, "/api/v4/projects/42/merge_requests/5/notes/22")
	})

	t.Run("two runs: the second updates the note the first wrote", func(t *testing.T) {
		api := &docsGitLab{user: 7}
		ws := docsWorkspace(t, readme, "degraded")
		if code, out := runJob(t, ws, api, offline); code != 1 {
			t.Fatalf("first job exit %d, want 1\n%s", code, out)
		}
		first, err := os.ReadFile(filepath.Join(ws, reports["markdown"]))
		if err != nil {
			t.Fatal(err)
		}
		if line, _, _ := strings.Cut(string(first), "\n"); line != "<!-- secflow-budget -->" {
			t.Errorf("the Markdown report's first line is %q, not the marker the job looks for", line)
		}
		docsSetSnapshot(t, ws, "healthy")
		if code, out := runJob(t, ws, api, offline); code != 0 {
			t.Fatalf("second job exit %d, want 0\n%s", code, out)
		}
		second, err := os.ReadFile(filepath.Join(ws, reports["markdown"]))
		if err != nil {
			t.Fatal(err)
		}
		w := api.writes()
		const notes = "/api/v4/projects/42/merge_requests/5/notes"
		if len(w) != 2 || w[0].method != http.MethodPost || w[0].path != notes || w[1].method != http.MethodPut || w[1].path != notes+"/100" {
			t.Fatalf("writes %+v, want POST %s then PUT %s/100", w, notes, notes)
		}
		if len(api.notes) != 1 || api.notes[0]["body"] != string(second) || string(first) == string(second) {
			t.Errorf("the merge request should hold one note, the second run's report; it holds %v", api.notes)
		}
	})

	t.Run("source failed: exit 3, allowed to fail", func(t *testing.T) {
		ws := docsWorkspace(t, readme, "healthy")
		api := &docsGitLab{user: 7}
		code, out := runJob(t, ws, api, "SECFLOW_BUDGET_ARGS=--prometheus "+docsClosedURL(t))
		if code != 3 || !slices.Contains(job.AllowFailure.ExitCodes, code) {
			t.Fatalf("job exit %d, want 3, which allow_failure %v lets pass\n%s", code, job.AllowFailure.ExitCodes, out)
		}
		doc, _ := docsJUnit(t, filepath.Join(ws, job.Artifacts.Reports.JUnit))
		if doc.Tests != 3 || doc.Errors != 3 || doc.Failures != 0 {
			t.Errorf("JUnit tests=%d errors=%d failures=%d, want 3 errors", doc.Tests, doc.Errors, doc.Failures)
		}
		noteWrite(t, api, ws, http.MethodPost, "/api/v4/projects/42/merge_requests/5/notes")
	})

	t.Run("invalid budgets.yaml: exit 2, JSON with the position, no JUnit", func(t *testing.T) {
		ws := docsWorkspace(t, readme, "healthy")
		if err := os.WriteFile(filepath.Join(ws, "budgets.yaml"), []byte("version: 1\nbudgets:\n  - name: a\n    type: latency\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out := runJob(t, ws, nil, offline)
		if code != 2 {
			t.Fatalf("job exit %d, want 2\n%s", code, out)
		}
		rep := readReport(t, filepath.Join(ws, reports["json"]))
		var errs struct {
			Errors []struct {
				File, Field string
				Line        int
			}
		}
		b, _ := os.ReadFile(filepath.Join(ws, reports["json"]))
		mustJSON(t, string(b), &errs)
		if rep.Status != "error" || rep.ExitCode != 2 || len(errs.Errors) == 0 || errs.Errors[0].File != "budgets.yaml" || errs.Errors[0].Line != 3 || errs.Errors[0].Field != "budgets[0].histogram" {
			t.Errorf("JSON artifact: status %s exit_code %d errors %+v, want error, 2, budgets.yaml:3 budgets[0].histogram", rep.Status, rep.ExitCode, errs.Errors)
		}
		if _, err := os.Stat(filepath.Join(ws, reports["junit"])); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a JUnit report after a configuration error (the README says none): %v", err)
		}
	})

	t.Run("not a merge request: no API call", func(t *testing.T) {
		ws := docsWorkspace(t, readme, "degraded")
		api := &docsGitLab{user: 7}
		srv := httptest.NewServer(api)
		defer srv.Close()
		// A branch pipeline: the API and the token are there, the merge
		// request is not.
		code, out := runJob(t, ws, nil, offline, "CI_API_V4_URL="+srv.URL+"/api/v4", "CI_PROJECT_ID=42", "SECFLOW_BUDGET_GITLAB_TOKEN="+docsToken)
		if code != 1 {
			t.Fatalf("job exit %d, want 1\n%s", code, out)
		}
		if len(api.requests) != 0 {
			t.Errorf("API calls outside a merge request pipeline: %+v", api.requests)
		}
	})

	t.Run("the API refuses the note: the verdict stays the budgets'", func(t *testing.T) {
		ws := docsWorkspace(t, readme, "degraded")
		api := &docsGitLab{user: 7, failWrite: true}
		code, out := runJob(t, ws, api, offline)
		if code != 1 {
			t.Fatalf("job exit %d, want 1 (the budgets' code, not the API's)\n%s", code, out)
		}
		if !strings.Contains(out, "secflow-budget: the report could not be posted as a merge request note") || !strings.Contains(out, "500") {
			t.Errorf("the log should say the note was not posted, with curl's reason:\n%s", out)
		}
		code, out = runJob(t, docsWorkspace(t, readme, "healthy"), api, offline)
		if code != 0 {
			t.Fatalf("healthy job exit %d with a failing API, want 0\n%s", code, out)
		}
	})
}

func TestDocsJenkins(t *testing.T) {
	readme := docsReadme(t)
	groovy := docsBlock(t, readme, "jenkins")
	m := regexp.MustCompile(`(?s)sh\(returnStatus: true, script: '''\n(.*?)'''\)`).FindStringSubmatch(groovy)
	if m == nil {
		t.Fatalf("no sh(returnStatus: true, script: '''...''') in the Jenkins example:\n%s", groovy)
	}
	sh := m[1]
	reports := map[string]string{}
	for _, f := range docsReportFlag.FindAllStringSubmatch(sh, -1) {
		reports[f[1]] = f[2]
	}
	if want := "junit allowEmptyResults: true, testResults: '" + reports["junit"] + "'"; reports["junit"] == "" || !strings.Contains(groovy, want) {
		t.Errorf("the junit step should read the JUnit report %q: want %q", reports["junit"], want)
	}
	if want := "archiveArtifacts artifacts: '" + reports["json"] + "'"; reports["json"] == "" || !strings.Contains(groovy, want) {
		t.Errorf("archiveArtifacts should keep the JSON report %q: want %q", reports["json"], want)
	}
	if !strings.Contains(groovy, "post {\n        always {\n          junit ") {
		t.Errorf("the reports should be published in post { always { ... } }, whatever the result:\n%s", groovy)
	}
	// The build's result per exit code, as the README says.
	results := map[string]string{}
	for _, c := range regexp.MustCompile(`code ([!=]=) (\d+)\) \{\n\s*(\w+)\(`).FindAllStringSubmatch(groovy, -1) {
		results[c[1]+c[2]] = c[3]
	}
	if want := map[string]string{"==1": "error", "==3": "unstable", "!=0": "error"}; !maps.Equal(results, want) {
		t.Errorf("exit code handling %v, want %v", results, want)
	}

	// Jenkins runs the script with sh -xe.
	runSh := func(t *testing.T, ws string, vars ...string) (int, string) {
		t.Helper()
		return docsRun(t, ws, append(docsBaseEnv(t), vars...), "sh", "-xe", "-c", sh)
	}
	offline := "SECFLOW_BUDGET_ARGS=--offline snap"
	for _, c := range []struct {
		snapshot string
		code     int
		failed   string
	}{
		{"degraded", 1, "core-metrics,task-duration,series-cardinality"},
		{"healthy", 0, ""},
	} {
		ws := docsWorkspace(t, readme, c.snapshot)
		code, out := runSh(t, ws, offline)
		if code != c.code {
			t.Fatalf("%s: exit %d, want %d\n%s", c.snapshot, code, c.code, out)
		}
		doc, failed := docsJUnit(t, filepath.Join(ws, reports["junit"]))
		if doc.Tests != 3 || strings.Join(failed, ",") != c.failed || doc.Failures != len(failed) {
			t.Errorf("%s: JUnit tests=%d failures=%d failed %v, want 3 tests, failed %q", c.snapshot, doc.Tests, doc.Failures, failed, c.failed)
		}
		rep := readReport(t, filepath.Join(ws, reports["json"]))
		if rep.ExitCode != c.code {
			t.Errorf("%s: JSON exit_code %d, want %d", c.snapshot, rep.ExitCode, c.code)
		}
	}

	ws := docsWorkspace(t, readme, "healthy")
	code, out := runSh(t, ws, "SECFLOW_BUDGET_ARGS=--prometheus "+docsClosedURL(t))
	if code != 3 {
		t.Errorf("unreachable Prometheus: exit %d, want 3 (unstable)\n%s", code, out)
	}

	// A configuration error after a run that wrote JUnit: the old report
	// is removed, not published again.
	if err := os.WriteFile(filepath.Join(ws, "budgets.yaml"), []byte("version: 1\nbudgets: 7\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out = runSh(t, ws, offline)
	if code != 2 {
		t.Errorf("invalid budgets.yaml: exit %d, want 2\n%s", code, out)
	}
	if _, err := os.Stat(filepath.Join(ws, reports["junit"])); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the previous run's JUnit report is still there after a configuration error: %v", err)
	}
	if rep := readReport(t, filepath.Join(ws, reports["json"])); rep.Status != "error" || rep.ExitCode != 2 {
		t.Errorf("JSON after a configuration error: status %s exit_code %d, want error, 2", rep.Status, rep.ExitCode)
	}
}

func TestDocsPrePushHook(t *testing.T) {
	readme := docsReadme(t)
	hook := docsBlock(t, readme, "pre-push")
	root := t.TempDir()
	ws := docsWorkspace(t, readme, "degraded")
	env := append(docsBaseEnv(t), "GIT_CONFIG_NOSYSTEM=1", "GIT_AUTHOR_NAME=docs", "GIT_AUTHOR_EMAIL=docs@example.com", "GIT_COMMITTER_NAME=docs", "GIT_COMMITTER_EMAIL=docs@example.com")
	git := func(dir string, args ...string) (int, string) {
		t.Helper()
		return docsRun(t, dir, env, append([]string{"git"}, args...)...)
	}
	remote := filepath.Join(root, "remote.git")
	for _, c := range [][]string{
		{root, "init", "-q", "--bare", remote},
		{ws, "init", "-q"},
		{ws, "add", "budgets.yaml"},
		{ws, "commit", "-q", "-m", "budgets"},
		{ws, "remote", "add", "origin", remote},
	} {
		if code, out := git(c[0], c[1:]...); code != 0 {
			t.Fatalf("git %v: exit %d\n%s", c[1:], code, out)
		}
	}
	// Installed as the README says.
	if err := os.WriteFile(filepath.Join(ws, ".git", "hooks", "pre-push"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	remoteMain := func() string {
		_, out := git(remote, "rev-parse", "--verify", "-q", "refs/heads/main")
		return strings.TrimSpace(out)
	}
	_, head := git(ws, "rev-parse", "HEAD")
	head = strings.TrimSpace(head)

	// Degraded: refused, with the failing budgets and the reason; run from
	// a subdirectory, the hook still finds budgets.yaml at the top.
	sub := filepath.Join(ws, "snap", "endpoints")
	code, out := git(sub, "push", "-q", "origin", "HEAD:refs/heads/main")
	if code == 0 || remoteMain() != "" {
		t.Fatalf("push with a degraded snapshot: exit %d, remote main %q; want refused\n%s", code, remoteMain(), out)
	}
	for _, want := range []string{"❌ task-duration       p99 769.7s > 600s", "3 budgets: 0 passed, 0 warnings, 3 failed, 0 errors, 0 skipped → FAIL (exit 1)", "pre-push: budgets violated, push refused (git push --no-verify to push anyway)"} {
		if !strings.Contains(out, want) {
			t.Errorf("refused push output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "✅") {
		t.Errorf("--quiet: passing budgets shown:\n%s", out)
	}

	// A snapshot that is not there: exit 2, refused, saying so.
	code, out = docsRun(t, ws, append(env, "SECFLOW_BUDGET_SNAPSHOT=no-such-snap"), "git", "push", "-q", "origin", "HEAD:refs/heads/main")
	if code == 0 || remoteMain() != "" || !strings.Contains(out, "pre-push: secflow-budget exited 2, push refused (see above)") || !strings.Contains(out, "no-such-snap") {
		t.Fatalf("push with a missing snapshot: exit %d, remote main %q; want refused naming exit 2 and the snapshot\n%s", code, remoteMain(), out)
	}

	// Healthy: pushed, silently but for the summary.
	docsSetSnapshot(t, ws, "healthy")
	code, out = git(ws, "push", "-q", "origin", "HEAD:refs/heads/main")
	if code != 0 || remoteMain() != head {
		t.Fatalf("push with a healthy snapshot: exit %d, remote main %q, want %s\n%s", code, remoteMain(), head, out)
	}
	if want := "3 budgets: 3 passed, 0 warnings, 0 failed, 0 errors, 0 skipped → PASS (exit 0)\n"; out != want {
		t.Errorf("passing push output:\n%q\nwant %q", out, want)
	}
}

func TestDocsReleaseInstall(t *testing.T) {
	readme := docsReadme(t)
	block := docsBlock(t, readme, "release")
	const github = "R=https://github.com/secflow/secflow-budget/releases/download/$V\n"
	if !strings.Contains(block, github) || !strings.Contains(block, "V=v1.2.3 P=linux_amd64 ") || !strings.Contains(block, "sudo install ") || !strings.Contains(block, " /usr/local/bin/\n") {
		t.Fatalf("the release block should name v1.2.3 for linux_amd64, download from GitHub's release URL and install into /usr/local/bin:\n%s", block)
	}
	// The release as make dist builds it, for this machine's platform;
	// SHA256SUMS also names an archive of another platform, as a real
	// release's does, which is not downloaded (--ignore-missing).
	const version = "v1.2.3"
	goos, goarch, _, _ := actionHost(t)
	base := "secflow-budget_" + version + "_" + goos + "_" + goarch
	dist := t.TempDir()
	actionMakeDist(t, dist, version)
	archive, err := os.ReadFile(filepath.Join(dist, base+".tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sums = append(sums, fmt.Sprintf("%x  secflow-budget_%s_windows_arm64.zip\n", sha256.Sum256([]byte("another platform")), version)...)

	// release serves archive as the release's download, runs the block
	// (the GitHub URL replaced by the server's, the install directory by a
	// temporary one, the platform by this machine's) and returns its exit
	// code and output, where it ran and where it installed.
	release := func(t *testing.T, archive []byte) (code int, out, work, binDir string) {
		t.Helper()
		root := t.TempDir()
		dir := filepath.Join(root, "secflow", "secflow-budget", "releases", "download", version)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range map[string][]byte{base + ".tar.gz": archive, "SHA256SUMS": sums} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		srv := httptest.NewServer(http.FileServer(http.Dir(root)))
		t.Cleanup(srv.Close)
		binDir = t.TempDir()
		script := strings.Replace(block, github, "R="+srv.URL+"/secflow/secflow-budget/releases/download/$V\n", 1)
		script = strings.Replace(script, "P=linux_amd64 ", "P="+goos+"_"+goarch+" ", 1)
		script = strings.Replace(script, "sudo install ", "install ", 1)
		script = strings.Replace(script, " /usr/local/bin/\n", " \"$DOCS_BIN/\"\n", 1)
		work = t.TempDir()
		code, out = docsRun(t, work, append(docsBaseEnv(t), "DOCS_BIN="+binDir), "bash", "-c", script)
		return code, out, work, binDir
	}

	t.Run("verified and installed", func(t *testing.T) {
		code, out, work, binDir := release(t, archive)
		if code != 0 || !strings.Contains(out, base+".tar.gz: OK\n") {
			t.Fatalf("exit %d, want 0 and %q:\n%s", code, base+".tar.gz: OK", out)
		}
		installed, err := os.ReadFile(filepath.Join(binDir, "secflow-budget"))
		if err != nil {
			t.Fatal(err)
		}
		unpacked, err := os.ReadFile(filepath.Join(work, base, "secflow-budget"))
		if err != nil || !bytes.Equal(installed, unpacked) {
			t.Errorf("the installed binary is not the archive's (%v)", err)
		}
		if doc, err := os.ReadFile(filepath.Join(work, base, "README.md")); err != nil || string(doc) != readme {
			t.Errorf("the archive's README.md is not this README (%v)", err)
		}
		code, out = docsRun(t, work, docsBaseEnv(t), filepath.Join(binDir, "secflow-budget"), "--version")
		if want := "secflow-budget " + version + " (commit abc1234, "; code != 0 || !strings.HasPrefix(out, want) {
			t.Errorf("the installed binary's --version: exit %d, %q, want %q...", code, out, want)
		}
	})

	t.Run("tampered archive: refused, nothing unpacked or installed", func(t *testing.T) {
		bad := bytes.Clone(archive)
		bad[len(bad)/2] ^= 0xff
		code, out, work, binDir := release(t, bad)
		if code == 0 || !strings.Contains(out, base+".tar.gz: FAILED") {
			t.Errorf("exit %d, want a failure and %q:\n%s", code, base+".tar.gz: FAILED", out)
		}
		for _, p := range []string{filepath.Join(work, base), filepath.Join(binDir, "secflow-budget")} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists after a failed checksum (%v)", p, err)
			}
		}
	})
}
