package checks

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
)

var logRedactionFields = []config.Field{
	{Name: "selector", Kind: config.KindString, Required: true, Doc: "LogQL stream selector."},
	{Name: "by", Kind: config.KindStrings, Pattern: labelNamePattern, Doc: "Groups (default none)."},
	{Name: "presets", Kind: config.KindEnumList, Enum: RedactionPresets(), Doc: "Well-known secret patterns."},
	{Name: "patterns", Kind: config.KindObjectList, Doc: "Your own patterns, RE2 as Loki uses.", Fields: []config.Field{
		{Name: "name", Kind: config.KindString, Required: true, Pattern: `^[a-z0-9][a-z0-9_.-]*$`},
		{Name: "regex", Kind: config.KindString, Required: true},
	}},
	{Name: "max_matches", Kind: config.KindInt, Min: config.Bound(0), Doc: "At most this many matching lines per pattern (default 0)."},
}

// redactionPresets are well-known secret shapes. Each is an RE2 regular
// expression matched, unanchored, against the raw line as Loki stores it
// (JSON escaping included).
var redactionPresets = map[string]string{
	"aws_access_key":      `AKIA[0-9A-Z]{16}`,
	"bearer_token":        `(?i)bearer [a-z0-9._-]{20,}`,
	"password_assignment": `(?i)password\s*[=:]\s*\S+`,
	"private_key_block":   `-----BEGIN [A-Z ]*PRIVATE KEY-----`,
	"jwt":                 `eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`,
	"email":               `[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`,
}

