package checks

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
)

var latencyFields = []config.Field{
	{Name: "histogram", Kind: config.KindString, Required: true, Pattern: metricNamePattern, Doc: "The histogram's name, without _bucket."},
	{Name: "selector", Kind: config.KindString, Doc: "Label matchers in braces, e.g. {job=\"worker\"}."},
	{Name: "by", Kind: config.KindStrings, Pattern: labelNamePattern, Doc: "One result per group of these labels."},
	{Name: "percentiles", Kind: config.KindDurationMap, Required: true, KeyPattern: percentilePattern, Doc: "Hard limits, e.g. {p95: 300s, p99: 600s}."},
	{Name: "warn", Kind: config.KindDurationMap, KeyPattern: percentilePattern, Doc: "Soft limits, e.g. {p95: 240s}."},
	{Name: "native", Kind: config.KindBool, Doc: "true for a native histogram."},
}

// LatencyCheck holds percentiles of a histogram within limits, computed by
// the engine's histogram_quantile over the window, per `by` group. Beside
// each percentile it reports the bucket it fell in and how many observations
// the window held, so that a reader knows how precise the number is.
type LatencyCheck struct {
	histogram string
	by        []string
	native    bool
	window    time.Duration
	pcts      []percentile
	bucketQ   string // classic: bucket counts; native: observation count
}

type percentile struct {
	name  string // p95
	q     float64
	qText string // 0.95, as written in the query
	limit *float64
	warn  *float64
	query string
}

var percentileRE = regexp.MustCompile(`^p(\d{1,2}(?:\.\d+)?)$`)

func buildLatency(b *config.Budget, f *config.Fields) Check {
	c := &LatencyCheck{window: b.Window}
	if f.Require("histogram") {
		if h, ok := f.String("histogram"); ok {
			if !metricNameRE.MatchString(h) {
				f.Errorf("histogram", "invalid metric name %q", h)
			}
			c.histogram = strings.TrimSuffix(h, "_bucket")
		}
	}
	c.native, _ = f.Bool("native")
	series := c.histogram + "_bucket"
	if c.native {
		series = c.histogram
	}
	ms, _ := readSelector(f, "selector", series)
	c.by = readLabelNames(f, "by")
	for _, l := range c.by {
		if l == "le" {
			f.Errorf("by", "le is added by the check itself; group by other labels")
		}
	}

	// Percentiles are keyed by their quantile, so that p99 and p99.0 are
	// one percentile (and one query), not two.
	byQ := map[string]*percentile{}
	if f.Require("percentiles") {
		if m, ok := f.Map("percentiles"); ok {
			for _, k := range m.Keys() {
				p := readPercentile(m, k)
				if p == nil {
					continue
				}
				if prev := byQ[p.qText]; prev != nil {
					m.ErrorfKey(k, "%s and %s are the same percentile: set its limit once", prev.name, k)
					continue
				}
				if d, ok := m.Duration(k); ok {
					p.limit = F(d.Seconds())
				}
				byQ[p.qText] = p
			}
			if len(m.Keys()) == 0 {
				f.Errorf("percentiles", "no percentiles: set at least one, e.g. {p95: 300s}")
			}
			m.Done()
		}
	}
	if m, ok := f.Map("warn"); ok {
		seen := map[string]string{}
		for _, k := range m.Keys() {
			np := readPercentile(m, k)
			if np == nil {
				continue
			}
			if prev, dup := seen[np.qText]; dup {
				m.ErrorfKey(k, "%s and %s are the same percentile: set its warn limit once", prev, k)
				continue
			}
			seen[np.qText] = k
			p := byQ[np.qText]
			if p == nil {
				p = np
				byQ[np.qText] = p
			}
			if d, ok := m.Duration(k); ok {
				p.warn = F(d.Seconds())
				if p.limit != nil && *p.warn > *p.limit {
					m.Errorf(k, "the warn limit %s is above the hard limit %s: it would never warn", FormatValue(*p.warn, "seconds"), FormatValue(*p.limit, "seconds"))
				}
			}
		}
		m.Done()
	}
	for _, p := range byQ {
		c.pcts = append(c.pcts, *p)
	}
	sort.Slice(c.pcts, func(i, j int) bool { return c.pcts[i].q < c.pcts[j].q })

	sel := selector(series, ms)
	win := promDuration(c.window)
	if c.native {
		inner := fmt.Sprintf("sum%s(rate(%s[%s]))", byClause(c.by...), sel, win)
		for i := range c.pcts {
			c.pcts[i].query = fmt.Sprintf("histogram_quantile(%s, %s)", c.pcts[i].qText, inner)
		}
		c.bucketQ = fmt.Sprintf("histogram_count(sum%s(increase(%s[%s])))", byClause(c.by...), sel, win)
	} else {
		by := byClause(append([]string{"le"}, c.by...)...)
		inner := fmt.Sprintf("sum%s(rate(%s[%s]))", by, sel, win)
		for i := range c.pcts {
			c.pcts[i].query = fmt.Sprintf("histogram_quantile(%s, %s)", c.pcts[i].qText, inner)
		}
		c.bucketQ = fmt.Sprintf("sum%s(increase(%s[%s]))", by, sel, win)
	}
	return c
}

