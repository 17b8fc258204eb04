//go:build unix

package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestHostileSignalHardStop: a command that cannot stop (blocked opening a
// FIFO given as -c) does not hold the process: Main returns the signal's
// code soon after the signal, or at once on a second one, with one line.
func TestHostileSignalHardStop(t *testing.T) {
	tests := []struct {
		name    string
		signals []os.Signal
		want    string
		code    int
	}{
		{"one SIGTERM", []os.Signal{syscall.SIGTERM}, "error: interrupted by SIGTERM: stopped before the run could finish, no report written\n", 143},
		{"SIGINT twice", []os.Signal{os.Interrupt, os.Interrupt}, "error: interrupted by SIGINT twice: stopped at once, no report written\n", 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fifo := blockingFIFO(t, t.TempDir())
			signals := signalsAfter100ms(tt.signals)
			var out, errb bytes.Buffer
			start := time.Now()
			code := Main(context.Background(), []string{"check", "-c", fifo, "--offline", "../../testdata/snapshots/healthy"}, IO{Out: &out, Err: &errb, Signals: signals})
			took := time.Since(start)
			t.Logf("returned %s after the start (the signal came at 100ms)", took.Round(time.Millisecond))
			if took > 10*time.Second {
				t.Errorf("Main took %s", took)
			}
			if code != tt.code || errb.String() != tt.want || out.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, out.String(), errb.String(), tt.code, tt.want)
			}
		})
	}
}

// blockingFIFO makes dir/budgets.yaml a FIFO that no one writes to: a
// command given it as -c blocks opening it. The abandoned open returns
// when the test ends.
func blockingFIFO(t *testing.T, dir string) string {
	t.Helper()
	fifo := filepath.Join(dir, "budgets.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatalf("mkfifo (a FIFO is what this case reads): %v", err)
	}
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	})
	return fifo
}

// signalsAfter100ms is a signal channel that receives sigs 100 ms from
// now, in order.
func signalsAfter100ms(sigs []os.Signal) chan os.Signal {
	signals := make(chan os.Signal, len(sigs))
	time.AfterFunc(100*time.Millisecond, func() {
		for _, s := range sigs {
			signals <- s
		}
	})
	return signals
}
