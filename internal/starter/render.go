package starter

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// render writes the file: the schema comment, the header, defaults and
// sources, the budgets under their comments, and what was left out.
func (g *generator) render() []byte {
	var b strings.Builder
	ref := g.o.SchemaRef
	if ref == "" {
		ref = DefaultSchemaURL
	}
	b.WriteString(SchemaComment(ref) + "\n")
	b.WriteString("# A starter budgets file written by `secflow-budget init`.\n")
	for _, h := range g.o.Header {
		b.WriteString("# " + h + "\n")
	}
	fmt.Fprintf(&b, "# Limits are today's values plus %s headroom, rounded up; each budget says\n", headroomText(g.o.Headroom))
	b.WriteString("# what was observed. Tighten them, then run: secflow-budget validate && secflow-budget check\n")
	if len(g.leftOut) > 0 {
		b.WriteString("#\n# Not budgeted:\n")
		for _, l := range g.leftOut {
			b.WriteString("# - " + oneLine(l) + "\n")
		}
	}
	b.WriteString(renderHead(g.o.Window))
	if g.o.SourcesYAML != "" {
		b.WriteString(strings.TrimRight(g.o.SourcesYAML, "\n") + "\n")
	} else if g.o.PrometheusURL != "" || g.o.LokiURL != "" {
		b.WriteString("sources:\n")
		if g.o.PrometheusURL != "" {
			b.WriteString("  prometheus:\n    url: " + yamlString(g.o.PrometheusURL) + "\n")
		}
		if g.o.LokiURL != "" {
			b.WriteString("  loki:\n    url: " + yamlString(g.o.LokiURL) + "\n")
		}
	}
	b.WriteString(renderList(g.budgets))
	return []byte(b.String())
}

// renderBudgets is a whole file of budgets bs, without comments above
// them: for evaluating them.
func renderBudgets(bs []budget, window time.Duration) string {
	return renderHead(window) + renderList(bs)
}

// renderHead is the version and defaults of a file.
func renderHead(window time.Duration) string {
	return fmt.Sprintf("version: 1\ndefaults:\n  window: %s\n  on_missing: fail\n", promDuration(window))
}

// renderList is the budgets of a file, each under its comments.
func renderList(bs []budget) string {
	var b strings.Builder
	b.WriteString("budgets:\n")
	section := ""
	for i, x := range bs {
		if x.section != "" && x.section != section {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString("  # " + x.section + "\n")
			section = x.section
		} else if i > 0 {
			b.WriteString("\n")
		}
		for _, c := range x.comment {
			b.WriteString("  # " + oneLine(c) + "\n")
		}
		b.WriteString("  - name: " + x.name + "\n    type: " + x.typ + "\n")
		for _, l := range x.lines {
			b.WriteString("    " + l + "\n")
		}
	}
	return b.String()
}

// oneLine keeps a comment on its line.
func oneLine(s string) string { return strings.NewReplacer("\n", " ", "\r", " ").Replace(s) }

var plainRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

// yamlString writes s as a YAML scalar that reads back as the string s.
func yamlString(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "y", "n", "~":
		return "'" + s + "'"
	}
	if plainRE.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func yamlStrings(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = yamlString(s)
	}
	return out
}

// listLines is a block list, one item a line.
func listLines(items []string) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = "  - " + yamlString(it)
	}
	return out
}

var nameCharRE = regexp.MustCompile(`[^a-z0-9._-]+`)

// budgetName makes s part of a budget name ([a-z0-9][a-z0-9._-]*), or "".
func budgetName(s string) string {
	s = nameCharRE.ReplaceAllString(strings.ReplaceAll(strings.ToLower(s), "_", "-"), "-")
	s = strings.TrimLeft(s, "._-")
	s = strings.TrimRight(s, "-")
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// regexpQuote escapes a prefix for a PromQL regular expression.
func regexpQuote(s string) string { return regexp.QuoteMeta(s) }

// niceSteps are the mantissas limits are rounded up to.
var niceSteps = []float64{1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}

// niceCeil rounds x > 0 up to a nice number: 10388 → 12000, 0.37 → 0.4.
func niceCeil(x float64) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	e := math.Pow(10, math.Floor(math.Log10(x)))
	for _, s := range niceSteps {
		// Computed from the decimal text, so that 1.2e4 is 12000 and not
		// 12000.000000000002.
		v, _ := strconv.ParseFloat(strconv.FormatFloat(s*e, 'g', 12, 64), 64)
		if v >= x {
			return v
		}
	}
	return 10 * e
}

// formatSeconds writes seconds as a duration the loader reads, rounded up
// to the millisecond: 300s, 250ms.
func formatSeconds(sec float64) string {
	ms := int64(math.Ceil(sec*1000 - 1e-9))
	if ms < 1 {
		ms = 1
	}
	if ms%1000 == 0 {
		return strconv.FormatInt(ms/1000, 10) + "s"
	}
	return strconv.FormatInt(ms, 10) + "ms"
}

// formatDays writes a retention: 15d, 36h, or Prometheus' form.
func formatDays(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	return promDuration(d)
}

// promDuration writes d as Prometheus does: 1h, 5m, 1h30m.
func promDuration(d time.Duration) string {
	return modelDuration(d)
}

// formatSize writes bytes in the largest decimal unit that keeps it short:
// 150MB, 120kB, 800B.
func formatSize(v float64) string {
	for _, u := range []struct {
		name string
		f    float64
	}{{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}} {
		if v >= u.f {
			q := math.Ceil(v/u.f*1e6-1e-6) / 1e6 // 120kB, not 120.00000000000001kB
			return strconv.FormatFloat(q, 'f', -1, 64) + u.name
		}
	}
	return strconv.FormatFloat(math.Ceil(v), 'f', -1, 64) + "B"
}

func modelDuration(d time.Duration) string { return model.Duration(d).String() }
