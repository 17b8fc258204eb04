package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/promtest"
)

// Follow-ups to issue 7, end to end: the offline engine's own warnings,
// warnings while recording a snapshot, and severity: warning on a budget
// without data.

// leftOM is a scrape at verdictsAt: a queue gauge, and a classic
// histogram with a bucket whose le is not a number.
func leftOM() string {
	at := strconv.FormatInt(verdictsAtNS/1e9, 10)
	return "# TYPE queue_depth gauge\n" +
		`queue_depth{queue="a"} 3 ` + at + "\n" +
		"# TYPE lat histogram\n" +
		`lat_bucket{le="0.1"} 5 ` + at + "\n" +
		`lat_bucket{le="abc"} 7 ` + at + "\n" +
		`lat_bucket{le="+Inf"} 10 ` + at + "\n" +
		`lat_count 10 ` + at + "\n" +
		`lat_sum 1 ` + at + "\n" +
		"# EOF\n"
}

const leftBudgets = `version: 1
budgets:
  - name: queue
    type: metric
    expr: sum(queue_depth)
    max: 100
  - name: median
    type: metric
    expr: histogram_quantile(0.5, sum by (le) (lat_bucket))
    max: 1
`

// leftSnapshot writes a snapshot directory holding leftOM and returns
// the directory around it and the snapshot.
func leftSnapshot(t *testing.T) (dir, snap string) {
	t.Helper()
	dir, snap = verdictsSnapshot(t)
	verdictsWrite(t, snap, "metrics.om", leftOM())
	return dir, snap
}

// leftBudget finds a budget of a report by name.
func leftBudget(t *testing.T, rep hostileReport, name string) (status, message string, notes, warnings []string, value any) {
	t.Helper()
	for _, b := range rep.Budgets {
		if b.Name == name {
			if len(b.Results) > 0 {
				value = b.Results[0]["value"]
			}
			return b.Status, b.Message, b.Notes, b.Warnings, value
		}
	}
	t.Fatalf("no budget %s in the report", name)
	return
}

// TestHostileOfflineEngineWarnings: the offline engine's warnings (a
// bucket whose le is malformed) are the budget's warnings and notes, as a
// live Prometheus' warnings are. Prometheus 2.42 sends no warning for
// this data: the live check agrees on the value and has none.
func TestHostileOfflineEngineWarnings(t *testing.T) {
	dir, snap := leftSnapshot(t)
	cfg := verdictsWrite(t, dir, "budgets.yaml", leftBudgets)
	const want = `snapshot: PromQL warning: bucket label "le" is missing or has a malformed value of "abc" (1:25)`

	r := run(t, nil, "check", "-c", cfg, "--offline", snap, "--format", "json")
	expectCode(t, r, 0)
	rep := verdictsJSON(t, r)
	status, _, notes, warnings, offValue := leftBudget(t, rep, "median")
	if status != "pass" || strings.Join(warnings, "\n") != want {
		t.Errorf("median: %s, warnings %q; want pass, warnings [%q]", status, warnings, want)
	}
	if strings.Join(notes, "\n") != "warning from "+want+" (the answer may be partial data)" {
		t.Errorf("median: notes %q", notes)
	}
	if status, _, _, warnings, _ := leftBudget(t, rep, "queue"); status != "pass" || warnings != nil {
		t.Errorf("queue: %s, warnings %q; want pass without warnings", status, warnings)
	}

	prom := promtest.Start(t, filepath.Join(snap, "metrics.om"))
	r = run(t, nil, "check", "-c", cfg, "--prometheus", prom.URL, "--at", verdictsAt, "--format", "json")
	expectCode(t, r, 0)
	status, _, _, warnings, liveValue := leftBudget(t, verdictsJSON(t, r), "median")
	if status != "pass" || liveValue != offValue {
		t.Errorf("live median: %s %v, want pass %v as offline", status, liveValue, offValue)
	}
	// Prometheus 2.42's engine has no PromQL annotations: it sends no
	// warning. A Prometheus 3 sends the offline engine's.
	liveWant := "prometheus" + strings.TrimPrefix(want, "snapshot")
	if warnings != nil && strings.Join(warnings, "\n") != liveWant {
		t.Errorf("live median warnings %q, want none (Prometheus 2.x) or [%q]", warnings, liveWant)
	}
}

type leftMarkKey struct{}

