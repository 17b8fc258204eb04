//go:build unix

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/atomicfile"
	"github.com/secflow/secflow-budget/internal/promtest"
)

// The hostile CLI tests run the built binary as a user (or a CI runner)
// that interrupts it, kills it, points its outputs at links, FIFOs and
// devices, and leaves variables unset.

// cliHostileBudgets has one metric budget; %s is the Prometheus URL.
const cliHostileBudgets = `version: 1
sources:
  prometheus:
    url: %s
    timeout: 60s
budgets:
  - name: queue-depth
    type: metric
    expr: max(secflow_queue_depth)
    max: 1000
`

func cliWriteBudgets(t *testing.T, promURL string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(cliHostileBudgets, "%s", promURL, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// cliHangingServer is a Prometheus that reads each request and never
// answers; hits counts the requests.
func cliHangingServer(t *testing.T) (srv *httptest.Server, hits *atomic.Int32) {
	t.Helper()
	hits = new(atomic.Int32)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read to the end, so that the server notices the client
		// hanging up (it watches the connection only after the body).
		_, _ = io.Copy(io.Discard, r.Body)
		hits.Add(1)
		select {
		case <-r.Context().Done():
		case <-time.After(60 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// cliProcess is the binary started in the background.
type cliProcess struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error
}

// cliStart starts the binary from the repository root with a clean
// environment plus env.
func cliStart(t *testing.T, env []string, args ...string) *cliProcess {
	t.Helper()
	p := &cliProcess{done: make(chan struct{})}
	p.cmd = exec.Command(binary, args...)
	p.cmd.Dir = repo
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8", "HOME=" + t.TempDir()}, env...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit, at most limit (else it is killed
// and the test fails), and returns its result and how long it took.
func (p *cliProcess) wait(t *testing.T, limit time.Duration) (result, time.Duration) {
	t.Helper()
	start := time.Now()
	select {
	case <-p.done:
	case <-time.After(limit):
		_ = p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("the process did not exit within %s\nstdout:\n%s\nstderr:\n%s", limit, p.stdout.String(), p.stderr.String())
	}
	took := time.Since(start)
	code := 0
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			t.Fatalf("the process was killed by %s instead of exiting\nstderr:\n%s", ws.Signal(), p.stderr.String())
		}
	} else if p.err != nil {
		t.Fatal(p.err)
	}
	return result{code, p.stdout.String(), p.stderr.String()}, took
}

// cliWaitFor polls cond for up to 30 s.
func cliWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cliScratchDirs lists the run scratch directories in tmp.
func cliScratchDirs(t *testing.T, tmp string) []string {
	t.Helper()
	var out []string
	for _, name := range cliEntries(t, tmp) {
		if strings.HasPrefix(name, atomicfile.Marker) {
			out = append(out, name)
		}
	}
	return out
}

// cliEntries lists the names in dir, sorted.
func cliEntries(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// TestHostileCLISignals: SIGINT and SIGTERM stop the binary, whatever it is
// doing, with 130 and 143, one line on stderr, the reports written with
// the undecided budget marked interrupted, and its scratch directory
// removed. The time from the signal to the exit is logged (the claim is a
// second; the test fails only past 10 s).
func TestHostileCLISignals(t *testing.T) {
	type signalCase struct {
		name string
		// start starts the binary and returns once it is blocked where
		// the case says; reportPath is "" when no report can be written.
		start      func(t *testing.T, tmp string) (p *cliProcess, reportPath string)
		sig        syscall.Signal
		code       int
		wantStderr string
	}
	waitingOnSource := func(t *testing.T, tmp string) (*cliProcess, string) {
		srv, hits := cliHangingServer(t)
		report := filepath.Join(t.TempDir(), "report.json")
		p := cliStart(t, []string{"TMPDIR=" + tmp}, "check", "-c", cliWriteBudgets(t, srv.URL), "--at", faultAt, "--report", "json="+report, "--no-color")
		cliWaitFor(t, "the query to reach the server", func() bool { return hits.Load() > 0 })
		return p, report
	}
	readingFIFO := func(t *testing.T, tmp string) (*cliProcess, string) {
		fifo := filepath.Join(t.TempDir(), "budgets.yaml")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatalf("mkfifo (a FIFO is what this case reads): %v", err)
		}
		p := cliStart(t, []string{"TMPDIR=" + tmp}, "check", "-c", fifo, "--offline", "testdata/snapshots/healthy")
		// The scratch directory exists once the signals are handled;
		// opening the FIFO then blocks, as no one writes to it.
		cliWaitFor(t, "the scratch directory", func() bool { return len(cliScratchDirs(t, tmp)) > 0 })
		time.Sleep(200 * time.Millisecond)
		return p, ""
	}
	loadingSnapshot := func(t *testing.T, tmp string) (*cliProcess, string) {
		snap := cliLargeSnapshot(t)
		report := filepath.Join(t.TempDir(), "report.json")
		cfg := cliWriteBudgets(t, "http://127.0.0.1:1")
		p := cliStart(t, []string{"TMPDIR=" + tmp}, "check", "-c", cfg, "--offline", snap, "--report", "json="+report, "--no-color")
		// Loading has started when the process holds metrics.om open
		// (Linux: /proc/PID/fd; elsewhere, a moment after the start).
		om := filepath.Join(snap, "metrics.om")
		_, procErr := os.Stat("/proc/self/fd")
		cliWaitFor(t, "the snapshot to start loading", func() bool {
			select {
			case <-p.done:
				return true
			default:
			}
			if procErr != nil {
				time.Sleep(100 * time.Millisecond)
				return true
			}
			fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", p.cmd.Process.Pid))
			for _, fd := range fds {
				if target, err := os.Readlink(fd); err == nil && target == om {
					return true
				}
			}
			return false
		})
		select {
		case <-p.done:
			t.Fatal("the snapshot finished loading before the signal could be sent: cliLargeSnapshot must be larger for this case to test anything")
		default:
		}
		return p, report
	}
	tests := []signalCase{
		// The loader looks at the signal between 4 MB chunks: on a
		// machine too loaded to parse one within the hard stop, the
		// process stops with only its JSON report (no budget in it),
		// and says so.
		{"SIGINT loading a large snapshot", loadingSnapshot, syscall.SIGINT, 130,
			"error: interrupted by SIGINT: 1 budget not decided by then is marked interrupted in the reports\n" +
				"|error: interrupted by SIGINT: stopped before the run could finish, only the JSON report written\n"},
		{"SIGINT waiting on Prometheus", waitingOnSource, syscall.SIGINT, 130,
			"error: interrupted by SIGINT: 1 budget not decided by then is marked interrupted in the reports\n"},
		{"SIGTERM waiting on Prometheus", waitingOnSource, syscall.SIGTERM, 143,
			"error: interrupted by SIGTERM: 1 budget not decided by then is marked interrupted in the reports\n"},
		{"SIGINT reading a FIFO as -c", readingFIFO, syscall.SIGINT, 130,
			"error: interrupted by SIGINT: stopped before the run could finish, no report written\n"},
		{"SIGTERM reading a FIFO as -c", readingFIFO, syscall.SIGTERM, 143,
			"error: interrupted by SIGTERM: stopped before the run could finish, no report written\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			p, reportPath := tt.start(t, tmp)
			if err := p.cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			r, took := p.wait(t, 10*time.Second)
			t.Logf("exited %s after the signal", took.Round(time.Millisecond))
			expectCode(t, r, tt.code)
			// wantStderr: the line, or alternatives separated by "|".
			if !slices.Contains(strings.Split(tt.wantStderr, "|"), r.stderr) {
				t.Errorf("stderr = %q, want %q", r.stderr, tt.wantStderr)
			}
			if strings.HasSuffix(r.stderr, "no report written\n") {
				reportPath = ""
			}
			if strings.HasSuffix(r.stderr, "only the JSON report written\n") {
				if rep := readReport(t, reportPath); rep.ExitCode != tt.code || rep.Status != "error" || len(rep.Budgets) != 0 {
					t.Errorf("report at the hard stop: exit_code %d, status %s, %d budgets; want %d, error, 0", rep.ExitCode, rep.Status, len(rep.Budgets), tt.code)
				}
				return
			}
			if left := cliScratchDirs(t, tmp); len(left) != 0 {
				t.Errorf("scratch directories left in TMPDIR: %v", left)
			}
			if reportPath == "" {
				return
			}
			rep := readReport(t, reportPath)
			if rep.ExitCode != tt.code || rep.Status != "error" || len(rep.Budgets) != 1 {
				t.Fatalf("report: exit_code %d, status %s, %d budgets; want %d, error, 1", rep.ExitCode, rep.Status, len(rep.Budgets), tt.code)
			}
			b := rep.Budgets[0]
			if b.Name != "queue-depth" || b.Status != "error" || b.Error == nil || b.Error.Kind != "interrupted" ||
				b.Error.Message != "the run was interrupted before this budget was decided" {
				t.Errorf("budget = %s %s %+v, want queue-depth error interrupted", b.Name, b.Status, b.Error)
			}
			if !strings.Contains(r.stdout, "queue-depth  the run was interrupted before this budget was decided") ||
				!strings.Contains(r.stdout, "(exit "+strconv.Itoa(tt.code)+")") {
				t.Errorf("console report should show the interrupted budget and exit %d:\n%s", tt.code, r.stdout)
			}
		})
	}
}

// cliLargeSnapshot writes a snapshot whose metrics take seconds to load:
// 1,500 series of an hour of 5 s samples (about 50 MB).
func cliLargeSnapshot(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cliMust(t, os.WriteFile(filepath.Join(dir, "manifest.yaml"), []byte("version: 1\nevaluated_at: "+faultAt+"\n"), 0o644))
	f, err := os.Create(filepath.Join(dir, "metrics.om"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "# TYPE secflow_queue_depth gauge")
	for s := range 1500 {
		for i := range 720 {
			fmt.Fprintf(w, "secflow_queue_depth{queue=\"q%d\"} %d %d\n", s, i%50, 1795690807+i*5)
		}
	}
	fmt.Fprintln(w, "# EOF")
	cliMust(t, w.Flush())
	cliMust(t, f.Close())
	return dir
}

// cliStaleName is the temporary name the process pid would have made from
// prefix (see atomicfile.TempPattern).
func cliStaleName(prefix string, pid int) string {
	ours := atomicfile.TempPattern(prefix) // ...<host>.<our pid>-*
	return strings.TrimSuffix(ours, strconv.Itoa(os.Getpid())+"-*") + strconv.Itoa(pid) + "-4242"
}

// TestHostileCLIKill9LeavesNothing: what a run killed with kill -9 leaves
// (its scratch directory, a temporary report, a snapshot's staging
// directory) is removed by the next run; files that are not ours stay.
func TestHostileCLIKill9LeavesNothing(t *testing.T) {
	tmp := t.TempDir()
	srv, hits := cliHangingServer(t)
	cfg := cliWriteBudgets(t, srv.URL)

	// A check killed while its query hangs.
	reports := t.TempDir()
	p := cliStart(t, []string{"TMPDIR=" + tmp}, "check", "-c", cfg, "--at", faultAt, "-o", filepath.Join(reports, "report.json"))
	cliWaitFor(t, "the query to reach the server", func() bool { return hits.Load() > 0 })
	killed := p.cmd.Process.Pid
	_ = p.cmd.Process.Kill()
	<-p.done
	if left := cliScratchDirs(t, tmp); len(left) != 1 {
		t.Fatalf("after kill -9, TMPDIR holds %v, want the killed run's scratch directory", left)
	}
	// kill -9 cannot be timed to land inside a rename: leave what it
	// would have left, named as the killed process names it.
	staleReport := cliStaleName(".report.json.", killed)
	notOurs := []string{".report.json.tmp-1234", "report.json.bak"}
	for _, name := range append([]string{staleReport}, notOurs...) {
		if err := os.WriteFile(filepath.Join(reports, name), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The next run cleans up after it.
	r := run(t, []string{"TMPDIR=" + tmp}, "check", "--offline", "testdata/snapshots/healthy", "--format", "json", "-o", filepath.Join(reports, "report.json"))
	expectCode(t, r, 0)
	if left := cliScratchDirs(t, tmp); len(left) != 0 {
		t.Errorf("TMPDIR still holds %v after the next run", left)
	}
	want := append([]string{}, notOurs...)
	want = append(want, "report.json")
	if got := cliEntries(t, reports); strings.Join(got, ",") != strings.Join(slices.Sorted(slices.Values(want)), ",") {
		t.Errorf("report directory holds %q, want %q (the stale temporary report removed, nothing else)", got, slices.Sorted(slices.Values(want)))
	}

	// A snapshot killed while it records leaves its staging directory
	// beside --out; the next recording removes it.
	snaps := t.TempDir()
	before := hits.Load()
	p = cliStart(t, []string{"TMPDIR=" + tmp}, "snapshot", "-c", cfg, "--at", faultAt, "--out", filepath.Join(snaps, "snap"))
	cliWaitFor(t, "the recording's query", func() bool { return hits.Load() > before })
	_ = p.cmd.Process.Kill()
	<-p.done
	staging := cliEntries(t, snaps)
	if len(staging) != 1 || !strings.Contains(staging[0], atomicfile.Marker) {
		t.Fatalf("after kill -9, %s holds %q, want the recording's staging directory", snaps, staging)
	}
	r = run(t, []string{"TMPDIR=" + tmp}, "snapshot", "-c", cfg, "--at", faultAt, "--out", filepath.Join(snaps, "snap"), "--prometheus", "http://"+closedAddr(t))
	expectCode(t, r, 3)
	if got := cliEntries(t, snaps); len(got) != 0 {
		t.Errorf("%s holds %q after the next recording, want nothing", snaps, got)
	}
	if left := cliScratchDirs(t, tmp); len(left) != 0 {
		t.Errorf("TMPDIR holds %v", left)
	}
}

// TestHostileCLIOutputLinks: -o and --report through symbolic links write
// the links' targets and leave the links; FIFOs and devices are written in
// place; -o - and /dev/stdout are stdout.
func TestHostileCLIOutputLinks(t *testing.T) {
	type linkCase struct {
		name string
		// setup returns the path to give and the file that must get
		// the report.
		setup func(t *testing.T, dir string) (give, target string)
	}
	cases := []linkCase{
		{"link to a file in another directory", func(t *testing.T, dir string) (string, string) {
			other := t.TempDir()
			target := filepath.Join(other, "real.json")
			cliMust(t, os.WriteFile(target, []byte("old"), 0o600))
			cliMust(t, os.Symlink(target, filepath.Join(dir, "r.json")))
			return filepath.Join(dir, "r.json"), target
		}},
		{"relative link", func(t *testing.T, dir string) (string, string) {
			cliMust(t, os.Mkdir(filepath.Join(dir, "out"), 0o755))
			cliMust(t, os.WriteFile(filepath.Join(dir, "out", "real.json"), []byte("old"), 0o644))
			cliMust(t, os.Symlink("out/real.json", filepath.Join(dir, "r.json")))
			return filepath.Join(dir, "r.json"), filepath.Join(dir, "out", "real.json")
		}},
		{"dangling link", func(t *testing.T, dir string) (string, string) {
			cliMust(t, os.Symlink("later.json", filepath.Join(dir, "r.json")))
			return filepath.Join(dir, "r.json"), filepath.Join(dir, "later.json")
		}},
		{"link to a link", func(t *testing.T, dir string) (string, string) {
			cliMust(t, os.WriteFile(filepath.Join(dir, "final.json"), []byte("old"), 0o644))
			cliMust(t, os.Symlink("final.json", filepath.Join(dir, "mid.json")))
			cliMust(t, os.Symlink(filepath.Join(dir, "mid.json"), filepath.Join(dir, "r.json")))
			return filepath.Join(dir, "r.json"), filepath.Join(dir, "final.json")
		}},
	}
	for _, flag := range []string{"-o", "--report"} {
		for _, c := range cases {
			t.Run(flag+" "+c.name, func(t *testing.T) {
				dir := t.TempDir()
				give, target := c.setup(t, dir)
				args := []string{"check", "--offline", "testdata/snapshots/degraded", "--only", "queue-depth"}
				if flag == "-o" {
					args = append(args, "--format", "json", "-o", give)
				} else {
					args = append(args, "--report", "json="+give)
				}
				r := run(t, nil, args...)
				expectCode(t, r, 0)
				fi, err := os.Lstat(give)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode()&fs.ModeSymlink == 0 {
					t.Fatalf("%s became a %v, want it to stay a symlink", give, fi.Mode().Type())
				}
				rep := readReport(t, target)
				if rep.Mode != "offline" || rep.ExitCode != 0 || len(rep.Budgets) != 1 || rep.Budgets[0].Name != "queue-depth" {
					t.Errorf("report in %s = %+v", target, rep)
				}
				for _, d := range []string{dir, filepath.Dir(target)} {
					for _, n := range cliEntries(t, d) {
						if strings.Contains(n, atomicfile.Marker) || strings.Contains(n, ".tmp") {
							t.Errorf("temporary file %s left in %s", n, d)
						}
					}
				}
			})
		}
	}

	t.Run("FIFO", func(t *testing.T) {
		fifo := filepath.Join(t.TempDir(), "report.fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatalf("mkfifo (a FIFO is what this case reads): %v", err)
		}
		got := make(chan []byte, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- nil
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- b
		}()
		r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "queue-depth", "--format", "json", "-o", fifo)
		expectCode(t, r, 0)
		var b []byte
		select {
		case b = <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("the FIFO's reader got nothing")
		}
		var rep report
		mustJSON(t, string(b), &rep)
		if rep.ExitCode != 0 || len(rep.Budgets) != 1 || rep.Budgets[0].Name != "queue-depth" {
			t.Errorf("report through the FIFO = %+v", rep)
		}
		if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("%s is no longer a FIFO: %v", fifo, err)
		}
	})

	t.Run("/dev/null", func(t *testing.T) {
		r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "queue-depth", "--report", "junit=/dev/null")
		expectCode(t, r, 0)
		if fi, err := os.Lstat("/dev/null"); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("/dev/null is no longer a character device: %v", err)
		}
	})

	for _, out := range []string{"-", "/dev/stdout"} {
		t.Run("-o "+out, func(t *testing.T) {
			r := run(t, nil, "check", "--offline", "testdata/snapshots/degraded", "--only", "queue-depth", "--format", "json", "-o", out)
			if _, err := os.Lstat(filepath.Join(repo, "-")); err == nil {
				os.Remove(filepath.Join(repo, "-"))
				t.Errorf("-o - wrote a file named -")
			}
			expectCode(t, r, 0)
			var rep report
			mustJSON(t, r.stdout, &rep)
			if rep.ExitCode != 0 || len(rep.Budgets) != 1 || rep.Budgets[0].Name != "queue-depth" {
				t.Errorf("report on stdout = %+v", rep)
			}
		})
	}
}

// TestHostileCLISnapshotOutLink: snapshot --out through a link replaces
// the directory the link points to and leaves the link.
func TestHostileCLISnapshotOutLink(t *testing.T) {
	prom := promtest.Start(t, filepath.Join(repo, "testdata", "snapshots", "healthy", "metrics.om"))
	cfg := cliWriteBudgets(t, prom.URL)
	dir := t.TempDir()
	real := filepath.Join(t.TempDir(), "snapshots", "today")
	cliMust(t, os.MkdirAll(real, 0o755))
	link := filepath.Join(dir, "snap")
	cliMust(t, os.Symlink(real, link))

	for round := range 2 { // the second replaces the first snapshot
		r := run(t, nil, "snapshot", "-c", cfg, "--at", faultAt, "--out", link)
		expectCode(t, r, 0)
		fi, err := os.Lstat(link)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			t.Fatalf("round %d: --out %s became a %v, want it to stay a symlink", round, link, fi.Mode().Type())
		}
		for _, f := range []string{"manifest.yaml", "metrics.om"} {
			if _, err := os.Stat(filepath.Join(real, f)); err != nil {
				t.Errorf("round %d: the link's target lacks %s: %v", round, f, err)
			}
		}
		if got := cliEntries(t, filepath.Dir(real)); strings.Join(got, ",") != "today" {
			t.Errorf("round %d: beside the target: %q, want only today", round, got)
		}
	}
	r := run(t, nil, "check", "-c", cfg, "--offline", link, "--format", "json")
	expectCode(t, r, 0)
	var rep report
	mustJSON(t, r.stdout, &rep)
	if len(rep.Budgets) != 1 || rep.Budgets[0].Status != "pass" {
		t.Errorf("check of the recorded snapshot = %+v", rep)
	}
}

