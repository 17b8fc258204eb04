package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
)

// A series may be split over several .om files (captures of successive
// hours, say): the store merges them, as Prometheus merges the blocks
// promtool makes of them. What it cannot do is tell two samples of a
// series at one time apart: the later file's would silently win. So when
// a snapshot has more than one .om file, the loader remembers, for every
// series, the time span each file covers, and checks every sample that
// falls in an earlier file's span against the samples already stored:
//   - the same value: a repeat (captures overlapping by a scrape), stored
//     once; a file made only of repeats is the same data twice, refused;
//   - another value: a conflict, refused, naming both places.

// crossFiles is what the loader of a snapshot's .om files knows across
// files. Nil when there is one file: nothing to compare with.
type crossFiles struct {
	files  []string
	series map[uint64][]*spannedSeries
}

// spannedSeries is a series and the span of each file that holds it.
type spannedSeries struct {
	lset  labels.Labels
	spans []fileSpan
}

type fileSpan struct {
	file       int // index in crossFiles.files
	minT, maxT int64
}

func newCrossFiles(files []string) *crossFiles {
	if len(files) < 2 {
		return nil
	}
	return &crossFiles{files: files, series: map[uint64][]*spannedSeries{}}
}

// lookup finds or adds the series.
func (c *crossFiles) lookup(lset labels.Labels) *spannedSeries {
	h := lset.Hash()
	for _, s := range c.series[h] {
		if labels.Equal(s.lset, lset) {
			return s
		}
	}
	s := &spannedSeries{lset: lset}
	c.series[h] = append(c.series[h], s)
	return s
}

// earlier is the first file before file whose span of s holds ts, or -1.
func (s *spannedSeries) earlier(file int, ts int64) int {
	for _, sp := range s.spans {
		if sp.file < file && sp.minT <= ts && ts <= sp.maxT {
			return sp.file
		}
	}
	return -1
}

// add widens file's span to ts (samples come in time order per file).
func (s *spannedSeries) add(file int, ts int64) {
	if n := len(s.spans); n > 0 && s.spans[n-1].file == file {
		s.spans[n-1].maxT = ts
		return
	}
	s.spans = append(s.spans, fileSpan{file: file, minT: ts, maxT: ts})
}

// checkEarlier compares a sample with what earlier files stored at its
// time. repeat: the same value is stored already.
func (l *fileLoader) checkEarlier(ctx context.Context, st *seriesState, ts int64, v float64, line int) (repeat bool, err error) {
	if st.cross == nil {
		st.cross = l.cross.lookup(st.lset)
	}
	prev := st.cross.earlier(l.fileIdx, ts)
	st.cross.add(l.fileIdx, ts)
	if prev < 0 {
		return false, nil
	}
	old, ok := l.store.FloatAt(st.ref, ts)
	if !ok {
		return false, nil
	}
	if math.Float64bits(old) == math.Float64bits(v) {
		if l.repeatOf < 0 {
			l.repeatOf = prev
		}
		return true, nil
	}
	where := l.cross.files[prev]
	// Find which file and line: only on this error path are the
	// earlier files read again.
	for _, f := range l.cross.files[:l.fileIdx] {
		if n, err := sampleLine(ctx, f, st.lset, ts); err == nil && n > 0 {
			where = fmt.Sprintf("%s:%d", f, n)
			break
		}
	}
	return false, l.corrupt(line, "conflicting samples: %s holds another value of this series at the same time; a series has one value at a time",
		where)
}

// sameData is the error for a file all of whose samples an earlier file
// holds already.
func (l *fileLoader) sameData() error {
	return &CorruptError{File: l.file, Msg: fmt.Sprintf("holds the same data as %s: every sample of it is there already; remove one of the two files",
		l.cross.files[l.repeatOf])}
}

// sampleLine is the line of file that holds the sample of lset at ts, or
// 0. It reads the whole file: it serves error messages only.
func sampleLine(ctx context.Context, file string, lset labels.Labels, ts int64) (int, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sp := newSplitter(f, file, defaultChunkBytes)
	st := labels.NewSymbolTable()
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		c, err := sp.next()
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		p := textparse.NewOpenMetricsParser(c.data, st)
		entries := 0
		for {
			et, err := p.Next()
			if err != nil {
				break
			}
			line := c.firstLine + entries - c.synthetic
			entries++
			if et != textparse.EntrySeries {
				continue
			}
			if _, tsp, _ := p.Series(); tsp == nil || *tsp != ts {
				continue
			}
			var got labels.Labels
			p.Labels(&got)
			if labels.Equal(got.WithoutEmpty(), lset) {
				return line, nil
			}
		}
	}
}
