package grafana

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const varsDashboard = `{
  "title": "Vars",
  "time": {"from": "now-6h", "to": "now"},
  "__inputs": [{"name": "DS_LOKI", "type": "datasource", "pluginId": "loki"}],
  "templating": {"list": [
    {"name": "job", "type": "query", "current": {"text": "api", "value": "api"}},
    {"name": "queue", "type": "custom", "multi": true, "current": {"text": ["default", "batch.v2"], "value": ["default", "batch.v2"]}},
    {"name": "one", "type": "custom", "multi": true, "current": {"text": ["a.b"], "value": ["a.b"]}},
    {"name": "kind", "type": "query", "includeAll": true, "current": {"text": "All", "value": "$__all"}},
    {"name": "svc", "type": "query", "includeAll": true, "allValue": "api|worker", "current": {"text": ["All"], "value": ["$__all"]}},
    {"name": "win", "type": "interval", "query": "5m,10m,1h"},
    {"name": "env", "type": "constant", "query": "prod"},
    {"name": "path", "type": "textbox", "current": {"text": "C:\\tmp\\o'k", "value": "C:\\tmp\\o'k"}},
    {"name": "empty", "type": "query", "current": {}},
    {"name": "ds", "type": "datasource", "query": "prometheus", "current": {"text": "Prom", "value": "P1"}}
  ]},
  "panels": []
}`

func TestInterpolate(t *testing.T) {
	d, err := Load([]byte(varsDashboard))
	if err != nil {
		t.Fatal(err)
	}
	if d.Range != 6*time.Hour {
		t.Fatalf("range %s", d.Range)
	}
	iv := IntervalsFor(d.Range)
	tests := []struct{ in, want string }{
		{`rate(secflow_requests_total{job="$job"}[$__rate_interval])`, `rate(secflow_requests_total{job="api"}[1m15s])`},
		{`rate(x[$__interval]) * $__interval_ms`, `rate(x[1m]) * 60000`},
		{`increase(x[$__range]) / $__range_s / $__range_ms`, `increase(x[21600s]) / 21600 / 21600000`},
		{`x{job="${job}"}`, `x{job="api"}`},
		{`x{job="[[job]]"}`, `x{job="api"}`},
		{`x{queue=~"$queue"}`, `x{queue=~"(default|batch\\.v2)"}`},
		{`x{queue=~"${queue:regex}"}`, `x{queue=~"(default|batch\.v2)"}`},
		{`x{queue=~"${queue:pipe}"}`, `x{queue=~"default|batch.v2"}`},
		{`x{queue=~"[[queue:csv]]"}`, `x{queue=~"default,batch.v2"}`},
		{`${queue:json} ${queue:singlequote} ${queue:doublequote} ${queue:glob} ${queue:text}`, `["default","batch.v2"] 'default','batch.v2' "default","batch.v2" {default,batch.v2} default + batch.v2`},
		{`x{one=~"$one"}`, `x{one=~"a\\.b"}`},
		{`x{kind=~"$kind"}`, `x{kind=~".*"}`},
		{`x{service=~"$svc"}`, `x{service=~"api|worker"}`},
		{`rate(x[$win]) and on() vector($env == 1)`, `rate(x[5m]) and on() vector(prod == 1)`},
		{`label_replace(x, "dst", "$1", "src", "(.*)")`, `label_replace(x, "dst", "$1", "src", "(.*)")`},
		{`x{a=~"foo$"}`, `x{a=~"foo$"}`},
		{`x{path="$path"}`, `x{path="C:\\tmp\\o\\'k"}`},
		{`${path:raw}`, `C:\tmp\o'k`},
	}
	for _, tt := range tests {
		got, err := d.Interpolate(tt.in, iv)
		if err != nil {
			t.Errorf("%s: %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.in, got, tt.want)
		}
	}
}

func TestInterpolateUnknown(t *testing.T) {
	d, err := Load([]byte(varsDashboard))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ in, name, msg string }{
		{`x{job="$nope"}`, "nope", "unknown variable $nope: the dashboard's templating defines no such variable"},
		{`x{job="${cluster}"}`, "cluster", "unknown variable $cluster: the dashboard's templating defines no such variable"},
		{`rate(x[$__nope])`, "__nope", "unknown variable $__nope: the dashboard's templating defines no such variable"},
		{`x{job="$empty"}`, "empty", "variable $empty has no current value in the dashboard to substitute"},
		{`x{job="${job:lucene2}"}`, "job", `variable $job with format "lucene2": not one of Grafana's formats (regex, pipe, csv, raw, text, glob, json, singlequote, doublequote, percentencode, queryparam)`},
	}
	for _, tt := range tests {
		_, err := d.Interpolate(tt.in, IntervalsFor(time.Hour))
		var uv *UnknownVariableError
		if !errors.As(err, &uv) || uv.Name != tt.name || err.Error() != tt.msg {
			t.Errorf("%s: got %v, want %s", tt.in, err, tt.msg)
		}
	}
}

