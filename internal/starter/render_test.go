package starter

import (
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
)

func TestNiceCeil(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{
		{10388 * 1.25, 15000}, {595 * 1.25, 800}, {1, 1}, {1.01, 1.2}, {0.37, 0.4}, {12000, 12000}, {0.0042, 0.005}, {9.5, 10}, {1e15, 1e15},
	} {
		if got := niceCeil(c.in); got != c.want {
			t.Errorf("niceCeil(%g) = %g, want %g", c.in, got, c.want)
		}
	}
}

// TestUnitsReadBack: every limit init writes reads back, through the
// loader's own unit parsers, as at least the value it was made from.
func TestUnitsReadBack(t *testing.T) {
	for _, c := range []struct {
		sec  float64
		want string
	}{{300, "300s"}, {0.25, "250ms"}, {0.0025, "3ms"}, {1200, "1200s"}, {0, "1ms"}, {0.9999, "1s"}} {
		got := formatSeconds(c.sec)
		d, err := config.ParseDuration(got)
		if got != c.want || err != nil || d.Seconds() < c.sec {
			t.Errorf("formatSeconds(%g) = %q (reads %v, %v), want %q", c.sec, got, d, err, c.want)
		}
	}
	for _, c := range []struct {
		bytes float64
		want  string
	}{{1.5e8, "150MB"}, {1.2e5, "120kB"}, {1.2e6, "1.2MB"}, {800, "800B"}, {2.5e9, "2.5GB"}, {123456789, "123.456789MB"}} {
		got := formatSize(c.bytes)
		v, err := config.ParseSize(got)
		if got != c.want || err != nil || v < c.bytes {
			t.Errorf("formatSize(%g) = %q (reads %g, %v), want %q", c.bytes, got, v, err, c.want)
		}
	}
	for _, c := range []struct {
		d    time.Duration
		want string
	}{{15 * 24 * time.Hour, "15d"}, {168 * time.Hour, "7d"}, {36 * time.Hour, "36h"}, {90 * time.Minute, "1h30m"}} {
		if got := formatDays(c.d); got != c.want {
			t.Errorf("formatDays(%s) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestNamesAndStrings(t *testing.T) {
	for in, want := range map[string]string{"api": "api", "Billing API": "billing-api", "secflow_task_duration": "secflow-task-duration", "__x": "x", "!!!": "", "a/b.c": "a-b.c"} {
		if got := budgetName(in); got != want {
			t.Errorf("budgetName(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"api": "api", "yes": "'yes'", `{job="a"}`: `'{job="a"}'`, "it's": `'it''s'`, "http://h:1": "'http://h:1'", "1.5": "'1.5'"} {
		if got := yamlString(in); got != want {
			t.Errorf("yamlString(%q) = %q, want %q", in, got, want)
		}
	}
}
