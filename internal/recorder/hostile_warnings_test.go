package recorder

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/loki"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// leftWarningProm is fakeProm whose answers about x_total come with a
// warning, as a Prometheus whose remote store did not answer sends one.
type leftWarningProm struct{ *fakeProm }

const leftRemoteWarning = "remote read from http://ci:SECRET-7@store.eu:9090/read?token=SECRET-8 failed:\npartial data"

func (p leftWarningProm) QueryMatrix(ctx context.Context, q string, at time.Time) (model.Matrix, error) {
	if strings.Contains(q, "x_total") {
		sources.AddWarnings(ctx, "prometheus", leftRemoteWarning)
	}
	return p.fakeProm.QueryMatrix(ctx, q, at)
}

// TestHostileRecordWarnings: warnings the source sends while a snapshot
// is recorded are printed (one line each, masked) and written to the
// manifest with the queries whose data came with them; offline, the
// budgets of those queries say that the recorded data may be partial,
// and the others do not.
func TestHostileRecordWarnings(t *testing.T) {
	atMs := planAt.UnixMilli()
	prom := leftWarningProm{&fakeProm{series: []fakeSeries{
		{metric: model.Metric{"__name__": "x_total", "job": "a"}, samples: every15s(atMs-3600_000, atMs, 1)},
		{metric: model.Metric{"__name__": "y", "job": "a"}, samples: every15s(atMs-3600_000, atMs, 2)},
	}}}
	cfg := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nbudgets:\n"+
		"  - name: x\n    type: metric\n    expr: sum(x_total)\n    max: 1e9\n"+
		"  - name: y\n    type: metric\n    expr: sum(y)\n    max: 1e9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, plan, err := checks.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "snap")
	var printed []string
	sum, err := Record(context.Background(), out, Options{
		At:         planAt,
		PromQL:     []string{"sum(x_total)", "sum(y)"},
		Prometheus: prom,
		Warn:       func(s string) { printed = append(printed, s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	const masked = "prometheus: remote read from http://xxxxx@store.eu:9090/read?token=xxxxx failed: partial data"
	if want := []string{"the recorded data may be partial: " + masked}; !slices.Equal(printed, want) {
		t.Errorf("printed warnings\n  %q\nwant\n  %q", printed, want)
	}
	wantRecorded := []snapshot.RecordedWarning{{Text: masked, Queries: []string{"sum(x_total)"}}}
	if fmt.Sprint(sum.Warnings) != fmt.Sprint(wantRecorded) {
		t.Errorf("summary warnings %q, want %q", sum.Warnings, wantRecorded)
	}
	manifest, err := os.ReadFile(filepath.Join(out, snapshot.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(manifest), "SECRET") {
		t.Errorf("manifest.yaml holds a secret:\n%s", manifest)
	}
	if !strings.HasSuffix(string(manifest), "\nwarnings:\n  - warning: \""+masked+"\"\n    queries:\n      - \"sum(x_total)\"\n") {
		t.Errorf("manifest.yaml lacks the warning:\n%s", manifest)
	}

	snap, err := snapshot.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	if got := snap.Manifest().Warnings; fmt.Sprint(got) != fmt.Sprint(wantRecorded) {
		t.Errorf("manifest warnings read back as %q", got)
	}
	pq, err := snap.PromQL(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	env := checks.Env{At: planAt, Prometheus: snap.CoveringPromQL(pq)}
	outcomes, _ := checks.Run(context.Background(), plan, env, 1, time.Now)
	wantWarning := "snapshot: the recording got a warning, the recorded data may be partial: " + masked
	for _, o := range outcomes {
		if o.Status != checks.Pass {
			t.Errorf("%s: %s %s, want pass", o.Name, o.Status, o.Message)
		}
		var want, wantNotes []string
		if o.Name == "x" { // y's data came without warning
			want = []string{wantWarning}
			wantNotes = []string{"warning from " + wantWarning + " (the answer may be partial data)"}
		}
		if !slices.Equal(o.Warnings, want) || !slices.Equal(o.Notes, wantNotes) {
			t.Errorf("%s: warnings %q, notes %q; want %q, %q", o.Name, o.Warnings, o.Notes, want, wantNotes)
		}
	}
}

// leftWarningLoki answers with nothing, and with a warning about every
// query of service api.
type leftWarningLoki struct{}

func (leftWarningLoki) Query(ctx context.Context, q string, _ time.Time) (model.Vector, error) {
	if strings.Contains(q, `"api"`) {
		sources.AddWarnings(ctx, "loki", "max entries limit hit")
	}
	return model.Vector{}, nil
}

func (leftWarningLoki) QueryLogs(ctx context.Context, q string, _, _ time.Time, _ int) (*loki.LogPage, error) {
	if strings.Contains(q, `"api"`) {
		sources.AddWarnings(ctx, "loki", "max entries limit hit")
	}
	return &loki.LogPage{}, nil
}

// TestHostileRecordLogWarnings: Loki's warnings while recording raw logs
// or aggregates are charged to the queries whose data came with them.
func TestHostileRecordLogWarnings(t *testing.T) {
	const (
		qa  = `sum(count_over_time({service="api"}[5m]))`
		qa2 = `sum(bytes_over_time({service="api"}[1m]))`
		qd  = `sum(count_over_time({service="db"}[5m]))`
	)
	want := fmt.Sprint([]snapshot.RecordedWarning{{Text: "loki: max entries limit hit", Queries: []string{qa, qa2}}})
	for _, mode := range []string{LogsRaw, LogsAggregate} {
		var printed []string
		sum, err := Record(context.Background(), filepath.Join(t.TempDir(), "snap"), Options{
			At: planAt, LogQL: []string{qa, qd, qa2}, Loki: leftWarningLoki{}, Logs: mode,
			Warn: func(s string) { printed = append(printed, s) },
		})
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		if got := fmt.Sprint(sum.Warnings); got != want {
			t.Errorf("%s: warnings %s, want %s", mode, got, want)
		}
		if !slices.Equal(printed, []string{"the recorded data may be partial: loki: max entries limit hit"}) {
			t.Errorf("%s: printed %q", mode, printed)
		}
	}
}
