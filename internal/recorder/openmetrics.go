package recorder

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
)

// writeOpenMetrics writes the series as OpenMetrics text that promtool
// (2.x and 3.x) backfills and the snapshot reader loads with every sample
// unchanged: one family per metric name, in name order, each declared
// `unknown` (no type-specific parsing: a `le` or `quantile` value stays
// as recorded, no `_created` series is taken for a creation time), series
// in label order, samples in time order with their timestamps in seconds,
// then `# EOF`. It fails on a name OpenMetrics 1.0 cannot spell.
func writeOpenMetrics(w io.Writer, set *metricSet) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	families := map[string][]*series{}
	for _, s := range set.byKey {
		if len(s.blocks) == 0 {
			continue
		}
		name := string(s.metric[model.MetricNameLabel])
		families[name] = append(families[name], s)
	}
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	slices.Sort(names)
	var line []byte
	for _, name := range names {
		members := families[name]
		slices.SortFunc(members, func(a, b *series) int { return strings.Compare(a.key, b.key) })
		declared := false
		for _, s := range members {
			samples, err := set.samples(s)
			if err != nil {
				return err
			}
			if len(samples) == 0 {
				continue // every sample was stale
			}
			if !declared {
				if !model.LegacyValidation.IsValidMetricName(name) {
					return fmt.Errorf("metric name %q cannot be written in OpenMetrics 1.0 text (promtool's backfill format)", name)
				}
				fmt.Fprintf(bw, "# TYPE %s unknown\n", name)
				declared = true
			}
			prefix, err := seriesText(name, s.metric)
			if err != nil {
				return err
			}
			for _, p := range samples {
				line = append(line[:0], prefix...)
				line = append(line, ' ')
				line = appendValue(line, float64(p.Value))
				line = append(line, ' ')
				line = appendTimestamp(line, int64(p.Timestamp))
				line = append(line, '\n')
				if _, err := bw.Write(line); err != nil {
					return err
				}
			}
		}
	}
	if _, err := bw.WriteString("# EOF\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// seriesText is `name{a="1",b="2"}`, labels in name order, values escaped
// as OpenMetrics wants (backslash, double quote, newline).
func seriesText(name string, m model.Metric) (string, error) {
	lnames := make([]string, 0, len(m))
	for ln := range m {
		if ln != model.MetricNameLabel {
			lnames = append(lnames, string(ln))
		}
	}
	slices.Sort(lnames)
	var b strings.Builder
	b.WriteString(name)
	if len(lnames) == 0 {
		return b.String(), nil
	}
	b.WriteByte('{')
	for i, ln := range lnames {
		if !model.LegacyValidation.IsValidLabelName(ln) {
			return "", fmt.Errorf("label name %q of %s cannot be written in OpenMetrics 1.0 text (promtool's backfill format)", ln, name)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(ln)
		b.WriteString(`="`)
		b.WriteString(labelValueEscaper.Replace(string(m[model.LabelName(ln)])))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}

var labelValueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// appendValue writes v so that parsing it gives v bit for bit (NaN aside,
// which Prometheus' API does not tell apart either).
func appendValue(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "NaN"...)
	case math.IsInf(v, 1):
		return append(dst, "+Inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-Inf"...)
	}
	return strconv.AppendFloat(dst, v, 'g', -1, 64)
}

// appendTimestamp writes a millisecond timestamp as OpenMetrics seconds.
// Prometheus' parser (2.x and 3.x alike) reads them as a float and keeps
// int64(seconds*1000), which truncates: "1795694400.123" may come back as
// ...122 when the float falls just below. Such timestamps get a 0.1 ms
// nudge ("1795694400.1231"), which truncation and rounding both take back
// to the right millisecond.
func appendTimestamp(dst []byte, ms int64) []byte {
	if ms%1000 == 0 {
		return strconv.AppendInt(dst, ms/1000, 10)
	}
	start := len(dst)
	abs := ms
	if ms < 0 {
		dst = append(dst, '-')
		abs = -ms
	}
	frac := abs % 1000
	dst = strconv.AppendInt(dst, abs/1000, 10)
	dst = append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	if f, err := strconv.ParseFloat(string(dst[start:]), 64); err == nil && int64(f*1000) == ms {
		return dst
	}
	return append(dst, '1')
}
