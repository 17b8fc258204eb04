package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/secflow/secflow-budget/internal/memstore"
)

// minTimestampMs is the start of the year 1000: an earlier timestamp is
// out of range (the parser turns 1e300 into the smallest int64).
var minTimestampMs = time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// maxTimestampMs is the start of the year 3000. OpenMetrics timestamps are
// seconds; a millisecond timestamp read as seconds lands around the year
// 57000, which promtool accepts without a word.
var maxTimestampMs = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()

// seriesState is what the loader remembers of a series within one file.
type seriesState struct {
	lset     labels.Labels
	ref      memstore.Ref
	hasRef   bool
	lastT    int64
	lastV    float64
	lastLine int

	// With several .om files: the series across files (see
	// crossfile.go).
	cross *spannedSeries
}

// fileLoader appends the samples of one OpenMetrics file to the store.
type fileLoader struct {
	store *memstore.Store
	file  string

	// bySeries maps the series text as written (`name{a="b"}`) to its
	// state; byHash finds the same series written differently (label
	// order, `le="1"` vs `le="1.0"`, an empty label: `up{a=""}` is `up`).
	bySeries map[string]*seriesState
	byHash   map[uint64][]*seriesState
	// The series of the last sample, as written, and its state.
	lastSeries []byte
	lastState  *seriesState

	// Across files (nil cross: a single file).
	cross    *crossFiles
	fileIdx  int
	samples  int // samples read from this file
	repeats  int // of which earlier files hold the same
	repeatOf int // the earlier file of the first repeat, or -1
}

// loadFile streams one OpenMetrics file, the idx-th of the snapshot, into
// store in chunks of chunkBytes. With more than one core, workers parse
// the chunks (parsedChunk.parse: Prometheus' parser, the timestamps' range)
// while this goroutine appends their samples in file order (apply: the
// series, their order, the store), so every error is the one the file's
// first bad line gives, as when read in one pass.
func loadFile(ctx context.Context, store *memstore.Store, cross *crossFiles, idx int, file string, chunkBytes int) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("loading snapshot metrics: %w", err)
	}
	defer f.Close()

	l := &fileLoader{
		store:    store,
		file:     file,
		bySeries: map[string]*seriesState{},
		byHash:   map[uint64][]*seriesState{},
		cross:    cross,
		fileIdx:  idx,
		repeatOf: -1,
	}
	sp := newSplitter(f, file, chunkBytes)
	if fi, err := f.Stat(); err == nil {
		sp.sizeHint(fi.Size())
	}
	if workers := loadWorkers(); workers > 1 {
		err = l.loadParallel(ctx, sp, workers)
	} else {
		err = l.loadSerial(ctx, sp)
	}
	if err != nil {
		return err
	}
	if l.samples > 0 && l.repeats == l.samples {
		return l.sameData()
	}
	return nil
}

// loadWorkers is how many goroutines parse chunks: one a core, at most
// four (the chunks in flight, and memory, stay bounded on many-core
// machines); 1: parse and apply in turn. Tests set it.
var loadWorkers = func() int { return min(runtime.GOMAXPROCS(0), 4) }

// loadSerial parses and applies one chunk after the other.
func (l *fileLoader) loadSerial(ctx context.Context, sp *splitter) error {
	var pc parsedChunk
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("loading %s: %w", l.file, err)
		}
		c, err := sp.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		pc.reset(c)
		pc.parse(l.file)
		if err := l.apply(ctx, &pc); err != nil {
			return err
		}
	}
}

