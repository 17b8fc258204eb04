package snapshot

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"math/bits"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/logql"
	"github.com/secflow/secflow-budget/internal/simdscan"
	"github.com/secflow/secflow-budget/internal/sources"
)

// The extensions of a snapshot's log files: JSON lines, optionally
// gzipped. Each line is one entry:
//
//	{"ts":"<unix ns, or RFC3339Nano>","labels":{"service":"api",...},"line":"..."}
const (
	LogsExt   = ".jsonl"
	LogsGzExt = ".jsonl.gz"
)

// MaxLogLineBytes is the longest line a log file may have. Loki's own
// default limit on a log line is 256 KB; this leaves room for the JSON
// around it while keeping a broken file from exhausting memory.
const MaxLogLineBytes = 16 << 20

// maxRawLabelSets bounds the cache from a line's labels text to its
// stream; spellings of one stream's labels are few in practice.
const maxRawLabelSets = 100_000

// HasLogs reports whether the snapshot holds any log file (*.jsonl,
// *.jsonl.gz).
func (s *Snapshot) HasLogs() bool {
	return len(s.logFiles) > 0
}

// LogQL evaluates queries at time at over the snapshot's log files, read
// once, line by line, for all queries together: memory grows with the
// number of streams and result series, not with the files. The answer
// serves exactly these queries at exactly this time.
//
// Errors: *sources.Error of kind Missing when there is no log file,
// *CorruptError for a malformed line (FILE:LINE), or an error wrapping
// ctx.Err(). A query that does not parse, or that Loki would fail (a
// pipeline error), fails only its own Query call, with kind BadQuery and
// Loki's message.
func (s *Snapshot) LogQL(ctx context.Context, at time.Time, queries []string) (sources.LogQL, error) {
	files := s.logFiles
	if len(files) == 0 {
		if s.HasLogAggregates() {
			return s.readLogAggregates()
		}
		return nil, sources.Errorf(sources.Missing, sourceName,
			"no logs in %s: log budgets need logs.jsonl (any *%s or *%s file, one JSON entry a line) in the snapshot", s.dir, LogsExt, LogsGzExt)
	}

	ans := &logAnswers{at: at, byText: map[string]*logAnswer{}, byCanon: map[string]*logAnswer{}}
	var parsed []*logql.Query
	var slots []*logAnswer
	for _, text := range queries {
		if _, seen := ans.byText[text]; seen {
			continue
		}
		q, err := logql.Parse(text)
		if err != nil {
			ans.byText[text] = &logAnswer{err: badLogQuery(err)}
			continue
		}
		canon := q.String()
		a, seen := ans.byCanon[canon]
		if !seen {
			a = &logAnswer{}
			ans.byCanon[canon] = a
			parsed = append(parsed, q)
			slots = append(slots, a)
		}
		ans.byText[text] = a
	}

	if len(parsed) == 0 {
		return ans, nil // Nothing to count: no need to read the logs.
	}
	ev := logql.NewEvaluator(at, parsed...)
	r := newLogReader(ev)
	if err := r.readAll(ctx, files); err != nil {
		return nil, err
	}
	for i, a := range slots {
		v, err := ev.Result(i)
		if err != nil {
			a.err = badLogQuery(err)
			continue
		}
		a.vec = v
	}
	return ans, nil
}

func badLogQuery(err error) error {
	return &sources.Error{Kind: sources.BadQuery, Source: sourceName, Err: err}
}

// logAnswers are the results of the queries given to LogQL.
type logAnswers struct {
	at      time.Time
	byText  map[string]*logAnswer // as given, parse failures included
	byCanon map[string]*logAnswer // by the query's canonical text
}

type logAnswer struct {
	vec model.Vector
	err error
}

var _ sources.LogQL = (*logAnswers)(nil)

// Query returns the precomputed answer to query, which must be one of the
// queries given to LogQL (or another spelling of one), at the same time.
func (a *logAnswers) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot query abandoned: %w", err)
	}
	if !at.Equal(a.at) {
		return nil, sources.Errorf(sources.BadQuery, sourceName,
			"the snapshot's logs were evaluated at %s, not %s: every log query and its time must be given to LogQL up front",
			a.at.UTC().Format(time.RFC3339Nano), at.UTC().Format(time.RFC3339Nano))
	}
	ans, ok := a.byText[query]
	if !ok {
		q, err := logql.Parse(query)
		if err != nil {
			return nil, badLogQuery(err)
		}
		if ans, ok = a.byCanon[q.String()]; !ok {
			return nil, sources.Errorf(sources.BadQuery, sourceName,
				"log query %s was not given to LogQL up front: the snapshot's logs are read once for a known set of queries", query)
		}
	}
	if ans.err != nil {
		return nil, ans.err
	}
	out := make(model.Vector, len(ans.vec))
	for i, s := range ans.vec {
		c := *s
		c.Metric = s.Metric.Clone()
		out[i] = &c
	}
	return out, nil
}

// logReader feeds the entries of log files to an evaluator. The work
// is spread over goroutines: one reads the files, in chunks of whole
// lines, workers (one a core) decode the chunks and work out what
// depends on a line alone (logql.Evaluator.PrepareLine: its hash, the
// line filters' verdicts, the `| json` fields, helped by the quote
// offsets found while unescaping the line), and the caller's goroutine
// takes the decoded batches in file order to look up streams, drop
// duplicates and count: a small share of the work, so that the workers
// keep both cores busy. A
// gzipped file is decoded as it is read, by the reading goroutine.
// Batches are recycled: memory stays at a few of them whatever the size
// of the files.
type logReader struct {
	ev *logql.Evaluator
	// streams maps the labels object of a line, as written, to its
	// stream, so that a line's labels are decoded once per spelling.
	streams map[string]*streamRef
	labels  map[string]string // scratch for decoding a labels object
	// recent holds the last few spellings looked up, tried before the
	// map: a comparison of a few bytes each, where the map hashes the
	// whole labels object (files interleave a handful of streams).
	recent [recentStreams]*streamRef
	next   int // the entry of recent to replace next

	// What is known of each stream to find the same entries twice
	// (dupcheck.go): per stream, not per entry, so memory stays flat
	// whatever the size of the files.
	tracks  map[*logql.Stream]*streamTrack
	files   []string       // the files read so far, the current one last
	touched []*streamTrack // the streams of the current file
	seed    maphash.Seed

	lineBase int  // the lines of the current file before the batch
	gotFirst bool // the current file's first entry was seen
	// firsts maps the first entry of each file read (its hash) to where
	// it is: another file beginning with the same entry holds the same
	// logs again.
	firsts map[[sha256.Size]byte]string
}

