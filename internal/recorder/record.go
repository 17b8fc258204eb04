package recorder

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/atomicfile"
	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// The files a recorded snapshot holds.
const (
	MetricsFile = "metrics.om"
	LogsFile    = "logs.jsonl"
)

// How log budgets are recorded.
const (
	// LogsRaw copies the log entries the budgets read (logs.jsonl).
	LogsRaw = "raw"
	// LogsAggregate keeps only Loki's answers to the budgets' queries
	// (logs.aggregate.json).
	LogsAggregate = "aggregate"
)

// Options say what to record.
type Options struct {
	// At is the evaluation time the snapshot is recorded for.
	At time.Time
	// PromQL and LogQL are the queries of the budgets to record for.
	PromQL, LogQL []string
	// Prometheus and Loki are the live sources; each is needed only when
	// there are queries in its language.
	Prometheus PromSource
	Loki       LokiSource
	// Logs is LogsRaw (the default) or LogsAggregate.
	Logs string
	// StateBudgets are the budgets that read more than PromQL and LogQL
	// (see NeedsState); their checks run once against the live sources,
	// State and the query sources above, to record what they read.
	StateBudgets []*checks.Planned
	State        StateSources
	// Manifest is the manifest to write; Record fills in the evaluation
	// time, the queries and where the data came from.
	Manifest snapshot.Manifest
	// From are the live sources' URLs. The manifest's captured_from names
	// those the recording asked anything, with their URLs masked.
	From []SourceURL
	// Warn receives what the snapshot may not reproduce; nil drops it.
	Warn func(string)
	// Engines ask the live sources which engines they run, once the data
	// is recorded (so that a detection request never takes the place of
	// a recording one), and only the sources the recording asked: the
	// manifest's engines. An engine whose PromQL offline evaluation
	// cannot reproduce is reported to Warn.
	Engines []EngineSource
}

// EngineSource is a live source that can say which engine it runs.
type EngineSource struct {
	Name   string // "prometheus", "loki"
	Engine func(context.Context) sources.Engine
}

// Summary says what was recorded.
type Summary struct {
	Dir           string
	Files         []string // in the directory, sorted
	Metrics       *MetricStats
	Logs          *LogStats
	LogAggregates int      // queries whose answers were recorded
	StateFiles    []string // recorded for StateBudgets
	// Unrecorded are the budgets whose data could not be recorded: their
	// checks failed live, and offline they will lack their data.
	Unrecorded []Unrecorded
	// Warnings are what the sources said beside their answers, as
	// "SOURCE: TEXT", masked, with the queries they concern; the
	// manifest's warnings.
	Warnings []snapshot.RecordedWarning
}

// Unrecorded is a budget whose data a recording could not get.
type Unrecorded struct {
	Budget  string
	Message string // why its check failed live, masked
}

// CheckOut reports whether out can receive a snapshot: it does not exist,
// or is an empty directory, or holds a previous snapshot (a
// manifest.yaml), which Record replaces as a whole. Anything else is
// refused rather than overwritten.
func CheckOut(out string) error {
	fi, err := os.Stat(out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", out)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(out, snapshot.ManifestFile)); err != nil {
		return fmt.Errorf("%s is not empty and holds no snapshot (no %s): refusing to replace it", out, snapshot.ManifestFile)
	}
	return nil
}

// Record asks the sources for what the queries read at o.At and writes
// the snapshot into out. It writes into a new directory next to out and
// swaps it into place at the end: a failed or interrupted recording
// leaves out as it was.
func Record(ctx context.Context, out string, o Options) (*Summary, error) {
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	if o.Logs == "" {
		o.Logs = LogsRaw
	}
	if o.Logs != LogsRaw && o.Logs != LogsAggregate {
		return nil, fmt.Errorf("logs mode %q: want %s or %s", o.Logs, LogsRaw, LogsAggregate)
	}
	if err := CheckOut(out); err != nil {
		return nil, err
	}
	shown := out
	// Absolute, so that "." or "snap/" have a parent and a name.
	out, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	// A link to the snapshot directory stays a link: the new snapshot
	// replaces the directory it points to.
	if out, err = atomicfile.ResolveLinks(out); err != nil {
		return nil, err
	}
	parent, base := filepath.Dir(out), filepath.Base(out)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	// Named so that the staging directory of a killed recording is
	// recognised and removed by the next one.
	atomicfile.CleanStale(parent)
	staging, err := os.MkdirTemp(parent, atomicfile.TempPattern("."+base+"."))
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging) // a no-op once renamed into place
	if err := os.Chmod(staging, 0o755); err != nil {
		return nil, err
	}

	sum := &Summary{Dir: shown}
	var used contacts
	used.watch(&o)
	// Warnings beside the sources' answers mean the recorded data may be
	// partial: say so now, and in the manifest, so that the offline
	// checks of the budgets on that data say so too (warnings.go).
	ctx, wlog := withWarningLog(ctx)
	err = withQueries(ctx, nil, func(ctx context.Context) error { return record(ctx, staging, o, sum) })
	if err != nil {
		return nil, err
	}
	sum.Warnings = wlog.list()
	for _, w := range sum.Warnings {
		o.Warn("the recorded data may be partial: " + w.Text)
	}

	m := o.Manifest
	m.EvaluatedAt = o.At
	m.Queries = unique(append(slices.Clone(o.PromQL), o.LogQL...))
	m.Warnings = sum.Warnings
	if len(o.Engines) > 0 {
		m.Engines = used.engines(ctx, o.Engines)
		for _, e := range m.Engines {
			if e.OfflineParity != "" {
				o.Warn(fmt.Sprintf("%s is %s: %s (check --offline on this snapshot notes it in each PromQL budget)",
					e.Source, sources.Engine{Name: e.Engine, Version: e.Version}, e.OfflineParity))
			}
		}
	}
	if len(o.From) > 0 {
		m.CapturedFrom = used.capturedFrom(o.From)
	} else {
		m.CapturedFrom = secret.Text(m.CapturedFrom)
	}
	if err := snapshot.WriteManifest(staging, m); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(staging)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		sum.Files = append(sum.Files, e.Name())
	}
	if err := swapInto(staging, out); err != nil {
		return nil, err
	}
	return sum, nil
}

