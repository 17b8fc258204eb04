package logql

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// evalT is the evaluation time of these tests (the recorded T).
var evalT = time.Unix(1795718400, 0).UTC()

// ent is an entry at evalT+d; lbls is "k=v,k=v".
func ent(d time.Duration, lbls, line string) Entry {
	m := map[string]string{}
	for _, kv := range strings.Split(lbls, ",") {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return Entry{TS: evalT.Add(d).UnixNano(), Labels: m, Line: line}
}

func runQuery(t *testing.T, query string, entries ...Entry) (model.Vector, error) {
	t.Helper()
	q, err := Parse(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	e := NewEvaluator(evalT, q)
	for _, en := range entries {
		e.Add(en)
	}
	return e.Result(0)
}

type evalCase struct {
	name    string
	query   string
	entries []Entry
	want    string // vectorText; "" for an empty result
	err     string // a substring of the error, when one is expected
}

func runEvalCases(t *testing.T, cases []evalCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := runQuery(t, tc.query, tc.entries...)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, %v; want error %q", vectorText(v), err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case vectorText(v) != tc.want:
				t.Fatalf("%s\n got:\n%s\nwant:\n%s", tc.query, vectorText(v), tc.want)
			}
		})
	}
}

const api = "service=api,env=prod,level=INFO"

func TestEvalWindowEdges(t *testing.T) {
	var entries []Entry
	for _, d := range []time.Duration{-2 * time.Hour, -time.Hour - 1, -time.Hour, -time.Hour + 1,
		-30*time.Minute - 1, -30 * time.Minute, -30*time.Minute + 1, -1, 0, 1, time.Minute} {
		entries = append(entries, ent(d, api, fmt.Sprint(d)))
	}
	runEvalCases(t, []evalCase{
		// (T-1h, T]: T-1h+1ns, T-30m-1ns, T-30m, T-30m+1ns, T-1ns, T.
		{name: "1h", query: `sum(count_over_time({service="api"}[1h]))`, entries: entries, want: "{} 6\n"},
		// (T-30m, T]: T-30m+1ns, T-1ns, T.
		{name: "30m", query: `sum(count_over_time({service="api"}[30m]))`, entries: entries, want: "{} 3\n"},
		// Loki splits a 2h instant query by the hour and still counts
		// the entry at exactly T-1h once: (T-2h, T] holds 8.
		{name: "2h", query: `sum(count_over_time({service="api"}[2h]))`, entries: entries, want: "{} 8\n"},
		{name: "1ns", query: `sum(count_over_time({service="api"}[1ns]))`, entries: entries, want: "{} 1\n"},
		{name: "nothing", query: `sum(count_over_time({service="api"}[1h]))`, entries: entries[:3], want: ""},
	})
}

func TestEvalBytes(t *testing.T) {
	runEvalCases(t, []evalCase{
		// UTF-8 bytes, not characters.
		{name: "multibyte", query: `sum(bytes_over_time({service="api"}[1h]))`,
			entries: []Entry{ent(-time.Minute, api, "héllo wörld 日本 🚀")}, want: fmt.Sprintf("{} %d\n", len("héllo wörld 日本 🚀"))},
		// Newlines count, an escape written in the line counts as written.
		{name: "newlines and escapes", query: `sum(bytes_over_time({service="api"}[1h]))`,
			entries: []Entry{ent(-time.Minute, api, "a\nb\n"), ent(-2*time.Minute, api, `caf\u00e9`)}, want: "{} 13\n"},
		{name: "by stream", query: `bytes_over_time({env="prod"}[1h])`,
			entries: []Entry{ent(-time.Minute, api, "12345"), ent(-time.Minute, "service=worker,env=prod", "123")},
			want: "{detected_level=\"info\", env=\"prod\", level=\"INFO\", service=\"api\", service_name=\"api\"} 5\n" +
				"{detected_level=\"unknown\", env=\"prod\", service=\"worker\", service_name=\"worker\"} 3\n"},
	})
}

