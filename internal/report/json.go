package report

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
)

// JSONSchemaVersion is the version of the JSON report's schema; it changes
// only when a field is renamed or removed, never when one is added.
const JSONSchemaVersion = 1

// WriteJSON writes the report for dashboards and scripts, in the schema of
// SPEC.md ("Reports"). Keys come in a fixed order, lists are never null, and
// a result's extra facts (bucket_lower, observations, state, ...) are keys of
// the result itself, after status and in the check's order.
//
// JSON has no NaN or infinities. A non-finite number (a value, a limit or an
// extra such as the bucket_upper of the highest bucket) is written as the
// string "NaN", "+Inf" or "-Inf", as Prometheus' HTTP API and its le labels
// spell them, so no information is lost and the document stays valid;
// consumers reading numbers must accept those three strings.
func WriteJSON(w io.Writer, run *Run, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Ops are "<=" and ">=": keep them readable instead of \u003c=.
	enc.SetEscapeHTML(false)
	return enc.Encode(newJSONReport(run))
}

type jsonReport struct {
	SchemaVersion int           `json:"schema_version"`
	Tool          jsonTool      `json:"tool"`
	Mode          string        `json:"mode"`
	EvaluatedAt   *string       `json:"evaluated_at"` // null: not known (a run stopped before any budget ran)
	Status        checks.Status `json:"status"`
	ExitCode      int           `json:"exit_code"`
	Errors        []RunError    `json:"errors,omitempty"`
	Summary       Summary       `json:"summary"`
	Notes         []string      `json:"notes,omitempty"`
	Sources       []SourceInfo  `json:"sources,omitempty"`
	Budgets       []jsonBudget  `json:"budgets"`
}