// RedactionPresets lists the preset names, sorted.
func RedactionPresets() []string {
	var names []string
	for n := range redactionPresets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LogRedactionCheck counts lines that match secret patterns: at most
// max_matches per pattern (and group). It reports counts only: the lines
// themselves never leave Loki, so no secret can reach a report.
type LogRedactionCheck struct {
	window     time.Duration
	by         []string
	maxMatches float64
	patterns   []pattern
	totalQ     string // tells "no matches" from "no lines at all"
}

type pattern struct {
	name, regex, query string
}

var patternNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]*$`)

func buildLogRedaction(b *config.Budget, f *config.Fields) Check {
	c := &LogRedactionCheck{window: b.Window}
	sel, _ := readStreamSelector(f)
	c.by = readLogBy(f, nil)
	if v, ok := f.Int("max_matches"); ok {
		if v < 0 {
			f.Errorf("max_matches", "max_matches cannot be negative")
		}
		c.maxMatches = float64(v)
	}
	seen := map[string]bool{}
	firstPreset := map[string]int{}
	if names, ok := f.Strings("presets"); ok {
		if len(names) == 0 && !f.Has("patterns") {
			f.Errorf("presets", "the list is empty: name a preset (%s) or set patterns", joinNames(RedactionPresets()))
		}
		for i, n := range names {
			re, ok := redactionPresets[n]
			if !ok {
				f.Errorf("presets", "unknown preset %q (known: %s)", n, joinNames(RedactionPresets()))
				continue
			}
			if j, dup := firstPreset[n]; dup {
				f.ErrorfTwice("presets", j, i, "preset %q listed twice", n)
				continue
			}
			firstPreset[n] = i
			seen[n] = true
			c.patterns = append(c.patterns, pattern{name: n, regex: re})
		}
	}
	if list, ok := f.List("patterns"); ok {
		if len(list) == 0 && len(c.patterns) == 0 {
			f.Errorf("patterns", "the list is empty: add {name, regex} entries or use presets")
		}
		for _, p := range list {
			name, okName := p.String("name")
			re, okRE := p.String("regex")
			p.Require("name", "regex")
			p.Done("name", "regex")
			if okName && !patternNameRE.MatchString(name) {
				p.Errorf("name", "invalid pattern name %q: use lower-case letters, digits, '_', '.' and '-'", name)
				continue
			}
			if okName && seen[name] {
				p.Errorf("name", "pattern name %q is used twice (presets included)", name)
				continue
			}
			if okRE {
				if _, err := regexp.Compile(re); err != nil {
					p.Errorf("regex", "invalid regular expression (RE2, as Loki uses): %s", cutQuoted(err.Error()))
					continue
				}
			}
			if okName && okRE {
				seen[name] = true
				c.patterns = append(c.patterns, pattern{name: name, regex: re})
			}
		}
	}
	if !f.Has("presets") && !f.Has("patterns") {
		f.Errorf("presets", "no pattern: set presets (%s) or patterns: [{name, regex}]", joinNames(RedactionPresets()))
	}
	for i := range c.patterns {
		p := &c.patterns[i]
		p.query = fmt.Sprintf("sum%s(count_over_time(%s))", byClause(c.by...), logRange(sel, "|~ "+logqlString(p.regex), c.window))
	}
	c.totalQ = fmt.Sprintf("sum(count_over_time(%s))", logRange(sel, "", c.window))
	return c
}

func joinNames(names []string) string {
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// Queries implements Check.
func (c *LogRedactionCheck) Queries() []Query {
	var qs []Query
	for _, p := range c.patterns {
		qs = append(qs, Query{Lang: "logql", Text: p.query})
	}
	return append(qs, Query{Lang: "logql", Text: c.totalQ, Note: "only when no pattern matched: no lines at all is missing data"})
}

// Evaluate implements Check.
func (c *LogRedactionCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	ev := Evaluation{}
	matched := false
	limit := F(c.maxMatches)
	for _, p := range c.patterns {
		vec, err := env.Loki.Query(ctx, p.query, env.At)
		if err != nil {
			return Evaluation{}, err
		}
		if err := foreignLabels("loki", p.query, vec, c.by...); err != nil {
			return Evaluation{}, err
		}
		sortVector(vec)
		if len(vec) == 0 {
			ev.Results = append(ev.Results, Result{Subject: p.name, Labels: map[string]string{}, Value: F(0), Unit: "lines", Limit: limit, Op: "<="})
			continue
		}
		matched = true
		for _, s := range vec {
			r := Result{Subject: p.name, Labels: labelMap(s.Metric), Unit: "lines"}
			if note := countProblem(float64(s.Value), "lines", ""); note != "" {
				judgeImpossible(&r, float64(s.Value), note)
				ev.Results = append(ev.Results, r)
				continue
			}
			Limits{Max: limit}.Judge(&r, float64(s.Value))
			ev.Results = append(ev.Results, r)
		}
	}
	if !matched {
		total, err := env.Loki.Query(ctx, c.totalQ, env.At)
		if err == nil {
			err = foreignLabels("loki", c.totalQ, total)
		}
		if err != nil {
			return Evaluation{}, err
		}
		if len(total) == 0 {
			return Evaluation{Missing: fmt.Sprintf("no log lines in the last %s", promDuration(c.window))}, nil
		}
	}
	var bad, nan, impossible []string
	for _, r := range ev.Results {
		switch {
		case r.Status == Pass:
		case r.Status == Error && !math.IsNaN(*r.Value):
			impossible = append(impossible, r.Subject+FormatLabels(r.Labels)+": "+r.Note)
		case r.Status == Error:
			nan = append(nan, r.Subject+FormatLabels(r.Labels))
		default:
			bad = append(bad, fmt.Sprintf("%s%s: %s", r.Subject, FormatLabels(r.Labels), FormatValue(*r.Value, "lines")))
		}
	}
	switch {
	case len(nan) > 0 && len(bad) > 0:
		ev.Message = fmt.Sprintf("lines matching secret patterns: %s (matched text is never shown); the source returned NaN for %s", joinNames(bad), joinNames(nan))
	case len(nan) > 0:
		ev.Message = fmt.Sprintf("the source returned NaN as the count of matching lines of %s: it cannot be judged", joinNames(nan))
	case len(bad) == 0:
		ev.Message = fmt.Sprintf("no more than %s matching lines for each of %d patterns", FormatValue(c.maxMatches, "lines"), len(c.patterns))
		if c.maxMatches == 0 {
			ev.Message = fmt.Sprintf("no line matches any of %d secret patterns", len(c.patterns))
		}
	default:
		ev.Message = fmt.Sprintf("lines matching secret patterns: %s (matched text is never shown)", joinNames(bad))
	}
	if len(impossible) > 0 {
		// Before anything else: an impossible count is why the budget
		// is an error, whatever the other patterns found.
		msg := strings.Join(impossible, "; ")
		if len(nan) > 0 || len(bad) > 0 {
			msg += "; " + ev.Message
		}
		ev.Message = msg
	}
	return ev, nil
}
