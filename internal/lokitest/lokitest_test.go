package lokitest

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/logql"
)

// T is the evaluation time of the recorded data.
var T = time.Date(2026, 11, 26, 18, 40, 0, 0, time.UTC)

func get(t *testing.T, srv *Server, path string, params url.Values, header http.Header) (int, string, string) {
	t.Helper()
	u := srv.URL + path
	if params != nil {
		u += "?" + params.Encode()
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

func entriesAt(service string, n int, at time.Time, line string) []logql.Entry {
	es := make([]logql.Entry, n)
	for i := range es {
		es[i] = logql.Entry{
			TS:     at.Add(-time.Duration(i+1) * time.Second).UnixNano(),
			Labels: map[string]string{"service": service},
			Line:   line,
		}
	}
	return es
}

const bytesQuery = `sum by (service) (bytes_over_time({service=~".+"}[1h]))`

func TestQueryAnswersLikeLoki(t *testing.T) {
	srv := Start(t, WithEntries(entriesAt("api", 3, T, "hello")), WithEntries(entriesAt("worker", 2, T, "héllo")))
	status, ct, body := get(t, srv, "/loki/api/v1/query", url.Values{"query": {bytesQuery}, "time": {"1795718400"}}, nil)
	if status != 200 || ct != "application/json; charset=UTF-8" {
		t.Fatalf("%d %s %s", status, ct, body)
	}
	want := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"api"},"value":[1795718400,"15"]},{"metric":{"service":"worker"},"value":[1795718400,"12"]}]}}`
	if body != want {
		t.Errorf("body\n%s\nwant\n%s", body, want)
	}
	if srv.BytesWritten() != int64(len(body)) {
		t.Errorf("BytesWritten = %d, want %d", srv.BytesWritten(), len(body))
	}

	// Nothing matches: [], not null.
	_, _, body = get(t, srv, "/loki/api/v1/query", url.Values{"query": {`sum(count_over_time({service="none"}[1h]))`}, "time": {"1795718400"}}, nil)
	if body != `{"status":"success","data":{"resultType":"vector","result":[]}}` {
		t.Errorf("empty answer %s", body)
	}
}

func TestQueryByPOSTForm(t *testing.T) {
	srv := Start(t, WithEntries(entriesAt("api", 3, T, "hello")))
	resp, err := http.PostForm(srv.URL+"/loki/api/v1/query", url.Values{"query": {bytesQuery}, "time": {"1795718400"}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"value":[1795718400,"15"]`) {
		t.Errorf("%d %s", resp.StatusCode, b)
	}
	if got := srv.LastRequest(t).Form.Get("query"); got != bytesQuery {
		t.Errorf("recorded form query %q", got)
	}
}

func TestTimeFormats(t *testing.T) {
	// Entries at T, T-1s, T-2s: the 1s window before each time holds
	// exactly one, so the answer shows which time the server read.
	srv := Start(t, WithEntries(entriesAt("api", 3, T.Add(time.Second), "x")))
	for _, tt := range []struct {
		time string
		want string // count in (time-1s, time]
	}{
		{"1795718400", `[1795718400,"1"]`},
		{"1795718400000000000", `[1795718400,"1"]`},
		{"1795718399.5", `[1795718399.5,"1"]`},
		{"2026-11-26T18:40:00Z", `[1795718400,"1"]`},
		{"2026-11-26T18:40:00.000000000Z", `[1795718400,"1"]`},
		{"2026-11-26T19:40:00+01:00", `[1795718400,"1"]`},
	} {
		_, _, body := get(t, srv, "/loki/api/v1/query", url.Values{"query": {`sum(count_over_time({service="api"}[1s]))`}, "time": {tt.time}}, nil)
		if !strings.Contains(body, tt.want) {
			t.Errorf("time=%s: %s, want %s", tt.time, body, tt.want)
		}
	}
	status, ct, body := get(t, srv, "/loki/api/v1/query", url.Values{"query": {`sum(count_over_time({service="api"}[1s]))`}, "time": {"yesterday"}}, nil)
	if status != 400 || !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("bad time: %d %s %s", status, ct, body)
	}
}

