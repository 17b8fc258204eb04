package main

import (
	"bufio"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/promtest"
	"github.com/secflow/secflow-budget/internal/vmtest"
)

// The end-to-end tests of issue 12: a real VictoriaMetrics (Debian's
// package, started by internal/vmtest with the shipped fixtures imported)
// answers every metric budget type live; the values equal a reference
// computation of MetricsQL on the fixtures' raw samples; every report
// states the engine; alert_rules with and without vmalert; the snapshot's
// warning, manifest and exit code.

const vmAt = "2026-11-26T12:00:07Z"

// vmMetricBudgets are the budgets of budgets.yaml that read only PromQL.
var vmMetricBudgets = []string{"core-metrics", "series-cardinality", "task-duration", "request-latency", "task-throughput", "sandbox-failure-ratio", "queue-depth"}

// vmReport is the test's view of a JSON report with its sources and the
// budgets' notes.
type vmReport struct {
	Status   string `json:"status"`
	ExitCode int    `json:"exit_code"`
	Sources  []struct {
		Name, URL, Engine, Version, Note string
		Recorded                         bool
	} `json:"sources"`
	Budgets []struct {
		Name    string           `json:"name"`
		Status  string           `json:"status"`
		Message string           `json:"message"`
		Notes   []string         `json:"notes"`
		Results []map[string]any `json:"results"`
		Error   *struct{ Kind, Message string }
	} `json:"budgets"`
}

func vmStart(t *testing.T, fixture string, opts ...vmtest.Option) *vmtest.Server {
	t.Helper()
	return vmtest.StartWith(t, opts, filepath.Join(repo, "testdata", "snapshots", fixture, "metrics.om"))
}

// TestI12VMMetricBudgetsEqualMetricsQLReference runs every metric budget of
// budgets.yaml live against VictoriaMetrics and compares each value with
// vmRef's computation on the raw samples, to 1e-9.
func TestI12VMMetricBudgetsEqualMetricsQLReference(t *testing.T) {
	at, _ := time.Parse(time.RFC3339, vmAt)
	for _, fixture := range []string{"healthy", "degraded"} {
		t.Run(fixture, func(t *testing.T) {
			vm := vmStart(t, fixture)
			ref := vmLoadRef(t, filepath.Join(repo, "testdata", "snapshots", fixture, "metrics.om"), at)
			r := run(t, nil, "check", "--prometheus", vm.URL, "--at", vmAt, "--only", strings.Join(vmMetricBudgets, ","), "--format", "json")
			var rep vmReport
			mustJSON(t, r.stdout, &rep)
			if len(rep.Budgets) != len(vmMetricBudgets) {
				t.Fatalf("%d budgets, want %d\n%s", len(rep.Budgets), len(vmMetricBudgets), r.stderr)
			}
			compared := 0
			for _, b := range rep.Budgets {
				if b.Error != nil {
					t.Errorf("%s: error %+v", b.Name, b.Error)
					continue
				}
				for _, res := range b.Results {
					want, ok := ref.expect(t, b.Name, res)
					if !ok {
						continue
					}
					got, _ := res["value"].(float64)
					compared++
					if !closeRel(got, want, 1e-9) {
						t.Errorf("%s %v %v: VictoriaMetrics %v, MetricsQL reference %v", b.Name, res["subject"], res["labels"], got, want)
					}
				}
			}
			// Every budget's every result was compared: none is vacuous.
			if min := 2 * len(vmMetricBudgets); compared < min {
				t.Errorf("compared %d values, want at least %d", compared, min)
			}
		})
	}
}

