package checks

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/grafana"
	"github.com/secflow/secflow-budget/internal/logql"
	"github.com/secflow/secflow-budget/internal/sources"
)

var dashboardsFields = []config.Field{
	{Name: "files", Kind: config.KindStrings, Required: true, Doc: "Grafana dashboard JSON files, globs relative to the budgets file."},
	{Name: "require_data", Kind: config.KindBool, Doc: "Each panel target must return at least one series at the evaluation time (default true); false only parses them."},
}

// maxDashboardBytes bounds a dashboard file read at validation.
const maxDashboardBytes = 16 << 20

// maxDashboardExpandedBytes bounds the panel expressions of one dashboard
// once its variables are substituted: grafana.Interpolate bounds one
// expression, but a file of many small targets each naming a long
// variable would still expand to gigabytes.
const maxDashboardExpandedBytes = 64 << 20

// DashboardsCheck holds that every Prometheus and Loki target of the
// dashboards' panels parses once Grafana's variables are substituted
// (their defaults), and, with require_data, returns at least one series
// at the evaluation time. The files are read and the expressions parsed
// when the budgets file is loaded; a target that does not parse is a
// failing result (naming the panel), not a configuration error, since the
// dashboards are what the budget judges.
//
// PromQL is parsed with Prometheus' parser. LogQL is parsed with
// internal/logql, which knows the subset budgets generate: a LogQL target
// outside it is sent as written to a live Loki (which then decides whether
// it is valid), and is an error result offline ("unsupported by the
// offline evaluator"), never a failure for a query Loki would accept.
type DashboardsCheck struct {
	requireData bool
	targets     []*dashTarget
	needs       string
}

// dashTarget is one panel target, read and parsed at load time.
type dashTarget struct {
	file    string // as matched by the glob, relative to the budgets file
	subject string // DASHBOARD / PANEL / REFID
	lang    string // "promql" or "logql"
	// problem is why the target fails without being queried: an
	// unknown variable, an expression that does not parse.
	problem string
	// query is the data query (the expression itself; for a LogQL log
	// query, its lines counted over the dashboard's range); liveOnly
	// when internal/logql cannot evaluate it, so only a live Loki can.
	query    string
	liveOnly string // why offline cannot evaluate it
	// probes are what the expression reads, each with the query that
	// says whether it has data: asked only when query returns nothing,
	// to name the metrics (or log streams) that have none.
	probes []dashProbe
}

type dashProbe struct {
	name  string // the selector as written in the expression
	query string
}

func buildDashboards(b *config.Budget, f *config.Fields) Check {
	c := &DashboardsCheck{requireData: true}
	if v, ok := f.Bool("require_data"); ok {
		c.requireData = v
	}
	if !f.Require("files") {
		return c
	}
	globs, ok := f.Strings("files")
	if !ok {
		return c
	}
	if len(globs) == 0 {
		f.Errorf("files", "no files: list the dashboard JSON files (globs) to check")
		return c
	}
	base := filepath.Dir(f.File())
	seen := map[string]bool{}
	for i, g := range globs {
		pattern := g
		if !filepath.IsAbs(pattern) {
			pattern = filepath.Join(base, g)
		}
		matches, err := filepath.Glob(pattern)
		if err != nil {
			f.ErrorfItem("files", i, "%q is not a valid glob: %v", g, err)
			continue
		}
		if len(matches) == 0 {
			dir := base
			if abs, err := filepath.Abs(base); err == nil {
				dir = abs
			}
			f.ErrorfItem("files", i, "%q matches no file (files are relative to the budgets file's directory, %s)", g, dir)
			continue
		}
		sort.Strings(matches)
		for _, m := range matches {
			if seen[m] {
				continue
			}
			seen[m] = true
			shown := m
			if !filepath.IsAbs(g) {
				if rel, err := filepath.Rel(base, m); err == nil {
					shown = filepath.ToSlash(rel)
				}
			}
			c.readDashboard(f, i, b, m, shown)
		}
	}
	c.uniqueSubjects()
	c.needs = c.sourcesNeeded()
	return c
}

