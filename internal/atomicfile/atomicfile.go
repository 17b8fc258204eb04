package atomicfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxLinks bounds the symbolic links followed to a target, as the kernel
// does (ELOOP).
const maxLinks = 40

// Write writes the file at path through write, atomically (see the
// package doc). When write or any step fails, no temporary file is left
// and an existing file at path is left as it was.
func Write(path string, write func(io.Writer) error) error {
	p, err := Begin(path)
	if err != nil {
		return err
	}
	// Deferred so that a panicking write leaves no temporary file either.
	defer p.Abort()
	if err := p.Write(write); err != nil {
		return err
	}
	return p.Commit()
}

// WriteBytes writes data to path as Write does.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Pending is a file being written: the data can be written (and rewritten)
// into a temporary file, and is put in place only by Commit. Writing
// several files this way lets a caller find out whether all of them can be
// written before any of them replaces its target.
type Pending struct {
	path   string // as given, for messages
	target string // path with every symbolic link resolved
	direct bool   // a FIFO, device or /dev/stdout: written in place
	buf    []byte // a direct target's content, written by Commit
	perm   fs.FileMode
	tmp    *os.File
	done   bool
}

// Begin prepares writing the file at path: it resolves symbolic links,
// refuses a directory, and creates the temporary file beside the target.
func Begin(path string) (*Pending, error) {
	if path == "" {
		return nil, errors.New("writing a file: no path given")
	}
	p := &Pending{path: path, perm: 0o644}
	if fi, err := os.Stat(path); err == nil {
		switch {
		case fi.IsDir():
			return nil, fmt.Errorf("writing %s: is a directory", path)
		case !fi.Mode().IsRegular() || viaProcess(path):
			// Not ours to replace: a FIFO, a device, or a process's
			// own descriptor (/dev/stdout), which a rename could not
			// reach anyway.
			p.direct, p.target = true, path
			return p, nil
		}
		p.perm = fi.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	target, err := ResolveLinks(path)
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	p.target = target
	dir, base := filepath.Split(target)
	if dir == "" {
		dir = "."
	}
	CleanStale(dir)
	tmp, err := os.CreateTemp(dir, TempPattern("."+base+"."))
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	p.tmp = tmp
	return p, nil
}

// Write (re)writes the pending file's content through write: each call
// replaces what an earlier one wrote. A direct target (a FIFO, a device)
// keeps the content in memory; Commit writes it, once.
func (p *Pending) Write(write func(io.Writer) error) error {
	if p.done {
		return fmt.Errorf("writing %s: already finished", p.path)
	}
	if p.direct {
		// Rendered first, so that a failing writer leaves the target untouched.
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			return fmt.Errorf("writing %s: %w", p.path, err)
		}
		p.buf = buf.Bytes()
		return nil
	}
	if _, err := p.tmp.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	if err := p.tmp.Truncate(0); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	bw := bufio.NewWriter(p.tmp)
	if err := write(bw); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	return nil
}

func (p *Pending) commitDirect() (err error) {
	// O_APPEND: /dev/stdout redirected to a file (>> log) must not
	// overwrite what is already there; a FIFO or device ignores it.
	f, err := os.OpenFile(p.target, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("writing %s: %w", p.path, cerr)
		}
	}()
	if _, err := f.Write(p.buf); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	return nil
}

// Commit puts the written file in place: synced, with the mode of the file
// it replaces (0644 for a new one), renamed over the resolved target. A
// direct target gets the last content Write gave it.
func (p *Pending) Commit() error {
	if p.done {
		return nil
	}
	p.done = true
	if p.direct {
		return p.commitDirect()
	}
	committed := false
	defer func() {
		if !committed {
			_ = p.tmp.Close()
			_ = os.Remove(p.tmp.Name())
		}
	}()
	if err := p.tmp.Chmod(p.perm); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	if err := p.tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: syncing: %w", p.path, err)
	}
	if err := p.tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	if err := os.Rename(p.tmp.Name(), p.target); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	committed = true
	syncDir(filepath.Dir(p.target))
	return nil
}

// Abort drops the pending file; the target is left as it was. Aborting a
// committed or aborted file does nothing.
func (p *Pending) Abort() {
	if p.done {
		return
	}
	p.done = true
	if p.tmp != nil {
		_ = p.tmp.Close()
		_ = os.Remove(p.tmp.Name())
	}
}

// ResolveLinks follows the symbolic links of path's last element until it
// names something that is not a link, or does not exist (a dangling link's
// target is where a new file goes). The directories on the way are left as
// they are: renaming within a directory works through a linked directory.
func ResolveLinks(path string) (string, error) {
	cur := path
	for range maxLinks {
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return cur, nil
		}
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return cur, nil
		}
		dest, err := os.Readlink(cur)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(cur), dest)
		}
		cur = dest
	}
	return "", fmt.Errorf("%s: too many levels of symbolic links", path)
}

// viaProcess reports whether path reaches a process's own descriptors
// (/dev/stdout, /dev/fd/N, /proc/self/fd/N), whose links only the kernel
// can follow: such a file is written in place, never renamed over.
func viaProcess(path string) bool {
	cur := path
	for range maxLinks {
		if abs, err := filepath.Abs(cur); err == nil {
			cur = abs
		}
		if strings.HasPrefix(cur, "/dev/") || strings.HasPrefix(cur, "/proc/") {
			return true
		}
		dest, err := os.Readlink(cur)
		if err != nil {
			return false
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(filepath.Dir(cur), dest)
		}
		cur = dest
	}
	return false
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
