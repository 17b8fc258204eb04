package lokitest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/secflow/secflow-budget/internal/logql"
)

// sharedDir holds what was recorded from a real Loki 3.7.6 (part of the
// repository: testdata/loki at its root).
const sharedDir = "../../testdata/loki"

// recorded is one file of testdata/loki/responses.
type recorded struct {
	Endpoint    string            `json:"endpoint"`
	Method      string            `json:"method"`
	Params      map[string]string `json:"params"`
	Headers     map[string]string `json:"headers"`
	Status      int               `json:"status"`
	ContentType string            `json:"content_type"`
	Body        string            `json:"body"`
}

var (
	sharedOnce    sync.Once
	sharedEntries []logql.Entry
	sharedErr     error
)

func loadShared(t *testing.T) []logql.Entry {
	t.Helper()
	if _, err := os.Stat(filepath.Join(sharedDir, "logs.jsonl")); err != nil {
		t.Fatalf("recorded Loki data missing (testdata/loki belongs to the repository): %v", err)
	}
	sharedOnce.Do(func() { sharedEntries, sharedErr = ReadJSONL(filepath.Join(sharedDir, "logs.jsonl")) })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedEntries
}

func loadRecorded(t *testing.T) map[string]recorded {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(sharedDir, "responses", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded Loki responses in %s (testdata/loki belongs to the repository)", sharedDir)
	}
	out := map[string]recorded{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var r recorded
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = r
	}
	return out
}

