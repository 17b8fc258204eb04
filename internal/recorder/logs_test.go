package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/logql"
	"github.com/secflow/secflow-budget/internal/lokitest"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/loki"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

func lokiClient(t *testing.T, srv *lokitest.Server) *loki.Client {
	t.Helper()
	c, err := loki.New(&config.Source{URL: srv.URL, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPlanLogs(t *testing.T) {
	sels, err := PlanLogs([]string{
		`sum by (service) (bytes_over_time({env="prod"}[5m]))`,
		`sum(count_over_time({env="prod"} |~ "x" [1h]))`,
		`sum(count_over_time({service="api", env="prod"}[30m]))`,
		`sum(count_over_time({env="prod",service="api"}[10m]))`,
	}, planAt)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]time.Duration{}
	for _, s := range sels {
		got[s.Text] = planAt.Sub(s.From)
	}
	want := map[string]time.Duration{`{env="prod"}`: time.Hour, `{env="prod", service="api"}`: 30 * time.Minute}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// readEntries decodes logs.jsonl as the snapshot holds it.
func readEntries(t *testing.T, b []byte) []logql.Entry {
	t.Helper()
	es, err := lokitest.DecodeJSONL(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func key(e logql.Entry) string {
	return fmt.Sprintf("%d %v %q", e.TS, e.Labels, e.Line)
}

// TestRecordLogsPagesAndMerges records two overlapping selectors in pages
// that end inside runs of entries sharing a timestamp: every entry in
// the windows comes out once, in time order, with the labels it was
// pushed with.
func TestRecordLogsPagesAndMerges(t *testing.T) {
	defer func(n int) { pageLimit = n }(pageLimit)
	pageLimit = 5
	at := planAt
	var entries []logql.Entry
	for i := range 20 {
		ts := at.Add(-time.Duration(i/2) * time.Minute).UnixNano() // 4 entries per time
		for _, svc := range []string{"api", "worker"} {
			entries = append(entries, logql.Entry{TS: ts, Labels: map[string]string{"env": "prod", "service": svc}, Line: fmt.Sprintf(`{"level":"info","n":%d}`, i)})
		}
	}
	// Outside every window, and in another environment.
	entries = append(entries,
		logql.Entry{TS: at.Add(-2 * time.Hour).UnixNano(), Labels: map[string]string{"env": "prod", "service": "api"}, Line: "old"},
		logql.Entry{TS: at.Add(time.Nanosecond).UnixNano(), Labels: map[string]string{"env": "prod", "service": "api"}, Line: "after"},
		logql.Entry{TS: at.UnixNano(), Labels: map[string]string{"env": "dev", "service": "api"}, Line: "dev"},
	)
	srv := lokitest.Start(t, lokitest.WithEntries(entries))
	sels, err := PlanLogs([]string{
		`sum(count_over_time({env="prod"}[1h]))`,
		`sum(count_over_time({service="api"}[3m]))`, // overlaps: the api entries of prod and dev
	}, at)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	st, err := recordLogs(context.Background(), lokiClient(t, srv), sels, at, &buf)
	if err != nil {
		t.Fatal(err)
	}
	got := readEntries(t, buf.Bytes())
	var want []logql.Entry
	for _, e := range entries {
		if e.TS > at.UnixNano() || e.TS < at.Add(-time.Hour).UnixNano() {
			continue
		}
		if e.Labels["env"] == "prod" || e.TS >= at.Add(-3*time.Minute).UnixNano() {
			want = append(want, e)
		}
	}
	if len(got) != len(want) || st.Entries != len(want) {
		t.Fatalf("%d entries (stats %d), want %d", len(got), st.Entries, len(want))
	}
	for i := 1; i < len(got); i++ {
		if got[i].TS < got[i-1].TS {
			t.Fatalf("entry %d out of time order", i)
		}
	}
	gk, wk := map[string]int{}, map[string]int{}
	for _, e := range got {
		gk[key(e)]++
	}
	for _, e := range want {
		wk[key(e)]++
	}
	if !reflect.DeepEqual(gk, wk) {
		t.Errorf("entries differ:\ngot  %v\nwant %v", gk, wk)
	}
	if st.Requests < 10 {
		t.Errorf("%d requests: pages of 5 should take more", st.Requests)
	}
}

func TestRecordLogsStuckPage(t *testing.T) {
	defer func(n int) { pageLimit = n }(pageLimit)
	pageLimit = 2
	at := planAt
	var entries []logql.Entry
	for i := range 3 {
		entries = append(entries, logql.Entry{TS: at.Add(-time.Minute).UnixNano(), Labels: map[string]string{"service": "api"}, Line: fmt.Sprint(i)})
	}
	srv := lokitest.Start(t, lokitest.WithEntries(entries))
	sels, _ := PlanLogs([]string{`sum(count_over_time({service="api"}[1h]))`}, at)
	_, err := recordLogs(context.Background(), lokiClient(t, srv), sels, at, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "more than 2 entries at") {
		t.Errorf("err = %v, want one saying the page cannot move past one timestamp", err)
	}
}

func TestSnapshotEntryLabels(t *testing.T) {
	line := `{"level":"warn","msg":"x"}`
	for _, c := range []struct {
		name string
		in   loki.LogEntry
		want map[string]string
	}{
		{
			name: "categorized: what Loki added goes",
			in:   loki.LogEntry{Labels: map[string]string{"service": "api", "service_name": "api"}, Metadata: map[string]string{"detected_level": "warn"}, Line: line},
			want: map[string]string{"service": "api"},
		},
		{
			name: "merged (older Loki or no categorize-labels): the same",
			in:   loki.LogEntry{Labels: map[string]string{"service": "api", "service_name": "api", "detected_level": "warn"}, Line: line},
			want: map[string]string{"service": "api"},
		},
		{
			name: "pushed values that differ from what Loki would derive stay",
			in:   loki.LogEntry{Labels: map[string]string{"service": "api", "service_name": "payments"}, Metadata: map[string]string{"detected_level": "error"}, Line: line},
			want: map[string]string{"service": "api", "service_name": "payments", "detected_level": "error"},
		},
		{
			name: "other structured metadata becomes labels",
			in:   loki.LogEntry{Labels: map[string]string{"app": "x", "service_name": "x"}, Metadata: map[string]string{"trace_id": "abc", "detected_level": "warn"}, Line: line},
			want: map[string]string{"app": "x", "trace_id": "abc"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, _ := snapshotEntry(c.in)
			if !reflect.DeepEqual(got.Labels, c.want) {
				t.Errorf("labels %v, want %v", got.Labels, c.want)
			}
		})
	}
}

// TestRecordedLogsAnswerAsLoki records the logs that Loki 3.7 answered
// for in testdata/loki, then evaluates every log budget query on the
// recording: the answers equal the Loki test server's on all the data.
func TestRecordedLogsAnswerAsLoki(t *testing.T) {
	shared := filepath.Join("..", "..", "testdata", "loki", "logs.jsonl")
	entries, err := lokitest.ReadJSONL(shared)
	if err != nil {
		t.Fatalf("recorded Loki data missing (testdata/loki belongs to the repository): %v", err)
	}
	srv := lokitest.Start(t, lokitest.WithEntries(entries))
	at := time.Unix(1795718400, 0)
	queries := []string{
		`sum by (service) (bytes_over_time({env="prod"}[30m]))`,
		`sum by (service, level) (count_over_time({env="prod"} | json | __error__="" [1h]))`,
		`sum by (service, level) (count_over_time({service="api"} | logfmt [1h]))`,
		`count_over_time({service="scanner"}[1h])`,
		`sum by (detected_level) (count_over_time({service="worker"}[1h]))`,
		`sum by (service) (count_over_time({env="prod"} |~ "(?i)password\\s*[=:]\\s*\\S+" [1h]))`,
	}
	sels, err := PlanLogs(queries, at)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := recordLogs(context.Background(), lokiClient(t, srv), sels, at, &buf); err != nil {
		t.Fatal(err)
	}
	recorded := readEntries(t, buf.Bytes())
	replay := lokitest.Start(t, lokitest.WithEntries(recorded))
	live, again := lokiClient(t, srv), lokiClient(t, replay)
	for _, q := range queries {
		want, err := live.Query(context.Background(), q, at)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		got, err := again.Query(context.Background(), q, at)
		if err != nil {
			t.Fatalf("%s on the recording: %v", q, err)
		}
		if len(want) == 0 {
			t.Fatalf("%s: no data to compare", q)
		}
		if a, b := vecString(got), vecString(want); a != b {
			t.Errorf("%s:\nrecorded %s\nlive     %s", q, a, b)
		}
	}
	// The recording holds the labels as pushed.
	for _, e := range recorded {
		if _, ok := e.Labels["service_name"]; ok {
			t.Fatalf("recorded entry keeps Loki's service_name: %v", e.Labels)
		}
	}
}

func vecString(v model.Vector) string {
	var parts []string
	for _, s := range v {
		parts = append(parts, s.Metric.String()+"="+s.Value.String())
	}
	sort.Strings(parts)
	b, _ := json.Marshal(parts)
	return string(b)
}

func TestRecordLogAggregates(t *testing.T) {
	at := planAt
	srv := lokitest.Start(t, lokitest.WithEntries([]logql.Entry{
		{TS: at.Add(-time.Minute).UnixNano(), Labels: map[string]string{"service": "api"}, Line: `{"level":"info"}`},
		{TS: at.Add(-time.Minute).UnixNano(), Labels: map[string]string{"service": "scanner"}, Line: `level=info not json`},
	}))
	dir := t.TempDir()
	var warnings []string
	o := Options{At: at, Loki: lokiClient(t, srv), Warn: func(s string) { warnings = append(warnings, s) }, LogQL: []string{
		`sum by (service) (count_over_time({service=~".+"}[1h]))`,
		`sum by (level) (count_over_time({service=~".+"} | json [1h]))`, // fails on the logfmt line, as in Loki
		`sum by (service) (count_over_time({service=~".+"}[1h]))`,
	}}
	n, err := recordLogAggregatesFile(context.Background(), dir, o)
	if err != nil || n != 2 {
		t.Fatalf("recorded %d queries: %v", n, err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, snapshot.LogAggregatesFile))
	var a snapshot.LogAggregates
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Queries) != 2 || len(a.Queries[0].Result) != 2 || a.Queries[1].Error == nil || a.Queries[1].Error.Kind != "bad_query" ||
		!strings.HasPrefix(a.Queries[1].Error.Message, "400 Bad Request: pipeline error") {
		t.Errorf("logs.aggregate.json:\n%s", b)
	}
	if len(warnings) != 1 {
		t.Errorf("warnings %q, want one for the refused query", warnings)
	}

	// A Loki that cannot be reached fails the recording.
	o.Loki = lokiClient(t, &lokitest.Server{URL: "http://127.0.0.1:1"})
	if _, err := recordLogAggregatesFile(context.Background(), t.TempDir(), o); sources.KindOf(err) != sources.Unavailable {
		t.Errorf("unreachable Loki: %v", err)
	}
}
