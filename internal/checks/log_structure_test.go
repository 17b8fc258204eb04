package checks

import (
	"math"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
)

func TestLogStructureQueries(t *testing.T) {
	for _, tc := range []struct{ name, yaml, structured, total string }{
		{"defaults: json, by service, trace_id and span_id", "",
			`sum by (service) (count_over_time({env="prod"} | json | __error__="" | trace_id!="" | span_id!="" [1h]))`,
			`sum by (service) (count_over_time({env="prod"}[1h]))`},
		{"logfmt keeps the same form", "  parser: logfmt\n",
			`sum by (service) (count_over_time({env="prod"} | logfmt | __error__="" | trace_id!="" | span_id!="" [1h]))`,
			`sum by (service) (count_over_time({env="prod"}[1h]))`},
		{"no groups, own fields, own window", "  by: []\n  require_fields: [request_id]\n  window: 30m\n",
			`sum(count_over_time({env="prod"} | json | __error__="" | request_id!="" [30m]))`,
			`sum(count_over_time({env="prod"}[30m]))`},
		{"two groups", "  by: [service, region]\n",
			`sum by (service, region) (count_over_time({env="prod"} | json | __error__="" | trace_id!="" | span_id!="" [1h]))`,
			`sum by (service, region) (count_over_time({env="prod"}[1h]))`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := loadOne(t, "- name: structure\n  type: log_structure\n  selector: '{env=\"prod\"}'\n  min_share: 90%\n"+tc.yaml)
			qs := plan[0].Check.Queries()
			if len(qs) != 2 || qs[0].Text != tc.structured || qs[1].Text != tc.total || qs[0].Lang != "logql" || qs[1].Lang != "logql" {
				t.Fatalf("queries = %+v\nwant %s\nand  %s", qs, tc.structured, tc.total)
			}
			if plan[0].Category != "logs" || plan[0].Needs != "loki" {
				t.Errorf("category %s, needs %s; want logs, loki", plan[0].Category, plan[0].Needs)
			}
		})
	}
}

func TestLogStructureCheck(t *testing.T) {
	plan := loadOne(t, `- name: structure
  type: log_structure
  selector: '{env="prod"}'
  min_share: 80%
  warn_min_share: 90%
`)
	sq := `sum by (service) (count_over_time({env="prod"} | json | __error__="" | trace_id!="" | span_id!="" [1h]))`
	tq := `sum by (service) (count_over_time({env="prod"}[1h]))`
	f := &fakeProm{t: t, answers: map[string]model.Vector{
		sq: {
			sample(95, "service", "api"),     // 95%: pass
			sample(85, "service", "gateway"), // 85%: warn
			sample(10, "service", "proxy"),   // 10%: fail
		},
		// ledger has lines but no structured series: share 0, reported.
		tq: {sample(100, "service", "api"), sample(100, "service", "gateway"), sample(100, "service", "proxy"), sample(40, "service", "ledger")},
	}}
	o := runLoki(t, plan[0], f)
	if o.Status != Fail {
		t.Fatalf("status %s, want fail (%s)", o.Status, o.Message)
	}
	type row struct {
		status              Status
		share, count, total float64
	}
	want := map[string]row{
		"api":     {Pass, 0.95, 95, 100},
		"gateway": {Warn, 0.85, 85, 100},
		"ledger":  {Fail, 0, 0, 40},
		"proxy":   {Fail, 0.1, 10, 100},
	}
	if len(o.Results) != len(want) {
		t.Fatalf("%d results, want %d: %+v", len(o.Results), len(want), o.Results)
	}
	order := []string{"api", "gateway", "ledger", "proxy"}
	for i, r := range o.Results {
		svc := r.Labels["service"]
		w := want[svc]
		if svc != order[i] || r.Subject != "structured" || r.Unit != "ratio" || r.Status != w.status || *r.Value != w.share ||
			extra(r, "count") != w.count || extra(r, "total") != w.total || len(r.Labels) != 1 {
			t.Errorf("result %d = %s %v %v %s count %v total %v; want %s %s %v count %v total %v",
				i, r.Subject, r.Labels, *r.Value, r.Status, extra(r, "count"), extra(r, "total"), order[i], w.status, w.share, w.count, w.total)
		}
		if r.Op != ">=" || *r.Limit != 0.8 || *r.WarnLimit != 0.9 {
			t.Errorf("%s: limit %s %v warn %v; want >= 0.8 warn 0.9", svc, r.Op, *r.Limit, *r.WarnLimit)
		}
	}
	if len(f.asked) != 2 {
		t.Errorf("asked %d queries, want 2: %v", len(f.asked), f.asked)
	}
}

func TestLogStructureNoData(t *testing.T) {
	plan := loadOne(t, `- name: structure
  type: log_structure
  selector: '{env="prod"}'
  by: []
  min_share: 80%
`)
	sq := `sum(count_over_time({env="prod"} | json | __error__="" | trace_id!="" | span_id!="" [1h]))`
	tq := `sum(count_over_time({env="prod"}[1h]))`
	f := &fakeProm{t: t, answers: map[string]model.Vector{sq: {}, tq: {}}}
	o := runLoki(t, plan[0], f)
	if o.Status != Fail || !strings.Contains(o.Message, "no log lines in the last 1h") {
		t.Fatalf("no data: %s %q, want fail (on_missing: fail) saying no log lines", o.Status, o.Message)
	}

	plan = loadOne(t, `- name: structure
  type: log_structure
  selector: '{env="prod"}'
  by: []
  on_missing: warn
  min_share: 80%
`)
	o = runLoki(t, plan[0], f)
	if o.Status != Warn {
		t.Fatalf("no data with on_missing: warn: %s %q", o.Status, o.Message)
	}
}

