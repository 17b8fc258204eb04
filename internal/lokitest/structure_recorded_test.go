package lokitest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// structureDir holds the log_structure recordings of a real Loki 3.7.6
// (testdata/loki/structure, see its README.md).
const structureDir = "../../testdata/loki/structure"

// TestRecordedStructureQueries replays every one of the 499 recorded
// log_structure queries against a server holding the recording's
// logs.jsonl: status, content type and body must be Loki's, byte for
// byte except for the stats Loki adds.
func TestRecordedStructureQueries(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(structureDir, "requests.json"))
	if err != nil {
		t.Fatalf("recorded Loki data missing (testdata/loki/structure belongs to the repository): %v", err)
	}
	var reqs []struct {
		Name  string `json:"name"`
		Query string `json:"query"`
		Time  string `json:"time"`
	}
	if err := json.Unmarshal(b, &reqs); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 499 {
		t.Fatalf("requests.json: %d requests, want 499", len(reqs))
	}
	entries, err := ReadJSONL(filepath.Join(structureDir, "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3012 {
		t.Fatalf("logs.jsonl: %d entries, want 3012", len(entries))
	}
	srv := Start(t, WithEntries(entries))
	nonEmpty := 0
	for _, q := range reqs {
		rb, err := os.ReadFile(filepath.Join(structureDir, "responses", q.Name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var rec recorded
		if err := json.Unmarshal(rb, &rec); err != nil {
			t.Fatalf("%s: %v", q.Name, err)
		}
		if rec.Params["query"] != q.Query || rec.Params["time"] != q.Time || rec.Method != "GET" {
			t.Fatalf("%s: requests.json and the response disagree", q.Name)
		}
		if len(rec.Body) > 0 && !json.Valid([]byte(rec.Body)) {
			t.Fatalf("%s: recorded body is no JSON", q.Name)
		}
		if !jsonHasEmptyResult(rec.Body) {
			nonEmpty++
		}
		t.Run(q.Name, func(t *testing.T) {
			status, ct, body := send(t, srv, rec)
			compareAnswer(t, rec, status, ct, body)
		})
	}
	// The comparison must see numbers, not only empty answers.
	if nonEmpty < 200 {
		t.Errorf("only %d recorded answers hold samples", nonEmpty)
	}
}

func jsonHasEmptyResult(body string) bool {
	var v struct {
		Data struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	return json.Unmarshal([]byte(body), &v) == nil && len(v.Data.Result) == 0
}
