package lokitest

import (
	"bytes"
	"compress/gzip"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/logql"
)

// Content types exactly as Loki sends them.
const (
	jsonContentType = "application/json; charset=UTF-8"
	textContentType = "text/plain; charset=utf-8"
)

// labelsDefaultRange is how far back the label endpoints look when the
// request gives no start (Loki's default).
const labelsDefaultRange = 6 * time.Hour

// maxPushBytes bounds a push body, as Loki's own limit does.
const maxPushBytes = 64 << 20

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "ready\n")
	})
	api := func(pattern string, h func(http.ResponseWriter, *http.Request, string)) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			tenant, ok := s.authorize(w, r)
			if ok {
				h(w, r, tenant)
			}
		})
	}
	// /config is Loki's effective configuration, not tenant data: only a
	// gateway's credentials apply.
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		if s.settings.requireCred && !s.credentialsOK(r) {
			writeText(w, http.StatusUnauthorized, "Unauthorized\n")
			return
		}
		period := s.settings.retention
		if period == "" {
			period = "168h"
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "target: all\nlimits_config:\n  retention_period: %s\n  max_query_series: 500\ncompactor:\n  retention_enabled: true\n", period)
	})
	api("GET /loki/api/v1/query", s.handleQuery)
	api("POST /loki/api/v1/query", s.handleQuery)
	api("GET /loki/api/v1/labels", s.handleLabels)
	api("POST /loki/api/v1/labels", s.handleLabels)
	api("GET /loki/api/v1/label/{name}/values", s.handleLabelValues)
	api("POST /loki/api/v1/label/{name}/values", s.handleLabelValues)
	api("POST /loki/api/v1/push", s.handlePush)
	api("GET /loki/api/v1/query_range", s.handleQueryRange)
	api("POST /loki/api/v1/query_range", s.handleQueryRange)
	for _, p := range []string{
		"/loki/api/v1/series", "/loki/api/v1/tail",
		"/loki/api/v1/index/stats", "/loki/api/v1/index/volume", "/loki/api/v1/index/volume_range",
		"/loki/api/v1/patterns", "/loki/api/v1/detected_labels", "/loki/api/v1/detected_fields",
	} {
		api(p, func(w http.ResponseWriter, r *http.Request, _ string) {
			writeText(w, http.StatusNotImplemented, "lokitest: "+r.URL.Path+" is not implemented\n")
		})
	}
	return s.record(mux)
}

// record logs each request and counts the bytes of each response body.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := Request{Method: r.Method, Path: r.URL.Path, Form: r.URL.Query(), Header: r.Header.Clone()}
		// A POSTed form is part of what a test wants to see; buffering
		// it leaves it readable for the handler.
		if r.Method == http.MethodPost && isForm(r) {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxPushBytes))
			if err == nil {
				r.Body = io.NopCloser(bytes.NewReader(body))
				clone := r.Clone(r.Context())
				clone.Body = io.NopCloser(bytes.NewReader(body))
				if clone.ParseForm() == nil {
					req.Form = clone.Form
				}
			}
		}
		s.reqMu.Lock()
		s.requests = append(s.requests, req)
		s.reqMu.Unlock()
		next.ServeHTTP(&countingWriter{ResponseWriter: w, n: &s.bytesWritten}, r)
	})
}

func isForm(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == "application/x-www-form-urlencoded"
}

type countingWriter struct {
	http.ResponseWriter
	n interface{ Add(int64) int64 }
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(int64(n))
	return n, err
}

// authorize applies the gateway credentials (WithBearerToken,
// WithBasicAuth) and Loki's tenant rule, and returns the tenant whose data
// the request sees.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) (string, bool) {
	st := &s.settings
	if st.requireCred && !s.credentialsOK(r) {
		w.Header().Set("WWW-Authenticate", `Basic realm="loki"`)
		writeText(w, http.StatusUnauthorized, "Unauthorized\n")
		return "", false
	}
	if !st.auth {
		return DefaultTenant, true
	}
	tenant := r.Header.Get(TenantHeader)
	if tenant == "" {
		writeText(w, http.StatusUnauthorized, "no org id\n")
		return "", false
	}
	return tenant, true
}

