package logql

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Range aggregations the evaluator supports.
const (
	countOverTime = "count_over_time"
	bytesOverTime = "bytes_over_time"
)

// Query is a parsed LogQL instant metric query:
// [sum [by|without (...)]] (count_over_time|bytes_over_time)(SELECTOR PIPELINE [RANGE]).
type Query struct {
	agg      *grouping // nil: no vector aggregation
	op       string    // countOverTime or bytesOverTime
	matchers []*labels.Matcher
	stages   []stage
	rng      time.Duration
}

// grouping is `sum`, `sum by (...)` or `sum without (...)`.
type grouping struct {
	without bool
	labels  []string // as written
}

// Range is the query's range, the W of [W].
func (q *Query) Range() time.Duration { return q.rng }

// Matchers are the query's stream matchers.
func (q *Query) Matchers() []*labels.Matcher { return q.matchers }

// String is the canonical text of the query: Parse(q.String()) gives the
// same query, and two spellings of one query give the same text.
func (q *Query) String() string {
	var b strings.Builder
	if q.agg != nil {
		b.WriteString("sum")
		switch {
		case q.agg.without:
			fmt.Fprintf(&b, " without (%s) ", strings.Join(q.agg.labels, ", "))
		case len(q.agg.labels) > 0:
			fmt.Fprintf(&b, " by (%s) ", strings.Join(q.agg.labels, ", "))
		}
		b.WriteString("(")
	}
	b.WriteString(q.op)
	b.WriteString("(")
	b.WriteString(selectorString(q.matchers))
	for _, s := range q.stages {
		b.WriteString(" ")
		b.WriteString(s.String())
	}
	if len(q.stages) > 0 {
		b.WriteString(" ")
	}
	b.WriteString("[")
	b.WriteString(formatDuration(q.rng))
	b.WriteString("])")
	if q.agg != nil {
		b.WriteString(")")
	}
	return b.String()
}

func selectorString(ms []*labels.Matcher) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = matcherString(m)
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func matcherString(m *labels.Matcher) string {
	return m.Name + m.Type.String() + strconv.Quote(m.Value)
}

// Parse parses an instant metric query of the supported subset. Errors
// are *ParseError with Loki's text where Loki would refuse the query too,
// and an "unsupported: ..." text for valid LogQL this package does not
// evaluate.
func Parse(q string) (*Query, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	query, err := p.query()
	if err != nil {
		return nil, err
	}
	if err := validateSelector(query.matchers); err != nil {
		return nil, err
	}
	for _, s := range query.stages {
		if err := s.compile(); err != nil {
			return nil, &ParseError{Msg: fmt.Sprintf("stage '%s' : %v", s.String(), err)}
		}
	}
	return query, nil
}

// ParseSelector parses a stream selector alone, `{service="api"}`, with
// Loki's rule that at least one matcher must not match the empty string.
func ParseSelector(s string) ([]*labels.Matcher, error) {
	toks, err := lex(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	ms, err := p.selector()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, p.unexpected(t)
	}
	if err := validateSelector(ms); err != nil {
		return nil, err
	}
	return ms, nil
}

