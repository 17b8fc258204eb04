package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/atomicfile"
	"github.com/secflow/secflow-budget/internal/sources"
)

// LogAggregatesFile holds, instead of raw logs, the answers Loki gave the
// log budgets' queries at the snapshot's evaluation time: what
// `secflow-budget snapshot --logs aggregate` records when the logs are too
// large to copy. It answers exactly those queries at exactly that time.
// When the snapshot also holds log files (*.jsonl), they are used instead.
//
//	{
//	  "version": 1,
//	  "evaluated_at": "2026-11-26T12:00:07Z",
//	  "queries": [
//	    {"query": "sum by (service) (bytes_over_time({env=\"prod\"}[5m]))",
//	     "result": [{"metric": {"service": "api"}, "value": [1795694407, "9448361"]}]},
//	    {"query": "...", "error": {"kind": "bad_query", "message": "pipeline error: ..."}}
//	  ]
//	}
//
// A result is Loki's vector as its API returns it. A query Loki refused
// (a pipeline error on the data) is recorded with its error, so that the
// offline check reports the same error as the live one.
const LogAggregatesFile = "logs.aggregate.json"

// LogAggregatesVersion is the only version of the file this package reads.
const LogAggregatesVersion = 1

// LogAggregates is the content of LogAggregatesFile.
type LogAggregates struct {
	Version     int            `json:"version"`
	EvaluatedAt time.Time      `json:"evaluated_at"`
	Queries     []LogAggregate `json:"queries"`
}

// LogAggregate is one query and Loki's answer to it.
type LogAggregate struct {
	Query  string             `json:"query"`
	Result model.Vector       `json:"result,omitempty"`
	Error  *LogAggregateError `json:"error,omitempty"`
}

// LogAggregateError is a query Loki answered with an error.
type LogAggregateError struct {
	Kind    string `json:"kind"` // a sources.Kind's name, e.g. "bad_query"
	Message string `json:"message"`
}

// HasLogAggregates reports whether the snapshot holds LogAggregatesFile.
func (s *Snapshot) HasLogAggregates() bool {
	fi, err := os.Stat(filepath.Join(s.dir, LogAggregatesFile))
	return err == nil && fi.Mode().IsRegular()
}

// WriteLogAggregates writes a as dir/LogAggregatesFile, atomically.
func WriteLogAggregates(dir string, a LogAggregates) error {
	if a.Version == 0 {
		a.Version = LogAggregatesVersion
	}
	a.EvaluatedAt = a.EvaluatedAt.UTC()
	for i := range a.Queries {
		if a.Queries[i].Result == nil && a.Queries[i].Error == nil {
			a.Queries[i].Result = model.Vector{}
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(a); err != nil {
		return fmt.Errorf("writing %s: %w", LogAggregatesFile, err)
	}
	return writeFileAtomic(filepath.Join(dir, LogAggregatesFile), b.Bytes())
}

// logAggregates answers log queries from LogAggregatesFile.
type logAggregates struct {
	dir         string
	evaluatedAt time.Time
	byText      map[string]*LogAggregate
}

// readLogAggregates reads LogAggregatesFile. A malformed file is a
// *CorruptError.
func (s *Snapshot) readLogAggregates() (sources.LogQL, error) {
	file := filepath.Join(s.dir, LogAggregatesFile)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", file, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var a LogAggregates
	if err := dec.Decode(&a); err != nil {
		return nil, &CorruptError{File: file, Line: jsonErrorLine(data, err), Msg: jsonErrText(err)}
	}
	switch {
	case a.Version != LogAggregatesVersion:
		return nil, &CorruptError{File: file, Msg: fmt.Sprintf("version %d is not supported: this secflow-budget reads version %d", a.Version, LogAggregatesVersion)}
	case a.EvaluatedAt.IsZero():
		return nil, &CorruptError{File: file, Msg: "missing evaluated_at"}
	}
	la := &logAggregates{dir: s.dir, evaluatedAt: a.EvaluatedAt, byText: map[string]*LogAggregate{}}
	for i := range a.Queries {
		q := &a.Queries[i]
		if q.Query == "" {
			return nil, &CorruptError{File: file, Msg: fmt.Sprintf("queries[%d]: missing query", i)}
		}
		for _, smp := range q.Result {
			if smp == nil {
				return nil, &CorruptError{File: file, Msg: fmt.Sprintf("queries[%d]: null sample", i)}
			}
			if smp.Metric == nil {
				smp.Metric = model.Metric{}
			}
		}
		la.byText[q.Query] = q
		if canon, ok := canonicalLogQL(q.Query); ok {
			la.byText[canon] = q
		}
	}
	return la, nil
}

// jsonErrorLine is the line of a JSON syntax error's offset, or 0.
func jsonErrorLine(data []byte, err error) int {
	var se *json.SyntaxError
	if errors.As(err, &se) && se.Offset <= int64(len(data)) {
		return bytes.Count(data[:se.Offset], []byte("\n")) + 1
	}
	return 0
}

// Query answers query at at from the recorded answers: only the recorded
// queries (or other spellings of them), only at the recorded time.
func (a *logAggregates) Query(ctx context.Context, query string, at time.Time) (model.Vector, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("snapshot query abandoned: %w", err)
	}
	ans, ok := a.byText[query]
	if !ok {
		if canon, parsed := canonicalLogQL(query); parsed {
			ans, ok = a.byText[canon]
		}
	}
	if !ok {
		return nil, notRecordedError(a.dir, query)
	}
	if !at.Equal(a.evaluatedAt) {
		return nil, sources.Errorf(sources.Missing, sourceName,
			"%s holds log aggregates recorded for evaluation at %s, which answer no other time (%s); re-record with secflow-budget snapshot --at, or with --logs raw",
			a.dir, a.evaluatedAt.UTC().Format(time.RFC3339Nano), at.UTC().Format(time.RFC3339Nano))
	}
	if ans.Error != nil {
		return nil, &sources.Error{Kind: kindNamed(ans.Error.Kind), Source: sourceName, Err: errors.New(ans.Error.Message)}
	}
	out := make(model.Vector, len(ans.Result))
	for i, s := range ans.Result {
		c := *s
		c.Metric = s.Metric.Clone()
		out[i] = &c
	}
	return out, nil
}

// kindNamed is the kind whose String is name; BadQuery when none is.
func kindNamed(name string) sources.Kind {
	for k := sources.Unavailable; k <= sources.NotConfigured; k++ {
		if k.String() == name {
			return k
		}
	}
	return sources.BadQuery
}

// writeFileAtomic writes data to path through a temporary file beside it,
// so that a crash leaves the old file or none (see atomicfile). A new file
// is readable by all: snapshots are shared as CI artifacts.
func writeFileAtomic(path string, data []byte) error {
	return atomicfile.WriteBytes(path, data)
}