func (s *Server) credentialsOK(r *http.Request) bool {
	st := &s.settings
	if st.bearer != "" {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(got), []byte(st.bearer)) == 1 {
			return true
		}
	}
	if st.basicUser != "" {
		u, p, ok := r.BasicAuth()
		if ok && u == st.basicUser && subtle.ConstantTimeCompare([]byte(p), []byte(st.basicPass)) == 1 {
			return true
		}
	}
	return false
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	at, err := parseTime(r.Form.Get("time"), time.Now())
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	q, err := logql.Parse(r.Form.Get("query"))
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	ev := logql.NewEvaluator(at, q)
	for _, e := range window(s.snapshot(tenant), at.UnixNano()-q.Range().Nanoseconds(), at.UnixNano()) {
		ev.Add(e)
	}
	vec, err := ev.Result(0)
	if err != nil {
		// Loki refuses both with 400; anything else is a bug here.
		code := http.StatusInternalServerError
		var pe *logql.PipelineError
		var le *logql.SeriesLimitError
		if errors.As(err, &pe) || errors.As(err, &le) {
			code = http.StatusBadRequest
		}
		writeText(w, code, err.Error())
		return
	}
	writeJSON(w, vectorBody(vec, at))
}

// window returns the entries (sorted by TS) with after < TS <= until: the
// only ones a range ending at until can count. Each stream's entries stay
// in time order, which the evaluator's duplicate detection relies on.
func window(entries []logql.Entry, after, until int64) []logql.Entry {
	lo := sort.Search(len(entries), func(i int) bool { return entries[i].TS > after })
	hi := sort.Search(len(entries), func(i int) bool { return entries[i].TS > until })
	return entries[lo:hi]
}

// vectorBody is Loki's answer to an instant metric query, byte for byte
// but without "stats": samples sorted by labels, metric keys sorted, every
// sample stamped with the query time.
func vectorBody(vec model.Vector, at time.Time) []byte {
	sort.SliceStable(vec, func(i, j int) bool { return compareMetrics(vec[i].Metric, vec[j].Metric) < 0 })
	ts := model.TimeFromUnixNano(at.UnixNano()).String()
	var b bytes.Buffer
	b.WriteString(`{"status":"success","data":{"resultType":"vector","result":[`)
	for i, smp := range vec {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"metric":`)
		writeMetric(&b, smp.Metric)
		b.WriteString(`,"value":[`)
		b.WriteString(ts)
		b.WriteString(`,"`)
		b.WriteString(smp.Value.String())
		b.WriteString(`"]}`)
	}
	b.WriteString(`]}}`)
	return b.Bytes()
}

func writeMetric(b *bytes.Buffer, m model.Metric) {
	names := sortedNames(m)
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(b, n)
		b.WriteByte(':')
		writeJSONString(b, string(m[model.LabelName(n)]))
	}
	b.WriteByte('}')
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}

func sortedNames(m model.Metric) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, string(n))
	}
	sort.Strings(names)
	return names
}

// compareMetrics orders label sets as Prometheus' labels.Compare does:
// label by label in name order, a prefix first.
func compareMetrics(a, b model.Metric) int {
	an, bn := sortedNames(a), sortedNames(b)
	for i := 0; i < len(an) && i < len(bn); i++ {
		if c := strings.Compare(an[i], bn[i]); c != 0 {
			return c
		}
		if c := strings.Compare(string(a[model.LabelName(an[i])]), string(b[model.LabelName(bn[i])])); c != 0 {
			return c
		}
	}
	return len(an) - len(bn)
}

func (s *Server) handleLabels(w http.ResponseWriter, r *http.Request, tenant string) {
	start, end, ok := labelRange(w, r)
	if !ok {
		return
	}
	names := map[string]struct{}{}
	for _, e := range s.snapshot(tenant) {
		if e.TS < start || e.TS > end {
			continue
		}
		for n := range streamLabels(e.Labels) {
			names[n] = struct{}{}
		}
	}
	writeStrings(w, names)
}

