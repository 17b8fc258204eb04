package lokitest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/secflow/secflow-budget/internal/logql"
)

// jsonlEntry is one line of a snapshot's logs.jsonl.
type jsonlEntry struct {
	TS     json.RawMessage   `json:"ts"`
	Labels map[string]string `json:"labels"`
	Line   *string           `json:"line"`
}

// ReadJSONL reads a snapshot log file: logs.jsonl, or gzip-compressed when
// the name ends in .gz. Errors name the file and the line.
func ReadJSONL(path string) ([]logql.Entry, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 1<<16)
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	}
	es, err := DecodeJSONL(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return es, nil
}

// DecodeJSONL reads entries in the snapshot line format from r.
func DecodeJSONL(r io.Reader) ([]logql.Entry, error) {
	var out []logql.Entry
	br := bufio.NewReaderSize(r, 1<<16)
	for lineNo := 1; ; lineNo++ {
		raw, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(raw)) > 0 {
			e, perr := parseJSONLEntry(raw)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", lineNo, perr)
			}
			out = append(out, e)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func parseJSONLEntry(raw []byte) (logql.Entry, error) {
	var je jsonlEntry
	if err := json.Unmarshal(raw, &je); err != nil {
		return logql.Entry{}, err
	}
	if je.Line == nil {
		return logql.Entry{}, errors.New(`no "line"`)
	}
	if len(je.TS) == 0 {
		return logql.Entry{}, errors.New(`no "ts"`)
	}
	ts, err := parseEntryTS(je.TS)
	if err != nil {
		return logql.Entry{}, err
	}
	if je.Labels == nil {
		je.Labels = map[string]string{}
	}
	return logql.Entry{TS: ts, Labels: je.Labels, Line: *je.Line}, nil
}

// parseEntryTS reads "ts": unix nanoseconds as a string (or a bare JSON
// integer), or an RFC3339Nano time.
func parseEntryTS(raw json.RawMessage) (int64, error) {
	s := string(raw)
	if unq, err := strconv.Unquote(s); err == nil {
		s = unq
	}
	if ns, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ns, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf(`"ts" %q: want unix nanoseconds or RFC3339`, s)
	}
	return t.UnixNano(), nil
}
