package checks

import (
	"testing"

	"github.com/prometheus/common/model"
)

func TestPresentCheck(t *testing.T) {
	plan := loadOne(t, `- name: core
  type: metrics_present
  selector: '{job="worker"}'
  metrics: [a_total, h_seconds, g, missing_total]
`)
	q := `count by (__name__) ({__name__=~"(a_total|h_seconds|g|missing_total)(_bucket|_count|_sum)?", job="worker"})`
	f := &fakeProm{t: t, answers: map[string]model.Vector{q: {
		sample(3, "__name__", "a_total"),
		sample(12, "__name__", "h_seconds_bucket"),
		sample(1, "__name__", "h_seconds_count"),
		sample(1, "__name__", "h_seconds_sum"),
		sample(0, "__name__", "g"), // a count is never 0; guard anyway
	}}}
	o := runOne(t, plan[0], f)
	if o.Status != Fail {
		t.Fatalf("status = %s, want fail", o.Status)
	}
	if want := "2/4 metrics present; missing: g, missing_total"; o.Message != want {
		t.Errorf("message = %q, want %q", o.Message, want)
	}
	want := map[string]float64{"a_total": 3, "h_seconds": 14, "g": 0, "missing_total": 0}
	for _, r := range o.Results {
		if *r.Value != want[r.Subject] || r.Unit != "series" {
			t.Errorf("%s = %v %s, want %v series", r.Subject, *r.Value, r.Unit, want[r.Subject])
		}
	}
}

func TestPresentCheckAllThere(t *testing.T) {
	plan := loadOne(t, "- name: core\n  type: metrics_present\n  metrics: [up]\n")
	q := `count by (__name__) ({__name__=~"(up)(_bucket|_count|_sum)?"})`
	o := runOne(t, plan[0], &fakeProm{t: t, answers: map[string]model.Vector{q: {sample(2, "__name__", "up")}}})
	if o.Status != Pass || o.Message != "1/1 metrics present" {
		t.Errorf("got %s %q, want pass \"1/1 metrics present\"", o.Status, o.Message)
	}
}