func readPercentile(m *config.Fields, key string) *percentile {
	sm := percentileRE.FindStringSubmatch(key)
	if sm == nil {
		m.ErrorfKey(key, "invalid percentile %q: want p followed by a number below 100, e.g. p95 or p99.9", key)
		return nil
	}
	// Shift the decimal point in the text rather than divide by 100, so
	// that p99.9 becomes 0.999 and not 0.9990000000000001.
	whole, frac, _ := strings.Cut(sm[1], ".")
	text := strings.TrimRight("0."+fmt.Sprintf("%02s", whole)+frac, "0")
	q, _ := strconv.ParseFloat(text, 64)
	if q <= 0 || q >= 1 {
		m.ErrorfKey(key, "invalid percentile %q: want p followed by a number between 0 and 100", key)
		return nil
	}
	return &percentile{name: key, q: q, qText: text}
}

// Queries implements Check.
func (c *LatencyCheck) Queries() []Query {
	var qs []Query
	for _, p := range c.pcts {
		qs = append(qs, Query{Lang: "promql", Text: p.query})
	}
	return append(qs, Query{Lang: "promql", Text: c.bucketQ})
}

// bucketCounts are one group's cumulative bucket counts over the window.
type bucketCounts struct {
	les    []float64 // ascending, +Inf last when present
	counts []float64
}

// total is the count of the +Inf bucket: every observation. ok is false
// when the group has no +Inf bucket.
func (b *bucketCounts) total() (n float64, ok bool) {
	if n := len(b.les); n > 0 && math.IsInf(b.les[n-1], 1) {
		return b.counts[n-1], true
	}
	return 0, false
}

// Evaluate implements Check.
func (c *LatencyCheck) Evaluate(ctx context.Context, env Env) (Evaluation, error) {
	bucketVec, err := env.Prometheus.Query(ctx, c.bucketQ, env.At)
	if err != nil {
		return Evaluation{}, err
	}
	if len(bucketVec) == 0 {
		what := c.histogram + "_bucket"
		if c.native {
			what = c.histogram + " (native)"
		}
		return Evaluation{Missing: fmt.Sprintf("the histogram %s matched no series in the last %s", what, promDuration(c.window))}, nil
	}
	groups := map[string]*bucketCounts{}
	observations := map[string]float64{}
	for _, s := range bucketVec {
		k := groupKey(s.Metric, c.by)
		if c.native {
			observations[k] = float64(s.Value)
			continue
		}
		le, err := strconv.ParseFloat(string(s.Metric["le"]), 64)
		if err != nil {
			continue // a bucket without a valid le: histogram_quantile ignores it too
		}
		g := groups[k]
		if g == nil {
			g = &bucketCounts{}
			groups[k] = g
		}
		g.les = append(g.les, le)
		g.counts = append(g.counts, float64(s.Value))
	}
	for k, g := range groups {
		sortBuckets(g)
		if n, ok := g.total(); ok {
			observations[k] = n
		}
	}

	type row struct {
		labels model.Metric
		res    []Result
	}
	rows := map[string]*row{}
	ev := Evaluation{}
	for _, p := range c.pcts {
		vec, err := env.Prometheus.Query(ctx, p.query, env.At)
		if err != nil {
			return Evaluation{}, err
		}
		for _, s := range vec {
			k := groupKey(s.Metric, c.by)
			rw := rows[k]
			if rw == nil {
				rw = &row{labels: s.Metric}
				rows[k] = rw
			}
			obs, ok := observations[k]
			if !ok {
				obs = math.NaN()
			}
			rw.res = append(rw.res, c.judge(p, float64(s.Value), groups[k], obs, ok, labelMap(s.Metric)))
		}
	}
	if len(rows) == 0 {
		return Evaluation{Missing: fmt.Sprintf("histogram_quantile over %s returned no series", c.histogram)}, nil
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return rows[keys[i]].labels.Before(rows[keys[j]].labels) })
	for _, k := range keys {
		ev.Results = append(ev.Results, rows[k].res...)
	}
	ev.Notes = c.boundNotes(groups)
	return ev, nil
}

