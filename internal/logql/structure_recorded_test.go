package logql

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The log_structure recordings of Grafana Loki 3.7.6 in
// testdata/loki/structure (see its README.md): every one of the 499
// instant queries of requests.json, evaluated here over logs.jsonl, must
// give Loki's recorded body: the same series, labels, values and order.
// They cover every line shape the README's table lists (nested objects,
// non-string values, duplicate keys, truncated JSON, arrays, empty lines,
// sanitised keys, quoted logfmt, a stream label named trace_id) and the
// window's edges.

const structureDir = "../../testdata/loki/structure"

type structureRequest struct {
	Name  string `json:"name"`
	Query string `json:"query"`
	Time  string `json:"time"`
}

func loadStructureRecorded(t *testing.T) ([]structureRequest, []Entry) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(structureDir, "requests.json"))
	if err != nil {
		t.Fatalf("recorded Loki data missing (testdata/loki/structure belongs to the repository): %v", err)
	}
	var reqs []structureRequest
	if err := json.Unmarshal(b, &reqs); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 499 {
		t.Fatalf("requests.json: %d requests, want 499", len(reqs))
	}
	entries := readRecordedEntries(t, filepath.Join(structureDir, "logs.jsonl"))
	if len(entries) != 3012 {
		t.Fatalf("logs.jsonl: %d entries, want 3012", len(entries))
	}
	return reqs, entries
}

func readStructureResponse(t *testing.T, name string) recordedResponse {
	t.Helper()
	return readRecordedResponse(t, filepath.Join(structureDir, "responses", name+".json"))
}

func TestRecordedLokiStructureAnswers(t *testing.T) {
	reqs, entries := loadStructureRecorded(t)
	type prepared struct {
		req  structureRequest
		resp recordedResponse
		q    *Query
		idx  int
	}
	var preps []*prepared
	byTime := map[time.Time][]*Query{}
	for _, r := range reqs {
		resp := readStructureResponse(t, r.Name)
		if resp.Endpoint != "/loki/api/v1/query" || resp.Status != 200 {
			t.Fatalf("%s: %s answered %d", r.Name, resp.Endpoint, resp.Status)
		}
		if resp.Params["query"] != r.Query || resp.Params["time"] != r.Time {
			t.Fatalf("%s: requests.json and the response disagree on the query", r.Name)
		}
		q, err := Parse(r.Query)
		if err != nil {
			t.Errorf("%s: Parse: %v", r.Name, err)
			continue
		}
		at := recordedTime(t, r.Time)
		p := &prepared{req: r, resp: resp, q: q, idx: len(byTime[at])}
		byTime[at] = append(byTime[at], q)
		preps = append(preps, p)
	}
	if len(byTime) != 2 {
		t.Fatalf("recorded queries at %d times, want 2 (T and T+2m)", len(byTime))
	}
	// All queries of one time in one evaluator, as the snapshot source runs them.
	evals := map[time.Time]*Evaluator{}
	for at, qs := range byTime {
		e := NewEvaluator(at, qs...)
		for _, en := range entries {
			e.Add(en)
		}
		evals[at] = e
	}
	matched := 0
	for _, p := range preps {
		got, err := evals[recordedTime(t, p.req.Time)].Result(p.idx)
		if err != nil {
			t.Errorf("%s: %s: %v", p.req.Name, p.req.Query, err)
			continue
		}
		want := recordedVector(t, p.resp.Body)
		if g, w := vectorText(got), vectorText(want); g != w {
			t.Errorf("%s: %s\n got:\n%s\nwant:\n%s", p.req.Name, p.req.Query, g, w)
			continue
		}
		matched++
	}
	t.Logf("%d of %d recorded log_structure queries match Loki exactly", matched, len(reqs))
	if matched != len(reqs) {
		t.Errorf("%d recorded queries match, want %d", matched, len(reqs))
	}
}
