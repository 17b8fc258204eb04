package checks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint/validations"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
)

var endpointFields = []config.Field{
	{Name: "url", Kind: config.KindURL, Required: true, Doc: "The /metrics URL, without credentials."},
	{Name: "max_bytes", Kind: config.KindSize, Doc: "Exposition size, uncompressed."},
	{Name: "max_series", Kind: config.KindNumber, Min: config.Bound(0), Doc: "Series as Prometheus stores them."},
	{Name: "require_auth", Kind: config.KindBool, Doc: "An anonymous GET must get 401 or 403."},
	{Name: "lint", Kind: config.KindBool, Doc: "promlint problems are warnings."},
}

// maxLintDetails caps the promlint problems a report lists.
const maxLintDetails = 10

// EndpointCheck GETs a /metrics URL and holds its exposition within limits:
// its size, its number of series, that an anonymous request is refused, and
// what promlint says of it (warnings).
type EndpointCheck struct {
	name        string // the budget's: endpoints/NAME.prom offline
	url         string
	shown       string // url without userinfo (there is none: refused at load)
	maxBytes    *float64
	maxSeries   *float64
	requireAuth bool
	lint        bool
	onMissing   config.OnMissing
}

func buildEndpoint(b *config.Budget, f *config.Fields) Check {
	c := &EndpointCheck{name: b.Name, onMissing: b.OnMissing}
	if f.Require("url") {
		if raw, ok := f.String("url"); ok {
			c.url, c.shown = raw, secret.URL(raw)
			if err := config.CheckURL(raw); err != nil {
				f.Errorf("url", "%v", err)
			} else if u, _ := url.Parse(raw); u.User != nil {
				f.Errorf("url", "credentials do not belong in the URL: endpoint budgets send the Prometheus source's credentials "+
					"(sources.prometheus: bearer_token_file or bearer_token_env, basic_auth, tls)")
			}
		}
	}
	if f.Has("max_bytes") {
		if v, ok := f.Size("max_bytes"); ok {
			c.maxBytes = F(v)
		}
	}
	if f.Has("max_series") {
		if v, ok := f.Float("max_series"); ok {
			if v < 0 {
				f.Errorf("max_series", "a number of series cannot be negative")
			}
			c.maxSeries = F(v)
		}
	}
	c.requireAuth, _ = f.Bool("require_auth")
	c.lint, _ = f.Bool("lint")
	if !f.Has("max_bytes") && !f.Has("max_series") && !c.requireAuth && !c.lint {
		f.Errorf("max_bytes", "nothing to check: set max_bytes, max_series, require_auth: true or lint: true")
	}
	return c
}

// Queries implements Check.
func (c *EndpointCheck) Queries() []Query {
	q := []Query{{Lang: "http", Text: "GET " + c.shown}}
	if c.requireAuth {
		q = append(q, Query{Lang: "http", Text: "GET " + c.shown + " (anonymous)", Note: "without credentials: must be refused with 401 or 403"})
	}
	return q
}

