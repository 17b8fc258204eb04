package checks

import (
	"reflect"
	"strings"
	"testing"
)

// TestHostileMaskOutcome: every text of an outcome that a report prints is
// masked, whatever wrote it; numbers, labels and statuses are untouched.
func TestHostileMaskOutcome(t *testing.T) {
	const leak = "http://u:SECRET-1@h:9090/x?token=SECRET-2"
	const masked = "http://xxxxx@h:9090/x?token=xxxxx"
	in := Outcome{
		Name: "b", Status: Fail, Message: "down: " + leak, Runbook: leak, Description: "see " + leak,
		Notes: []string{leak}, Details: []string{"Cookie: sid=SECRET-3"}, Queries: []string{"GET " + leak}, Warnings: []string{"prometheus: " + leak},
		Err:     &OutcomeError{Kind: "unavailable", Message: "cannot reach " + leak},
		Results: []Result{{Subject: "up", Labels: map[string]string{"instance": "h:9090"}, Value: F(0), Status: Fail, Note: leak, Extra: []KV{{"error", leak}, {"bucket", 2.5}}}},
	}
	orig := in.Results[0].Note
	got := maskOutcome(in)
	want := Outcome{
		Name: "b", Status: Fail, Message: "down: " + masked, Runbook: masked, Description: "see " + masked,
		Notes: []string{masked}, Details: []string{"Cookie: xxxxx"}, Queries: []string{"GET " + masked}, Warnings: []string{"prometheus: " + masked},
		Err:     &OutcomeError{Kind: "unavailable", Message: "cannot reach " + masked},
		Results: []Result{{Subject: "up", Labels: map[string]string{"instance": "h:9090"}, Value: F(0), Status: Fail, Note: masked, Extra: []KV{{"error", masked}, {"bucket", 2.5}}}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("maskOutcome:\n got %+v\nwant %+v", got, want)
	}
	if in.Results[0].Note != orig || !strings.Contains(in.Err.Message, "SECRET") {
		t.Error("maskOutcome changed its argument's slices or error")
	}
}
