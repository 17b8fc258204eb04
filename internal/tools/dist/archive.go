package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"
)

// entry is one file of an archive: its path inside the archive (slash
// separated), its permission bits and its content. A directory has a name
// ending in "/" and no data.
type entry struct {
	name string
	mode fs.FileMode
	data []byte
}

// sortEntries orders entries by name, so that a directory comes before what
// it holds and two runs write the same order whatever order they were
// gathered in.
func sortEntries(entries []entry) []entry {
	out := append([]entry(nil), entries...)
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// writeTarGz writes entries as a gzip-compressed tar. Everything that could
// differ between two machines or two runs is fixed: the order (sorted), the
// times (mtime, and no access or change time), owner 0:0 with no names, the
// modes given, the USTAR format (no PAX records carrying sub-second times),
// and a gzip header with no name, no time and OS "unknown" (what Go always
// writes).
func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(gz)
	for _, e := range sortEntries(entries) {
		h := &tar.Header{
			Name:    e.name,
			Mode:    int64(e.mode.Perm()),
			ModTime: mtime.UTC().Truncate(time.Second),
			Format:  tar.FormatUSTAR,
		}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return fmt.Errorf("tar header of %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return fmt.Errorf("tar data of %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// writeZip writes entries as a zip (deflated files, stored directories)
// with the same fixed order and times as writeTarGz. Unix modes are kept in
// the external attributes, so unzip on Linux or macOS restores the
// executable bit.
func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range sortEntries(entries) {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime.UTC().Truncate(time.Second)}
		mode := e.mode.Perm()
		if strings.HasSuffix(e.name, "/") {
			h.Method = zip.Store
			mode |= fs.ModeDir
		}
		h.SetMode(mode)
		fw, err := zw.CreateHeader(h)
		if err != nil {
			return fmt.Errorf("zip header of %s: %w", e.name, err)
		}
		if _, err := fw.Write(e.data); err != nil {
			return fmt.Errorf("zip data of %s: %w", e.name, err)
		}
	}
	return zw.Close()
}