func (s *Server) handleLabelValues(w http.ResponseWriter, r *http.Request, tenant string) {
	start, end, ok := labelRange(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	values := map[string]struct{}{}
	for _, e := range s.snapshot(tenant) {
		if e.TS < start || e.TS > end {
			continue
		}
		if v, ok := streamLabels(e.Labels)[name]; ok {
			values[v] = struct{}{}
		}
	}
	writeStrings(w, values)
}

// labelRange reads start and end in unix nanoseconds (default: the last
// six hours).
func labelRange(w http.ResponseWriter, r *http.Request) (int64, int64, bool) {
	if err := r.ParseForm(); err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return 0, 0, false
	}
	end, err := parseTime(r.Form.Get("end"), time.Now())
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return 0, 0, false
	}
	start, err := parseTime(r.Form.Get("start"), end.Add(-labelsDefaultRange))
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return 0, 0, false
	}
	return start.UnixNano(), end.UnixNano(), true
}

// serviceNameSources are the labels Loki takes service_name from, in order,
// when a stream is pushed without one.
var serviceNameSources = []string{
	"service_name", "service", "app", "application", "name", "app_kubernetes_io_name",
	"container", "container_name", "k8s_container_name", "component", "workload", "job", "k8s_job_name",
}

// streamLabels are an entry's index labels as Loki stores them: the pushed
// ones with a value, plus service_name.
func streamLabels(ls map[string]string) map[string]string {
	out := make(map[string]string, len(ls)+1)
	for k, v := range ls {
		if v != "" {
			out[k] = v
		}
	}
	if _, ok := out["service_name"]; ok {
		return out
	}
	out["service_name"] = "unknown_service"
	for _, n := range serviceNameSources {
		if v := ls[n]; v != "" {
			out["service_name"] = v
			break
		}
	}
	return out
}

func writeStrings(w http.ResponseWriter, set map[string]struct{}) {
	list := make([]string, 0, len(set))
	for v := range set {
		list = append(list, v)
	}
	sort.Strings(list)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(struct {
		Status string   `json:"status"`
		Data   []string `json:"data"`
	}{"success", list})
	writeJSON(w, b.Bytes()) // with Encode's newline, as Loki's
}

// pushRequest is the JSON body of POST /loki/api/v1/push.
type pushRequest struct {
	Streams []struct {
		Stream map[string]string   `json:"stream"`
		Values [][]json.RawMessage `json:"values"`
	} `json:"streams"`
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request, tenant string) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/json" {
		writeText(w, http.StatusUnsupportedMediaType, "lokitest: only JSON pushes are supported\n")
		return
	}
	var body io.Reader = io.LimitReader(r.Body, maxPushBytes)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			writeText(w, http.StatusBadRequest, err.Error()+"\n")
			return
		}
		defer zr.Close()
		body = zr
	}
	var req pushRequest
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		writeText(w, http.StatusBadRequest, err.Error()+"\n")
		return
	}
	var entries []logql.Entry
	for _, st := range req.Streams {
		for _, v := range st.Values {
			if len(v) < 2 {
				writeText(w, http.StatusBadRequest, "lokitest: a value needs a timestamp and a line\n")
				return
			}
			var tsText, line string
			if err := json.Unmarshal(v[0], &tsText); err != nil {
				writeText(w, http.StatusBadRequest, "lokitest: timestamp: "+err.Error()+"\n")
				return
			}
			ts, err := strconv.ParseInt(tsText, 10, 64)
			if err != nil {
				writeText(w, http.StatusBadRequest, fmt.Sprintf("lokitest: timestamp %q: want unix nanoseconds\n", tsText))
				return
			}
			if err := json.Unmarshal(v[1], &line); err != nil {
				writeText(w, http.StatusBadRequest, "lokitest: line: "+err.Error()+"\n")
				return
			}
			entries = append(entries, logql.Entry{TS: ts, Labels: st.Stream, Line: line})
		}
	}
	s.Push(tenant, entries...)
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// writeText answers as Loki does for errors: text/plain, the message as
// is (Loki adds no newline to most of its messages, but some end in one).
func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", textContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, msg)
}
