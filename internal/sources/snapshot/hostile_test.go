package snapshot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestHostileMetricsSameData: a sample of a series at a time that an
// earlier file holds with another value is refused wherever it lies in
// the series, naming both places; a file holding only samples an earlier
// file holds is the same data twice, refused naming both files.
func TestHostileMetricsSameData(t *testing.T) {
	ts := sec(0)
	series := func(vals ...float64) string {
		var b strings.Builder
		b.WriteString("# TYPE x gauge\n")
		for i, v := range vals {
			fmt.Fprintf(&b, "x{job=\"a\"} %g %d\n", v, ts-int64(60*(len(vals)-1-i)))
		}
		b.WriteString("# EOF\n")
		return b.String()
	}
	full := series(1, 2, 3, 4, 5) // ts-240 .. ts
	for _, c := range []struct {
		name     string
		a, b     string
		file     string
		line     int
		contains []string
	}{
		{
			name: "conflict inside the earlier file's span",
			a:    full,
			b:    fmt.Sprintf("# TYPE x gauge\nx{job=\"a\"} 9 %d\n# EOF\n", ts-120),
			file: "b.om", line: 2, contains: []string{"conflicting samples", "a.om:4"},
		},
		{
			name: "conflict at the earlier file's first sample",
			a:    full,
			b:    fmt.Sprintf("# TYPE x gauge\nx{job=\"a\"} 1 %d\nx{job=\"a\"} 7 %d\n# EOF\n", ts-300, ts-240),
			file: "b.om", line: 3, contains: []string{"conflicting samples", "a.om:2"},
		},
		{
			name: "conflict at the newest sample, labels in another spelling",
			a:    "# TYPE x gauge\nx{job=\"a\",i=\"1\"} 1 " + fmt.Sprint(ts) + "\n# EOF\n",
			b:    "# TYPE x gauge\nx{i=\"1\",job=\"a\"} 2 " + fmt.Sprint(ts) + "\n# EOF\n",
			file: "b.om", line: 2, contains: []string{"conflicting samples", "a.om:2"},
		},
		{
			name: "a copy",
			a:    full, b: full,
			file: "b.om", contains: []string{"same data as", "a.om"},
		},
		{
			name: "a part of the other",
			a:    full, b: series(4, 5),
			file: "b.om", contains: []string{"same data as", "a.om"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeSnapshot(t, map[string]string{"a.om": c.a, "b.om": c.b})
			s := mustOpen(t, dir)
			_, err := s.PromQL(context.Background())
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v (%T), want *CorruptError", err, err)
			}
			if ce.File != filepath.Join(dir, c.file) || ce.Line != c.line {
				t.Errorf("error at %s:%d, want %s:%d (%v)", ce.File, ce.Line, c.file, c.line, err)
			}
			for _, w := range c.contains {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), `job="a"`) || strings.Contains(err.Error(), " 9 ") {
				t.Errorf("error %q prints file content", err)
			}
		})
	}
	// Captures that only touch or interleave are one series, merged.
	a := series(1, 2, 3)
	b := fmt.Sprintf("# TYPE x gauge\nx{job=\"a\"} 1 %d\nx{job=\"a\"} 4 %d\nx{job=\"a\"} 6 %d\n# EOF\n", ts-120, ts-90, ts-30)
	s := mustOpen(t, writeSnapshot(t, map[string]string{"a.om": a, "b.om": b}))
	v := query(t, mustPromQL(t, s), `count_over_time(x[1h])`, evalAt.Add(time.Second))
	if len(v) != 1 || v[0].Value != 5 {
		t.Errorf("merged: got %v, want 5 samples", v)
	}
}

// TestHostileMetricsParseErrorQuotesNothing: the parser's messages quote
// the file; ours name the file and line only.
func TestHostileMetricsParseErrorQuotesNothing(t *testing.T) {
	om := fmt.Sprintf("# TYPE a gauge\na{token=\"s3cr3t\"} 1 %d\na{x=s3cr3t} 2 %d\n# EOF\n", sec(0), sec(0))
	dir := writeSnapshot(t, map[string]string{"metrics.om": om})
	_, err := mustOpen(t, dir).PromQL(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(dir, "metrics.om")+":3: ") {
		t.Fatalf("got %v, want metrics.om:3: ...", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %q prints the line", err)
	}
}

// TestHostileQueryLimits: no query can take the machine: a subquery of
// more steps than the query sample limit is refused before it runs, and
// the engine's own limit (--query.max-samples) applies, settable.
func TestHostileQueryLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("# TYPE up gauge\n")
	for m := -199; m <= 0; m++ {
		fmt.Fprintf(&b, "up{job=\"a\"} 1 %d\n", sec(time.Duration(m)*time.Minute))
	}
	b.WriteString("# EOF\n")
	dir := writeSnapshot(t, map[string]string{"metrics.om": b.String()})
	for _, c := range []struct {
		max   int
		query string
		want  string // "" for no error
	}{
		{0, "max_over_time(up[10y:1ms])", "query would load too many samples: the subquery up[10y:1ms] takes 315,360,000,001 steps"},
		{0, "max_over_time(max_over_time(up[1h:1ms])[1h:1ms])", "query would load too many samples"},
		{0, "max_over_time(up[1h:])", ""}, // the default step, Prometheus' 1m
		{0, "sum_over_time(up[10y])", ""},
		{100, "sum_over_time(up[10y])", "query processing would load too many samples into memory"},
		{100, "max_over_time(up[2h:1m])", "query would load too many samples: the subquery up[2h:1m] takes 121 steps"},
		{1000, "max_over_time(up[2h:1m])", ""},
	} {
		s := mustOpen(t, dir)
		s.SetMaxSamples(c.max)
		q := mustPromQL(t, s)
		start := time.Now()
		v, err := q.Query(context.Background(), c.query, evalAt)
		if took := time.Since(start); took > 10*time.Second {
			t.Errorf("%s: took %s", c.query, took)
		}
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s (max %d): %v", c.query, c.max, err)
		case c.want == "" && len(v) != 1:
			t.Errorf("%s (max %d): %v, want one series", c.query, c.max, v)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s (max %d): %v, want an error saying %q", c.query, c.max, err, c.want)
		}
	}
}