// loadParallel reads chunks on one goroutine, parses them on workers,
// and applies them here in file order. At most workers+2 chunks are in
// flight, each with its own copy of the text.
func (l *fileLoader) loadParallel(ctx context.Context, sp *splitter, workers int) error {
	inFlight := workers + 2
	free := make(chan *parsedChunk, inFlight)
	for range inFlight {
		free <- &parsedChunk{}
	}
	order := make(chan *parsedChunk, inFlight)
	work := make(chan *parsedChunk, inFlight)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1 + workers)
	go func() { // the reader: chunks in file order, then its error
		defer wg.Done()
		defer close(order)
		defer close(work)
		for {
			var pc *parsedChunk
			select {
			case pc = <-free:
			case <-stop:
				return
			}
			c, err := sp.next()
			if errors.Is(err, io.EOF) {
				return
			}
			pc.reset(c)
			pc.data = append(pc.own[:0], c.data...) // the splitter reuses c.data
			pc.own = pc.data
			pc.readErr = err
			select {
			case order <- pc:
			case <-stop:
				return
			}
			if err != nil {
				close(pc.ready)
				return
			}
			work <- pc // never blocks: at most inFlight chunks exist
		}
	}()
	for range workers {
		go func() {
			defer wg.Done()
			for pc := range work {
				pc.parse(l.file)
				close(pc.ready)
			}
		}()
	}
	err := func() error {
		for pc := range order {
			<-pc.ready
			if pc.readErr != nil {
				return pc.readErr
			}
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("loading %s: %w", l.file, err)
			}
			if err := l.apply(ctx, pc); err != nil {
				return err
			}
			free <- pc
		}
		return nil
	}()
	close(stop)
	for range order { // let the reader finish its send, then see stop
	}
	wg.Wait()
	return err
}

func (l *fileLoader) corrupt(line int, format string, args ...any) error {
	return corruptf(l.file, line, format, args...)
}

// parsedChunk is a chunk as its parser read it: its samples in order,
// and the error that ended it early, if any.
type parsedChunk struct {
	chunk
	own     []byte // a copy of the chunk's text (parallel loading)
	recs    []sampleRec
	lsets   []labels.Labels // the labels of a series' first sample in the chunk
	seen    map[string]struct{}
	err     error // after recs: the chunk's first bad line
	readErr error // instead of the chunk: the splitter's error
	ready   chan struct{}
}

// sampleRec is one sample: its series as written (in the chunk's text),
// and lset, the index in lsets of its labels at the series' first sample
// in the chunk (else -1).
type sampleRec struct {
	series []byte
	ts     int64
	v      float64
	line   int
	lset   int
}

func (pc *parsedChunk) reset(c chunk) {
	pc.chunk = c
	pc.recs, pc.lsets = pc.recs[:0], pc.lsets[:0]
	clear(pc.seen)
	pc.err, pc.readErr = nil, nil
	pc.ready = make(chan struct{})
}

// parse feeds the chunk to Prometheus' OpenMetrics parser, the one promtool
// uses, and records its samples. Every parser entry is one line
// (OpenMetrics has no blank lines, and exemplars share their sample's
// line), so counting entries gives exact line numbers.
func (pc *parsedChunk) parse(file string) {
	if pc.seen == nil {
		pc.seen = map[string]struct{}{}
	}
	corrupt := func(line int, format string, args ...any) error { return corruptf(file, line, format, args...) }
	p := textparse.NewOpenMetricsParser(pc.data, labels.NewSymbolTable())
	entries := 0
	var prev []byte
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		line := pc.firstLine + entries - pc.synthetic
		if err != nil {
			pc.err = corrupt(line, "%s", parserMessage(err))
			return
		}
		entries++
		switch et {
		case textparse.EntrySeries:
		case textparse.EntryHistogram:
			// The OpenMetrics 1.0 parser never returns native histograms.
			pc.err = corrupt(line, "native histogram samples are not supported in .om files")
			return
		default:
			continue
		}
		series, tsp, v := p.Series()
		if tsp == nil {
			pc.err = corrupt(line, "sample has no timestamp: every sample of a snapshot needs one (in seconds)")
			return
		}
		ts := *tsp
		if ts < minTimestampMs || ts == math.MaxInt64 {
			// The parser turns a timestamp it cannot hold in int64
			// milliseconds (1e300) into the smallest int64 (the largest on
			// some CPUs).
			pc.err = corrupt(line, "timestamp out of range: OpenMetrics timestamps are unix seconds, of a time between the years 1000 and 3000")
			return
		}
		if ts >= maxTimestampMs {
			pc.err = corrupt(line, "timestamp %s is after the year 3000: OpenMetrics timestamps are seconds, this looks like milliseconds", formatSeconds(ts))
			return
		}
		rec := sampleRec{series: series, ts: ts, v: v, line: line, lset: -1}
		if !bytes.Equal(series, prev) {
			if _, ok := pc.seen[string(series)]; !ok {
				var lset labels.Labels
				p.Labels(&lset)
				pc.seen[string(series)] = struct{}{}
				rec.lset = len(pc.lsets)
				pc.lsets = append(pc.lsets, lset)
			}
			prev = series
		}
		pc.recs = append(pc.recs, rec)
	}
}

