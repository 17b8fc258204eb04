package checks

import (
	"math"
	"testing"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

func TestMetricCheck(t *testing.T) {
	const expr = `sum(rate(x_total[1h]))`
	tests := []struct {
		name        string
		budget      string
		answer      model.Vector
		err         error
		wantStatus  Status
		wantMessage string
		wantValues  []float64
	}{
		{
			name:        "within max",
			budget:      "max: 10\nwarn_max: 5",
			answer:      model.Vector{sample(3)},
			wantStatus:  Pass,
			wantMessage: "3 <= 10",
			wantValues:  []float64{3},
		},
		{
			name:        "warn band",
			budget:      "max: 10\nwarn_max: 5",
			answer:      model.Vector{sample(7)},
			wantStatus:  Warn,
			wantMessage: "7 > warn 5",
			wantValues:  []float64{7},
		},
		{
			name:        "over max fails, worst series named",
			budget:      "max: 10",
			answer:      model.Vector{sample(3, "job", "a"), sample(12, "job", "b"), sample(11, "job", "c")},
			wantStatus:  Fail,
			wantMessage: `{job="b"} 12 > 10 (and 1 more fail)`,
			wantValues:  []float64{3, 12, 11},
		},
		{
			name:        "under min",
			budget:      "min: 5\nunit: tasks/min",
			answer:      model.Vector{sample(4.5)},
			wantStatus:  Fail,
			wantMessage: "4.5 tasks/min < 5 tasks/min",
			wantValues:  []float64{4.5},
		},
		{
			name:        "zero is a value, not missing data",
			budget:      "max: 0",
			answer:      model.Vector{sample(0)},
			wantStatus:  Pass,
			wantMessage: "0 <= 0",
			wantValues:  []float64{0},
		},
		{
			name:        "no series follows on_missing fail",
			budget:      "max: 1",
			answer:      model.Vector{},
			wantStatus:  Fail,
			wantMessage: "no data: the query returned no series (on_missing: fail)",
		},
		{
			name:        "no series follows on_missing skip",
			budget:      "max: 1\non_missing: skip",
			answer:      model.Vector{},
			wantStatus:  Skip,
			wantMessage: "no data: the query returned no series (on_missing: skip)",
		},
		{
			// NaN is no value and not missing data: on_missing does not
			// apply, and it never passes (issue 7, item 1).
			name:        "NaN value is an error, whatever on_missing says",
			budget:      "max: 1\non_missing: warn",
			answer:      model.Vector{sample(nan())},
			wantStatus:  Error,
			wantMessage: "the source returned NaN (not a number; a division by zero, e.g. no events in the window?): it cannot be judged against a limit",
			wantValues:  []float64{nan()},
		},
		{
			name:       "severity warning turns a violation into a warning",
			budget:     "max: 1\nseverity: warning",
			answer:     model.Vector{sample(2)},
			wantStatus: Warn,
			wantValues: []float64{2},
		},
		{
			name:        "source error is an error outcome",
			budget:      "max: 1",
			err:         sources.Errorf(sources.Unavailable, "prometheus", "connection refused"),
			wantStatus:  Error,
			wantMessage: "prometheus: connection refused",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadOne(t, "- name: m\n  type: metric\n  expr: "+expr+"\n"+indentBy(tt.budget, "  "))
			f := &fakeProm{t: t, answers: map[string]model.Vector{expr: tt.answer}, errs: map[string]error{}}
			if tt.err != nil {
				f.errs[expr] = tt.err
			}
			o := runOne(t, plan[0], f)
			if o.Status != tt.wantStatus {
				t.Errorf("status = %s, want %s (message %q)", o.Status, tt.wantStatus, o.Message)
			}
			if tt.wantMessage != "" && o.Message != tt.wantMessage {
				t.Errorf("message = %q, want %q", o.Message, tt.wantMessage)
			}
			if len(o.Results) != len(tt.wantValues) {
				t.Fatalf("got %d results, want %d", len(o.Results), len(tt.wantValues))
			}
			for i, r := range o.Results {
				if math.IsNaN(tt.wantValues[i]) {
					if r.Value == nil || !math.IsNaN(*r.Value) || r.Missing || r.Status != Error {
						t.Errorf("result %d = %+v, want NaN with status error", i, r)
					}
					continue
				}
				if r.Value == nil || *r.Value != tt.wantValues[i] {
					t.Errorf("result %d value = %v, want %v", i, r.Value, tt.wantValues[i])
				}
			}
		})
	}
}