func TestParseTime(t *testing.T) {
	def := time.Unix(1, 0)
	for in, want := range map[string]time.Time{
		"":                               def,
		"1795718400":                     time.Unix(1795718400, 0),
		"1795718400.25":                  time.Unix(1795718400, 250e6),
		"1795718400000000001":            time.Unix(0, 1795718400000000001),
		"2026-11-26T18:40:00.000000001Z": time.Unix(0, 1795718400000000001),
	} {
		got, err := parseTime(in, def)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestErrorsAreTextPlain(t *testing.T) {
	srv := Start(t)
	status, ct, body := get(t, srv, "/loki/api/v1/query", url.Values{"query": {`sum(`}}, nil)
	if status != 400 || ct != "text/plain; charset=utf-8" || !strings.HasPrefix(body, "parse error") {
		t.Errorf("bad LogQL: %d %q %q", status, ct, body)
	}
	status, ct, body = get(t, srv, "/nope", nil, nil)
	if status != 404 || !strings.HasPrefix(ct, "text/plain") || body != "404 page not found\n" {
		t.Errorf("unknown path: %d %q %q", status, ct, body)
	}
	status, _, _ = get(t, srv, "/loki/api/v1/series", nil, nil)
	if status != http.StatusNotImplemented {
		t.Errorf("series: %d, want 501", status)
	}
	status, _, body = get(t, srv, "/ready", nil, nil)
	if status != 200 || body != "ready\n" {
		t.Errorf("/ready: %d %q", status, body)
	}
}

func TestAuthTenants(t *testing.T) {
	srv := Start(t, WithEntries(entriesAt("api", 3, T, "hello")), WithAuth())
	params := url.Values{"query": {bytesQuery}, "time": {"1795718400"}}

	status, ct, body := get(t, srv, "/loki/api/v1/query", params, nil)
	if status != 401 || ct != "text/plain; charset=utf-8" || body != "no org id\n" {
		t.Errorf("no tenant: %d %q %q", status, ct, body)
	}
	_, _, body = get(t, srv, "/loki/api/v1/query", params, http.Header{"X-Scope-Orgid": {"fake"}})
	if !strings.Contains(body, `"15"`) {
		t.Errorf("tenant fake: %s", body)
	}
	_, _, body = get(t, srv, "/loki/api/v1/query", params, http.Header{"X-Scope-Orgid": {"secflow"}})
	if !strings.Contains(body, `"result":[]`) {
		t.Errorf("tenant secflow: %s", body)
	}
	srv.Push("secflow", entriesAt("api", 1, T, "hi")...)
	_, _, body = get(t, srv, "/loki/api/v1/query", params, http.Header{"X-Scope-Orgid": {"secflow"}})
	if !strings.Contains(body, `"2"`) {
		t.Errorf("tenant secflow after push: %s", body)
	}
	// /ready needs no tenant.
	if status, _, _ := get(t, srv, "/ready", nil, nil); status != 200 {
		t.Errorf("/ready: %d", status)
	}
}

func TestGatewayCredentials(t *testing.T) {
	srv := Start(t, WithBearerToken("tok-123"), WithBasicAuth("alice", "pw"))
	params := url.Values{"query": {bytesQuery}}
	for name, h := range map[string]http.Header{
		"none":      nil,
		"bad token": {"Authorization": {"Bearer nope"}},
	} {
		if status, _, _ := get(t, srv, "/loki/api/v1/query", params, h); status != 401 {
			t.Errorf("%s: %d, want 401", name, status)
		}
	}
	if status, _, body := get(t, srv, "/loki/api/v1/query", params, http.Header{"Authorization": {"Bearer tok-123"}}); status != 200 {
		t.Errorf("token: %d %s", status, body)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/loki/api/v1/query?"+params.Encode(), nil)
	req.SetBasicAuth("alice", "pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("basic auth: %d", resp.StatusCode)
	}
}

func TestPushAndDuplicates(t *testing.T) {
	srv := Start(t)
	ts := T.Add(-time.Minute).UnixNano()
	body := fmt.Sprintf(`{"streams":[
		{"stream":{"service":"api","level":"INFO"},"values":[["%d","dup"],["%d","dup"],["%d","other"]]},
		{"stream":{"service":"api","level":"Info"},"values":[["%d","dup"]]}]}`, ts, ts, ts, ts)
	resp, err := http.Post(srv.URL+"/loki/api/v1/push", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("push: %d", resp.StatusCode)
	}
	// Same stream, ts and line once; another stream or line counts.
	if n := len(srv.Entries(DefaultTenant)); n != 3 {
		t.Errorf("stored %d entries, want 3", n)
	}
	_, _, got := get(t, srv, "/loki/api/v1/query", url.Values{"query": {`sum(count_over_time({service="api"}[1h]))`}, "time": {"1795718400"}}, nil)
	if !strings.Contains(got, `"3"`) {
		t.Errorf("count after push: %s", got)
	}
}

func TestLabelEndpoints(t *testing.T) {
	srv := Start(t, WithEntries([]logql.Entry{
		{TS: T.Add(-time.Minute).UnixNano(), Labels: map[string]string{"service": "api", "level": "INFO"}, Line: "a"},
		{TS: T.Add(-time.Minute).UnixNano(), Labels: map[string]string{"app": "web"}, Line: "b"},
		{TS: T.Add(-3 * time.Hour).UnixNano(), Labels: map[string]string{"old": "x"}, Line: "c"},
	}))
	rng := url.Values{"start": {"1795714800"}, "end": {"1795718400"}}
	_, _, body := get(t, srv, "/loki/api/v1/labels", rng, nil)
	if want := `{"status":"success","data":["app","level","service","service_name"]}` + "\n"; body != want {
		t.Errorf("labels %q, want %q", body, want)
	}
	_, _, body = get(t, srv, "/loki/api/v1/label/service_name/values", rng, nil)
	if want := `{"status":"success","data":["api","web"]}` + "\n"; body != want {
		t.Errorf("values %q, want %q", body, want)
	}
}

func TestReadJSONL(t *testing.T) {
	dir := t.TempDir()
	text := `{"ts":"1795718400000000000","labels":{"service":"api"},"line":"one"}
{"ts":"2026-11-26T18:40:00.5Z","labels":{"service":"api"},"line":"two\nlines"}

{"ts":1795718400000000001,"labels":{},"line":""}
`
	plain := filepath.Join(dir, "logs.jsonl")
	if err := os.WriteFile(plain, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zipped := filepath.Join(dir, "logs.jsonl.gz")
	if err := os.WriteFile(zipped, gz.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{plain, zipped} {
		es, err := ReadJSONL(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 3 || es[0].TS != 1795718400000000000 || es[1].TS != 1795718400500000000 || es[1].Line != "two\nlines" || es[2].TS != 1795718400000000001 {
			t.Errorf("%s: %+v", p, es)
		}
	}
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(`{"ts":"1","line":"x"}`+"\n"+`{"ts":"soon","line":"x"}`+"\n"), 0o600)
	if _, err := ReadJSONL(bad); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad file: %v", err)
	}

	srv := Start(t, WithJSONL(zipped))
	if n := len(srv.Entries(DefaultTenant)); n != 3 {
		t.Errorf("WithJSONL loaded %d entries", n)
	}
}