// TestRecordedQueries replays every recorded instant query against a server
// holding logs.jsonl and compares status, content type and, for 200s, the
// result set (labels and values, order-insensitive), for errors the body.
func TestRecordedQueries(t *testing.T) {
	entries := loadShared(t)
	recs := loadRecorded(t)
	open := Start(t, WithEntries(entries))
	authed := Start(t, WithEntries(entries), WithAuth())

	names := make([]string, 0, len(recs))
	for name, r := range recs {
		if r.Endpoint == "/loki/api/v1/query" && r.Method == http.MethodGet {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) < 80 {
		t.Errorf("only %d recorded instant queries found", len(names))
	}
	for _, name := range names {
		rec := recs[name]
		t.Run(name, func(t *testing.T) {
			srv := open
			if strings.HasPrefix(name, "auth_") {
				srv = authed
			}
			status, ct, body := send(t, srv, rec)
			compareAnswer(t, rec, status, ct, body)
		})
	}
}

// TestRecordedLabels replays the label endpoints.
func TestRecordedLabels(t *testing.T) {
	entries := loadShared(t)
	recs := loadRecorded(t)
	srv := Start(t, WithEntries(entries))
	for _, name := range []string{"labels_1h", "label_level_values_1h"} {
		rec, ok := recs[name]
		if !ok {
			t.Errorf("recording %s missing", name)
			continue
		}
		t.Run(name, func(t *testing.T) {
			status, ct, body := send(t, srv, rec)
			compareAnswer(t, rec, status, ct, body)
			if body != rec.Body {
				t.Errorf("body\n%q\nwant\n%q", body, rec.Body)
			}
		})
	}
}

// TestRecordedAuthRefusals replays the requests Loki refused for lack of a
// tenant.
func TestRecordedAuthRefusals(t *testing.T) {
	recs := loadRecorded(t)
	srv := Start(t, WithAuth())
	for name, rec := range recs {
		if !strings.HasPrefix(name, "auth_") || rec.Status != http.StatusUnauthorized {
			continue
		}
		// index/volume is not served (501), but the tenant check comes
		// first, as in Loki.
		t.Run(name, func(t *testing.T) {
			status, ct, body := send(t, srv, rec)
			compareAnswer(t, rec, status, ct, body)
		})
	}
}

func send(t *testing.T, srv *Server, rec recorded) (int, string, string) {
	t.Helper()
	params := url.Values{}
	for k, v := range rec.Params {
		params.Set(k, v)
	}
	u := srv.URL + rec.Endpoint + "?" + params.Encode()
	var body io.Reader
	if rec.Method == http.MethodPost {
		u = srv.URL + rec.Endpoint
		body = strings.NewReader(`{"streams":[]}`)
	}
	req, err := http.NewRequest(rec.Method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range rec.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func compareAnswer(t *testing.T, rec recorded, status int, ct, body string) {
	t.Helper()
	if status != rec.Status {
		t.Fatalf("status %d, want %d; body %q", status, rec.Status, truncate(body))
	}
	if got, want := mediaType(ct), mediaType(rec.ContentType); got != want {
		t.Errorf("content type %q, want %q", ct, rec.ContentType)
	}
	if ct != rec.ContentType {
		t.Logf("content type %q differs in spelling from Loki's %q", ct, rec.ContentType)
	}
	if rec.Status != http.StatusOK {
		if body != rec.Body {
			if why := pipelineSeriesOrder(body, rec.Body); why != "" {
				t.Log(why) // the same error, naming another failing series
				return
			}
			t.Errorf("body\n%q\nwant\n%q", body, rec.Body)
		}
		return
	}
	if mediaType(rec.ContentType) != "application/json" {
		return
	}
	var got, want struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body is no JSON: %v\n%s", err, truncate(body))
	}
	if err := json.Unmarshal([]byte(rec.Body), &want); err != nil {
		t.Fatal(err)
	}
	if got.Status != want.Status {
		t.Errorf("status %q, want %q", got.Status, want.Status)
	}
	var gotData, wantData struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
	}
	if json.Unmarshal(want.Data, &wantData) != nil {
		// A list (labels): compare as JSON values.
		if canonical(t, got.Data) != canonical(t, want.Data) {
			t.Errorf("data %s, want %s", got.Data, want.Data)
		}
		return
	}
	if err := json.Unmarshal(got.Data, &gotData); err != nil {
		t.Fatalf("data: %v", err)
	}
	if gotData.ResultType != wantData.ResultType {
		t.Errorf("resultType %q, want %q", gotData.ResultType, wantData.ResultType)
	}
	gotSet, wantSet := resultSet(t, gotData.Result), resultSet(t, wantData.Result)
	for k := range wantSet {
		if _, ok := gotSet[k]; !ok {
			t.Errorf("missing %s", k)
		}
	}
	for k := range gotSet {
		if _, ok := wantSet[k]; !ok {
			t.Errorf("unexpected %s", k)
		}
	}
	if gotData.Result == nil {
		t.Errorf(`result is null, want []`)
	}
	// The answer is Loki's byte for byte, except for the stats Loki adds.
	if i := strings.Index(rec.Body, `],"stats":`); i >= 0 && !t.Failed() {
		if want := rec.Body[:i] + "]}}"; body != want {
			t.Errorf("body differs from Loki's (stats aside)\n got %s\nwant %s", truncate(body), truncate(want))
		}
	}
}

// pipelineSeriesOrder explains a pipeline error that names another failing
// series than Loki did, when that is the only difference: Loki names the
// first failing series it meets in its own (map) order, the logql engine the
// first failing entry in input order, and failing entries of the same
// stream differ only in detected_level. It returns "" for any other
// difference.
func pipelineSeriesOrder(got, want string) string {
	re := regexp.MustCompile(`(?s)^(pipeline error: '[^']*' for series: '\{.*)detected_level="[^"]*"(.*)$`)
	g, w := re.FindStringSubmatch(got), re.FindStringSubmatch(want)
	if g == nil || w == nil || g[1] != w[1] || g[2] != w[2] {
		return ""
	}
	return fmt.Sprintf("known difference: Loki names the first failing series in its map order, logql the first failing entry in input order; they differ only in detected_level:\n got %q\nwant %q", got, want)
}

func resultSet(t *testing.T, rs []json.RawMessage) map[string]struct{} {
	t.Helper()
	set := map[string]struct{}{}
	for _, r := range rs {
		k := canonical(t, r)
		if _, dup := set[k]; dup {
			t.Errorf("duplicate sample %s", k)
		}
		set[k] = struct{}{}
	}
	return set
}

// canonical re-encodes JSON with sorted keys.
func canonical(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mediaType(ct string) string {
	mt, _, _ := mime.ParseMediaType(ct)
	return mt
}

func truncate(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}