func TestEvalDuplicates(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "stored once", query: `sum(count_over_time({env="prod"}[1h]))`,
			entries: []Entry{ent(-time.Minute, api, "x"), ent(-time.Minute, api, "x"), ent(-time.Minute, api, "x")}, want: "{} 1\n"},
		{name: "label order is no difference", query: `sum(count_over_time({env="prod"}[1h]))`,
			entries: []Entry{ent(-time.Minute, "service=api,env=prod", "x"), ent(-time.Minute, "env=prod,service=api", "x")}, want: "{} 1\n"},
		{name: "another line at the time", query: `sum(count_over_time({env="prod"}[1h]))`,
			entries: []Entry{ent(-time.Minute, api, "A"), ent(-time.Minute, api, "B"), ent(-time.Minute, api, "A")}, want: "{} 2\n"},
		{name: "another stream", query: `sum by (level) (count_over_time({env="prod"}[1h]))`,
			entries: []Entry{ent(-time.Minute, api, "x"), ent(-time.Minute, "service=api,env=prod,level=Info", "x")},
			want:    "{level=\"INFO\"} 1\n{level=\"Info\"} 1\n"},
		{name: "another time", query: `sum(count_over_time({env="prod"}[1h]))`,
			entries: []Entry{ent(-time.Minute, api, "x"), ent(-time.Minute+1, api, "x")}, want: "{} 2\n"},
		{name: "newest first", query: `sum(count_over_time({env="prod"}[1h]))`,
			entries: []Entry{ent(-time.Minute, api, "x"), ent(-time.Minute, api, "x"), ent(-2*time.Minute, api, "x"), ent(-2*time.Minute, api, "x")}, want: "{} 2\n"},
		{name: "many at one time", query: `sum(count_over_time({env="prod"}[1h]))`,
			entries: func() []Entry {
				var es []Entry
				for i := range 200 {
					es = append(es, ent(-time.Minute, api, fmt.Sprint(i%100)))
				}
				return append(es, ent(-time.Minute+1, api, "0"))
			}(), want: "{} 101\n"},
		{name: "after T, no effect", query: `sum(count_over_time({env="prod"}[1h]))`,
			entries: []Entry{ent(time.Minute, api, "x"), ent(0, api, "x")}, want: "{} 1\n"},
	})
}

