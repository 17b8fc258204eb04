// Command dist builds the release archives of secflow-budget (make dist):
// one archive per platform, secflow-budget_<version>_<os>_<arch>.tar.gz
// (.zip for windows), each holding the directory
// secflow-budget_<version>_<os>_<arch>/ with the binary, README.md and the
// LICENSE when the repository has one, and SHA256SUMS over the archives in
// sha256sum's format.
//
// Two runs from the same source, version and Go toolchain write
// byte-identical archives, whatever the host: the binaries are built
// with -trimpath, CGO off and -buildvcs=false (the build depends on the
// source files and the stamped version and commit only, so a tarball of the
// source reproduces it as well as a checkout does). Go's build ID is kept:
// it is a hash of those inputs, so it is reproducible too, and the darwin
// linker derives the binary's LC_UUID from it, without which macOS 15
// denies local network access and macOS 26's dyld refuses to load the
// binary (golang/go#68678). The archives are written here rather than by
// tar/zip, whose output differs between implementations, with sorted
// entries, owner 0:0, fixed modes and every time set to the commit's time
// (SOURCE_DATE_EPOCH when set). With -check, everything is built a second
// time into a scratch directory and compared byte for byte.
//
// It is a tool of the repository, run with go run from its root; nothing in
// the program imports it.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/secflow/secflow-budget/internal/atomicfile"
)

const (
	name    = "secflow-budget"
	mainPkg = "./cmd/secflow-budget"
	cliPkg  = "github.com/secflow/secflow-budget/internal/cli"
	sumFile = "SHA256SUMS"
)

// defaultPlatforms are the release targets.
const defaultPlatforms = "linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64"

// zipEpoch is the earliest time a zip (MS-DOS date) can hold.
var zipEpoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

type platform struct{ goos, goarch string }

func (p platform) String() string { return p.goos + "/" + p.goarch }

type options struct {
	goCmd     string
	version   string
	commit    string
	out       string
	platforms []platform
	check     bool
	mtime     time.Time
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dist:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dist", flag.ContinueOnError)
	var o options
	var platforms string
	fs.StringVar(&o.goCmd, "go", "go", "the go command")
	fs.StringVar(&o.version, "version", "", "the version stamped into the binaries and named in the archives (required)")
	fs.StringVar(&o.commit, "commit", "", "the commit stamped into the binaries")
	fs.StringVar(&o.out, "out", "dist", "the directory the archives and SHA256SUMS are written to")
	fs.StringVar(&platforms, "platforms", defaultPlatforms, "the targets, `OS/ARCH ...` separated by spaces")
	fs.BoolVar(&o.check, "check", false, "build everything twice and fail unless both builds are byte-identical")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := checkVersion(o.version); err != nil {
		return err
	}
	var err error
	if o.platforms, err = parsePlatforms(platforms); err != nil {
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the repository root (no go.mod here)")
	}
	if o.mtime, err = sourceDate(); err != nil {
		return err
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	if err := removeOld(o.out); err != nil {
		return err
	}
	files, err := build(o, o.out)
	if err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, filepath.Join(o.out, f))
	}
	if !o.check {
		return nil
	}
	again, err := os.MkdirTemp("", "secflow-budget-dist-check")
	if err != nil {
		return err
	}
	defer os.RemoveAll(again)
	if _, err := build(o, again); err != nil {
		return fmt.Errorf("second build: %w", err)
	}
	if err := compareDirs(o.out, again, files); err != nil {
		return err
	}
	sums, err := os.ReadFile(filepath.Join(o.out, sumFile))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "reproducible: a second build gave byte-identical archives (%s sha256 %s)\n", sumFile, sha256Hex(sums))
	return nil
}

