package checks

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"

	"github.com/secflow/secflow-budget/internal/memstore"
	"github.com/secflow/secflow-budget/internal/sources"
)

// The latency check's native path against Prometheus' own engine: the
// OpenMetrics fixtures of the snapshot source cannot carry native
// histograms, so this test appends them to the offline store directly.

// nativeAt is when the checks run: runOne's evaluation time.
var nativeAt = time.Unix(1795694407, 0)

// Schema 0: bucket index i holds (2^(i-1), 2^i]. The series use the
// indices nativeLow..nativeLow+len-1 (one span), i.e. (4s, 4096s].
const nativeLow = 3

// Observations added at each 15 s scrape, by bucket index.
var (
	// queue="default", the last hour: 100 per scrape, mostly fast.
	incDefault = map[int]uint64{3: 50, 4: 30, 5: 14, 6: 4, 7: 2}
	// queue="batch", the last hour: 100 per scrape, slow.
	incBatch = map[int]uint64{7: 10, 8: 60, 9: 24, 10: 6}
	// Every worker queue before the window (the first 30 minutes):
	// (2048s, 4096s], far above anything in the window, so that a leak of
	// an older sample into the window's increase would move the results.
	incEarly = map[int]uint64{12: 100}
)

// engineProm answers PromQL with Prometheus' engine over a memstore: a
// sources.PromQL like the live client, recording what it was asked.
type engineProm struct {
	db     *memstore.Store
	engine *promql.Engine

	mu    sync.Mutex
	asked []string
}

var _ sources.PromQL = (*engineProm)(nil)

func (e *engineProm) Query(ctx context.Context, q string, at time.Time) (model.Vector, error) {
	e.mu.Lock()
	e.asked = append(e.asked, q)
	e.mu.Unlock()
	qry, err := e.engine.NewInstantQuery(ctx, e.db, nil, q, at)
	if err != nil {
		return nil, sources.Errorf(sources.BadQuery, "engine", "%v", err)
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, sources.Errorf(sources.BadQuery, "engine", "%v", res.Err)
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		out := make(model.Vector, 0, len(v))
		for _, s := range v {
			if s.H != nil {
				// The check only asks for floats: a histogram answer means
				// a query shape that the check cannot read.
				return nil, sources.Errorf(sources.BadResponse, "engine", "%s: histogram sample for %s, want a float", q, s.Metric)
			}
			m := model.Metric{}
			s.Metric.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
			out = append(out, &model.Sample{Metric: m, Value: model.SampleValue(s.F), Timestamp: model.Time(s.T)})
		}
		return out, nil
	case promql.Scalar:
		return model.Vector{{Metric: model.Metric{}, Value: model.SampleValue(v.V), Timestamp: model.Time(v.T)}}, nil
	}
	return nil, sources.Errorf(sources.BadResponse, "engine", "%s: got a %s", q, res.Value.Type())
}

// byQueue asks the engine directly and keys the answer by queue label.
func (e *engineProm) byQueue(t *testing.T, q string) map[string]float64 {
	t.Helper()
	v, err := e.Query(context.Background(), q, nativeAt)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	out := map[string]float64{}
	for _, s := range v {
		out[string(s.Metric["queue"])] = float64(s.Value)
	}
	return out
}

// nativeHistogram is a cumulative schema-0 histogram with the given total
// counts per bucket index, in one span from nativeLow.
func nativeHistogram(counts map[int]uint64) *histogram.Histogram {
	const n = 10 // indices 3..12
	h := &histogram.Histogram{
		Schema:          0,
		ZeroThreshold:   1e-128,
		PositiveSpans:   []histogram.Span{{Offset: nativeLow, Length: n}},
		PositiveBuckets: make([]int64, n),
	}
	var prev int64
	for i := range n {
		idx := nativeLow + i
		c := counts[idx]
		h.Count += c
		// Each observation at 1.5 times its bucket's lower bound.
		h.Sum += float64(c) * 1.5 * math.Exp2(float64(idx-1))
		h.PositiveBuckets[i] = int64(c) - prev // deltas
		prev = int64(c)
	}
	return h
}

func addCounts(dst, inc map[int]uint64) {
	for k, v := range inc {
		dst[k] += v
	}
}