// Evaluate implements Check.
func (c *EndpointCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	if env.Endpoints == nil {
		return Evaluation{}, sources.Errorf(sources.NotConfigured, "endpoint", "no source for /metrics endpoints was configured")
	}
	req := sources.EndpointRequest{Name: c.name, URL: c.url, NeedBody: c.maxSeries != nil || c.lint}
	if c.maxBytes != nil && *c.maxBytes < math.MaxInt64/2 {
		// A body far over max_bytes is not read to its end: that it
		// breaks the limit is all there is to know of its size.
		req.MaxBytes = int64(*c.maxBytes)
	}
	exp, err := env.Endpoints.Fetch(ctx, req)
	if err != nil {
		return Evaluation{}, err
	}
	var ev Evaluation

	size := Result{Subject: "bytes", Unit: "bytes"}
	Limits{Max: c.maxBytes}.judgeOrShow(&size, float64(exp.Size))
	if exp.Cut {
		size.Note = "the body is larger: reading stopped there, past max_bytes"
	}
	ev.Results = append(ev.Results, size)

	series := Result{Subject: "series", Unit: "series"}
	lint := Result{Subject: "lint", Unit: "problems", Op: "<=", WarnLimit: F(0)}
	complete := !exp.Cut && int64(len(exp.Body)) >= exp.Size
	if !complete {
		// Parsing a cut body would report a bogus syntax error. Only a
		// series limit is left undecided; the size says what matters.
		cut := fmt.Sprintf("only the first %s of the body were read", FormatValue(float64(len(exp.Body)), "bytes"))
		if exp.Cut {
			cut = fmt.Sprintf("reading stopped after %s, past max_bytes", FormatValue(float64(exp.Size), "bytes"))
		}
		series.Missing, series.Limit, series.Op = true, c.maxSeries, "<="
		series.Note = "not counted: " + cut
		ev.Notes = append(ev.Notes, "series not counted and not linted: "+cut)
	} else {
		families, err := parseExposition(exp)
		if err != nil {
			return Evaluation{}, sources.Errorf(sources.BadResponse, "endpoint", "%s: %v", c.shown, err)
		}
		n, err := countSeries(families)
		if err != nil {
			return Evaluation{}, sources.Errorf(sources.BadResponse, "endpoint", "%s: %v", c.shown, err)
		}
		Limits{Max: c.maxSeries}.judgeOrShow(&series, float64(n))
		if c.lint {
			problems := lintFamilies(families)
			Limits{WarnMax: F(0)}.Judge(&lint, float64(len(problems)))
			for i, p := range problems {
				if i == maxLintDetails {
					ev.Details = append(ev.Details, fmt.Sprintf("... and %d more promlint problems", len(problems)-maxLintDetails))
					break
				}
				ev.Details = append(ev.Details, fmt.Sprintf("%s: %s", p.Metric, p.Text))
			}
		}
	}
	if complete || c.maxSeries != nil {
		ev.Results = append(ev.Results, series)
	}

	if c.requireAuth {
		anon, err := env.Endpoints.Fetch(ctx, sources.EndpointRequest{Name: c.name, URL: c.url, Anonymous: true})
		if err != nil {
			return Evaluation{}, err
		}
		ev.Results = append(ev.Results, authResult(anon.StatusCode))
	}
	if c.lint && complete {
		ev.Results = append(ev.Results, lint)
	}
	ev.Message = c.message(ev.Results)
	return ev, nil
}

// judgeOrShow judges v against l, or only records it when l has no limit.
func (l Limits) judgeOrShow(r *Result, v float64) {
	if l.Min == nil && l.Max == nil && l.WarnMin == nil && l.WarnMax == nil {
		r.Value, r.Status = F(v), Pass
		return
	}
	l.Judge(r, v)
}

// authResult judges the status an anonymous GET got: only 401 and 403 are
// refusals. A redirect (to a login page, say) is not: Prometheus would
// follow it, and a scraper without credentials must not get metrics.
func authResult(status int) Result {
	r := Result{Subject: "auth", Value: F(float64(status))}
	text := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	if status == http.StatusUnauthorized || status == http.StatusForbidden {
		r.Status, r.Note = Pass, "an anonymous GET is refused: "+text
	} else {
		r.Status, r.Note = Fail, "an anonymous GET got "+text+": want 401 or 403"
	}
	return r
}

// message names the worst result, or sums up a passing endpoint:
// "412.5 kB ≤ 1 MB, 589 series, anonymous GET refused (401), lint clean".
func (c *EndpointCheck) message(rs []Result) string {
	worst, others := headline(rs, c.onMissing)
	w := rs[worst]
	if effectiveStatus(w, c.onMissing) == Pass {
		var parts []string
		for _, r := range rs {
			switch r.Subject {
			case "bytes", "series":
				if r.Value == nil {
					parts = append(parts, r.Subject+": "+r.Note)
					continue
				}
				s := FormatValue(*r.Value, r.Unit)
				if r.Subject == "series" {
					s = FormatPlain(*r.Value, r.Unit) + " series"
				}
				if r.Limit != nil {
					s += " <= " + FormatPlain(*r.Limit, r.Unit)
				}
				parts = append(parts, s)
			case "auth":
				parts = append(parts, fmt.Sprintf("anonymous GET refused (%s)", FormatValue(*r.Value, "")))
			case "lint":
				parts = append(parts, "lint clean")
			}
		}
		return strings.Join(parts, ", ")
	}
	var msg string
	switch {
	case w.Subject == "auth":
		msg = w.Note
	case w.Subject == "lint" && !w.Missing:
		msg = fmt.Sprintf("promlint: %s", countNoun(int(*w.Value), "problem", "problems"))
	case w.Subject == "bytes" && w.Note != "" && !w.Missing:
		msg = DescribeResult(w, c.onMissing) + " (" + w.Note + ")"
	default:
		msg = DescribeResult(w, c.onMissing)
	}
	if others > 0 {
		msg += fmt.Sprintf(" (and %d more not passing)", others)
	}
	return msg
}

