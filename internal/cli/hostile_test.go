package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHostileEmptyFlagValues: an empty value (an unset variable in a
// pipeline) is a usage error naming the flag, never a silent default: an
// empty --offline must not become a live run.
func TestHostileEmptyFlagValues(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"check", "-c", "testdata/no-sources.yaml", "--offline", ""}, "error: --offline: empty value: want DIR (is a variable unset?)\n"},
		{[]string{"check", "-c", "testdata/no-sources.yaml", "--offline="}, "error: --offline: empty value: want DIR (is a variable unset?)\n"},
		{[]string{"check", "-c", "testdata/no-sources.yaml", "--prometheus", ""}, "error: --prometheus: empty value: want URL (is a variable unset?)\n"},
		{[]string{"check", "-c", "testdata/no-sources.yaml", "--loki", ""}, "error: --loki: empty value: want URL (is a variable unset?)\n"},
		{[]string{"check", "-c", ""}, "error: --config: empty value: want FILE (is a variable unset?)\n"},
		{[]string{"check", "-c", "testdata/no-sources.yaml", "--at", ""}, "error: --at: empty value: want TIME (is a variable unset?)\n"},
		{[]string{"check", "-c", "testdata/no-sources.yaml", "-o", ""}, "error: --output: empty value: want FILE (is a variable unset?)\n"},
		{[]string{"snapshot", "-c", "testdata/no-sources.yaml", "--out", "snap", "--prometheus", ""}, "error: --prometheus: empty value: want URL (is a variable unset?)\n"},
		{[]string{"validate", "-c", ""}, "error: --config: empty value: want FILE (is a variable unset?)\n"},
		{[]string{"check", "-c", "testdata/no-sources.yaml", "--only", ""}, "error: --only: empty value: want NAME|TAG,... (is a variable unset?)\n"},
		{[]string{"check", "-c", "testdata/no-sources.yaml", "--skip="}, "error: --skip: empty value: want NAME|TAG,... (is a variable unset?)\n"},
		{[]string{"list", "--config="}, "error: --config: empty value: want FILE (is a variable unset?)\n"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(t, nil, false, tt.args...)
		if code != ExitUsage || stderr != tt.want || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and stderr %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
	// --description "" says nothing, and that is allowed.
	code, _, stderr := runCLI(t, nil, false, "snapshot", "-c", "testdata/no-sources.yaml", "--out", filepath.Join(t.TempDir(), "s"), "--description", "")
	if strings.Contains(stderr, "--description") {
		t.Errorf("--description \"\": exit %d, stderr %q; an empty description is no error", code, stderr)
	}
}

// TestHostileAtUnits: --at in milliseconds, microseconds or nanoseconds,
// or more than a day after now, is a usage error that says so. The
// clock of runCLI is 2026-11-26T12:00:07Z.
func TestHostileAtUnits(t *testing.T) {
	tests := []struct {
		at, want string
	}{
		{"1795694407000", "error: --at: 1795694407000 looks like unix milliseconds (2026-11-26T12:00:07Z), not seconds: give --at 1795694407 or an RFC3339 time\n"},
		{"1795694407000000", "error: --at: 1795694407000000 looks like unix microseconds (2026-11-26T12:00:07Z), not seconds: give --at 1795694407 or an RFC3339 time\n"},
		{"1795694407000000000", "error: --at: 1795694407000000000 looks like unix nanoseconds (2026-11-26T12:00:07Z), not seconds: give --at 1795694407 or an RFC3339 time\n"},
		{"1795694407123.5", "error: --at: 1795694407123.5 looks like unix milliseconds (2026-11-26T12:00:07Z), not seconds: give --at 1795694407 or an RFC3339 time\n"},
		{"2026-11-30T12:00:07Z", "error: --at: 2026-11-30T12:00:07Z is 4 days in the future (now 2026-11-26T12:00:07Z): the evaluation time can be at most a day ahead\n"},
		{"2026-11-27T13:00:07Z", "error: --at: 2026-11-27T13:00:07Z is 25h0m0s in the future (now 2026-11-26T12:00:07Z): the evaluation time can be at most a day ahead\n"},
		{"1796000000", "error: --at: 2026-11-30T00:53:20Z is 3 days in the future (now 2026-11-26T12:00:07Z): the evaluation time can be at most a day ahead\n"},
	}
	for _, tt := range tests {
		atRefused(t, tt.at, tt.want)
	}
	now := time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC)
	for _, ok := range []string{"1795694407", "1795694407.25", "2026-11-27T12:00:07Z", "2026-11-27T11:59:59Z", "2000-01-01T00:00:00Z", "946684800", "2020-01-01T00:00:00Z"} {
		if _, err := atFlag(ok, now); err != nil {
			t.Errorf("atFlag(%q): %v, want it accepted", ok, err)
		}
	}
}

// atRefused runs check and snapshot with --at at and wants each refused
// as a usage error: exit 2, nothing on stdout and exactly want on stderr.
func atRefused(t *testing.T, at, want string) {
	t.Helper()
	for _, cmd := range []string{"check", "snapshot"} {
		args := []string{cmd, "-c", "testdata/no-sources.yaml", "--at", at}
		if cmd == "snapshot" {
			args = append(args, "--out", filepath.Join(t.TempDir(), "snap"))
		}
		code, stdout, stderr := runCLI(t, nil, false, args...)
		if code != ExitUsage || stderr != want || stdout != "" {
			t.Errorf("%s --at %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", cmd, at, code, stdout, stderr, want)
		}
	}
}

