package logql

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

// The recorded answers of Grafana Loki 3.7.6 in testdata/loki (see its
// README.md): every instant query of meta.json is evaluated here over
// logs.jsonl and must give Loki's answer, number for number.
//
// Recorded queries not compared, and why:
//   - auth_query_no_orgid (401 "no org id") and auth_query_orgid_secflow
//     (200, empty: another tenant) test Loki's multi-tenancy, not LogQL;
//     auth_query_orgid_fake, the tenant that holds the data, is compared.
//   - q3_json_scanner_parse_error_1h is compared verbatim except for which
//     failing series the message names: Loki picks one of the failing
//     series in map order (the recording names detected_level="error",
//     kind="sast"); this evaluator names the first failing entry's. The
//     test checks that the recorded series is one of the failing series.
//
// Everything else matches exactly: label sets, values, order.

// recordedDir is part of the repository (testdata/loki at its root).
const recordedDir = "../../testdata/loki"

type recordedResponse struct {
	Endpoint string            `json:"endpoint"`
	Params   map[string]string `json:"params"`
	Status   int               `json:"status"`
	Body     string            `json:"body"`
}

type recordedMeta struct {
	Queries map[string]string `json:"queries"`
}

func loadRecorded(t *testing.T) (recordedMeta, []Entry) {
	t.Helper()
	metaBytes, err := os.ReadFile(filepath.Join(recordedDir, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta recordedMeta
	if err := json.Unmarshal(metaBytes, &meta); err != nil {
		t.Fatal(err)
	}
	entries := readRecordedEntries(t, filepath.Join(recordedDir, "logs.jsonl"))
	if len(entries) != 3056 {
		t.Fatalf("logs.jsonl: %d entries, want 3056", len(entries))
	}
	return meta, entries
}

// readRecordedEntries reads a logs.jsonl of recorded Loki data: the
// entries as they were pushed.
func readRecordedEntries(t *testing.T, path string) []Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var entries []Entry
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var raw struct {
			TS     string            `json:"ts"`
			Labels map[string]string `json:"labels"`
			Line   string            `json:"line"`
		}
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			t.Fatal(err)
		}
		ts, err := strconv.ParseInt(raw.TS, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, Entry{TS: ts, Labels: raw.Labels, Line: raw.Line})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return entries
}

func readRecorded(t *testing.T, name string) recordedResponse {
	t.Helper()
	return readRecordedResponse(t, filepath.Join(recordedDir, "responses", name+".json"))
}

// readRecordedResponse reads one recorded answer of Loki.
func readRecordedResponse(t *testing.T, path string) recordedResponse {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r recordedResponse
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func recordedTime(t *testing.T, s string) time.Time {
	t.Helper()
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC()
	}
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("time %q: %v", s, err)
	}
	return ts.UTC()
}

// vectorText renders a result as `{labels} value` lines, in order, with
// values as Loki writes them.
func vectorText(v model.Vector) string {
	var b strings.Builder
	for _, s := range v {
		b.WriteString(s.Metric.String())
		b.WriteString(" ")
		b.WriteString(strconv.FormatFloat(float64(s.Value), 'f', -1, 64))
		b.WriteString("\n")
	}
	return b.String()
}

func recordedVector(t *testing.T, body string) model.Vector {
	t.Helper()
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Status != "success" || resp.Data.ResultType != "vector" {
		t.Fatalf("recorded body is not a vector: %.200s", body)
	}
	var v model.Vector
	for _, r := range resp.Data.Result {
		m := model.Metric{}
		for k, val := range r.Metric {
			m[model.LabelName(k)] = model.LabelValue(val)
		}
		f, err := strconv.ParseFloat(r.Value[1].(string), 64)
		if err != nil {
			t.Fatal(err)
		}
		v = append(v, &model.Sample{Metric: m, Value: model.SampleValue(f)})
	}
	return v
}

var notCompared = map[string]string{
	"auth_query_no_orgid":      "Loki multi-tenancy: 401 without X-Scope-OrgID",
	"auth_query_orgid_secflow": "Loki multi-tenancy: another tenant sees no data",
}

