package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgreeReportsWithExitCode runs the binary on the degraded snapshot with
// only sandbox-failure-ratio, which warns (1.48% > warn 1%, under the 2%
// limit), writing every machine format at once. Without --fail-on warn the
// run passes and every report calls the budget a warning; with it the run
// exits 1 and every report calls it a failure: JUnit counts and lists it,
// the Markdown headline says FAIL, the annotation is ::error and the JSON
// status is fail. The budget's own status stays warn in the JSON either way.
func TestAgreeReportsWithExitCode(t *testing.T) {
	tests := []struct {
		failOn        string
		exit          int
		jsonStatus    string
		junitFailures int
		headline      string
		counts        string
		annotation    string // the command of the budget's annotation
		notice        string
	}{
		{
			failOn: "fail", exit: 0, jsonStatus: "warn", junitFailures: 0,
			headline:   "## ⚠️ secflow-budget: WARN – 1 of 1 budget warned, none failed: sandbox-failure-ratio",
			counts:     "**1 budget**: 0 passed, 1 warning, 0 failed, 0 errors, 0 skipped · exit code 0",
			annotation: "::warning file=budgets.yaml,line=117,col=5,title=secflow-budget%3A sandbox-failure-ratio::1.48%25 > warn 1%25%0A",
			notice:     "::notice title=secflow-budget::1 budget: 0 passed, 1 warning, 0 failed, 0 errors, 0 skipped → WARN (exit 0)",
		},
		{
			failOn: "warn", exit: 1, jsonStatus: "fail", junitFailures: 1,
			headline:   "## ❌ secflow-budget: FAIL – 1 of 1 budget failed: sandbox-failure-ratio",
			counts:     "**1 budget**: 0 passed, 1 warning, 0 failed, 0 errors, 0 skipped · warnings fail this run · exit code 1",
			annotation: "::error file=budgets.yaml,line=117,col=5,title=secflow-budget%3A sandbox-failure-ratio::1.48%25 > warn 1%25%0Aa warning, which fails this run%0A",
			notice:     "::notice title=secflow-budget::1 budget: 0 passed, 1 warning, 0 failed, 0 errors, 0 skipped → FAIL (exit 1); warnings fail this run",
		},
	}
	for _, tc := range tests {
		t.Run("fail-on "+tc.failOn, func(t *testing.T) {
			dir := t.TempDir()
			at := func(name string) string { return filepath.Join(dir, name) }
			r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "sandbox-failure-ratio",
				"--fail-on", tc.failOn, "--format", "json", "-o", at("r.json"),
				"--report", "junit="+at("junit.xml"), "--report", "markdown="+at("r.md"), "--report", "github="+at("gh.txt"))
			expectCode(t, r, tc.exit)

			rep := readReport(t, at("r.json"))
			if rep.Status != tc.jsonStatus || rep.ExitCode != tc.exit {
				t.Errorf("JSON status %q exit_code %d, want %q %d", rep.Status, rep.ExitCode, tc.jsonStatus, tc.exit)
			}
			if len(rep.Budgets) != 1 || rep.Budgets[0].Name != "sandbox-failure-ratio" || rep.Budgets[0].Status != "warn" {
				t.Errorf("JSON budgets = %+v, want sandbox-failure-ratio warn", rep.Budgets)
			}
			if rep.Summary["warn"] != 1 || rep.Summary["fail"] != 0 {
				t.Errorf("JSON summary = %v, want the one warning counted as a warning", rep.Summary)
			}

			junit := agreeJUnit(t, at("junit.xml"))
			if junit.Failures != tc.junitFailures || junit.Suites[0].Failures != tc.junitFailures {
				t.Errorf("JUnit failures = %d (suite %d), want %d", junit.Failures, junit.Suites[0].Failures, tc.junitFailures)
			}
			c := junit.Suites[0].Cases[0]
			if c.Name != "sandbox-failure-ratio" {
				t.Fatalf("JUnit case = %q", c.Name)
			}
			if failed := c.Failure != nil; failed != (tc.junitFailures == 1) {
				t.Errorf("JUnit <failure> present = %v, want %v", failed, tc.junitFailures == 1)
			}
			if tc.junitFailures == 1 {
				if c.Failure.Message != "1.48% > warn 1%" || c.Failure.Type != "metric" {
					t.Errorf("JUnit failure = %+v", *c.Failure)
				}
				if !strings.HasPrefix(c.Failure.Body, "warning, which fails this run: 1.48% > warn 1%\n") {
					t.Errorf("JUnit failure body = %q", c.Failure.Body)
				}
			} else if !strings.HasPrefix(c.SystemOut, "warning: 1.48% > warn 1%\n") {
				t.Errorf("JUnit system-out = %q, want the warning", c.SystemOut)
			}

			md := strings.Split(agreeRead(t, at("r.md")), "\n")
			if md[0] != "<!-- secflow-budget -->" || md[1] != tc.headline || md[3] != tc.counts {
				t.Errorf("Markdown starts\n%s\n%s\n%s\nwant the marker, then\n%s\n%s", md[0], md[1], md[3], tc.headline, tc.counts)
			}

			gh := strings.Split(strings.TrimSuffix(agreeRead(t, at("gh.txt")), "\n"), "\n")
			if len(gh) != 2 || !strings.HasPrefix(gh[0], tc.annotation) || gh[1] != tc.notice {
				t.Errorf("GitHub commands:\n%s\nwant an annotation starting %q and the notice %q", strings.Join(gh, "\n"), tc.annotation, tc.notice)
			}
		})
	}
}

// agreeJUnit reads a JUnit report, with each case's failure in full.
func agreeJUnit(t *testing.T, path string) agreeJUnitSuites {
	t.Helper()
	var v agreeJUnitSuites
	if err := xml.Unmarshal([]byte(agreeRead(t, path)), &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(v.Suites) != 1 || len(v.Suites[0].Cases) != 1 {
		t.Fatalf("%s: want one suite with one case, got %+v", path, v)
	}
	return v
}

type agreeJUnitSuites struct {
	Failures int `xml:"failures,attr"`
	Suites   []struct {
		Failures int `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			SystemOut string `xml:"system-out"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func agreeRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
