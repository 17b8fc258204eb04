package sources

import (
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

// TestHostileDecodeErrorText: a decoder's error about a hostile body
// becomes one line without the body's bytes around the error.
func TestHostileDecodeErrorText(t *testing.T) {
	for in, want := range map[string]string{
		`model.Vector: unmarshalerDecoder: strconv.ParseFloat: parsing "abc": invalid syntax, error found in #10 byte of ...|,"abc"]}]|..., bigger context ...|[{"metric":{"a":"1"},"value":[1,"abc"]}]|...`: `a sample value is not a number: parsing "abc": invalid syntax`,
		"invalid character '\\n' in string literal\nsecond line\r\nthird": `invalid character '\n' in string literal second line third`,
		"unexpected end of JSON input":                                    "unexpected end of JSON input",
		strings.Repeat("x", 300):                                          strings.Repeat("x", 200) + "...",
	} {
		if got := DecodeErrorText(in); got != want {
			t.Errorf("DecodeErrorText(%q)\n= %q\nwant %q", in, got, want)
		}
	}
}

// TestHostileVectorProblem: what makes an instant query's answer unusable,
// and that a good answer has none (its label-less samples get a Metric).
func TestHostileVectorProblem(t *testing.T) {
	at := model.Time(1795694400000)
	long := model.LabelValue(strings.Repeat("v", 300))
	for name, tt := range map[string]struct {
		v    model.Vector
		want string
	}{
		"good":         {model.Vector{{Metric: nil, Value: 1, Timestamp: at}, {Metric: model.Metric{"a": "1"}, Value: 2, Timestamp: at}}, ""},
		"empty":        {model.Vector{}, ""},
		"null":         {model.Vector{{Metric: model.Metric{}, Timestamp: at}, nil}, "a null sample"},
		"no timestamp": {model.Vector{{Metric: model.Metric{"a": "1"}, Value: 5}}, `a sample for {a="1"} without a value or timestamp`},
		"histogram":    {model.Vector{{Metric: model.Metric{"a": "1"}, Histogram: &model.SampleHistogram{Count: 1}, Timestamp: at}}, `a native histogram sample for {a="1"}; budgets need float samples (wrap it in histogram_count, histogram_sum or histogram_quantile)`},
		"twice":        {model.Vector{{Metric: model.Metric{"a": "1", "b": "2"}, Timestamp: at}, {Metric: model.Metric{"a": "2"}, Timestamp: at}, {Metric: model.Metric{"b": "2", "a": "1"}, Timestamp: at}}, `the series {a="1", b="2"} twice (an instant vector holds each series once)`},
		"empty twice":  {model.Vector{{Metric: nil, Timestamp: at}, {Metric: model.Metric{}, Timestamp: at}}, `the series {} twice (an instant vector holds each series once)`},
		"long labels":  {model.Vector{{Metric: model.Metric{"a": long}, Timestamp: at}, {Metric: model.Metric{"a": long}, Timestamp: at}}, `the series {a="` + strings.Repeat("v", 196) + `...} twice (an instant vector holds each series once)`},
	} {
		t.Run(name, func(t *testing.T) {
			if got := VectorProblem(tt.v); got != tt.want {
				t.Errorf("VectorProblem = %q, want %q", got, tt.want)
			}
			if tt.want == "" {
				for _, s := range tt.v {
					if s.Metric == nil {
						t.Errorf("sample %v kept a nil Metric", s)
					}
				}
			}
		})
	}
}

// TestHostileOneLine: a server's warning becomes one printable line.
func TestHostileOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"partial data":                        "partial data",
		"  two\nlines\r\n and\ttabs  ":        "two lines and tabs",
		"\x1b[2J\x1b[31mred\x1b[0m\a\x00done": "[2J [31mred [0m done",
		"bad \xff byte":                       "bad \uFFFD byte",
	} {
		if got := OneLine(in); got != want {
			t.Errorf("OneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
