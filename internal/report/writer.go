package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Formats are the report formats, in the order help texts list them.
var Formats = []string{"console", "json", "junit", "markdown", "github"}

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
// one: the data goes to a temporary file in the same directory, is synced,
// and is renamed over path. When write or any step fails, the temporary file
// is removed and an existing file at path is left as it was.
func WriteFileAtomic(path string, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	perm := fs.FileMode(0o644)
	if fi, statErr := os.Stat(path); statErr == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("writing %s: not a regular file", path)
		}
		perm = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	committed := false
	// Deferred so that a panicking write leaves no temporary file either.
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	bw := bufio.NewWriter(tmp)
	if err := write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: syncing: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	committed = true
	syncDir(dir)
	return nil
}

// syncDir makes the rename durable where the platform allows it; a report
// that is complete but not yet on disk after a crash is acceptable, so
// failures are ignored (Windows cannot open directories for syncing).
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
