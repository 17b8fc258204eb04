package report

import (
	"encoding/json"
	"encoding/xml"
	"slices"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/checks"
)

// agreeWarnRun is sampleRun without its violations and errors: passes, a
// skip and one warning (log-volume), so that the fail-on policy alone
// decides whether the run fails. failOnWarn sets the policy of
// --fail-on warn and the exit code the CLI gives it.
func agreeWarnRun(failOnWarn bool) *Run {
	run := sampleRun()
	run.Outcomes = slices.DeleteFunc(run.Outcomes, func(o checks.Outcome) bool {
		return o.Status == checks.Fail || o.Status == checks.Error
	})
	run.Status = checks.Warn
	run.FailOn, run.ExitCode = checks.Fail, 0
	if failOnWarn {
		run.FailOn, run.ExitCode = checks.Warn, 1
	}
	return run
}

// TestAgreeGolden pins every machine format for a run whose only
// non-passing budget is a warning, with and without --fail-on warn: with
// it the warning is a failure everywhere, without it a warning everywhere.
func TestAgreeGolden(t *testing.T) {
	formats := []struct{ ext, format string }{
		{"json", "json"}, {"junit.xml", "junit"}, {"md", "markdown"}, {"github", "github"},
	}
	for _, policy := range []struct {
		name       string
		failOnWarn bool
	}{{"warn", false}, {"failonwarn", true}} {
		for _, f := range formats {
			file := "agree-" + policy.name + "." + f.ext + ".golden"
			t.Run(file, func(t *testing.T) {
				assertGolden(t, file, []byte(render(t, f.format, agreeWarnRun(policy.failOnWarn), Options{Emoji: true})))
			})
		}
	}
}

// agreeReports is what each format says about a run, read back from it.
type agreeReports struct {
	jsonStatus       string
	junitFailures    int    // the failures attribute of testsuites and of the suite
	junitFailed      string // the test cases with a <failure>, comma separated
	junitErrors      int
	githubErrors     string // budgets with an ::error annotation
	githubWarnings   string // budgets with a ::warning annotation
	githubNotice     string
	markdownHeadline string
	consoleSummary   string // the console's last line
}

