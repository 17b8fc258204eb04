package grafana

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// variableRE is Grafana's variable syntax: $var, [[var]] or
// [[var:format]], ${var}, ${var.field} or ${var:format}.
var variableRE = regexp.MustCompile(`\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}`)

// Intervals are the values of Grafana's built-in time variables for one
// evaluation.
type Intervals struct {
	// Interval is $__interval (and $__auto).
	Interval time.Duration
	// RateInterval is $__rate_interval.
	RateInterval time.Duration
	// Range is $__range, the dashboard's time range.
	Range time.Duration
}

// DefaultScrapeInterval is the scrape interval Grafana assumes for a
// Prometheus datasource that sets none.
const DefaultScrapeInterval = 15 * time.Second

// DefaultInterval is the $__interval the dashboards budget substitutes:
// what Grafana computes for a panel about 1,000 pixels wide over a few
// hours (the range over the panel's data points, rounded), never below
// the scrape interval.
const DefaultInterval = time.Minute

// IntervalsFor gives the built-in variables for a dashboard range:
// $__interval is DefaultInterval, $__rate_interval Grafana's
// max($__interval + scrape interval, 4 × scrape interval) with a 15s
// scrape interval, $__range the range itself.
func IntervalsFor(rng time.Duration) Intervals {
	return Intervals{
		Interval:     DefaultInterval,
		RateInterval: max(DefaultInterval+DefaultScrapeInterval, 4*DefaultScrapeInterval),
		Range:        rng,
	}
}

// UnknownVariableError is a variable the dashboard does not define, or
// defines without a value to substitute.
type UnknownVariableError struct {
	Name   string
	Reason string // "": not defined
}

func (e *UnknownVariableError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("variable $%s %s", e.Name, e.Reason)
	}
	return fmt.Sprintf("unknown variable $%s: the dashboard's templating defines no such variable", e.Name)
}

// MaxExpandedBytes bounds what Interpolate substitutes into one
// expression: a multi-value variable referenced many times would
// otherwise grow a small expression into gigabytes (the expansion is the
// product of the references and the values' length).
const MaxExpandedBytes = 1 << 20

