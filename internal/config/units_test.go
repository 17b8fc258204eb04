package config

import (
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{"300s": 300 * time.Second, "5m": 5 * time.Minute, "1h": time.Hour, "15d": 15 * 24 * time.Hour, "1h30m": 90 * time.Minute, "250ms": 250 * time.Millisecond}
	for in, want := range good {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "300", "30O s", "1 hour", "-5m", "5M"} {
		if _, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) gave no error", in)
		}
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]float64{"100MB": 100e6, "100MiB": 100 << 20, "1KiB": 1024, "1kB": 1000, "1GB": 1e9, "42B": 42, "42": 42, "1.5MB": 1.5e6}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "MB", "100 Mb", "-1MB", "ten MB", "1e999MB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) gave no error", in)
		}
	}
}

func TestParseShare(t *testing.T) {
	good := map[string]float64{"10%": 0.1, "0%": 0, "100%": 1, "0.25": 0.25, "12.5%": 0.125}
	for in, want := range good {
		if got, err := ParseShare(in); err != nil || got != want {
			t.Errorf("ParseShare(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "101%", "-1%", "10", "1.5", "ten%"} {
		if _, err := ParseShare(in); err == nil {
			t.Errorf("ParseShare(%q) gave no error", in)
		}
	}
}
