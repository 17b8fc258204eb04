//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// jsonAlwaysReport is the JSON report of a run that stopped on errors.
type jsonAlwaysReport struct {
	Tool     struct{ Version string } `json:"tool"`
	Mode     string                   `json:"mode"`
	Status   string                   `json:"status"`
	ExitCode int                      `json:"exit_code"`
	Summary  map[string]int           `json:"summary"`
	Budgets  []any                    `json:"budgets"`
	Errors   []struct {
		File    string `json:"file"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// jsonAlwaysBroken writes a budgets file whose line 7, column 12 is an
// invalid duration.
func jsonAlwaysBroken(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "budgets.yaml")
	text := "version: 1\nbudgets:\n  - name: task-duration\n    type: latency\n    histogram: secflow_task_duration_seconds\n    percentiles:\n      p95: 30O s\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHostileJSONAlwaysOnErrors: with --format json or --report json=FILE,
// a run that stops before any budget ran (an invalid budgets file, a bad
// flag, a missing snapshot) still writes a JSON report: status error, the
// exit code, and each error with its position and field; an older report
// at that path is replaced, through a symlink too, and a secret in the
// message is masked as on stderr.
func TestHostileJSONAlwaysOnErrors(t *testing.T) {
	type wantError struct {
		file         string // "" for none; "CONFIG" for the budgets file
		line, column int
		field        string
		msgPrefix    string
	}
	tests := []struct {
		name     string
		args     func(cfg, out string) []string
		toStdout bool
		mode     string
		want     wantError
		notIn    string // must appear in neither the report nor stderr
	}{
		{"invalid budgets file, -o", func(cfg, out string) []string {
			return []string{"check", "-c", cfg, "--offline", "testdata/snapshots/healthy", "--format", "json", "-o", out}
		}, false, "offline", wantError{"CONFIG", 7, 12, "budgets[0].percentiles.p95", `invalid duration "30O s": `}, ""},
		{"invalid budgets file, stdout", func(cfg, _ string) []string {
			return []string{"check", "-c", cfg, "--offline", "testdata/snapshots/healthy", "--format", "json"}
		}, true, "offline", wantError{"CONFIG", 7, 12, "budgets[0].percentiles.p95", `invalid duration "30O s": `}, ""},
		{"missing budgets file, --report", func(_, out string) []string {
			return []string{"check", "-c", "testdata/no-such-budgets.yaml", "--offline", "testdata/snapshots/healthy", "--report", "json=" + out}
		}, false, "offline", wantError{"testdata/no-such-budgets.yaml", 0, 0, "", "file not found"}, ""},
		{"bad --at", func(_, out string) []string {
			return []string{"check", "--offline", "testdata/snapshots/healthy", "--at", "yesterday", "--report", "json=" + out, "--report", "junit=-"}
		}, false, "offline", wantError{"", 0, 0, "--at", `invalid time "yesterday": want RFC3339`}, ""},
		{"bad --offline dir", func(_, out string) []string {
			return []string{"check", "--offline", "testdata/snapshots/no-such-dir", "--format", "json", "-o", out}
		}, false, "offline", wantError{"testdata/snapshots/no-such-dir", 0, 0, "--offline", "reading snapshot: opening snapshot: "}, ""},
		{"empty --offline", func(_, out string) []string {
			return []string{"check", "--offline", "", "--format", "json", "-o", out}
		}, false, "live", wantError{"", 0, 0, "--offline", "empty value: want DIR"}, ""},
		{"--prometheus with a password", func(_, out string) []string {
			return []string{"check", "--prometheus", "http://ci:hunter2@prom .example", "--format", "json", "-o", out}
		}, false, "live", wantError{"", 0, 0, "--prometheus", `invalid URL "http://`}, "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := jsonAlwaysBroken(t, dir)
			// The report is written through a symlink: the link stays,
			// its target is replaced.
			target := filepath.Join(dir, "older.json")
			out := filepath.Join(dir, "r.json")
			if err := os.WriteFile(target, []byte(`{"status":"pass","exit_code":0,"budgets":[{"name":"older"}]}`), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("older.json", out); err != nil {
				t.Fatal(err)
			}
			r := run(t, nil, tt.args(cfg, out)...)
			expectCode(t, r, 2)
			text := r.stdout
			if !tt.toStdout {
				if fi, err := os.Lstat(out); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Fatalf("%s is no longer the symlink: %v", out, err)
				}
				b, err := os.ReadFile(target)
				if err != nil {
					t.Fatal(err)
				}
				text = string(b)
			} else if b, _ := os.ReadFile(target); !strings.Contains(string(b), "older") {
				t.Errorf("the report went to stdout, but %s changed: %s", target, b)
			}
			var rep jsonAlwaysReport
			mustJSON(t, text, &rep)
			if rep.Status != "error" || rep.ExitCode != 2 || rep.Mode != tt.mode || rep.Budgets == nil || len(rep.Budgets) != 0 || rep.Summary["total"] != 0 {
				t.Errorf("report: status %q, exit_code %d, mode %q, budgets %v, summary %v; want error, 2, %s, [], total 0\n%s",
					rep.Status, rep.ExitCode, rep.Mode, rep.Budgets, rep.Summary, tt.mode, text)
			}
			if rep.Tool.Version == "" {
				t.Errorf("tool.version is empty: the report must name the version --version prints\n%s", text)
			}
			// No time was decided: null, not a string a consumer would
			// fail to parse as a time.
			if !strings.Contains(text, `"evaluated_at": null,`) {
				t.Errorf("evaluated_at is not null in a report of a run that stopped before any budget ran\n%s", text)
			}
			if len(rep.Errors) != 1 {
				t.Fatalf("errors = %+v, want one\n%s", rep.Errors, text)
			}
			e, w := rep.Errors[0], tt.want
			if w.file == "CONFIG" {
				w.file = cfg
			}
			if e.File != w.file || e.Line != w.line || e.Column != w.column || e.Field != w.field || !strings.HasPrefix(e.Message, w.msgPrefix) {
				t.Errorf("error = %+v, want file %q line %d column %d field %q message starting %q", e, w.file, w.line, w.column, w.field, w.msgPrefix)
			}
			// stderr still says it, once, in the same words.
			if !strings.HasPrefix(r.stderr, "error: ") || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, e.Message) {
				t.Errorf("stderr = %q, want one line with %q", r.stderr, e.Message)
			}
			if tt.notIn != "" && (strings.Contains(text, tt.notIn) || strings.Contains(r.stderr, tt.notIn)) {
				t.Errorf("%q leaked:\nreport: %s\nstderr: %s", tt.notIn, text, r.stderr)
			}
		})
	}
}