// recentStreams is how many spellings of labels logReader.recent keeps.
const recentStreams = 4

// stream finds the stream of a labels object as written.
func (r *logReader) stream(raw []byte) (*streamRef, bool) {
	for _, ref := range r.recent {
		if ref != nil && ref.raw == string(raw) {
			return ref, true
		}
	}
	ref, ok := r.streams[string(raw)]
	if ok {
		r.remember(ref)
	}
	return ref, ok
}

// remember puts a stream in recent, in place of the oldest.
func (r *logReader) remember(ref *streamRef) {
	r.recent[r.next] = ref
	r.next = (r.next + 1) % recentStreams
}

// streamRef is a stream and what the duplicate check knows of it.
type streamRef struct {
	raw string // the labels object as written (the key in logReader.streams)
	st  *logql.Stream
	tr  *streamTrack
}

func newLogReader(ev *logql.Evaluator) *logReader {
	return &logReader{ev: ev, streams: map[string]*streamRef{}, labels: map[string]string{},
		tracks: map[*logql.Stream]*streamTrack{}, seed: maphash.MakeSeed(),
		firsts: map[[sha256.Size]byte]string{}}
}

const (
	batchBytes   = 512 << 10 // a batch is sent when its buffer holds this much
	batchEntries = 4096      // or this many entries
	batchesAhead = 4         // batches read or decoded, waiting for the evaluator
	chunkBytes   = 256 << 10 // the whole lines of a file read into a batch at once
	// maxLogWorkers bounds the goroutines decoding chunks.
	maxLogWorkers = 4
)

// logBatch is a run of entries of one file, with their labels and lines
// copied into buf: decoded by the reading goroutine (gzip), or read as a
// chunk of whole lines (raw) that a worker decodes.
type logBatch struct {
	file string
	buf  []byte
	ents []batchEntry
	err  error // what stopped the reading after these entries, if anything

	quotes  []int32 // the quotes of the kept lines (batchEntry.quotesFrom)
	raw     []byte  // whole lines to decode (the last may lack its '\n'), or nil
	rawMode bool    // line numbers (entries', err's) count from the batch's first line
	lines   int     // rawMode: the lines of raw

	firstSum [sha256.Size]byte // the hash of the line of ents[0]
	preps    []logql.LinePrep  // by entry (a kept line): what PrepareLine gave
	scratch  logql.LineScratch // what PrepareLine extracted for preps
	ready    chan struct{}     // a worker is done with the batch
}

type batchEntry struct {
	ts         int64
	lineNo     int
	labelStart int
	labelEnd   int
	textStart  int
	textEnd    int // -1: outside every window, the line was not kept
	// plain: the line holds no backslash, and its quotes are at the
	// offsets quotes[quotesFrom:quotesTo] of the batch (logql.LineHint).
	quotesFrom, quotesTo int32
	plain                bool
}

func (r *logReader) readAll(ctx context.Context, files []string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	after, until := r.ev.Window()
	// A worker a core: more would only hold more batches in memory.
	workers := min(max(runtime.GOMAXPROCS(0), 1), maxLogWorkers)
	ordered := make(chan *logBatch, batchesAhead)
	work := make(chan *logBatch, workers)
	free := make(chan *logBatch, batchesAhead+2*workers+2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				if b.raw != nil {
					decodeChunk(b, after, until)
				}
				r.prepare(b)
				b.ready <- struct{}{}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(work)
		defer close(ordered)
		d := &logDecoder{ctx: ctx, work: work, out: ordered, free: free, after: after, until: until}
		for _, f := range files {
			if !d.readFile(f) {
				return
			}
		}
		d.flush()
	}()

	var err error
	for b := range ordered {
		if err != nil {
			continue // a worker may still hold b: it is not reused
		}
		<-b.ready
		if err = r.consume(b); err != nil {
			cancel() // stops the reading; the loop drains what it sent
			continue
		}
		if cap(b.buf) <= 4*batchBytes && cap(b.raw) <= 4*chunkBytes {
			select {
			case free <- b:
			default:
			}
		}
	}
	wg.Wait()
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("reading snapshot logs: %w", ctx.Err())
	}
	if err == nil {
		err = r.endFile()
	}
	return err
}

// prepare works out, for each kept line of b, what depends on it alone.
func (r *logReader) prepare(b *logBatch) {
	ev := r.ev // read once: the evaluating goroutine writes r meanwhile
	b.preps = b.preps[:0]
	b.scratch.Reset()
	for i := range b.ents {
		e := &b.ents[i]
		var p logql.LinePrep
		if e.textEnd >= 0 {
			var hint logql.LineHint
			if e.plain {
				hint = logql.LineHint{Quotes: b.quotes[e.quotesFrom:e.quotesTo], QuotesKnown: true}
			}
			p = ev.PrepareLine(b.buf[e.textStart:e.textEnd], e.ts, &b.scratch, hint)
		}
		b.preps = append(b.preps, p)
	}
}