// Interpolate substitutes the built-in and the dashboard's template
// variables in expr, as Grafana's Prometheus and Loki datasources do
// before they send a query: each variable takes its default (current)
// value; a multi-value or include-All variable is regex-escaped for a
// PromQL/LogQL string and, with several values, an alternation (a|b);
// "All" is the variable's allValue or .*. `${var:format}` applies one of
// Grafana's formats. $1 and the like (label_replace's references) are
// not variables and stay as they are. The first variable that cannot be
// substituted is an *UnknownVariableError; substitutions adding up to
// more than MaxExpandedBytes are an error too.
func (d *Dashboard) Interpolate(expr string, iv Intervals) (string, error) {
	var firstErr error
	expanded := 0
	out := variableRE.ReplaceAllStringFunc(expr, func(m string) string {
		if firstErr != nil {
			return m
		}
		sub := variableRE.FindStringSubmatch(m)
		name, format := sub[1], ""
		switch {
		case sub[2] != "":
			name, format = sub[2], sub[3]
		case sub[4] != "":
			name, format = sub[4], sub[6]
			if sub[5] != "" {
				firstErr = &UnknownVariableError{Name: name, Reason: fmt.Sprintf("with a field path (.%s): not supported", sub[5])}
				return m
			}
		}
		if isDigits(name) {
			return m // a regex group reference, e.g. label_replace's "$1"
		}
		s, err := d.value(name, format, iv)
		if err != nil {
			firstErr = err
			return m
		}
		if expanded += len(s); expanded > MaxExpandedBytes {
			firstErr = fmt.Errorf("the variables substituted into the expression add up to more than %d MiB (the last was $%s)", MaxExpandedBytes>>20, name)
			return m
		}
		return s
	})
	if firstErr != nil {
		return "", firstErr
	}
	return out, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// value is the text one variable reference becomes.
func (d *Dashboard) value(name, format string, iv Intervals) (string, error) {
	if b, ok := builtin(name, iv); ok {
		return b, nil
	}
	for _, v := range d.Vars {
		if v.Name != name {
			continue
		}
		if len(v.Values) == 0 {
			return "", &UnknownVariableError{Name: name, Reason: "has no current value in the dashboard to substitute"}
		}
		return v.format(format)
	}
	return "", &UnknownVariableError{Name: name}
}

// builtin is one of Grafana's global time variables.
func builtin(name string, iv Intervals) (string, bool) {
	ms := func(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }
	switch name {
	case "__interval", "__auto":
		return promDuration(iv.Interval), true
	case "__interval_ms":
		return ms(iv.Interval), true
	case "__rate_interval":
		return promDuration(iv.RateInterval), true
	case "__rate_interval_ms":
		return ms(iv.RateInterval), true
	case "__range":
		// Grafana writes the range in seconds: 21600s.
		return strconv.FormatInt(int64(iv.Range.Seconds()), 10) + "s", true
	case "__range_s":
		return strconv.FormatInt(int64(iv.Range.Seconds()), 10), true
	case "__range_ms":
		return ms(iv.Range), true
	}
	return "", false
}

func promDuration(d time.Duration) string { return model.Duration(d).String() }

// format renders the variable's default value in a Grafana format; ""
// is the Prometheus and Loki datasources' own.
func (v Variable) format(format string) (string, error) {
	vals, texts := v.Values, v.Texts
	if v.isAll() {
		switch format {
		case "text":
			return "All", nil
		}
		if v.AllValue != "" {
			return v.AllValue, nil
		}
		return ".*", nil
	}
	switch format {
	case "":
		if !v.Multi && !v.IncludeAll {
			return promRegularEscape(strings.Join(vals, ",")), nil
		}
		return alternation(vals, promRegexEscape), nil
	case "regex":
		return alternation(vals, regexp.QuoteMeta), nil
	case "pipe":
		return strings.Join(vals, "|"), nil
	case "csv", "raw":
		return strings.Join(vals, ","), nil
	case "text":
		return strings.Join(texts, " + "), nil
	case "glob":
		if len(vals) == 1 {
			return vals[0], nil
		}
		return "{" + strings.Join(vals, ",") + "}", nil
	case "json":
		b, _ := json.Marshal(vals)
		return string(b), nil
	case "singlequote", "doublequote":
		q := map[string]string{"singlequote": "'", "doublequote": `"`}[format]
		parts := make([]string, len(vals))
		for i, s := range vals {
			parts[i] = q + strings.ReplaceAll(s, q, `\`+q) + q
		}
		return strings.Join(parts, ","), nil
	case "percentencode":
		return url.QueryEscape(strings.Join(vals, ",")), nil
	case "queryparam":
		parts := make([]string, len(vals))
		for i, s := range vals {
			parts[i] = "var-" + url.QueryEscape(v.Name) + "=" + url.QueryEscape(s)
		}
		return strings.Join(parts, "&"), nil
	}
	return "", &UnknownVariableError{Name: v.Name, Reason: fmt.Sprintf("with format %q: not one of Grafana's formats (regex, pipe, csv, raw, text, glob, json, singlequote, doublequote, percentencode, queryparam)", format)}
}

func (v Variable) isAll() bool {
	if !v.IncludeAll {
		return false
	}
	for _, s := range v.Values {
		if s == allValue {
			return true
		}
	}
	return len(v.Values) == 1 && len(v.Texts) == 1 && v.Texts[0] == "All" && v.Values[0] == ""
}

func alternation(vals []string, escape func(string) string) string {
	parts := make([]string, len(vals))
	for i, s := range vals {
		parts[i] = escape(s)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, "|") + ")"
}

// promRegularEscape escapes a single value as Grafana's Prometheus
// datasource does: a backslash is doubled, a single quote gets one (for
// a value inside a PromQL string).
func promRegularEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\\'`)
}

// promRegexEscape escapes a value for a regular expression inside a
// PromQL or LogQL double-quoted string, as Grafana's Prometheus
// datasource does: a regex metacharacter gets a backslash, written
// twice so that the string literal keeps one.
func promRegexEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c == '\\':
			b.WriteString(`\\\\`)
		case strings.ContainsRune(`$^*{}[]'+?.()|`, c):
			b.WriteString(`\\`)
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
