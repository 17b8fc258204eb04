package cli

import (
	"fmt"
	"os"
	"path/filepath"
)

// sameReportFiles refuses two reports that would write one file (by the
// same name, another spelling of it, a symlink or a hard link to it): the
// last one written would silently replace the other. Standard output and
// other files that are not regular (/dev/null) may take several.
func sameReportFiles(targets []reportTarget) error {
	type seen struct {
		key  string
		info os.FileInfo
		flag string
	}
	var files []seen
	for _, t := range targets {
		if t.path == "" {
			continue
		}
		key, info, ok := reportFileKey(t.path)
		if !ok {
			continue
		}
		for _, f := range files {
			if f.key == key || (f.info != nil && info != nil && os.SameFile(f.info, info)) {
				return fmt.Errorf("%s: the same file as %s: the second report would replace the first; give each report a file of its own", t.flag, f.flag)
			}
		}
		files = append(files, seen{key: key, info: info, flag: t.flag})
	}
	return nil
}

// reportFileKey is the absolute path a report to path writes, symlinks
// followed (also a link to a file not there yet), and the file's info when
// it exists. ok is false for a file that is not a regular one.
func reportFileKey(path string) (key string, info os.FileInfo, ok bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path), nil, true
	}
	for range 40 { // as many links as the kernel follows
		fi, err := os.Lstat(abs)
		if err != nil {
			break // not there: the report creates it
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			if !fi.Mode().IsRegular() {
				return "", nil, false
			}
			info = fi
			break
		}
		target, err := os.Readlink(abs)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(abs), target)
		}
		abs = filepath.Clean(target)
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(abs)); err == nil {
		abs = filepath.Join(dir, filepath.Base(abs))
	}
	return abs, info, true
}