// consume evaluates the entries of a batch, then reports its error.
func (r *logReader) consume(b *logBatch) error {
	if n := len(r.files); n == 0 || r.files[n-1] != b.file {
		if err := r.endFile(); err != nil {
			return err
		}
		r.files = append(r.files, b.file)
		r.lineBase, r.gotFirst = 0, false
	}
	base := 0
	if b.rawMode {
		base = r.lineBase
		r.lineBase += b.lines
		var ce *CorruptError
		if errors.As(b.err, &ce) {
			ce.Line += base
		}
	}
	if len(b.ents) > 0 && !r.gotFirst {
		r.gotFirst = true
		n := base + b.ents[0].lineNo
		if where, ok := r.firsts[b.firstSum]; ok {
			return &CorruptError{File: b.file, Line: n, Msg: fmt.Sprintf(
				"begins with the same entry as %s: the same logs twice would count twice (Loki stores an entry once); keep one copy", where)}
		}
		r.firsts[b.firstSum] = fmt.Sprintf("%s:%d", b.file, n)
	}
	file := len(r.files) - 1
	for i := range b.ents {
		e := &b.ents[i]
		lineNo := base + e.lineNo
		raw := b.buf[e.labelStart:e.labelEnd]
		ref, ok := r.stream(raw)
		if !ok {
			if msg := r.decodeLabels(raw); msg != "" {
				return &CorruptError{File: b.file, Line: lineNo, Msg: "labels: " + msg}
			}
			st := r.ev.Stream(r.labels)
			tr := r.tracks[st]
			if tr == nil {
				tr = &streamTrack{file: -1}
				r.tracks[st] = tr
			}
			if len(r.streams) >= maxRawLabelSets {
				clear(r.streams)
			}
			ref = &streamRef{raw: string(raw), st: st, tr: tr}
			r.streams[ref.raw] = ref
			r.remember(ref)
		}
		tr := ref.tr
		if tr.file != file {
			tr.start(file, e.ts, lineNo)
			r.touched = append(r.touched, tr)
		} else if e.ts < tr.minTS {
			tr.minTS = e.ts
		} else if e.ts > tr.maxTS {
			tr.maxTS = e.ts
		}
		if e.textEnd >= 0 {
			text := b.buf[e.textStart:e.textEnd]
			if !tr.haveRef {
				tr.haveRef, tr.refTS, tr.refLine = true, e.ts, lineNo
				tr.refHash = maphash.Bytes(r.seed, text)
			} else if e.ts == tr.refTS && tr.lastTS != e.ts && maphash.Bytes(r.seed, text) == tr.refHash {
				return r.twiceInFile(b.file, lineNo, tr)
			}
			r.ev.AddPrepared(ref.st, e.ts, text, &b.preps[i])
		}
		tr.lastTS = e.ts
	}
	return b.err
}

// logDecoder reads files into batches.
type logDecoder struct {
	ctx          context.Context
	work         chan<- *logBatch // to the workers
	out          chan<- *logBatch // to the evaluator, in order
	free         chan *logBatch
	after, until int64
	cur          *logBatch
}

// send passes the current batch on; false when the reading is abandoned.
func (d *logDecoder) send() bool {
	b := d.cur
	d.cur = nil
	select {
	case d.work <- b:
	case <-d.ctx.Done():
		return false
	}
	select {
	case d.out <- b:
		return true
	case <-d.ctx.Done():
		return false
	}
}

func (d *logDecoder) flush() {
	if d.cur != nil && (len(d.cur.ents) > 0 || d.cur.err != nil || d.cur.raw != nil) {
		d.send()
	}
}

// newBatch is an empty batch, reused when one is free.
func (d *logDecoder) newBatch(file string) *logBatch {
	var b *logBatch
	select {
	case b = <-d.free:
		b.buf, b.ents, b.err, b.raw, b.rawMode, b.lines = b.buf[:0], b.ents[:0], nil, b.raw[:0], false, 0
		b.quotes = b.quotes[:0]
	default:
		b = &logBatch{buf: make([]byte, 0, batchBytes+64<<10), ents: make([]batchEntry, 0, batchEntries),
			ready: make(chan struct{}, 1)}
	}
	b.file = file
	return b
}

func (d *logDecoder) batch(file string) *logBatch {
	if d.cur != nil && (d.cur.file != file || d.cur.rawMode) {
		if !d.send() {
			return nil
		}
	}
	if d.cur == nil {
		d.cur = d.newBatch(file)
	}
	return d.cur
}

// fail ends the reading with err after the entries decoded so far.
func (d *logDecoder) fail(file string, err error) bool {
	if b := d.batch(file); b != nil {
		b.err = err
		d.send()
	}
	return false
}

// readChunks reads an uncompressed file in chunks of whole lines, which
// the workers decode (decodeChunk); false when reading must stop.
func (d *logDecoder) readChunks(file string, f *os.File) bool {
	var carry []byte // the start of a line the last chunk cut
	for {
		if err := d.ctx.Err(); err != nil {
			return d.fail(file, fmt.Errorf("reading %s: %w", file, err))
		}
		if d.cur != nil && !d.send() {
			return false
		}
		b := d.newBatch(file)
		b.rawMode = true
		raw := append(b.raw[:0], carry...)
		if cap(raw) < chunkBytes {
			raw = make([]byte, len(raw), chunkBytes)
			copy(raw, carry)
		}
		// Read until a line ends past chunkBytes, the file ends, or a
		// line is too long to be one (the worker tells it).
		eof := false
		for {
			if len(raw) == cap(raw) {
				raw = append(raw, 0)[:len(raw)]
			}
			start := len(raw)
			n, err := f.Read(raw[start:cap(raw)])
			raw = raw[:start+n]
			if errors.Is(err, io.EOF) {
				eof = true
				break
			}
			if err != nil {
				// As bufio.Scanner: the lines read so far, then the error.
				b.raw = raw
				d.cur = b
				return d.fail(file, fmt.Errorf("reading %s: %w", file, err))
			}
			if len(raw) < chunkBytes {
				continue
			}
			nl := bytes.LastIndexByte(raw, '\n')
			if len(raw)-(nl+1) >= MaxLogLineBytes {
				eof = true // the last line is too long: nothing after it counts
				break
			}
			if nl >= 0 {
				carry = append(carry[:0], raw[nl+1:]...)
				raw = raw[:nl+1]
				break
			}
		}
		b.raw = raw
		if len(raw) == 0 {
			return true // an empty file, or it ended with a line: nothing more
		}
		d.cur = b
		if eof {
			return true
		}
	}
}

