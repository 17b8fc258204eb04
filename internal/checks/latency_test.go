package checks

import (
	"math"
	"testing"

	"github.com/prometheus/common/model"
)

const (
	latBudget = `- name: lat
  type: latency
  histogram: h_seconds
  selector: '{job="worker"}'
  window: 1h
  percentiles: {p95: 300s, p99: 600s}
  warn: {p95: 240s}
`
	q95     = `histogram_quantile(0.95, sum by (le) (rate(h_seconds_bucket{job="worker"}[1h])))`
	q99     = `histogram_quantile(0.99, sum by (le) (rate(h_seconds_bucket{job="worker"}[1h])))`
	qBucket = `sum by (le) (increase(h_seconds_bucket{job="worker"}[1h]))`
)

// buckets builds a bucket-count vector: le values and cumulative counts.
func buckets(les []string, counts []float64, extra ...string) model.Vector {
	var v model.Vector
	for i, le := range les {
		v = append(v, sample(counts[i], append([]string{"le", le}, extra...)...))
	}
	return v
}

func extra(r Result, key string) any {
	for _, kv := range r.Extra {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

func TestLatencyCheck(t *testing.T) {
	les := []string{"60", "120", "240", "300", "600", "+Inf"}
	tests := []struct {
		name       string
		p95, p99   float64
		counts     []float64
		wantStatus Status
		want       []struct {
			subject      string
			status       Status
			lower, upper any
		}
		wantMissing bool
	}{
		{
			name: "both within limits", p95: 212, p99: 290,
			counts:     []float64{100, 500, 900, 1000, 1000, 1000},
			wantStatus: Pass,
			want: []struct {
				subject      string
				status       Status
				lower, upper any
			}{{"p95", Pass, 120.0, 240.0}, {"p99", Pass, 240.0, 300.0}},
		},
		{
			name: "p95 in warn band, p99 over", p95: 260, p99: 700,
			counts:     []float64{100, 500, 900, 960, 980, 1000},
			wantStatus: Fail,
			want: []struct {
				subject      string
				status       Status
				lower, upper any
			}{{"p95", Warn, 240.0, 300.0}, {"p99", Fail, 600.0, "+Inf"}},
		},
		{
			name: "no observations in the window", p95: math.NaN(), p99: math.NaN(),
			counts:      []float64{0, 0, 0, 0, 0, 0},
			wantStatus:  Fail, // on_missing: fail (the default)
			wantMissing: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadOne(t, latBudget)
			f := &fakeProm{t: t, answers: map[string]model.Vector{
				qBucket: buckets(les, tt.counts),
				q95:     {sample(tt.p95)},
				q99:     {sample(tt.p99)},
			}}
			o := runOne(t, plan[0], f)
			if o.Status != tt.wantStatus {
				t.Fatalf("status = %s, want %s (%s)", o.Status, tt.wantStatus, o.Message)
			}
			if len(o.Results) != 2 {
				t.Fatalf("got %d results, want 2", len(o.Results))
			}
			for i, r := range o.Results {
				if tt.wantMissing {
					if r.Value != nil || r.Status != Fail || extra(r, "observations") != 0.0 {
						t.Errorf("result %d = %+v, want no value, status fail, 0 observations", i, r)
					}
					continue
				}
				w := tt.want[i]
				if r.Subject != w.subject || r.Status != w.status {
					t.Errorf("result %d = %s %s, want %s %s", i, r.Subject, r.Status, w.subject, w.status)
				}
				if got := extra(r, "bucket_lower"); got != w.lower {
					t.Errorf("%s bucket_lower = %v, want %v", r.Subject, got, w.lower)
				}
				if got := extra(r, "bucket_upper"); got != w.upper {
					t.Errorf("%s bucket_upper = %v, want %v", r.Subject, got, w.upper)
				}
				if got := extra(r, "observations"); got != tt.counts[len(tt.counts)-1] {
					t.Errorf("%s observations = %v, want %v", r.Subject, got, tt.counts[len(tt.counts)-1])
				}
			}
		})
	}
}

func TestLatencyCheckGroupsAndNotes(t *testing.T) {
	plan := loadOne(t, `- name: lat
  type: latency
  histogram: h_seconds
  by: [queue]
  percentiles: {p99: 250s}
`)
	q := `histogram_quantile(0.99, sum by (le, queue) (rate(h_seconds_bucket[1h])))`
	qb := `sum by (le, queue) (increase(h_seconds_bucket[1h]))`
	les := []string{"120", "240", "300", "+Inf"}
	f := &fakeProm{t: t, answers: map[string]model.Vector{
		qb: append(buckets(les, []float64{10, 20, 30, 30}, "queue", "batch"), buckets(les, []float64{5, 9, 10, 10}, "queue", "default")...),
		q:  {sample(296, "queue", "default"), sample(298, "queue", "batch")},
	}}
	o := runOne(t, plan[0], f)
	if o.Status != Fail || len(o.Results) != 2 {
		t.Fatalf("status %s with %d results, want fail with 2", o.Status, len(o.Results))
	}
	if o.Results[0].Labels["queue"] != "batch" || o.Results[1].Labels["queue"] != "default" {
		t.Errorf("results not sorted by group: %v, %v", o.Results[0].Labels, o.Results[1].Labels)
	}
	if got := extra(o.Results[0], "observations"); got != 30.0 {
		t.Errorf("batch observations = %v, want 30", got)
	}
	if len(o.Notes) != 1 || !contains(o.Notes[0], "p99 limit 250s is not a bucket bound (it lies between 240s and 300s)") {
		t.Errorf("notes = %q, want one about 250s between buckets", o.Notes)
	}
}

func TestLatencyNativeQueries(t *testing.T) {
	plan := loadOne(t, `- name: lat
  type: latency
  histogram: h_seconds
  native: true
  selector: '{job="api"}'
  window: 5m
  percentiles: {p99.9: 1s}
`)
	var got []string
	for _, q := range plan[0].Check.Queries() {
		got = append(got, q.Text)
	}
	want := []string{
		`histogram_quantile(0.999, sum(rate(h_seconds{job="api"}[5m])))`,
		`histogram_count(sum(increase(h_seconds{job="api"}[5m])))`,
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("queries = %q, want %q", got, want)
	}
}
