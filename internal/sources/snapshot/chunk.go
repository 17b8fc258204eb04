package snapshot

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// defaultChunkBytes is how much OpenMetrics text is handed to the parser
// at once. Prometheus' parser wants the whole input as one []byte; chunks
// keep memory flat for files of any size while staying large enough that
// the per-chunk overhead does not show, and small enough that the workers
// parsing them in parallel start early and stay busy (loadFile; measured
// on 2 cores: 1 MB chunks took 0.65 of the time of 4 MB ones on 13 MB,
// whose first 4 MB the appending goroutine waited for).
const defaultChunkBytes = 1 << 20

// maxLineBytes bounds one line. No real series line comes close; a longer
// one means the file is not OpenMetrics text.
const maxLineBytes = 16 << 20

var (
	eofLine      = []byte("# EOF")
	typePrefix   = []byte("# TYPE ")
	unitPrefix   = []byte("# UNIT ")
	helpPrefix   = []byte("# HELP ")
	syntheticEOF = []byte("# EOF\n")
)

// chunk is a piece of an OpenMetrics file that parses on its own: whole
// lines, preceded by synthetic lines that restore the parser's state, and
// followed by a synthetic "# EOF".
type chunk struct {
	data      []byte
	firstLine int // file line number of the first real line
	synthetic int // synthetic lines before the first real line
}

// splitter cuts an OpenMetrics stream into chunks and checks the line
// rules the parser cannot see across chunks: no blank lines, "# EOF" last.
//
// Chunks end before the metadata of a metric family when they can. A
// family larger than the chunk size is cut between two of its lines.
// Either way the next chunk starts with the last "# TYPE" and "# UNIT"
// lines seen before its first line: the OpenMetrics parser keeps the type
// from one family to the next (it decides whether "le" and "quantile"
// values are normalised, "1" to "1.0"), and that state must survive the
// cut to give exactly the labels promtool gives on the whole file.
type splitter struct {
	r     *bufio.Reader
	file  string
	limit int

	line    int    // number of the last line read
	pending []byte // a line longer than the reader's buffer, being assembled

	buf       []byte // the chunk being built
	spare     []byte // the last chunk handed out, reused for the one after
	firstLine int
	synthetic int
	prefixLen int // bytes of synthetic lines at the start of buf

	// The family being read: where it starts in buf, its first line, and
	// the parser state before it.
	famStart     int
	famLine      int
	famType      []byte
	famUnit      []byte
	lastType     []byte // parser state after the last line read
	lastUnit     []byte
	prevIsSample bool
	sawEOF       bool
	err          error // a line error found while buf still holds unparsed lines
	done         bool
}

func newSplitter(r io.Reader, file string, limit int) *splitter {
	return &splitter{
		r:     bufio.NewReaderSize(r, 256<<10),
		file:  file,
		limit: limit,
		// Small to start with: most snapshots are far below one chunk.
		buf:       make([]byte, 0, min(limit+limit/4, 64<<10)),
		spare:     make([]byte, 0, min(limit+limit/4, 64<<10)),
		firstLine: 1,
		famLine:   1,
	}
}

// sizeHint makes room at once for a chunk of a file of size bytes (a
// whole chunk at most), instead of growing the buffers line by line.
func (s *splitter) sizeHint(size int64) {
	n := int(min(int64(s.limit+s.limit/4), size+int64(len(syntheticEOF))+4096))
	if n > cap(s.buf) {
		s.buf = make([]byte, 0, n)
		s.spare = make([]byte, 0, n)
	}
}

func (s *splitter) corrupt(line int, format string, args ...any) *CorruptError {
	return corruptf(s.file, line, format, args...)
}

// next returns the next chunk, or io.EOF after the last. The chunk's data
// is valid until the following call. Line errors are returned only after
// every line before them has been handed out, so that the first error in
// the file is the one reported.
func (s *splitter) next() (chunk, error) {
	if s.done {
		if s.err != nil {
			err := s.err
			s.err = nil
			return chunk{}, err
		}
		return chunk{}, io.EOF
	}
	for {
		line, err := s.readLine()
		if err == io.EOF {
			s.done = true
			if !s.sawEOF && s.err == nil {
				if s.line == 0 {
					s.err = s.corrupt(1, "empty file: OpenMetrics text ends with \"# EOF\"")
				} else {
					s.err = s.corrupt(s.line, "missing \"# EOF\": OpenMetrics text must end with it")
				}
			}
			if c, ok := s.emitAll(); ok {
				return c, nil
			}
			return s.next()
		}
		var lineErr *CorruptError
		if err != nil {
			// The target of errors.As escapes to the heap: declared
			// here, it costs an allocation per error, not per line.
			var ce *CorruptError
			if !errors.As(err, &ce) {
				return chunk{}, err
			}
			line, lineErr = nil, ce
		}
		if lineErr == nil {
			lineErr = s.checkLine(line)
		}
		if lineErr != nil {
			s.done = true
			s.err = lineErr
			if c, ok := s.emitAll(); ok {
				return c, nil
			}
			return s.next()
		}
		if s.sawEOF {
			continue // "# EOF" itself is not passed on; the chunk gets its own.
		}
		if c, ok := s.add(line); ok {
			return c, nil
		}
	}
}