func TestRecordedLokiAnswers(t *testing.T) {
	meta, entries := loadRecorded(t)
	names := make([]string, 0, len(meta.Queries))
	for name := range meta.Queries {
		names = append(names, name)
	}
	sort.Strings(names)

	// All queries in one evaluator, as the snapshot source runs them.
	type prepared struct {
		name string
		resp recordedResponse
		at   time.Time
		q    *Query
		idx  int
	}
	var (
		preps   []*prepared
		byTime  = map[time.Time][]*Query{}
		matched int
	)
	for _, name := range names {
		resp := readRecorded(t, name)
		if resp.Endpoint != "/loki/api/v1/query" {
			t.Fatalf("%s: endpoint %s", name, resp.Endpoint)
		}
		if resp.Params["query"] != meta.Queries[name] {
			t.Fatalf("%s: meta.json and the response disagree on the query", name)
		}
		if why, skip := notCompared[name]; skip {
			t.Logf("%s: not compared (%s)", name, why)
			continue
		}
		p := &prepared{name: name, resp: resp, at: recordedTime(t, resp.Params["time"])}
		q, err := Parse(resp.Params["query"])
		if resp.Status == 400 && err != nil {
			if got := err.Error(); got != resp.Body {
				t.Errorf("%s: error\n got: %s\nwant: %s", name, got, resp.Body)
			} else {
				matched++
			}
			if _, ok := err.(*ParseError); !ok {
				t.Errorf("%s: error is %T, want *ParseError", name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Parse: %v", name, err)
			continue
		}
		// The canonical text parses back to the same query.
		if q2, err := Parse(q.String()); err != nil || q2.String() != q.String() {
			t.Errorf("%s: String() %q does not round-trip: %v", name, q.String(), err)
		}
		p.q = q
		p.idx = len(byTime[p.at])
		byTime[p.at] = append(byTime[p.at], q)
		preps = append(preps, p)
	}
	if len(byTime) != 1 {
		t.Fatalf("recorded queries at %d times, want 1", len(byTime))
	}

	for at, qs := range byTime {
		together := NewEvaluator(at, qs...)
		for _, en := range entries {
			together.Add(en)
		}
		for _, p := range preps {
			got, err := together.Result(p.idx)
			// Each query alone gives the same answer as all together.
			alone := NewEvaluator(at, p.q)
			for _, en := range entries {
				alone.Add(en)
			}
			gotAlone, errAlone := alone.Result(0)
			if vectorText(got) != vectorText(gotAlone) || (err == nil) != (errAlone == nil) {
				t.Errorf("%s: alone:\n%s%v\ntogether:\n%s%v", p.name, vectorText(gotAlone), errAlone, vectorText(got), err)
			}
			if p.resp.Status == 400 {
				if comparePipelineError(t, p.name, err, p.resp.Body, entries, at) {
					matched++
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", p.name, err)
				continue
			}
			want := recordedVector(t, p.resp.Body)
			if g, w := vectorText(got), vectorText(want); g != w {
				t.Errorf("%s: %s\n got:\n%s\nwant:\n%s", p.name, p.q, g, w)
				continue
			}
			for _, s := range got {
				if s.Timestamp != model.TimeFromUnixNano(at.UnixNano()) {
					t.Errorf("%s: sample time %v", p.name, s.Timestamp)
				}
			}
			matched++
		}
	}
	t.Logf("%d of %d recorded instant queries match Loki exactly (%d not compared)", matched, len(names), len(notCompared))
	if want := len(names) - len(notCompared); matched != want {
		t.Errorf("%d recorded queries match, want %d", matched, want)
	}
}

var seriesInError = regexp.MustCompile(`for series: '(\{.*?\})'\.\n`)

// comparePipelineError compares a pipeline error with Loki's body. The
// failing series Loki names is its pick among all failing series; ours
// must be one too, and the recorded one must be among ours.
func comparePipelineError(t *testing.T, name string, err error, body string, entries []Entry, at time.Time) bool {
	t.Helper()
	var pe *PipelineError
	if !errors.As(err, &pe) {
		t.Errorf("%s: got %v, want a *PipelineError like %q", name, err, body)
		return false
	}
	got := err.Error()
	gm, wm := seriesInError.FindStringSubmatch(got), seriesInError.FindStringSubmatch(body)
	if gm == nil || wm == nil {
		t.Errorf("%s: no series in\n got: %q\nwant: %q", name, got, body)
		return false
	}
	if g, w := strings.Replace(got, gm[1], "SERIES", 1), strings.Replace(body, wm[1], "SERIES", 1); g != w {
		t.Errorf("%s: pipeline error\n got: %q\nwant: %q", name, g, w)
		return false
	}
	// The failing series are the scanner's series with the error labels.
	q, perr := Parse(`count_over_time({service="scanner"} | json | __error__="JSONParserErr" [1h])`)
	if perr != nil {
		t.Fatal(perr)
	}
	e := NewEvaluator(at, q)
	for _, en := range entries {
		e.Add(en)
	}
	_, ferr := e.Result(0)
	if ferr == nil {
		t.Fatalf("%s: the failing series query did not fail", name)
	}
	// That query fails too, naming its first failing series; list them
	// all by dropping the error labels.
	q, _ = Parse(`count_over_time({service="scanner"} | json | __error__="JSONParserErr" | drop __error__, __error_details__ [1h])`)
	e = NewEvaluator(at, q)
	for _, en := range entries {
		e.Add(en)
	}
	failing, ferr := e.Result(0)
	if ferr != nil {
		t.Fatal(ferr)
	}
	details := `__error__="JSONParserErr", __error_details__="Value looks like object, but can't find closing '}' symbol", `
	var all []string
	for _, s := range failing {
		all = append(all, "{"+details+strings.TrimPrefix(s.Metric.String(), "{"))
	}
	for _, want := range []string{gm[1], wm[1]} {
		found := false
		for _, s := range all {
			found = found || s == strings.ReplaceAll(want, `\"`, `"`) || s == want
		}
		if !found {
			t.Errorf("%s: series %s is not one of the failing series:\n%s", name, want, strings.Join(all, "\n"))
			return false
		}
	}
	return true
}
