//go:build unix

package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestI11rPushRequiredDirectOutput: a failed --push-required push turns
// exit 0 into 3 and the reports are rendered again; a report going to a
// device or a FIFO (-o /dev/null, a pipe's name) is written once, with the
// final exit code. It used to fail with "writing /dev/null: already
// finished" and exit 2.
func TestI11rPushRequiredDirectOutput(t *testing.T) {
	url, addr := omDeadURL(t)
	refused := "error: pushing the metrics to http://xxxxx@" + addr + ": dial tcp " + addr + ": connect: connection refused (--push-required)\n"

	r := run(t, nil, "check", "--offline", "testdata/snapshots/healthy", "--only", "task-duration",
		"--push", url, "--push-required", "-o", "/dev/null")
	expectCode(t, r, 3)
	if r.stderr != refused {
		t.Errorf("stderr = %q, want %q", r.stderr, refused)
	}

	fifo := filepath.Join(t.TempDir(), "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- "open: " + err.Error()
			return
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		got <- string(b)
	}()
	r = run(t, nil, "check", "--offline", "testdata/snapshots/healthy", "--only", "task-duration",
		"--push", url, "--push-required", "--report", "json="+fifo, "-q")
	expectCode(t, r, 3)
	if r.stderr != refused {
		t.Errorf("stderr = %q, want %q", r.stderr, refused)
	}
	select {
	case s := <-got:
		var rep struct {
			Status   string `json:"status"`
			ExitCode int    `json:"exit_code"`
		}
		if err := json.Unmarshal([]byte(s), &rep); err != nil {
			t.Fatalf("the FIFO's reader got %q: %v (one JSON report expected)", s, err)
		}
		if rep.ExitCode != 3 || rep.Status != "pass" {
			t.Errorf("JSON report through the FIFO: exit_code %d, status %q; want 3, pass", rep.ExitCode, rep.Status)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the FIFO's reader got nothing")
	}
}
