package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// Hostile snapshot data through the built binary: what the snapshot
// cannot honestly answer is refused (exit 2) naming the file, and never
// quoting it; no query takes the machine; detected_level is Loki 3.7's.

// dataT is the snapshots' evaluation time, 2026-11-26T12:00:00Z.
const dataT = 1795694400

const dataManifest = "version: 1\nevaluated_at: 2026-11-26T12:00:00Z\n"

// dataSnapshot writes a snapshot directory: name -> content; a content
// starting with "->" makes a symlink to the rest, "/" a directory.
func dataSnapshot(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if _, ok := files["manifest.yaml"]; !ok {
		files["manifest.yaml"] = dataManifest
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(content, "->"):
			err = os.Symlink(content[2:], path)
		case content == "/":
			err = os.Mkdir(path, 0o755)
		default:
			err = os.WriteFile(path, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// dataBudgets writes a budgets file of the given budgets (YAML list items).
func dataBudgets(t *testing.T, budgets string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(path, []byte("version: 1\nbudgets:\n"+budgets), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// dataLogs are n entries of service api in the minutes before dataT.
func dataLogs(n int, line func(i int) string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"ts":"%d","labels":{"service":"api","env":"prod"},"line":%q}`+"\n", (dataT-60*int64(i+1))*int64(1e9), line(i))
	}
	return b.String()
}

// dataUp is the series up{job="a"} every minute of the hour before dataT.
func dataUp(value func(i int) float64) string {
	var b strings.Builder
	b.WriteString("# TYPE up gauge\n")
	for i := 60; i >= 0; i-- {
		fmt.Fprintf(&b, "up{job=\"a\"} %g %d\n", value(i), dataT-60*i)
	}
	b.WriteString("# EOF\n")
	return b.String()
}

const (
	dataUpBudget = `  - name: up
    type: metric
    expr: min(up)
    min: 1
`
	dataLogBudget = `  - name: volume
    type: log_volume
    selector: '{env="prod"}'
    by: [service]
    per: 1h
    max: 1MB
`
	dataEndpointBudget = `  - name: m
    type: endpoint
    url: http://api:8080/metrics
    max_bytes: 1MB
`
)

func TestHostileDataSnapshotRefused(t *testing.T) {
	one := func(int) float64 { return 1 }
	logs := dataLogs(5, func(i int) string { return fmt.Sprintf("request %d token=s3cr3t", i) })
	outside := filepath.Join(t.TempDir(), "outside.om")
	if err := os.WriteFile(outside, []byte(dataUp(one)), 0o644); err != nil {
		t.Fatal(err)
	}
	gz := httpclienttest.Gzip(t, logs)
	gz[len(gz)/2] ^= 0x55

	for _, c := range []struct {
		name    string
		files   map[string]string
		budgets string
		stderr  []string // in this order on one line
	}{
		{
			name:    "logs twice: plain and gzipped",
			files:   map[string]string{"logs.jsonl": logs, "logs.jsonl.gz": string(httpclienttest.Gzip(t, logs))},
			budgets: dataLogBudget,
			stderr:  []string{"logs.jsonl.gz: the same logs as ", "logs.jsonl, gzipped: their entries would count twice"},
		},
		{
			name:    "logs twice: a copy under another name",
			files:   map[string]string{"a.jsonl": logs, "b.jsonl": logs},
			budgets: dataLogBudget,
			stderr:  []string{"b.jsonl:1: begins with the same entry as ", "a.jsonl:1"},
		},
		{
			name:    "metrics twice: a copy",
			files:   map[string]string{"a.om": dataUp(one), "b.om": dataUp(one)},
			budgets: dataUpBudget,
			stderr:  []string{"b.om: holds the same data as ", "a.om"},
		},
		{
			name: "two values of one series at one time, mid-series",
			files: map[string]string{"a.om": dataUp(one),
				"b.om": fmt.Sprintf("# TYPE up gauge\nup{job=\"a\"} 0 %d\n# EOF\n", dataT-30*60)},
			budgets: dataUpBudget,
			stderr:  []string{"b.om:2: conflicting samples: ", "a.om:32 holds another value"},
		},
		{
			name:    "metrics.om links outside",
			files:   map[string]string{"metrics.om": "->" + outside},
			budgets: dataUpBudget,
			stderr:  []string{"metrics.om: a symlink to a file outside the snapshot directory"},
		},
		{
			name:    "logs link outside, unused by the budgets",
			files:   map[string]string{"metrics.om": dataUp(one), "logs.jsonl": "->/etc/passwd"},
			budgets: dataUpBudget,
			stderr:  []string{"logs.jsonl: a symlink to a file outside the snapshot directory"},
		},
		{
			name:    "endpoint body links outside",
			files:   map[string]string{"endpoints/m.prom": "->" + outside},
			budgets: dataEndpointBudget,
			stderr:  []string{"m.prom: a symlink to a file outside the snapshot directory"},
		},
		{
			name:    "a directory for rules.json",
			files:   map[string]string{"metrics.om": dataUp(one), "rules.json": "/"},
			budgets: dataUpBudget,
			stderr:  []string{"rules.json: a directory where a file belongs"},
		},
		{
			name:    "a directory for metrics.om",
			files:   map[string]string{"metrics.om": "/"},
			budgets: dataUpBudget,
			stderr:  []string{"metrics.om: a directory where a file belongs"},
		},
		{
			name:    "endpoint body that does not parse",
			files:   map[string]string{"endpoints/m.prom": "# TYPE a gauge\na 1\na{token=\"s3cr3t\" 2\n"},
			budgets: dataEndpointBudget,
			stderr:  []string{"m.prom:3: not a metrics exposition"},
		},
		{
			name:    "endpoint sidecar that does not parse",
			files:   map[string]string{"endpoints/m.prom": "a 1\n", "endpoints/m.json": `{"anonymous_status": "s3cr3t"}`},
			budgets: dataEndpointBudget,
			stderr:  []string{"m.json:1: "},
		},
		{
			name:    "corrupt gzip",
			files:   map[string]string{"logs.jsonl.gz": string(gz)},
			budgets: dataLogBudget,
			stderr:  []string{"logs.jsonl.gz: corrupt gzip"},
		},
		{
			name:    "state file holding an error answer",
			files:   map[string]string{"metrics.om": dataUp(one), "alerts.json": `{"status":"error","errorType":"bad_data","error":"s3cr3t"}`},
			budgets: dataUpBudget,
			stderr:  []string{"alerts.json: holds an error answer"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := dataSnapshot(t, c.files)
			r := run(t, nil, "check", "--offline", dir, "-c", dataBudgets(t, c.budgets))
			expectCode(t, r, 2)
			lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
			if len(lines) != 1 {
				t.Errorf("stderr has %d lines, want one:\n%s", len(lines), r.stderr)
			}
			rest := lines[0]
			for _, w := range c.stderr {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr %q lacks %q (in order: %q)", lines[0], w, c.stderr)
				}
				rest = rest[i+len(w):]
			}
			if !strings.Contains(lines[0], dir) {
				t.Errorf("stderr %q does not name the snapshot's file", lines[0])
			}
			if strings.Contains(r.stderr, "s3cr3t") || strings.Contains(r.stderr, "root:") {
				t.Errorf("stderr quotes file content: %s", r.stderr)
			}
		})
	}
}

func TestHostileDataQueryLimits(t *testing.T) {
	dir := dataSnapshot(t, map[string]string{"metrics.om": dataUp(func(int) float64 { return 1 })})
	budgets := dataBudgets(t, `  - name: bomb
    type: metric
    expr: max_over_time(up[10y:1ms])
    max: 2
  - name: plain
    type: metric
    expr: max_over_time(up[1h:1m])
    max: 2
`)
	r := run(t, nil, "check", "--offline", dir, "-c", budgets, "--format", "json")
	expectCode(t, r, 3)
	var rep report
	mustJSON(t, r.stdout, &rep)
	got := map[string]string{}
	for _, b := range rep.Budgets {
		msg := b.Message
		if b.Error != nil {
			msg = b.Error.Message
		}
		got[b.Name] = b.Status + ": " + msg
	}
	if !strings.HasPrefix(got["bomb"], "error: ") || !strings.Contains(got["bomb"], "query would load too many samples") {
		t.Errorf("bomb: %s, want an error saying the query would load too many samples", got["bomb"])
	}
	if !strings.HasPrefix(got["plain"], "pass") {
		t.Errorf("plain: %s, want pass", got["plain"])
	}

	// The limit is settable, as Prometheus' --query.max-samples.
	r = run(t, nil, "check", "--offline", dir, "-c", budgets, "--only", "plain", "--query.max-samples", "20", "--format", "json")
	expectCode(t, r, 3)
	if !strings.Contains(r.stdout, "query would load too many samples") || !strings.Contains(r.stdout, "--query.max-samples 20") {
		t.Errorf("with --query.max-samples 20: %s", r.stdout)
	}
	r = run(t, nil, "check", "--offline", dir, "-c", budgets, "--query.max-samples", "0")
	expectCode(t, r, 2)
	if !strings.Contains(r.stderr, "--query.max-samples: must be at least 1") {
		t.Errorf("--query.max-samples 0: %s", r.stderr)
	}
}

// TestHostileDataDetectedLevel: log_levels on detected_level offline gives
// Loki 3.7's levels: whole words, the earliest first; "information" is
// info; a level label Loki normalises is Loki's.
func TestHostileDataDetectedLevel(t *testing.T) {
	lines := []string{
		"retrying after error, info will follow", // error
		"retrying after error, info will follow", // error
		"fatal: out of memory",                   // fatal
		"critical failure in module",             // critical
		"informational message only",             // unknown
		"all good, info",                         // info
	}
	logs := dataLogs(len(lines), func(i int) string { return lines[i] })
	logs += fmt.Sprintf(`{"ts":"%d","labels":{"service":"api","env":"prod","level":"Information"},"line":"x"}`+"\n", (dataT-10)*int64(1e9))
	dir := dataSnapshot(t, map[string]string{"logs.jsonl": logs})
	budgets := dataBudgets(t, `  - name: levels
    type: log_levels
    selector: '{env="prod"}'
    level_label: detected_level
    max_share: {ERROR: 25%, CRITICAL: 50%}
`)
	r := run(t, nil, "check", "--offline", dir, "-c", budgets, "--format", "json")
	expectCode(t, r, 1)
	var rep report
	mustJSON(t, r.stdout, &rep)
	if len(rep.Budgets) != 1 {
		t.Fatalf("budgets: %+v", rep.Budgets)
	}
	counts := map[string]float64{}
	for _, res := range rep.Budgets[0].Results {
		subject, _ := res["subject"].(string)
		n, _ := res["count"].(float64)
		counts[subject] = n
	}
	want := map[string]float64{"ERROR": 2, "CRITICAL": 2, "INFO": 2, "UNKNOWN": 1}
	for level, n := range want {
		if counts[level] != n {
			t.Errorf("%s: %v lines, want %v (all: %v)", level, counts[level], n, counts)
		}
	}
	if !strings.Contains(rep.Budgets[0].Message, "ERROR") {
		t.Errorf("message %q, want the ERROR share (2/7) over 25%%", rep.Budgets[0].Message)
	}
}
