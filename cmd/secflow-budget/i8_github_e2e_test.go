package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// The GitHub-native reports (issue 8, item 3), run as GitHub Actions runs
// the binary: GITHUB_ACTIONS=true, a workspace, a step summary file.

// ghDegradedHeadline is the Markdown headline of the degraded snapshot:
// the eight violations worst first (log-redaction breaks a limit of 0).
const ghDegradedHeadline = "## ❌ secflow-budget: FAIL – 10 of 17 budgets failed: log-redaction, log-structure, log-levels, task-duration, log-volume and 5 more"

// ghRepoPath is a path of the repository as an absolute path, for runs
// from another directory.
func ghRepoPath(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(repo, rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// ghWriteBudgets writes a budgets file of metric budgets answered by any
// snapshot: over-NN fail (value 10+NN, max 1: the higher NN, the further
// over), warn-NN warn (value 2+NN, warn_max 1, max 1000), ok-NN pass.
func ghWriteBudgets(t *testing.T, path string, fail, warn, pass int) {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nbudgets:\n")
	for i := range fail {
		fmt.Fprintf(&b, "  - name: over-%03d\n    type: metric\n    expr: vector(%d)\n    max: 1\n", i, 10+i)
	}
	for i := range warn {
		fmt.Fprintf(&b, "  - name: warn-%03d\n    type: metric\n    expr: vector(%d)\n    max: 1000\n    warn_max: 1\n", i, 2+i)
	}
	for i := range pass {
		fmt.Fprintf(&b, "  - name: ok-%03d\n    type: metric\n    expr: vector(0)\n    max: 1\n", i)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ghRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// ghActionsEnv is the environment of a GitHub Actions step.
func ghActionsEnv(workspace, summary string) []string {
	return []string{"GITHUB_ACTIONS=true", "GITHUB_WORKSPACE=" + workspace, "GITHUB_STEP_SUMMARY=" + summary}
}

// TestGHStepSummaryAppends: a pre-filled step summary keeps what earlier
// steps wrote and gains the Markdown report, the same as --report
// markdown writes, after a blank line; a second run appends again.
func TestGHStepSummaryAppends(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "step_summary.md")
	const earlier = "## Build\n\nbuilt 3 binaries"
	if err := os.WriteFile(summary, []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"check", "--offline", "testdata/snapshots/degraded", "--report", "markdown=" + filepath.Join(dir, "r.md")}
	r := run(t, ghActionsEnv(ghRepoPath(t, "."), summary), args...)
	expectCode(t, r, 1)
	if r.stderr != "" {
		t.Errorf("stderr = %q, want nothing", r.stderr)
	}
	md := ghRead(t, filepath.Join(dir, "r.md"))
	lines := strings.Split(md, "\n")
	if lines[0] != "<!-- secflow-budget -->" || lines[1] != ghDegradedHeadline {
		t.Fatalf("Markdown report starts\n%s\n%s", lines[0], lines[1])
	}
	got := ghRead(t, summary)
	if want := earlier + "\n" + md; got != want {
		t.Errorf("step summary:\n%s\nwant the earlier content, a blank line and the report:\n%s", got, want)
	}

	// A second run (another check in the same step) appends its own.
	r = run(t, ghActionsEnv(ghRepoPath(t, "."), summary), "check", "--offline", "testdata/snapshots/healthy", "--format", "json")
	expectCode(t, r, 0)
	got2 := ghRead(t, summary)
	if !strings.HasPrefix(got2, got+"\n<!-- secflow-budget -->\n## ✅ secflow-budget: PASS – all 17 budgets passed\n") {
		t.Errorf("second run did not append its report after the first:\n%s", got2[len(got):])
	}
	if n := strings.Count(got2, "<!-- secflow-budget -->"); n != 2 {
		t.Errorf("%d reports in the summary, want 2", n)
	}
}

// TestGHStepSummaryOnConfigError: a run stopped by an invalid budgets file
// (exit 2) still leaves a short report in the step summary: where the
// error is and what it says.
func TestGHStepSummaryOnConfigError(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	if err := os.WriteFile(summary, []byte("earlier\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "budgets.yaml")
	if err := os.WriteFile(bad, []byte("version: 1\nbudgets:\n  - name: x\n    type: metric\n    expr: vector(1)\n    max: abc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, ghActionsEnv(ghRepoPath(t, "."), summary), "check", "-c", bad, "--offline", "testdata/snapshots/degraded")
	expectCode(t, r, 2)
	want := "earlier\n\n<!-- secflow-budget -->\n" +
		"## 💥 secflow-budget: ERROR – no budget ran (exit 2)\n\n" +
		"- `" + bad + ":6:10 budgets[0].max`: invalid number \"abc\": want a finite number such as 10000 or 0.5\n\n" +
		"<sub>secflow-budget " + ghToolVersion(t) + " · offline</sub>\n"
	if got := ghRead(t, summary); got != want {
		t.Errorf("step summary:\n%s\nwant:\n%s", got, want)
	}
}

// ghToolVersion is the version the binary reports.
func ghToolVersion(t *testing.T) string {
	t.Helper()
	r := run(t, nil, "--version")
	expectCode(t, r, 0)
	f := strings.Fields(r.stdout)
	if len(f) < 2 {
		t.Fatalf("--version printed %q", r.stdout)
	}
	return f[1]
}

// TestGHNoStepSummary: --no-step-summary, or a run outside GitHub Actions,
// leaves the summary file as it was.
func TestGHNoStepSummary(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	const earlier = "earlier step\n"
	for _, tc := range []struct {
		name string
		env  []string
		args []string
	}{
		{"--no-step-summary", ghActionsEnv(ghRepoPath(t, "."), summary), []string{"--no-step-summary"}},
		{"outside GitHub Actions", []string{"GITHUB_STEP_SUMMARY=" + summary}, nil},
		{"GITHUB_ACTIONS not true", append([]string{"GITHUB_ACTIONS=false"}, ghActionsEnv(ghRepoPath(t, "."), summary)[1:]...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(summary, []byte(earlier), 0o644); err != nil {
				t.Fatal(err)
			}
			r := run(t, tc.env, append([]string{"check", "--offline", "testdata/snapshots/degraded", "--format", "json"}, tc.args...)...)
			expectCode(t, r, 1)
			if got := ghRead(t, summary); got != earlier {
				t.Errorf("summary changed to:\n%s", got)
			}
			if r.stderr != "" {
				t.Errorf("stderr = %q", r.stderr)
			}
		})
	}
}

// TestGHStepSummaryNotTwice: a --report markdown to the step summary file
// (by its name or through a link) is the only report written there.
func TestGHStepSummaryNotTwice(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.md")
	link := filepath.Join(dir, "link.md")
	if err := os.Symlink(summary, link); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{summary, link} {
		if err := os.WriteFile(summary, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		r := run(t, ghActionsEnv(ghRepoPath(t, "."), summary), "check", "--offline", "testdata/snapshots/degraded", "--format", "json", "--report", "markdown="+target)
		expectCode(t, r, 1)
		got := ghRead(t, summary)
		if n := strings.Count(got, "<!-- secflow-budget -->"); n != 1 || !strings.HasPrefix(got, "<!-- secflow-budget -->\n"+ghDegradedHeadline+"\n") {
			t.Errorf("--report markdown=%s: %d reports in the summary, want exactly the one asked for:\n%s", target, n, got)
		}
	}
}

// TestGHStepSummaryTrouble: no GITHUB_STEP_SUMMARY, or one that cannot be
// opened, is one line on stderr; the exit code and the reports are those of
// the run.
func TestGHStepSummaryTrouble(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	for _, tc := range []struct {
		name, summary, stderr string
	}{
		{"unset", "", "warning: GITHUB_ACTIONS is true but GITHUB_STEP_SUMMARY is not set: no step summary written (--no-step-summary stops trying)\n"},
		{"a directory", dir, "warning: appending the step summary to " + dir + " (GITHUB_STEP_SUMMARY): open " + dir + ": is a directory; the exit code is unchanged\n"},
		{"a missing directory", filepath.Join(dir, "nope", "s.md"), "warning: appending the step summary to " + filepath.Join(dir, "nope", "s.md") +
			" (GITHUB_STEP_SUMMARY): open " + filepath.Join(dir, "nope", "s.md") + ": no such file or directory; the exit code is unchanged\n"},
		// Nobody reads it: the run must not hang opening it.
		{"a FIFO nobody reads", fifo, "warning: appending the step summary to " + fifo + " (GITHUB_STEP_SUMMARY): open " + fifo + ": no such device or address; the exit code is unchanged\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := ghActionsEnv(ghRepoPath(t, "."), tc.summary)
			if tc.summary == "" {
				env = env[:2]
			}
			r := run(t, env, "check", "--offline", "testdata/snapshots/degraded", "--only", "sandbox-failure-ratio", "--format", "json")
			expectCode(t, r, 0)
			if r.stderr != tc.stderr {
				t.Errorf("stderr = %q\nwant     %q", r.stderr, tc.stderr)
			}
			if !strings.Contains(r.stdout, `"status": "warn"`) {
				t.Errorf("stdout is not the run's JSON report:\n%s", r.stdout)
			}
		})
	}
}

// TestGHAnnotationsRelativeToWorkspace: run from a subdirectory of the
// workspace with -c ../x/budgets.yaml, annotations name x/budgets.yaml
// with the budget's line and column; outside GitHub Actions the path is
// the one given; a budgets file outside the workspace is named in the
// message instead.
func TestGHAnnotationsRelativeToWorkspace(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	sub := filepath.Join(ws, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	ghWriteBudgets(t, filepath.Join(ws, "x", "budgets.yaml"), 2, 0, 1)
	ghWriteBudgets(t, filepath.Join(root, "outside.yaml"), 1, 0, 0)
	wsLink := filepath.Join(root, "ws-link")
	if err := os.Symlink(ws, wsLink); err != nil {
		t.Fatal(err)
	}
	snap := ghRepoPath(t, "testdata/snapshots/degraded")
	summary := filepath.Join(root, "summary.md")
	outside, err := filepath.EvalSymlinks(filepath.Join(root, "outside.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		env    []string
		config string
		want   []string // the lines up to each message
		inMsg  string
	}{
		{"in the workspace", ghActionsEnv(ws, summary), "../x/budgets.yaml", []string{
			"::error file=x/budgets.yaml,line=7,col=5,title=secflow-budget%3A over-001::11 > 1%0A",
			"::error file=x/budgets.yaml,line=3,col=5,title=secflow-budget%3A over-000::10 > 1%0A",
		}, ""},
		{"a workspace named through a link", ghActionsEnv(wsLink, summary), "../x/budgets.yaml", []string{
			"::error file=x/budgets.yaml,line=7,col=5,title=secflow-budget%3A over-001::",
			"::error file=x/budgets.yaml,line=3,col=5,title=secflow-budget%3A over-000::",
		}, ""},
		{"outside GitHub Actions", nil, "../x/budgets.yaml", []string{
			"::error file=../x/budgets.yaml,line=7,col=5,title=secflow-budget%3A over-001::",
			"::error file=../x/budgets.yaml,line=3,col=5,title=secflow-budget%3A over-000::",
		}, ""},
		{"a budgets file outside the workspace", ghActionsEnv(ws, summary), "../../outside.yaml", []string{
			"::error title=secflow-budget%3A over-000::10 > 1%0A",
		}, "%0Abudget at " + outside + ":3:5 (outside GITHUB_WORKSPACE, so not annotated there)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runIn(t, sub, tc.env, "check", "-c", tc.config, "--offline", snap, "--format", "github")
			expectCode(t, r, 1)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			if len(lines) != len(tc.want)+1 {
				t.Fatalf("%d lines, want %d annotations and the notice:\n%s", len(lines), len(tc.want), r.stdout)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d = %q\nwant it to start %q", i+1, lines[i], w)
				}
			}
			if tc.inMsg != "" && !strings.Contains(r.stdout, tc.inMsg) {
				t.Errorf("annotation lacks %q:\n%s", tc.inMsg, r.stdout)
			}
		})
	}
}

// TestGHAnnotationCap: 25 failing budgets and 3 warnings in GitHub Actions
// give exactly 10 ::error lines (the furthest over), the 3 warnings, and
// one notice saying 15 error annotations were left out.
func TestGHAnnotationCap(t *testing.T) {
	dir := t.TempDir()
	budgets := filepath.Join(dir, "budgets.yaml")
	ghWriteBudgets(t, budgets, 25, 3, 2)
	jsonReport := filepath.Join(dir, "r.json")
	r := runIn(t, dir, ghActionsEnv(dir, filepath.Join(dir, "summary.md")), "check", "-c", "budgets.yaml",
		"--offline", ghRepoPath(t, "testdata/snapshots/degraded"), "--format", "github", "--report", "json="+jsonReport)
	expectCode(t, r, 1)
	var errs, warns, notices []string
	re := regexp.MustCompile(`^::(error|warning|notice) (?:file=budgets\.yaml,line=\d+,col=5,)?title=secflow-budget(?:%3A ([a-z0-9-]+))?::(.*)$`)
	for _, l := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("not a workflow command of ours: %q", l)
		}
		switch m[1] {
		case "error":
			errs = append(errs, m[2])
		case "warning":
			warns = append(warns, m[2])
		case "notice":
			notices = append(notices, m[3])
		}
	}
	if got, want := strings.Join(errs, ","), "over-024,over-023,over-022,over-021,over-020,over-019,over-018,over-017,over-016,over-015"; got != want {
		t.Errorf("::error for %s\nwant %s", got, want)
	}
	if got, want := strings.Join(warns, ","), "warn-002,warn-001,warn-000"; got != want {
		t.Errorf("::warning for %s, want %s", got, want)
	}
	want := "30 budgets: 2 passed, 3 warnings, 25 failed, 0 errors, 0 skipped → FAIL (exit 1); 15 error annotations left out " +
		"(GitHub shows 10 of each kind per step): every budget is in the JSON report " + jsonReport
	if len(notices) != 1 || notices[0] != want {
		t.Errorf("notices = %q\nwant one: %q", notices, want)
	}
	// The JSON report the notice points at has all 25.
	rep := readReport(t, jsonReport)
	if rep.Summary["fail"] != 25 || len(rep.Budgets) != 30 {
		t.Errorf("JSON report: summary %v, %d budgets", rep.Summary, len(rep.Budgets))
	}
}

// TestGHMarkdownCapE2E: 700 failing and 400 passing budgets make a
// Markdown report over 60,000 bytes: the step summary gains it cut to fit,
// whole budgets worst first, well-formed, with the note.
func TestGHMarkdownCapE2E(t *testing.T) {
	dir := t.TempDir()
	ghWriteBudgets(t, filepath.Join(dir, "budgets.yaml"), 700, 0, 400)
	summary := filepath.Join(dir, "summary.md")
	r := runIn(t, dir, ghActionsEnv(dir, summary), "check", "--offline", ghRepoPath(t, "testdata/snapshots/degraded"),
		"--format", "json", "-o", "r.json")
	expectCode(t, r, 1)
	md := ghRead(t, summary)
	if len(md) > 60000 || len(md) < 55000 {
		t.Errorf("step summary is %d bytes, want just under 60,000", len(md))
	}
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if lines[0] != "<!-- secflow-budget -->" ||
		lines[1] != "## ❌ secflow-budget: FAIL – 700 of 1100 budgets failed: over-699, over-698, over-697, over-696, over-695 and 695 more" {
		t.Errorf("starts\n%s\n%s", lines[0], lines[1])
	}
	rowRE := regexp.MustCompile("^\\| ❌ \\| `(over-\\d{3})` \\| \\d+ > 1 \\|$")
	var rows []string
	for i, l := range lines {
		if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| Status |") && !strings.HasPrefix(l, "| :-: |") {
			m := rowRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("line %d is not a whole row of a failing budget: %q", i+1, l)
			}
			rows = append(rows, m[1])
		}
		if strings.Contains(l, "<details>") || strings.Contains(l, "</details>") {
			t.Errorf("line %d: <details> though no passing budget fits: %q", i+1, l)
		}
	}
	for i, name := range rows {
		if want := fmt.Sprintf("over-%03d", 699-i); name != want {
			t.Fatalf("row %d is %s, want %s (worst first)", i+1, name, want)
		}
		if !strings.Contains(md, "\n#### ❌ `"+name+"`\n") {
			t.Errorf("%s has a row but no details", name)
		}
	}
	left := 1100 - len(rows)
	note := fmt.Sprintf("✂️ This report was cut to fit 60,000 characters: %d of 1100 budgets are left out, %d of which did not pass. Every budget is in the JSON report r.json.",
		left, 700-len(rows))
	if lines[len(lines)-3] != note || !strings.HasPrefix(lines[len(lines)-1], "<sub>secflow-budget ") {
		t.Errorf("ends\n%s\n%s\nwant the note\n%s", lines[len(lines)-3], lines[len(lines)-1], note)
	}
}
