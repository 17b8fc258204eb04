package main

import (
	"debug/buildinfo"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The version a binary prints, however it was built: stamped by the
// Makefile's -ldflags, or read from the build info Go records (go install
// ...@vX.Y.Z, go build in a checkout), "dev (commit unknown)" when nothing
// is known.

const versionPkg = "github.com/secflow/secflow-budget/internal/cli"

// versionBuild builds the binary from dir with args and env added to go
// build's, into a temporary directory.
func versionBuild(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "secflow-budget")
	cmd := exec.Command("go", append(append([]string{"build"}, args...), "-o", bin, "./cmd/secflow-budget")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", args, err, out)
	}
	return bin
}

// versionPrinted runs `--version` and `version` and checks they print the
// same one line, on stdout only, exit 0.
func versionPrinted(t *testing.T, bin string) string {
	t.Helper()
	var lines []string
	for _, args := range [][]string{{"--version"}, {"version"}} {
		cmd := exec.Command(bin, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("%s %v: %v\nstdout: %s\nstderr: %s", bin, args, err, out, stderr.String())
		}
		lines = append(lines, string(out))
	}
	if lines[0] != lines[1] {
		t.Errorf("--version printed %q, version printed %q", lines[0], lines[1])
	}
	if strings.Count(lines[0], "\n") != 1 || !strings.HasSuffix(lines[0], "\n") {
		t.Errorf("not one line: %q", lines[0])
	}
	return strings.TrimSuffix(lines[0], "\n")
}

func versionPlatform(t *testing.T, bin string) string {
	t.Helper()
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	return ", " + info.GoVersion + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}

func TestVersionLdflagsWin(t *testing.T) {
	bin := versionBuild(t, repo, nil, "-ldflags", "-X "+versionPkg+".version=v9.8.7 -X "+versionPkg+".commit=0123abc")
	want := "secflow-budget v9.8.7 (commit 0123abc" + versionPlatform(t, bin)
	if got := versionPrinted(t, bin); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestVersionNothingKnown(t *testing.T) {
	bin := versionBuild(t, repo, []string{"GOFLAGS=-buildvcs=false"})
	want := "secflow-budget dev (commit unknown" + versionPlatform(t, bin)
	if got := versionPrinted(t, bin); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestVersionFromCheckout builds in a git checkout of the sources, without
// ldflags: the version and commit come from the vcs.* build info, and a
// change not committed shows.
func TestVersionFromCheckout(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatal("git is needed to build from a checkout (apt-get install git)")
	}
	dir := versionCheckout(t)
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=2026-12-07T02:16:46Z", "GIT_AUTHOR_DATE=2026-12-07T02:16:46Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", ".")
	git("commit", "-q", "-m", "sources")
	rev := git("rev-parse", "HEAD")[:12]

	clean := versionBuild(t, dir, []string{"GOFLAGS=-buildvcs=true"})
	want := "secflow-budget v0.0.0-20261207021646-" + rev + " (commit " + rev + ", 2026-12-07T02:16:46Z" + versionPlatform(t, clean)
	if got := versionPrinted(t, clean); got != want {
		t.Errorf("clean checkout:\ngot  %q\nwant %q", got, want)
	}

	if err := os.WriteFile(filepath.Join(dir, "NOTES"), []byte("not committed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirty := versionBuild(t, dir, []string{"GOFLAGS=-buildvcs=true"})
	want = "secflow-budget v0.0.0-20261207021646-" + rev + "+dirty (commit " + rev + " with uncommitted changes, 2026-12-07T02:16:46Z" + versionPlatform(t, dirty)
	if got := versionPrinted(t, dirty); got != want {
		t.Errorf("dirty checkout:\ngot  %q\nwant %q", got, want)
	}

	stamped := versionBuild(t, dir, []string{"GOFLAGS=-buildvcs=true"}, "-ldflags", "-X "+versionPkg+".version=v1.2.3 -X "+versionPkg+".commit="+rev[:7])
	want = "secflow-budget v1.2.3 (commit " + rev[:7] + " with uncommitted changes, 2026-12-07T02:16:46Z" + versionPlatform(t, stamped)
	if got := versionPrinted(t, stamped); got != want {
		t.Errorf("make build in the checkout:\ngot  %q\nwant %q", got, want)
	}
}

// versionCheckout copies what builds the binary (go.mod, go.sum, the Go
// and assembly files but tests) into a new directory: a repository of its own, whatever
// this one is (a worktree's .git is a file Go does not stamp from).
func versionCheckout(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(repo, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repo, path)
		name := d.Name()
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "dist") {
				return filepath.SkipDir
			}
			return nil
		}
		if !(name == "go.mod" || name == "go.sum" || strings.HasSuffix(name, ".s") || strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go")) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
