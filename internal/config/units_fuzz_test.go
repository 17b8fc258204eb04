package config

import (
	"math"
	"testing"
)

// FuzzUnits: the unit parsers never panic, and a value they accept is one a
// limit can hold: a size is finite and not negative, a share is a number in
// [0, 1], a duration is not negative.
func FuzzUnits(f *testing.F) {
	for _, s := range []string{
		"300s", "5m", "1h30m", "250ms", "15d", "1y", "0s", "-5m", "300", "5M",
		"100MB", "100MiB", "1.5MB", "42", "42B", " 1 KiB ", "1e999MB", "1e30TB", "+Inf", "0x10MB", "1_000",
		"10%", "12.5%", "0.25", "100%", "101%", "-0%", "Inf%", "1e-400%",
		"", "%", "B", "TiBMB",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseSize(s); err == nil && (math.IsNaN(v) || math.IsInf(v, 0) || v < 0) {
			t.Errorf("ParseSize(%q) = %v, accepted", s, v)
		}
		if v, err := ParseShare(s); err == nil && !(v >= 0 && v <= 1) {
			t.Errorf("ParseShare(%q) = %v, accepted", s, v)
		}
		if d, err := ParseDuration(s); err == nil && d < 0 {
			t.Errorf("ParseDuration(%q) = %v, accepted", s, d)
		}
	})
}
