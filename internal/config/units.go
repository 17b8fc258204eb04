package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// ParseDuration parses Prometheus-style durations: 300s, 5m, 1h, 15d, 1h30m,
// 250ms. A bare number is refused: seconds or milliseconds would be a guess.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("invalid duration %q: missing unit (e.g. %ss)", s, s)
	}
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: use a number and a unit: ms, s, m, h, d, w, y (e.g. 300s, 5m, 1h)", s)
	}
	return time.Duration(d), nil
}

var sizeUnits = []struct {
	suffix string
	factor float64
}{
	// Longest suffixes first so that "MiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"B", 1},
}

// ParseSize parses byte sizes: 100MB (10^6), 100MiB (2^20), 512KiB, 1GB, 42B
// or a bare number of bytes.
func ParseSize(s string) (float64, error) {
	s = strings.TrimSpace(s)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
				return 0, fmt.Errorf("invalid size %q: use a number and a unit: B, KB, MB, GB (10^3) or KiB, MiB, GiB (2^10)", s)
			}
			return checkSizeRange(s, v*u.factor)
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("invalid size %q: use a number and a unit: B, KB, MB, GB (10^3) or KiB, MiB, GiB (2^10)", s)
	}
	return checkSizeRange(s, v)
}

// MaxSize is the largest size budgets.yaml accepts, 8EiB: every byte count
// a source reports fits in an int64, so a larger limit could never be
// reached and is a typo (1e300TB).
const MaxSize = float64(1 << 63)

func checkSizeRange(s string, v float64) (float64, error) {
	if math.IsInf(v, 0) || v >= MaxSize {
		return 0, fmt.Errorf("invalid size %q: too large (at most 8EiB)", s)
	}
	return v, nil
}

// ParseShare parses a share: "10%" or a fraction in [0, 1] such as 0.1.
func ParseShare(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if num, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(v) || v < 0 || v > 100 {
			return 0, fmt.Errorf("invalid share %q: want a percentage between 0%% and 100%%", s)
		}
		return v / 100, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || v < 0 || v > 1 {
		return 0, fmt.Errorf("invalid share %q: want a percentage such as 10%% (or a fraction between 0 and 1)", s)
	}
	return v, nil
}