// readDashboard reads one dashboard file and plans its targets.
// Problems are recorded at item i of files, the glob that matched it.
func (c *DashboardsCheck) readDashboard(f *config.Fields, i int, b *config.Budget, path, shown string) {
	fi, err := os.Stat(path)
	switch {
	case err == nil && fi.IsDir():
		f.ErrorfItem("files", i, "%s is a directory, not a dashboard JSON file", shown)
		return
	case err == nil && !fi.Mode().IsRegular():
		// A FIFO or a device would block or never end.
		f.ErrorfItem("files", i, "%s is not a regular file", shown)
		return
	}
	data, err := readAtMost(path, maxDashboardBytes+1)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f.ErrorfItem("files", i, "%s: no such file", shown)
		return
	case err != nil:
		f.ErrorfItem("files", i, "%s: %v", shown, err)
		return
	case len(data) > maxDashboardBytes:
		f.ErrorfItem("files", i, "%s: larger than %d MiB: not a dashboard", shown, maxDashboardBytes>>20)
		return
	}
	d, err := grafana.Load(data)
	if err != nil {
		f.ErrorfItem("files", i, "%s: %v", shown, err)
		return
	}
	title := d.Title
	if title == "" {
		title = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	rng := d.Range
	if rng <= 0 {
		rng = b.Window
	}
	iv := grafana.IntervalsFor(rng)
	expanded := 0
	for _, t := range d.Targets {
		dt := &dashTarget{file: shown, subject: title + " / " + t.Panel + " / " + t.RefID}
		c.targets = append(c.targets, dt)
		dt.lang = "promql"
		if t.Datasource == grafana.Loki {
			dt.lang = "logql"
		}
		if t.Problem != "" {
			dt.problem = t.Problem
			continue
		}
		expr, err := d.Interpolate(t.Expr, iv)
		if err != nil {
			dt.problem = err.Error()
			continue
		}
		if expanded += len(expr); expanded > maxDashboardExpandedBytes {
			f.ErrorfItem("files", i, "%s: the panel expressions with the dashboard's variables substituted add up to more than %d MiB: not checked", shown, maxDashboardExpandedBytes>>20)
			return
		}
		if dt.lang == "promql" {
			dt.planPromQL(expr)
		} else {
			dt.planLogQL(expr, rng)
		}
	}
}

// planPromQL parses a Prometheus target and lists its selectors.
func (t *dashTarget) planPromQL(expr string) {
	if _, msg := promqlBounds(expr); msg != "" {
		t.problem = "invalid PromQL: " + msg
		return
	}
	e, err := newParser().ParseExpr(expr)
	if err != nil {
		var perrs parser.ParseErrors
		if errors.As(err, &perrs) && len(perrs) > 0 {
			err = &perrs[0] // "1:12: parse error: ...": where in the substituted expression
		}
		t.problem = "invalid PromQL: " + cutQuoted(err.Error())
		return
	}
	switch e.Type() {
	case parser.ValueTypeVector, parser.ValueTypeScalar:
	default:
		t.problem = fmt.Sprintf("the expression is a %s: a panel query must give an instant vector or a scalar", typeName(e.Type()))
		return
	}
	t.query = expr
	seen := map[string]bool{}
	parser.Inspect(e, func(n parser.Node, path []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.String()
		q := "count(" + name + ")"
		if len(path) > 0 {
			if ms, ok := path[len(path)-1].(*parser.MatrixSelector); ok {
				q = "count(count_over_time(" + ms.String() + "))"
			}
		}
		if !seen[q] {
			seen[q] = true
			t.probes = append(t.probes, dashProbe{name: name, query: q})
		}
		return nil
	})
}

