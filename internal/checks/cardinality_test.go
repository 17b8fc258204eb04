package checks

import (
	"fmt"
	"testing"

	"github.com/prometheus/common/model"
)

func TestCardinalityTotalWithTopOffenders(t *testing.T) {
	plan := loadOne(t, `- name: card
  type: cardinality
  selector: '{__name__=~"secflow_.*"}'
  max: 10000
  warn_max: 8000
`)
	q := `count({__name__=~"secflow_.*"})`
	top := `topk(5, count by (__name__) ({__name__=~"secflow_.*"}))`
	tests := []struct {
		n          float64
		wantStatus Status
		wantTop    bool
	}{{500, Pass, false}, {9000, Warn, true}, {12345, Fail, true}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			f := &fakeProm{t: t, answers: map[string]model.Vector{
				q:   {sample(tt.n)},
				top: {sample(200, "__name__", "b"), sample(11000, "__name__", "a")},
			}}
			o := runOne(t, plan[0], f)
			if o.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s", o.Status, tt.wantStatus)
			}
			if got := len(o.Details) > 0; got != tt.wantTop {
				t.Fatalf("details = %q, want top offenders: %v", o.Details, tt.wantTop)
			}
			if tt.wantTop && (o.Details[1] != "a: 11,000 series" || o.Details[2] != "b: 200 series") {
				t.Errorf("details = %q, want a then b, largest first", o.Details)
			}
		})
	}
}

func TestCardinalityByGroup(t *testing.T) {
	plan := loadOne(t, `- name: card
  type: cardinality
  selector: '{job=~".+"}'
  by: [job]
  max: 100
`)
	q := `count by (job) ({job=~".+"})`
	var vec model.Vector
	for i := range 7 {
		vec = append(vec, sample(float64(101+i), "job", fmt.Sprintf("j%d", i)))
	}
	vec = append(vec, sample(5, "job", "small"))
	o := runOne(t, plan[0], &fakeProm{t: t, answers: map[string]model.Vector{q: vec}})
	if o.Status != Fail || len(o.Results) != 8 {
		t.Fatalf("got %s with %d results, want fail with 8", o.Status, len(o.Results))
	}
	want := []string{`{job="j6"}: 107 series`, `{job="j5"}: 106 series`, `{job="j4"}: 105 series`, `{job="j3"}: 104 series`, `{job="j2"}: 103 series`, "... and 2 more groups over the limit"}
	if fmt.Sprint(o.Details) != fmt.Sprint(want) {
		t.Errorf("details = %q\nwant %q", o.Details, want)
	}
}

func TestCardinalityNoSeries(t *testing.T) {
	plan := loadOne(t, "- name: card\n  type: cardinality\n  selector: '{job=\"x\"}'\n  max: 1\n  on_missing: pass\n")
	o := runOne(t, plan[0], &fakeProm{t: t, answers: map[string]model.Vector{`count({job="x"})`: {}}})
	if o.Status != Pass || o.Message != "no data: the selector matched no series (on_missing: pass)" {
		t.Errorf("got %s %q", o.Status, o.Message)
	}
}