func TestLoadPanels(t *testing.T) {
	const dash = `{"dashboard": {
	  "title": "Nested",
	  "templating": {"list": [{"name": "DS", "type": "datasource", "query": "loki"}]},
	  "panels": [
	    {"id": 1, "title": "Top", "datasource": {"type": "prometheus", "uid": "p"}, "targets": [
	      {"refId": "A", "expr": "up"},
	      {"refId": "B", "expr": "up", "hide": true},
	      {"refId": "C"},
	      {"expr": "sum(up)"}
	    ]},
	    {"id": 2, "type": "row", "title": "Collapsed", "collapsed": true, "panels": [
	      {"id": 3, "title": "Logs", "datasource": "${DS}", "targets": [{"refId": "A", "expr": "{service=\"api\"}"}]},
	      {"id": 4, "title": "Mixed", "datasource": {"type": "datasource", "uid": "-- Mixed --"}, "targets": [
	        {"refId": "A", "expr": "count_over_time({a=\"b\"}[1m])", "datasource": {"uid": "${DS}"}},
	        {"refId": "B", "expr": "up", "datasource": {"type": "prometheus"}},
	        {"refId": "C", "expr": "1+1", "datasource": {"type": "__expr__"}}
	      ]}
	    ]},
	    {"id": 5, "targets": [{"refId": "A", "expr": "up", "datasource": "Loki prod"}]}
	  ]},
	  "meta": {}}`
	d, err := Load([]byte(dash))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range d.Targets {
		got = append(got, tg.Panel+"/"+tg.RefID+"/"+tg.Datasource+"/"+tg.Expr)
	}
	want := []string{
		"Top/A/prometheus/up",
		"Top/D/prometheus/sum(up)",
		`Logs/A/loki/{service="api"}`,
		`Mixed/A/loki/count_over_time({a="b"}[1m])`,
		"Mixed/B/prometheus/up",
		"panel 5/A/loki/up",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if d.Title != "Nested" {
		t.Errorf("title %q", d.Title)
	}

	old := `{"title": "Old", "rows": [{"title": "r", "datasource": "Loki", "panels": [{"id": 1, "title": "P", "targets": [{"refId": "A", "expr": "{a=\"b\"}"}]}]}]}`
	d, err = Load([]byte(old))
	if err != nil || len(d.Targets) != 1 || d.Targets[0].Datasource != Loki || d.Targets[0].Panel != "P" {
		t.Errorf("old rows schema: %+v %v", d, err)
	}
}

func TestLoadNotADashboard(t *testing.T) {
	tests := []struct{ in, msg string }{
		{`groups: []`, "not JSON: line 1, column 1: invalid character 'g' looking for beginning of value"},
		{"{\n  \"title\": \"x\",\n  oops\n}", "not JSON: line 3, column 3: invalid character 'o' looking for beginning of object key string"},
		{`{"title": "x"}`, `not a Grafana dashboard: no "panels" or "rows" list at the top`},
		{`[1, 2]`, "not a Grafana dashboard: the file is not a JSON object"},
		{``, "not JSON: the file is empty or ends early"},
		{`{"panels": []} {}`, "not a Grafana dashboard: more than one JSON value"},
	}
	for _, tt := range tests {
		_, err := Load([]byte(tt.in))
		if err == nil || err.Error() != tt.msg {
			t.Errorf("%q: got %v, want %s", tt.in, err, tt.msg)
		}
	}
}

func TestRefLetter(t *testing.T) {
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA"} {
		if got := refLetter(i); got != want {
			t.Errorf("refLetter(%d) = %s, want %s", i, got, want)
		}
	}
}

// TestInterpolateExpansionBounded: a long value referenced many times
// must not grow a small expression into gigabytes.
func TestInterpolateExpansionBounded(t *testing.T) {
	val := strings.Repeat("x", 64<<10)
	d, err := Load([]byte(`{"templating": {"list": [{"name": "v", "type": "constant", "query": "` + val + `"}]}, "panels": []}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Interpolate(strings.Repeat("$v", 16), IntervalsFor(time.Hour)); err != nil {
		t.Errorf("1 MiB of substitutions: %v", err)
	}
	out, err := d.Interpolate(strings.Repeat("$v", 17), IntervalsFor(time.Hour))
	if err == nil || !strings.Contains(err.Error(), "more than 1 MiB") || out != "" {
		t.Errorf("got %d bytes, %v; want an error saying the expansion passes 1 MiB", len(out), err)
	}
}

// TestLoadNonStringExpr: a target whose expr is not a string is kept
// with a problem (so the budget fails it), not dropped unseen; a null
// or missing expr is a target without an expression, as before.
func TestLoadNonStringExpr(t *testing.T) {
	d, err := Load([]byte(`{"panels": [{"title": "P", "targets": [
	  {"refId": "A", "expr": 42}, {"refId": "B", "expr": ["up"]}, {"refId": "C", "expr": {"x": "up"}},
	  {"refId": "D", "expr": true}, {"refId": "E", "expr": null}, {"refId": "F"}, {"refId": "G", "expr": 1, "hide": true}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tg := range d.Targets {
		got = append(got, tg.RefID+": "+tg.Problem)
	}
	want := []string{
		"A: the target's expr is a number, not a string",
		"B: the target's expr is a list, not a string",
		"C: the target's expr is an object, not a string",
		"D: the target's expr is a boolean, not a string",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("targets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