// TestHostileJSONAlwaysOnlyJSON: a config error writes the JSON reports
// the flags ask for, each once, and leaves other formats alone; a run
// without a JSON report prints the error on stderr only.
func TestHostileJSONAlwaysOnlyJSON(t *testing.T) {
	dir := t.TempDir()
	cfg := jsonAlwaysBroken(t, dir)
	out, junit := filepath.Join(dir, "r.json"), filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(junit, []byte("<older/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "check", "-c", cfg, "--offline", "testdata/snapshots/healthy", "--format", "json", "--report", "json="+out, "--report", "junit="+junit)
	expectCode(t, r, 2)
	var fromStdout, fromFile jsonAlwaysReport
	mustJSON(t, r.stdout, &fromStdout)
	mustJSON(t, string(jsonAlwaysRead(t, out)), &fromFile)
	for _, rep := range []jsonAlwaysReport{fromStdout, fromFile} {
		if rep.ExitCode != 2 || len(rep.Errors) != 1 || rep.Errors[0].Line != 7 {
			t.Errorf("report: exit_code %d, errors %+v; want 2 and the error at line 7", rep.ExitCode, rep.Errors)
		}
	}
	if got := string(jsonAlwaysRead(t, junit)); got != "<older/>" {
		t.Errorf("junit.xml = %q, want it untouched", got)
	}

	r = run(t, nil, "check", "-c", cfg, "--offline", "testdata/snapshots/healthy")
	expectCode(t, r, 2)
	if r.stdout != "" || !strings.HasPrefix(r.stderr, "error: "+cfg+":7:12: ") {
		t.Errorf("without --format json: stdout %q, stderr %q; want nothing and the error", r.stdout, r.stderr)
	}
}

func jsonAlwaysRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestHostileJSONAlwaysSignalAtHardStop: a process stopped by SIGTERM
// while it cannot stop (blocked opening a FIFO given as -c) still writes
// its JSON report before it exits 143: status error, no budgets, what
// stopped it; an older report is replaced.
func TestHostileJSONAlwaysSignalAtHardStop(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "budgets.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo (a FIFO is what this case reads): %v", err)
	}
	out := filepath.Join(dir, "r.json")
	if err := os.WriteFile(out, []byte(`{"status":"pass","exit_code":0}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	p := cliStart(t, []string{"TMPDIR=" + tmp}, "check", "-c", fifo, "--offline", "testdata/snapshots/healthy", "--format", "json", "-o", out)
	cliWaitFor(t, "the scratch directory", func() bool { return len(cliScratchDirs(t, tmp)) > 0 })
	time.Sleep(200 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r, _ := p.wait(t, 10*time.Second)
	expectCode(t, r, 143)
	const msg = "interrupted by SIGTERM: stopped before the run could finish"
	if want := "error: " + msg + ", only the JSON report written\n"; r.stderr != want || r.stdout != "" {
		t.Errorf("stdout %q, stderr %q; want nothing and %q", r.stdout, r.stderr, want)
	}
	var rep jsonAlwaysReport
	mustJSON(t, string(jsonAlwaysRead(t, out)), &rep)
	if rep.Status != "error" || rep.ExitCode != 143 || len(rep.Budgets) != 0 || len(rep.Errors) != 1 || rep.Errors[0].Message != msg {
		t.Errorf("report: status %q, exit_code %d, %d budgets, errors %+v; want error, 143, 0, [%q]", rep.Status, rep.ExitCode, len(rep.Budgets), rep.Errors, msg)
	}
}
