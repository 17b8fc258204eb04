package cli

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSnapshotFlags(t *testing.T) {
	out := filepath.Join(t.TempDir(), "snap")
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no --out", []string{"snapshot", "-c", "testdata/no-sources.yaml"}, ExitUsage, "--out: required"},
		{"bad --logs", []string{"snapshot", "--out", out, "--logs", "sampled"}, ExitUsage, `--logs: invalid value "sampled"`},
		{"bad --at", []string{"snapshot", "--out", out, "--at", "noon"}, ExitUsage, "--at: invalid time"},
		{"no Prometheus", []string{"snapshot", "--out", out, "-c", "testdata/no-sources.yaml"}, ExitUsage, "no Prometheus to ask"},
		{"unknown budget", []string{"snapshot", "--out", out, "-c", "testdata/no-sources.yaml", "--only", "nope"}, ExitUsage, `--only: no budget or tag named "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, false, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.msg)
			}
			if stdout != "" {
				t.Errorf("stdout: %q", stdout)
			}
		})
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused run created %s", out)
	}
}

// TestSnapshotSourceFailure: a Prometheus that cannot be reached is a
// source failure (exit 3), and the directory is left as it was.
func TestSnapshotSourceFailure(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	out := filepath.Join(t.TempDir(), "snap")
	code, _, stderr := runCLI(t, nil, false, "snapshot", "--out", out, "-c", "testdata/no-sources.yaml", "--prometheus", "http://"+addr)
	if code != ExitSource || !strings.Contains(stderr, "connection refused") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 3 and one line naming the refused connection", code, stderr)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
		t.Errorf("a failed recording left %d entries behind", len(entries))
	}
}

// TestSnapshotTimeout: the run's --timeout gives exit 4.
func TestSnapshotTimeout(t *testing.T) {
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	defer srv.Close()
	defer close(stop) // before Close, which waits for the handlers
	out := filepath.Join(t.TempDir(), "snap")
	start := time.Now()
	code, _, stderr := runCLI(t, nil, false, "snapshot", "--out", out, "-c", "testdata/no-sources.yaml", "--prometheus", srv.URL, "--timeout", "300ms")
	if code != ExitTimeout || !strings.Contains(stderr, "--timeout (300ms) expired") {
		t.Errorf("exit %d, stderr %q; want 4", code, stderr)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s despite --timeout 300ms", d)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a timed out recording created %s", out)
	}
}
