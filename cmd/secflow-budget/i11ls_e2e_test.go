package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/lokitest"
)

// log_structure against what a real Loki 3.7.6 answered
// (testdata/loki/structure): the budget, run by the built binary offline
// over the recording's logs.jsonl and live against the Loki test server
// holding the same entries, reports for every service, parser and window
// the share, structured count and total of truth.json.

const lsStructureDir = "testdata/loki/structure"

// lsTruth is truth.json: per "PARSER_WINDOW", per service.
type lsTruth map[string]struct {
	Parser   string `json:"parser"`
	Window   string `json:"window"`
	Services map[string]struct {
		Total      float64 `json:"total"`
		Structured float64 `json:"structured"`
		Share      float64 `json:"share"`
		Returned   bool    `json:"structured_series_returned"`
	} `json:"services"`
}

var lsVariants = []string{"json_1h", "json_2h", "logfmt_1h", "logfmt_2h"}

// lsSetup writes a snapshot holding the recording's logs (evaluated at
// the recording's T) and a budgets file with one log_structure budget
// per parser and window; it returns both paths and the truth.
func lsSetup(t *testing.T) (snap, budgets string, truth lsTruth) {
	t.Helper()
	all := readJSONFile[map[string]any](t, filepath.Join(repo, lsStructureDir, "truth.json"))
	if all["evaluated_at"] != "2026-11-27T09:30:00Z" || all["selector"] != `{env="prod"}` {
		t.Fatalf("truth.json: evaluated_at %v, selector %v", all["evaluated_at"], all["selector"])
	}
	truth = lsTruth{}
	for _, v := range lsVariants {
		if all[v] == nil {
			t.Fatalf("truth.json has no %s", v)
		}
		mustJSON(t, js(map[string]any{v: all[v]}), &truth)
	}
	dir := t.TempDir()
	snap = filepath.Join(dir, "snap")
	if err := os.Mkdir(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	logs, err := os.ReadFile(filepath.Join(repo, lsStructureDir, "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(snap, "logs.jsonl"), logs, 0o644)
	os.WriteFile(filepath.Join(snap, "manifest.yaml"), []byte("version: 1\nevaluated_at: 2026-11-27T09:30:00Z\n"), 0o644)
	var b strings.Builder
	b.WriteString("version: 1\nbudgets:\n")
	for _, v := range lsVariants {
		parser, window, _ := strings.Cut(v, "_")
		fmt.Fprintf(&b, "  - name: structure-%s-%s\n    type: log_structure\n    selector: '{env=\"prod\"}'\n    parser: %s\n    window: %s\n    min_share: 50%%\n    warn_min_share: 80%%\n", parser, window, parser, window)
	}
	budgets = filepath.Join(dir, "budgets.yaml")
	os.WriteFile(budgets, []byte(b.String()), 0o644)
	return snap, budgets, truth
}

// lsCompareTruth holds every result of rep to truth.
func lsCompareTruth(t *testing.T, mode string, rep report, truth lsTruth) {
	t.Helper()
	if len(rep.Budgets) != len(lsVariants) {
		t.Fatalf("%s: %d budgets, want %d", mode, len(rep.Budgets), len(lsVariants))
	}
	for _, b := range rep.Budgets {
		v := strings.Replace(strings.TrimPrefix(b.Name, "structure-"), "-", "_", 1)
		want, ok := truth[v]
		if !ok {
			t.Fatalf("%s: unexpected budget %s", mode, b.Name)
		}
		if b.Error != nil {
			t.Errorf("%s %s: error %v", mode, b.Name, b.Error)
			continue
		}
		wantQ := []string{
			fmt.Sprintf(`sum by (service) (count_over_time({env="prod"} | %s | __error__="" | trace_id!="" | span_id!="" [%s]))`, want.Parser, want.Window),
			fmt.Sprintf(`sum by (service) (count_over_time({env="prod"}[%s]))`, want.Window),
		}
		if js(b.Queries) != js(wantQ) {
			t.Errorf("%s %s: queries %s, want %s", mode, b.Name, js(b.Queries), js(wantQ))
		}
		var services []string
		worst := "pass"
		for _, r := range b.Results {
			svc := r["labels"].(map[string]any)["service"].(string)
			services = append(services, svc)
			w := want.Services[svc]
			value, count, total := r["value"].(float64), r["count"].(float64), r["total"].(float64)
			if r["subject"] != "structured" || r["unit"] != "ratio" || count != w.Structured || total != w.Total ||
				value != w.Structured/w.Total || math.Abs(value-w.Share) > 5e-7 {
				t.Errorf("%s %s %s: %s %v (%v of %v); Loki: %v (%v of %v)", mode, b.Name, svc, r["subject"], value, count, total, w.Share, w.Structured, w.Total)
			}
			if !w.Returned && w.Structured != 0 {
				t.Fatalf("truth.json: %s %s has no series but %v structured", v, svc, w.Structured)
			}
			status := "pass"
			switch {
			case w.Share < 0.5:
				status = "fail"
			case w.Share < 0.8:
				status = "warn"
			}
			if r["status"] != status {
				t.Errorf("%s %s %s: status %v, want %s (share %v, min 50%%, warn 80%%)", mode, b.Name, svc, r["status"], status, w.Share)
			}
			if status == "fail" || (status == "warn" && worst == "pass") {
				worst = status
			}
		}
		sort.Strings(services)
		// Every service is reported, also those without a structured series.
		if js(services) != `["gateway","ledger","proxy","scanner"]` {
			t.Errorf("%s %s: services %v", mode, b.Name, services)
		}
		if b.Status != worst {
			t.Errorf("%s %s: status %s, want %s", mode, b.Name, b.Status, worst)
		}
	}
}

func TestI11lsStructureOfflineEqualsRecordedLoki(t *testing.T) {
	snap, budgets, truth := lsSetup(t)
	r := run(t, nil, "check", "-c", budgets, "--offline", snap, "--format", "json")
	expectCode(t, r, 1)
	var rep report
	mustJSON(t, r.stdout, &rep)
	lsCompareTruth(t, "offline", rep, truth)

	// The console names the share, the limit and both counts.
	r = run(t, nil, "check", "-c", budgets, "--offline", snap, "--only", "structure-json-1h", "--no-color")
	expectCode(t, r, 1)
	for _, want := range []string{
		`structured{service="ledger"} 0% < 50%, 100% under (0 of 344 lines)`,
		`structured{service="gateway"} 85.11% ≥ 50%, 70% headroom (343 of 403 lines)`,
		`structured{service="proxy"} 29.48% < 50%, 41% under (74 of 251 lines)`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("console lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestI11lsStructureLiveEqualsOffline(t *testing.T) {
	snap, budgets, truth := lsSetup(t)
	loki := lokitest.Start(t, lokitest.WithJSONL(filepath.Join(repo, lsStructureDir, "logs.jsonl")))
	offline := run(t, nil, "check", "-c", budgets, "--offline", snap, "--format", "json")
	live := run(t, nil, "check", "-c", budgets, "--loki", loki.URL, "--at", "2026-11-27T09:30:00Z", "--format", "json")
	expectCode(t, live, 1)
	var off, liv report
	mustJSON(t, offline.stdout, &off)
	mustJSON(t, live.stdout, &liv)
	if liv.Mode != "live" || off.Mode != "offline" {
		t.Fatalf("modes %s and %s", off.Mode, liv.Mode)
	}
	lsCompareTruth(t, "live", liv, truth)
	compareReports(t, off, liv)
	// Loki was asked the budgets' queries (identical ones may be shared),
	// each at T.
	asked := map[string]bool{}
	for _, req := range loki.Requests() {
		if q := req.Form.Get("query"); q != "" {
			asked[q] = true
			if tm := req.Form.Get("time"); tm != "1795771800000000000" {
				t.Errorf("%s asked at time %q, want T in unix ns", q, tm)
			}
		}
	}
	want := map[string]bool{}
	for _, b := range liv.Budgets {
		for _, q := range b.Queries {
			want[q] = true
		}
	}
	if len(want) != 6 || js(asked) != js(want) {
		t.Errorf("Loki was asked %s, want %s", js(asked), js(want))
	}
}

// TestI11lsStructureSnapshotRoundTrip records a snapshot from the Loki
// test server (raw entries, and Loki's answers only) and checks it
// offline: both give truth.json's numbers.
func TestI11lsStructureSnapshotRoundTrip(t *testing.T) {
	_, budgets, truth := lsSetup(t)
	loki := lokitest.Start(t, lokitest.WithJSONL(filepath.Join(repo, lsStructureDir, "logs.jsonl")))
	for _, mode := range []string{"raw", "aggregate"} {
		t.Run(mode, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "snap")
			r := run(t, nil, "snapshot", "-c", budgets, "--out", out, "--loki", loki.URL, "--at", "2026-11-27T09:30:00Z", "--logs", mode)
			expectCode(t, r, 0)
			r = run(t, nil, "check", "-c", budgets, "--offline", out, "--format", "json")
			expectCode(t, r, 1)
			var rep report
			mustJSON(t, r.stdout, &rep)
			if rep.Mode != "offline" || rep.EvaluatedAt != "2026-11-27T09:30:00Z" {
				t.Errorf("mode %s at %s", rep.Mode, rep.EvaluatedAt)
			}
			lsCompareTruth(t, "snapshot "+mode, rep, truth)
		})
	}
}