func TestEvalJSON(t *testing.T) {
	w := "service=worker,env=prod"
	runEvalCases(t, []evalCase{
		{name: "fields", query: `count_over_time({service="worker"} | json | drop detected_level, env, service, service_name [1h])`,
			entries: []Entry{ent(-time.Minute, w, `{"a":"x","n":30,"f":1.5e3,"t":true,"nil":null,"e":"","arr":[1,2],"o":{"b":{"c":"d"}},"log.level":"warn","1st":"one","é":"acc","esc":"caf\u00e9 \"q\"","a":"second"}`)},
			want:    `{_1st="one", _="acc", a="x", e="", esc="café \"q\"", f="1.5e3", log_level="warn", n="30", o_b_c="d", t="true"} 1` + "\n"},
		{name: "stream label wins, body level becomes level_extracted", query: `sum by (level, level_extracted) (count_over_time({service="api"} | json [1h]))`,
			entries: []Entry{ent(-time.Minute, api, `{"level":"warn"}`), ent(-2*time.Minute, "service=api,env=prod", `{"level":"Error"}`)},
			want:    "{level=\"Error\"} 1\n{level=\"INFO\", level_extracted=\"warn\"} 1\n"},
		{name: "service_name is a stream label", query: `sum by (service_name, service_name_extracted) (count_over_time({service="api"} | json [1h]))`,
			entries: []Entry{ent(-time.Minute, api, `{"service_name":"x"}`)}, want: "{service_name=\"api\", service_name_extracted=\"x\"} 1\n"},
		{name: "empty and missing differ", query: `sum by (level) (count_over_time({service="worker"} | json [1h]))`,
			entries: []Entry{ent(-time.Minute, w, `{"level":""}`), ent(-2*time.Minute, w, `{"level":null}`), ent(-3*time.Minute, w, `{"Level":"x"}`)},
			want:    "{} 2\n{level=\"\"} 1\n"},
		{name: "first duplicate wins", query: `sum by (level) (count_over_time({service="worker"} | json [1h]))`,
			entries: []Entry{ent(-time.Minute, w, `{"level":"info","level":"error"}`)}, want: "{level=\"info\"} 1\n"},
		{name: "pretty printed", query: `sum by (level) (count_over_time({service="worker"} | json [1h]))`,
			entries: []Entry{ent(-time.Minute, w, "{\n  \"level\": \"error\"\n}\n")}, want: "{level=\"error\"} 1\n"},
		{name: "params", query: `sum by (lvl, x, first, obj) (count_over_time({service="worker"} | json lvl="level", x="log.level", first="items[1]", obj="log" [1h]))`,
			entries: []Entry{ent(-time.Minute, w, `{"log":{"level":"warn"},"items":["a","b"]}`), ent(-2*time.Minute, w, `{"level":null}`)},
			want:    "{first=\"\", lvl=\"\", obj=\"\", x=\"\"} 1\n{first=\"b\", lvl=\"\", obj=\"{\\\"level\\\":\\\"warn\\\"}\", x=\"warn\"} 1\n"},
		{name: "errors filtered", query: `sum by (level) (count_over_time({service="worker"} | json | __error__="" [1h]))`,
			entries: []Entry{ent(-time.Minute, w, `{"level":"info"}`), ent(-2*time.Minute, w, `level=info`), ent(-3*time.Minute, w, ``)},
			want:    "{level=\"info\"} 1\n"},
		// Loki trims white space around keys before sanitising them
		// (recorded: testdata/loki/structure, case J26).
		{name: "keys are trimmed", query: `sum by (trace_id, span_id, a_b) (count_over_time({service="worker"} | json [1h]))`,
			entries: []Entry{ent(-time.Minute, w, `{"  trace_id ":"t"," span_id":"s","\ta b\n":"x"}`)},
			want:    "{a_b=\"x\", span_id=\"s\", trace_id=\"t\"} 1\n"},
		// A sum that names __error__ (a filter or its grouping) counts
		// errors: Loki's parser hints preserve them ("math on errors";
		// recorded for sum in testdata/loki/structure, J12_json_errors).
		{name: "errors kept are counted by a sum that names __error__", query: `sum by (level) (count_over_time({service="worker"} | json | __error__!="" [1h]))`,
			entries: []Entry{ent(-time.Minute, w, `{"level":"info"}`), ent(-2*time.Minute, w, `level=info`), ent(-3*time.Minute, w, `plain`)},
			want:    "{} 2\n"},
		{name: "errors kept are counted by sum by __error__", query: `sum by (__error__) (count_over_time({service="worker"} | json [1h]))`,
			entries: []Entry{ent(-time.Minute, w, `{"level":"info"}`), ent(-2*time.Minute, w, `level=info`)},
			want:    "{} 1\n{__error__=\"JSONParserErr\"} 1\n"},
		{name: "errors kept fail a query without sum", query: `count_over_time({service="worker"} | json | __error__!="" [1h])`,
			entries: []Entry{ent(-time.Minute, w, `{"level":"info"}`), ent(-2*time.Minute, w, `level=info`)},
			err:     "pipeline error: 'JSONParserErr'"},
		{name: "errors kept fail a sum without", query: `sum without (level) (count_over_time({service="worker"} | json | __error__!="" [1h]))`,
			entries: []Entry{ent(-2*time.Minute, w, `level=info`)},
			err:     "pipeline error: 'JSONParserErr'"},
		{name: "other label filters keep errors", query: `sum by (level) (count_over_time({service="worker"} | json | level="info" [1h]))`,
			entries: []Entry{ent(-2*time.Minute, w, `level=info`)}, err: "pipeline error: 'JSONParserErr'"},
		{name: "error details", query: `sum by (__error_details__) (count_over_time({service="worker"} | json | drop __error__ [1h]))`,
			entries: []Entry{ent(-1*time.Minute, w, `plain text`), ent(-2*time.Minute, w, `{"a":"b"`), ent(-3*time.Minute, w, `{"a":"b`),
				ent(-4*time.Minute, w, `{"a":tru}`), ent(-5*time.Minute, w, `{"a":[1,2}`), ent(-6*time.Minute, w, `{"a" "b"}`), ent(-7*time.Minute, w, `{"a":"b"} trailing`)},
			want: "{} 1\n" +
				"{__error_details__=\"Malformed JSON error\"} 1\n" +
				"{__error_details__=\"Unknown value type\"} 1\n" +
				"{__error_details__=\"Value is array, but can't find closing ']' symbol\"} 2\n" +
				"{__error_details__=\"Value is string, but can't find closing '\\\"' symbol\"} 1\n" +
				"{__error_details__=\"Value looks like object, but can't find closing '}' symbol\"} 1\n"},
		// Without labels to read, Loki skips the parser: no error.
		{name: "sum without labels skips the parser", query: `sum(count_over_time({service="worker"} | json [1h]))`,
			entries: []Entry{ent(-time.Minute, w, `{"level":"info"}`), ent(-2*time.Minute, w, `level=info`)}, want: "{} 2\n"},
	})

	// The error names the failing entry's series, in Loki's words.
	_, err := runQuery(t, `sum by (level) (count_over_time({service="worker"} | json [1h]))`,
		ent(-2*time.Minute, w, `{"level":"info"}`), ent(-time.Minute, w, `level=info`))
	var pe *PipelineError
	if !errors.As(err, &pe) || pe.ErrorType != "JSONParserErr" {
		t.Fatalf("got %v, want a *PipelineError", err)
	}
	want := "pipeline error: 'JSONParserErr' for series: '{__error__=\"JSONParserErr\", __error_details__=\"Value looks like object, but can't find closing '}' symbol\", detected_level=\"info\", env=\"prod\", service=\"worker\", service_name=\"worker\"}'.\n" +
		"Use a label filter to intentionally skip this error. (e.g | __error__!=\"JSONParserErr\").\n" +
		"To skip all potential errors you can match empty errors.(e.g __error__=\"\")\n" +
		"The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )\n"
	if err.Error() != want {
		t.Errorf("got:\n%q\nwant:\n%q", err.Error(), want)
	}
}

