package report

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/checks"
)

// ghBudget is a budget of status s whose one result is value against the
// limit "<= limit" (a warning: against the warn limit); value NaN gives a
// budget without a comparable result.
func ghBudget(name string, s checks.Status, value, limit float64) checks.Outcome {
	o := checks.Outcome{Name: name, Type: "metric", Category: "performance", Severity: "error",
		Status: s, Message: fmt.Sprintf("%s is %s", name, s)}
	if math.IsNaN(value) {
		if s == checks.Error {
			o.Err = &checks.OutcomeError{Kind: "unavailable", Message: "connection refused"}
		}
		return o
	}
	r := checks.Result{Subject: name, Labels: map[string]string{}, Value: f(value), Unit: "seconds", Op: "<=", Status: s}
	if s == checks.Warn {
		r.Limit, r.WarnLimit = f(limit*3), f(limit)
	} else {
		r.Limit = f(limit)
	}
	o.Results = []checks.Result{r}
	return o
}

func ghRun(failOn checks.Status, outcomes ...checks.Outcome) *Run {
	run := &Run{ToolName: "secflow-budget", Version: "1.2.3", Mode: "offline", Target: "snap",
		Outcomes: outcomes, FailOn: failOn}
	for _, o := range outcomes {
		run.Status = max(run.Status, o.Status)
	}
	switch {
	case run.Verdict() == checks.Fail:
		run.ExitCode = 1
	case run.Verdict() == checks.Error:
		run.ExitCode = 3
	}
	return run
}

func ghNames(os []*checks.Outcome) string {
	var names []string
	for _, o := range os {
		names = append(names, o.Name)
	}
	return strings.Join(names, ",")
}

// ghAnnotated lists the budgets of one annotation command, in output order.
func ghAnnotated(out, cmd string) []string {
	var names []string
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "::"+cmd+" ") {
			continue
		}
		_, rest, ok := strings.Cut(l, "title=secflow-budget%3A ")
		if !ok {
			continue // the summary notice
		}
		name, _, _ := strings.Cut(rest, "::")
		names = append(names, name)
	}
	return names
}

// TestGHWorstFirst: violations, then undecided budgets, then warnings that
// fail the run, then other warnings, skips and passes; within a status the
// budget furthest past its limit first, then those without a comparable
// value, each group in budgets.yaml order.
func TestGHWorstFirst(t *testing.T) {
	nan := math.NaN()
	outcomes := []checks.Outcome{
		ghBudget("pass-a", checks.Pass, 1, 10),
		ghBudget("warn-small", checks.Warn, 11, 10), // 10% past the warn limit
		ghBudget("fail-small", checks.Fail, 11, 10), // 10% over
		ghBudget("skip-a", checks.Skip, nan, 0),
		ghBudget("error-a", checks.Error, nan, 0),
		ghBudget("fail-nodata", checks.Fail, nan, 0),
		ghBudget("fail-big", checks.Fail, 30, 10), // 200% over
		ghBudget("warn-big", checks.Warn, 25, 10), // 150% past the warn limit
		ghBudget("fail-mid", checks.Fail, 15, 10), // 50% over
		ghBudget("error-b", checks.Error, nan, 0),
		ghBudget("fail-zero", checks.Fail, 1, 0), // a broken limit of 0: infinitely over
		ghBudget("pass-b", checks.Pass, 2, 10),
	}
	tests := []struct {
		failOn checks.Status
		want   string
	}{
		{checks.Fail, "fail-zero,fail-big,fail-mid,fail-small,fail-nodata,error-a,error-b,warn-big,warn-small,skip-a,pass-a,pass-b"},
		// Under --fail-on warn the warnings fail the run, after the errors.
		{checks.Warn, "fail-zero,fail-big,fail-mid,fail-small,fail-nodata,error-a,error-b,warn-big,warn-small,skip-a,pass-a,pass-b"},
	}
	for _, tc := range tests {
		run := ghRun(tc.failOn, outcomes...)
		if got := ghNames(worstFirst(run)); got != tc.want {
			t.Errorf("fail-on %s: worstFirst = %s\nwant %s", tc.failOn, got, tc.want)
		}
		out := render(t, "github", run, Options{Emoji: true})
		errs, warns := strings.Join(ghAnnotated(out, "error"), ","), strings.Join(ghAnnotated(out, "warning"), ",")
		wantErrs, wantWarns := "fail-zero,fail-big,fail-mid,fail-small,fail-nodata,error-a,error-b", "warn-big,warn-small"
		if tc.failOn == checks.Warn {
			wantErrs, wantWarns = wantErrs+","+wantWarns, ""
		}
		if errs != wantErrs || warns != wantWarns {
			t.Errorf("fail-on %s: ::error %s, ::warning %s\nwant ::error %s, ::warning %s", tc.failOn, errs, warns, wantErrs, wantWarns)
		}
		var rows []string
		for _, l := range strings.Split(render(t, "markdown", run, Options{Emoji: true}), "\n") {
			if m := regexp.MustCompile("^\\| \\S+ \\| `([a-z-]+)` \\|").FindStringSubmatch(l); m != nil {
				rows = append(rows, m[1])
			}
		}
		// The Markdown lists the same order; the folded tables keep the
		// budgets.yaml order within their area.
		if got, want := strings.Join(rows, ","), "fail-zero,fail-big,fail-mid,fail-small,fail-nodata,error-a,error-b,warn-big,warn-small,pass-a,skip-a,pass-b"; got != want {
			t.Errorf("fail-on %s: Markdown rows %s\nwant %s", tc.failOn, got, want)
		}
	}
}

