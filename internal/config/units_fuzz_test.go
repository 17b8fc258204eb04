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
		"100MB", "100MiB", "1.5MB", "42", "42B", " 1 KiB ", "1e999MB", "1e300TB", "NaN", "+Inf", "0x10MB", "1_000",
		"10%", "12.5%", "0.25", "100%", "101%", "NaN%", "-0%", "Inf%", "1e-400%",
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

// TestHostileUnits: values a limit cannot hold are refused (issue 7 item 3:
// a NaN share, a size that overflows to +Inf).
func TestHostileUnits(t *testing.T) {
	for _, c := range []struct {
		parse func(string) (float64, error)
		in    string
		want  string
	}{
		{ParseSize, "1e300TB", `invalid size "1e300TB": use a number and a unit: B, KB, MB, GB (10^3) or KiB, MiB, GiB (2^10)`},
		{ParseSize, "1e306KiB", `invalid size "1e306KiB": use a number and a unit: B, KB, MB, GB (10^3) or KiB, MiB, GiB (2^10)`},
		{ParseShare, "NaN%", `invalid share "NaN%": want a percentage between 0% and 100%`},
		{ParseShare, "nan", `invalid share "nan": want a percentage such as 10% (or a fraction between 0 and 1)`},
	} {
		v, err := c.parse(c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v, %v; want error %q", c.in, v, err, c.want)
		}
	}
}
