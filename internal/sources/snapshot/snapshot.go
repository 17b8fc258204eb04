package snapshot

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/secflow/secflow-budget/internal/memstore"
	"github.com/secflow/secflow-budget/internal/sources"
)

// sourceName is the Source of every *sources.Error this package returns.
const sourceName = "snapshot"

// MetricsExt is the extension of the OpenMetrics files of a snapshot.
const MetricsExt = ".om"

// Snapshot is an opened snapshot directory. Its methods are safe for
// concurrent use; Close must come after the last query.
type Snapshot struct {
	dir        string
	manifest   Manifest
	omFiles    []string // sorted, joined with dir
	logFiles   []string // sorted, joined with dir
	chunkBytes int
	maxSamples int

	// loading is a one-slot semaphore guarding the fields below. It is a
	// channel rather than a mutex so that a caller waiting for another's
	// load can give up when its context ends.
	loading chan struct{}
	eval    *evaluator
	loadErr error
	closed  bool
}

// Open reads the manifest of the snapshot in dir and lists and checks its
// data files (files.go). Metric files are only read by PromQL. Any error
// means the directory is not a usable snapshot; a *CorruptError names the
// file at fault.
func Open(dir string) (*Snapshot, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("opening snapshot: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("opening snapshot: %s is not a directory", dir)
	}
	om, logs, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	m, err := readManifest(dir)
	if err != nil {
		return nil, err
	}
	s := &Snapshot{
		dir:        dir,
		manifest:   m,
		omFiles:    om,
		logFiles:   logs,
		chunkBytes: defaultChunkBytes,
		maxSamples: DefaultMaxSamples,
		loading:    make(chan struct{}, 1),
	}
	return s, nil
}

// SetMaxSamples sets how many samples one PromQL query may load
// (Prometheus' --query.max-samples; DefaultMaxSamples unless set). A query
// over the limit fails with "query would load too many samples". Call it
// before PromQL; n <= 0 keeps the default.
func (s *Snapshot) SetMaxSamples(n int) {
	if n > 0 {
		s.maxSamples = n
	}
}

// Dir is the snapshot's directory as given to Open.
func (s *Snapshot) Dir() string { return s.dir }

// EvaluatedAt is the manifest's evaluated_at: the default evaluation time
// of an offline check.
func (s *Snapshot) EvaluatedAt() time.Time { return s.manifest.EvaluatedAt }

// Manifest is the snapshot's parsed manifest.yaml.
func (s *Snapshot) Manifest() Manifest { return s.manifest }

// HasMetrics reports whether the snapshot holds any metric file (*.om).
func (s *Snapshot) HasMetrics() bool { return len(s.omFiles) > 0 }

// MetricFiles are the snapshot's metric files in load order.
func (s *Snapshot) MetricFiles() []string { return append([]string(nil), s.omFiles...) }

// PromQL returns an evaluator of PromQL instant queries over the
// snapshot's metrics. The first call loads every *.om file into memory
// (internal/memstore); later and concurrent calls share that load and its
// outcome. A load cut short by ctx is not remembered: the next call tries
// again. Errors: *sources.Error of kind Missing when there are no metric
// files, *CorruptError for a malformed file, or an error wrapping
// ctx.Err().
func (s *Snapshot) PromQL(ctx context.Context) (sources.PromQL, error) {
	if !s.HasMetrics() {
		return nil, sources.Errorf(sources.Missing, sourceName,
			"no metrics in %s: metric budgets need an OpenMetrics file (*%s, e.g. metrics.om) in the snapshot", s.dir, MetricsExt)
	}
	select {
	case s.loading <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("loading metrics of snapshot %s: %w", s.dir, ctx.Err())
	}
	defer func() { <-s.loading }()

	switch {
	case s.closed:
		return nil, fmt.Errorf("snapshot %s is closed", s.dir)
	case s.eval != nil:
		return s.eval, nil
	case s.loadErr != nil:
		return nil, s.loadErr
	}
	if err := s.load(ctx); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("loading metrics of snapshot %s: %w", s.dir, ctxErr)
		}
		s.loadErr = err
		return nil, err
	}
	return s.eval, nil
}

// load fills the store. Called with the semaphore held.
func (s *Snapshot) load(ctx context.Context) error {
	store := memstore.New()
	cross := newCrossFiles(s.omFiles)
	for i, f := range s.omFiles {
		if err := loadFile(ctx, store, cross, i, f, s.chunkBytes); err != nil {
			return err
		}
	}
	store.Seal()
	s.eval = newEvaluator(store, s.maxSamples)
	return nil
}

// Close releases the loaded metrics. It waits for a load in progress.
// Closing twice is harmless.
func (s *Snapshot) Close() error {
	s.loading <- struct{}{}
	defer func() { <-s.loading }()
	s.closed = true
	if s.eval != nil {
		s.eval.close()
		s.eval = nil
	}
	return nil
}
