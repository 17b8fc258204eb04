package atomicfile

import (
	"hash/fnv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Marker is in the name of every temporary file and directory this
// package makes, followed by "<host>.<pid>-".
const Marker = "secflow-budget-tmp-"

// StaleAge is the age after which a temporary name of ours is stale even
// when a process with its PID is running (PIDs are reused; no run of ours
// lasts a day).
const StaleAge = 24 * time.Hour

// TempPattern is a pattern for os.CreateTemp and os.MkdirTemp that makes
// a name CleanStale recognises: prefix, the marker, this host and PID.
func TempPattern(prefix string) string {
	return prefix + Marker + hostTag() + "." + strconv.Itoa(os.Getpid()) + "-*"
}

// hostTag tells this host's names from those of another host (or
// container) sharing the directory, whose PIDs mean nothing here.
func hostTag() string {
	h, _ := os.Hostname()
	sum := fnv.New32a()
	sum.Write([]byte(h))
	return strconv.FormatUint(uint64(sum.Sum32()), 16)
}

// CleanStale removes the temporary files and directories of ours in dir
// that a run left behind when it was killed: names with the marker, owned
// by this user, whose process (on this host) is gone or that are older
// than StaleAge. It goes no deeper than dir, never follows a link, and
// ignores what it cannot remove: cleaning is a courtesy, never a failure.
func CleanStale(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	now := time.Now()
	for _, e := range entries {
		if !strings.Contains(e.Name(), Marker) || !(e.Type().IsRegular() || e.IsDir()) {
			continue
		}
		fi, err := e.Info()
		if err != nil || !ownedByUs(fi) {
			continue
		}
		if isStale(e.Name(), fi.ModTime(), now) {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// isStale reads "<prefix>Marker<host>.<pid>-<rest>".
func isStale(name string, mod, now time.Time) bool {
	_, tag, _ := strings.Cut(name, Marker)
	host, rest, ok := strings.Cut(tag, ".")
	if !ok {
		return false
	}
	pidText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	if now.Sub(mod) > StaleAge {
		return true
	}
	return host == hostTag() && pid != os.Getpid() && !processAlive(pid)
}

// Scratch makes the one directory under parent that holds this run's
// temporary data, after removing stale ones of earlier runs. The caller
// removes it with remove on every way out; one left by a killed run is
// removed by the next run's Scratch.
func Scratch(parent string) (dir string, remove func(), err error) {
	CleanStale(parent)
	dir, err = os.MkdirTemp(parent, TempPattern(""))
	if err != nil {
		return "", func() {}, err
	}
	return dir, func() { _ = os.RemoveAll(dir) }, nil
}