func TestEvalLogfmt(t *testing.T) {
	s := "service=scanner,env=prod"
	runEvalCases(t, []evalCase{
		{name: "specials", query: `sum by (probe, level) (count_over_time({service="scanner"} | logfmt [1h]))`,
			entries: []Entry{
				ent(-1*time.Minute, s, `level="WARN" probe=quoted`),
				ent(-2*time.Minute, s, `level= probe=empty`),
				ent(-3*time.Minute, s, `level="" probe=empty-quoted`),
				ent(-4*time.Minute, s, `level=warn oops probe=bare-word`),
				ent(-5*time.Minute, s, `level=info probe=dupkey level=error`),
				ent(-6*time.Minute, s, `LEVEL=error probe=key-case`),
				ent(-7*time.Minute, s, `{"level":"info","probe":"json"}`),
				ent(-8*time.Minute, s, `level=a=b probe=bad-value`),
				ent(-9*time.Minute, s, `level="unterminated probe=x`),
			},
			// The JSON line and the unterminated quote (to the end) give no label.
			want: "{} 2\n{level=\"WARN\", probe=\"quoted\"} 1\n{level=\"info\", probe=\"dupkey\"} 1\n{level=\"warn\", probe=\"bare-word\"} 1\n" +
				"{probe=\"bad-value\"} 1\n{probe=\"empty\"} 1\n{probe=\"empty-quoted\"} 1\n{probe=\"key-case\"} 1\n"},
		{name: "values and keys", query: `count_over_time({service="scanner"} | logfmt | drop env, service, service_name, detected_level [1h])`,
			entries: []Entry{ent(-time.Minute, s, `msg="say \"hi\"\n" user-id=7 9lives=yes env=staging`)},
			want:    "{_9lives=\"yes\", env_extracted=\"staging\", msg=\"say \\\"hi\\\"\\n\", user_id=\"7\"} 1\n"},
	})
}