// decodeChunk decodes the lines of b.raw into b's entries, numbering
// lines from 1.
func decodeChunk(b *logBatch, after, until int64) {
	raw := b.raw
	n := 0
	var lc labelCache
	for len(raw) > 0 {
		var line []byte
		if nl := bytes.IndexByte(raw, '\n'); nl >= 0 {
			line, raw = raw[:nl], raw[nl+1:]
		} else {
			line, raw = raw, nil
		}
		n++
		if len(line) >= MaxLogLineBytes {
			b.err = &CorruptError{File: b.file, Line: n, Msg: fmt.Sprintf("line longer than %d MiB", MaxLogLineBytes>>20)}
			break
		}
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1] // as bufio.ScanLines
		}
		start := len(b.buf)
		e, msg := decodeEntry(line, &b.buf, &b.quotes, after, until, &lc)
		if msg != "" {
			b.buf = b.buf[:start]
			b.err = &CorruptError{File: b.file, Line: n, Msg: msg}
			break
		}
		if e.blank {
			continue
		}
		if len(b.ents) == 0 {
			b.firstSum = sha256.Sum256(line)
		}
		b.ents = append(b.ents, keepEntry(e, n, &b.buf, after, until))
	}
	b.lines = n
}

// keepEntry is the batch entry of e, line n, its labels (and line, when
// its time came after it) copied to *buf.
func keepEntry(e rawEntry, n int, buf *[]byte, after, until int64) batchEntry {
	be := batchEntry{ts: e.ts, lineNo: n, textStart: e.textStart, textEnd: e.textEnd,
		quotesFrom: int32(e.quotesFrom), quotesTo: int32(e.quotesTo), plain: e.plain}
	if be.textEnd < 0 && e.ts > after && e.ts <= until {
		// The line came before the time: unescape it now.
		be.textStart = len(*buf)
		*buf, _ = logql.AppendUnquoted(*buf, e.line)
		be.textEnd = len(*buf)
	}
	be.labelStart = len(*buf)
	*buf = append(*buf, e.labels...)
	be.labelEnd = len(*buf)
	return be
}

// readFile decodes one file; false when reading must stop.
func (d *logDecoder) readFile(file string) bool {
	f, err := os.Open(file)
	if err != nil {
		return d.fail(file, fmt.Errorf("reading snapshot logs: %w", err))
	}
	defer f.Close()
	if !strings.HasSuffix(file, ".gz") {
		return d.readChunks(file, f)
	}
	var in io.Reader = f
	var gz *gzip.Reader
	{
		br := bufio.NewReaderSize(f, 256<<10)
		gz, err = gzip.NewReader(br)
		if err != nil {
			return d.fail(file, &CorruptError{File: file, Msg: "corrupt gzip: " + gzipProblem(err)})
		}
		defer gz.Close()
		gz.Multistream(false)
		in = &gzipMembers{br: br, gz: gz}
	}
	// corrupt reports a problem at line n; in a gzipped file, when the
	// compressed data is broken further on, that is the problem: what
	// looked like a bad line was its garbage.
	corrupt := func(n int, msg string) bool {
		if gz != nil {
			if _, err := io.Copy(io.Discard, in); err != nil && isGzipError(err) {
				return d.fail(file, &CorruptError{File: file, Msg: "corrupt gzip: " + gzipProblem(err)})
			}
		}
		return d.fail(file, &CorruptError{File: file, Line: n, Msg: msg})
	}

	var lc labelCache
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 256<<10), MaxLogLineBytes)
	n := 0
	for sc.Scan() {
		n++
		b := d.batch(file)
		if b == nil {
			return false
		}
		start := len(b.buf)
		e, msg := decodeEntry(sc.Bytes(), &b.buf, &b.quotes, d.after, d.until, &lc)
		if msg != "" {
			b.buf = b.buf[:start]
			return corrupt(n, msg)
		}
		if e.blank {
			continue
		}
		if len(b.ents) == 0 {
			b.firstSum = sha256.Sum256(sc.Bytes())
		}
		b.ents = append(b.ents, keepEntry(e, n, &b.buf, d.after, d.until))
		if len(b.buf) >= batchBytes || len(b.ents) >= batchEntries {
			if err := d.ctx.Err(); err != nil {
				return d.fail(file, fmt.Errorf("reading %s: %w", file, err))
			}
			if !d.send() {
				return false
			}
		}
	}
	switch err := sc.Err(); {
	case err == nil:
		if err := d.ctx.Err(); err != nil {
			return d.fail(file, fmt.Errorf("reading %s: %w", file, err))
		}
		return true
	case isGzipError(err):
		return d.fail(file, &CorruptError{File: file, Msg: "corrupt gzip: " + gzipProblem(err)})
	case errors.Is(err, bufio.ErrTooLong):
		return corrupt(n+1, fmt.Sprintf("line longer than %d MiB", MaxLogLineBytes>>20))
	default:
		return d.fail(file, fmt.Errorf("reading %s: %w", file, err))
	}
}

// errGzipTrailing is the error of a gzip file with bytes after its last
// gzip stream that are not another one.
var errGzipTrailing = errors.New("trailing data after the end of the gzip stream")

