package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/recorder"
	"github.com/secflow/secflow-budget/internal/report"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// engineSource is a live client that can say which engine answers it.
type engineSource interface {
	URL() string
	Engine(ctx context.Context) (sources.Engine, string)
}

// probeEngines asks each live source of env, concurrently with the
// budgets, which engine it runs; wait returns what they said, in source
// order. A source that cannot say is "unknown" with the reason in Note.
func probeEngines(ctx context.Context, env checks.Env) (wait func() []report.SourceInfo) {
	var named []struct {
		name string
		src  engineSource
	}
	if s, ok := env.Prometheus.(engineSource); ok {
		named = append(named, struct {
			name string
			src  engineSource
		}{"prometheus", s})
	}
	if s, ok := env.Loki.(engineSource); ok {
		named = append(named, struct {
			name string
			src  engineSource
		}{"loki", s})
	}
	infos := make([]report.SourceInfo, len(named))
	var wg sync.WaitGroup
	for i, n := range named {
		wg.Go(func() {
			e, why := n.src.Engine(ctx)
			infos[i] = report.SourceInfo{Name: n.name, URL: n.src.URL(), Engine: e.Name, Version: e.Version, Note: why}
		})
	}
	return func() []report.SourceInfo {
		wg.Wait()
		return infos
	}
}

// recordedEngines are the engines a snapshot's manifest recorded, for the
// reports of an offline run.
func recordedEngines(m snapshot.Manifest) []report.SourceInfo {
	var infos []report.SourceInfo
	for _, e := range m.Engines {
		infos = append(infos, report.SourceInfo{
			Name: e.Source, Engine: e.Engine, Version: e.Version, Recorded: true,
			Note: sources.Engine{Name: e.Engine, Version: e.Version}.OfflineDiffers(),
		})
	}
	return infos
}

// noteOfflineParity adds, to each PromQL budget of an offline run over a
// snapshot recorded from an engine whose PromQL offline evaluation cannot
// reproduce, a note saying that live values may differ and why.
func noteOfflineParity(m snapshot.Manifest, plan []*checks.Planned, outcomes []checks.Outcome) {
	var why string
	for _, e := range m.Engines {
		if engine := (sources.Engine{Name: e.Engine, Version: e.Version}); e.Source == "prometheus" && engine.OfflineDiffers() != "" {
			why = "recorded from " + engine.String() + ": " + engine.OfflineDiffers()
		}
	}
	if why == "" {
		return
	}
	promql := map[string]bool{}
	for _, p := range plan {
		for _, q := range p.Check.Queries() {
			if q.Lang == "promql" {
				promql[p.Budget.Name] = true
			}
		}
	}
	for i := range outcomes {
		if promql[outcomes[i].Name] {
			outcomes[i].Notes = append(outcomes[i].Notes, why)
		}
	}
}

// warnEngines tells stderr about live sources whose engine snapshots and
// offline checks cannot reproduce.
func warnEngines(w io.Writer, engines []snapshot.RecordedEngine) {
	for _, e := range engines {
		if why := (sources.Engine{Name: e.Engine, Version: e.Version}).OfflineDiffers(); why != "" {
			fmt.Fprintf(w, "warning: %s is %s: %s (check --offline on this snapshot notes it in each PromQL budget)\n",
				e.Source, sources.Engine{Name: e.Engine, Version: e.Version}, why)
		}
	}
}

// namedEngineSource is a live source of a recording and its name.
type namedEngineSource struct {
	name string
	src  engineSource
}

// detectEngines asks each source which engine it runs, for the snapshot's
// manifest.
func detectEngines(ctx context.Context, srcs []namedEngineSource) []snapshot.RecordedEngine {
	var out []snapshot.RecordedEngine
	for _, s := range srcs {
		e, _ := s.src.Engine(ctx)
		out = append(out, snapshot.RecordedEngine{Source: s.name, Engine: e.Name, Version: e.Version, OfflineParity: e.OfflineDiffers()})
	}
	return out
}

// partial is the recording's verdict on budgets whose data it could not
// get: exit 3 naming them, unless --allow-partial.
func (o *snapshotOptions) partial(res *recorder.Summary) error {
	if len(res.Unrecorded) == 0 {
		return nil
	}
	names := make([]string, len(res.Unrecorded))
	for i, u := range res.Unrecorded {
		names[i] = u.Budget
	}
	msg := fmt.Sprintf("the snapshot lacks the data of %s (%s): check --offline will report %s as errors",
		countOf(len(names), "budget"), strings.Join(names, ", "), itThem(len(names)))
	if o.allowPartial {
		fmt.Fprintln(o.io.Err, "warning: "+msg+" (--allow-partial)")
		return nil
	}
	return &exitError{code: ExitSource, err: fmt.Errorf("%s; the snapshot was written all the same: give --allow-partial to accept it", msg)}
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}
