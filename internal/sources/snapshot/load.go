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
	"strconv"
	"strings"
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
	store   *memstore.Store
	file    string
	symbols *labels.SymbolTable

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
// store in chunks of chunkBytes.
func loadFile(ctx context.Context, store *memstore.Store, cross *crossFiles, idx int, file string, chunkBytes int) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("loading snapshot metrics: %w", err)
	}
	defer f.Close()

	l := &fileLoader{
		store:    store,
		file:     file,
		symbols:  labels.NewSymbolTable(),
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
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("loading %s: %w", file, err)
		}
		c, err := sp.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if err := l.parse(ctx, c); err != nil {
			return err
		}
	}
	if l.samples > 0 && l.repeats == l.samples {
		return l.sameData()
	}
	return nil
}

func (l *fileLoader) corrupt(line int, format string, args ...any) error {
	return &CorruptError{File: l.file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// parse feeds one chunk to Prometheus' OpenMetrics parser, the one promtool
// uses, and appends its samples. Every parser entry is one line
// (OpenMetrics has no blank lines, and exemplars share their sample's
// line), so counting entries gives exact line numbers.
func (l *fileLoader) parse(ctx context.Context, c chunk) error {
	p := textparse.NewOpenMetricsParser(c.data, l.symbols)
	entries := 0
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line := c.firstLine + entries - c.synthetic
		if err != nil {
			return l.corrupt(line, "%s", parserMessage(err))
		}
		entries++
		switch et {
		case textparse.EntrySeries:
			if err := l.sample(ctx, p, line); err != nil {
				return err
			}
		case textparse.EntryHistogram:
			// The OpenMetrics 1.0 parser never returns native histograms.
			return l.corrupt(line, "native histogram samples are not supported in .om files")
		}
	}
}

func (l *fileLoader) sample(ctx context.Context, p textparse.Parser, line int) error {
	series, tsp, v := p.Series()
	if tsp == nil {
		return l.corrupt(line, "sample has no timestamp: every sample of a snapshot needs one (in seconds)")
	}
	ts := *tsp
	if ts < minTimestampMs || ts == math.MaxInt64 {
		// The parser turns a timestamp it cannot hold in int64
		// milliseconds (1e300) into the smallest int64 (the largest on
		// some CPUs).
		return l.corrupt(line, "timestamp out of range: OpenMetrics timestamps are unix seconds, of a time between the years 1000 and 3000")
	}
	if ts >= maxTimestampMs {
		return l.corrupt(line, "timestamp %s is after the year 3000: OpenMetrics timestamps are seconds, this looks like milliseconds", formatSeconds(ts))
	}

	// A series' samples usually follow each other: the last one's state
	// saves the map lookup.
	st := l.lastState
	if st == nil || !bytes.Equal(series, l.lastSeries) {
		st = l.seriesState(p, series)
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

// seriesState finds or makes the state of the series written as series.
func (l *fileLoader) seriesState(p textparse.Parser, series []byte) *seriesState {
	st := l.bySeries[string(series)]
	if st == nil {
		var lset labels.Labels
		p.Labels(&lset)
		// As a TSDB head, and Prometheus, drop labels with an empty value.
		lset = lset.WithoutEmpty()
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
	return st
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