// record writes the data files into dir: metrics, logs and state at once.
func record(ctx context.Context, dir string, o Options, sum *Summary) error {
	if len(o.PromQL) > 0 && o.Prometheus == nil {
		return errors.New("metric budgets need a Prometheus to record from")
	}
	if len(o.LogQL) > 0 && o.Loki == nil {
		return errors.New("log budgets need a Loki to record from")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	run := func(f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				cancel() // the other half is wasted work now
			}
		}()
	}
	if len(o.PromQL) > 0 {
		run(func() error {
			st, err := recordMetricsFile(ctx, dir, o)
			sum.Metrics = st
			return err
		})
	}
	if len(o.LogQL) > 0 {
		run(func() error {
			if o.Logs == LogsAggregate {
				n, err := recordLogAggregatesFile(ctx, dir, o)
				sum.LogAggregates = n
				return err
			}
			st, err := recordLogsFile(ctx, dir, o)
			sum.Logs = st
			return err
		})
	}
	if len(o.StateBudgets) > 0 {
		run(func() error {
			files, unrecorded, err := recordState(ctx, dir, o.StateBudgets, o)
			sum.StateFiles, sum.Unrecorded = files, unrecorded
			return err
		})
	}
	wg.Wait()
	// The first error is the cause; a later one is the other half
	// giving up.
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

func recordMetricsFile(ctx context.Context, dir string, o Options) (*MetricStats, error) {
	sels, err := PlanMetrics(o.PromQL, o.At)
	if err != nil {
		return nil, err
	}
	// The samples wait in a spill file in the staging directory, on the
	// snapshot's own disk, and are gone before it is put in place.
	set, st, err := recordMetrics(ctx, o.Prometheus, sels, o.Warn, dir)
	if err != nil {
		return nil, err
	}
	defer set.close()
	return &st, writeFile(filepath.Join(dir, MetricsFile), func(w io.Writer) error { return writeOpenMetrics(w, set) })
}

func recordLogsFile(ctx context.Context, dir string, o Options) (*LogStats, error) {
	sels, err := PlanLogs(o.LogQL, o.At)
	if err != nil {
		return nil, err
	}
	var st LogStats
	err = writeFile(filepath.Join(dir, LogsFile), func(w io.Writer) error {
		var rerr error
		st, rerr = recordLogs(ctx, o.Loki, sels, o.At, w)
		return rerr
	})
	if st.MetadataMerged > 0 {
		o.Warn(fmt.Sprintf("%d log entries carry structured metadata besides detected_level; %s has no place for it, so it was written as labels", st.MetadataMerged, LogsFile))
	}
	return &st, err
}

// recordLogAggregatesFile asks Loki each query at o.At and writes the
// answers. A query Loki refuses (a pipeline error on these logs) is
// recorded with its error, as the live check would report it; any other
// failure fails the recording.
func recordLogAggregatesFile(ctx context.Context, dir string, o Options) (int, error) {
	a := snapshot.LogAggregates{EvaluatedAt: o.At}
	for _, q := range unique(o.LogQL) {
		var vec model.Vector
		err := withQueries(ctx, []string{q}, func(ctx context.Context) (err error) {
			vec, err = o.Loki.Query(ctx, q, o.At)
			return err
		})
		agg := snapshot.LogAggregate{Query: q, Result: vec}
		if err != nil {
			var se *sources.Error
			if !errors.As(err, &se) || se.Kind != sources.BadQuery {
				return 0, fmt.Errorf("recording the answer to %s: %w", q, err)
			}
			agg.Result = nil
			agg.Error = &snapshot.LogAggregateError{Kind: se.Kind.String(), Message: se.Err.Error()}
			o.Warn(fmt.Sprintf("Loki refused %s: %v; the snapshot records the error", q, se.Err))
		}
		a.Queries = append(a.Queries, agg)
	}
	return len(a.Queries), snapshot.WriteLogAggregates(dir, a)
}

// writeFile creates path and hands a buffered writer to write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// swapInto puts the finished staging directory at out, replacing a
// previous snapshot there.
func swapInto(staging, out string) error {
	old := ""
	if _, err := os.Stat(out); err == nil {
		// Checked again: out may have changed while we recorded.
		if err := CheckOut(out); err != nil {
			return err
		}
		old = staging + ".old"
		if err := os.Rename(out, old); err != nil {
			return fmt.Errorf("moving the previous snapshot aside: %w", err)
		}
	}
	if err := os.Rename(staging, out); err != nil {
		if old != "" {
			_ = os.Rename(old, out)
		}
		return fmt.Errorf("moving the snapshot into place: %w", err)
	}
	if old != "" {
		if err := os.RemoveAll(old); err != nil {
			return fmt.Errorf("removing the previous snapshot: %w", err)
		}
	}
	return nil
}

// unique keeps the first of equal strings, in order.
func unique(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
