package sources

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/prometheus/common/model"
)

// What a live source answers is checked before any budget reads it: a
// hostile or broken server must end in a clear error, never in a number
// that passes. A well-formed answer does not have these problems, so the
// checks cost one pass over the samples.

// maxSeriesText bounds how much of a series' labels a message quotes.
const maxSeriesText = 200

// VectorProblem says what makes v, the decoded answer to an instant
// query, unusable, or "" when nothing does. It also gives samples without
// labels an empty, non-nil Metric. The problems:
//   - a null sample;
//   - a sample without a value or timestamp: decoding leaves both 0, and
//     no instant query is evaluated at the Unix epoch;
//   - a native histogram sample, whose float value is not set (budgets
//     read float samples: wrap it in histogram_count, histogram_sum or
//     histogram_quantile);
//   - one series twice: an instant vector holds each series once, and a
//     sum or count over a repeated series would be wrong.
func VectorProblem(v model.Vector) string {
	seen := make(seriesSet, len(v))
	for _, s := range v {
		if s == nil {
			return "a null sample"
		}
		if s.Metric == nil {
			s.Metric = model.Metric{}
		}
		if s.Histogram != nil {
			return fmt.Sprintf("a native histogram sample for %s; budgets need float samples (wrap it in histogram_count, histogram_sum or histogram_quantile)", seriesText(s.Metric))
		}
		if s.Timestamp == 0 {
			return fmt.Sprintf("a sample for %s without a value or timestamp", seriesText(s.Metric))
		}
		if seen.again(s.Metric) {
			return fmt.Sprintf("the series %s twice (an instant vector holds each series once)", seriesText(s.Metric))
		}
	}
	return ""
}

// MatrixProblem is VectorProblem for the answer to a range selector: a
// null series, one series twice, a native histogram series without float
// samples, or samples of a series not in strictly increasing time order
// (two at one time would be a conflict in the snapshot).
func MatrixProblem(m model.Matrix) string {
	seen := make(seriesSet, len(m))
	for _, s := range m {
		if s == nil {
			return "a null series"
		}
		if s.Metric == nil {
			s.Metric = model.Metric{}
		}
		if len(s.Histograms) > 0 && len(s.Values) == 0 {
			return fmt.Sprintf("native histogram samples for %s; snapshots record float samples", seriesText(s.Metric))
		}
		for i := 1; i < len(s.Values); i++ {
			if s.Values[i].Timestamp <= s.Values[i-1].Timestamp {
				return fmt.Sprintf("samples of %s out of time order (%s, then %s)", seriesText(s.Metric), s.Values[i-1].Timestamp, s.Values[i].Timestamp)
			}
		}
		if seen.again(s.Metric) {
			return fmt.Sprintf("the series %s twice (a range vector holds each series once)", seriesText(s.Metric))
		}
	}
	return ""
}

// seriesSet holds the series an answer has named so far, by fingerprint
// (two series can share one, so each is compared in full).
type seriesSet map[model.Fingerprint][]model.Metric

// again reports whether m is in the set already, and adds it if not.
func (set seriesSet) again(m model.Metric) bool {
	fp := m.Fingerprint()
	for _, x := range set[fp] {
		if x.Equal(m) {
			return true
		}
	}
	set[fp] = append(set[fp], m)
	return false
}

func seriesText(m model.Metric) string {
	s := m.String()
	if len(s) > maxSeriesText {
		s = strings.ToValidUTF8(s[:maxSeriesText], "") + "...}"
	}
	return s
}

// DecodeErrorText makes a JSON decoder's error text about an answer fit a
// one-line message: a sample value that is not a number is said so, the
// decoder's quotes of the body ("error found in #10 byte of ...|...|...")
// are cut, and line breaks become spaces.
func DecodeErrorText(s string) string {
	if i := strings.Index(s, ", error found in #"); i >= 0 {
		s = s[:i]
	}
	s = strings.ReplaceAll(s, "unmarshalerDecoder: ", "")
	if i := strings.Index(s, `strconv.ParseFloat: parsing "`); i >= 0 {
		s = "a sample value is not a number: " + strings.TrimPrefix(s[i:], "strconv.ParseFloat: ")
	}
	return Truncate(strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " "), 200)
}

// Truncate cuts s to at most n bytes (whole runes) and marks the cut
// with "...".
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}

// OneLine makes a text a server sent (a warning) one line of printable
// characters: control characters (line breaks, escape sequences' ESC, BEL)
// become spaces and runs of spaces one. A warning is a note in a report,
// not a layout.
func OneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return strings.Join(strings.Fields(s), " ")
}

// ResultProblem says what in result, the raw data.result of a query's
// answer of type resultType, decoding would silently read as a number
// that was not sent, or "" when nothing does. model's decoder reads a
// sample pair of one element ([1795694400]) or with a null value
// ([1795694400,null]) as the value 0, which would pass any max: each pair
// must be exactly [time, "value"]. Other types, and results that do not
// decode, are left to the decoder and to VectorProblem and MatrixProblem.
func ResultProblem(resultType string, result json.RawMessage) string {
	switch resultType {
	case "vector":
		var v []*struct {
			Metric model.Metric    `json:"metric"`
			Value  json.RawMessage `json:"value"`
		}
		if json.Unmarshal(result, &v) != nil {
			return ""
		}
		for _, s := range v {
			if s == nil || s.Value == nil {
				continue // VectorProblem says what is wrong
			}
			if p := pairProblem(s.Value); p != "" {
				return fmt.Sprintf("a sample for %s %s", seriesText(s.Metric), p)
			}
		}
	case "matrix":
		var m []*struct {
			Metric model.Metric      `json:"metric"`
			Values []json.RawMessage `json:"values"`
		}
		if json.Unmarshal(result, &m) != nil {
			return ""
		}
		for _, s := range m {
			if s == nil {
				continue
			}
			for _, pair := range s.Values {
				if p := pairProblem(pair); p != "" {
					return fmt.Sprintf("a sample of %s %s", seriesText(s.Metric), p)
				}
			}
		}
	}
	return ""
}

// pairProblem says how raw is not a sample pair [time, "value"], as the
// end of "a sample for {...} ...".
func pairProblem(raw json.RawMessage) string {
	var pair []json.RawMessage
	if err := json.Unmarshal(raw, &pair); err != nil || pair == nil {
		return `that is not a [time, "value"] pair`
	}
	switch {
	case len(pair) == 0:
		return `with neither a time nor a value`
	case len(pair) == 1:
		return `with a time and no value`
	case len(pair) > 2:
		return fmt.Sprintf(`of %d elements, want [time, "value"]`, len(pair))
	}
	t, v := bytes.TrimSpace(pair[0]), bytes.TrimSpace(pair[1])
	switch {
	case string(t) == "null":
		return `with a null time`
	case string(v) == "null":
		return `with a null value`
	}
	return ""
}
