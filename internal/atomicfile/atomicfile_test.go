//go:build unix

package atomicfile

import (
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func names(t *testing.T, dir string) []string {
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

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestHostileWriteThroughSymlink: a report path that is a link (absolute,
// relative, chained, dangling) stays a link, and its target gets the data.
func TestHostileWriteThroughSymlink(t *testing.T) {
	tests := []struct {
		name string
		// setup makes the link in dir and returns it and the file it
		// must write.
		setup func(t *testing.T, dir string) (link, target string)
	}{
		{"absolute link to a file", func(t *testing.T, dir string) (string, string) {
			target := filepath.Join(dir, "real", "report.json")
			mustMkdir(t, filepath.Dir(target))
			mustWrite(t, target, "old")
			return mustLink(t, target, filepath.Join(dir, "report.json")), target
		}},
		{"relative link to a file in another directory", func(t *testing.T, dir string) (string, string) {
			mustMkdir(t, filepath.Join(dir, "real"))
			mustWrite(t, filepath.Join(dir, "real", "r.json"), "old")
			return mustLink(t, "real/r.json", filepath.Join(dir, "report.json")), filepath.Join(dir, "real", "r.json")
		}},
		{"chain of two links", func(t *testing.T, dir string) (string, string) {
			target := filepath.Join(dir, "final.json")
			mustWrite(t, target, "old")
			mid := mustLink(t, "final.json", filepath.Join(dir, "mid.json"))
			return mustLink(t, mid, filepath.Join(dir, "report.json")), target
		}},
		{"dangling link", func(t *testing.T, dir string) (string, string) {
			target := filepath.Join(dir, "not-yet.json")
			return mustLink(t, "not-yet.json", filepath.Join(dir, "report.json")), target
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			link, target := tt.setup(t, dir)
			if err := Write(link, writeString("new report\n")); err != nil {
				t.Fatalf("Write: %v", err)
			}
			fi, err := os.Lstat(link)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode()&fs.ModeSymlink == 0 {
				t.Fatalf("%s was replaced by a %v, want it to stay a symlink", link, fi.Mode().Type())
			}
			if got := readFile(t, target); got != "new report\n" {
				t.Errorf("target %s holds %q, want the new report", target, got)
			}
			for _, d := range []string{dir, filepath.Dir(target)} {
				for _, n := range names(t, d) {
					if strings.Contains(n, Marker) {
						t.Errorf("temporary file %s left in %s", n, d)
					}
				}
			}
		})
	}
}

func TestHostileWriteSymlinkLoop(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	mustLink(t, b, a)
	mustLink(t, a, b)
	err := Write(a, writeString("x"))
	if err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Fatalf("Write through a link loop: error = %v, want too many levels of symbolic links", err)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("directory holds %q, want only the two links", got)
	}
}

// TestHostileWriteNonRegular: FIFOs and devices are written in place,
// never renamed over; a directory is refused.
func TestHostileWriteNonRegular(t *testing.T) {
	t.Run("fifo", func(t *testing.T) {
		dir := t.TempDir()
		fifo := filepath.Join(dir, "report.fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatalf("mkfifo (a FIFO is what this case reads): %v", err)
		}
		got := make(chan string, 1)
		go func() {
			f, err := os.Open(fifo)
			if err != nil {
				got <- "open: " + err.Error()
				return
			}
			defer f.Close()
			b, _ := io.ReadAll(f)
			got <- string(b)
		}()
		if err := Write(fifo, writeString("through the fifo\n")); err != nil {
			t.Fatalf("Write: %v", err)
		}
		select {
		case s := <-got:
			if s != "through the fifo\n" {
				t.Errorf("reader got %q", s)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the reader got nothing")
		}
		fi, err := os.Lstat(fifo)
		if err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
			t.Errorf("%s is no longer a FIFO: %v %v", fifo, fi.Mode(), err)
		}
		if got := names(t, dir); !slices.Equal(got, []string{"report.fifo"}) {
			t.Errorf("directory holds %q", got)
		}
	})
	t.Run("/dev/null", func(t *testing.T) {
		if err := Write("/dev/null", writeString("discarded")); err != nil {
			t.Fatalf("Write(/dev/null): %v", err)
		}
		fi, err := os.Lstat("/dev/null")
		if err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
			t.Fatalf("/dev/null is no longer a character device: %v %v", fi.Mode(), err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		err := Write(dir, writeString("x"))
		if err == nil || !strings.Contains(err.Error(), dir+": is a directory") {
			t.Fatalf("error = %v, want %s: is a directory", err, dir)
		}
	})
	t.Run("a write error leaves a fifo unopened", func(t *testing.T) {
		dir := t.TempDir()
		fifo := filepath.Join(dir, "r.fifo")
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Fatalf("mkfifo (a FIFO is what this case reads): %v", err)
		}
		// Opening a FIFO without a reader blocks: a renderer that
		// fails must fail before the open.
		err := Write(fifo, func(io.Writer) error { return io.ErrShortWrite })
		if err == nil || !strings.Contains(err.Error(), "short write") {
			t.Fatalf("error = %v, want the renderer's", err)
		}
	})
}

func TestPendingRewriteThenCommit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	mustWrite(t, path, "old")
	p, err := Begin(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Write(writeString("first, longer rendering\n")); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "old" {
		t.Errorf("before Commit the file holds %q, want it untouched", got)
	}
	if err := p.Write(writeString("second\n")); err != nil {
		t.Fatal(err)
	}
	if err := p.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != "second\n" {
		t.Errorf("file holds %q, want only the second rendering", got)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"report.json"}) {
		t.Errorf("directory holds %q", got)
	}
}

// deadPID is the PID of a process that has exited and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("cannot run true: %v", err)
	}
	return cmd.Process.Pid
}

