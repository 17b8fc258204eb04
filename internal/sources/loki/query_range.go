package loki

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/secflow/secflow-budget/internal/sources"
)

// queryRangePath is Loki's range query endpoint, relative to the base URL.
const queryRangePath = "loki/api/v1/query_range"

// encodingFlagsHeader with "categorize-labels" makes Loki (3.0 and later)
// answer a log query with the stream labels apart from each entry's
// structured metadata, instead of merging them.
const encodingFlagsHeader = "X-Loki-Response-Encoding-Flags"

// LogEntry is one entry of a log query's answer.
type LogEntry struct {
	TS int64 // unix nanoseconds
	// Labels are the stream's labels as Loki answered them: its index
	// labels (service_name included when Loki added it), merged with the
	// entry's structured metadata when Loki did not categorize them.
	Labels map[string]string
	// Metadata is the entry's structured metadata (detected_level among
	// them), when Loki categorized labels.
	Metadata map[string]string
	Line     string
}

// LogPage is one answer to QueryLogs.
type LogPage struct {
	// Entries in time order, oldest first; entries at the same time in
	// the order of their streams' labels.
	Entries []LogEntry
	// Categorized is whether Loki kept structured metadata apart.
	Categorized bool
}

// QueryLogs runs a log query (a stream selector, optionally with line
// filters) over start <= ts < end and returns its first limit entries,
// oldest first (direction=forward). Loki caps limit at its
// max_entries_limit_per_query (5000 by default) and refuses more with a
// BadQuery. Failures are *sources.Error as for Query, except when ctx
// itself ends: then the error wraps ctx.Err().
func (c *Client) QueryLogs(ctx context.Context, query string, start, end time.Time, limit int) (*LogPage, error) {
	u := *c.http.URL.JoinPath(queryRangePath)
	u.RawQuery = url.Values{
		"query":     {query},
		"start":     {strconv.FormatInt(start.UnixNano(), 10)},
		"end":       {strconv.FormatInt(end.UnixNano(), 10)},
		"limit":     {strconv.Itoa(limit)},
		"direction": {"forward"},
	}.Encode()
	header := http.Header{"Accept": {"application/json"}, encodingFlagsHeader: {"categorize-labels"}}
	resp, body, _, err := c.get(ctx, &u, header, c.http.RequestFailed)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.statusError(resp, body)
	}
	page, err := c.decodeStreams(ctx, resp, body)
	if err != nil {
		return nil, err
	}
	// Loki answers only what was asked. An answer that is not (entries
	// outside the range, more than the limit) would make a pager that
	// moves on from the last entry's time go back or never end.
	if len(page.Entries) > limit {
		return nil, c.http.Fail(sources.BadResponse, nil, "%s answered %d log entries to a query for at most %d", c.http.Redacted, len(page.Entries), limit)
	}
	for _, e := range page.Entries {
		if e.TS < start.UnixNano() || e.TS > end.UnixNano() {
			return nil, c.http.Fail(sources.BadResponse, nil, "%s answered a log entry at %s, outside the queried range %s to %s",
				c.http.Redacted, formatNanos(e.TS), formatNanos(start.UnixNano()), formatNanos(end.UnixNano()))
		}
	}
	return page, nil
}

func formatNanos(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}

// streamsResponse is Loki's answer to a log query.
type streamsResponse struct {
	Status   string   `json:"status"`
	Warnings []string `json:"warnings"`
	Data     struct {
		ResultType    string   `json:"resultType"`
		EncodingFlags []string `json:"encodingFlags"`
		Result        []struct {
			Stream map[string]string   `json:"stream"`
			Values [][]json.RawMessage `json:"values"`
		} `json:"result"`
	} `json:"data"`
	Error string `json:"error"`
}

// entryMetadata is the third element of an entry with categorized labels.
type entryMetadata struct {
	StructuredMetadata map[string]string `json:"structuredMetadata"`
}

func (c *Client) decodeStreams(ctx context.Context, resp *http.Response, body []byte) (*LogPage, error) {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "" {
		return nil, c.http.Fail(sources.BadResponse, nil, "unreadable response from %s (HTTP 200, %s): not a Loki API answer", c.http.Redacted, mt)
	}
	var r streamsResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, c.unreadable(err)
	}
	if r.Status != "success" {
		return nil, c.notSuccess(r.Status, r.Error)
	}
	if r.Data.ResultType != "streams" {
		return nil, c.http.Fail(sources.BadResponse, nil, "%s answered a log query with resultType %q, want streams", c.http.Redacted, r.Data.ResultType)
	}
	page := &LogPage{Categorized: slices.Contains(r.Data.EncodingFlags, "categorize-labels")}
	for _, st := range r.Data.Result {
		if st.Stream == nil {
			st.Stream = map[string]string{}
		}
		for _, v := range st.Values {
			if len(v) < 2 {
				return nil, c.http.Fail(sources.BadResponse, nil, "unreadable response from %s: an entry without timestamp and line", c.http.Redacted)
			}
			var tsText string
			if err := json.Unmarshal(v[0], &tsText); err != nil {
				return nil, c.unreadable(err)
			}
			ts, err := strconv.ParseInt(tsText, 10, 64)
			if err != nil {
				return nil, c.http.Fail(sources.BadResponse, nil, "unreadable response from %s: entry timestamp %q is not unix nanoseconds", c.http.Redacted, truncate(tsText, 40))
			}
			e := LogEntry{TS: ts, Labels: st.Stream}
			if err := json.Unmarshal(v[1], &e.Line); err != nil {
				return nil, c.unreadable(err)
			}
			if len(v) > 2 {
				var md entryMetadata
				if err := json.Unmarshal(v[2], &md); err != nil {
					return nil, c.unreadable(err)
				}
				e.Metadata = md.StructuredMetadata
			}
			page.Entries = append(page.Entries, e)
		}
	}
	c.addWarnings(ctx, r.Warnings)
	// Loki groups entries by stream; the streams come sorted by labels.
	// A stable sort by time keeps that order among equal times.
	slices.SortStableFunc(page.Entries, func(a, b LogEntry) int {
		switch {
		case a.TS < b.TS:
			return -1
		case a.TS > b.TS:
			return 1
		}
		return 0
	})
	return page, nil
}