// hangingPrometheus answers nothing until the request is cancelled, and
// says on started when the first request arrived.
func hangingPrometheus(t *testing.T) (url string, started <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read to the end, so that the server notices the client
		// hanging up (it watches the connection only after the body).
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case ch <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// TestHostileSignalInProcess: a signal while a source hangs ends the run
// with 130 (SIGINT) or 143 (SIGTERM), reports written with the budget
// marked interrupted, and one line on stderr.
func TestHostileSignalInProcess(t *testing.T) {
	for _, tt := range []struct {
		sig  os.Signal
		name string
		code int
	}{{os.Interrupt, "SIGINT", 130}, {syscall.SIGTERM, "SIGTERM", 143}} {
		t.Run(tt.name, func(t *testing.T) {
			url, started := hangingPrometheus(t)
			dir := t.TempDir()
			jsonPath := filepath.Join(dir, "report.json")
			signals := make(chan os.Signal, 1)
			go func() {
				select {
				case <-started:
					signals <- tt.sig
				case <-time.After(10 * time.Second):
				}
			}()
			var out, errb bytes.Buffer
			start := time.Now()
			code := Main(context.Background(), []string{"check", "-c", "testdata/no-sources.yaml", "--prometheus", url, "--report", "json=" + jsonPath, "--no-color"}, IO{
				Out: &out, Err: &errb, Signals: signals,
				Now: func() time.Time { return time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC) },
			})
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("the run took %s", d)
			}
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errb.String())
			}
			wantErr := "error: interrupted by " + tt.name + ": 1 budget not decided by then is marked interrupted in the reports\n"
			if errb.String() != wantErr {
				t.Errorf("stderr = %q, want %q", errb.String(), wantErr)
			}
			if !strings.Contains(out.String(), "up  the run was interrupted before this budget was decided") || !strings.Contains(out.String(), "(exit "+strconv.Itoa(tt.code)+")") {
				t.Errorf("console report should mark up interrupted and say exit %d:\n%s", tt.code, out.String())
			}
			var rep struct {
				ExitCode int `json:"exit_code"`
				Budgets  []struct {
					Name, Status string
					Error        *struct{ Kind, Message string }
				}
			}
			b, err := os.ReadFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.ExitCode != tt.code || len(rep.Budgets) != 1 || rep.Budgets[0].Name != "up" || rep.Budgets[0].Status != "error" ||
				rep.Budgets[0].Error == nil || rep.Budgets[0].Error.Kind != "interrupted" {
				t.Errorf("JSON report = %s", b)
			}
		})
	}
}

// TestHostileUnwritableReport: the console summary and every report that
// could be written claim the code the process returns: 2 when a report
// cannot be written, unless a budget was violated (1).
func TestHostileUnwritableReport(t *testing.T) {
	tests := []struct {
		name, snapshot string
		code           int
	}{
		{"passing run", "../../testdata/snapshots/healthy", ExitUsage},
		{"violation beats the unwritable report", "../../testdata/snapshots/degraded", ExitViolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			bad := filepath.Join(dir, "no-such-dir", "junit.xml")
			good := filepath.Join(dir, "report.json")
			code, stdout, stderr := runCLI(t, nil, false, "check", "-c", "../../budgets.yaml", "--offline", tt.snapshot, "--no-emoji",
				"--report", "junit="+bad, "--report", "json="+good)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tt.code, stderr)
			}
			claim := "(exit " + strconv.Itoa(tt.code) + ")"
			if !strings.Contains(stdout, claim) {
				t.Errorf("console summary does not say %s:\n%s", claim, stdout)
			}
			wantErr := "error: writing the junit report to " + bad + ": writing " + bad + ": open "
			if !strings.HasPrefix(stderr, wantErr) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line starting %q", stderr, wantErr)
			}
			b, err := os.ReadFile(good)
			if err != nil {
				t.Fatalf("the writable report was not written: %v", err)
			}
			var rep struct {
				ExitCode int `json:"exit_code"`
			}
			if err := json.Unmarshal(b, &rep); err != nil || rep.ExitCode != tt.code {
				t.Errorf("JSON report exit_code = %d (%v), want %d", rep.ExitCode, err, tt.code)
			}
		})
	}
}

// TestHostileOutputDash: -o - and --report FORMAT=/dev/stdout are this
// process's stdout, not files named "-" or renames over /dev/stdout.
func TestHostileOutputDash(t *testing.T) {
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	code, stdout, stderr := runCLI(t, nil, false, "check", "-c", repo+"/budgets.yaml", "--offline", repo+"/testdata/snapshots/healthy",
		"--format", "json", "-o", "-", "--report", "github=/dev/stdout")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stdout, "{") || !strings.Contains(stdout, `"exit_code": 0`) {
		t.Errorf("stdout lacks the JSON report:\n%s", stdout)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("-o - wrote files: %v", entries)
	}
}