// planLogQL parses a Loki target: a metric query as it is, a log query
// (a stream selector and pipeline) as the count of its lines over the
// dashboard's range. What internal/logql refuses as outside its subset
// ("unsupported: ...") only a live Loki can judge; any other error is one
// Loki gives too, and fails the target.
func (t *dashTarget) planLogQL(expr string, rng time.Duration) {
	q, err := logql.Parse(expr)
	query := expr
	if err != nil && strings.HasPrefix(strings.TrimSpace(expr), "{") {
		const prefix = "count_over_time("
		query = prefix + expr + " [" + promDuration(rng) + "])"
		q, err = logql.Parse(query)
		var pe *logql.ParseError
		if errors.As(err, &pe) && pe.Line == 1 && pe.Col > len(prefix) {
			// Where in the expression as the dashboard has it.
			moved := *pe
			moved.Col -= len(prefix)
			err = &moved
		}
	}
	t.query = query
	if err != nil {
		var pe *logql.ParseError
		if errors.As(err, &pe) && strings.HasPrefix(pe.Msg, "unsupported") {
			t.liveOnly = "unsupported by the offline evaluator (" + cutQuoted(err.Error()) + ")"
		} else {
			t.problem = "invalid LogQL: " + cutQuoted(err.Error())
		}
		return
	}
	sel := streamSelector(q.Matchers())
	t.probes = []dashProbe{{name: sel, query: "sum(count_over_time(" + sel + "[" + promDuration(q.Range()) + "]))"}}
}

// uniqueSubjects tells apart targets whose dashboard, panel and refId
// read the same (two panels with one title): results are matched by
// subject (waivers, baselines).
func (c *DashboardsCheck) uniqueSubjects() {
	count := map[string]int{}
	for _, t := range c.targets {
		count[t.subject]++
	}
	n := map[string]int{}
	for _, t := range c.targets {
		if count[t.subject] > 1 {
			s := t.subject
			n[s]++
			t.subject = fmt.Sprintf("%s #%d", s, n[s])
		}
	}
}

func (c *DashboardsCheck) sourcesNeeded() string {
	if !c.requireData {
		return ""
	}
	var needs []string
	for _, lang := range []string{"promql", "logql"} {
		if slices.ContainsFunc(c.targets, func(t *dashTarget) bool { return t.problem == "" && t.lang == lang }) {
			needs = append(needs, map[string]string{"promql": "prometheus", "logql": "loki"}[lang])
		}
	}
	return strings.Join(needs, ",")
}

// Needs is the sources the targets read: "prometheus", "loki", both
// ("prometheus,loki"), or none without require_data.
func (c *DashboardsCheck) Needs() string { return c.needs }

// Queries implements Check: the data query of each target that parses,
// then the probes asked only for a target without data. A LogQL query
// outside internal/logql's subset is left out: only a live Loki can
// answer it, and a snapshot cannot record it.
func (c *DashboardsCheck) Queries() []Query {
	if !c.requireData {
		return nil
	}
	var qs, probes []Query
	seen := map[string]bool{}
	for _, t := range c.targets {
		if t.problem != "" || t.liveOnly != "" || seen[t.lang+t.query] {
			continue
		}
		seen[t.lang+t.query] = true
		qs = append(qs, Query{Lang: t.lang, Text: t.query})
	}
	for _, t := range c.targets {
		if t.problem != "" || t.liveOnly != "" {
			continue
		}
		for _, p := range t.probes {
			if !seen[t.lang+p.query] {
				seen[t.lang+p.query] = true
				probes = append(probes, Query{Lang: t.lang, Text: p.query, Note: "only when a panel target returns no series"})
			}
		}
	}
	return append(qs, probes...)
}

