package checks

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
)

var logStructureFields = []config.Field{
	{Name: "selector", Kind: config.KindString, Required: true, Doc: "LogQL stream selector, e.g. {env=\"prod\"}."},
	{Name: "by", Kind: config.KindStrings, Pattern: labelNamePattern, Doc: "Groups (default [service]; [] for one share)."},
	{Name: "parser", Kind: config.KindEnum, Enum: []string{"json", "logfmt"}, Doc: "How lines are parsed (default json)."},
	{Name: "require_fields", Kind: config.KindStrings, Pattern: labelNamePattern, Doc: "Fields a structured line carries with a non-empty value, as Loki's parser names them (default [trace_id, span_id])."},
	{Name: "min_share", Kind: config.KindShare, Doc: "The smallest share of structured lines, e.g. 95%."},
	{Name: "warn_min_share", Kind: config.KindShare, Doc: "Warn below this share (at least min_share)."},
}

// LogStructureCheck holds the share of log lines, per group, that parse
// and carry every required field with a non-empty value at or above
// min_share. Both counts are Loki's own queries, so what "parses" and
// what a field is named (nested objects flattened with _, keys
// sanitised, the _extracted rename when a stream label has the name) is
// exactly Loki's; see testdata/loki/structure for the recorded cases.
type LogStructureCheck struct {
	window time.Duration
	by     []string
	limits Limits
	// structuredQ counts the structured lines by group, totalQ every line.
	structuredQ, totalQ string
}

func buildLogStructure(b *config.Budget, f *config.Fields) Check {
	c := &LogStructureCheck{window: b.Window}
	sel, _ := readStreamSelector(f)
	c.by = readLogBy(f, []string{"service"})
	parser := "json"
	if p, ok := f.String("parser"); ok {
		switch p {
		case "json", "logfmt":
			parser = p
		default:
			f.Errorf("parser", "invalid parser %q: want json or logfmt", p)
		}
	}
	fields := []string{"trace_id", "span_id"}
	if f.Has("require_fields") {
		fields = readRequireFields(f)
		if fields != nil && len(fields) == 0 {
			f.Errorf("require_fields", "no field: name at least one, e.g. [trace_id, span_id]")
		}
		for i, name := range fields {
			if strings.HasPrefix(name, "__") {
				f.ErrorfItem("require_fields", i, "%q is a reserved label name (it starts with __): no parser extracts it", name)
				break
			}
		}
	}
	for i, l := range c.by {
		if slices.Contains(fields, l) {
			f.ErrorfItem("by", i, "%q is a required field: the structured lines would be grouped by its value in each line; group by stream labels", l)
			break
		}
	}
	if v, ok := f.Share("min_share"); ok {
		c.limits.Min = F(v)
	}
	if v, ok := f.Share("warn_min_share"); ok {
		c.limits.WarnMin = F(v)
	}
	if !f.Has("min_share") && !f.Has("warn_min_share") {
		f.Errorf("min_share", "no limit: set min_share (or warn_min_share), e.g. 95%%")
	}
	c.limits.checkOrder(f, limitKeys{min: "min_share", warnMin: "warn_min_share"}, "")

	pipeline := "| " + parser + ` | __error__=""`
	for _, name := range fields {
		pipeline += " | " + name + `!=""`
	}
	c.structuredQ = fmt.Sprintf("sum%s(count_over_time(%s))", byClause(c.by...), logRange(sel, pipeline, c.window))
	c.totalQ = fmt.Sprintf("sum%s(count_over_time(%s))", byClause(c.by...), logRange(sel, "", c.window))
	return c
}

// Queries implements Check.
func (c *LogStructureCheck) Queries() []Query {
	return []Query{{Lang: "logql", Text: c.structuredQ}, {Lang: "logql", Text: c.totalQ}}
}

// structureGroup is one group's two counts, and why they cannot be judged
// when the source sent counts no Loki sends.
type structureGroup struct {
	labels             model.Metric
	count, total       float64
	inTotal            bool // the total query has the group
	countNote, totNote string
}

