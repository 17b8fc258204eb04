package sources

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestHostileWarningsFlood: a server that sends a flood of warnings, huge
// ones or invalid UTF-8 adds a bounded, readable list to the budget.
func TestHostileWarningsFlood(t *testing.T) {
	ctx, w := WithWarnings(context.Background())
	var flood []string
	for i := range 1000 {
		flood = append(flood, fmt.Sprintf("warning %d", i))
	}
	AddWarnings(ctx, "prometheus", flood...)
	AddWarnings(ctx, "prometheus", "warning 0") // seen: not counted again
	got := w.List()
	if len(got) != maxWarnings+1 || got[0] != "prometheus: warning 0" || got[maxWarnings-1] != "prometheus: warning 9" {
		t.Fatalf("list = %q", got)
	}
	if last := got[maxWarnings]; last != "... and 990 more warnings" {
		t.Errorf("last line = %q, want the count of the rest", last)
	}

	ctx, w = WithWarnings(context.Background())
	AddWarnings(ctx, "prometheus", strings.Repeat("é", 1000), "bad \xff byte")
	got = w.List()
	if len(got) != 2 || len(got[0]) > len("prometheus: ")+maxWarningBytes+3 || !strings.HasSuffix(got[0], "é...") {
		t.Errorf("long warning = %q (%d bytes), want it cut at a rune with ...", got[0][:40], len(got[0]))
	}
	if got[1] != "prometheus: bad \uFFFD byte" {
		t.Errorf("invalid UTF-8 = %q", got[1])
	}

	// No collector: nothing happens, nothing panics.
	AddWarnings(context.Background(), "prometheus", "x")
	var none *Warnings
	if none.List() != nil {
		t.Error("a nil collector lists warnings")
	}
}