// Evaluate implements Check.
func (c *DashboardsCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	ev := Evaluation{}
	if len(c.targets) == 0 {
		return Evaluation{Missing: "the dashboards have no Prometheus or Loki panel target with an expression"}, nil
	}
	for _, t := range c.targets {
		r := Result{Subject: t.subject, Labels: map[string]string{}, Value: F(0), Status: Fail}
		series := -1
		switch {
		case t.problem != "":
			r.Note = t.problem
		case !c.requireData && t.liveOnly != "":
			r.Value, r.Status = nil, Error
			r.Note = "LogQL " + t.liveOnly + "; with require_data: false no Loki is asked, so it is not checked"
		case !c.requireData:
			r.Value, r.Status = F(1), Pass
		case t.liveOnly != "" && env.Offline:
			r.Value, r.Status = nil, Error
			r.Note = "LogQL " + t.liveOnly + ": check it against a live Loki"
		default:
			n, note, err := t.evaluate(ctx, env)
			if err != nil {
				return Evaluation{}, err
			}
			series = n
			if n > 0 {
				r.Value, r.Status = F(1), Pass
			}
			r.Note = note
		}
		r.Extra = append(r.Extra, KV{Key: "file", Value: t.file})
		if series >= 0 {
			r.Extra = append(r.Extra, KV{Key: "series", Value: float64(series)})
		}
		ev.Results = append(ev.Results, r)
	}
	ev.Remessage = c.message
	ev.Message = c.message(ev.Results)
	return ev, nil
}

// message counts the targets that parse (and have data) and names the
// first that does not, with its file and why. It is made again after
// waivers: a waived target is counted apart, never named as failing.
func (c *DashboardsCheck) message(rs []Result) string {
	var failed []string
	ok, undecided, waived := 0, 0, 0
	for _, r := range rs {
		switch r.Status {
		case Pass:
			ok++
		case Error:
			undecided++
		case Waived:
			waived++
		default: // fail, or warn with severity: warning
			file := ""
			for _, kv := range r.Extra {
				if kv.Key == "file" {
					file, _ = kv.Value.(string)
				}
			}
			why := r.Note
			if why == "" && r.RegressionLimit != "" {
				why = "regressed past " + r.RegressionLimit
			}
			failed = append(failed, fmt.Sprintf("%s (%s): %s", r.Subject, file, why))
		}
	}
	what := "parse and have data"
	if !c.requireData {
		what = "parse"
	}
	msg := fmt.Sprintf("%d/%d panel targets %s", ok, len(rs), what)
	if undecided > 0 {
		msg += fmt.Sprintf(", %d not decided", undecided)
	}
	if waived > 0 {
		msg += fmt.Sprintf(", %d waived", waived)
	}
	if len(failed) > 0 {
		msg += "; " + failed[0]
		if len(failed) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(failed)-1)
		}
	}
	return msg
}

// evaluate runs a target's data query: the number of series it returned
// and, for none, a note naming the selectors without data. A query the
// source refuses fails the target; a source that cannot answer fails the
// budget (the error).
func (t *dashTarget) evaluate(ctx context.Context, env Env) (int, string, error) {
	src, lang := sources.PromQL(env.Prometheus), "PromQL"
	if t.lang == "logql" {
		src, lang = env.Loki, "LogQL"
	}
	if src == nil {
		return 0, "", fmt.Errorf("no %s source to run the panel query of %s", lang, t.subject)
	}
	vec, err := src.Query(ctx, t.query, env.At)
	if err != nil {
		if sources.KindOf(err) == sources.BadQuery {
			return 0, fmt.Sprintf("invalid %s: the source refused the query: %s", lang, cutQuoted(err.Error())), nil
		}
		return 0, "", err
	}
	if len(vec) > 0 {
		return len(vec), "", nil
	}
	var empty []string
	for _, p := range t.probes {
		v, err := src.Query(ctx, p.query, env.At)
		if err != nil {
			if sources.KindOf(err) == sources.BadQuery {
				continue
			}
			return 0, "", err
		}
		if vectorTotal(v) == 0 {
			empty = append(empty, p.name)
		}
	}
	switch {
	case len(empty) > 0 && t.lang == "logql":
		return 0, "no data: no log lines in " + strings.Join(empty, ", "), nil
	case len(empty) > 0:
		return 0, "no data: no series for " + strings.Join(empty, ", "), nil
	case len(t.probes) > 0:
		return 0, "no data: the query returns no series, though each of its selectors has data (a filter, a join or a label removes every series)", nil
	}
	return 0, "no data: the query returns no series", nil
}

// vectorTotal sums a count() answer: 0 when it is empty.
func vectorTotal(v model.Vector) float64 {
	total := 0.0
	for _, s := range v {
		total += float64(s.Value)
	}
	return total
}
