package cli

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

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

// engineTimeout bounds each source's engine detection: it runs after the
// budgets, and a source that hung for them is not waited for again.
const engineTimeout = 5 * time.Second

// liveEngines asks each live source of env which engine it runs, once the
// budgets are decided, so that the request never takes the place of a
// budget's (in a retry, a rate limit, a fault). A run cut short asks
// nothing: its sources are "unknown", the Note says why.
func liveEngines(ctx context.Context, env checks.Env) []report.SourceInfo {
	var srcs []namedEngineSource
	if s, ok := env.Prometheus.(engineSource); ok {
		srcs = append(srcs, namedEngineSource{"prometheus", s})
	}
	if s, ok := env.Loki.(engineSource); ok {
		srcs = append(srcs, namedEngineSource{"loki", s})
	}
	infos := make([]report.SourceInfo, len(srcs))
	var wg sync.WaitGroup
	for i, n := range srcs {
		infos[i] = report.SourceInfo{Name: n.name, URL: n.src.URL(), Engine: sources.EngineUnknown, Note: "not asked: the run was cut short"}
		if ctx.Err() != nil {
			continue
		}
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(ctx, engineTimeout)
			defer cancel()
			e, why := n.src.Engine(ctx)
			infos[i].Engine, infos[i].Version, infos[i].Note = e.Name, e.Version, why
		})
	}
	wg.Wait()
	return infos
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

// namedEngineSource is a live source of a recording and its name.
type namedEngineSource struct {
	name string
	src  engineSource
}

// detectEngines is how the recorder asks each source which engine it
// runs, for the snapshot's manifest.
func detectEngines(srcs []namedEngineSource) []recorder.EngineSource {
	var out []recorder.EngineSource
	for _, s := range srcs {
		out = append(out, recorder.EngineSource{Name: s.name, Engine: func(ctx context.Context) sources.Engine {
			ctx, cancel := context.WithTimeout(ctx, engineTimeout)
			defer cancel()
			e, _ := s.src.Engine(ctx)
			return e
		}})
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