func agreeRead(t *testing.T, run *Run) agreeReports {
	t.Helper()
	var r agreeReports

	var js struct {
		Status   string `json:"status"`
		ExitCode int    `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(render(t, "json", run, Options{})), &js); err != nil {
		t.Fatal(err)
	}
	if js.ExitCode != run.ExitCode {
		t.Errorf("JSON exit_code = %d, want %d", js.ExitCode, run.ExitCode)
	}
	r.jsonStatus = js.Status

	var ju struct {
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suite    struct {
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal([]byte(render(t, "junit", run, Options{Emoji: true})), &ju); err != nil {
		t.Fatal(err)
	}
	if ju.Failures != ju.Suite.Failures {
		t.Errorf("JUnit testsuites failures=%d but testsuite failures=%d", ju.Failures, ju.Suite.Failures)
	}
	r.junitFailures, r.junitErrors = ju.Failures, ju.Errors
	var failed []string
	for _, c := range ju.Suite.Cases {
		if c.Failure != nil {
			failed = append(failed, c.Name)
		}
	}
	r.junitFailed = strings.Join(failed, ",")

	var errs, warns []string
	for _, l := range strings.Split(strings.TrimSuffix(render(t, "github", run, Options{Emoji: true}), "\n"), "\n") {
		cmd, rest, _ := strings.Cut(strings.TrimPrefix(l, "::"), " ")
		_, rest, _ = strings.Cut(rest, "title=")
		props, msg, _ := strings.Cut(rest, "::")
		budget := strings.TrimPrefix(props, "secflow-budget%3A ")
		switch cmd {
		case "error":
			errs = append(errs, budget)
		case "warning":
			warns = append(warns, budget)
		case "notice":
			r.githubNotice = msg
		}
	}
	r.githubErrors, r.githubWarnings = strings.Join(errs, ","), strings.Join(warns, ",")

	md := strings.Split(render(t, "markdown", run, Options{Emoji: true}), "\n")
	if md[0] != MarkdownMarker {
		t.Errorf("Markdown starts %q, want the marker %q", md[0], MarkdownMarker)
	}
	r.markdownHeadline = md[1]

	console := strings.Split(strings.TrimSuffix(render(t, "console", run, Options{Emoji: false}), "\n"), "\n")
	r.consoleSummary = console[len(console)-1]
	return r
}

// TestAgreeWithExitCode: whatever makes the run fail (a violation, or a
// warning when warnings fail the run) is a failure in every format, and a
// warning that does not fail it stays a warning everywhere.
func TestAgreeWithExitCode(t *testing.T) {
	budget := func(name string, s checks.Status) checks.Outcome {
		return checks.Outcome{Name: name, Type: "latency", Category: "performance", Severity: "error",
			Status: s, Message: name + " is " + s.String()}
	}
	tests := []struct {
		name     string
		outcomes []checks.Outcome
		failOn   checks.Status
		exit     int
		want     agreeReports
	}{
		{
			name:     "a warning without --fail-on warn stays a warning",
			outcomes: []checks.Outcome{budget("ok", checks.Pass), budget("slow", checks.Warn)},
			failOn:   checks.Fail, exit: 0,
			want: agreeReports{
				jsonStatus: "warn", githubWarnings: "slow",
				githubNotice:     "2 budgets: 1 passed, 1 warning, 0 failed, 0 errors, 0 skipped → WARN (exit 0)",
				markdownHeadline: "## ⚠️ secflow-budget: WARN – 1 of 2 budgets warned, none failed: slow",
				consoleSummary:   "2 budgets: 1 passed, 1 warning, 0 failed, 0 errors, 0 skipped -> WARN (exit 0)",
			},
		},
		{
			name:     "a warning under --fail-on warn is a failure",
			outcomes: []checks.Outcome{budget("ok", checks.Pass), budget("slow", checks.Warn)},
			failOn:   checks.Warn, exit: 1,
			want: agreeReports{
				jsonStatus: "fail", junitFailures: 1, junitFailed: "slow", githubErrors: "slow",
				githubNotice:     "2 budgets: 1 passed, 1 warning, 0 failed, 0 errors, 0 skipped → FAIL (exit 1); warnings fail this run",
				markdownHeadline: "## ❌ secflow-budget: FAIL – 1 of 2 budgets failed: slow",
				consoleSummary:   "2 budgets: 1 passed, 1 warning, 0 failed, 0 errors, 0 skipped -> FAIL (exit 1)",
			},
		},
		{
			// The exit code is 1 (a failing warning beats a source
			// error), so the run's status is fail, not error.
			name:     "a warning under --fail-on warn beside an error",
			outcomes: []checks.Outcome{budget("down", checks.Error), budget("slow", checks.Warn)},
			failOn:   checks.Warn, exit: 1,
			want: agreeReports{
				jsonStatus: "fail", junitFailures: 1, junitFailed: "slow", junitErrors: 1, githubErrors: "down,slow",
				githubNotice:     "2 budgets: 0 passed, 1 warning, 0 failed, 1 error, 0 skipped → FAIL (exit 1); warnings fail this run",
				markdownHeadline: "## ❌ secflow-budget: FAIL – 1 of 2 budgets failed: slow; 1 could not be decided: down",
				consoleSummary:   "2 budgets: 0 passed, 1 warning, 0 failed, 1 error, 0 skipped -> FAIL (exit 1)",
			},
		},
		{
			name:     "a warning beside an error without --fail-on warn",
			outcomes: []checks.Outcome{budget("down", checks.Error), budget("slow", checks.Warn)},
			failOn:   checks.Fail, exit: 3,
			want: agreeReports{
				jsonStatus: "error", junitErrors: 1, githubErrors: "down", githubWarnings: "slow",
				githubNotice:     "2 budgets: 0 passed, 1 warning, 0 failed, 1 error, 0 skipped → ERROR (exit 3)",
				markdownHeadline: "## 💥 secflow-budget: ERROR – 1 of 2 budgets could not be decided: down",
				consoleSummary:   "2 budgets: 0 passed, 1 warning, 0 failed, 1 error, 0 skipped -> ERROR (exit 3)",
			},
		},
		{
			name:     "a violation and a warning under --fail-on warn are both failures",
			outcomes: []checks.Outcome{budget("slow", checks.Warn), budget("broken", checks.Fail)},
			failOn:   checks.Warn, exit: 1,
			want: agreeReports{
				jsonStatus: "fail", junitFailures: 2, junitFailed: "slow,broken", githubErrors: "broken,slow",
				githubNotice:     "2 budgets: 0 passed, 1 warning, 1 failed, 0 errors, 0 skipped → FAIL (exit 1); warnings fail this run",
				markdownHeadline: "## ❌ secflow-budget: FAIL – 2 of 2 budgets failed: broken, slow",
				consoleSummary:   "2 budgets: 0 passed, 1 warning, 1 failed, 0 errors, 0 skipped -> FAIL (exit 1)",
			},
		},
		{
			name:     "a violation beside a warning without --fail-on warn",
			outcomes: []checks.Outcome{budget("slow", checks.Warn), budget("broken", checks.Fail)},
			failOn:   checks.Fail, exit: 1,
			want: agreeReports{
				jsonStatus: "fail", junitFailures: 1, junitFailed: "broken", githubErrors: "broken", githubWarnings: "slow",
				githubNotice:     "2 budgets: 0 passed, 1 warning, 1 failed, 0 errors, 0 skipped → FAIL (exit 1)",
				markdownHeadline: "## ❌ secflow-budget: FAIL – 1 of 2 budgets failed: broken",
				consoleSummary:   "2 budgets: 0 passed, 1 warning, 1 failed, 0 errors, 0 skipped -> FAIL (exit 1)",
			},
		},
		{
			name:     "--fail-on warn with nothing but passes",
			outcomes: []checks.Outcome{budget("ok", checks.Pass), budget("later", checks.Skip)},
			failOn:   checks.Warn, exit: 0,
			want: agreeReports{
				jsonStatus:       "skip",
				githubNotice:     "2 budgets: 1 passed, 0 warnings, 0 failed, 0 errors, 1 skipped → SKIP (exit 0)",
				markdownHeadline: "## ⏭️ secflow-budget: SKIP – 1 of 2 budgets passed; 1 skipped: later",
				consoleSummary:   "2 budgets: 1 passed, 0 warnings, 0 failed, 0 errors, 1 skipped -> SKIP (exit 0)",
			},
		},
		{
			// A Run built by hand without a policy fails on violations only.
			name:     "no policy set is --fail-on fail",
			outcomes: []checks.Outcome{budget("slow", checks.Warn)},
			failOn:   checks.Pass, exit: 0,
			want: agreeReports{
				jsonStatus: "warn", githubWarnings: "slow",
				githubNotice:     "1 budget: 0 passed, 1 warning, 0 failed, 0 errors, 0 skipped → WARN (exit 0)",
				markdownHeadline: "## ⚠️ secflow-budget: WARN – 1 of 1 budget warned, none failed: slow",
				consoleSummary:   "1 budget: 0 passed, 1 warning, 0 failed, 0 errors, 0 skipped -> WARN (exit 0)",
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run := &Run{ToolName: "secflow-budget", Version: "1.2.3", Mode: "offline",
				Outcomes: tc.outcomes, FailOn: tc.failOn, ExitCode: tc.exit}
			for _, o := range tc.outcomes {
				run.Status = max(run.Status, o.Status)
			}
			if got := agreeRead(t, run); got != tc.want {
				t.Errorf("reports disagree with exit %d:\n got %+v\nwant %+v", tc.exit, got, tc.want)
			}
		})
	}
}
