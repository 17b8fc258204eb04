package checks

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// FormatValue renders a value in its unit for people: 212s, 1.5s, 250ms,
// 12,345 series, 1.2 MB, 12.5%.
func FormatValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	if math.IsInf(v, 0) {
		if v > 0 {
			return "+Inf"
		}
		return "-Inf"
	}
	switch unit {
	case "seconds":
		return formatSeconds(v)
	case "series", "lines":
		return groupThousands(v)
	case "bytes":
		return formatBytes(v)
	case "ratio":
		return trimFloat(v*100, 2) + "%"
	case "":
		return significant(v)
	}
	return significant(v) + " " + unit
}

// FormatPlain renders a value without its unit (counts of series keep their
// thousands separators).
func FormatPlain(v float64, unit string) string {
	s := FormatValue(v, unit)
	if unit == "series" || unit == "lines" {
		return s
	}
	return strings.TrimSuffix(s, " "+unit)
}

func formatSeconds(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0s"
	case a < 1:
		return significant(v*1000) + "ms"
	case a < 10:
		return significant(v) + "s"
	case a >= 86400:
		// Retention and other long spans read in days, as they are written.
		return trimFloat(v/86400, 2) + "d"
	case a >= 7200:
		return trimFloat(v/3600, 2) + "h"
	default:
		return trimFloat(v, 1) + "s"
	}
}

func formatBytes(v float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	i := 0
	for math.Abs(v) >= 1000 && i < len(units)-1 {
		v /= 1000
		i++
	}
	if i == 0 {
		return trimFloat(v, 0) + " B"
	}
	return trimFloat(v, 2) + " " + units[i]
}

// significant prints v with about 4 significant digits, never rounding
// away its integer part: 20.35, 283, 1.48, 0.002634, 12345.
func significant(v float64) string {
	if v == 0 {
		return "0"
	}
	if v == math.Trunc(v) && math.Abs(v) >= 1000 {
		return groupThousands(v)
	}
	prec := 3 - int(math.Floor(math.Log10(math.Abs(v))))
	return trimFloat(v, max(0, min(prec, 12)))
}

// trimFloat prints v with at most prec decimals and no trailing zeros.
func trimFloat(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

func groupThousands(v float64) string {
	if v != math.Trunc(v) || math.Abs(v) >= 1e15 {
		return trimFloat(v, 2)
	}
	s := strconv.FormatInt(int64(math.Abs(v)), 10)
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// FormatLabels renders labels as {a="1", b="2"}, sorted; empty labels give "".
func FormatLabels(l map[string]string) string {
	if len(l) == 0 {
		return ""
	}
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Headroom is how far a value is from its limit, as a fraction of the limit:
// positive inside the limit, negative past it. ok is false when it has no
// meaning (no limit, no value, a zero limit).
func Headroom(r Result) (h float64, ok bool) {
	if r.Value == nil || r.Limit == nil || *r.Limit == 0 {
		return 0, false
	}
	v, l := *r.Value, *r.Limit
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	if r.Op == ">=" {
		return (v - l) / math.Abs(l), true
	}
	return (l - v) / math.Abs(l), true
}