// apply appends a parsed chunk's samples to the store, in order, and
// then returns the error that ended the chunk.
func (l *fileLoader) apply(ctx context.Context, pc *parsedChunk) error {
	for i := range pc.recs {
		r := &pc.recs[i]
		if err := l.sample(ctx, pc, r); err != nil {
			return err
		}
	}
	return pc.err
}

func (l *fileLoader) sample(ctx context.Context, pc *parsedChunk, r *sampleRec) error {
	series, ts, v, line := r.series, r.ts, r.v, r.line

	// A series' samples usually follow each other: the last one's state
	// saves the map lookup.
	st := l.lastState
	if st == nil || !bytes.Equal(series, l.lastSeries) {
		var err error
		if st, err = l.seriesState(pc, series, r); err != nil {
			return err
		}
		l.lastSeries, l.lastState = append(l.lastSeries[:0], series...), st
	}

	switch {
	case ts < st.lastT:
		// promtool drops such a sample silently; a budget computed from a
		// silently thinned series would be wrong without anyone knowing.
		return l.corrupt(line, "out-of-order sample: older than the sample on line %d of its series; a series' samples must be in time order",
			st.lastLine)
	case ts == st.lastT:
		if math.Float64bits(v) == math.Float64bits(st.lastV) {
			return nil // An exact repeat: Prometheus ignores it as well.
		}
		return l.corrupt(line, "duplicate sample: its series has another value at the same time on line %d", st.lastLine)
	}

	// Across files: an earlier file may hold later samples of the series
	// (the store takes them out of order, as Prometheus merges the
	// overlapping blocks promtool would make), but not another value at
	// this time (crossfile.go).
	if !st.hasRef {
		ref, err := l.store.Series(st.lset)
		if err != nil {
			return l.corrupt(line, "storing sample: %s", parserMessage(err))
		}
		st.ref, st.hasRef = ref, true
	}
	l.samples++
	if l.cross != nil {
		repeat, err := l.checkEarlier(ctx, st, ts, v, line)
		if err != nil {
			return err
		}
		if repeat {
			l.repeats++
			st.lastT, st.lastV, st.lastLine = ts, v, line
			return nil
		}
	}
	l.store.Append(st.ref, ts, v)
	st.lastT, st.lastV, st.lastLine = ts, v, line
	return nil
}

// seriesState finds or makes the state of the series written as series,
// whose labels, at its first sample in the file, are r's.
func (l *fileLoader) seriesState(pc *parsedChunk, series []byte, r *sampleRec) (*seriesState, error) {
	st := l.bySeries[string(series)]
	if st == nil {
		// The first sample of the series in the file is its first in its
		// chunk: parse kept its labels.
		if r.lset < 0 {
			return nil, l.corrupt(r.line, "internal error: no labels for the first sample of a series")
		}
		// As a TSDB head, and Prometheus, drop labels with an empty value.
		lset := pc.lsets[r.lset].WithoutEmpty()
		h := lset.Hash()
		for _, cand := range l.byHash[h] {
			if labels.Equal(cand.lset, lset) {
				st = cand
				break
			}
		}
		if st == nil {
			st = &seriesState{lset: lset, lastT: math.MinInt64}
			l.byHash[h] = append(l.byHash[h], st)
		}
		l.bySeries[string(series)] = st
	}
	return st, nil
}

// parserMessage is an error of the OpenMetrics parser without the text it
// quotes from the file: errors name the file and line, never print them.
func parserMessage(err error) string {
	msg := err.Error()
	for _, cut := range []string{", got ", " while parsing", ": \""} {
		if i := strings.Index(msg, cut); i >= 0 {
			msg = msg[:i]
		}
	}
	msg = quoted.ReplaceAllString(msg, "")
	return strings.Join(strings.Fields(msg), " ")
}

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// formatSeconds prints a timestamp as the file wrote it: seconds.
func formatSeconds(ms int64) string {
	return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
}
