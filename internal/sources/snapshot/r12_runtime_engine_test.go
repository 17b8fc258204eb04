package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/sources"
)

// TestStateRuntimeinfoFromVictoriaMetrics: a snapshot recorded from
// VictoriaMetrics, which does not serve /api/v1/status/runtimeinfo, says so
// instead of "secflow-budget snapshot records it" (it could not); one
// recorded from Prometheus keeps the hint, and a runtime.json with the
// data answers whatever the engine.
func TestStateRuntimeinfoFromVictoriaMetrics(t *testing.T) {
	ctx := context.Background()
	open := func(engine string, files map[string]string) *State {
		t.Helper()
		dir := t.TempDir()
		m := Manifest{
			EvaluatedAt: time.Date(2026, 11, 26, 12, 0, 7, 0, time.UTC),
			Engines:     []RecordedEngine{{Source: "loki", Engine: "loki"}, {Source: "prometheus", Engine: engine}},
		}
		if err := WriteManifest(dir, m); err != nil {
			t.Fatal(err)
		}
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		st, err := s.State()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	st := open(sources.EngineVictoriaMetrics, nil)
	_, err := st.Runtimeinfo(ctx)
	want := "snapshot: " + st.dir + " holds no Prometheus runtime information (runtime.json): it was recorded from VictoriaMetrics, which does not serve /api/v1/status/runtimeinfo"
	if sources.KindOf(err) != sources.Missing || err.Error() != want {
		t.Errorf("from VictoriaMetrics: %v\nwant %s", err, want)
	}

	st = open(sources.EnginePrometheus, nil)
	_, err = st.Runtimeinfo(ctx)
	want = "snapshot: no runtime.json in " + st.dir + ": the snapshot lacks the data of Prometheus' /api/v1/status/runtimeinfo (secflow-budget snapshot records it)"
	if sources.KindOf(err) != sources.Missing || err.Error() != want {
		t.Errorf("from Prometheus: %v\nwant %s", err, want)
	}

	st = open(sources.EngineVictoriaMetrics, map[string]string{RuntimeFile: `{"prometheus": {"storageRetention": "15d"}}`})
	if ri, err := st.Runtimeinfo(ctx); err != nil || ri.StorageRetention != "15d" {
		t.Errorf("runtime.json from VictoriaMetrics: %+v, %v", ri, err)
	}
}
