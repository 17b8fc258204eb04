package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenCases are the report variants with a golden file each: every format,
// and the console as a terminal sees it, as a pipe sees it, in ASCII, and
// quiet.
var goldenCases = []struct {
	file   string
	format string
	opts   Options
}{
	{"console-terminal.golden", "console", Options{Color: true, Emoji: true}},
	{"console-plain.golden", "console", Options{Color: false, Emoji: true}},
	{"console-ascii.golden", "console", Options{Emoji: false}},
	{"console-quiet.golden", "console", Options{Emoji: true, Quiet: true}},
	{"report.json.golden", "json", Options{}},
	{"report.junit.xml.golden", "junit", Options{Emoji: true}},
	{"report.md.golden", "markdown", Options{Emoji: true}},
	{"report-ascii.md.golden", "markdown", Options{Emoji: false}},
	{"report.github.golden", "github", Options{Emoji: true}},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.format, sampleRun(), tc.opts); err != nil {
				t.Fatalf("Write(%s): %v", tc.format, err)
			}
			assertGolden(t, tc.file, buf.Bytes())
		})
	}
}

func assertGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (regenerate with go test ./internal/report -update): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (regenerate with -update if intended)\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}

// TestDeterministic guards the goldens against map-order flakes.
func TestDeterministic(t *testing.T) {
	for _, tc := range goldenCases {
		var first []byte
		for i := range 20 {
			var buf bytes.Buffer
			if err := Write(&buf, tc.format, sampleRun(), tc.opts); err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = buf.Bytes()
			} else if !bytes.Equal(first, buf.Bytes()) {
				t.Fatalf("%s: output changed between runs", tc.file)
			}
		}
	}
}