// checkLine enforces what OpenMetrics requires between lines.
func (s *splitter) checkLine(line []byte) *CorruptError {
	switch {
	case s.sawEOF:
		return s.corrupt(s.line, "content after \"# EOF\", which must be the last line")
	case len(line) == 0:
		return s.corrupt(s.line, "blank line: OpenMetrics text has none")
	case bytes.Equal(line, eofLine):
		s.sawEOF = true
	}
	return nil
}

// add appends line to the chunk being built and returns a finished chunk
// when one is due.
func (s *splitter) add(line []byte) (chunk, bool) {
	isMeta := bytes.HasPrefix(line, helpPrefix) || bytes.HasPrefix(line, typePrefix) || bytes.HasPrefix(line, unitPrefix)
	var out chunk
	var emitted bool
	switch {
	case isMeta && s.prevIsSample:
		// A new family starts here: the chunk so far holds whole families.
		if len(s.buf) >= s.limit {
			out, emitted = s.emitAll()
			s.restart(s.lastType, s.lastUnit, s.line)
		}
		s.famStart, s.famLine = len(s.buf), s.line
		s.famType, s.famUnit = s.lastType, s.lastUnit
	case len(s.buf) >= s.limit && s.famStart > s.prefixLen:
		// Full in the middle of a family that did not start this chunk:
		// cut before the family and carry its lines over.
		out, emitted = s.emitBefore(s.famStart), true
	case len(s.buf) >= s.limit:
		// One family fills the chunk on its own: cut between two lines.
		out, emitted = s.emitAll()
		s.restart(s.lastType, s.lastUnit, s.line)
		s.famStart, s.famLine = s.prefixLen, s.line
		s.famType, s.famUnit = s.lastType, s.lastUnit
	}
	s.buf = append(s.buf, line...)
	s.buf = append(s.buf, '\n')
	switch {
	case bytes.HasPrefix(line, typePrefix):
		s.lastType = append(s.lastType[:0:0], line...)
	case bytes.HasPrefix(line, unitPrefix):
		s.lastUnit = append(s.lastUnit[:0:0], line...)
	}
	s.prevIsSample = !isMeta
	return out, emitted
}

// emitAll finishes the chunk with everything in buf. ok is false when buf
// holds no real line. The chunk keeps the buffer; building goes on in the
// spare one, which the caller is done with by the time next is called again.
func (s *splitter) emitAll() (chunk, bool) {
	if len(s.buf) == s.prefixLen {
		return chunk{}, false
	}
	s.buf = append(s.buf, syntheticEOF...)
	c := chunk{data: s.buf, firstLine: s.firstLine, synthetic: s.synthetic}
	s.buf, s.spare = s.spare[:0], s.buf
	s.prefixLen, s.synthetic = 0, 0
	return c, true
}

// emitBefore finishes the chunk with buf[:end] (copied into the spare
// buffer) and starts the next one with the state lines of the current
// family followed by the family's lines read so far, buf[end:].
func (s *splitter) emitBefore(end int) chunk {
	out := append(s.spare[:0], s.buf[:end]...)
	out = append(out, syntheticEOF...)
	c := chunk{data: out, firstLine: s.firstLine, synthetic: s.synthetic}
	s.spare = out

	rest := len(s.buf) - end
	prefix, n := stateLines(s.famType, s.famUnit)
	need := len(prefix) + rest
	if cap(s.buf) < need {
		grown := make([]byte, len(s.buf), need+need/4)
		copy(grown, s.buf)
		s.buf = grown
	}
	s.buf = s.buf[:max(need, len(s.buf))]
	copy(s.buf[len(prefix):], s.buf[end:end+rest]) // copy is memmove: overlap is fine
	copy(s.buf, prefix)
	s.buf = s.buf[:need]
	s.prefixLen, s.synthetic, s.firstLine = len(prefix), n, s.famLine
	s.famStart = s.prefixLen
	return c
}

// restart empties buf and writes the synthetic state lines; the next real
// line is line number first.
func (s *splitter) restart(typeLine, unitLine []byte, first int) {
	prefix, n := stateLines(typeLine, unitLine)
	s.buf = append(s.buf[:0], prefix...)
	s.prefixLen, s.synthetic, s.firstLine = len(prefix), n, first
}

// stateLines renders the parser state to restore at the start of a chunk.
func stateLines(typeLine, unitLine []byte) ([]byte, int) {
	var b []byte
	n := 0
	for _, l := range [][]byte{typeLine, unitLine} {
		if len(l) > 0 {
			b = append(b, l...)
			b = append(b, '\n')
			n++
		}
	}
	return b, n
}

// readLine returns the next line without its newline; the slice is valid
// until the next call.
func (s *splitter) readLine() ([]byte, error) {
	s.pending = s.pending[:0]
	for {
		frag, err := s.r.ReadSlice('\n')
		switch {
		case err == nil:
			s.line++
			if len(s.pending) > 0 {
				s.pending = append(s.pending, frag[:len(frag)-1]...)
				return s.pending, nil
			}
			return frag[:len(frag)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			s.pending = append(s.pending, frag...)
			if len(s.pending) > maxLineBytes {
				return nil, s.corrupt(s.line+1, "line longer than %d MiB: not OpenMetrics text", maxLineBytes>>20)
			}
		case err == io.EOF:
			if len(frag) == 0 && len(s.pending) == 0 {
				return nil, io.EOF
			}
			// A last line without a newline.
			s.line++
			s.pending = append(s.pending, frag...)
			return s.pending, nil
		default:
			return nil, fmt.Errorf("reading %s: %w", s.file, err)
		}
	}
}
