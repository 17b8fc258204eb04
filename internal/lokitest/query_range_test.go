package lokitest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// streamsAnswer is what a log query's answer says, stats aside.
type streamsAnswer struct {
	Status string `json:"status"`
	Data   struct {
		ResultType    string   `json:"resultType"`
		EncodingFlags []string `json:"encodingFlags"`
		Result        []struct {
			Stream map[string]string   `json:"stream"`
			Values [][]json.RawMessage `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

// TestRecordedLogQueries replays the log queries recorded from Loki
// (query_range, with and without categorize-labels, a line filter, the
// window's edges) and compares streams, entries and structured metadata.
func TestRecordedLogQueries(t *testing.T) {
	entries := loadShared(t)
	recs := loadRecorded(t)
	srv := Start(t, WithEntries(entries))
	n := 0
	for name, rec := range recs {
		if rec.Endpoint != "/loki/api/v1/query_range" {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			status, ct, body := send(t, srv, rec)
			if status != rec.Status || mediaType(ct) != mediaType(rec.ContentType) {
				t.Fatalf("%d %s, want %d %s: %s", status, ct, rec.Status, rec.ContentType, truncate(body))
			}
			var got, want streamsAnswer
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(rec.Body), &want); err != nil {
				t.Fatal(err)
			}
			if len(want.Data.Result) == 0 {
				t.Fatal("the recording holds no stream: nothing compared")
			}
			// Compare values as decoded JSON: Loki and we may escape
			// the same line differently.
			if !reflect.DeepEqual(normalize(t, got), normalize(t, want)) {
				t.Errorf("answer\n%s\nwant\n%s", truncate(body), truncate(rec.Body))
			}
		})
	}
	if n < 3 {
		t.Errorf("only %d recorded log queries found", n)
	}
}

func normalize(t *testing.T, a streamsAnswer) any {
	t.Helper()
	type stream struct {
		Labels map[string]string
		Values [][]any
	}
	out := struct {
		Status, Type string
		Flags        []string
		Streams      []stream
	}{a.Status, a.Data.ResultType, a.Data.EncodingFlags, nil}
	for _, r := range a.Data.Result {
		s := stream{Labels: r.Stream}
		for _, v := range r.Values {
			var row []any
			for _, raw := range v {
				var x any
				if err := json.Unmarshal(raw, &x); err != nil {
					t.Fatal(err)
				}
				row = append(row, x)
			}
			s.Values = append(s.Values, row)
		}
		out.Streams = append(out.Streams, s)
	}
	return out
}

func TestQueryRangeDirectionLimitAndErrors(t *testing.T) {
	T := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	srv := Start(t, WithEntries(entriesAt("api", 5, T, "hello")), WithEntries(entriesAt("worker", 5, T, "bye")))
	params := url.Values{
		"query": {`{service="api"} |= "hell"`}, "start": {"1795694300"}, "end": {"1795694400"},
		"limit": {"2"}, "direction": {"forward"},
	}
	status, _, body := get(t, srv, "/loki/api/v1/query_range", params, nil)
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var a streamsAnswer
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Data.Result) != 1 || len(a.Data.Result[0].Values) != 2 {
		t.Fatalf("want one stream of 2 entries: %s", body)
	}
	// Forward: the oldest first (T-5s, T-4s).
	if got := string(a.Data.Result[0].Values[0][0]); got != `"1795694395000000000"` {
		t.Errorf("first entry at %s, want T-5s", got)
	}
	if got := a.Data.Result[0].Stream; got["service_name"] != "api" || got["detected_level"] != "unknown" {
		t.Errorf("stream labels %v: want service_name and detected_level merged in", got)
	}
	params.Set("direction", "backward")
	_, _, body = get(t, srv, "/loki/api/v1/query_range", params, nil)
	if !strings.Contains(body, `"1795694399000000000"`) || strings.Contains(body, `"1795694395000000000"`) {
		t.Errorf("backward: want the newest entries: %s", body)
	}
	// end is exclusive: an entry exactly at end is not returned.
	params.Set("end", "1795694399")
	params.Set("limit", "100")
	_, _, body = get(t, srv, "/loki/api/v1/query_range", params, nil)
	if strings.Contains(body, `"1795694399000000000"`) || !strings.Contains(body, `"1795694398000000000"`) {
		t.Errorf("end must be exclusive: %s", body)
	}

	for _, c := range []struct {
		query, limit string
		status       int
	}{
		{`{service="api"} | json`, "10", http.StatusBadRequest},
		{`{service=~".*"}`, "10", http.StatusBadRequest},
		{`{service="api"}`, "5001", http.StatusBadRequest},
		{`sum(count_over_time({service="api"}[1h]))`, "10", http.StatusNotImplemented},
	} {
		params.Set("query", c.query)
		params.Set("limit", c.limit)
		status, ct, body := get(t, srv, "/loki/api/v1/query_range", params, nil)
		if status != c.status || !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s limit %s: %d %s %q, want %d", c.query, c.limit, status, ct, body, c.status)
		}
	}
}