// judge judges one percentile v of a group. obs is the group's number of
// observations in the window; counted is false when the source returned
// none (no +Inf bucket, no native count), and obs is then NaN.
func (c *LatencyCheck) judge(p percentile, v float64, g *bucketCounts, obs float64, counted bool, groupLabels map[string]string) Result {
	delete(groupLabels, model.MetricNameLabel)
	r := Result{Subject: p.name, Labels: groupLabels, Unit: "seconds"}
	lim := Limits{Max: p.limit, WarnMax: p.warn}
	if math.IsNaN(v) && obs > 0 {
		// Observations but no percentile: the histogram holds NaN
		// observations above every bucket. The true value is unbounded,
		// so judge it as +Inf rather than as missing data.
		lim.Judge(&r, math.Inf(1))
		r.Note = fmt.Sprintf("histogram_quantile returned NaN although the window holds %s observations (NaN observations?): judged as +Inf", FormatValue(obs, "series"))
		r.Extra = append(r.Extra, KV{"observations", obs})
		return r
	}
	if math.IsNaN(v) && counted && math.IsNaN(obs) {
		// Not "no observations": the source returned NaN as their count.
		r.Note = "the source returned NaN for the percentile and for the number of observations: it cannot be judged against a limit"
		lim.Judge(&r, v)
		r.Extra = append(r.Extra, KV{"observations", obs})
		return r
	}
	if math.IsNaN(v) {
		r.Missing, r.Limit, r.Op, r.WarnLimit = true, p.limit, "<=", p.warn
		r.Note = "no observations in the window"
		r.Extra = append(r.Extra, KV{"observations", zeroIfNaN(obs)})
		return r
	}
	lim.Judge(&r, v)
	if g != nil {
		lower, upper, inInf := g.bucketOf(v, p.q)
		r.Extra = append(r.Extra, KV{"bucket_lower", lower})
		if inInf {
			r.Extra = append(r.Extra, KV{"bucket_upper", "+Inf"})
			r.Note = "the percentile falls in the +Inf bucket: histogram_quantile reports the highest finite bound, the true value may be larger"
		} else {
			r.Extra = append(r.Extra, KV{"bucket_upper", upper})
		}
	}
	if !math.IsNaN(obs) {
		r.Extra = append(r.Extra, KV{"observations", obs})
	}
	return r
}

func zeroIfNaN(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

func sortBuckets(g *bucketCounts) {
	idx := make([]int, len(g.les))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(i, j int) bool { return g.les[idx[i]] < g.les[idx[j]] })
	les, counts := make([]float64, len(idx)), make([]float64, len(idx))
	for i, j := range idx {
		les[i], counts[i] = g.les[j], g.counts[j]
	}
	g.les, g.counts = les, counts
}

// bucketOf returns the bounds of the bucket that holds the value v that
// histogram_quantile computed for q, and whether the rank fell in the +Inf
// bucket (then v is the highest finite bound).
func (g *bucketCounts) bucketOf(v, q float64) (lower, upper float64, inInf bool) {
	finite := g.les
	if n := len(finite); n > 0 && math.IsInf(finite[n-1], 1) {
		finite = finite[:n-1]
		total := g.counts[n-1]
		if n >= 2 && g.counts[n-2] < q*total {
			return finite[len(finite)-1], math.Inf(1), true
		}
	}
	upper = math.Inf(1)
	for i, le := range finite {
		if le >= v {
			upper = le
			if i > 0 {
				lower = finite[i-1]
			}
			return lower, upper, false
		}
	}
	if len(finite) > 0 {
		lower = finite[len(finite)-1]
	}
	return lower, upper, false
}

// boundNotes says when a limit is not a bucket bound: the verdict near such
// a limit rests on linear interpolation inside the bucket.
func (c *LatencyCheck) boundNotes(groups map[string]*bucketCounts) []string {
	var les []float64
	for _, g := range groups {
		les = g.les
		break
	}
	if len(les) == 0 {
		return nil
	}
	var notes []string
	for _, p := range c.pcts {
		for _, l := range []struct {
			what string
			v    *float64
		}{{"limit", p.limit}, {"warn limit", p.warn}} {
			if l.v == nil || containsFloat(les, *l.v) {
				continue
			}
			lo, hi := bucketAround(les, *l.v)
			notes = append(notes, fmt.Sprintf("%s %s %s is not a bucket bound (it lies between %s and %s): the percentile is interpolated linearly inside the bucket, as histogram_quantile does, so a verdict near it is approximate",
				p.name, l.what, FormatValue(*l.v, "seconds"), FormatValue(lo, "seconds"), FormatValue(hi, "seconds")))
		}
	}
	return notes
}

func containsFloat(xs []float64, x float64) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func bucketAround(les []float64, x float64) (lo, hi float64) {
	hi = math.Inf(1)
	for _, le := range les {
		if le < x {
			lo = le
		} else if le > x {
			hi = le
			break
		}
	}
	return lo, hi
}
