package lokitest

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/logql"
)

// TestHostileDetectedLevel: the Loki test server attaches detected_level
// as Loki 3.7 does, in metric queries and in log queries.
func TestHostileDetectedLevel(t *testing.T) {
	at := T.Add(-time.Minute).UnixNano()
	var entries []logql.Entry
	for i, c := range []struct{ level, line string }{
		{"", "retrying after error, info will follow"},
		{"", "informational message only"},
		{"", "fatal: out of memory"},
		{"", "critical failure in module"},
		{"Information", "started"},
	} {
		ls := map[string]string{"service": "api", "n": string(rune('a' + i))}
		if c.level != "" {
			ls["level"] = c.level
		}
		entries = append(entries, logql.Entry{TS: at, Labels: ls, Line: c.line})
	}
	srv := Start(t, WithEntries(entries))
	_, _, body := get(t, srv, "/loki/api/v1/query", url.Values{
		"query": {`sum by (n, detected_level) (count_over_time({service="api"}[1h]))`}, "time": {"1795718400"},
	}, nil)
	want := `{"status":"success","data":{"resultType":"vector","result":[` +
		`{"metric":{"detected_level":"critical","n":"d"},"value":[1795718400,"1"]},` +
		`{"metric":{"detected_level":"error","n":"a"},"value":[1795718400,"1"]},` +
		`{"metric":{"detected_level":"fatal","n":"c"},"value":[1795718400,"1"]},` +
		`{"metric":{"detected_level":"info","n":"e"},"value":[1795718400,"1"]},` +
		`{"metric":{"detected_level":"unknown","n":"b"},"value":[1795718400,"1"]}]`
	if len(body) < len(want) || body[:len(want)] != want {
		t.Errorf("body\n got: %s\nwant: %s...", body, want)
	}
	_, _, body = get(t, srv, "/loki/api/v1/query_range", url.Values{
		"query": {`{service="api", n="e"}`}, "start": {"1795714800"}, "end": {"1795718400"},
	}, nil)
	if want := `"detected_level":"info"`; !strings.Contains(body, want) {
		t.Errorf("log query: %s, want it to hold %s", body, want)
	}
}