// newNativeEngine holds 90 minutes of task_seconds native histograms,
// scraped every 15 s up to nativeAt:
//
//   - job=worker, queue=default and queue=batch: incEarly at every scrape
//     up to nativeAt-1h, then incDefault or incBatch at each scrape;
//   - job=worker, queue=idle: incEarly up to nativeAt-1h, then nothing;
//   - job=api, queue=default: 1000 observations in (0.5s, 1s] at every
//     scrape: the selector must keep it out.
func newNativeEngine(t *testing.T) *engineProm {
	t.Helper()
	db := memstore.New()

	type series struct {
		lset   labels.Labels
		late   map[int]uint64 // increments after nativeAt-1h
		counts map[int]uint64
	}
	all := []*series{
		{lset: labels.FromStrings("__name__", "task_seconds", "job", "worker", "queue", "default"), late: incDefault},
		{lset: labels.FromStrings("__name__", "task_seconds", "job", "worker", "queue", "batch"), late: incBatch},
		{lset: labels.FromStrings("__name__", "task_seconds", "job", "worker", "queue", "idle"), late: nil},
		{lset: labels.FromStrings("__name__", "task_seconds", "job", "api", "queue", "default"), late: map[int]uint64{0: 1000}},
	}
	start := nativeAt.Add(-90 * time.Minute)
	windowStart := nativeAt.Add(-time.Hour)
	for ts := start; !ts.After(nativeAt); ts = ts.Add(15 * time.Second) {
		for _, s := range all {
			if s.counts == nil {
				s.counts = map[int]uint64{}
			}
			switch {
			case s.lset.Get("job") == "api":
				addCounts(s.counts, s.late)
			case !ts.After(windowStart):
				addCounts(s.counts, incEarly)
			default:
				addCounts(s.counts, s.late)
			}
			h := nativeHistogram(s.counts)
			if s.lset.Get("job") == "api" {
				// index 0 lies below nativeLow: its own span.
				h = &histogram.Histogram{
					Schema: 0, ZeroThreshold: 1e-128,
					Count: s.counts[0], Sum: 0.75 * float64(s.counts[0]),
					PositiveSpans:   []histogram.Span{{Offset: 0, Length: 1}},
					PositiveBuckets: []int64{int64(s.counts[0])},
				}
			}
			if err := h.Validate(); err != nil {
				t.Fatalf("invalid histogram for %s: %v", s.lset, err)
			}
			ref, err := db.Series(s.lset)
			if err != nil {
				t.Fatalf("appending %s at %s: %v", s.lset, ts, err)
			}
			db.AppendHistogram(ref, ts.UnixMilli(), h, nil)
		}
	}
	db.Seal()
	return &engineProm{
		db: db,
		engine: promql.NewEngine(promql.EngineOpts{
			MaxSamples:    50_000_000,
			Timeout:       time.Minute,
			LookbackDelta: 5 * time.Minute,
		}),
	}
}

// runNative evaluates a planned budget against the engine, as runOne does
// against the fake.
func runNative(t *testing.T, p *Planned, e *engineProm) Outcome {
	t.Helper()
	e.mu.Lock()
	e.asked = nil
	e.mu.Unlock()
	out, _ := Run(context.Background(), []*Planned{p}, Env{Prometheus: e, At: nativeAt}, 1, time.Now)
	return out[0]
}

// expBucket is a hand-computed percentile of a schema-0 histogram: the
// bucket (lower, upper] the rank falls in and the value the engine's
// exponential interpolation gives, lower * 2^fraction.
type expBucket struct {
	lower, upper, want float64
}