var versionRE = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z._+-]*$`)

// checkVersion refuses a version that cannot be part of a file name.
func checkVersion(v string) error {
	if v == "" {
		return errors.New("-version is required (make dist sets it from git describe; VERSION=... overrides)")
	}
	if !versionRE.MatchString(v) {
		return fmt.Errorf("-version %q: only letters, digits and . _ + - may name an archive", v)
	}
	return nil
}

var platformRE = regexp.MustCompile(`^[a-z0-9]+/[a-z0-9]+$`)

func parsePlatforms(s string) ([]platform, error) {
	var out []platform
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		if !platformRE.MatchString(f) {
			return nil, fmt.Errorf("-platforms: %q is not OS/ARCH (e.g. linux/amd64)", f)
		}
		if seen[f] {
			continue
		}
		seen[f] = true
		goos, goarch, _ := strings.Cut(f, "/")
		out = append(out, platform{goos, goarch})
	}
	if len(out) == 0 {
		return nil, errors.New("-platforms: no target given")
	}
	return out, nil
}

// sourceDate is the time every archive entry carries: SOURCE_DATE_EPOCH
// (https://reproducible-builds.org/specs/source-date-epoch/) when set, else
// the time of the checked-out commit; never earlier than a zip can hold.
func sourceDate() (time.Time, error) {
	raw := strings.TrimSpace(os.Getenv("SOURCE_DATE_EPOCH"))
	what := "SOURCE_DATE_EPOCH"
	if raw == "" {
		out, err := exec.Command("git", "log", "-1", "--format=%ct").Output()
		if err != nil {
			return time.Time{}, errors.New("no commit time (not a git checkout?): set SOURCE_DATE_EPOCH to the source's date in unix seconds")
		}
		raw, what = strings.TrimSpace(string(out)), "the commit time"
	}
	sec, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q is not unix seconds", what, raw)
	}
	t := time.Unix(sec, 0).UTC()
	if t.Before(zipEpoch) {
		t = zipEpoch
	}
	return t, nil
}

// removeOld removes the archives and SHA256SUMS an earlier run left in dir,
// so that SHA256SUMS never lists, and dist/ never holds, an archive of
// another version or platform. Other files are left alone.
func removeOld(dir string) error {
	old, err := filepath.Glob(filepath.Join(dir, name+"_*"))
	if err != nil {
		return err
	}
	for _, f := range append(old, filepath.Join(dir, sumFile)) {
		if err := os.Remove(f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}

// archiveBase is the archive's name without extension, also the directory
// inside it.
func archiveBase(version string, p platform) string {
	return fmt.Sprintf("%s_%s_%s_%s", name, version, p.goos, p.goarch)
}

func archiveName(version string, p platform) string {
	if p.goos == "windows" {
		return archiveBase(version, p) + ".zip"
	}
	return archiveBase(version, p) + ".tar.gz"
}

// build writes every platform's archive and SHA256SUMS into dir and returns
// their names, SHA256SUMS last.
func build(o options, dir string) ([]string, error) {
	docs, err := docFiles()
	if err != nil {
		return nil, err
	}
	sums := map[string]string{}
	var names []string
	for _, p := range o.platforms {
		bin, err := compile(o, p)
		if err != nil {
			return nil, err
		}
		base := archiveBase(o.version, p)
		exe := name
		if p.goos == "windows" {
			exe += ".exe"
		}
		entries := []entry{{name: base + "/", mode: 0o755}, {name: base + "/" + exe, mode: 0o755, data: bin}}
		for _, d := range docs {
			entries = append(entries, entry{name: base + "/" + d.name, mode: 0o644, data: d.data})
		}
		file := archiveName(o.version, p)
		var buf bytes.Buffer
		if p.goos == "windows" {
			err = writeZip(&buf, entries, o.mtime)
		} else {
			err = writeTarGz(&buf, entries, o.mtime)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, file), buf.Bytes()); err != nil {
			return nil, err
		}
		sums[file] = sha256Hex(buf.Bytes())
		names = append(names, file)
	}
	if err := atomicfile.WriteBytes(filepath.Join(dir, sumFile), []byte(formatSums(sums))); err != nil {
		return nil, err
	}
	sort.Strings(names)
	return append(names, sumFile), nil
}

// compile builds the binary for p and returns its bytes.
func compile(o options, p platform) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "secflow-budget-dist")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, name)
	ldflags := "-s -w -X " + cliPkg + ".version=" + o.version
	if o.commit != "" {
		ldflags += " -X " + cliPkg + ".commit=" + o.commit
	}
	cmd := exec.Command(o.goCmd, "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", bin, mainPkg)
	// The target and nothing else of the environment decides the code:
	// CGO off (static binaries, no C toolchain), the default
	// microarchitecture levels.
	cmd.Env = append(os.Environ(), "GOOS="+p.goos, "GOARCH="+p.goarch, "CGO_ENABLED=0", "GOAMD64=", "GOARM64=", "GOEXPERIMENT=")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build for %s: %v\n%s", p, err, stderr.String())
	}
	return os.ReadFile(bin)
}

type doc struct {
	name string
	data []byte
}

// docFiles are the files shipped next to the binary: README.md and the
// repository's license, when it has one.
func docFiles() ([]doc, error) {
	names := []string{"README.md"}
	for _, l := range []string{"LICENSE", "LICENSE.md", "LICENSE.txt", "COPYING"} {
		if fi, err := os.Stat(l); err == nil && fi.Mode().IsRegular() {
			names = append(names, l)
		}
	}
	var out []doc
	for _, n := range names {
		data, err := os.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, doc{n, data})
	}
	return out, nil
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// formatSums writes sums as sha256sum does (hash, two spaces, name), sorted
// by name, so that `sha256sum -c SHA256SUMS` (or shasum -a 256 -c) checks
// the archives in the directory.
func formatSums(sums map[string]string) string {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return b.String()
}

// compareDirs fails naming the first of files that differs between the
// directories a and b.
func compareDirs(a, b string, files []string) error {
	for _, f := range files {
		x, err := os.ReadFile(filepath.Join(a, f))
		if err != nil {
			return err
		}
		y, err := os.ReadFile(filepath.Join(b, f))
		if err != nil {
			return err
		}
		if !bytes.Equal(x, y) {
			return fmt.Errorf("not reproducible: %s differs between two builds (sha256 %s, then %s)", f, sha256Hex(x), sha256Hex(y))
		}
	}
	return nil
}
