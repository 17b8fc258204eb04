package snapshot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

var coverAt = time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC)

func TestManifestQueriesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	qs := []string{
		`max by (queue) (secflow_queue_depth)`,
		`sum by (service) (count_over_time({env="prod"} |~ ` + "`(?i)password\\s*[=:]\\s*\\S+`" + ` [1h]))`,
		"a > 0.5 and b < 1 # \"quoted\" & <html>",
	}
	if err := WriteManifest(dir, Manifest{EvaluatedAt: coverAt, Queries: qs}); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir)
	if got := s.Manifest().Queries; !reflect.DeepEqual(got, qs) {
		t.Errorf("queries read back as %q, want %q", got, qs)
	}
	b, _ := os.ReadFile(filepath.Join(dir, ManifestFile))
	if !strings.Contains(string(b), "queries:\n  - \"max by (queue) (secflow_queue_depth)\"\n") || strings.Contains(string(b), `\u003c`) {
		t.Errorf("manifest.yaml:\n%s", b)
	}
}

func TestManifestQueriesErrors(t *testing.T) {
	for _, c := range []struct{ text, msg string }{
		{"version: 1\nevaluated_at: 2026-11-26T12:00:07Z\nqueries: up\n", "queries: want a list"},
		{"version: 1\nevaluated_at: 2026-11-26T12:00:07Z\nqueries:\n  - {a: b}\n", "each item must be a query text"},
		{"version: 1\nevaluated_at: 2026-11-26T12:00:07Z\nqueries:\n  - \"\"\n", "each item must be a query text"},
	} {
		dir := writeSnapshot(t, map[string]string{ManifestFile: c.text})
		_, err := Open(dir)
		var ce *CorruptError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: err = %v, want a CorruptError saying %q", c.text, err, c.msg)
		}
	}
}

type echoSource struct{ asked []string }

func (e *echoSource) Query(_ context.Context, q string, _ time.Time) (model.Vector, error) {
	e.asked = append(e.asked, q)
	return model.Vector{}, nil
}

func TestCovering(t *testing.T) {
	dir := t.TempDir()
	m := Manifest{EvaluatedAt: coverAt, Queries: []string{
		`max by (queue) (secflow_queue_depth)`,
		`sum by (service) (bytes_over_time({env="prod"}[5m]))`,
	}}
	if err := WriteManifest(dir, m); err != nil {
		t.Fatal(err)
	}
	s := mustOpen(t, dir)
	prom, logs := &echoSource{}, &echoSource{}
	pq, lq := s.CoveringPromQL(prom), s.CoveringLogQL(logs)
	ctx := context.Background()

	// Recorded queries, as written or spelled otherwise, pass through.
	for _, q := range []string{`max by (queue) (secflow_queue_depth)`, `max by(queue)(secflow_queue_depth)`, `max(secflow_queue_depth) by (queue)`} {
		if _, err := pq.Query(ctx, q, coverAt); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	if _, err := lq.Query(ctx, `sum by(service)(bytes_over_time({env="prod"} [5m]))`, coverAt); err != nil {
		t.Errorf("another spelling of a recorded LogQL query: %v", err)
	}
	if len(prom.asked) != 3 || len(logs.asked) != 1 {
		t.Errorf("asked %v and %v", prom.asked, logs.asked)
	}

	// Another query, or another time, is missing data that says why.
	_, err := pq.Query(ctx, `sum by (queue) (secflow_queue_depth)`, coverAt)
	want := dir + " was recorded for other queries: budgets.yaml changed since (query sum by (queue) (secflow_queue_depth) not recorded); re-record with secflow-budget snapshot"
	if sources.KindOf(err) != sources.Missing || !strings.Contains(err.Error(), want) {
		t.Errorf("unrecorded query: %v, want kind missing_data and %q", err, want)
	}
	if _, err := lq.Query(ctx, `sum by (service) (bytes_over_time({env="prod"}[1h]))`, coverAt); sources.KindOf(err) != sources.Missing {
		t.Errorf("unrecorded LogQL window: %v", err)
	}
	_, err = pq.Query(ctx, `max by (queue) (secflow_queue_depth)`, coverAt.Add(time.Hour))
	if sources.KindOf(err) != sources.Missing || !strings.Contains(err.Error(), "was recorded for evaluation at 2026-11-26T12:00:07Z") {
		t.Errorf("another time: %v", err)
	}
	if len(prom.asked) != 3 {
		t.Errorf("refused queries reached the source: %v", prom.asked)
	}
	if s.CoveringPromQL(nil) != nil || s.CoveringLogQL(nil) != nil {
		t.Error("a nil source must stay nil")
	}
}

func TestCoveringTrustsSnapshotsWithoutQueries(t *testing.T) {
	s := mustOpen(t, writeSnapshot(t, map[string]string{}))
	src := &echoSource{}
	if got := s.CoveringPromQL(src); got != sources.PromQL(src) {
		t.Errorf("a snapshot without a query list must pass every query through")
	}
}
