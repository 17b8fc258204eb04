package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/report"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// TestHostileJSONAlwaysInterruptedWhileLoading: a signal that stops the
// run while the budgets file is read (no budget ran) still leaves a JSON
// report with the signal's exit code, replacing an older one.
func TestHostileJSONAlwaysInterruptedWhileLoading(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.json")
	if err := os.WriteFile(out, []byte(`{"status":"pass","exit_code":0}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(&interrupted{sig: os.Interrupt})
	var stdout, stderr bytes.Buffer
	code := Main(ctx, []string{"check", "-c", "testdata/no-sources.yaml", "--offline", "../../testdata/snapshots/healthy", "--format", "json", "-o", out},
		IO{Out: &stdout, Err: &stderr})
	wantErr := "error: interrupted by SIGINT while reading testdata/no-sources.yaml: no budget ran, only the JSON report written\n"
	if code != ExitInterrupted || stderr.String() != wantErr || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, stdout.String(), stderr.String(), ExitInterrupted, wantErr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Status   string            `json:"status"`
		ExitCode int               `json:"exit_code"`
		Errors   []report.RunError `json:"errors"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	want := []report.RunError{{Message: "interrupted by SIGINT while reading testdata/no-sources.yaml: no budget ran, only the JSON report written"}}
	if rep.Status != "error" || rep.ExitCode != ExitInterrupted || fmt.Sprint(rep.Errors) != fmt.Sprint(want) {
		t.Errorf("report: status %q, exit_code %d, errors %+v; want error, %d, %+v", rep.Status, rep.ExitCode, rep.Errors, ExitInterrupted, want)
	}
}

// TestHostileJSONAlwaysRunErrors: each kind of error that stops a check
// becomes the JSON report's errors with its position and field, masked
// as stderr masks it.
func TestHostileJSONAlwaysRunErrors(t *testing.T) {
	many := make(config.Errors, config.MaxErrorLines+2)
	for i := range many {
		many[i] = &config.Error{File: "b.yaml", Line: i + 1, Col: 3, Path: fmt.Sprintf("budgets[%d].name", i), Msg: "required"}
	}
	tests := []struct {
		name string
		err  error
		want []report.RunError
	}{
		{"config errors", usageError(config.Errors{
			{File: "b.yaml", Line: 7, Col: 12, Path: "budgets[0].percentiles.p95", Msg: `invalid duration "30O s"`},
			{File: "b.yaml", Line: 9, Col: 5, Path: "sources.prometheus.url", Msg: `invalid URL "http://u:hunter2@h:1/"`},
		}), []report.RunError{
			{File: "b.yaml", Line: 7, Column: 12, Field: "budgets[0].percentiles.p95", Message: `invalid duration "30O s"`},
			{File: "b.yaml", Line: 9, Column: 5, Field: "sources.prometheus.url", Message: `invalid URL "http://xxxxx@h:1/"`},
		}},
		{"one config error", usageError(fmt.Errorf("reading: %w", &config.Error{File: "c.yaml", Line: 2, Msg: "bad"})),
			[]report.RunError{{File: "c.yaml", Line: 2, Field: "", Message: "bad"}}},
		{"a flag", usageError(errors.New("--fail-on: invalid value \"x\": want fail or warn")),
			[]report.RunError{{Field: "--fail-on", Message: `invalid value "x": want fail or warn`}}},
		{"an environment variable", usageError(errors.New(`SECFLOW_PROMETHEUS_URL: invalid URL "http://u:hunter2@h"`)),
			[]report.RunError{{Field: "SECFLOW_PROMETHEUS_URL", Message: `invalid URL "http://xxxxx@h"`}}},
		{"usage hint dropped", usageError(errors.New("check takes no arguments, got \"x\"\nrun 'secflow-budget check --help' for usage")),
			[]report.RunError{{Message: `check takes no arguments, got "x"`}}},
		{"corrupt snapshot", onField("--offline", "snap", usageError(fmt.Errorf("reading snapshot: %w", &snapshot.CorruptError{File: "snap/metrics.om", Line: 3, Col: 4, Msg: "bad value"}))),
			[]report.RunError{{File: "snap/metrics.om", Line: 3, Column: 4, Field: "--offline", Message: "bad value"}}},
		{"missing snapshot", onField("--offline", "snap", usageError(errors.New("reading snapshot: opening snapshot: stat snap: no such file or directory"))),
			[]report.RunError{{File: "snap", Field: "--offline", Message: "reading snapshot: opening snapshot: stat snap: no such file or directory"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := runErrors(tt.err); fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("runErrors =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
	got := runErrors(usageError(many))
	last := got[len(got)-1]
	if len(got) != config.MaxErrorLines+1 || got[0].Line != 1 || last.Message != "... and 2 more errors" || last.File != "b.yaml" {
		t.Errorf("%d errors: got %d, the first at line %d, the last %+v; want %d, line 1, \"... and 2 more errors\"",
			len(many), len(got), got[0].Line, last, config.MaxErrorLines+1)
	}
	if strings.Contains(fmt.Sprint(runErrors(usageError(errors.New("--prometheus: http://u:hunter2@h")))), "hunter2") {
		t.Error("a password in a flag's error leaked")
	}
}