// TestI12VMEngineInEveryReport: live against VictoriaMetrics, every format
// names it (its version unknown: Debian's build reports none); against
// Prometheus, its version.
func TestI12VMEngineInEveryReport(t *testing.T) {
	vm := vmStart(t, "healthy")
	dir := t.TempDir()
	files := map[string]string{}
	args := []string{"check", "--prometheus", vm.URL, "--at", vmAt, "--only", "queue-depth", "--format", "json"}
	for _, f := range []string{"console", "junit", "markdown", "github"} {
		files[f] = filepath.Join(dir, f)
		args = append(args, "--report", f+"="+files[f])
	}
	r := run(t, nil, args...)
	expectCode(t, r, 0)
	var rep vmReport
	mustJSON(t, r.stdout, &rep)
	if len(rep.Sources) != 1 || rep.Sources[0].Name != "prometheus" || rep.Sources[0].Engine != "victoriametrics" ||
		rep.Sources[0].Version != "" || rep.Sources[0].URL != vm.URL {
		t.Errorf("JSON sources %+v, want one prometheus source, engine victoriametrics, no version, url %s", rep.Sources, vm.URL)
	}
	for f, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if want := "prometheus: VictoriaMetrics (version not reported)"; !strings.Contains(string(b), want) {
			t.Errorf("%s report lacks %q:\n%s", f, want, b)
		}
	}
	console, _ := os.ReadFile(files["console"])
	if first, _, _ := strings.Cut(string(console), "\n"); !strings.Contains(first, "live · "+vm.URL+" · prometheus: VictoriaMetrics (version not reported) · evaluated at "+vmAt) {
		t.Errorf("console header %q", first)
	}
}

