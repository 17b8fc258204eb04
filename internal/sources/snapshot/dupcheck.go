package snapshot

import "fmt"

// The same log entries twice in a snapshot would count twice: Loki stores
// an entry (stream, time, line) once. An exact copy of a file is refused
// when the files are listed (files.go) or by its first entry (logs.go);
// what is left is found here, per stream, in memory that grows with the
// number of streams and files, never with the entries:
//   - across files: a stream's entries in two files overlap in time. A
//     snapshot splits logs by file in time (captures of successive hours),
//     never the same span of a stream twice. Only the time where the
//     previous file left the stream may be shared: the evaluator sees
//     there the entries of both, and stores a repeated one once;
//   - within a file: a stream's first counted entry (same time, same line)
//     comes again after later entries of its stream, as when a file is
//     appended to itself. An entry repeated right after itself is no
//     copy: Loki stores such an exact duplicate once, and so does the
//     evaluator.

// streamTrack is what is known of one stream's entries.
type streamTrack struct {
	// The current file's span of the stream: file is an index in
	// logReader.files, -1 before the first entry.
	file         int
	minTS, maxTS int64
	firstLine    int
	lastTS       int64 // the time of the stream's previous entry

	// The first entry of the stream in the current file that counts for
	// a query (its line is at hand): time, line number, hash of the line.
	haveRef bool
	refTS   int64
	refLine int
	refHash uint64

	spans []logSpan // the spans of earlier files
}

// logSpan is the time span of a stream's entries in one file.
type logSpan struct {
	file         int
	minTS, maxTS int64
	firstLine    int
}

// start begins the stream's span in a new file.
func (tr *streamTrack) start(file int, ts int64, line int) {
	if tr.file >= 0 {
		tr.spans = append(tr.spans, logSpan{file: tr.file, minTS: tr.minTS, maxTS: tr.maxTS, firstLine: tr.firstLine})
	}
	tr.file, tr.minTS, tr.maxTS, tr.firstLine = file, ts, ts, line
	tr.haveRef = false
}

// endFile checks the spans of the streams of the file just read against
// the spans of the same streams in earlier files.
func (r *logReader) endFile() error {
	touched := r.touched
	r.touched = r.touched[:0]
	for _, tr := range touched {
		for i, sp := range tr.spans {
			if i == len(tr.spans)-1 && tr.minTS == sp.maxTS {
				// The file takes the stream up where the last file left
				// it: successive captures may share the entries of one
				// time, which the evaluator stores once, as Loki does.
				continue
			}
			if sp.minTS <= tr.maxTS && tr.minTS <= sp.maxTS {
				return &CorruptError{File: r.files[tr.file], Line: tr.firstLine, Msg: fmt.Sprintf(
					"the entries of a stream overlap in time with the same stream's entries in %s:%d: a snapshot holds each entry once, and both files' entries would count; keep one copy of these logs",
					r.files[sp.file], sp.firstLine)}
			}
		}
	}
	return nil
}

// twiceInFile is the error for an entry of file, at line, equal to its
// stream's first counted entry after later entries of that stream.
func (r *logReader) twiceInFile(file string, line int, tr *streamTrack) error {
	return &CorruptError{File: file, Line: line, Msg: fmt.Sprintf(
		"the same entry as line %d (stream, time and line) again after later entries of its stream: the file holds these logs twice (appended to itself?); a snapshot holds each entry once, keep one copy",
		tr.refLine)}
}