// gzipMembers reads the gzip streams of a file one after the other, as
// gunzip does (`cat a.gz b.gz` is valid gzip), and tells bytes after the
// last stream that are not another one (errGzipTrailing) from a stream
// cut short.
type gzipMembers struct {
	br *bufio.Reader // under gz: gz stops exactly at the end of a stream
	gz *gzip.Reader
}

func (g *gzipMembers) Read(p []byte) (int, error) {
	for {
		n, err := g.gz.Read(p)
		if !errors.Is(err, io.EOF) || n > 0 {
			if errors.Is(err, io.EOF) {
				err = nil // the next Read says EOF again
			}
			return n, err
		}
		switch _, err := g.br.Peek(1); {
		case errors.Is(err, io.EOF):
			return 0, io.EOF
		case err != nil:
			return 0, err
		}
		if err := g.gz.Reset(g.br); err != nil {
			if isGzipError(err) {
				return 0, errGzipTrailing
			}
			return 0, err
		}
		g.gz.Multistream(false)
	}
}

// isGzipError reports an error of the gzip or flate reader about the
// data (not about the file underneath).
func isGzipError(err error) bool {
	var ce flate.CorruptInputError
	var ie flate.InternalError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, errGzipTrailing) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ce) || errors.As(err, &ie)
}

// gzipProblem says what is wrong with gzipped data.
func gzipProblem(err error) string {
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, errGzipTrailing):
		return "trailing data after the end of the gzip stream (not another gzip stream); the file was altered or padded"
	case errors.Is(err, gzip.ErrChecksum):
		return "checksum mismatch (the data was altered)"
	case errors.Is(err, gzip.ErrHeader):
		return "not gzip data (bad header)"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "truncated"
	case errors.As(err, &ce):
		return fmt.Sprintf("invalid compressed data at byte %d", int64(ce))
	}
	return "unreadable compressed data"
}

const entryShape = `want {"ts":"<unix ns or RFC3339>","labels":{...},"line":"..."}`

// rawEntry is a decoded line of a log file; labels and line point into
// the line.
type rawEntry struct {
	blank  bool // a blank line, which holds no entry
	ts     int64
	labels []byte // the labels object as written
	// The entry's line: unescaped in (*dst)[textStart:textEnd] when its
	// time, known before it, is in (after, until]; else textEnd is -1
	// and line is the JSON string body, still escaped.
	textStart, textEnd int
	line               []byte
	// plain: the unescaped line holds no backslash, and its quotes are
	// at the offsets (*qs)[quotesFrom:quotesTo] (see decodeEntry).
	quotesFrom, quotesTo int
	plain                bool
}

// decodeEntry decodes one line of a log file, or says what is wrong
// with it. Label names and values are checked by decodeLabels. The
// entry's line, when it is unescaped, goes to *dst, and the offsets of
// its quotes to *qs.
func decodeEntry(b []byte, dst *[]byte, qs *[]int32, after, until int64, lc *labelCache) (rawEntry, string) {
	if e, ok := decodeEntryFast(b, dst, qs, after, until, lc); ok {
		return e, ""
	}
	return decodeEntryGeneral(b, dst, qs, after, until, lc)
}

// decodeEntryGeneral is decodeEntry for every line.
func decodeEntryGeneral(b []byte, dst *[]byte, qs *[]int32, after, until int64, lc *labelCache) (rawEntry, string) {
	e := rawEntry{textEnd: -1}
	var tsMsg string
	i := skipBlank(b, 0)
	if i == len(b) {
		e.blank = true
		return e, ""
	}
	if b[i] != '{' {
		return e, "not a JSON object: " + entryShape
	}
	var (
		tsRaw                        []byte
		tsQuoted                     bool
		haveTS, haveLabels, haveLine bool
	)
	i = skipBlank(b, i+1)
	if i < len(b) && b[i] == '}' {
		return e, "empty object: " + entryShape
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return e, syntaxError(b, i, "a key in double quotes")
		}
		end, esc, msg := scanJSONString(b, i)
		if msg != "" {
			return e, msg
		}
		key := b[i+1 : end-1]
		if esc {
			key, _ = logql.AppendUnquoted(nil, key)
		}
		i = skipBlank(b, end)
		if i >= len(b) || b[i] != ':' {
			return e, syntaxError(b, i, "':'")
		}
		i = skipBlank(b, i+1)
		if i >= len(b) {
			return e, syntaxError(b, i, "a value")
		}
		switch string(key) {
		case "ts":
			if haveTS {
				return e, `duplicate key "ts"`
			}
			haveTS = true
			switch c := b[i]; {
			case c == '"':
				end, esc, msg = scanJSONString(b, i)
				if msg != "" {
					return e, "ts: " + msg
				}
				if esc {
					return e, "ts: bad timestamp (escapes in it): want unix nanoseconds or RFC3339"
				}
				tsRaw, tsQuoted = b[i+1:end-1], true
			case c == '-' || (c >= '0' && c <= '9'):
				end = scanJSONNumber(b, i)
				tsRaw = b[i:end]
			default:
				return e, "ts: want a string of unix nanoseconds or an RFC3339 time"
			}
			e.ts, tsMsg = parseTS(tsRaw, tsQuoted)
		case "labels":
			if haveLabels {
				return e, `duplicate key "labels"`
			}
			haveLabels = true
			if b[i] != '{' {
				return e, `labels: want an object of strings, e.g. {"service":"api"}`
			}
			if end, msg = lc.scan(b, i); msg != "" {
				return e, "labels: " + msg
			}
			e.labels = b[i:end]
		case "line":
			if haveLine {
				return e, `duplicate key "line"`
			}
			haveLine = true
			if b[i] != '"' {
				return e, "line: want a string"
			}
			if end, msg = e.readLine(b, i, dst, qs, haveTS && tsMsg == "" && e.ts > after && e.ts <= until); msg != "" {
				return e, "line: " + msg
			}
		default:
			// Keys we do not know are skipped: later versions may add some.
			if end, msg = skipJSONValue(b, i, 0); msg != "" {
				return e, msg
			}
		}
		i = skipBlank(b, end)
		if i >= len(b) {
			return e, syntaxError(b, i, "',' or '}'")
		}
		if b[i] == '}' {
			i++
			break
		}
		if b[i] != ',' {
			return e, syntaxError(b, i, "',' or '}'")
		}
		i = skipBlank(b, i+1)
	}
	if i = skipBlank(b, i); i != len(b) {
		return e, syntaxError(b, i, "the end of the line after the entry")
	}
	switch {
	case !haveTS:
		return e, `missing "ts": ` + entryShape
	case !haveLabels:
		return e, `missing "labels": ` + entryShape
	case !haveLine:
		return e, `missing "line": ` + entryShape
	}
	return e, tsMsg
}

