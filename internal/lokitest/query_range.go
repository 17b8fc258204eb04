package lokitest

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/logql"
)

// Loki's defaults for log queries over a range.
const (
	defaultRangeLimit = 100
	// maxEntriesLimit is Loki's default max_entries_limit_per_query.
	maxEntriesLimit = 5000
	// defaultQueryRange is how far back a query_range without start looks.
	defaultQueryRange = time.Hour
)

// EncodingFlagsHeader asks Loki to keep structured metadata apart from
// the stream labels in log query answers.
const EncodingFlagsHeader = "X-Loki-Response-Encoding-Flags"

// handleQueryRange answers log queries (a stream selector and line
// filters) with Loki's "streams" result: entries with start <= ts < end,
// the first limit of them in the direction asked (backward, newest first,
// unless direction=forward), grouped by stream, streams sorted by labels.
//
// Each entry carries the labels Loki gives it at ingestion: service_name
// as an index label and detected_level as structured metadata, which Loki
// merges into the stream labels unless the request sends
// "X-Loki-Response-Encoding-Flags: categorize-labels". Metric queries over
// a range are not served (501).
func (s *Server) handleQueryRange(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	text := r.Form.Get("query")
	if _, err := logql.Parse(text); err == nil {
		writeText(w, http.StatusNotImplemented, "lokitest: metric queries over a range are not implemented\n")
		return
	}
	q, err := logql.ParseLogQuery(text)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	end, err := parseTime(r.Form.Get("end"), time.Now())
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	start, err := parseTime(r.Form.Get("start"), end.Add(-defaultQueryRange))
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	if end.Before(start) {
		writeText(w, http.StatusBadRequest, "end timestamp must not be before or equal to start time")
		return
	}
	limit := defaultRangeLimit
	if v := r.Form.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit <= 0 {
			writeText(w, http.StatusBadRequest, fmt.Sprintf("invalid limit %q: must be a positive integer", v))
			return
		}
	}
	if limit > maxEntriesLimit {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("max entries limit per query exceeded, limit > max_entries_limit_per_query (%d > %d)", limit, maxEntriesLimit))
		return
	}
	forward := false
	switch d := strings.ToLower(r.Form.Get("direction")); d {
	case "forward":
		forward = true
	case "", "backward":
	default:
		writeText(w, http.StatusBadRequest, fmt.Sprintf("invalid direction %q: want forward or backward", d))
		return
	}
	categorize := slices.Contains(strings.Split(r.Header.Get(EncodingFlagsHeader), ","), "categorize-labels")

	// The entries are sorted by time; [lo, hi) is start <= ts < end.
	all := s.snapshot(tenant)
	lo := sortSearch(all, start.UnixNano())
	hi := sortSearch(all, end.UnixNano())
	var picked []rangeEntry
	pick := func(e logql.Entry) bool {
		ls := logql.StreamLabels(e.Labels)
		if !q.Selects(ls, e.Line) {
			return true
		}
		picked = append(picked, rangeEntry{Entry: e, stream: ls, level: logql.DetectedLevel(e.Labels, e.Line)})
		return len(picked) < limit
	}
	if forward {
		for i := lo; i < hi && pick(all[i]); i++ {
		}
	} else {
		for i := hi - 1; i >= lo && pick(all[i]); i-- {
		}
	}
	writeJSON(w, streamsBody(picked, categorize))
}

// sortSearch is the index of the first entry at or after ts.
func sortSearch(entries []logql.Entry, ts int64) int {
	return sort.Search(len(entries), func(i int) bool { return entries[i].TS >= ts })
}

type rangeEntry struct {
	logql.Entry
	stream map[string]string // index labels: pushed ones and service_name
	level  string            // detected_level
}

// streamsBody renders entries, in the order picked, as Loki's streams
// result (without "stats").
func streamsBody(entries []rangeEntry, categorize bool) []byte {
	type group struct {
		labels  model.Metric
		entries []rangeEntry
	}
	byKey := map[string]*group{}
	var groups []*group
	for _, e := range entries {
		ls := model.Metric{}
		for k, v := range e.stream {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		if !categorize {
			ls[logql.DetectedLevelLabel] = model.LabelValue(e.level)
		}
		key := ls.String()
		g := byKey[key]
		if g == nil {
			g = &group{labels: ls}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.entries = append(g.entries, e)
	}
	slices.SortStableFunc(groups, func(a, b *group) int { return compareMetrics(a.labels, b.labels) })

	var b bytes.Buffer
	b.WriteString(`{"status":"success","data":{"resultType":"streams",`)
	if categorize {
		b.WriteString(`"encodingFlags":["categorize-labels"],`)
	}
	b.WriteString(`"result":[`)
	for i, g := range groups {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"stream":`)
		writeMetric(&b, g.labels)
		b.WriteString(`,"values":[`)
		for j, e := range g.entries {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`["`)
			b.WriteString(strconv.FormatInt(e.TS, 10))
			b.WriteString(`",`)
			writeJSONString(&b, e.Line)
			if categorize {
				b.WriteString(`,{"structuredMetadata":{"detected_level":`)
				writeJSONString(&b, e.level)
				b.WriteString(`}}`)
			}
			b.WriteByte(']')
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}
