package snapshot

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// The files of a snapshot are checked when it is opened, every kind the
// same way: a data file may be a symlink to a file inside the snapshot
// directory (it is then read like any other), never to one outside it;
// where a file belongs there is a regular file, not a directory or a
// device. The same logs twice (logs.jsonl beside logs.jsonl.gz) are
// refused too: their entries would count twice.

// dataFile reports whether name, in a snapshot's top directory, is one the
// snapshot reads.
func dataFile(name string) bool {
	switch name {
	case ManifestFile, RulesFile, AlertsFile, TargetsFile, RuntimeFile, LogAggregatesFile:
		return true
	}
	return strings.HasSuffix(name, MetricsExt) || strings.HasSuffix(name, LogsExt) || strings.HasSuffix(name, LogsGzExt)
}

// endpointFile reports whether name, in endpoints/, is one the snapshot
// reads.
func endpointFile(name string) bool {
	return strings.HasSuffix(name, EndpointBodyExt) || strings.HasSuffix(name, EndpointMetaExt)
}

// fileChecker checks the files of one snapshot directory.
type fileChecker struct {
	dir  string // as given
	real string // dir with symlinks resolved
}

func newFileChecker(dir string) (*fileChecker, error) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("opening snapshot: %w", err)
	}
	real, err = filepath.Abs(real)
	if err != nil {
		return nil, fmt.Errorf("opening snapshot: %w", err)
	}
	return &fileChecker{dir: dir, real: real}, nil
}

// check checks the file at path (inside the snapshot), found by ReadDir as
// e; wantDir says a directory belongs there.
func (c *fileChecker) check(path string, e fs.DirEntry, wantDir bool) error {
	mode := e.Type()
	if mode&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			return &CorruptError{File: path, Msg: "a symlink to nothing: a snapshot holds its own files"}
		}
		if target, err = filepath.Abs(target); err != nil {
			return &CorruptError{File: path, Msg: "a symlink that cannot be resolved"}
		}
		rel, err := filepath.Rel(c.real, target)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
			return &CorruptError{File: path, Msg: "a symlink to a file outside the snapshot directory: a snapshot holds its own files (copy the file in)"}
		}
		fi, err := os.Stat(path)
		if err != nil {
			return &CorruptError{File: path, Msg: "a symlink that cannot be followed"}
		}
		mode = fi.Mode().Type()
	}
	switch {
	case wantDir && mode.IsDir():
		return nil
	case wantDir:
		return &CorruptError{File: path, Msg: "not a directory: endpoint bodies belong in a directory " + EndpointsDir + "/"}
	case mode.IsDir():
		return &CorruptError{File: path, Msg: "a directory where a file belongs"}
	case !mode.IsRegular():
		return &CorruptError{File: path, Msg: "not a regular file"}
	}
	return nil
}

// listFiles checks the snapshot's files and lists its metric and log
// files, sorted by name (the order they are read in).
func listFiles(dir string) (om, logs []string, err error) {
	c, err := newFileChecker(dir)
	if err != nil {
		return nil, nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("opening snapshot: %w", err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		path := filepath.Join(dir, name)
		switch {
		case name == EndpointsDir:
			if err := c.check(path, e, true); err != nil {
				return nil, nil, err
			}
			if err := c.checkEndpoints(path); err != nil {
				return nil, nil, err
			}
			continue
		case !dataFile(name):
			continue
		}
		if err := c.check(path, e, false); err != nil {
			return nil, nil, err
		}
		names[name] = true
		switch {
		case strings.HasSuffix(name, MetricsExt):
			om = append(om, path)
		case strings.HasSuffix(name, LogsExt), strings.HasSuffix(name, LogsGzExt):
			logs = append(logs, path)
		}
	}
	for _, f := range logs {
		if plain := strings.TrimSuffix(f, ".gz"); plain != f && names[filepath.Base(plain)] {
			return nil, nil, &CorruptError{File: f, Msg: fmt.Sprintf("the same logs as %s, gzipped: their entries would count twice; keep one of the two files", plain)}
		}
	}
	return om, logs, nil
}

func (c *fileChecker) checkEndpoints(sub string) error {
	entries, err := os.ReadDir(sub)
	if err != nil {
		return &CorruptError{File: sub, Msg: "cannot be read: " + errText(err)}
	}
	for _, e := range entries {
		if !endpointFile(e.Name()) {
			continue
		}
		if err := c.check(filepath.Join(sub, e.Name()), e, false); err != nil {
			return err
		}
	}
	return nil
}

// errText is an OS error without the path it repeats.
func errText(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// jsonErrText is an encoding/json error without the character of the
// file it quotes: errors say where, never what the file holds.
func jsonErrText(err error) string {
	return jsonCharRE.ReplaceAllString(err.Error(), "invalid character")
}

var jsonCharRE = regexp.MustCompile(`invalid character '(?:\\.|[^'])*'`)