// readLine reads the entry's "line" string at b[i] (a '"'): unescaped
// onto *dst, its quote offsets onto *qs, when its time is in the window
// (inWindow), else left escaped in e.line. It returns the index just past
// the string, or what is wrong with it (*dst and *qs then as they were).
func (e *rawEntry) readLine(b []byte, i int, dst *[]byte, qs *[]int32, inWindow bool) (int, string) {
	if !inWindow {
		end, _, msg := scanJSONString(b, i)
		if msg != "" {
			return 0, msg
		}
		e.line = b[i+1 : end-1]
		return end, ""
	}
	e.textStart, e.quotesFrom = len(*dst), len(*qs)
	end, text, plain, msg := scanJSONStringUnquote(b, i, *dst, qs)
	if msg != "" {
		*dst, *qs = (*dst)[:e.textStart], (*qs)[:e.quotesFrom]
		return 0, msg
	}
	*dst, e.plain = text, plain
	e.textEnd, e.quotesTo = len(*dst), len(*qs)
	return end, ""
}

// parseTS reads unix nanoseconds (digits, quoted or not) or, quoted, an
// RFC3339 time.
func parseTS(raw []byte, quoted bool) (int64, string) {
	if len(raw) == 19 {
		// Unix nanoseconds today, the usual case: eight digits at a
		// time. Anything else goes the long way below.
		hi, ok1 := digits8(raw[0:8])
		mid, ok2 := digits8(raw[8:16])
		if ok1 && ok2 && raw[16]-'0' <= 9 && raw[17]-'0' <= 9 && raw[18]-'0' <= 9 {
			u := hi*1e11 + mid*1e3 + uint64(raw[16]-'0')*100 + uint64(raw[17]-'0')*10 + uint64(raw[18]-'0')
			if u <= math.MaxInt64 && int64(u) >= minLogTS {
				return int64(u), ""
			}
		}
	}
	if len(raw) > 0 && len(raw) <= 18 && raw[0] != '-' {
		// The common case, fast: up to 18 digits cannot overflow.
		var ns int64
		for _, c := range raw {
			if c < '0' || c > '9' {
				ns = -1
				break
			}
			ns = ns*10 + int64(c-'0')
		}
		if ns >= minLogTS {
			return ns, ""
		}
		if ns >= 0 {
			return 0, tsUnitProblem(ns, len(raw))
		}
	}
	if len(raw) == 19 && raw[0] != '-' {
		// Unix nanoseconds today: 19 digits fit a uint64.
		var u uint64
		for _, c := range raw {
			if c < '0' || c > '9' {
				u = math.MaxUint64
				break
			}
			u = u*10 + uint64(c-'0')
		}
		switch {
		case u == math.MaxUint64: // not all digits: below
		case u > math.MaxInt64:
			return 0, "ts: out of range for unix nanoseconds"
		case int64(u) < minLogTS:
			return 0, tsUnitProblem(int64(u), len(raw))
		default:
			return int64(u), ""
		}
	}
	allDigits := len(raw) > 0
	for j, c := range raw {
		if !(c >= '0' && c <= '9') && !(j == 0 && c == '-' && len(raw) > 1) {
			allDigits = false
			break
		}
	}
	if allDigits {
		ns, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return 0, "ts: out of range for unix nanoseconds"
		}
		if ns < minLogTS {
			return 0, tsUnitProblem(ns, len(raw))
		}
		return ns, ""
	}
	if quoted {
		if t, err := time.Parse(time.RFC3339Nano, string(raw)); err == nil {
			return t.UnixNano(), ""
		}
	}
	return 0, "ts: bad timestamp: want unix nanoseconds (\"1795718400000000000\") or RFC3339 (\"2026-11-26T18:40:00.123456789Z\")"
}