// RunError is one error that stopped a run before any budget ran (an
// invalid budgets file, a bad flag, an unreadable snapshot): where it is
// and what is wrong. File is "" and Line, Column 0 when not known; Field is
// the field path in File (budgets[2].percentiles.p95) or the flag
// (--offline). The JSON report writes every key, so that a dashboard reads
// the same shape for every error.
type RunError struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// NewErrorRun is the run of a `check` that stopped on errs before any
// budget ran: status error, no budgets, the exit code it returns. The
// caller masks the errors' text (as on stderr).
func NewErrorRun(toolName, version, mode string, exitCode int, errs []RunError) *Run {
	return &Run{
		ToolName: toolName,
		Version:  version,
		Mode:     mode,
		Status:   checks.Error,
		ExitCode: exitCode,
		Errors:   errs,
	}
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

type jsonBudget struct {
	Name        string               `json:"name"`
	Type        string               `json:"type"`
	Category    string               `json:"category"`
	Severity    string               `json:"severity"`
	Tags        []string             `json:"tags"`
	Description string               `json:"description,omitempty"`
	Runbook     string               `json:"runbook,omitempty"`
	Status      checks.Status        `json:"status"`
	Message     string               `json:"message"`
	DurationMS  int64                `json:"duration_ms"`
	Queries     []string             `json:"queries"`
	Results     []jsonResult         `json:"results"`
	Notes       []string             `json:"notes,omitempty"`
	Details     []string             `json:"details,omitempty"`
	Warnings    []string             `json:"warnings,omitempty"`
	Error       *checks.OutcomeError `json:"error"`
	// Regression: only with --baseline.
	Regression *checks.RegressionOutcome `json:"regression,omitempty"`
}

func newJSONReport(run *Run) jsonReport {
	rep := jsonReport{
		SchemaVersion: JSONSchemaVersion,
		Tool:          jsonTool{Name: toolName(run), Version: run.Version},
		Mode:          run.Mode,
		EvaluatedAt:   jsonTime(run.EvaluatedAt),
		Status:        run.Verdict(),
		ExitCode:      run.ExitCode,
		Errors:        run.Errors,
		Summary:       run.Summarize(),
		Notes:         run.Notes,
		Sources:       run.Sources,
		Budgets:       make([]jsonBudget, 0, len(run.Outcomes)),
	}
	for _, o := range run.Outcomes {
		b := jsonBudget{
			Name:        o.Name,
			Type:        o.Type,
			Category:    o.Category,
			Severity:    o.Severity,
			Tags:        nonNil(o.Tags),
			Description: o.Description,
			Runbook:     o.Runbook,
			Status:      o.Status,
			Message:     o.Message,
			DurationMS:  o.Duration.Milliseconds(),
			Queries:     nonNil(o.Queries),
			Results:     make([]jsonResult, len(o.Results)),
			Notes:       o.Notes,
			Details:     o.Details,
			Warnings:    o.Warnings,
			Error:       o.Err,
			Regression:  o.Regression,
		}
		for i, r := range o.Results {
			b.Results[i] = jsonResult(r)
		}
		rep.Budgets = append(rep.Budgets, b)
	}
	return rep
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// jsonResult writes a result's fixed keys, then its extras, then its note.
type jsonResult checks.Result

// resultKeys are the fixed keys of a result; an extra of the same name is
// written as "extra_<key>" rather than as a duplicate key.
var resultKeys = map[string]bool{
	"subject": true, "labels": true, "value": true, "unit": true, "limit": true,
	"op": true, "warn_limit": true, "status": true, "note": true,
	"baseline": true, "change": true, "regression": true, "waiver": true,
}

func (r jsonResult) MarshalJSON() ([]byte, error) {
	var o jsonObject
	o.add("subject", r.Subject)
	labels := r.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	o.add("labels", labels)
	o.add("value", optionalFloat(r.Value))
	o.add("unit", r.Unit)
	o.add("limit", optionalFloat(r.Limit))
	o.add("op", r.Op)
	if r.WarnLimit != nil {
		o.add("warn_limit", jsonFloat(*r.WarnLimit))
	}
	o.add("status", r.Status)
	if r.Regression != "" {
		// --baseline: every result says what it was compared with.
		o.add("baseline", optionalFloat(r.Baseline))
		o.add("change", optionalFloat(r.Change))
		o.add("regression", r.Regression)
	}
	if r.Waiver != nil {
		o.add("waiver", r.Waiver)
	}
	seen := map[string]bool{}
	for _, kv := range r.Extra {
		key := kv.Key
		if resultKeys[key] {
			key = "extra_" + key
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		var v any = kv.Value
		if f, ok := kv.Value.(float64); ok {
			v = jsonFloat(f)
		}
		o.add(key, v)
	}
	if r.Note != "" {
		o.add("note", r.Note)
	}
	return o.bytes()
}

// jsonObject builds an object whose keys keep the order they were added in.
type jsonObject struct {
	buf bytes.Buffer
	err error
}

func (o *jsonObject) add(key string, v any) {
	if o.err != nil {
		return
	}
	if o.buf.Len() == 0 {
		o.buf.WriteByte('{')
	} else {
		o.buf.WriteByte(',')
	}
	o.err = encodeNoHTMLEscape(&o.buf, key)
	o.buf.WriteByte(':')
	if o.err == nil {
		o.err = encodeNoHTMLEscape(&o.buf, v)
	}
}

func (o *jsonObject) bytes() ([]byte, error) {
	if o.err != nil {
		return nil, o.err
	}
	if o.buf.Len() == 0 {
		return []byte("{}"), nil
	}
	o.buf.WriteByte('}')
	return o.buf.Bytes(), nil
}

func encodeNoHTMLEscape(buf *bytes.Buffer, v any) error {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.Truncate(buf.Len() - 1) // Encode's newline
	return nil
}

// jsonFloat is a number that JSON can hold: non-finite values become
// "NaN", "+Inf" and "-Inf" (see WriteJSON).
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return json.Marshal(x)
}

// optionalFloat is null for a nil pointer.
func optionalFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return jsonFloat(*p)
}

// jsonTime is t in RFC3339 (UTC), or nil (JSON null) when t is zero: an
// empty string would fail every consumer that parses the field as a time.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := evaluatedAt(t)
	return &s
}