func closeTo(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

// checkNativeResult compares one percentile result with the engine's own
// answer, the hand-computed bucket and value, and the verdict.
func checkNativeResult(t *testing.T, r Result, subject, queue string, engine float64, hand expBucket, obs float64, status Status) {
	t.Helper()
	name := subject
	if queue != "" {
		name = fmt.Sprintf("%s{queue=%q}", subject, queue)
	}
	if r.Subject != subject || r.Labels["queue"] != queue {
		t.Errorf("result %s{%v}, want %s", r.Subject, r.Labels, name)
		return
	}
	if r.Value == nil {
		t.Errorf("%s: no value (note %q)", name, r.Note)
		return
	}
	v := *r.Value
	if v != engine {
		t.Errorf("%s = %v, the engine answers %v for the same expression", name, v, engine)
	}
	if !(v > hand.lower && v <= hand.upper) {
		t.Errorf("%s = %v, want it in the exponential bucket (%v, %v]", name, v, hand.lower, hand.upper)
	}
	if !closeTo(v, hand.want) {
		t.Errorf("%s = %.9g, want %.9g by hand", name, v, hand.want)
	}
	if r.Status != status {
		t.Errorf("%s status = %s, want %s (value %v, limit %v, warn %v)", name, r.Status, status, v, ptrVal(r.Limit), ptrVal(r.WarnLimit))
	}
	if r.Unit != "seconds" {
		t.Errorf("%s unit = %q, want seconds", name, r.Unit)
	}
	if got := extra(r, "observations"); got == nil || !closeTo(got.(float64), obs) {
		t.Errorf("%s observations = %v, want %v", name, got, obs)
	}
	checkNativeExtras(t, name, r)
}

// checkNativeExtras: a native histogram has no le buckets, so a result
// carries only its observations.
func checkNativeExtras(t *testing.T, name string, r Result) {
	t.Helper()
	for _, kv := range r.Extra {
		if kv.Key != "observations" {
			t.Errorf("%s has extra %s=%v; a native result has only observations", name, kv.Key, kv.Value)
		}
	}
	if _, ok := r.Labels["le"]; ok {
		t.Errorf("%s has an le label: %v", name, r.Labels)
	}
}

func ptrVal(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func checkAsked(t *testing.T, o Outcome, e *engineProm, want []string) {
	t.Helper()
	if fmt.Sprint(o.Queries) != fmt.Sprint(want) {
		t.Errorf("outcome queries =\n%q\nwant\n%q", o.Queries, want)
	}
	e.mu.Lock()
	asked := append([]string(nil), e.asked...)
	e.mu.Unlock()
	// Evaluate asks the observation count first, then each percentile.
	wantAsked := append([]string{want[len(want)-1]}, want[:len(want)-1]...)
	if fmt.Sprint(asked) != fmt.Sprint(wantAsked) {
		t.Errorf("engine asked\n%q\nwant\n%q", asked, wantAsked)
	}
}

func TestLatencyNativeEngine(t *testing.T) {
	e := newNativeEngine(t)

	// Per 15 s scrape in the window, job=worker holds 200 observations:
	//   (4,8] 50, (8,16] 30, (16,32] 14, (32,64] 4, (64,128] 2+10,
	//   (128,256] 60, (256,512] 24, (512,1024] 6.
	// p95: the top 5% (10) reach 6+24 into (256,512]: 20 of its 24 lie
	// below, 256*2^(20/24). p99: the top 2 lie in (512,1024], 4 of its 6
	// below, 512*2^(4/6).
	// The window (nativeAt-1h, nativeAt] holds 240 scrapes, 239 increases
	// over 3585 s; increase extrapolates to 3600 s: 240 scrapes' worth.
	hand := map[string]expBucket{
		"p95": {256, 512, 256 * math.Exp2(20.0/24)}, // 456.1
		"p99": {512, 1024, 512 * math.Exp2(4.0/6)},  // 812.7
	}
	const obsAll = 240 * 200

	t.Run("sum", func(t *testing.T) {
		plan := loadOne(t, `- name: lat-native
  type: latency
  histogram: task_seconds
  native: true
  selector: '{job="worker"}'
  window: 1h
  percentiles: {p95: 600s, p99: 600s}
  warn: {p95: 400s}
`)
		want := []string{
			`histogram_quantile(0.95, sum(rate(task_seconds{job="worker"}[1h])))`,
			`histogram_quantile(0.99, sum(rate(task_seconds{job="worker"}[1h])))`,
			`histogram_count(sum(increase(task_seconds{job="worker"}[1h])))`,
		}
		o := runNative(t, plan[0], e)
		if o.Err != nil {
			t.Fatalf("error outcome: %+v", o.Err)
		}
		checkAsked(t, o, e, want)
		if o.Status != Fail || len(o.Results) != 2 {
			t.Fatalf("status %s with %d results (%s), want fail with 2", o.Status, len(o.Results), o.Message)
		}
		p95, p99 := e.byQueue(t, want[0])[""], e.byQueue(t, want[1])[""]
		obs := e.byQueue(t, want[2])[""]
		if !closeTo(obs, obsAll) {
			t.Errorf("engine histogram_count of the increase = %v, want %v", obs, obsAll)
		}
		// 456s: above the 400s warn limit, within 600s; 813s: over 600s.
		checkNativeResult(t, o.Results[0], "p95", "", p95, hand["p95"], obs, Warn)
		checkNativeResult(t, o.Results[1], "p99", "", p99, hand["p99"], obs, Fail)
		if got := extra(o.Results[0], "observations"); got != obs {
			t.Errorf("observations = %v, want exactly the engine's %v", got, obs)
		}
		if len(o.Notes) != 0 {
			t.Errorf("notes = %q, want none (no le bounds to compare limits with)", o.Notes)
		}
	})

	t.Run("by queue", func(t *testing.T) {
		plan := loadOne(t, `- name: lat-native-queues
  type: latency
  histogram: task_seconds
  native: true
  selector: '{job="worker"}'
  by: [queue]
  window: 1h
  percentiles: {p95: 60s, p99: 120s}
`)
		want := []string{
			`histogram_quantile(0.95, sum by (queue) (rate(task_seconds{job="worker"}[1h])))`,
			`histogram_quantile(0.99, sum by (queue) (rate(task_seconds{job="worker"}[1h])))`,
			`histogram_count(sum by (queue) (increase(task_seconds{job="worker"}[1h])))`,
		}
		o := runNative(t, plan[0], e)
		if o.Err != nil {
			t.Fatalf("error outcome: %+v", o.Err)
		}
		checkAsked(t, o, e, want)
		p95, p99, obs := e.byQueue(t, want[0]), e.byQueue(t, want[1]), e.byQueue(t, want[2])
		for q, n := range map[string]float64{"batch": 240 * 100, "default": 240 * 100, "idle": 0} {
			if !closeTo(obs[q], n) {
				t.Errorf("engine observations of queue %s = %v, want %v", q, obs[q], n)
			}
		}
		if len(o.Results) != 6 {
			t.Fatalf("got %d results (%s), want 6: p95 and p99 of batch, default, idle", len(o.Results), o.Message)
		}
		// batch, 100 per scrape: (64,128] 10, (128,256] 60, (256,512] 24,
		// (512,1024] 6. The top 5 and the top 1 both lie in (512,1024]:
		// 1 and 5 of its 6 below them.
		checkNativeResult(t, o.Results[0], "p95", "batch", p95["batch"], expBucket{512, 1024, 512 * math.Exp2(1.0/6)}, obs["batch"], Fail) // 574.7
		checkNativeResult(t, o.Results[1], "p99", "batch", p99["batch"], expBucket{512, 1024, 512 * math.Exp2(5.0/6)}, obs["batch"], Fail) // 912.3
		// default, 100 per scrape: (4,8] 50, (8,16] 30, (16,32] 14,
		// (32,64] 4, (64,128] 2. The top 5 reach 2+4 into (32,64]: 1 of
		// its 4 below; the top 1 lies in (64,128], 1 of its 2 below.
		checkNativeResult(t, o.Results[2], "p95", "default", p95["default"], expBucket{32, 64, 32 * math.Exp2(1.0/4)}, obs["default"], Pass) // 38.1
		checkNativeResult(t, o.Results[3], "p99", "default", p99["default"], expBucket{64, 128, 64 * math.Sqrt2}, obs["default"], Pass)      // 90.5
		// idle: its series exist but saw nothing in the window; the engine
		// answers NaN and the check reports no data with 0 observations.
		for i, subject := range []string{"p95", "p99"} {
			r := o.Results[4+i]
			if r.Subject != subject || r.Labels["queue"] != "idle" {
				t.Errorf("result %d = %s %v, want %s of idle", 4+i, r.Subject, r.Labels, subject)
				continue
			}
			if r.Value != nil || !r.Missing || r.Status != Fail || extra(r, "observations") != 0.0 {
				t.Errorf("idle %s = %+v, want no value, missing, fail (on_missing), 0 observations", subject, r)
			}
			if !math.IsNaN(p95["idle"]) || !math.IsNaN(p99["idle"]) {
				t.Errorf("engine percentiles of idle = %v, %v, want NaN", p95["idle"], p99["idle"])
			}
			checkNativeExtras(t, "idle "+subject, r)
		}
		if o.Status != Fail {
			t.Errorf("status = %s, want fail", o.Status)
		}
	})

	t.Run("no native series", func(t *testing.T) {
		// A selector that matches no native series is no data.
		plan := loadOne(t, `- name: lat-native-absent
  type: latency
  histogram: task_seconds
  native: true
  selector: '{job="nope"}'
  percentiles: {p95: 60s}
`)
		o := runNative(t, plan[0], e)
		if o.Status != Fail || o.Err != nil || !contains(o.Message, "task_seconds (native) matched no series") {
			t.Errorf("status %s, message %q, want fail with no data for task_seconds (native)", o.Status, o.Message)
		}
	})
}
