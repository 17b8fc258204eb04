package recorder

import (
	"reflect"
	"testing"
	"time"
)

var planAt = time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC)

func ms(d time.Duration) int64 { return planAt.Add(d).UnixMilli() }

func TestPlanMetricsSpans(t *testing.T) {
	tests := []struct {
		name  string
		query string
		// want: selector text → its merged spans
		want      map[string][]span
		instantAt map[string][]int64
	}{
		{
			name:      "instant selector reads the lookback",
			query:     `max by (queue) (secflow_queue_depth)`,
			want:      map[string][]span{"secflow_queue_depth": {{ms(-5 * time.Minute), ms(0)}}},
			instantAt: map[string][]int64{"secflow_queue_depth": {ms(0)}},
		},
		{
			name:  "range selector reads its range",
			query: `rate(x_total{job="a"}[1h])`,
			want:  map[string][]span{`x_total{job="a"}`: {{ms(-time.Hour), ms(0)}}},
		},
		{
			name:  "offset moves the window back",
			query: `increase(x_total[10m] offset 1h)`,
			want:  map[string][]span{"x_total": {{ms(-70 * time.Minute), ms(-time.Hour)}}},
		},
		{
			name:  "@ fixes the time",
			query: `x_total[5m] @ 1795690000`,
			want:  map[string][]span{"x_total": {{1795690000_000 - 300_000, 1795690000_000}}},
		},
		{
			name:  "@ end() is the evaluation time",
			query: `x_total @ end()`,
			want:  map[string][]span{"x_total": {{ms(-5 * time.Minute), ms(0)}}},
			instantAt: map[string][]int64{
				"x_total": {ms(0)},
			},
		},
		{
			name:  "subquery widens by its range and offset, then the inner range",
			query: `max_over_time(rate(x_total[5m])[1h:1m] offset 30m)`,
			want:  map[string][]span{"x_total": {{ms(-30*time.Minute - time.Hour - 5*time.Minute), ms(-30 * time.Minute)}}},
		},
		{
			name:  "instant selector in a subquery is read over the whole range",
			query: `max_over_time(x[30m:])`,
			want:  map[string][]span{"x": {{ms(-35 * time.Minute), ms(0)}}},
		},
		{
			name:  "one selector, matchers in another order, spans merged",
			query: `sum(rate(x{b="2",a="1"}[1h])) / sum(x{a="1",b="2"} offset 2h) + sum(x{a="1", b="2"} offset 1h)`,
			want: map[string][]span{`x{a="1",b="2"}`: {
				{ms(-2*time.Hour - 5*time.Minute), ms(-2 * time.Hour)},
				{ms(-time.Hour - 5*time.Minute), ms(0)},
			}},
			instantAt: map[string][]int64{`x{a="1",b="2"}`: {ms(-2 * time.Hour), ms(-time.Hour)}},
		},
		{
			name:  "regex name selector",
			query: `count({__name__=~"secflow_.*"})`,
			want:  map[string][]span{`{__name__=~"secflow_.*"}`: {{ms(-5 * time.Minute), ms(0)}}},
			instantAt: map[string][]int64{
				`{__name__=~"secflow_.*"}`: {ms(0)},
			},
		},
		{
			name:  "no selector",
			query: `vector(1)`,
			want:  map[string][]span{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sels, err := PlanMetrics([]string{tc.query}, planAt)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]span{}
			gotInstant := map[string][]int64{}
			for _, s := range sels {
				got[s.Text] = s.spans
				if len(s.instantAt) > 0 {
					gotInstant[s.Text] = s.instantAt
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("spans\n%v\nwant\n%v", got, tc.want)
			}
			if tc.instantAt == nil {
				tc.instantAt = map[string][]int64{}
			}
			if !reflect.DeepEqual(gotInstant, tc.instantAt) {
				t.Errorf("instant reads %v, want %v", gotInstant, tc.instantAt)
			}
		})
	}
}

func TestPlanMetricsErrors(t *testing.T) {
	if _, err := PlanMetrics([]string{"sum("}, planAt); err == nil {
		t.Error("a query that does not parse must be an error")
	}
}

func TestToMillisRounds(t *testing.T) {
	base := time.Unix(1795694407, 0)
	for _, c := range []struct {
		add  time.Duration
		want int64
	}{{0, 1795694407000}, {499_999, 1795694407000}, {500_000, 1795694407001}, {1_400_000, 1795694407001}} {
		if got := toMillis(base.Add(c.add)); got != c.want {
			t.Errorf("toMillis(+%v) = %d, want %d", c.add, got, c.want)
		}
	}
}
