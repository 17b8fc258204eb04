package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/secflow/secflow-budget/internal/atomicfile"
)

// Formats are the report formats, in the order help texts list them.
var Formats = []string{"console", "json", "junit", "markdown", "github", "openmetrics"}

// ParseFormat checks a --format or --report value.
func ParseFormat(s string) (string, error) {
	for _, f := range Formats {
		if s == f {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown report format %q: want one of %s", s, strings.Join(Formats, ", "))
}

// Write renders run in format to w.
func Write(w io.Writer, format string, run *Run, opts Options) error {
	if run == nil {
		return errors.New("writing report: no run")
	}
	var write func(io.Writer, *Run, Options) error
	switch format {
	case "console":
		write = WriteConsole
	case "json":
		write = WriteJSON
	case "junit":
		write = WriteJUnit
	case "markdown":
		write = WriteMarkdown
	case "github":
		write = WriteGitHub
	case "openmetrics":
		write = WriteOpenMetrics
	default:
		_, err := ParseFormat(format)
		return err
	}
	// Reporters write many small pieces; buffering keeps that cheap and
	// makes the first write error the one returned.
	bw := bufio.NewWriter(w)
	if err := write(bw, run, opts); err != nil {
		return fmt.Errorf("writing %s report: %w", format, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s report: %w", format, err)
	}
	return nil
}

// WriteFileAtomic writes a file through write so that readers (and a CI
// step uploading the report) see either the old file or the complete new
// one; see atomicfile.Write for links, FIFOs and devices.
func WriteFileAtomic(path string, write func(io.Writer) error) error {
	return atomicfile.Write(path, write)
}
