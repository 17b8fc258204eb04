package logql

import (
	"strings"
	"testing"
)

func TestParseLogQuery(t *testing.T) {
	q, err := ParseLogQuery(`{service="api", env=~"prod|stage"} |= "edge:" != "T-1h" |~ "(?i)edge"`)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.String(); got != `{service="api", env=~"prod|stage"} |= "edge:" != "T-1h" |~ "(?i)edge"` {
		t.Errorf("String() = %s", got)
	}
	ls := StreamLabels(map[string]string{"service": "api", "env": "prod"})
	for line, want := range map[string]bool{"an edge: T-30m": true, "edge: T-1h": false, "nothing": false} {
		if got := q.Selects(ls, line); got != want {
			t.Errorf("Selects(%q) = %v, want %v", line, got, want)
		}
	}
	if q.Selects(StreamLabels(map[string]string{"service": "api", "env": "dev"}), "edge:") {
		t.Error("a stream the matchers refuse was selected")
	}
	for _, c := range []struct{ q, msg string }{
		{`{service="api"} | json`, "unsupported"},
		{`sum(count_over_time({service="api"}[1h]))`, "unsupported: a metric query"},
		{`{service=~".*"}`, "empty-compatible"},
		{`{service="api"} |~ "("`, "stage '|~"},
		{`{service="api"`, "syntax error"},
	} {
		if _, err := ParseLogQuery(c.q); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %q", c.q, err, c.msg)
		}
	}
}

func TestIngestionLabels(t *testing.T) {
	if got := ServiceName(map[string]string{"app": "a", "job": "j"}); got != "a" {
		t.Errorf("ServiceName = %s", got)
	}
	if got := ServiceName(map[string]string{"env": "prod"}); got != "unknown_service" {
		t.Errorf("ServiceName = %s", got)
	}
	if got := StreamLabels(map[string]string{"service_name": "x", "service": "y", "empty": ""}); len(got) != 2 || got["service_name"] != "x" {
		t.Errorf("StreamLabels = %v", got)
	}
	for _, c := range []struct {
		labels map[string]string
		line   string
		want   string
	}{
		{map[string]string{"level": "WARNING"}, `{"level":"error"}`, "warn"},
		{map[string]string{"level": "crit"}, ``, "crit"},
		{map[string]string{"detected_level": "debug", "level": "info"}, ``, "debug"},
		{map[string]string{}, `{"level":"Err","msg":"x"}`, "error"},
		{map[string]string{}, `ts=1 level=debug msg=x`, "debug"},
		{map[string]string{}, `something INFO happened`, "info"},
		{map[string]string{}, `plain`, "unknown"},
	} {
		if got := DetectedLevel(c.labels, c.line); got != c.want {
			t.Errorf("DetectedLevel(%v, %q) = %s, want %s", c.labels, c.line, got, c.want)
		}
	}
}
