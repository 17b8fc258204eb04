package starter

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/checks"
)

// The levels a starter log_levels budget limits.
var limitedLevels = []string{"WARNING", "ERROR", "CRITICAL"}

// minShareLimit is the least share limit written: a level not seen today
// may still appear in a line or two.
const minShareLimit = 0.01

// levelMode is where the level lives: a stream label, or a field of JSON
// or logfmt bodies.
type levelMode struct {
	parser string // "", "json" or "logfmt"
	desc   string
}

func (g *generator) logs(ctx context.Context) error {
	if g.src.LogQL == nil {
		return nil
	}
	svc := g.o.ServiceLabel
	all := fmt.Sprintf(`{%s=~".+"}`, svc)
	win := promDuration(g.o.Window)
	modes := []levelMode{{"", "the stream label level"}, {"json", "the JSON field level"}, {"logfmt", "the logfmt field level"}}
	levelQuery := func(m levelMode) string {
		pipe := ""
		switch m.parser {
		case "json":
			pipe = ` | json | __error__=""`
		case "logfmt":
			pipe = ` | logfmt | __error__=""`
		}
		return fmt.Sprintf("sum by (%s, level) (count_over_time(%s%s [%s]))", svc, all, pipe, win)
	}
	countQ := fmt.Sprintf("sum by (%s) (count_over_time(%s[%s]))", svc, all, win)
	queries := []string{countQ}
	for _, m := range modes {
		queries = append(queries, levelQuery(m))
	}
	q, err := g.src.LogQL(ctx, queries)
	if err != nil {
		if missing(err) {
			g.note("logs: %v", err)
			return nil
		}
		return fmt.Errorf("asking Loki: %w", err)
	}
	vec, err := q.Query(ctx, countQ, g.src.At)
	if err != nil {
		if missing(err) {
			g.note("logs: %v", err)
			return nil
		}
		return fmt.Errorf("asking Loki %s: %w", countQ, err)
	}
	var services []string
	for _, s := range vec {
		if v := string(s.Metric[model.LabelName(svc)]); v != "" && s.Value > 0 {
			services = append(services, v)
		}
	}
	sort.Strings(services)
	if len(services) == 0 {
		g.note("logs: no log lines with a %s label in the last %s", svc, win)
		return nil
	}
	// The level lives where most lines carry one.
	mode, best := levelMode{}, 0.0
	found := false
	for _, m := range modes {
		v, err := q.Query(ctx, levelQuery(m), g.src.At)
		if err != nil {
			continue // e.g. Loki refusing a parser: try the next
		}
		n := 0.0
		for _, s := range v {
			if s.Metric["level"] != "" {
				n += float64(s.Value)
			}
		}
		if n > best {
			mode, best, found = m, n, true
		}
	}
	names := map[string]bool{}
	for _, s := range services {
		name := budgetName(s)
		if name == "" || names[name] {
			g.note("logs: service %q has no name a budget can take: left out", s)
			continue
		}
		names[name] = true
		sel := fmt.Sprintf("{%s=%s}", svc, strconv.Quote(s))
		if err := g.logVolume(ctx, name, sel); err != nil {
			return err
		}
		if !found {
			continue
		}
		if err := g.logLevels(ctx, name, sel, mode); err != nil {
			return err
		}
	}
	if !found {
		g.note("log_levels: no line carries a level (a stream label level, or a JSON or logfmt field level)")
	}
	if err := g.redaction(ctx, all); err != nil {
		return err
	}
	return g.structure(ctx, all)
}

