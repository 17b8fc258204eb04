//go:build unix

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/secflow/secflow-budget/internal/report"
)

// TestHostileJSONAlwaysHardStop: a command that cannot stop (blocked
// opening a FIFO given as -c) still leaves its JSON report when Main gives
// up on it, at the hard stop or at a second signal: status error, the
// signal's exit code, what stopped it; an older report is replaced.
func TestHostileJSONAlwaysHardStop(t *testing.T) {
	tests := []struct {
		name    string
		signals []os.Signal
		msg     string
		code    int
	}{
		{"one SIGTERM", []os.Signal{syscall.SIGTERM}, "interrupted by SIGTERM: stopped before the run could finish", 143},
		{"SIGINT twice", []os.Signal{os.Interrupt, os.Interrupt}, "interrupted by SIGINT twice: stopped at once", 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fifo := blockingFIFO(t, dir)
			out := filepath.Join(dir, "r.json")
			if err := os.WriteFile(out, []byte(`{"status":"pass","exit_code":0}`), 0o644); err != nil {
				t.Fatal(err)
			}
			signals := signalsAfter100ms(tt.signals)
			var stdout, stderr bytes.Buffer
			code := Main(context.Background(), []string{"check", "-c", fifo, "--offline", "../../testdata/snapshots/healthy", "--report", "json=" + out},
				IO{Out: &stdout, Err: &stderr, Signals: signals})
			want := "error: " + tt.msg + ", only the JSON report written\n"
			if code != tt.code || stderr.String() != want || stdout.Len() != 0 {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, stdout.String(), stderr.String(), tt.code, want)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var rep struct {
				Status   string            `json:"status"`
				ExitCode int               `json:"exit_code"`
				Budgets  []any             `json:"budgets"`
				Errors   []report.RunError `json:"errors"`
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatalf("invalid JSON: %v\n%s", err, b)
			}
			wantErrs := []report.RunError{{Message: tt.msg}}
			if rep.Status != "error" || rep.ExitCode != tt.code || rep.Budgets == nil || len(rep.Budgets) != 0 || fmt.Sprint(rep.Errors) != fmt.Sprint(wantErrs) {
				t.Errorf("report: status %q, exit_code %d, budgets %v, errors %+v; want error, %d, [], %+v", rep.Status, rep.ExitCode, rep.Budgets, rep.Errors, tt.code, wantErrs)
			}
		})
	}
}