// TestHostileCLIEmptyFlags: --offline "" (an unset variable) is a usage
// error and no live source is asked, even one the environment names.
func TestHostileCLIEmptyFlags(t *testing.T) {
	srv, hits := cliHangingServer(t)
	env := []string{"SECFLOW_PROMETHEUS_URL=" + srv.URL, "SECFLOW_LOKI_URL=" + srv.URL}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"check", "--offline", ""}, "error: --offline: empty value: want DIR (is a variable unset?)\n"},
		{[]string{"check", "--prometheus", ""}, "error: --prometheus: empty value: want URL (is a variable unset?)\n"},
		{[]string{"check", "--loki", ""}, "error: --loki: empty value: want URL (is a variable unset?)\n"},
		{[]string{"check", "-c", "", "--offline", "testdata/snapshots/healthy"}, "error: --config: empty value: want FILE (is a variable unset?)\n"},
		{[]string{"check", "--offline", "testdata/snapshots/healthy", "-o", ""}, "error: --output: empty value: want FILE (is a variable unset?)\n"},
		{[]string{"snapshot", "--out", "", "--prometheus", srv.URL}, "error: --out: empty value: want DIR (is a variable unset?)\n"},
		{[]string{"check", "--at", "1795694407000", "--offline", "testdata/snapshots/healthy"}, "error: --at: 1795694407000 looks like unix milliseconds (2026-11-26T12:00:07Z), not seconds: give --at 1795694407 or an RFC3339 time\n"},
	} {
		r := run(t, env, tt.args...)
		expectCode(t, r, 2)
		if r.stderr != tt.want || r.stdout != "" {
			t.Errorf("%q: stdout %q, stderr %q; want stderr %q", tt.args, r.stdout, r.stderr, tt.want)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("a usage error asked the live Prometheus %d times", n)
	}
}