// structure budgets the share of lines that carry trace_id and span_id,
// read with the parser under which more lines do, for the services that
// have such lines today (a service with none would fail at once; it is
// named among what was not budgeted). The limit is today's lowest share
// divided by the headroom, rounded down to a whole percent.
func (g *generator) structure(ctx context.Context, all string) error {
	svc := g.o.ServiceLabel
	type observed struct {
		parser        string
		count, total  float64
		shares        map[string]float64
		without, with []string
	}
	var best *observed
	for _, parser := range []string{"json", "logfmt"} {
		probe := budget{name: "log-structure", typ: "log_structure", needs: "loki",
			lines: []string{"selector: " + yamlString(all), "by: [" + svc + "]", "parser: " + parser, "min_share: 0%"}}
		o, err := g.probeOne(ctx, probe)
		if err != nil {
			return err
		}
		ob := &observed{parser: parser, shares: map[string]float64{}}
		for _, r := range o.Results {
			name := r.Labels[svc]
			if r.Value == nil || math.IsNaN(*r.Value) || name == "" {
				continue
			}
			for _, kv := range r.Extra {
				if f, ok := kv.Value.(float64); ok && kv.Key == "count" {
					ob.count += f
				} else if ok && kv.Key == "total" {
					ob.total += f
				}
			}
			if *r.Value > 0 {
				ob.shares[name] = *r.Value
				ob.with = append(ob.with, name)
			} else {
				ob.without = append(ob.without, name)
			}
		}
		if ob.count > 0 && (best == nil || ob.count > best.count) {
			best = ob
		}
	}
	if best == nil {
		g.note("log_structure: no line carries trace_id and span_id (JSON or logfmt fields)")
		return nil
	}
	sort.Strings(best.with)
	low := 1.0
	var seen []string
	for _, name := range best.with {
		low = math.Min(low, best.shares[name])
		seen = append(seen, fmt.Sprintf("%s %s", name, checks.FormatValue(best.shares[name], "ratio")))
	}
	pct := math.Floor(low/g.o.Headroom*100 + 1e-9)
	if pct < 1 {
		g.note("log_structure: at most %s of a service's lines carry trace_id and span_id: too few to budget", checks.FormatValue(low, "ratio"))
		return nil
	}
	sel := all
	if len(best.without) > 0 {
		sort.Strings(best.without)
		g.note("log_structure: no line of %s %s carries trace_id and span_id", svc, strings.Join(best.without, ", "))
		quoted := make([]string, len(best.with))
		for i, name := range best.with {
			quoted[i] = regexpQuote(name)
		}
		sel = fmt.Sprintf("{%s=~%s}", svc, strconv.Quote(strings.Join(quoted, "|")))
	}
	parserText := map[string]string{"json": "JSON", "logfmt": "logfmt"}[best.parser]
	g.budgets = append(g.budgets, budget{section: secLogs, name: "log-structure", typ: "log_structure", needs: "loki",
		comment: []string{
			fmt.Sprintf("observed %s over %s: lines with the %s fields trace_id and span_id: %s", g.at, promDuration(g.o.Window), parserText, strings.Join(seen, ", ")),
			fmt.Sprintf("limit: today's lowest share divided by the headroom %s, rounded down to a whole percent", strconv.FormatFloat(g.o.Headroom, 'f', -1, 64)),
		},
		lines: []string{"selector: " + yamlString(sel), "by: [" + svc + "]", "parser: " + best.parser,
			"min_share: " + strconv.FormatFloat(pct, 'f', -1, 64) + "%"}})
	return nil
}

func (g *generator) logVolume(ctx context.Context, name, sel string) error {
	b := budget{section: secLogs, name: "log-volume-" + name, typ: "log_volume", needs: "loki",
		lines: []string{"selector: " + yamlString(sel), "by: [" + g.o.ServiceLabel + "]", "per: 1h", "max: 1000000TB"}}
	o, err := g.probeOne(ctx, b)
	if err != nil {
		return err
	}
	v, ok := firstValue(o, "bytes_per_1h")
	if !ok {
		g.note("%s: no log bytes today", b.name)
		return nil
	}
	max := niceCeil(v * g.o.Headroom)
	if max < 1000 {
		max = 1000
	}
	b.lines[3] = "max: " + formatSize(max)
	b.comment = []string{fmt.Sprintf("observed %s over %s: %s an hour", g.at, promDuration(g.o.Window), checks.FormatValue(v, "bytes"))}
	g.budgets = append(g.budgets, b)
	return nil
}