// validateSelector is Loki's rule: some = or =~ matcher must not match "".
func validateSelector(ms []*labels.Matcher) error {
	for _, m := range ms {
		if (m.Type == labels.MatchEqual || m.Type == labels.MatchRegexp) && !m.Matches("") {
			return nil
		}
	}
	return &ParseError{Msg: errEmptyCompatible}
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token { return p.toks[p.pos] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) unexpected(t token) error {
	return &ParseError{Msg: "syntax error: unexpected " + t.describe(), Line: t.line, Col: t.col}
}

func (p *parser) expect(k tokKind) (token, error) {
	t := p.next()
	if t.kind != k {
		return t, p.unexpected(t)
	}
	return t, nil
}

func unsupported(t token, what string) error {
	return &ParseError{
		Msg:  "unsupported: " + what + " (offline LogQL evaluates sum [by|without] of count_over_time and bytes_over_time, with line filters, json, logfmt, drop and string label filters)",
		Line: t.line, Col: t.col,
	}
}

var (
	otherRangeOps = []string{"rate", "rate_counter", "bytes_rate", "avg_over_time", "sum_over_time", "min_over_time", "max_over_time",
		"stddev_over_time", "stdvar_over_time", "quantile_over_time", "first_over_time", "last_over_time", "absent_over_time"}
	otherVectorOps = []string{"avg", "count", "max", "min", "stddev", "stdvar", "bottomk", "topk", "sort", "sort_desc", "approx_topk",
		"label_replace", "vector"}
	otherStages = []string{"line_format", "label_format", "regexp", "pattern", "unpack", "unwrap", "decolorize", "keep", "distinct"}
)

func (p *parser) query() (*Query, error) {
	t := p.peek()
	var q *Query
	var err error
	switch {
	case t.kind == tIdent && t.text == "sum":
		q, err = p.vectorAgg()
	case t.kind == tIdent && (t.text == countOverTime || t.text == bytesOverTime):
		q, err = p.rangeAgg()
	case t.kind == tIdent && slices.Contains(otherRangeOps, t.text):
		return nil, unsupported(t, t.text)
	case t.kind == tIdent && slices.Contains(otherVectorOps, t.text):
		return nil, unsupported(t, t.text)
	case t.kind == tLBrace:
		return nil, unsupported(t, "a log query; budgets need a metric query such as count_over_time({...}[1h])")
	default:
		return nil, p.unexpected(t)
	}
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF {
		if t.kind == tOther || (t.kind == tIdent && (t.text == "or" || t.text == "and" || t.text == "unless" || t.text == "offset")) {
			return nil, unsupported(t, "binary operations and offset")
		}
		return nil, p.unexpected(t)
	}
	return q, nil
}

func (p *parser) vectorAgg() (*Query, error) {
	p.next() // sum
	var g *grouping
	var err error
	if t := p.peek(); t.kind == tIdent && (t.text == "by" || t.text == "without") {
		if g, err = p.grouping(); err != nil {
			return nil, err
		}
	}
	if _, err := p.expect(tLParen); err != nil {
		return nil, err
	}
	t := p.peek()
	if t.kind != tIdent || (t.text != countOverTime && t.text != bytesOverTime) {
		if t.kind == tIdent && (slices.Contains(otherRangeOps, t.text) || slices.Contains(otherVectorOps, t.text)) {
			return nil, unsupported(t, t.text)
		}
		return nil, p.unexpected(t)
	}
	q, err := p.rangeAgg()
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tRParen); err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind == tIdent && (t.text == "by" || t.text == "without") {
		if g != nil {
			return nil, p.unexpected(t)
		}
		if g, err = p.grouping(); err != nil {
			return nil, err
		}
	}
	if g == nil {
		g = &grouping{}
	}
	q.agg = g
	return q, nil
}

func (p *parser) grouping() (*grouping, error) {
	g := &grouping{without: p.next().text == "without"}
	if _, err := p.expect(tLParen); err != nil {
		return nil, err
	}
	if p.peek().kind == tRParen {
		p.next()
		return g, nil
	}
	for {
		t, err := p.expect(tIdent)
		if err != nil {
			return nil, err
		}
		g.labels = append(g.labels, t.text)
		t = p.next()
		if t.kind == tRParen {
			return g, nil
		}
		if t.kind != tComma {
			return nil, p.unexpected(t)
		}
	}
}

func (p *parser) rangeAgg() (*Query, error) {
	q := &Query{op: p.next().text}
	if _, err := p.expect(tLParen); err != nil {
		return nil, err
	}
	// Loki accepts `{...} [1h] | json`, `{...} | json [1h]` and
	// `({...} | json) [1h]`.
	parens := p.peek().kind == tLParen
	if parens {
		p.next()
	}
	var err error
	if q.matchers, err = p.selector(); err != nil {
		return nil, err
	}
	haveRange := false
	var rngTok token
	for {
		t := p.peek()
		switch t.kind {
		case tRange:
			if haveRange || parens {
				return nil, p.unexpected(t)
			}
			p.next()
			q.rng, haveRange, rngTok = t.dur, true, t
			continue
		case tPipeExact, tPipeMatch, tNeq, tNre, tPipe:
			s, err := p.stage()
			if err != nil {
				return nil, err
			}
			q.stages = append(q.stages, s)
			continue
		case tRParen:
			if parens {
				p.next()
				parens = false
				continue
			}
		case tIdent:
			if t.text == "offset" {
				return nil, unsupported(t, "offset")
			}
		}
		break
	}
	if !haveRange {
		return nil, p.unexpected(p.peek())
	}
	if q.rng <= 0 {
		return nil, &ParseError{Msg: "range must be positive", Line: rngTok.line, Col: rngTok.col}
	}
	if _, err := p.expect(tRParen); err != nil {
		return nil, err
	}
	return q, nil
}