// TestHostileCLIUnwritableReport: a report that cannot be written makes
// the exit 2, and the console summary printed after it says so; a
// violation still exits 1.
func TestHostileCLIUnwritableReport(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "missing", "junit.xml")
	for _, tt := range []struct {
		snapshot string
		code     int
	}{{"healthy", 2}, {"degraded", 1}} {
		r := run(t, nil, "check", "--offline", "testdata/snapshots/"+tt.snapshot, "--report", "junit="+bad, "--no-emoji")
		expectCode(t, r, tt.code)
		if !strings.Contains(r.stdout, "(exit "+strconv.Itoa(tt.code)+")") {
			t.Errorf("%s: the summary does not claim exit %d:\n%s", tt.snapshot, tt.code, r.stdout)
		}
		if want := "error: writing the junit report to " + bad + ": "; !strings.HasPrefix(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: stderr = %q, want one line starting %q", tt.snapshot, r.stderr, want)
		}
	}
}

func cliMust(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestHostileCLISnapshotSignal: a recording stopped by SIGTERM exits 143,
// says so in one line, and leaves --out as it was with no staging
// directory beside it.
func TestHostileCLISnapshotSignal(t *testing.T) {
	srv, hits := cliHangingServer(t)
	tmp, snaps := t.TempDir(), t.TempDir()
	out := filepath.Join(snaps, "snap")
	p := cliStart(t, []string{"TMPDIR=" + tmp}, "snapshot", "-c", cliWriteBudgets(t, srv.URL), "--at", faultAt, "--out", out)
	cliWaitFor(t, "the recording's query", func() bool { return hits.Load() > 0 })
	cliMust(t, p.cmd.Process.Signal(syscall.SIGTERM))
	r, took := p.wait(t, 10*time.Second)
	t.Logf("exited %s after the signal", took.Round(time.Millisecond))
	expectCode(t, r, 143)
	if want := "error: interrupted by SIGTERM before the snapshot was complete; " + out + " was left as it was\n"; r.stderr != want {
		t.Errorf("stderr = %q, want %q", r.stderr, want)
	}
	if got := cliEntries(t, snaps); len(got) != 0 {
		t.Errorf("beside --out: %q, want nothing", got)
	}
	if left := cliScratchDirs(t, tmp); len(left) != 0 {
		t.Errorf("TMPDIR holds %v", left)
	}
}
