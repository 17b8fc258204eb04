package lokitest

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// parseTime reads a time parameter the ways Loki accepts one: empty (def),
// a decimal with a fraction (unix seconds, to the millisecond), an integer
// of at most 10 digits (unix seconds), a longer integer (unix nanoseconds),
// or RFC3339 with or without fractional seconds.
func parseTime(v string, def time.Time) (time.Time, error) {
	if v == "" {
		return def, nil
	}
	if strings.Contains(v, ".") {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			sec, frac := math.Modf(f)
			ms := math.Round(frac * 1000)
			return time.Unix(int64(sec), int64(ms)*int64(time.Millisecond)), nil
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if t, terr := time.Parse(time.RFC3339Nano, v); terr == nil {
			return t, nil
		}
		return time.Time{}, err
	}
	if len(v) <= 10 {
		return time.Unix(n, 0), nil
	}
	return time.Unix(0, n), nil
}