// digits8 reads eight ASCII digits at once (ok false when one is not a
// digit): the bytes are checked in one go, then pairs, quads and the
// halves are combined with multiplications.
func digits8(b []byte) (uint64, bool) {
	x := binary.LittleEndian.Uint64(b[:8])
	// A byte is a digit when its high nibble is 3 and adding 6 keeps it
	// so (0x3A-0x3F do not); a carry between bytes only comes from a
	// byte that already fails.
	if (x&0xF0F0F0F0F0F0F0F0)|(((x+0x0606060606060606)&0xF0F0F0F0F0F0F0F0)>>4) != 0x3333333333333333 {
		return 0, false
	}
	x -= 0x3030303030303030
	x = x*10 + x>>8 // pairs: bytes 0, 2, 4, 6 hold the values of digit pairs
	x = ((x&0x000000FF000000FF)*(100+1000000<<32) + (x>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
	return x, true
}

// minLogTS is the earliest numeric ts taken: 1e17 ns is in 1973. A
// smaller number is almost surely a time in another unit (seconds,
// milliseconds, microseconds) that, read as nanoseconds, would put every
// entry in 1970, outside every window: the budgets would see no logs.
const minLogTS = 1e17

// tsUnitProblem says what a numeric ts below minLogTS looks like; digits
// is its length as written. The value itself is not repeated.
func tsUnitProblem(ns int64, digits int) string {
	const want = ": write unix nanoseconds (19 digits, \"1795718400000000000\") or RFC3339"
	switch {
	case ns < 0:
		return "ts: negative: a time before 1970" + want
	case ns < 1e11:
		return fmt.Sprintf("ts: %d digits looks like unix seconds, not nanoseconds (as nanoseconds it is in 1970)", digits) + want
	case ns < 1e14:
		return fmt.Sprintf("ts: %d digits looks like unix milliseconds, not nanoseconds (as nanoseconds it is in 1970)", digits) + want
	}
	return fmt.Sprintf("ts: %d digits looks like unix microseconds, not nanoseconds (as nanoseconds it is before 1973)", digits) + want
}

// decodeLabels fills r.labels from a labels object scanLabels accepted.
func (r *logReader) decodeLabels(b []byte) string {
	clear(r.labels)
	i := skipBlank(b, 1)
	for i < len(b) && b[i] == '"' {
		end, esc, _ := scanJSONString(b, i)
		name := string(b[i+1 : end-1])
		if esc {
			name = unescapeString(b[i+1 : end-1])
		}
		i = skipBlank(b, end)
		i = skipBlank(b, i+1) // ':'
		end, esc, _ = scanJSONString(b, i)
		value := string(b[i+1 : end-1])
		if esc {
			value = unescapeString(b[i+1 : end-1])
		}
		i = skipBlank(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipBlank(b, i+1)
		}
		if !model.LegacyValidation.IsValidLabelName(name) {
			return "invalid label name: Loki takes [a-zA-Z_][a-zA-Z0-9_]*"
		}
		if _, dup := r.labels[name]; dup {
			return "a label name given twice"
		}
		if !utf8.ValidString(value) {
			return "a label value is not valid UTF-8"
		}
		r.labels[name] = value
	}
	for _, v := range r.labels {
		if v != "" {
			return ""
		}
	}
	return "no label with a value: a Loki stream needs at least one"
}

func skipBlank(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

func syntaxError(b []byte, i int, want string) string {
	if i >= len(b) {
		return "invalid JSON: unexpected end of line, want " + want
	}
	return fmt.Sprintf("invalid JSON: unexpected character at byte %d, want %s", i+1, want)
}

// stringSpecial marks the bytes that end the fast scan of a string.
var stringSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// scanJSONString checks the string at b[i] (a '"') and returns the index
// just past its closing quote and whether it holds escapes.
func scanJSONString(b []byte, i int) (int, bool, string) {
	esc := false
	i++
	for {
		i = skipPlain(b, i)
		if i >= len(b) {
			return 0, false, "invalid JSON: unterminated string"
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1, esc, ""
		case c == '\\':
			esc = true
			if i+1 >= len(b) {
				return 0, false, "invalid JSON: unterminated string"
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return 0, false, fmt.Sprintf("invalid JSON: bad \\u escape at byte %d", i+1)
				}
				i += 6
			default:
				return 0, false, fmt.Sprintf("invalid JSON: bad escape at byte %d", i+1)
			}
		default:
			return 0, false, fmt.Sprintf("invalid JSON: control character %#02x in a string at byte %d (escape it)", c, i+1)
		}
	}
}

// scanJSONStringUnquote is scanJSONString and logql.AppendUnquoted in
// one pass: it checks the string at b[i] (a '"'), appends its text,
// unescaped, to dst, and returns the index just past its closing quote.
// Unescaping is AppendUnquoted's: a surrogate pair is one rune, a lone
// surrogate U+FFFD. Plain bytes are copied eight at a time, whole words
// written ahead of the check: the text is never longer than its escaped
// form, so room for the rest of b and a word more is enough.
//
// With qs not nil, the offset in the text of every '"' that a \" escape
// gives is appended to *qs, and plain says whether those are all the
// quotes and backslashes of the text (no \\ and no \u escape): what
// logql.LineHint wants.
func scanJSONStringUnquote(b []byte, i int, dst []byte, qs *[]int32) (end int, text []byte, plain bool, msg string) {
	if qs != nil && simdscan.Fast() {
		if end, text, ok := unquoteSimple(b, i, dst, qs); ok {
			return end, text, true, ""
		}
	}
	return unquoteGeneral(b, i, dst, qs)
}

// unquoteGeneral is scanJSONStringUnquote for every string.
func unquoteGeneral(b []byte, i int, dst []byte, qs *[]int32) (end int, text []byte, plain bool, msg string) {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	i++
	w := len(dst)
	base := w
	plain = true
	dst = slices.Grow(dst, len(b)-i+8)
	buf := dst[:cap(dst)]
	for {
		for i+8 <= len(b) && w+8 <= len(buf) {
			x := binary.LittleEndian.Uint64(b[i : i+8 : i+8])
			binary.LittleEndian.PutUint64(buf[w:w+8:w+8], x)
			q := x ^ (ones * '"')
			bs := x ^ (ones * '\\')
			// As in skipPlain: the lowest flagged byte is a true hit.
			if hit := (((q - ones) &^ q) | ((bs - ones) &^ bs) | ((x - ones*0x20) &^ x)) & highs; hit != 0 {
				k := bits.TrailingZeros64(hit) / 8
				i, w = i+k, w+k
				goto special
			}
			i, w = i+8, w+8
		}
		for i < len(b) && !stringSpecial[b[i]] {
			buf[w] = b[i]
			i, w = i+1, w+1
		}
		if i >= len(b) {
			return 0, buf[:w], false, "invalid JSON: unterminated string"
		}
	special:
		j := i
		switch c := b[j]; {
		case c == '"':
			return j + 1, buf[:w], plain, ""
		case c == '\\':
			if j+1 >= len(b) {
				return 0, buf[:w], false, "invalid JSON: unterminated string"
			}
			e := b[j+1]
			switch e {
			case '"':
				if qs != nil {
					*qs = append(*qs, int32(w-base))
				}
			case '\\':
				plain = false
			case '/':
			case 'b':
				e = '\b'
			case 'f':
				e = '\f'
			case 'n':
				e = '\n'
			case 'r':
				e = '\r'
			case 't':
				e = '\t'
			case 'u':
				plain = false
				if j+6 > len(b) || !isHex4(b[j+2:j+6]) {
					return 0, buf[:w], false, fmt.Sprintf("invalid JSON: bad \\u escape at byte %d", j+1)
				}
				r := hexRune(b[j+2 : j+6])
				if r >= 0xD800 && r < 0xDC00 && j+12 <= len(b) && b[j+6] == '\\' && b[j+7] == 'u' && isHex4(b[j+8:j+12]) {
					// A surrogate pair, when a low surrogate follows.
					if r2 := hexRune(b[j+8 : j+12]); r2 >= 0xDC00 && r2 < 0xE000 {
						r = (r-0xD800)<<10 + (r2 - 0xDC00) + 0x10000
						j += 6
					}
				}
				if r >= 0xD800 && r < 0xE000 {
					r = utf8.RuneError
				}
				w += utf8.EncodeRune(buf[w:], r)
				i = j + 6
				continue
			default:
				return 0, buf[:w], false, fmt.Sprintf("invalid JSON: bad escape at byte %d", j+1)
			}
			buf[w] = e
			i, w = j+2, w+1
		default:
			return 0, buf[:w], false, fmt.Sprintf("invalid JSON: control character %#02x in a string at byte %d (escape it)", c, j+1)
		}
	}
}

// hexRune reads four hex digits isHex4 accepted.
func hexRune(h []byte) rune {
	var r rune
	for _, c := range h[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		default:
			r = r<<4 | rune(c-'A'+10)
		}
	}
	return r
}

// skipPlain returns the index of the first byte from i that ends the
// fast scan of a string: a quote, a backslash or a control character.
// It tests eight bytes at a time.
func skipPlain(b []byte, i int) int {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
	)
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i : i+8 : i+8])
		q := x ^ (ones * '"')
		bs := x ^ (ones * '\\')
		// A byte is zero in q or bs, or below 0x20 in x, exactly when
		// its high bit is set here (the usual "has zero byte" trick;
		// bytes >= 0x80 never count as below 0x20).
		// The lowest flagged byte is always a true hit.
		if hit := ((q - ones) &^ q) | ((bs - ones) &^ bs) | ((x - ones*0x20) &^ x); hit&highs != 0 {
			return i + bits.TrailingZeros64(hit&highs)/8
		}
	}
	for i < len(b) && !stringSpecial[b[i]] {
		i++
	}
	return i
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// scanJSONNumber returns the end of the number at b[i]; it is checked
// by whoever reads it.
func scanJSONNumber(b []byte, i int) int {
	for i < len(b) {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			i++
		default:
			return i
		}
	}
	return i
}

