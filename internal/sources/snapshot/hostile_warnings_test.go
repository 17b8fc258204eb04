package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

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

// leftStaticQL answers every query with one sample.
type leftStaticQL struct{}

func (leftStaticQL) Query(context.Context, string, time.Time) (model.Vector, error) {
	return model.Vector{{Metric: model.Metric{}, Value: 1}}, nil
}

// TestHostileRecordedWarnings: the manifest's warnings (what the sources
// said while the snapshot was recorded) round-trip, and every answer from
// the data they concern carries them: a warning with queries only the
// answers to those queries (in any spelling), one without queries every
// answer from its source's data; the other source's answers never. A
// snapshot without a query list passes them on too.
func TestHostileRecordedWarnings(t *testing.T) {
	const (
		promAll = "prometheus: remote store eu did not answer"
		promSum = "prometheus: query hit the series limit"
		lokiW   = "loki: query hit the max entries limit"
		note    = "snapshot: the recording got a warning, the recorded data may be partial: "
		logQ    = `sum(count_over_time({job="a"}[5m]))`
	)
	dir := t.TempDir()
	m := Manifest{EvaluatedAt: evalAt, Warnings: []RecordedWarning{
		{Text: promAll},
		{Text: promSum, Queries: []string{`sum(rate(x{job="a",i="1"}[5m]))`, "sum(up)"}},
		{Text: lokiW, Queries: []string{logQ}},
	}}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	written, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	want := "warnings:\n" +
		"  - \"" + promAll + "\"\n" +
		"  - warning: \"" + promSum + "\"\n" +
		"    queries:\n" +
		"      - \"sum(rate(x{job=\\\"a\\\",i=\\\"1\\\"}[5m]))\"\n" +
		"      - \"sum(up)\"\n" +
		"  - warning: \"" + lokiW + "\"\n" +
		"    queries:\n" +
		"      - \"sum(count_over_time({job=\\\"a\\\"}[5m]))\"\n"
	if !strings.HasSuffix(string(written), want) {
		t.Errorf("manifest.yaml:\n%s\nwant it to end with\n%s", written, want)
	}
	for _, queries := range [][]string{nil, {"up", "sum(up)", `sum(rate(x{job="a",i="1"}[5m]))`, logQ}} {
		m.Queries = queries
		if err := WriteManifest(dir, m); err != nil {
			t.Fatal(err)
		}
		s := mustOpen(t, dir)
		if got := s.Manifest().Warnings; fmt.Sprint(got) != fmt.Sprint(m.Warnings) {
			t.Fatalf("warnings read back as %q, want %q", got, m.Warnings)
		}
		for _, c := range []struct {
			src   sources.PromQL
			query string
			want  []string
		}{
			{s.CoveringPromQL(leftStaticQL{}), "up", []string{note + promAll}},
			{s.CoveringPromQL(leftStaticQL{}), "sum(up)", []string{note + promAll, note + promSum}},
			{s.CoveringPromQL(leftStaticQL{}), `sum (rate(x{i="1", job="a"}[5m]))`, []string{note + promAll, note + promSum}},
			{s.CoveringLogQL(leftStaticQL{}), logQ, []string{note + lokiW}},
		} {
			ctx, w := sources.WithWarnings(context.Background())
			if _, err := c.src.Query(ctx, c.query, evalAt); err != nil {
				t.Fatalf("%s: %v", c.query, err)
			}
			if got := w.List(); !slices.Equal(got, c.want) {
				t.Errorf("manifest queries %q, query %s: warnings %q, want %q", queries, c.query, got, c.want)
			}
		}
	}
}

func TestHostileManifestWarningsErrors(t *testing.T) {
	for _, c := range []struct {
		text string
		line int
		msg  string
	}{
		{"warnings: partial\n", 3, "warnings: want a list of warning texts"},
		{"warnings:\n  - \"\"\n", 4, "warnings: each item must be a warning text or a mapping with warning and queries"},
		{"warnings:\n  - [a]\n", 4, "warnings: each item must be a warning text or a mapping with warning and queries"},
		{"warnings:\n  - {queries: [up]}\n", 4, "warnings: missing warning: the warning's text"},
		{"warnings:\n  - {warning: x, query: up}\n", 4, `warnings: unknown key "query" (known: warning, queries)`},
		{"warnings:\n  - {warning: x, warning: y}\n", 4, `warnings: duplicate key "warning"`},
		{"warnings:\n  - {warning: [x]}\n", 4, "warnings: warning: want the warning's text"},
		{"warnings:\n  - {warning: x, queries: up}\n", 4, "warnings: queries: want a list of query texts"},
	} {
		dir := writeSnapshot(t, map[string]string{ManifestFile: testManifest + c.text})
		_, err := Open(dir)
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.Line != c.line || ce.Msg != c.msg {
			t.Errorf("%q: got %v, want line %d: %s", c.text, err, c.line, c.msg)
		}
	}
}
