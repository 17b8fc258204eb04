package snapshot

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/secflow/secflow-budget/internal/sources"
)

// TestHostileEngineWarnings: the engine's warnings about the data reach
// the warnings collector as the live client's do ("SOURCE: TEXT", the
// text Prometheus' API sends); its infos are left out, as the live client
// leaves out a response's infos.
func TestHostileEngineWarnings(t *testing.T) {
	ts := sec(0)
	om := fmt.Sprintf(`# TYPE nole gauge
nole_bucket{job="b"} 10 %[1]d
nole_bucket{job="b",le="abc"} 11 %[1]d
nole_bucket{job="b",le="+Inf"} 12 %[1]d
# TYPE nonmono histogram
nonmono_bucket{job="a",le="0.1"} 10 %[1]d
nonmono_bucket{job="a",le="0.5"} 5 %[1]d
nonmono_bucket{job="a",le="+Inf"} 20 %[1]d
nonmono_count{job="a"} 20 %[1]d
nonmono_sum{job="a"} 3 %[1]d
# TYPE g gauge
g{job="a"} 1 %[1]d
# EOF
`, ts)
	q := mustPromQL(t, mustOpen(t, writeSnapshot(t, map[string]string{"metrics.om": om})))
	tests := []struct {
		query string
		want  []string
	}{
		{
			query: `histogram_quantile(0.9, nole_bucket)`,
			want: []string{
				`snapshot: PromQL warning: bucket label "le" is missing or has a malformed value of "" (1:25)`,
				`snapshot: PromQL warning: bucket label "le" is missing or has a malformed value of "abc" (1:25)`,
			},
		},
		{
			query: `histogram_quantile(1.5, nonmono_bucket)`,
			want:  []string{`snapshot: PromQL warning: quantile value should be between 0 and 1, got 1.5 (1:20)`},
		},
		// Non-monotonic buckets are an info: a live Prometheus 3 sends it
		// as "infos", which the live client drops; 2.42 sends nothing.
		{query: `histogram_quantile(0.9, nonmono_bucket)`},
		// rate over a gauge: an info too.
		{query: `rate(g[5m])`},
		{query: `g`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			ctx, w := sources.WithWarnings(context.Background())
			if _, err := q.Query(ctx, tt.query, evalAt); err != nil {
				t.Fatalf("query: %v", err)
			}
			if got := w.List(); !slices.Equal(got, tt.want) {
				t.Errorf("warnings =\n  %q\nwant\n  %q", got, tt.want)
			}
		})
	}
}
