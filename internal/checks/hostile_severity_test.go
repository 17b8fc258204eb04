package checks

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

// leftStubCheck returns a fixed evaluation, to judge exactly it.
type leftStubCheck struct {
	ev  Evaluation
	err error
}

func (c leftStubCheck) Queries() []Query { return []Query{{Lang: "promql", Text: "up"}} }
func (c leftStubCheck) Evaluate(context.Context, Env) (Evaluation, error) {
	return c.ev, c.err
}

// TestHostileSeverityWarningNoData: severity: warning makes every failure
// of its budget a warning, consistently: a budget without any data under
// on_missing: fail warns, as a single missing result of it already did.
// Errors from a source stay errors.
func TestHostileSeverityWarningNoData(t *testing.T) {
	missingResult := Evaluation{Results: []Result{
		{Subject: "api", Value: F(1), Limit: F(5), Op: "<=", Status: Pass},
		{Subject: "db", Missing: true, Note: "no active target of this job"},
	}}
	tests := []struct {
		name      string
		severity  string // "" is the default, error
		onMissing string
		ev        Evaluation
		err       error
		want      Status
		wantMsg   string
		wantRes   []Status
	}{
		{
			name: "budget without data, on_missing fail, severity warning", severity: "warning", onMissing: "fail",
			ev:   Evaluation{Missing: "the query returned no series"},
			want: Warn, wantMsg: "no data: the query returned no series (on_missing: fail) (severity: warning)",
		},
		{
			name: "budget without data, on_missing fail, severity error", severity: "error", onMissing: "fail",
			ev:   Evaluation{Missing: "the query returned no series"},
			want: Fail, wantMsg: "no data: the query returned no series (on_missing: fail)",
		},
		{
			name: "budget without data, on_missing warn, severity warning: no suffix", severity: "warning", onMissing: "warn",
			ev:   Evaluation{Missing: "the query returned no series"},
			want: Warn, wantMsg: "no data: the query returned no series (on_missing: warn)",
		},
		{
			name: "budget without data, on_missing skip, severity warning", severity: "warning", onMissing: "skip",
			ev:   Evaluation{Missing: "the query returned no series"},
			want: Skip, wantMsg: "no data: the query returned no series (on_missing: skip)",
		},
		{
			name: "one result without data, on_missing fail, severity warning", severity: "warning", onMissing: "fail",
			ev:   missingResult,
			want: Warn, wantMsg: "db: no active target of this job (on_missing: fail) (severity: warning)",
			wantRes: []Status{Pass, Warn},
		},
		{
			name: "one result without data, on_missing fail, severity error", severity: "error", onMissing: "fail",
			ev:   missingResult,
			want: Fail, wantMsg: "db: no active target of this job (on_missing: fail)",
			wantRes: []Status{Pass, Fail},
		},
		{
			name: "a source error stays an error under severity warning", severity: "warning", onMissing: "fail",
			err:  sources.Errorf(sources.Unavailable, "prometheus", "connection refused"),
			want: Error, wantMsg: "prometheus: connection refused",
		},
		{
			name: "an error result stays an error under severity warning", severity: "warning", onMissing: "fail",
			ev:   Evaluation{Results: []Result{{Subject: "api", Value: F(1), Status: Error, Note: "the source returned NaN"}}},
			want: Error, wantMsg: "api: the source returned NaN",
			wantRes: []Status{Error},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadOne(t, "- name: m\n  type: metric\n  expr: up\n  max: 5\n  severity: "+tt.severity+"\n  on_missing: "+tt.onMissing+"\n")
			plan[0].Check = leftStubCheck{ev: tt.ev, err: tt.err}
			o := runOne(t, plan[0], &fakeProm{t: t})
			if o.Status != tt.want {
				t.Errorf("status = %s, want %s (message %q)", o.Status, tt.want, o.Message)
			}
			if o.Message != tt.wantMsg {
				t.Errorf("message = %q, want %q", o.Message, tt.wantMsg)
			}
			var got []Status
			for _, r := range o.Results {
				got = append(got, r.Status)
			}
			if len(got) != len(tt.wantRes) {
				t.Fatalf("result statuses = %v, want %v", got, tt.wantRes)
			}
			for i := range got {
				if got[i] != tt.wantRes[i] {
					t.Errorf("result %d status = %s, want %s", i, got[i], tt.wantRes[i])
				}
			}
		})
	}
}

// TestHostileSeverityWarningNoDataMetric runs the real metric check: an
// empty answer to a severity: warning budget with on_missing: fail warns.
func TestHostileSeverityWarningNoDataMetric(t *testing.T) {
	plan := loadOne(t, "- name: m\n  type: metric\n  expr: up\n  max: 5\n  severity: warning\n  on_missing: fail\n")
	o := runOne(t, plan[0], &fakeProm{t: t, answers: map[string]model.Vector{"up": {}}})
	if o.Status != Warn {
		t.Errorf("status = %s, want warn", o.Status)
	}
	if !strings.HasSuffix(o.Message, SeveritySuffix) || !strings.HasPrefix(o.Message, "no data: ") {
		t.Errorf("message = %q, want a no data message ending in %q", o.Message, SeveritySuffix)
	}
}