func TestGHOvershoot(t *testing.T) {
	res := func(v float64, op string, limit, warn *float64, s checks.Status) checks.Result {
		return checks.Result{Value: f(v), Op: op, Limit: limit, WarnLimit: warn, Status: s}
	}
	tests := []struct {
		name   string
		o      checks.Outcome
		want   float64
		wantOK bool
	}{
		{"past the hard limit", checks.Outcome{Status: checks.Fail, Results: []checks.Result{res(150, "<=", f(100), nil, checks.Fail)}}, 0.5, true},
		{"under a minimum", checks.Outcome{Status: checks.Fail, Results: []checks.Result{res(20, ">=", f(80), nil, checks.Fail)}}, 0.75, true},
		{"a warning past its warn limit", checks.Outcome{Status: checks.Warn, Results: []checks.Result{res(120, "<=", f(200), f(100), checks.Warn)}}, 0.2, true},
		{"severity warning: past the hard limit", checks.Outcome{Status: checks.Warn, Results: []checks.Result{res(300, "<=", f(200), f(100), checks.Warn)}}, 0.5, true},
		{"the worst result of the budget's status", checks.Outcome{Status: checks.Fail, Results: []checks.Result{
			res(110, "<=", f(100), nil, checks.Fail), res(900, "<=", f(100), f(50), checks.Warn), res(130, "<=", f(100), nil, checks.Fail)}}, 0.3, true},
		{"a broken limit of 0", checks.Outcome{Status: checks.Fail, Results: []checks.Result{res(3, "<=", f(0), nil, checks.Fail)}}, math.Inf(1), true},
		{"+Inf past a limit", checks.Outcome{Status: checks.Fail, Results: []checks.Result{res(math.Inf(1), "<=", f(5), nil, checks.Fail)}}, math.Inf(1), true},
		{"no value", checks.Outcome{Status: checks.Fail, Results: []checks.Result{{Op: "<=", Limit: f(1), Status: checks.Fail}}}, 0, false},
		{"NaN", checks.Outcome{Status: checks.Error, Results: []checks.Result{res(math.NaN(), "<=", f(1), nil, checks.Error)}}, 0, false},
		{"no results", checks.Outcome{Status: checks.Error}, 0, false},
	}
	for _, tc := range tests {
		got, ok := overshoot(&tc.o)
		if ok != tc.wantOK || ok && math.Abs(got-tc.want) > 1e-9 && got != tc.want {
			t.Errorf("%s: overshoot = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.wantOK)
		}
	}
}

// TestGHAnnotationCap: inside GitHub Actions at most ten error and ten
// warning annotations, the worst, and one notice saying how many were left
// out; outside it every budget is annotated.
func TestGHAnnotationCap(t *testing.T) {
	var outcomes []checks.Outcome
	for i := range 25 {
		outcomes = append(outcomes, ghBudget(fmt.Sprintf("fail-%02d", i), checks.Fail, float64(11+i), 10))
	}
	for i := range 12 {
		outcomes = append(outcomes, ghBudget(fmt.Sprintf("warn-%02d", i), checks.Warn, float64(11+i), 10))
	}
	outcomes = append(outcomes, ghBudget("ok", checks.Pass, 1, 10))
	run := ghRun(checks.Fail, outcomes...)

	out := render(t, "github", run, Options{Emoji: true, GitHubActions: true, FullReport: "the JSON report r.json"})
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 21 {
		t.Fatalf("%d lines, want 10 errors, 10 warnings and a notice:\n%s", len(lines), out)
	}
	// The furthest over first: fail-24 (250% over) down to fail-15.
	wantErrs := "fail-24,fail-23,fail-22,fail-21,fail-20,fail-19,fail-18,fail-17,fail-16,fail-15"
	wantWarns := "warn-11,warn-10,warn-09,warn-08,warn-07,warn-06,warn-05,warn-04,warn-03,warn-02"
	if got := strings.Join(ghAnnotated(out, "error"), ","); got != wantErrs {
		t.Errorf("::error for %s\nwant %s", got, wantErrs)
	}
	if got := strings.Join(ghAnnotated(out, "warning"), ","); got != wantWarns {
		t.Errorf("::warning for %s\nwant %s", got, wantWarns)
	}
	wantNotice := "::notice title=secflow-budget::38 budgets: 1 passed, 12 warnings, 25 failed, 0 errors, 0 skipped → FAIL (exit 1); " +
		"15 error annotations and 2 warning annotations left out (GitHub shows 10 of each kind per step): every budget is in the JSON report r.json"
	if lines[20] != wantNotice {
		t.Errorf("notice = %q\nwant    %q", lines[20], wantNotice)
	}
	if n := strings.Count(out, "::notice "); n != 1 {
		t.Errorf("%d notices, want one", n)
	}

	// Exactly ten of a kind leaves nothing out and says nothing of it.
	run10 := ghRun(checks.Fail, outcomes[15:25]...)
	out = render(t, "github", run10, Options{Emoji: true, GitHubActions: true})
	if got := strings.Join(ghAnnotated(out, "error"), ","); got != wantErrs {
		t.Errorf("ten failures: ::error for %s", got)
	}
	if strings.Contains(out, "left out") {
		t.Errorf("ten failures: the notice says something was left out:\n%s", out)
	}

	// Outside GitHub Actions nothing is dropped.
	out = render(t, "github", run, Options{Emoji: true})
	if e, w := len(ghAnnotated(out, "error")), len(ghAnnotated(out, "warning")); e != 25 || w != 12 || strings.Contains(out, "left out") {
		t.Errorf("outside Actions: %d errors, %d warnings, want 25 and 12 and no note:\n%s", e, w, out)
	}

	// Waived budgets are notices: nine of them, so that the summary
	// notice is the tenth.
	var withWaived []checks.Outcome
	withWaived = append(withWaived, outcomes[:12]...)
	for i := range 12 {
		withWaived = append(withWaived, ghBudget(fmt.Sprintf("waived-%02d", i), checks.Waived, 20, 10))
	}
	out = render(t, "github", ghRun(checks.Fail, withWaived...), Options{Emoji: true, GitHubActions: true})
	if got := strings.Join(ghAnnotated(out, "notice"), ","); got != "waived-00,waived-01,waived-02,waived-03,waived-04,waived-05,waived-06,waived-07,waived-08" {
		t.Errorf("waived: ::notice for %s", got)
	}
	if n := strings.Count(out, "::notice "); n != 10 {
		t.Errorf("waived: %d notices, want 10", n)
	}
	if !strings.Contains(out, "; 2 error annotations and 3 notice annotations left out (GitHub shows 10 of each kind per step)") {
		t.Errorf("waived: notice:\n%s", out)
	}

	// Under --fail-on warn the warnings are errors: the ten worst
	// annotations are all violations, and 27 are left out.
	out = render(t, "github", ghRun(checks.Warn, outcomes...), Options{Emoji: true, GitHubActions: true})
	if got := strings.Join(ghAnnotated(out, "error"), ","); got != wantErrs || len(ghAnnotated(out, "warning")) != 0 {
		t.Errorf("fail-on warn: ::error for %s, ::warning for %v", got, ghAnnotated(out, "warning"))
	}
	if !strings.Contains(out, "; 27 error annotations left out (GitHub shows 10 of each kind per step): every budget is in a JSON report (--report json=FILE)\n") {
		t.Errorf("fail-on warn: notice:\n%s", out)
	}
}

// TestGHWorkspaceFile: inside GitHub Actions file= is relative to the
// workspace, both resolved through symlinks, with line= and col=; a
// budgets file outside the workspace has no file= and its path is in the
// message; without a workspace the file is named as given.
func TestGHWorkspaceFile(t *testing.T) {
	root := t.TempDir()
	ws := filepath.Join(root, "ws")
	if err := os.MkdirAll(filepath.Join(ws, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(ws, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(ws, "x", "budgets.yaml"), filepath.Join(root, "elsewhere.yaml")} {
		if err := os.WriteFile(p, []byte("version: 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The workspace as the runner names it may be a link to the checkout.
	link := filepath.Join(root, "ws-link")
	if err := os.Symlink(ws, link); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(ws, "sub"))
	outsideAbs, err := filepath.EvalSymlinks(filepath.Join(root, "elsewhere.yaml"))
	if err != nil {
		t.Fatal(err)
	}

	budget := func(file string) *Run {
		o := ghBudget("slow", checks.Fail, 20, 10)
		o.File, o.Line, o.Column = file, 12, 5
		return ghRun(checks.Fail, o)
	}
	tests := []struct {
		name, file, workspace string
		want                  string // the annotation up to its message
		wantInMessage         string
	}{
		{"relative from a subdirectory", "../x/budgets.yaml", ws,
			"::error file=x/budgets.yaml,line=12,col=5,title=secflow-budget%3A slow::", ""},
		{"through the workspace's link", "../x/budgets.yaml", link,
			"::error file=x/budgets.yaml,line=12,col=5,title=secflow-budget%3A slow::", ""},
		{"absolute through the link", filepath.Join(link, "x", "budgets.yaml"), ws,
			"::error file=x/budgets.yaml,line=12,col=5,title=secflow-budget%3A slow::", ""},
		{"outside the workspace", "../../elsewhere.yaml", ws,
			"::error title=secflow-budget%3A slow::", "%0Abudget at " + outsideAbs + ":12:5 (outside GITHUB_WORKSPACE, so not annotated there)\n"},
		{"no workspace: as given", "../x/budgets.yaml", "",
			"::error file=../x/budgets.yaml,line=12,col=5,title=secflow-budget%3A slow::", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := render(t, "github", budget(tc.file), Options{GitHubActions: tc.workspace != "", Workspace: tc.workspace})
			first, _, _ := strings.Cut(out, "\n")
			if !strings.HasPrefix(first, tc.want) {
				t.Errorf("annotation = %q\nwant it to start %q", first, tc.want)
			}
			if tc.wantInMessage != "" && !strings.Contains(out, tc.wantInMessage) {
				t.Errorf("annotation = %q\nwant it to contain %q", first, tc.wantInMessage)
			}
		})
	}
}

// ghCheckMarkdown checks what a cut must never break: the marker first,
// <details> balanced and never nested, every table row whole (three
// cells), code spans closed on their line, the footer last.
func ghCheckMarkdown(t *testing.T, md string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if lines[0] != MarkdownMarker {
		t.Errorf("first line %q, want the marker", lines[0])
	}
	if !strings.HasSuffix(md, "\n") || !strings.HasPrefix(lines[len(lines)-1], "<sub>secflow-budget 1.2.3 ") {
		t.Errorf("does not end with the footer line: %q", lines[len(lines)-1])
	}
	open := 0
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "<details>"):
			open++
			if open > 1 {
				t.Errorf("line %d: nested <details>", i+1)
			}
		case l == "</details>":
			open--
			if open < 0 {
				t.Errorf("line %d: </details> without <details>", i+1)
			}
		case strings.HasPrefix(l, "| "):
			if n := tableCells(l); n != 3 || !strings.HasSuffix(l, " |") {
				t.Errorf("line %d: broken table row (%d cells): %q", i+1, n, l)
			}
		}
		if n := strings.Count(strings.ReplaceAll(l, "\\`", ""), "`"); n%2 != 0 {
			t.Errorf("line %d: unbalanced backticks: %q", i+1, l)
		}
	}
	if open != 0 {
		t.Errorf("%d <details> left open", open)
	}
	if n := strings.Count(md, "<details>"); n > 1 {
		t.Errorf("%d <details> blocks, want at most one", n)
	}
}

// ghBigRun has failing budgets whose details are long (a message full of
// Markdown and HTML that must stay text) and passing budgets.
func ghBigRun(failing, passing int) *Run {
	var outcomes []checks.Outcome
	for i := range failing {
		o := ghBudget(fmt.Sprintf("fail-%03d", i), checks.Fail, float64(1000-i), 10)
		o.Message = fmt.Sprintf("</details> <b>%d</b> `x` | *y* [z](http://e) <!--", i)
		for j := range 20 {
			o.Details = append(o.Details, fmt.Sprintf("offender %d/%d: {service=\"s%d\"} %s", i, j, j, strings.Repeat("x", 40)))
		}
		outcomes = append(outcomes, o)
	}
	for i := range passing {
		outcomes = append(outcomes, ghBudget(fmt.Sprintf("pass-%03d", i), checks.Pass, 1, 10))
	}
	return ghRun(checks.Fail, outcomes...)
}

// TestGHMarkdownCap: a report over 60,000 bytes keeps the first budgets of
// its reading order, whole, and ends with a note saying how many were left
// out and where they are; it stays well-formed wherever the cut falls.
func TestGHMarkdownCap(t *testing.T) {
	tests := []struct {
		name              string
		failing, passing  int
		wantDetails       bool
		wantLeft, wantBad int // budgets left out, of which not passing
	}{
		// 60 failing budgets of ~1.6 KB each: the cut falls among them,
		// and the passing ones (never reached) have no <details>.
		{"cut among the failing budgets", 60, 40, false, 0, 0},
		// 30 failing fit; the cut falls inside the folded passing ones.
		{"cut among the passing budgets", 30, 1000, true, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := ghBigRun(tc.failing, tc.passing)
			full := func() string {
				m := markdown{opts: Options{Emoji: true}, sym: symbolsFor(true)}
				order, notPassing := markdownOrder(run)
				m.write(run, order, notPassing, len(order))
				return m.b.String()
			}()
			if len(full) <= MaxMarkdownSize {
				t.Fatalf("the uncut report is %d bytes: the test needs more than %d", len(full), MaxMarkdownSize)
			}
			md := render(t, "markdown", run, Options{Emoji: true, FullReport: "the JSON report r.json"})
			if len(md) > MaxMarkdownSize {
				t.Errorf("report is %d bytes, over %d", len(md), MaxMarkdownSize)
			}
			if len(md) < MaxMarkdownSize-3000 {
				t.Errorf("report is %d bytes: cut further than needed (a budget is under 2 KB)", len(md))
			}
			ghCheckMarkdown(t, md)
			if got := strings.Contains(md, "<details>"); got != tc.wantDetails {
				t.Errorf("<details> present = %v, want %v", got, tc.wantDetails)
			}

			// What is shown is a prefix of the reading order, each
			// budget whole: its row and (for a failing one) its details.
			rows := regexp.MustCompile("(?m)^\\| \\S+ \\| `([a-z0-9-]+)` \\|").FindAllStringSubmatch(md, -1)
			order, _ := markdownOrder(run)
			for i, r := range rows {
				if r[1] != order[i].Name {
					t.Fatalf("row %d is %s, want %s: not a prefix of the reading order", i, r[1], order[i].Name)
				}
				var n int
				if _, err := fmt.Sscanf(r[1], "fail-%d", &n); err == nil && !strings.Contains(md, fmt.Sprintf("\n- offender %d/19:", n)) {
					t.Errorf("%s has its row but not all its details", r[1])
				}
			}
			left := len(order) - len(rows)
			bad := 0
			for _, o := range order[len(rows):] {
				if o.Status != checks.Pass {
					bad++
				}
			}
			if left == 0 {
				t.Fatal("nothing left out")
			}
			what := ""
			if bad > 0 {
				what = fmt.Sprintf(", %d of which did not pass", bad)
			}
			note := fmt.Sprintf("✂️ This report was cut to fit 60,000 characters: %d of %d budgets are left out%s. Every budget is in the JSON report r.json.",
				left, len(order), what)
			lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
			if got := lines[len(lines)-3]; got != note {
				t.Errorf("note = %q\nwant   %q", got, note)
			}
			// The headline still names what fails, all of it counted.
			if want := fmt.Sprintf("## ❌ secflow-budget: FAIL – %d of %d budgets failed: fail-000, fail-001, fail-002, fail-003, fail-004 and %d more",
				tc.failing, tc.failing+tc.passing, tc.failing-5); lines[1] != want {
				t.Errorf("headline = %q\nwant       %q", lines[1], want)
			}
			// Hostile text stays text: the only raw <details> tags are ours.
			if n := strings.Count(md, "</details>"); tc.wantDetails && n != 1 || !tc.wantDetails && n != 0 {
				t.Errorf("%d raw </details>: a message broke out", n)
			}
			if strings.Contains(md, "<b>") || strings.Contains(md, "<!--") && strings.Count(md, "<!--") != 1 {
				t.Errorf("a message's HTML is raw in the report")
			}
		})
	}
}