// TestI12VMAlertRules: without vmalert VictoriaMetrics answers an empty
// rules API, which the budget names as such; with vmalert behind
// -vmalert.proxyURL the rules of deploy/alerts.yaml are found.
func TestI12VMAlertRules(t *testing.T) {
	cfg := vmRulesBudget(t)
	t.Run("without vmalert", func(t *testing.T) {
		vm := vmStart(t, "healthy")
		r := run(t, nil, "check", "-c", cfg, "--prometheus", vm.URL, "--at", vmAt, "--format", "json")
		expectCode(t, r, 1)
		var rep vmReport
		mustJSON(t, r.stdout, &rep)
		b := rep.Budgets[0]
		want := "this server evaluates no rules (VictoriaMetrics: point `-vmalert.proxyURL` at vmalert"
		if b.Status != "fail" || !strings.HasPrefix(b.Message, want) {
			t.Errorf("status %s, message %q; want fail, %q", b.Status, b.Message, want)
		}
		if strings.Contains(r.stdout, "not loaded in Prometheus") {
			t.Errorf("the report still says not loaded in Prometheus:\n%s", r.stdout)
		}
		// The hint once, in the message; each alert says it is not loaded.
		for _, res := range b.Results {
			if res["note"] != "this server evaluates no rules" {
				t.Errorf("%v: note %q", res["subject"], res["note"])
			}
		}
		if n := strings.Count(r.stdout, "-vmalert.proxyURL"); n != 1 {
			t.Errorf("the vmalert hint shows %d times in the JSON report, want once:\n%s", n, r.stdout)
		}
	})
	t.Run("with vmalert", func(t *testing.T) {
		vm := vmStart(t, "healthy", vmtest.WithVMAlert(filepath.Join(repo, "deploy", "alerts.yaml")))
		var rep vmReport
		var r result
		// vmalert reports a rule's health once it evaluated it (every
		// second here).
		for deadline := time.Now().Add(20 * time.Second); ; {
			r = run(t, nil, "check", "-c", cfg, "--prometheus", vm.URL, "--format", "json")
			mustJSON(t, r.stdout, &rep)
			if !strings.Contains(r.stdout, "not evaluated yet") || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		b := rep.Budgets[0]
		if len(b.Results) < 5 {
			t.Fatalf("%d results, want one per alert of deploy/alerts.yaml\n%s", len(b.Results), r.stdout)
		}
		for _, res := range b.Results {
			if res["health"] != "ok" || res["state"] == "not_loaded" {
				t.Errorf("%v: state %v, health %v (%v)", res["subject"], res["state"], res["health"], res["note"])
			}
		}
		if strings.Contains(r.stdout, "evaluates no rules") {
			t.Errorf("with vmalert, the report says the server evaluates no rules:\n%s", r.stdout)
		}
	})
	t.Run("vmalert without its datasource", func(t *testing.T) {
		// Every rule fails with vmalert's long "error getting response
		// from http://...?query=<its own query>..." text: shown once.
		vm := vmStart(t, "healthy", vmtest.WithVMAlert(filepath.Join(repo, "deploy", "alerts.yaml")), vmtest.WithVMAlertDatasource("http://127.0.0.1:1"))
		var r result
		for deadline := time.Now().Add(20 * time.Second); ; {
			r = run(t, nil, "check", "-c", cfg, "--prometheus", vm.URL, "--format", "console", "--no-emoji")
			if strings.Contains(r.stdout, "connection refused") || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		expectCode(t, r, 1)
		if n := strings.Count(r.stdout, "connection refused"); n != 1 {
			t.Errorf("vmalert's error shows %d times, want once:\n%s", n, r.stdout)
		}
		want := "group secflow-budgets: 6 rules fail with: error getting response from http://127.0.0.1:1/api/v1/query: Post \"http://127.0.0.1:1/api/v1/query\": dial tcp 127.0.0.1:1: connect: connection refused"
		if !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, "query=") {
			t.Errorf("the report lacks %q, or quotes a rule's query URL:\n%s", want, r.stdout)
		}
	})
}

// vmRulesBudget writes a budgets file with one alert_rules budget that
// requires every alert of deploy/alerts.yaml, not caring whether one
// fires (vmalert evaluates at wall-clock time, past the fixtures).
func vmRulesBudget(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	rules, err := filepath.Abs(filepath.Join(repo, "deploy", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "budgets.yaml")
	body := fmt.Sprintf("version: 1\nbudgets:\n  - name: budget-alerts\n    type: alert_rules\n    rules_files: [%q]\n    firing: ignore\n", rules)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestI12VMRetentionNamesPathAndServerText: VictoriaMetrics does not serve
// /api/v1/status/runtimeinfo; the budget's error names the path and
// quotes VictoriaMetrics' own words, and the run exits 3.
func TestI12VMRetentionNamesPathAndServerText(t *testing.T) {
	vm := vmStart(t, "healthy")
	r := run(t, nil, "check", "--prometheus", vm.URL, "--only", "prometheus-retention", "--format", "json")
	expectCode(t, r, 3)
	var rep vmReport
	mustJSON(t, r.stdout, &rep)
	var msg string
	for _, b := range rep.Budgets {
		if b.Error == nil {
			t.Errorf("%s: no error (%s)", b.Name, b.Message)
			continue
		}
		if strings.Contains(b.Error.Message, "runtimeinfo") {
			msg = b.Error.Message
		}
	}
	for _, want := range []string{
		vm.URL + " answered HTTP 400 Bad Request to /api/v1/status/runtimeinfo: ",
		`unsupported path requested: \"/api/v1/status/runtimeinfo\"`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("retention error %q lacks %q", msg, want)
		}
	}
}

// TestI12VMSnapshot: recording from VictoriaMetrics warns on stderr that
// offline evaluation cannot reproduce MetricsQL and records the engine in
// the manifest; a budget whose data cannot be recorded (retention: no
// runtimeinfo) makes it exit 3 unless --allow-partial; check --offline
// notes the difference in each PromQL budget and names the recorded
// engine.
func TestI12VMSnapshot(t *testing.T) {
	vm := vmStart(t, "healthy")
	dir := filepath.Join(t.TempDir(), "snap")
	only := "queue-depth,task-throughput,prometheus-retention"
	r := run(t, nil, "snapshot", "--out", dir, "--prometheus", vm.URL, "--at", vmAt, "--only", only)
	expectCode(t, r, 3)
	for _, want := range []string{
		"warning: prometheus is VictoriaMetrics (version not reported): VictoriaMetrics evaluates MetricsQL",
		"error: the snapshot lacks the data of 1 budget (prometheus-retention): check --offline will report it as errors; the snapshot was written all the same: give --allow-partial to accept it",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	r = run(t, nil, "snapshot", "--out", dir, "--prometheus", vm.URL, "--at", vmAt, "--only", only, "--allow-partial")
	expectCode(t, r, 0)
	if want := "warning: the snapshot lacks the data of 1 budget (prometheus-retention)"; !strings.Contains(r.stderr, want) {
		t.Errorf("--allow-partial: stderr lacks %q:\n%s", want, r.stderr)
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "engines:\n  - source: \"prometheus\"\n    engine: \"victoriametrics\"\n    version: \"\"\n    offline_parity: \"VictoriaMetrics evaluates MetricsQL"; !strings.Contains(string(manifest), want) {
		t.Errorf("manifest.yaml lacks %q:\n%s", want, manifest)
	}

	off := run(t, nil, "check", "--offline", dir, "--only", "queue-depth,task-throughput", "--format", "json")
	expectCode(t, off, 0)
	var rep vmReport
	mustJSON(t, off.stdout, &rep)
	if len(rep.Sources) != 1 || rep.Sources[0].Engine != "victoriametrics" || !rep.Sources[0].Recorded ||
		!strings.HasPrefix(rep.Sources[0].Note, "VictoriaMetrics evaluates MetricsQL") {
		t.Errorf("offline sources %+v, want the recorded VictoriaMetrics with its note", rep.Sources)
	}
	for _, b := range rep.Budgets {
		want := "recorded from VictoriaMetrics (version not reported): VictoriaMetrics evaluates MetricsQL, whose rate and increase do not extrapolate"
		if !slices.ContainsFunc(b.Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
			t.Errorf("%s: notes %q lack %q", b.Name, b.Notes, want)
		}
	}
}

// --- MetricsQL reference -------------------------------------------------
//
// vmRef computes, from an OpenMetrics file's raw samples, what MetricsQL
// answers for the budgets' queries at one time:
//
//   - rate(m[w]) and increase(m[w]) read the samples in (t-w, t] and, as
//     their start point, the last sample at or before t-w (when there is
//     none, the first sample in the window). No extrapolation to the
//     window's edges: increase = last - start, rate = increase / (time of
//     last - time of start). Counter resets add the value before the reset.
//   - an instant selector takes the last sample in (t-5m, t].
//   - histogram_quantile interpolates linearly inside the bucket that holds
//     the rank, as Prometheus does (the lowest bucket starts at 0; a rank in
//     +Inf gives the highest finite bound).

type vmSeries struct {
	name   string
	labels map[string]string
	ts     []int64 // ms
	vals   []float64
}

type vmRef struct {
	series []*vmSeries
	at     int64 // ms
}

func vmLoadRef(t *testing.T, omFile string, at time.Time) *vmRef {
	t.Helper()
	f, err := os.Open(omFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	byKey := map[string]*vmSeries{}
	ref := &vmRef{at: at.UnixMilli()}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		j := strings.LastIndexByte(line[:i], ' ')
		key := line[:j]
		v, err1 := strconv.ParseFloat(line[j+1:i], 64)
		ts, err2 := strconv.ParseFloat(line[i+1:], 64)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: cannot read %q", omFile, line)
		}
		s := byKey[key]
		if s == nil {
			s = &vmSeries{labels: map[string]string{}}
			s.name, s.labels = vmParseSeries(t, key)
			byKey[key] = s
			ref.series = append(ref.series, s)
		}
		s.ts = append(s.ts, int64(math.Round(ts*1000)))
		s.vals = append(s.vals, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ref
}

// vmParseSeries splits `name{a="x",b="y"}` (the fixtures escape nothing).
func vmParseSeries(t *testing.T, key string) (string, map[string]string) {
	name, rest, ok := strings.Cut(key, "{")
	labels := map[string]string{}
	if !ok {
		return key, labels
	}
	for _, pair := range strings.Split(strings.TrimSuffix(rest, "}"), ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			t.Fatalf("label %q of %q", pair, key)
		}
		labels[k] = strings.Trim(v, `"`)
	}
	return name, labels
}

// selectSeries returns the series named name whose labels include match.
func (r *vmRef) selectSeries(name string, match map[string]string) []*vmSeries {
	var out []*vmSeries
	for _, s := range r.series {
		if s.name != name {
			continue
		}
		ok := true
		for k, v := range match {
			ok = ok && s.labels[k] == v
		}
		if ok {
			out = append(out, s)
		}
	}
	return out
}

// increase is MetricsQL's increase(s[w]) at r.at, and the times of its
// start and end sample; ok is false when the series has no answer.
func (r *vmRef) increase(s *vmSeries, w time.Duration) (delta float64, t0, t1 int64, ok bool) {
	from := r.at - w.Milliseconds()
	start := -1
	var corr, prev float64
	corrected := make([]float64, len(s.vals))
	for i, v := range s.vals {
		if i > 0 && v < prev {
			corr += prev
		}
		prev = v
		corrected[i] = v + corr
	}
	last := -1
	for i, ts := range s.ts {
		if ts <= from {
			start = i
		}
		if ts <= r.at {
			last = i
		}
	}
	if last < 0 || s.ts[last] <= from {
		return 0, 0, 0, false // no sample in the window
	}
	if start < 0 {
		start = 0 // no sample before the window: the first inside it
		if start == last {
			return 0, 0, 0, false
		}
	}
	return corrected[last] - corrected[start], s.ts[start], s.ts[last], true
}

func (r *vmRef) rate(s *vmSeries, w time.Duration) (float64, bool) {
	d, t0, t1, ok := r.increase(s, w)
	if !ok {
		return 0, false
	}
	return d / (float64(t1-t0) / 1000), true
}

// lastValue is an instant selector's value: the last sample in (t-5m, t].
func (r *vmRef) lastValue(s *vmSeries) (float64, bool) {
	for i := len(s.ts) - 1; i >= 0; i-- {
		if s.ts[i] <= r.at {
			return s.vals[i], s.ts[i] > r.at-(5*time.Minute).Milliseconds()
		}
	}
	return 0, false
}

func (r *vmRef) sumRate(name string, match map[string]string, w time.Duration) float64 {
	var sum float64
	for _, s := range r.selectSeries(name, match) {
		if v, ok := r.rate(s, w); ok {
			sum += v
		}
	}
	return sum
}

func (r *vmRef) sumIncrease(name string, match map[string]string, w time.Duration) float64 {
	var sum float64
	for _, s := range r.selectSeries(name, match) {
		if d, _, _, ok := r.increase(s, w); ok {
			sum += d
		}
	}
	return sum
}

// quantile is histogram_quantile(q, sum by (le) (rate(H_bucket{match}[w]))).
func (r *vmRef) quantile(q float64, histogram string, match map[string]string, w time.Duration) float64 {
	byLE := map[float64]float64{}
	for _, s := range r.selectSeries(histogram+"_bucket", match) {
		le, _ := strconv.ParseFloat(s.labels["le"], 64)
		if v, ok := r.rate(s, w); ok {
			byLE[le] += v
		}
	}
	les := make([]float64, 0, len(byLE))
	for le := range byLE {
		les = append(les, le)
	}
	sort.Float64s(les)
	total := byLE[les[len(les)-1]]
	rank := q * total
	lower, below := 0.0, 0.0
	for i, le := range les {
		count := byLE[le]
		if count >= rank {
			if math.IsInf(le, 1) {
				return les[i-1]
			}
			return lower + (le-lower)*(rank-below)/(count-below)
		}
		lower, below = le, count
	}
	return math.NaN()
}

// expect is the reference value of one result of a budget of
// budgets.yaml; ok is false for results it has no reference for.
func (r *vmRef) expect(t *testing.T, budget string, res map[string]any) (float64, bool) {
	t.Helper()
	subject, _ := res["subject"].(string)
	labels := map[string]string{}
	if l, ok := res["labels"].(map[string]any); ok {
		for k, v := range l {
			labels[k], _ = v.(string)
		}
	}
	worker := map[string]string{"job": "worker"}
	switch budget {
	case "task-throughput":
		return r.sumRate("secflow_task_duration_seconds_count", worker, time.Hour) * 60, true
	case "sandbox-failure-ratio":
		return r.sumIncrease("secflow_sandbox_failures_total", nil, time.Hour) / r.sumIncrease("secflow_task_duration_seconds_count", nil, time.Hour), true
	case "queue-depth":
		best := math.Inf(-1)
		for _, s := range r.selectSeries("secflow_queue_depth", map[string]string{"queue": labels["queue"]}) {
			if v, ok := r.lastValue(s); ok {
				best = math.Max(best, v)
			}
		}
		return best, true
	case "task-duration", "request-latency":
		h, match := "secflow_task_duration_seconds", worker
		if budget == "request-latency" {
			h, match = "secflow_request_duration_seconds", map[string]string{"job": "api"}
		}
		q, err := strconv.ParseFloat(strings.TrimPrefix(subject, "p"), 64)
		if err != nil {
			t.Fatalf("%s: subject %q", budget, subject)
		}
		return r.quantile(q/100, h, match, time.Hour), true
	case "series-cardinality":
		n := 0
		for _, s := range r.series {
			if _, ok := r.lastValue(s); ok && strings.HasPrefix(s.name, "secflow_") {
				n++
			}
		}
		return float64(n), true
	case "core-metrics":
		n := 0
		for _, s := range r.series {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s.name, "_bucket"), "_count"), "_sum")
			if _, ok := r.lastValue(s); ok && (s.name == subject || base == subject) {
				n++
			}
		}
		return float64(n), true
	}
	t.Errorf("%s: no reference", budget)
	return 0, false
}

// The README's measured differences between VictoriaMetrics' live values
// and check --offline's (Prometheus' engine) on the shipped fixtures
// (15-second samples from 10:00:00 to 12:00:00, 1h windows).
const (
	// At the fixtures' evaluation time, 12:00:07: every value.
	vmDiffAtEval = 0.005
	// At times whose whole window holds data (11:00:07 to 12:00:07):
	// rates of counters that grow at every sample, and the latencies.
	vmDiffDense = 0.025
	// The same times, a counter that grows by one now and then (sandbox
	// failures, ~10 in an hour): MetricsQL counts the step between the
	// last sample before the window and the first inside it.
	vmDiffSparse = 0.10
)

// vmDiffTimes are evaluation times whose 1h window the fixtures cover.
var vmDiffTimes = []string{"2026-11-26T11:00:07Z", "2026-11-26T11:17:31Z", "2026-11-26T11:30:00Z", "2026-11-26T11:45:07Z", "2026-11-26T11:59:52Z", vmAt}

// TestI12VMOfflineDifferences measures, budget by budget, how far
// VictoriaMetrics' live values are from check --offline's on the same
// samples: the README's numbers. Instant selectors and counts are equal;
// rates differ as MetricsQL documents, within the bounds above while the
// window holds data, and by far more when it does not (a window reaching
// past the last sample), where verdicts flip.
func TestI12VMOfflineDifferences(t *testing.T) {
	only := strings.Join(vmMetricBudgets, ",")
	compare := func(t *testing.T, vm *vmtest.Server, fixture, at string) (live, off vmReport) {
		t.Helper()
		l := run(t, nil, "check", "--prometheus", vm.URL, "--at", at, "--only", only, "--format", "json")
		o := run(t, nil, "check", "--offline", "testdata/snapshots/"+fixture, "--at", at, "--only", only, "--format", "json")
		mustJSON(t, l.stdout, &live)
		mustJSON(t, o.stdout, &off)
		if len(live.Budgets) != len(vmMetricBudgets) || len(off.Budgets) != len(vmMetricBudgets) {
			t.Fatalf("%s: %d budgets live, %d offline", at, len(live.Budgets), len(off.Budgets))
		}
		return live, off
	}
	value := func(rep vmReport, budget string, i int) float64 {
		for _, b := range rep.Budgets {
			if b.Name == budget && i < len(b.Results) {
				v, _ := b.Results[i]["value"].(float64)
				return v
			}
		}
		t.Fatalf("no result %d of %s", i, budget)
		return 0
	}
	for _, fixture := range []string{"healthy", "degraded"} {
		t.Run(fixture, func(t *testing.T) {
			vm := vmStart(t, fixture)
			for _, at := range vmDiffTimes {
				live, off := compare(t, vm, fixture, at)
				for i, lb := range live.Budgets {
					ob := off.Budgets[i]
					if lb.Status != ob.Status {
						t.Errorf("%s %s: live %s, offline %s", at, lb.Name, lb.Status, ob.Status)
					}
					for j, res := range lb.Results {
						lv, ov := value(live, lb.Name, j), value(off, lb.Name, j)
						d := 0.0
						if lv != ov {
							d = math.Abs(lv-ov) / math.Max(math.Abs(lv), math.Abs(ov))
						}
						bound := vmDiffDense
						switch {
						case at == vmAt:
							bound = vmDiffAtEval
						case lb.Name == "sandbox-failure-ratio":
							bound = vmDiffSparse
						case lb.Name == "queue-depth" || lb.Name == "core-metrics" || lb.Name == "series-cardinality":
							bound = 0
						}
						t.Logf("%s %-22s %-5v %-18v live %-12.6g offline %-12.6g %.2f%%", at, lb.Name, res["subject"], js(res["labels"]), lv, ov, 100*d)
						if d > bound {
							t.Errorf("%s %s %v: live %v, offline %v differ by %.2f%%, more than %.1f%%", at, lb.Name, res["subject"], lv, ov, 100*d, 100*bound)
						}
					}
				}
			}
		})
	}
	// Past the last sample (12:00:00), Prometheus divides what it sees by
	// the whole window, MetricsQL by the time its samples span: the
	// throughput of the healthy fixture at 12:45 is 18.27 tasks/min live
	// and 4.53 offline, which fails the budget's min 5.
	vm := vmStart(t, "healthy")
	live, off := compare(t, vm, "healthy", "2026-11-26T12:45:00Z")
	lv, ov := value(live, "task-throughput", 0), value(off, "task-throughput", 0)
	if math.Abs(lv-18.2667) > 0.001 || math.Abs(ov-4.529) > 0.001 {
		t.Errorf("task-throughput at 12:45: live %v, offline %v; the README says 18.27 and 4.53", lv, ov)
	}
	// The latencies then differ by up to 11%: task p99 413 s live, 367.5 s
	// offline.
	if lv, ov := value(live, "task-duration", 1), value(off, "task-duration", 1); math.Abs(lv-413) > 0.01 || math.Abs(ov-367.5) > 0.01 {
		t.Errorf("task-duration p99 at 12:45: live %v, offline %v; the README says 413 and 367.5", lv, ov)
	}
	for i, b := range live.Budgets {
		if b.Name == "task-throughput" && (b.Status != "pass" || off.Budgets[i].Status != "fail") {
			t.Errorf("task-throughput at 12:45: live %s, offline %s; the README says pass and fail", b.Status, off.Budgets[i].Status)
		}
	}
	// Before the first sample (10:00:00), MetricsQL's rate spans only the
	// samples there are: throughput 20.4 live, 10.2 offline; the degraded
	// fixture's sandbox failure ratio 2.6% live (fail), 1.2% offline (warn).
	live, off = compare(t, vm, "healthy", "2026-11-26T10:30:00Z")
	if lv, ov := value(live, "task-throughput", 0), value(off, "task-throughput", 0); math.Abs(lv-20.4) > 0.01 || math.Abs(ov-10.24) > 0.01 {
		t.Errorf("task-throughput at 10:30: live %v, offline %v; the README says 20.4 and 10.2", lv, ov)
	}
	degraded := vmStart(t, "degraded")
	live, off = compare(t, degraded, "degraded", "2026-11-26T10:30:00Z")
	lv, ov = value(live, "sandbox-failure-ratio", 0), value(off, "sandbox-failure-ratio", 0)
	if math.Abs(lv-0.0263) > 0.0005 || math.Abs(ov-0.0123) > 0.0005 {
		t.Errorf("degraded sandbox-failure-ratio at 10:30: live %v, offline %v; the README says 2.6%% and 1.2%%", lv, ov)
	}
	for i, b := range live.Budgets {
		if b.Name == "sandbox-failure-ratio" && (b.Status != "fail" || off.Budgets[i].Status != "warn") {
			t.Errorf("degraded sandbox-failure-ratio at 10:30: live %s, offline %s; the README says fail and warn", b.Status, off.Budgets[i].Status)
		}
	}
}

// vmEngineProbe answers, for a test's fake server, the engine detection
// that check and snapshot send each live source once (GET
// /api/v1/status/buildinfo, /loki/api/v1/status/buildinfo) with a 404, as
// a server without buildinfo does, so that fakes counting or vetting
// requests see only the budgets'. It reports whether it answered.
func vmEngineProbe(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path != "/api/v1/status/buildinfo" && r.URL.Path != "/loki/api/v1/status/buildinfo" {
		return false
	}
	http.NotFound(w, r)
	return true
}

// TestI12PrometheusEngine: against Prometheus, the JSON report names it
// with the version its buildinfo reports (Debian's 2.42.0+ds), and a
// snapshot recorded from it carries no parity warning.
func TestI12PrometheusEngine(t *testing.T) {
	srv := promtest.Start(t, filepath.Join(repo, "testdata", "snapshots", "healthy", "metrics.om"))
	r := run(t, nil, "check", "--prometheus", srv.URL, "--at", vmAt, "--only", "queue-depth", "--format", "json")
	expectCode(t, r, 0)
	var rep vmReport
	mustJSON(t, r.stdout, &rep)
	if len(rep.Sources) != 1 || rep.Sources[0].Engine != "prometheus" || !strings.HasPrefix(rep.Sources[0].Version, "2.42.0") || rep.Sources[0].Note != "" {
		t.Errorf("sources %+v, want prometheus 2.42.0", rep.Sources)
	}
	dir := filepath.Join(t.TempDir(), "snap")
	s := run(t, nil, "snapshot", "--out", dir, "--prometheus", srv.URL, "--at", vmAt, "--only", "queue-depth")
	expectCode(t, s, 0)
	if strings.Contains(s.stderr, "warning") {
		t.Errorf("a snapshot from Prometheus warns:\n%s", s.stderr)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, "manifest.yaml"))
	if want := "engines:\n  - source: \"prometheus\"\n    engine: \"prometheus\"\n    version: \"2.42.0"; !strings.Contains(string(manifest), want) || strings.Contains(string(manifest), "offline_parity") {
		t.Errorf("manifest.yaml lacks %q or has a parity note:\n%s", want, manifest)
	}
	off := run(t, nil, "check", "--offline", dir, "--only", "queue-depth", "--format", "json")
	expectCode(t, off, 0)
	var offRep vmReport
	mustJSON(t, off.stdout, &offRep)
	if len(offRep.Sources) != 1 || !offRep.Sources[0].Recorded || offRep.Sources[0].Engine != "prometheus" || len(offRep.Budgets[0].Notes) != 0 {
		t.Errorf("offline sources %+v, notes %q; want the recorded Prometheus and no note", offRep.Sources, offRep.Budgets[0].Notes)
	}
}
