package recorder

import (
	"reflect"
	"testing"

	"github.com/secflow/secflow-budget/internal/sources/loki"
)

// TestHostileSnapshotEntryLokiLevels: the detected_level Loki 3.7 derives
// itself (from a level label it normalises, or from the words of the
// line) is recognised as Loki's own and not written as a pushed label.
func TestHostileSnapshotEntryLokiLevels(t *testing.T) {
	for _, c := range []struct {
		name string
		in   loki.LogEntry
		want map[string]string
	}{
		{
			name: "level=Information is info since Loki 3.6",
			in:   loki.LogEntry{Labels: map[string]string{"service": "api", "level": "Information"}, Metadata: map[string]string{"detected_level": "info"}, Line: "x"},
			want: map[string]string{"service": "api", "level": "Information"},
		},
		{
			name: "guessed from the earliest whole word",
			in:   loki.LogEntry{Labels: map[string]string{"service": "api"}, Metadata: map[string]string{"detected_level": "error"}, Line: "retrying after error, info will follow"},
			want: map[string]string{"service": "api"},
		},
		{
			name: "no whole word: unknown",
			in:   loki.LogEntry{Labels: map[string]string{"service": "api"}, Metadata: map[string]string{"detected_level": "unknown"}, Line: "informational message only"},
			want: map[string]string{"service": "api"},
		},
		{
			name: "a value Loki would not derive stays",
			in:   loki.LogEntry{Labels: map[string]string{"service": "api"}, Metadata: map[string]string{"detected_level": "info"}, Line: "informational message only"},
			want: map[string]string{"service": "api", "detected_level": "info"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := snapshotEntry(c.in)
			if !reflect.DeepEqual(got.Labels, c.want) {
				t.Errorf("labels %v, want %v", got.Labels, c.want)
			}
		})
	}
}