// TestHostileCleanStale: only our names, of a dead process on this host or
// older than a day, are removed; everything else stays.
func TestHostileCleanStale(t *testing.T) {
	dir := t.TempDir()
	dead := strconv.Itoa(deadPID(t))
	alive := strconv.Itoa(os.Getppid()) // the go command, running
	host := hostTag()
	old := time.Now().Add(-48 * time.Hour)
	files := []struct {
		name   string
		dir    bool
		mtime  time.Time
		remove bool
	}{
		{".report.json." + Marker + host + "." + dead + "-123", false, time.Time{}, true},
		{Marker + host + "." + dead + "-456", true, time.Time{}, true},                      // a run's scratch directory
		{".snap." + Marker + host + "." + dead + "-789.old", true, time.Time{}, true},       // a snapshot moved aside
		{".report.json." + Marker + host + "." + alive + "-123", false, time.Time{}, false}, // a run in progress
		{".report.json." + Marker + "0000beef." + dead + "-123", false, time.Time{}, false}, // another host's PID
		{".report.json." + Marker + "0000beef." + alive + "-9", false, old, true},           // stale by age
		{".report.json." + Marker + "garbage", false, old, false},                           // not our name
		{".report.json.tmp-123", false, old, false},                                         // someone else's
		{"report.json", false, old, false},
	}
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if f.dir {
			mustMkdir(t, p)
			mustWrite(t, filepath.Join(p, "chunk"), "data")
		} else {
			mustWrite(t, p, "data")
		}
		if !f.mtime.IsZero() {
			if err := os.Chtimes(p, f.mtime, f.mtime); err != nil {
				t.Fatal(err)
			}
		}
	}
	CleanStale(dir)
	left := names(t, dir)
	for _, f := range files {
		kept := slices.Contains(left, f.name)
		if kept == f.remove {
			t.Errorf("%s: kept = %v, want removed = %v", f.name, kept, f.remove)
		}
	}
}

func TestScratchRemovesStaleRuns(t *testing.T) {
	parent := t.TempDir()
	stale := filepath.Join(parent, Marker+hostTag()+"."+strconv.Itoa(deadPID(t))+"-1")
	mustMkdir(t, stale)
	dir, remove, err := Scratch(parent)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("stale scratch directory %s still there: %v", stale, err)
	}
	if !strings.HasPrefix(filepath.Base(dir), Marker+hostTag()+"."+strconv.Itoa(os.Getpid())+"-") {
		t.Errorf("scratch directory %s lacks our marker, host and PID", dir)
	}
	remove()
	if got := names(t, parent); len(got) != 0 {
		t.Errorf("after remove, %s holds %q", parent, got)
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustLink(t *testing.T, target, link string) string {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// TestPendingDirectRewrite: a FIFO (or device) target may be written
// several times before Commit, like a regular file; the reader gets only
// the last content, once. check re-renders its reports when a failed
// --push-required push changes the exit code: -o /dev/null used to fail
// there with "already finished".
func TestPendingDirectRewrite(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo (a FIFO is what this case reads): %v", err)
	}
	p, err := Begin(fifo)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	for _, s := range []string{"exit code 0\n", "exit code 3\n"} {
		if err := p.Write(writeString(s)); err != nil {
			t.Fatalf("Write(%q): %v", s, err)
		}
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	if err := p.Commit(); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	select {
	case s := <-got:
		if s != "exit code 3\n" {
			t.Errorf("reader got %q, want only the last write", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader got nothing")
	}
	if err := p.Write(writeString("late")); err == nil || !strings.Contains(err.Error(), "already finished") {
		t.Errorf("Write after Commit: %v, want already finished", err)
	}
}