func countNoun(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return groupThousands(float64(n)) + " " + many
}

// parseExposition decodes a /metrics body by its content type: Prometheus'
// text format (also when no type is given), OpenMetrics or protobuf.
func parseExposition(exp *sources.Exposition) ([]*dto.MetricFamily, error) {
	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	if ct := strings.TrimSpace(exp.ContentType); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, fmt.Errorf("unreadable Content-Type %q", ct)
		}
		if mt == "text/html" || mt == "application/json" {
			return nil, fmt.Errorf("answered %s, not a metrics exposition: is the URL right?", mt)
		}
		if f := expfmt.ResponseFormat(http.Header{"Content-Type": {ct}}); f != expfmt.FmtUnknown {
			format = f
		}
	}
	dec := expfmt.NewDecoder(bytes.NewReader(exp.Body), format)
	var families []*dto.MetricFamily
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			// The parser quotes the offending text: never shown.
			return nil, fmt.Errorf("the exposition does not parse: %s", secret.Quoted(err.Error()))
		}
		families = append(families, mf)
	}
	// The text decoder hands families out in map order.
	sortFamilies(families)
	return families, nil
}

func sortFamilies(fs []*dto.MetricFamily) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].GetName() < fs[j].GetName() })
}

// countSeries counts the series the families expose as Prometheus stores
// them: one per counter, gauge or untyped metric, per histogram bucket
// (+Inf included) plus _sum and _count, per summary quantile plus _sum and
// _count.
func countSeries(families []*dto.MetricFamily) (int, error) {
	samples, err := expfmt.ExtractSamples(&expfmt.DecodeOptions{}, families...)
	if err != nil {
		return 0, fmt.Errorf("counting series: %v", err)
	}
	return len(samples), nil
}

// lintValidations are promlint's default validations in its order, except
// that its duplicate check, which compares every pair of series with
// reflect.DeepEqual (over half a minute for one 10,000-series family), is
// replaced by lintDuplicates: the same finding in linear time.
var lintValidations = []promlint.Validation{
	validations.LintHelp,
	validations.LintMetricUnits,
	validations.LintCounter,
	validations.LintHistogramSummaryReserved,
	validations.LintMetricTypeInName,
	validations.LintReservedChars,
	validations.LintCamelCase,
	validations.LintUnitAbbreviations,
	lintDuplicates,
}

// lintFamilies lints as promlint.Linter.Lint does: every validation on
// every family, problems sorted by metric and text.
func lintFamilies(families []*dto.MetricFamily) []promlint.Problem {
	var problems []promlint.Problem
	for _, mf := range families {
		for _, v := range lintValidations {
			for _, err := range v(mf) {
				problems = append(problems, promlint.Problem{Metric: mf.GetName(), Text: err.Error()})
			}
		}
	}
	sort.SliceStable(problems, func(i, j int) bool {
		if problems[i].Metric == problems[j].Metric {
			return problems[i].Text < problems[j].Text
		}
		return problems[i].Metric < problems[j].Metric
	})
	return problems
}

// lintDuplicates reports, like promlint's LintDuplicateMetric, one
// "metric not unique" for every series whose label set comes again later
// in the family.
func lintDuplicates(mf *dto.MetricFamily) []error {
	seen := make(map[string]bool, len(mf.GetMetric()))
	var problems []error
	for _, m := range mf.GetMetric() {
		pairs := make([]string, 0, len(m.GetLabel()))
		for _, l := range m.GetLabel() {
			pairs = append(pairs, l.GetName()+"\xff"+l.GetValue())
		}
		sort.Strings(pairs)
		key := strings.Join(pairs, "\xfe")
		if seen[key] {
			problems = append(problems, errors.New("metric not unique"))
		}
		seen[key] = true
	}
	return problems
}
