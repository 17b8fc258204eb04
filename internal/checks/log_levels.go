package checks

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
)

var logLevelsFields = []config.Field{
	{Name: "selector", Kind: config.KindString, Required: true, Doc: "LogQL stream selector."},
	{Name: "by", Kind: config.KindStrings, Pattern: labelNamePattern, Doc: "Groups (default [service])."},
	{Name: "level_label", Kind: config.KindString, Pattern: labelNamePattern, Doc: "Without a parser: the stream label holding the level (default level)."},
	{Name: "parser", Kind: config.KindEnum, Enum: []string{"json", "logfmt"}, Doc: "Parse the level from the line's body."},
	{Name: "level_field", Kind: config.KindString, Pattern: labelNamePattern, Doc: "With a parser: the body field holding the level (default level)."},
	{Name: "max_share", Kind: config.KindShareMap, KeyEnum: levelKeys(), KeyFold: true, Doc: "Per level, the largest share of lines, e.g. {ERROR: 10%}."},
	{Name: "min_share", Kind: config.KindShareMap, KeyEnum: levelKeys(), KeyFold: true, Doc: "Per level, the smallest share of lines."},
	{Name: "warn_max_share", Kind: config.KindShareMap, KeyEnum: levelKeys(), KeyFold: true, Doc: "Warn above these shares."},
	{Name: "warn_min_share", Kind: config.KindShareMap, KeyEnum: levelKeys(), KeyFold: true, Doc: "Warn below these shares."},
}

// LogLevelsCheck holds each level's share of log lines, per group, within
// limits. Levels are normalized (case-insensitive, with aliases); lines
// with no level, or one outside the table, count as UNKNOWN and every line
// is part of the total.
type LogLevelsCheck struct {
	window time.Duration
	by     []string
	level  string // the label that holds the level: level_label or level_field
	parser string // "", "json" or "logfmt"
	limits map[string]Limits
	// levelsQ counts lines by group and level; totalQ, for json, counts
	// every line by group, since lines that are not JSON are filtered out
	// of levelsQ (else Loki fails the whole query) and must stay in the
	// total as UNKNOWN.
	levelsQ, totalQ string
}

func buildLogLevels(b *config.Budget, f *config.Fields) Check {
	c := &LogLevelsCheck{window: b.Window, limits: map[string]Limits{}}
	sel, _ := readStreamSelector(f)
	c.by = readLogBy(f, []string{"service"})
	c.parser, _ = f.String("parser")
	switch c.parser {
	case "", "json", "logfmt":
	default:
		f.Errorf("parser", "invalid parser %q: want json or logfmt", c.parser)
	}
	label, hasLabel := f.String("level_label")
	field, hasField := f.String("level_field")
	switch {
	case hasLabel && c.parser != "":
		f.Errorf("level_label", "level_label reads a stream label; with parser %s, name the body field with level_field", c.parser)
	case hasField && c.parser == "":
		f.Errorf("level_field", "level_field needs a parser: set parser: json or parser: logfmt (or use level_label for a stream label)")
	}
	c.level = "level"
	if hasLabel {
		c.level = label
	}
	if hasField {
		c.level = field
	}
	if !model.LegacyValidation.IsValidLabelName(c.level) {
		key := "level_label"
		if hasField {
			key = "level_field"
		}
		f.Errorf(key, "invalid label name %q", c.level)
	}
	for _, l := range c.by {
		if l == c.level {
			f.Errorf("by", "%q is the level itself: group by other labels", l)
		}
	}
	namedLevels := false // some share map names a level, valid or not
	shares := func(key string, set func(*Limits, float64)) {
		m, ok := f.Map(key)
		if !ok {
			return
		}
		namedLevels = namedLevels || len(m.Keys()) > 0
		first := map[string]string{} // level -> the key that named it first
		for _, k := range m.Keys() {
			if _, ok := levelAliases[strings.ToLower(k)]; !ok {
				m.ErrorfKey(k, "unknown level %q: want one of %s", k, strings.Join(logLevels, ", "))
				continue
			}
			level := normalizeLevel(k)
			if prev, dup := first[level]; dup {
				m.ErrorfKey(k, "%q and %q both name the level %s: set its limit once", prev, k, level)
				continue
			}
			first[level] = k
			if v, ok := m.Share(k); ok {
				l := c.limits[level]
				set(&l, v)
				c.limits[level] = l
			}
		}
		m.Done()
	}
	shares("max_share", func(l *Limits, v float64) { l.Max = F(v) })
	shares("min_share", func(l *Limits, v float64) { l.Min = F(v) })
	shares("warn_max_share", func(l *Limits, v float64) { l.WarnMax = F(v) })
	shares("warn_min_share", func(l *Limits, v float64) { l.WarnMin = F(v) })
	for _, level := range logLevels {
		if l, ok := c.limits[level]; ok {
			l.checkOrder(f, limitKeys{"min_share", "max_share", "warn_min_share", "warn_max_share"}, level)
		}
	}
	if !f.Has("max_share") && !f.Has("min_share") && !f.Has("warn_max_share") && !f.Has("warn_min_share") {
		f.Errorf("max_share", "no limit: set max_share or min_share, e.g. {ERROR: 10%%}")
	} else if len(c.limits) == 0 && !namedLevels {
		f.Errorf("max_share", "no limit: the share maps name no level, e.g. {ERROR: 10%%}")
	}

	pipeline := ""
	switch c.parser {
	case "json":
		pipeline = `| json | __error__=""`
	case "logfmt":
		pipeline = "| logfmt"
	}
	c.levelsQ = fmt.Sprintf("sum%s(count_over_time(%s))", byClause(append(append([]string{}, c.by...), c.level)...), logRange(sel, pipeline, c.window))
	if c.parser == "json" {
		c.totalQ = fmt.Sprintf("sum%s(count_over_time(%s))", byClause(c.by...), logRange(sel, "", c.window))
	}
	return c
}

