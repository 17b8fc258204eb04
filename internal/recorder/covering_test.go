package recorder

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/lokitest"
)

// TestRecordLogsFetchesCoveredSelectorsOnce records the degraded fixture's
// logs for budgets whose selectors overlap, with and without leaving out
// the selectors another one covers: the files are byte for byte the same,
// and Loki is asked less and sends less.
func TestRecordLogsFetchesCoveredSelectorsOnce(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC)
	queries := []string{
		`sum(count_over_time({env="prod"}[1h]))`,
		`sum by (service) (bytes_over_time({env="prod", service="api"}[5m]))`,    // covered: more matchers, shorter window
		`sum(count_over_time({service="worker", env="prod"} |= "error" [1h]))`,   // covered: same window; line filters do not matter
		`sum(count_over_time({env="prod", service="scanner"}[2h]))`,              // not covered: a longer window
		`sum(count_over_time({service="api"}[30m]))`,                             // not covered: overlaps, not contained
		`sum(count_over_time({env="prod", service=~"api|worker"} | json [10m]))`, // covered
	}
	sels, err := PlanLogs(queries, at)
	if err != nil {
		t.Fatal(err)
	}
	type recording struct {
		file      []byte
		stats     LogStats
		selectors []string
		bytes     int64
	}
	record := func(skip bool) recording {
		defer func(v bool) { skipCovered = v }(skipCovered)
		skipCovered = skip
		srv := lokitest.Start(t, lokitest.WithJSONL(filepath.Join("..", "..", "testdata", "snapshots", "degraded", "logs.jsonl.gz")))
		var buf bytes.Buffer
		st, err := recordLogs(context.Background(), lokiClient(t, srv), sels, at, &buf)
		if err != nil {
			t.Fatal(err)
		}
		var asked []string
		for _, r := range srv.Requests() {
			if q := r.Form.Get("query"); !slices.Contains(asked, q) {
				asked = append(asked, q)
			}
		}
		slices.Sort(asked)
		return recording{buf.Bytes(), st, asked, srv.BytesWritten()}
	}
	before, after := record(false), record(true)

	if !bytes.Equal(before.file, after.file) {
		t.Fatalf("logs.jsonl differs when covered selectors are left out: %d bytes, was %d", len(after.file), len(before.file))
	}
	if before.stats.Entries != after.stats.Entries || after.stats.Entries == 0 {
		t.Errorf("entries: %d, was %d", after.stats.Entries, before.stats.Entries)
	}
	wantAsked := []string{`{env="prod", service="scanner"}`, `{env="prod"}`, `{service="api"}`}
	if !reflect.DeepEqual(after.selectors, wantAsked) {
		t.Errorf("Loki was asked for %q, want %q", after.selectors, wantAsked)
	}
	if len(before.selectors) != 6 {
		t.Errorf("without leaving any out, Loki was asked for %q, want all six", before.selectors)
	}
	if after.stats.Selectors != 6 || after.stats.Covered != 3 {
		t.Errorf("stats: %d selectors, %d covered; want 6, 3", after.stats.Selectors, after.stats.Covered)
	}
	if after.bytes >= before.bytes || after.stats.Requests >= before.stats.Requests {
		t.Errorf("Loki sent %d bytes in %d requests, %d bytes in %d before: no saving", after.bytes, after.stats.Requests, before.bytes, before.stats.Requests)
	}
	t.Logf("raw log recording, degraded fixture, six overlapping selectors: %d requests / %d bytes from Loki before, %d / %d after (%.0f%% less); logs.jsonl %d bytes either way",
		before.stats.Requests, before.bytes, after.stats.Requests, after.bytes, 100*(1-float64(after.bytes)/float64(before.bytes)), len(after.file))
}

func TestCoveringSelectors(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		queries []string
		fetch   []string
	}{
		{"same selector", []string{`count_over_time({a="1"}[1h])`, `count_over_time({a="1"}[5m])`}, []string{`{a="1"}`}},
		{"narrower and shorter", []string{`count_over_time({a="1"}[1h])`, `count_over_time({a="1", b="2"}[5m])`}, []string{`{a="1"}`}},
		{"narrower but longer", []string{`count_over_time({a="1"}[1h])`, `count_over_time({a="1", b="2"}[2h])`}, []string{`{a="1", b="2"}`, `{a="1"}`}},
		{"regexp is not equality", []string{`count_over_time({a=~"1"}[1h])`, `count_over_time({a="1", b="2"}[5m])`}, []string{`{a="1", b="2"}`, `{a=~"1"}`}},
		{"negation differs", []string{`count_over_time({a!="1", c="3"}[1h])`, `count_over_time({a="1", c="3"}[5m])`}, []string{`{a!="1", c="3"}`, `{a="1", c="3"}`}},
		{"chain", []string{`count_over_time({a="1", b="2", c="3"}[1m])`, `count_over_time({a="1", b="2"}[5m])`, `count_over_time({a="1"}[1h])`}, []string{`{a="1"}`}},
		{"disjoint", []string{`count_over_time({a="1"}[1h])`, `count_over_time({b="2"}[1h])`}, []string{`{a="1"}`, `{b="2"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sels, err := PlanLogs(tc.queries, at)
			if err != nil {
				t.Fatal(err)
			}
			fetch, queries := coveringSelectors(sels)
			var got []string
			var all []string
			for _, s := range fetch {
				got = append(got, s.Text)
				all = append(all, queries[s]...)
			}
			if !reflect.DeepEqual(got, tc.fetch) {
				t.Errorf("fetched %q, want %q", got, tc.fetch)
			}
			// Every query's warnings still have a fetch to come with.
			slices.Sort(all)
			want := slices.Sorted(slices.Values(tc.queries))
			if !reflect.DeepEqual(all, want) {
				t.Errorf("queries of the fetches %q, want %q", all, want)
			}
		})
	}
}