func (p *parser) selector() ([]*labels.Matcher, error) {
	if _, err := p.expect(tLBrace); err != nil {
		return nil, err
	}
	var ms []*labels.Matcher
	for {
		name, err := p.expect(tIdent)
		if err != nil {
			return nil, err
		}
		m, err := p.matcher(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		t := p.next()
		if t.kind == tRBrace {
			return ms, nil
		}
		if t.kind != tComma {
			return nil, p.unexpected(t)
		}
	}
}

// matcher reads `OP "value"` after a label name.
func (p *parser) matcher(name token) (*labels.Matcher, error) {
	op := p.next()
	var mt labels.MatchType
	switch op.kind {
	case tEq:
		mt = labels.MatchEqual
	case tNeq:
		mt = labels.MatchNotEqual
	case tRe:
		mt = labels.MatchRegexp
	case tNre:
		mt = labels.MatchNotRegexp
	default:
		return nil, p.unexpected(op)
	}
	val, err := p.expect(tString)
	if err != nil {
		return nil, err
	}
	m, err := labels.NewMatcher(mt, name.text, val.val)
	if err != nil {
		return nil, &ParseError{Msg: err.Error(), Line: val.line, Col: val.col}
	}
	return m, nil
}

func (p *parser) stage() (stage, error) {
	t := p.next()
	switch t.kind {
	case tPipeExact, tPipeMatch, tNeq, tNre:
		f := &lineFilter{op: t.kind}
		for {
			v, err := p.expect(tString)
			if err != nil {
				return nil, err
			}
			f.values = append(f.values, v.val)
			if n := p.peek(); n.kind == tIdent && n.text == "or" {
				p.next()
				continue
			}
			return f, nil
		}
	}
	// t is `|`.
	name := p.next()
	if name.kind != tIdent {
		return nil, p.unexpected(name)
	}
	switch {
	case name.text == "json":
		return p.jsonStage()
	case name.text == "logfmt":
		if n := p.peek(); n.kind == tIdent || n.kind == tOther {
			return nil, unsupported(n, "logfmt parameters and flags")
		}
		return &logfmtStage{}, nil
	case name.text == "drop":
		return p.dropStage()
	case slices.Contains(otherStages, name.text):
		return nil, unsupported(name, name.text)
	}
	op := p.peek()
	switch op.kind {
	case tEq, tNeq, tRe, tNre:
		m, err := p.matcher(name)
		if err != nil {
			return nil, err
		}
		f := &labelFilter{m: m}
		if n := p.peek(); (n.kind == tIdent && (n.text == "and" || n.text == "or")) || n.kind == tComma {
			return nil, unsupported(n, "combined label filters; write one `| name=\"value\"` stage each")
		}
		return f, nil
	case tOther:
		return nil, unsupported(op, "numeric, duration and bytes label filters")
	}
	return nil, p.unexpected(op)
}

func (p *parser) jsonStage() (stage, error) {
	s := &jsonStage{}
	if p.peek().kind != tIdent {
		return s, nil
	}
	for {
		name, err := p.expect(tIdent)
		if err != nil {
			return nil, err
		}
		param := jsonParam{name: name.text, expr: name.text}
		if p.peek().kind == tEq {
			p.next()
			v, err := p.expect(tString)
			if err != nil {
				return nil, err
			}
			param.expr = v.val
		}
		path, err := parseJSONPath(param.expr)
		if err != nil {
			return nil, &ParseError{Msg: err.Error(), Line: name.line, Col: name.col}
		}
		param.path = path
		s.params = append(s.params, param)
		if p.peek().kind != tComma {
			return s, nil
		}
		p.next()
	}
}

func (p *parser) dropStage() (stage, error) {
	s := &dropStage{}
	for {
		name, err := p.expect(tIdent)
		if err != nil {
			return nil, err
		}
		item := dropItem{name: name.text}
		switch p.peek().kind {
		case tEq, tNeq, tRe, tNre:
			if item.m, err = p.matcher(name); err != nil {
				return nil, err
			}
		}
		s.items = append(s.items, item)
		if p.peek().kind != tComma {
			return s, nil
		}
		p.next()
	}
}
