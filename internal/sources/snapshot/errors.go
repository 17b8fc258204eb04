package snapshot

import "fmt"

// CorruptError reports a snapshot file whose content is not what its name
// promises: a malformed manifest, an OpenMetrics file that promtool would
// reject or misread. Line is 1-based; 0 means the problem has no single
// line (a required key is missing, say).
type CorruptError struct {
	File string
	Line int
	Col  int // 1-based column on Line; 0 when not known
	Msg  string
}

// corruptf is the CorruptError of line (0: the whole file) of file.
func corruptf(file string, line int, format string, args ...any) *CorruptError {
	return &CorruptError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

func (e *CorruptError) Error() string {
	if e.Line > 0 && e.Col > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}