func (g *generator) logLevels(ctx context.Context, name, sel string, m levelMode) error {
	lines := []string{"selector: " + yamlString(sel), "by: [" + g.o.ServiceLabel + "]"}
	if m.parser != "" {
		lines = append(lines, "parser: "+m.parser, "level_field: level")
	}
	b := budget{section: secLogs, name: "log-levels-" + name, typ: "log_levels", needs: "loki", lines: lines}
	probe := b
	probe.lines = append(append([]string{}, lines...), "max_share: {WARNING: 100%, ERROR: 100%, CRITICAL: 100%}")
	o, err := g.probeOne(ctx, probe)
	if err != nil {
		return err
	}
	shares := map[string]float64{}
	total := math.NaN()
	for _, r := range o.Results {
		if r.Value != nil && !math.IsNaN(*r.Value) {
			shares[r.Subject] = *r.Value
		}
		for _, kv := range r.Extra {
			if f, ok := kv.Value.(float64); ok && kv.Key == "total" {
				total = f
			}
		}
	}
	var limits, seen []string
	for _, l := range limitedLevels {
		v := shares[l]
		pct := math.Ceil(v*g.o.Headroom*100 - 1e-9)
		pct = math.Min(100, math.Max(pct, minShareLimit*100))
		if pct/100 < v {
			pct = math.Min(100, math.Ceil(v*100))
		}
		limits = append(limits, fmt.Sprintf("%s: %s%%", l, strconv.FormatFloat(pct, 'f', -1, 64)))
		seen = append(seen, fmt.Sprintf("%s %s", l, checks.FormatValue(v, "ratio")))
	}
	c := fmt.Sprintf("observed %s over %s: %s", g.at, promDuration(g.o.Window), strings.Join(seen, ", "))
	if !math.IsNaN(total) {
		c += fmt.Sprintf(" of %s lines", checks.FormatValue(total, "lines"))
	}
	c += " (level from " + m.desc + ")"
	b.lines = append(b.lines, "max_share: {"+strings.Join(limits, ", ")+"}")
	b.comment = []string{c, fmt.Sprintf("limits: today's share plus %s, rounded up to a whole percent, at least 1%%", headroomText(g.o.Headroom))}
	g.budgets = append(g.budgets, b)
	return nil
}

// redaction budgets every preset: those no line matches today at 0
// matches; those that match, which check would fail on, in a budget of
// severity warning that names what was found.
func (g *generator) redaction(ctx context.Context, sel string) error {
	presets := checks.RedactionPresets()
	probe := budget{name: "log-redaction", typ: "log_redaction", needs: "loki",
		lines: []string{"selector: " + yamlString(sel), "by: [" + g.o.ServiceLabel + "]", "presets: [" + strings.Join(presets, ", ") + "]", "max_matches: 1000000000"}}
	o, err := g.probeOne(ctx, probe)
	if err != nil {
		return err
	}
	matched := map[string][]string{}
	for _, r := range o.Results {
		if r.Value != nil && *r.Value > 0 {
			matched[r.Subject] = append(matched[r.Subject], fmt.Sprintf("%s %s", checks.FormatLabels(r.Labels), checks.FormatValue(*r.Value, "lines")))
		}
	}
	var clean, leaked []string
	for _, p := range presets {
		if len(matched[p]) > 0 {
			leaked = append(leaked, p)
		} else {
			clean = append(clean, p)
		}
	}
	win := promDuration(g.o.Window)
	if len(clean) > 0 {
		g.budgets = append(g.budgets, budget{section: secLogs, name: "log-redaction", typ: "log_redaction", needs: "loki",
			comment: []string{fmt.Sprintf("observed %s over %s: no line matches %s", g.at, win, strings.Join(clean, ", "))},
			lines:   []string{"selector: " + yamlString(sel), "by: [" + g.o.ServiceLabel + "]", "presets: [" + strings.Join(clean, ", ") + "]", "max_matches: 0"}})
	}
	if len(leaked) > 0 {
		var found []string
		for _, p := range leaked {
			found = append(found, p+" "+strings.Join(matched[p], ", "))
		}
		g.budgets = append(g.budgets, budget{section: secLogs, name: "log-redaction-found", typ: "log_redaction", needs: "loki",
			comment: []string{
				fmt.Sprintf("observed %s over %s: lines matching %s", g.at, win, strings.Join(found, "; ")),
				"severity: warning so that today passes: remove the secrets from the logs, then move these presets to log-redaction",
			},
			lines: []string{"severity: warning", "selector: " + yamlString(sel), "by: [" + g.o.ServiceLabel + "]", "presets: [" + strings.Join(leaked, ", ") + "]", "max_matches: 0"}})
	}
	return nil
}