func TestEvalStagesAndGrouping(t *testing.T) {
	entries := []Entry{
		ent(-1*time.Minute, api, `GET /a password=x`),
		ent(-2*time.Minute, api, `GET /b`),
		ent(-3*time.Minute, "service=api,env=prod,level=ERROR", `POST /a`),
		ent(-4*time.Minute, "service=api,env=prod", `PUT /c error`),
	}
	runEvalCases(t, []evalCase{
		{name: "contains", query: `sum(count_over_time({service="api"} |= "/a" [1h]))`, entries: entries, want: "{} 2\n"},
		{name: "or", query: `sum(count_over_time({service="api"} |= "/a" or "/b" [1h]))`, entries: entries, want: "{} 3\n"},
		{name: "not contains", query: `sum(count_over_time({service="api"} != "/a" != "PUT" [1h]))`, entries: entries, want: "{} 1\n"},
		{name: "regexp", query: `sum(count_over_time({service="api"} |~ "^(GET|PUT) /[ab]" [1h]))`, entries: entries, want: "{} 2\n"},
		{name: "not regexp", query: `sum(count_over_time({service="api"} !~ "GET" [1h]))`, entries: entries, want: "{} 2\n"},
		{name: "label filter", query: `sum(count_over_time({service="api"} | level=~"I.*" [1h]))`, entries: entries, want: "{} 2\n"},
		{name: "label filter on missing", query: `sum(count_over_time({service="api"} | level="" [1h]))`, entries: entries, want: "{} 1\n"},
		{name: "drop merges", query: `count_over_time({service="api"} | drop level, detected_level [1h])`, entries: entries,
			want: "{env=\"prod\", service=\"api\", service_name=\"api\"} 4\n"},
		{name: "drop matching", query: `sum by (level) (count_over_time({service="api"} | drop level="INFO" [1h]))`, entries: entries,
			want: "{} 3\n{level=\"ERROR\"} 1\n"},
		{name: "without", query: `sum without (env, service_name, level) (count_over_time({service="api"}[1h]))`, entries: entries,
			want: "{detected_level=\"error\", service=\"api\"} 2\n{detected_level=\"info\", service=\"api\"} 2\n"},
		{name: "by detected_level", query: `sum by (detected_level) (count_over_time({env="prod"}[1h]))`, entries: entries,
			want: "{detected_level=\"error\"} 2\n{detected_level=\"info\"} 2\n"},
		{name: "by a label nobody has", query: `sum by (nope) (count_over_time({env="prod"}[1h]))`, entries: entries, want: "{} 4\n"},
		{name: "selector on service_name", query: `sum(count_over_time({service_name="api"}[1h]))`, entries: entries, want: "{} 4\n"},
	})
}

func TestEvalAutoLabels(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "service_name", query: `sum by (service_name) (count_over_time({env="prod"}[1h]))`,
			entries: []Entry{ent(-1, "env=prod,app=shop", "x"), ent(-2, "env=prod,job=batch,name=n", "x"),
				ent(-3, "env=prod,other=o", "x"), ent(-4, "env=prod,service_name=given,service=s", "x")},
			want: "{service_name=\"given\"} 1\n{service_name=\"n\"} 1\n{service_name=\"shop\"} 1\n{service_name=\"unknown_service\"} 1\n"},
		{name: "detected_level", query: `count_over_time({env="prod"} | drop env, service_name [1h])`,
			entries: []Entry{
				ent(-1, "env=prod,s=1,level=Err", "x"),
				ent(-1, "env=prod,s=2,level=crit", "x"),
				ent(-1, "env=prod,s=3,severity=WARNING", "x"),
				ent(-1, "env=prod,s=4", `{"Level":"ERROR"}`),
				ent(-1, "env=prod,s=5", `ts=1 LEVEL=fatal`),
				ent(-1, "env=prod,s=6", `something failed with error`),
				ent(-1, "env=prod,s=7", `INFO: started`),
				ent(-1, "env=prod,s=8", `{"level":30,"msg":"x"}`),
				ent(-1, "env=prod,s=9", `{"level":"crit","msg":"disk error"}`),
				ent(-1, "env=prod,s=10", `{"log":{"level":"debug"}}`),
				ent(-1, "env=prod,s=11", `level= msg=quiet`),
				ent(-1, "env=prod,s=12", `{"lvl":"dbg"}`),
			},
			want: "{detected_level=\"crit\", level=\"crit\", s=\"2\"} 1\n" +
				"{detected_level=\"debug\", s=\"10\"} 1\n" + // Loki 3.7 looks one object deep
				"{detected_level=\"debug\", s=\"12\"} 1\n" +
				"{detected_level=\"error\", level=\"Err\", s=\"1\"} 1\n" +
				"{detected_level=\"error\", s=\"4\"} 1\n" +
				"{detected_level=\"error\", s=\"6\"} 1\n" +
				"{detected_level=\"error\", s=\"9\"} 1\n" +
				"{detected_level=\"fatal\", s=\"5\"} 1\n" +
				"{detected_level=\"info\", s=\"7\"} 1\n" +
				"{detected_level=\"unknown\", s=\"11\"} 1\n" +
				"{detected_level=\"unknown\", s=\"8\"} 1\n" +
				"{detected_level=\"warn\", s=\"3\", severity=\"WARNING\"} 1\n"},
	})
}

