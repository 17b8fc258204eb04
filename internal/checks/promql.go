package checks

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/secflow/secflow-budget/internal/config"
)

func newParser() parser.Parser { return parser.NewParser(parser.Options{}) }

// checkPromQL parses expr and records a positioned error under key when it
// does not parse, is too large to parse, or is not what an instant query
// of a budget can judge: an instant vector or a scalar. A range vector
// (up[5m]) or a string would only fail at the source.
func checkPromQL(f *config.Fields, key, expr string) bool {
	if off, msg := promqlBounds(expr); msg != "" {
		f.ErrorfAtOffset(key, off, "%s", msg)
		return false
	}
	e, err := newParser().ParseExpr(expr)
	if err != nil {
		recordParseError(f, key, err)
		return false
	}
	switch t := e.Type(); t {
	case parser.ValueTypeVector, parser.ValueTypeScalar:
		return true
	case parser.ValueTypeMatrix:
		f.Errorf(key, "the expression is a range vector: a budget judges an instant vector or a scalar (wrap it in a function such as rate(...) or max_over_time(...))")
	default:
		f.Errorf(key, "the expression is a %s: a budget judges an instant vector or a scalar", t)
	}
	return false
}

// Bounds on a PromQL expression, checked before it is parsed. Prometheus'
// parser works in time quadratic in the depth of the expression tree
// (each node asks its children for their type, again and again): 200,000
// terms of `up + up + ...` took minutes. Real budget expressions are a few
// hundred bytes with a handful of operators.
const (
	// MaxPromQLBytes is the longest expression accepted.
	MaxPromQLBytes = 64 << 10
	// MaxPromQLDepth is the deepest nesting of (), [] and {} accepted.
	MaxPromQLDepth = 256
	// MaxPromQLOperators is the most operators (+ - * / % ^, comparisons,
	// and, or, unless, atan2) one expression may hold.
	MaxPromQLOperators = 1024
)

// promqlBounds says whether expr is within the bounds, and if not, the
// byte offset where it went past them. It skips strings and comments and
// does not count inside label matchers; it counts generously otherwise
// (the - of 1e-3 is an operator here), which the bounds allow for.
func promqlBounds(expr string) (offset int, msg string) {
	if len(expr) > MaxPromQLBytes {
		return 0, fmt.Sprintf("the expression is %d bytes long: the limit is %d (64KiB)", len(expr), MaxPromQLBytes)
	}
	depth, braces, ops := 0, 0, 0
	for i := 0; i < len(expr); i++ {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			j := i + 1
			for ; j < len(expr) && expr[j] != c; j++ {
				if expr[j] == '\\' && c != '`' {
					j++
				}
			}
			i = j
		case c == '#':
			for i < len(expr) && expr[i] != '\n' {
				i++
			}
		case c == '(' || c == '[' || c == '{':
			if depth++; depth > MaxPromQLDepth {
				return i, fmt.Sprintf("the expression nests (), [] and {} more than %d deep", MaxPromQLDepth)
			}
			if c == '{' {
				braces++
			}
		case c == ')' || c == ']' || c == '}':
			depth = max(depth-1, 0)
			if c == '}' {
				braces = max(braces-1, 0)
			}
		case braces > 0:
		case strings.IndexByte("+-*/%^=!<>", c) >= 0:
			if i+1 < len(expr) && expr[i+1] == '=' {
				i++ // ==, !=, >=, <=: one operator
			}
			if ops++; ops > MaxPromQLOperators {
				return i, fmt.Sprintf("the expression has more than %d operators", MaxPromQLOperators)
			}
		case isWordStart(expr, i):
			for _, w := range []string{"and", "or", "unless", "atan2"} {
				if strings.HasPrefix(expr[i:], w) && !isWordByte(expr, i+len(w)) {
					if ops++; ops > MaxPromQLOperators {
						return i, fmt.Sprintf("the expression has more than %d operators", MaxPromQLOperators)
					}
				}
			}
		}
	}
	return 0, ""
}

func isWordByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return c == '_' || c == ':' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isWordStart(s string, i int) bool { return isWordByte(s, i) && !isWordByte(s, i-1) }

func recordParseError(f *config.Fields, key string, err error) {
	var perrs parser.ParseErrors
	if errors.As(err, &perrs) && len(perrs) > 0 {
		pe := perrs[0]
		f.ErrorfAtOffset(key, int(pe.PositionRange.Start), "invalid PromQL: %s", cutQuoted(pe.Err.Error()))
		return
	}
	f.Errorf(key, "invalid PromQL: %s", cutQuoted(err.Error()))
}

// maxQuoted bounds what one message quotes of its input: a regular
// expression that nests too deeply may be 64KiB long, and the position
// already says where it is.
const maxQuoted = 40