// TestGHMarkdownShape: the headline for each verdict, the passing and
// skipped budgets folded, nothing folded when nothing passed.
func TestGHMarkdownShape(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name     string
		run      *Run
		headline string
		summary  string // the <details> summary line, "" for none
	}{
		{"all pass", ghRun(checks.Fail, ghBudget("a", checks.Pass, 1, 10), ghBudget("b", checks.Pass, 1, 10)),
			"## ✅ secflow-budget: PASS – all 2 budgets passed", "<details><summary>✅ 2 passed</summary>"},
		{"one pass", ghRun(checks.Fail, ghBudget("a", checks.Pass, 1, 10)),
			"## ✅ secflow-budget: PASS – the budget passed", "<details><summary>✅ 1 passed</summary>"},
		{"skipped and waived", ghRun(checks.Fail, ghBudget("a", checks.Pass, 1, 10), ghBudget("s", checks.Skip, nan, 0),
			ghBudget("w", checks.Waived, 20, 10)),
			"## ⏭️ secflow-budget: SKIP – 1 of 3 budgets passed; 1 skipped: s; 1 waived: w", "<details><summary>✅ 1 passed · 🏳️ 1 waived · ⏭️ 1 skipped</summary>"},
		{"nothing passed", ghRun(checks.Fail, ghBudget("a", checks.Fail, 20, 10), ghBudget("b", checks.Error, nan, 0)),
			"## ❌ secflow-budget: FAIL – 1 of 2 budgets failed: a; 1 could not be decided: b", ""},
		{"many failures", ghRun(checks.Fail, ghBudget("f1", checks.Fail, 11, 10), ghBudget("f2", checks.Fail, 12, 10),
			ghBudget("f3", checks.Fail, 13, 10), ghBudget("f4", checks.Fail, 14, 10), ghBudget("f5", checks.Fail, 15, 10),
			ghBudget("f6", checks.Fail, 16, 10), ghBudget("f7", checks.Fail, 17, 10), ghBudget("s", checks.Skip, nan, 0)),
			"## ❌ secflow-budget: FAIL – 7 of 8 budgets failed: f7, f6, f5, f4, f3 and 2 more", "<details><summary>⏭️ 1 skipped</summary>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := render(t, "markdown", tc.run, Options{Emoji: true})
			ghCheckMarkdown(t, md)
			lines := strings.Split(md, "\n")
			if lines[1] != tc.headline {
				t.Errorf("headline = %q\nwant       %q", lines[1], tc.headline)
			}
			summary := ""
			for _, l := range lines {
				if strings.HasPrefix(l, "<details>") {
					summary = l
				}
			}
			if summary != tc.summary {
				t.Errorf("summary = %q, want %q", summary, tc.summary)
			}
		})
	}
}