// Queries implements Check.
func (c *LogLevelsCheck) Queries() []Query {
	q := []Query{{Lang: "logql", Text: c.levelsQ}}
	if c.totalQ != "" {
		q = append(q, Query{Lang: "logql", Text: c.totalQ})
	}
	return q
}

type levelGroup struct {
	labels model.Metric
	counts map[string]float64
	total  float64
	// impossible, when set, says which count of the group the source
	// cannot have meant: no share of the group is judged.
	impossible string
}

// Evaluate implements Check.
func (c *LogLevelsCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	vec, err := env.Loki.Query(ctx, c.levelsQ, env.At)
	if err != nil {
		return Evaluation{}, err
	}
	groups := map[string]*levelGroup{}
	group := func(m model.Metric) *levelGroup {
		k := groupKey(m, c.by)
		g := groups[k]
		if g == nil {
			g = &levelGroup{labels: model.Metric{}, counts: map[string]float64{}}
			for _, l := range c.by {
				if v, ok := m[model.LabelName(l)]; ok {
					g.labels[model.LabelName(l)] = v
				}
			}
			groups[k] = g
		}
		return g
	}
	if err := foreignLabels("loki", c.levelsQ, vec, append(append([]string{}, c.by...), c.level)...); err != nil {
		return Evaluation{}, err
	}
	for _, s := range vec {
		g := group(s.Metric)
		level := normalizeLevel(string(s.Metric[model.LabelName(c.level)]))
		if note := countProblem(float64(s.Value), "lines", " at level "+level); note != "" && g.impossible == "" {
			g.impossible = note
		}
		g.counts[level] += float64(s.Value)
		g.total += float64(s.Value)
	}
	if c.totalQ != "" {
		totals, err := env.Loki.Query(ctx, c.totalQ, env.At)
		if err == nil {
			err = foreignLabels("loki", c.totalQ, totals, c.by...)
		}
		if err != nil {
			return Evaluation{}, err
		}
		for _, s := range totals {
			g := group(s.Metric)
			total := float64(s.Value)
			switch note := countProblem(total, "lines", " in all"); {
			case g.impossible != "":
			case note != "":
				g.impossible = note
			case finite(total) && finite(g.total) && g.total > total:
				// The parsed lines are some of all lines, never more.
				g.impossible = fmt.Sprintf("the source returned %s lines with a level but %s lines in all: the levels cannot count more lines than the total", countText(g.total), countText(total))
			}
			// Lines the parser could not read have no level: UNKNOWN.
			if extra := total - g.total; extra > 0 {
				g.counts["UNKNOWN"] += extra
			}
			g.total = total
		}
	}
	if len(groups) == 0 {
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
		for _, level := range logLevels {
			n, seen := g.counts[level]
			lim, limited := c.limits[level]
			if !seen && !limited {
				continue
			}
			r := Result{Subject: level, Labels: labelMap(g.labels), Unit: "ratio"}
			share := 0.0
			if g.total > 0 {
				share = n / g.total
			}
			switch {
			case g.impossible != "":
				share = math.NaN()
				r.Note = g.impossible
			case !finite(n) || !finite(g.total):
				// A count of lines is a whole number: NaN or an
				// infinity from the source gives no share, and
				// must not pass a limit (n/+Inf would be 0).
				share = math.NaN()
				r.Note = fmt.Sprintf("the source returned %s of %s lines: no share can be computed", FormatValue(n, "lines"), FormatValue(g.total, "lines"))
			case share < 0 || share > 1:
				// Counts that pass the checks above give none; a share
				// outside [0, 1] is never judged.
				share = math.NaN()
				r.Note = fmt.Sprintf("the source returned %s of %s lines: a share must be between 0%% and 100%%", countText(n), countText(g.total))
			}
			switch {
			case limited:
				lim.Judge(&r, share)
			case math.IsNaN(share):
				judgeNaN(&r)
			default:
				r.Value = F(share)
			}
			r.Extra = []KV{{"count", n}, {"total", g.total}}
			ev.Results = append(ev.Results, r)
		}
	}
	return ev, nil
}