// Entries copied from Loki's answers may hold detected_level as a stream
// label: it is kept, not detected again.
func TestEvalDetectedLevelLabel(t *testing.T) {
	runEvalCases(t, []evalCase{
		{name: "raw", query: `count_over_time({env="prod"}[1h])`,
			entries: []Entry{ent(-1, "env=prod,service=a,detected_level=warn", "error info")},
			want:    "{detected_level=\"warn\", env=\"prod\", service=\"a\", service_name=\"a\"} 1\n"},
		{name: "by", query: `sum by (detected_level) (count_over_time({env="prod"}[1h]))`,
			entries: []Entry{ent(-1, "env=prod,service=a,detected_level=warn", "error info")},
			want:    "{detected_level=\"warn\"} 1\n"},
	})
}

func TestEvalSeriesLimit(t *testing.T) {
	q, _ := Parse(`count_over_time({env="prod"} | logfmt [1h])`)
	e := NewEvaluator(evalT, q)
	e.MaxSeries = 2
	for i := range 3 {
		e.Add(ent(-time.Minute, "env=prod", fmt.Sprintf("id=%d", i)))
	}
	_, err := e.Result(0)
	var le *SeriesLimitError
	if !errors.As(err, &le) || err.Error() != "maximum of series (2) reached for a single query" {
		t.Fatalf("got %v, want a *SeriesLimitError", err)
	}
	e = NewEvaluator(evalT, q)
	e.MaxSeries = 0
	for i := range 1000 {
		e.Add(ent(-time.Minute, "env=prod", fmt.Sprintf("id=%d", i)))
	}
	if v, err := e.Result(0); err != nil || len(v) != 1000 {
		t.Fatalf("unlimited: %d series, %v", len(v), err)
	}
}

// Queries evaluated together see the same entries as alone, and their
// shared work (parsing a line once) does not leak between them.
func TestEvalTogether(t *testing.T) {
	queries := []string{
		`sum by (level) (count_over_time({env="prod"} | json [1h]))`,
		`sum by (level) (count_over_time({env="prod"} | logfmt [1h]))`,
		`count_over_time({env="prod"} | json | __error__="" [30m])`,
		`sum(bytes_over_time({service="api"}[1h]))`,
		`sum by (x) (count_over_time({env="prod"} | json x="level" [1h]))`,
		// A line that fails | json after a field another query reads:
		// the error names the labels q alone would have.
		`sum by (service) (count_over_time({env="cut"} | json [1h]))`,
		`sum by (trace_id) (count_over_time({env="cut"} | json | __error__="" [1h]))`,
		`sum by (service) (count_over_time({env="cut"} | json | trace_id!="" [1h]))`,
	}
	entries := []Entry{
		ent(-time.Minute, "service=api,env=prod", `{"level":"info","msg":"a=b"}`),
		ent(-40*time.Minute, "service=worker,env=prod", `level=warn msg=x`),
		ent(-50*time.Minute, "service=api,env=prod", `{"level":"error"}`),
		ent(-20*time.Minute, "service=api,env=cut", `{"trace_id":"t1","x":`),
	}
	var qs []*Query
	for _, s := range queries {
		q, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	all := NewEvaluator(evalT, qs...)
	for _, en := range entries {
		all.Add(en)
	}
	for i, q := range qs {
		alone := NewEvaluator(evalT, q)
		for _, en := range entries {
			alone.Add(en)
		}
		v1, err1 := all.Result(i)
		v2, err2 := alone.Result(0)
		if vectorText(v1) != vectorText(v2) || fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Errorf("%s: together %s%v, alone %s%v", q, vectorText(v1), err1, vectorText(v2), err2)
		}
	}
}