// TestGHMarkdownErrorRun: a run stopped before any budget ran says so and
// where, after the marker.
func TestGHMarkdownErrorRun(t *testing.T) {
	run := NewErrorRun("secflow-budget", "1.2.3", "offline", 2, []RunError{
		{File: "budgets.yaml", Line: 7, Column: 12, Field: "budgets[0].max", Message: "invalid number \"<b>x</b>\""},
		{Field: "--offline", Message: "no such directory"},
	})
	got := render(t, "markdown", run, Options{Emoji: true})
	want := MarkdownMarker + "\n" +
		"## 💥 secflow-budget: ERROR – no budget ran (exit 2)\n" +
		"\n" +
		"- `budgets.yaml:7:12 budgets[0].max`: invalid number \"&lt;b>x&lt;/b>\"\n" +
		"- `--offline`: no such directory\n" +
		"\n" +
		"<sub>secflow-budget 1.2.3 · offline</sub>\n"
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestGHMarkdownCapOneHugeBudget: a budget that alone is over the cap is
// left out whole; the headline still names it and the note counts it.
func TestGHMarkdownCapOneHugeBudget(t *testing.T) {
	o := ghBudget("huge", checks.Fail, 20, 10)
	for i := range 2000 {
		o.Details = append(o.Details, fmt.Sprintf("offender %d: %s", i, strings.Repeat("y", 40)))
	}
	run := ghRun(checks.Fail, o, ghBudget("fine", checks.Pass, 1, 10))
	md := render(t, "markdown", run, Options{Emoji: true})
	ghCheckMarkdown(t, md)
	want := MarkdownMarker + "\n" +
		"## ❌ secflow-budget: FAIL – 1 of 2 budgets failed: huge\n" +
		"\n" +
		"**2 budgets**: 1 passed, 0 warnings, 1 failed, 0 errors, 0 skipped · exit code 1\n" +
		"\n" +
		"✂️ This report was cut to fit 60,000 characters: 2 of 2 budgets are left out, 1 of which did not pass. Every budget is in a JSON report (--report json=FILE).\n" +
		"\n" +
		"<sub>secflow-budget 1.2.3 · offline · snap</sub>\n"
	if md != want {
		t.Errorf("got:\n%s\nwant:\n%s", md, want)
	}
}
