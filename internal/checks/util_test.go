package checks

import (
	"math"
	"strings"
)

func nan() float64 { return math.NaN() }

func indentBy(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
