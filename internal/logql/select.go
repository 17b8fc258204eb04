package logql

import (
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// LogQuery is a parsed LogQL log query, `SELECTOR LINE_FILTERS`: what
// Loki's query_range answers with log lines rather than numbers. The
// snapshot command asks it to copy the entries log budgets read, and the
// Loki test server answers it.
type LogQuery struct {
	matchers []*labels.Matcher
	filters  []*lineFilter
}

// ParseLogQuery parses a log query of a stream selector and line filters
// (|= != |~ !~). Parsers, label filters and everything else are a
// *ParseError saying they are unsupported; a metric query is a
// *ParseError too.
func ParseLogQuery(q string) (*LogQuery, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	lq := &LogQuery{}
	if t := p.peek(); t.kind != tLBrace {
		if t.kind == tIdent {
			return nil, unsupported(t, "a metric query where a log query ({...} with line filters) is expected")
		}
		return nil, p.unexpected(t)
	}
	if lq.matchers, err = p.selector(); err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch t.kind {
		case tEOF:
			if err := validateSelector(lq.matchers); err != nil {
				return nil, err
			}
			for _, f := range lq.filters {
				if err := f.compile(); err != nil {
					return nil, &ParseError{Msg: "stage '" + f.String() + "' : " + err.Error()}
				}
			}
			return lq, nil
		case tPipeExact, tPipeMatch, tNeq, tNre:
			s, err := p.stage()
			if err != nil {
				return nil, err
			}
			lq.filters = append(lq.filters, s.(*lineFilter))
		case tPipe:
			return nil, unsupported(t, "parsers and label filters in a log query")
		default:
			return nil, p.unexpected(t)
		}
	}
}

// Matchers are the query's stream matchers.
func (q *LogQuery) Matchers() []*labels.Matcher { return q.matchers }

// String is the canonical text of the query.
func (q *LogQuery) String() string {
	s := selectorString(q.matchers)
	for _, f := range q.filters {
		s += " " + f.String()
	}
	return s
}

// Selects reports whether the query returns an entry of a stream indexed
// under these labels (see StreamLabels) with this line.
func (q *LogQuery) Selects(streamLabels map[string]string, line string) bool {
	for _, m := range q.matchers {
		if !m.Matches(streamLabels[m.Name]) {
			return false
		}
	}
	b := unsafe.Slice(unsafe.StringData(line), len(line))
	for _, f := range q.filters {
		if !f.matches(b) {
			return false
		}
	}
	return true
}

// StreamLabels are the labels Loki indexes a stream pushed with these
// labels under: those with a value, plus service_name when the push had
// none (discover_service_name).
func StreamLabels(pushed map[string]string) map[string]string {
	out := make(map[string]string, len(pushed)+1)
	for k, v := range pushed {
		if v != "" {
			out[k] = v
		}
	}
	if _, ok := out[serviceNameLabel]; !ok {
		out[serviceNameLabel] = ServiceName(pushed)
	}
	return out
}

// ServiceName is the service_name Loki gives a stream pushed with these
// labels and without a service_name of its own.
func ServiceName(pushed map[string]string) string {
	for _, l := range serviceNameSources {
		if v := pushed[l]; v != "" {
			return v
		}
	}
	return unknownService
}

// DetectedLevel is the detected_level Loki attaches to an entry of a
// stream pushed with these labels (discover_log_levels): a level label
// normalised, else the level of the body, else a guess from its words.
func DetectedLevel(pushed map[string]string, line string) string {
	// A detected_level label stands, as in Evaluator.Stream.
	if v := pushed[detectedLevelLabel]; v != "" {
		return v
	}
	for _, f := range levelFields {
		if v := pushed[f]; v != "" {
			return labelLevel(v)
		}
	}
	var arena []byte
	return bodyLevel([]byte(line), &arena)
}

// Label names Loki adds at ingestion, for callers that take them off
// again.
const (
	ServiceNameLabel   = serviceNameLabel
	DetectedLevelLabel = detectedLevelLabel
)