// cutQuoted shortens each span in backquotes or double quotes longer
// than maxQuoted to its start, an ellipsis and its length.
func cutQuoted(msg string) string {
	var b strings.Builder
	for i := 0; i < len(msg); {
		c := msg[i]
		if c != '`' && c != '"' {
			b.WriteByte(c)
			i++
			continue
		}
		end := i + 1
		for end < len(msg) && msg[end] != c {
			if c == '"' && msg[end] == '\\' {
				end++
			}
			end++
		}
		inner := msg[i+1 : min(end, len(msg))]
		if len(inner) <= maxQuoted {
			b.WriteString(msg[i:min(end+1, len(msg))])
		} else {
			cut := maxQuoted
			for cut > 0 && !utf8.RuneStart(inner[cut]) {
				cut--
			}
			fmt.Fprintf(&b, "%c%s…%c (%d bytes)", c, inner[:cut], c, len(inner))
		}
		i = end + 1
	}
	return b.String()
}

var metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// readSelector reads an optional selector such as {job="worker"} and returns
// its matchers. name, when set, is the metric the selector is applied to,
// so that a selector may consist of empty-matching matchers only.
func readSelector(f *config.Fields, key, name string) ([]*labels.Matcher, bool) {
	sel, ok := f.String(key)
	if !ok {
		return nil, true
	}
	sel = strings.TrimSpace(sel)
	if sel == "" || sel == "{}" {
		return nil, true
	}
	if off, msg := promqlBounds(sel); msg != "" {
		f.ErrorfAtOffset(key, off, "%s", strings.Replace(msg, "expression", "selector", 1))
		return nil, false
	}
	if !strings.HasPrefix(sel, "{") {
		f.Errorf(key, "invalid selector %s: want label matchers in braces, e.g. {job=\"worker\"}", cutQuoted(strconv.Quote(sel)))
		return nil, false
	}
	ms, err := newParser().ParseMetricSelector(name + sel)
	if err != nil {
		var perrs parser.ParseErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			f.ErrorfAtOffset(key, int(perrs[0].PositionRange.Start)-len(name), "invalid selector: %s", cutQuoted(perrs[0].Err.Error()))
		} else {
			f.Errorf(key, "invalid selector: %s", cutQuoted(err.Error()))
		}
		return nil, false
	}
	var out []*labels.Matcher
	for _, m := range ms {
		if m.Name == model.MetricNameLabel && name != "" {
			if m.Type == labels.MatchEqual && m.Value == name {
				continue
			}
			f.Errorf(key, "the selector must not match on __name__ here: the metric is set by another field")
			return nil, false
		}
		out = append(out, m)
	}
	return out, true
}

// selector renders name{matchers...}; extra matchers come first.
func selector(name string, ms []*labels.Matcher, extra ...*labels.Matcher) string {
	all := append(append([]*labels.Matcher{}, extra...), ms...)
	parts := make([]string, len(all))
	for i, m := range all {
		parts[i] = m.String()
	}
	if len(parts) == 0 {
		return name
	}
	return name + "{" + strings.Join(parts, ", ") + "}"
}

// readMetricNames reads a list of metric names.
func readMetricNames(f *config.Fields, key string) ([]string, bool) {
	names, ok := f.Strings(key)
	if !ok {
		return nil, false
	}
	first := make(map[string]int, len(names))
	for i, n := range names {
		if !metricNameRE.MatchString(n) {
			f.Errorf(key, "invalid metric name %q", n)
			return nil, false
		}
		if j, dup := first[n]; dup {
			f.ErrorfTwice(key, j, i, "metric %q listed twice", n)
			return nil, false
		}
		first[n] = i
	}
	return names, true
}

// readLabelNames reads `by`.
func readLabelNames(f *config.Fields, key string) []string {
	names, ok := f.Strings(key)
	if !ok {
		return nil
	}
	first := map[string]int{}
	for i, n := range names {
		if !model.LegacyValidation.IsValidLabelName(n) {
			f.ErrorfItem(key, i, "invalid label name %q", n)
			return nil
		}
		if j, dup := first[n]; dup {
			f.ErrorfTwice(key, j, i, "label %q listed twice", n)
			return nil
		}
		first[n] = i
	}
	return names
}

// byClause renders " by (a, b) " or "" for no labels, to follow an
// aggregation operator: "sum"+byClause(...)+"(...)".
func byClause(labels ...string) string {
	var ls []string
	for _, l := range labels {
		if l != "" {
			ls = append(ls, l)
		}
	}
	if len(ls) == 0 {
		return ""
	}
	return fmt.Sprintf(" by (%s) ", strings.Join(ls, ", "))
}

// labelMap turns a series' labels into a plain map.
func labelMap(m model.Metric) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = string(v)
	}
	return out
}

// groupKey identifies a group by the values of its `by` labels.
func groupKey(m model.Metric, by []string) string {
	var b strings.Builder
	for _, l := range by {
		b.WriteString(string(m[model.LabelName(l)]))
		b.WriteByte(0xff)
	}
	return b.String()
}

// sortVector orders samples by their labels so that results are stable.
func sortVector(v model.Vector) {
	sort.Slice(v, func(i, j int) bool { return v[i].Metric.Before(v[j].Metric) })
}

// promDuration renders a window the way PromQL writes it (1h, 30m, 90s).
func promDuration(d interface{ Seconds() float64 }) string {
	return model.Duration(int64(d.Seconds()*1000) * int64(1e6)).String()
}