// Evaluate implements Check.
func (c *LogStructureCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	structured, err := env.Loki.Query(ctx, c.structuredQ, env.At)
	if err == nil {
		err = foreignLabels("loki", c.structuredQ, structured, c.by...)
	}
	if err != nil {
		return Evaluation{}, err
	}
	totals, err := env.Loki.Query(ctx, c.totalQ, env.At)
	if err == nil {
		err = foreignLabels("loki", c.totalQ, totals, c.by...)
	}
	if err != nil {
		return Evaluation{}, err
	}
	groups := map[string]*structureGroup{}
	group := func(m model.Metric) *structureGroup {
		k := groupKey(m, c.by)
		g := groups[k]
		if g == nil {
			g = &structureGroup{labels: m}
			groups[k] = g
		}
		return g
	}
	for _, s := range totals {
		g := group(s.Metric)
		g.total, g.inTotal = float64(s.Value), true
		g.totNote = countProblem(g.total, "lines", " in all")
	}
	for _, s := range structured {
		g := group(s.Metric)
		g.count = float64(s.Value)
		g.countNote = countProblem(g.count, "lines", " structured")
	}
	if len(totals) == 0 && len(structured) == 0 {
		return Evaluation{Missing: fmt.Sprintf("no log lines in the last %s", promDuration(c.window))}, nil
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return groups[keys[i]].labels.Before(groups[keys[j]].labels) })
	ev := Evaluation{}
	for _, k := range keys {
		g := groups[k]
		r := Result{Subject: "structured", Labels: labelMap(g.labels), Unit: "ratio"}
		// A group Loki counts in the total but not among the structured
		// lines has none: its share is 0, never missing.
		share := 0.0
		if g.total > 0 {
			share = g.count / g.total
		}
		switch {
		case g.totNote != "":
			r.Note = g.totNote
		case g.countNote != "":
			r.Note = g.countNote
		case !g.inTotal:
			// The structured query grouped by a field of the body
			// (a parsed label named like a `by` label): that group
			// has no total.
			r.Note = fmt.Sprintf("the source returned %s structured lines for a group with no lines in all: a `by` label may come from the lines' bodies", countText(g.count))
		case !finite(g.count) || !finite(g.total):
			r.Note = fmt.Sprintf("the source returned %s structured of %s lines: no share can be computed", FormatValue(g.count, "lines"), FormatValue(g.total, "lines"))
		case g.count > g.total:
			r.Note = fmt.Sprintf("the source returned %s structured lines but %s lines in all: the structured lines are some of all lines, never more", countText(g.count), countText(g.total))
		}
		if r.Note != "" {
			share = math.NaN()
		}
		c.limits.Judge(&r, share)
		r.Extra = []KV{{"count", g.count}, {"total", g.total}}
		ev.Results = append(ev.Results, r)
	}
	return ev, nil
}

// readRequireFields reads require_fields as label names. A name that is
// not one but that Loki's parsers would make one of (trace.id, trace-id:
// they turn such characters into _) is refused with the name to write.
func readRequireFields(f *config.Fields) []string {
	if names, ok := f.Strings("require_fields"); ok {
		for i, n := range names {
			if model.LegacyValidation.IsValidLabelName(n) {
				continue
			}
			if s := lokiFieldName(n); model.LegacyValidation.IsValidLabelName(s) && strings.Trim(s, "_") != "" {
				f.ErrorfItem("require_fields", i, "invalid label name %q: Loki's parsers name that field %q", n, s)
				return nil
			}
		}
	}
	return readLabelNames(f, "require_fields")
}

// lokiFieldName is the label Loki's json and logfmt parsers extract for a
// key: spaces trimmed, a leading digit prefixed with _, every character
// other than [a-zA-Z0-9_] made _.
func lokiFieldName(key string) string {
	key = strings.TrimSpace(key)
	var b strings.Builder
	for i, c := range key {
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			b.WriteRune(c)
		case '0' <= c && c <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(c)
		default:
			b.WriteByte('_')
		}
	}
	return b.String()
}
