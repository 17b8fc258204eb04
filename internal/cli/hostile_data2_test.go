package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestHostileAtBefore2000: --at 0, -1 or any time before 2000 is a usage
// error saying so, for check and snapshot.
func TestHostileAtBefore2000(t *testing.T) {
	tests := []struct {
		at, want string
	}{
		{"0", "error: --at: 0 is 1970-01-01T00:00:00Z, before 2000-01-01: give the evaluation time in unix seconds (e.g. 1795694407) or RFC3339\n"},
		{"-1", "error: --at: -1 is 1969-12-31T23:59:59Z, before 2000-01-01: give the evaluation time in unix seconds (e.g. 1795694407) or RFC3339\n"},
		{"946684799", "error: --at: 946684799 is 1999-12-31T23:59:59Z, before 2000-01-01: give the evaluation time in unix seconds (e.g. 1795694407) or RFC3339\n"},
		{"1999-06-01T00:00:00Z", "error: --at: 1999-06-01T00:00:00Z is 1999-06-01T00:00:00Z, before 2000-01-01: give the evaluation time in unix seconds (e.g. 1795694407) or RFC3339\n"},
	}
	for _, tt := range tests {
		atRefused(t, tt.at, tt.want)
	}
}

// TestHostileReportsSameFile: two reports writing one file (the same
// name, another spelling, a symlink to it) are a usage error naming both
// flags, before anything is read or written; stdout and /dev/null may
// take several.
func TestHostileReportsSameFile(t *testing.T) {
	dir := t.TempDir()
	same := filepath.Join(dir, "same.out")
	link := filepath.Join(dir, "link.out")
	if err := os.Symlink("same.out", link); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(dir, "dangling.out")
	if err := os.Symlink(filepath.Join(dir, "later.out"), dangling); err != nil {
		t.Fatal(err)
	}
	existing := filepath.Join(dir, "existing.out")
	if err := os.WriteFile(existing, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard.out")
	if err := os.Link(existing, hard); err != nil {
		t.Fatal(err)
	}
	const tail = ": the second report would replace the first; give each report a file of its own\n"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"-o and --report", []string{"-o", same, "--report", "junit=" + same},
			"error: --report junit=" + same + ": the same file as --output " + same + tail},
		{"two --report", []string{"--report", "json=" + same, "--report", "junit=" + same},
			"error: --report junit=" + same + ": the same file as --report json=" + same + tail},
		{"another spelling", []string{"-o", same, "--report", "junit=" + filepath.Join(dir, ".", "x", "..", "same.out")},
			"error: --report junit=" + filepath.Join(dir, ".", "x", "..", "same.out") + ": the same file as --output " + same + tail},
		{"a symlink to it", []string{"-o", link, "--report", "junit=" + same},
			"error: --report junit=" + same + ": the same file as --output " + link + tail},
		{"a symlink to a file not there yet", []string{"--report", "json=" + dangling, "--report", "junit=" + filepath.Join(dir, "later.out")},
			"error: --report junit=" + filepath.Join(dir, "later.out") + ": the same file as --report json=" + dangling + tail},
		{"a hard link", []string{"-o", existing, "--report", "junit=" + hard},
			"error: --report junit=" + hard + ": the same file as --output " + existing + tail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"check", "-c", "testdata/no-sources.yaml"}, tt.args...)
			code, stdout, stderr := runCLI(t, nil, false, args...)
			if code != ExitUsage || stderr != tt.want || stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 2 and %q", code, stdout, stderr, tt.want)
			}
			if _, err := os.Lstat(same); err == nil && !isLink(same) {
				t.Errorf("%s was written", same)
			}
			if b, _ := os.ReadFile(existing); string(b) != "old" {
				t.Errorf("%s was written: %q", existing, b)
			}
		})
	}
	// Distinct files, stdout twice and /dev/null twice are fine.
	if err := sameReportFiles([]reportTarget{
		{path: ""}, {path: "", flag: "--report json=-"},
		{path: "/dev/null", flag: "--report junit=/dev/null"}, {path: "/dev/null", flag: "--report json=/dev/null"},
		{path: same, flag: "a"}, {path: filepath.Join(dir, "other.out"), flag: "b"},
	}); err != nil {
		t.Errorf("distinct targets: %v", err)
	}
}

func isLink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}