// leftWarningProxy forwards to a real Prometheus and adds warning to the
// answers to queries that contain about, as a Prometheus whose remote
// store for that data failed does.
func leftWarningProxy(t *testing.T, target, about, warning string) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Header.Del("Accept-Encoding") // plain JSON to edit
	}}
	proxy.ModifyResponse = func(resp *http.Response) error {
		if marked, _ := resp.Request.Context().Value(leftMarkKey{}).(bool); !marked {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var doc map[string]any
		if json.Unmarshal(body, &doc) == nil && doc["status"] == "success" {
			doc["warnings"] = []string{warning}
			body, _ = json.Marshal(doc)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		q := r.URL.Query().Get("query") + form.Get("query")
		marked := strings.HasPrefix(r.URL.Path, "/api/v1/query") && strings.Contains(q, about)
		proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), leftMarkKey{}, marked)))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestHostileSnapshotRecordsWarnings: warnings the live Prometheus sends
// while a snapshot is recorded are printed on stderr (one line each,
// masked), kept in the manifest's warnings with the queries whose data
// came with them, and `check --offline` on the snapshot repeats them in
// those budgets, not in the others.
func TestHostileSnapshotRecordsWarnings(t *testing.T) {
	dir := t.TempDir()
	cfg := verdictsWrite(t, dir, "budgets.yaml", leftBudgets)
	om := verdictsWrite(t, dir, "metrics.om", leftOM())
	prom := promtest.Start(t, om)
	proxy := leftWarningProxy(t, prom.URL, "lat_bucket", "remote read from http://ci:LEFT-SECRET-1@store.eu/read?token=LEFT-SECRET-2 failed:\npartial data")
	const masked = "prometheus: remote read from http://xxxxx@store.eu/read?token=xxxxx failed: partial data"

	out := filepath.Join(dir, "recorded")
	r := run(t, nil, "snapshot", "-c", cfg, "--out", out, "--at", verdictsAt, "--prometheus", proxy.URL)
	expectCode(t, r, 0)
	if strings.Contains(r.stderr+r.stdout, "LEFT-SECRET") {
		t.Errorf("snapshot printed a secret:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
	}
	var warned []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "partial") {
			warned = append(warned, l)
		}
	}
	if want := "warning: the recorded data may be partial: " + masked; strings.Join(warned, "\n") != want {
		t.Errorf("stderr lines about partial data:\n%q\nwant one line\n%q\nstderr:\n%s", warned, want, r.stderr)
	}
	manifest, err := os.ReadFile(filepath.Join(out, "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantManifest := "\nwarnings:\n  - warning: \"" + masked + "\"\n    queries:\n      - \"histogram_quantile(0.5, sum by (le) (lat_bucket))\"\n"
	if strings.Contains(string(manifest), "LEFT-SECRET") || !strings.HasSuffix(string(manifest), wantManifest) {
		t.Errorf("manifest.yaml: want the masked warning and no secret:\n%s", manifest)
	}

	r = run(t, nil, "check", "-c", cfg, "--offline", out, "--format", "json")
	expectCode(t, r, 0)
	rep := verdictsJSON(t, r)
	recorded := "snapshot: the recording got a warning, the recorded data may be partial: " + masked
	engine := `snapshot: PromQL warning: bucket label "le" is missing or has a malformed value of "abc" (1:25)`
	for name, want := range map[string][]string{
		"queue":  nil,
		"median": {engine, recorded},
	} {
		status, _, notes, warnings, _ := leftBudget(t, rep, name)
		if status != "pass" || strings.Join(warnings, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: %s, warnings %q; want pass, warnings %q", name, status, warnings, want)
		}
		var wantNotes []string
		for _, w := range want {
			wantNotes = append(wantNotes, "warning from "+w+" (the answer may be partial data)")
		}
		if strings.Join(notes, "\n") != strings.Join(wantNotes, "\n") {
			t.Errorf("%s: notes %q, want %q", name, notes, wantNotes)
		}
	}
}

// TestHostileSeverityWarningNoDataE2E: a severity: warning budget whose
// query finds nothing, with on_missing: fail, warns (exit 0) like one
// missing result of it does; with severity: error it fails (exit 1).
func TestHostileSeverityWarningNoDataE2E(t *testing.T) {
	for _, c := range []struct {
		severity, status, message string
		code                      int
	}{
		{"warning", "warn", "no data: the query returned no series (on_missing: fail) (severity: warning)", 0},
		{"error", "fail", "no data: the query returned no series (on_missing: fail)", 1},
	} {
		t.Run(c.severity, func(t *testing.T) {
			dir, snap := leftSnapshot(t)
			cfg := verdictsWrite(t, dir, "budgets.yaml", `version: 1
budgets:
  - name: gone
    type: metric
    expr: sum(no_such_metric)
    max: 1
    on_missing: fail
    severity: `+c.severity+"\n")
			r := run(t, nil, "check", "-c", cfg, "--offline", snap, "--format", "json")
			expectCode(t, r, c.code)
			status, message, _, _, _ := leftBudget(t, verdictsJSON(t, r), "gone")
			if status != c.status || message != c.message {
				t.Errorf("gone: %s %q, want %s %q", status, message, c.status, c.message)
			}
		})
	}
}