// scanLabels checks the labels object at b[i] (a '{'): string keys and
// string values only. It returns the index just past it.
func scanLabels(b []byte, i int) (int, string) {
	i = skipBlank(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, ""
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, syntaxError(b, i, "a label name in double quotes")
		}
		end, _, msg := scanJSONString(b, i)
		if msg != "" {
			return 0, msg
		}
		i = skipBlank(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, syntaxError(b, i, "':'")
		}
		i = skipBlank(b, i+1)
		if i >= len(b) || b[i] != '"' {
			return 0, "a label value is not a string"
		}
		if end, _, msg = scanJSONString(b, i); msg != "" {
			return 0, msg
		}
		i = skipBlank(b, end)
		if i < len(b) && b[i] == '}' {
			return i + 1, ""
		}
		if i >= len(b) || b[i] != ',' {
			return 0, syntaxError(b, i, "',' or '}'")
		}
		i = skipBlank(b, i+1)
	}
}

// skipJSONValue checks any JSON value at b[i] and returns its end.
func skipJSONValue(b []byte, i, depth int) (int, string) {
	if depth > 100 {
		return 0, "invalid JSON: nested too deep"
	}
	if i >= len(b) {
		return 0, syntaxError(b, i, "a value")
	}
	switch c := b[i]; {
	case c == '"':
		end, _, msg := scanJSONString(b, i)
		return end, msg
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		i = skipBlank(b, i+1)
		if i < len(b) && b[i] == closing {
			return i + 1, ""
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, syntaxError(b, i, "a key in double quotes")
				}
				end, _, msg := scanJSONString(b, i)
				if msg != "" {
					return 0, msg
				}
				i = skipBlank(b, end)
				if i >= len(b) || b[i] != ':' {
					return 0, syntaxError(b, i, "':'")
				}
				i = skipBlank(b, i+1)
			}
			end, msg := skipJSONValue(b, i, depth+1)
			if msg != "" {
				return 0, msg
			}
			i = skipBlank(b, end)
			if i < len(b) && b[i] == closing {
				return i + 1, ""
			}
			if i >= len(b) || b[i] != ',' {
				return 0, syntaxError(b, i, fmt.Sprintf("',' or '%c'", closing))
			}
			i = skipBlank(b, i+1)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		end := scanJSONNumber(b, i)
		if _, err := strconv.ParseFloat(string(b[i:end]), 64); err != nil {
			return 0, fmt.Sprintf("invalid JSON: bad number at byte %d", i+1)
		}
		return end, ""
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
				return i + len(lit), ""
			}
		}
		return 0, syntaxError(b, i, "a value")
	}
}

func unescapeString(b []byte) string {
	s, _ := logql.AppendUnquoted(nil, b)
	return string(s)
}