// The literal prefilter of a regexp line filter never changes an answer.
func TestPrefilter(t *testing.T) {
	exprs := []string{`(?i)password\s*[=:]\s*\S+`, `AKIA[0-9A-Z]{16}`, `(?i)bearer [a-z0-9._-]{20,}`,
		`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`, `(?i)kelvin`, `(a|b)+xyz`, `x*`, `(?i)straße`}
	lines := []string{"", "password=x", "PassWord: hunter2", "paſſword=x", "pass word=x", "AKIAABCDEFGHIJKLMNOP",
		"akiaABCDEFGHIJKLMNOP", "Bearer abcdefghijklmnopqrstuvwxyz", "mail a@b.io", "KELVIN", "\u212aelvin",
		"abxyz", "xyz", "STRASSE", "straße", "é password=1"}
	for _, expr := range exprs {
		f := &lineFilter{op: tPipeMatch, values: []string{expr}}
		if err := f.compile(); err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(expr)
		for _, l := range lines {
			if got, want := f.matches([]byte(l)), re.MatchString(l); got != want {
				t.Errorf("%s on %q: %v, regexp says %v", expr, l, got, want)
			}
		}
	}
}

// TestByStreamSameAnswers: the series a sum by stream labels looks up
// once per stream (byStream) are the ones looked up per entry: streams
// with and without the grouping labels, lines whose fields carry the
// same names (renamed name_extracted, or taking the place of a label the
// stream lacks), invalid lines (errors failing the query, or kept), and
// drop.
func TestByStreamSameAnswers(t *testing.T) {
	queries := []string{
		`sum by (service) (count_over_time({env="p"} | json [1h]))`,
		`sum by (service) (count_over_time({env="p"} | json | __error__="" [1h]))`,
		`sum by (service) (count_over_time({env="p"} | json | __error__!="" [1h]))`,
		`sum by (service, level) (count_over_time({env="p"} | json | __error__="" [1h]))`,
		`sum by (service) (bytes_over_time({env="p"} | logfmt | __error__="" | trace_id!="" [1h]))`,
		`sum by (service) (count_over_time({env="p"} | json | drop service [1h]))`,
		`sum by (service, detected_level) (count_over_time({env="p"} | json | __error__="" [1h]))`,
		`sum by (service_extracted, service) (count_over_time({env="p"} | json | __error__="" [1h]))`,
		// A stream with service and service_extracted: a line's service
		// field, renamed service_extracted, comes before the stream's.
		`sum by (service_extracted) (count_over_time({env="p"} | json | __error__="" [1h]))`,
		`sum by (service_extracted) (count_over_time({env="p"} | logfmt [1h]))`,
	}
	var entries []Entry
	lines := []string{
		`{"service":"from-line","level":"warn","trace_id":"t"}`,
		`{"level":"info"}`,
		`service=from-logfmt trace_id=t level=error`,
		`not json`,
		`{"service":"","level":"debug"}`,
	}
	streams := []string{"env=p,service=api", "env=p", "env=p,service=worker,level=error", "env=p,service_extracted=x",
		"env=p,service=api,service_extracted=x"}
	for i := range 60 {
		entries = append(entries, ent(-time.Duration(i+1)*time.Second, streams[i%len(streams)], lines[(i/len(streams))%len(lines)]))
	}
	for _, s := range queries {
		q, err := Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		cached := NewEvaluator(evalT, q)
		plain := NewEvaluator(evalT, q)
		plain.queries[0].byStream = false
		for _, en := range entries {
			cached.Add(en)
			plain.Add(en)
		}
		v1, err1 := cached.Result(0)
		v2, err2 := plain.Result(0)
		if vectorText(v1) != vectorText(v2) || fmt.Sprint(err1) != fmt.Sprint(err2) {
			t.Errorf("%s: by stream %s%v, per entry %s%v", s, vectorText(v1), err1, vectorText(v2), err2)
		}
		if i := 0; s == queries[i] && !cached.queries[0].byStream {
			t.Errorf("%s: not byStream", s)
		}
	}
}