// Answers no Loki gives are errors, never a pass.
func TestLogStructureImpossibleAnswers(t *testing.T) {
	plan := loadOne(t, `- name: structure
  type: log_structure
  selector: '{env="prod"}'
  min_share: 10%
`)
	sq := `sum by (service) (count_over_time({env="prod"} | json | __error__="" | trace_id!="" | span_id!="" [1h]))`
	tq := `sum by (service) (count_over_time({env="prod"}[1h]))`
	for _, tc := range []struct {
		name       string
		structured model.Vector
		total      model.Vector
		note       string
	}{
		{"more structured than all", model.Vector{sample(12, "service", "api")}, model.Vector{sample(10, "service", "api")},
			"the source returned 12 structured lines but 10 lines in all"},
		{"fractional count", model.Vector{sample(2.5, "service", "api")}, model.Vector{sample(10, "service", "api")},
			"the source returned 2.5 lines structured: a count of lines is a whole number"},
		{"negative total", model.Vector{sample(2, "service", "api")}, model.Vector{sample(-10, "service", "api")},
			"the source returned -10 lines in all: a count of lines cannot be negative"},
		{"a group with no total", model.Vector{sample(2, "service", "api"), sample(5, "service", "web")}, model.Vector{sample(10, "service", "web")},
			"the source returned 2 structured lines for a group with no lines in all"},
		{"NaN total", model.Vector{sample(2, "service", "api")}, model.Vector{sample(math.NaN(), "service", "api")},
			"no share can be computed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeProm{t: t, answers: map[string]model.Vector{sq: tc.structured, tq: tc.total}}
			o := runLoki(t, plan[0], f)
			if o.Status != Error {
				t.Fatalf("status %s, want error (%s)", o.Status, o.Message)
			}
			found := false
			for _, r := range o.Results {
				if r.Labels["service"] == "api" {
					found = true
					if r.Status != Error || !strings.Contains(r.Note, tc.note) || !math.IsNaN(*r.Value) {
						t.Errorf("api: %s %v note %q; want error NaN with %q", r.Status, *r.Value, r.Note, tc.note)
					}
				}
			}
			if !found {
				t.Errorf("no result for api: %+v", o.Results)
			}
		})
	}
}

func TestLogStructureValidation(t *testing.T) {
	const head = "version: 1\nbudgets:\n  - name: st\n    type: log_structure\n    selector: '{env=\"prod\"}'\n"
	for _, tc := range []struct{ name, text, want string }{
		{"no limit", head,
			`budgets.yaml:3:5: budgets[0].min_share: no limit: set min_share (or warn_min_share), e.g. 95%`},
		{"share over 100%", head + "    min_share: 120%\n",
			`budgets.yaml:6:16: budgets[0].min_share: invalid share "120%": want a percentage between 0% and 100%`},
		{"warn below the hard limit", head + "    min_share: 90%\n    warn_min_share: 80%\n",
			`budgets.yaml:7:21: budgets[0].warn_min_share: warn_min_share is less than min_share: it would never warn`},
		{"unknown parser", head + "    min_share: 90%\n    parser: xml\n",
			`budgets.yaml:7:13: budgets[0].parser: invalid parser "xml": want json or logfmt`},
		{"no required field", head + "    min_share: 90%\n    require_fields: []\n",
			`budgets.yaml:7:21: budgets[0].require_fields: no field: name at least one, e.g. [trace_id, span_id]`},
		{"a field that is no label name", head + "    min_share: 90%\n    require_fields: [trace.id]\n",
			`budgets.yaml:7:22: budgets[0].require_fields[0]: invalid label name "trace.id": Loki's parsers name that field "trace_id"`},
		{"a field that no parser names", head + "    min_share: 90%\n    require_fields: [trace_id, 'é']\n",
			`budgets.yaml:7:32: budgets[0].require_fields[1]: invalid label name "é"`},
		{"a field listed twice", head + "    min_share: 90%\n    require_fields: [trace_id, trace_id]\n",
			`label "trace_id" listed twice`},
		{"a reserved field", head + "    min_share: 90%\n    require_fields: [__error__]\n",
			`budgets.yaml:7:22: budgets[0].require_fields[0]: "__error__" is a reserved label name (it starts with __): no parser extracts it`},
		{"a group that is a required field", head + "    min_share: 90%\n    by: [service, trace_id]\n",
			`budgets.yaml:7:19: budgets[0].by[1]: "trace_id" is a required field: the structured lines would be grouped by its value in each line; group by stream labels`},
		{"a bad selector", "version: 1\nbudgets:\n  - name: st\n    type: log_structure\n    selector: 'env=\"prod\"'\n    min_share: 90%\n",
			`budgets.yaml:5:16: budgets[0].selector: invalid LogQL stream selector: parse error at line 1, col 1: syntax error: unexpected IDENTIFIER`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hostileLoad(t, tc.text, nil)
			if !strings.Contains(got, tc.want) {
				t.Errorf("error\n%s\nwant it to hold\n%s", got, tc.want)
			}
			if tc.name == "a field that no parser names" && strings.Contains(got, "Loki's parsers name") {
				t.Errorf("error %s: no name to suggest for a field of only other characters", got)
			}
		})
	}
	if got := hostileLoad(t, head+"    min_share: 0.9\n    warn_min_share: 95%\n    parser: logfmt\n    require_fields: trace_id\n", nil); got != "" {
		t.Errorf("a valid budget is refused: %s", got)
	}
}
