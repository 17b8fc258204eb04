package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var testEntries = []entry{
	// Deliberately unsorted: the archive sorts them.
	{name: "pkg/secflow-budget", mode: 0o755, data: []byte("#!/bin/sh\necho binary\n")},
	{name: "pkg/README.md", mode: 0o644, data: []byte("# readme\n")},
	{name: "pkg/", mode: 0o755},
}

var testTime = time.Date(2026, 12, 7, 3, 4, 5, 0, time.FixedZone("CET", 3600))

func TestTarGzIsFixed(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeTarGz(&a, testEntries, testTime); err != nil {
		t.Fatal(err)
	}
	reversed := []entry{testEntries[2], testEntries[0], testEntries[1]}
	if err := writeTarGz(&b, reversed, testTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same entries in another order gave another archive")
	}

	gz, err := gzip.NewReader(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if gz.Name != "" || !gz.ModTime.IsZero() || gz.OS != 255 {
		t.Errorf("gzip header name %q, time %v, OS %d: want none, none, 255", gz.Name, gz.ModTime, gz.OS)
	}
	tr := tar.NewReader(gz)
	type row struct {
		name string
		typ  byte
		mode int64
		body string
	}
	var got []row
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(time.Date(2026, 12, 7, 2, 4, 5, 0, time.UTC)) || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.Format != tar.FormatUSTAR {
			t.Errorf("%s: time %v, owner %d:%d %q:%q, format %v", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname, h.Format)
		}
		body, _ := io.ReadAll(tr)
		got = append(got, row{h.Name, h.Typeflag, h.Mode, string(body)})
	}
	want := []row{
		{"pkg/", tar.TypeDir, 0o755, ""},
		{"pkg/README.md", tar.TypeReg, 0o644, "# readme\n"},
		{"pkg/secflow-budget", tar.TypeReg, 0o755, "#!/bin/sh\necho binary\n"},
	}
	if len(got) != len(want) {
		t.Fatalf("entries %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestZipIsFixed(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeZip(&a, testEntries, testTime); err != nil {
		t.Fatal(err)
	}
	if err := writeZip(&b, []entry{testEntries[1], testEntries[2], testEntries[0]}, testTime.UTC()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same entries in another order or time zone gave another zip")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		mode fs.FileMode
		body string
	}{
		{"pkg/", fs.ModeDir | 0o755, ""},
		{"pkg/README.md", 0o644, "# readme\n"},
		{"pkg/secflow-budget", 0o755, "#!/bin/sh\necho binary\n"},
	}
	if len(zr.File) != len(want) {
		t.Fatalf("%d entries, want %d", len(zr.File), len(want))
	}
	for i, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name != want[i].name || f.Mode() != want[i].mode || string(body) != want[i].body {
			t.Errorf("entry %d = %s %v %q, want %s %v %q", i, f.Name, f.Mode(), body, want[i].name, want[i].mode, want[i].body)
		}
		if !f.Modified.Equal(time.Date(2026, 12, 7, 2, 4, 5, 0, time.UTC)) {
			t.Errorf("%s: modified %v", f.Name, f.Modified)
		}
		wantMethod := zip.Deflate
		if strings.HasSuffix(f.Name, "/") {
			wantMethod = zip.Store
		}
		if f.Method != wantMethod {
			t.Errorf("%s: method %d, want %d", f.Name, f.Method, wantMethod)
		}
	}
}

func TestFormatSums(t *testing.T) {
	got := formatSums(map[string]string{
		"secflow-budget_v1.2.3_windows_amd64.zip":   "bb",
		"secflow-budget_v1.2.3_darwin_arm64.tar.gz": "aa",
	})
	want := "aa  secflow-budget_v1.2.3_darwin_arm64.tar.gz\nbb  secflow-budget_v1.2.3_windows_amd64.zip\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestArchiveNames(t *testing.T) {
	for _, c := range []struct {
		p    platform
		want string
	}{
		{platform{"linux", "amd64"}, "secflow-budget_v1.2.3_linux_amd64.tar.gz"},
		{platform{"darwin", "arm64"}, "secflow-budget_v1.2.3_darwin_arm64.tar.gz"},
		{platform{"windows", "arm64"}, "secflow-budget_v1.2.3_windows_arm64.zip"},
	} {
		if got := archiveName("v1.2.3", c.p); got != c.want {
			t.Errorf("%v: %s, want %s", c.p, got, c.want)
		}
	}
}

func TestParsePlatforms(t *testing.T) {
	got, err := parsePlatforms("  linux/amd64\twindows/arm64 linux/amd64 ")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (platform{"linux", "amd64"}) || got[1] != (platform{"windows", "arm64"}) {
		t.Errorf("got %v", got)
	}
	for in, want := range map[string]string{
		"":             "-platforms: no target given",
		"linux":        `-platforms: "linux" is not OS/ARCH (e.g. linux/amd64)`,
		"linux/amd64/": `-platforms: "linux/amd64/" is not OS/ARCH (e.g. linux/amd64)`,
	} {
		if _, err := parsePlatforms(in); err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %s", in, err, want)
		}
	}
}

func TestCheckVersion(t *testing.T) {
	for _, ok := range []string{"v1.2.3", "v1.2.3-4-gabcdef0-dirty", "0.1.0+meta", "11125c6"} {
		if err := checkVersion(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for in, want := range map[string]string{
		"":      "-version is required (make dist sets it from git describe; VERSION=... overrides)",
		"../v1": `-version "../v1": only letters, digits and . _ + - may name an archive`,
		"v1 2":  `-version "v1 2": only letters, digits and . _ + - may name an archive`,
		"-v1":   `-version "-v1": only letters, digits and . _ + - may name an archive`,
	} {
		if err := checkVersion(in); err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %s", in, err, want)
		}
	}
}

func TestSourceDate(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1796612645")
	got, err := sourceDate()
	if err != nil || !got.Equal(time.Unix(1796612645, 0)) || got.Location() != time.UTC {
		t.Errorf("got %v, %v", got, err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "0")
	if got, _ := sourceDate(); !got.Equal(zipEpoch) {
		t.Errorf("epoch 0 gave %v, want the zip epoch %v", got, zipEpoch)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	if _, err := sourceDate(); err == nil || err.Error() != `SOURCE_DATE_EPOCH "yesterday" is not unix seconds` {
		t.Errorf("error %v", err)
	}
}

func TestCompareDirsNamesTheFile(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for dir, body := range map[string]string{a: "one", b: "two"} {
		os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte("same"), 0o644)
		os.WriteFile(filepath.Join(dir, "x.tar.gz"), []byte(body), 0o644)
	}
	if err := compareDirs(a, b, []string{"SHA256SUMS"}); err != nil {
		t.Errorf("identical files: %v", err)
	}
	err := compareDirs(a, b, []string{"x.tar.gz", "SHA256SUMS"})
	want := "not reproducible: x.tar.gz differs between two builds (sha256 " + sha256Hex([]byte("one")) + ", then " + sha256Hex([]byte("two")) + ")"
	if err == nil || err.Error() != want {
		t.Errorf("error %v\nwant %s", err, want)
	}
}

func TestRemoveOldLeavesOtherFiles(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"secflow-budget_v1_linux_amd64.tar.gz", "secflow-budget_v0_windows_arm64.zip", "SHA256SUMS", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, f), nil, 0o644)
	}
	if err := removeOld(dir); err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(dir)
	if len(left) != 1 || left[0].Name() != "notes.txt" {
		t.Errorf("left %v, want notes.txt only", left)
	}
}
