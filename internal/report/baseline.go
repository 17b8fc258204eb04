package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/secflow/secflow-budget/internal/checks"
)

// MaxBaselineBytes bounds a baseline report: SecFlow's is some 30KiB; a
// file past this is no report of ours.
const MaxBaselineBytes = 64 << 20

// ReadBaseline reads a JSON report written by WriteJSON, for check
// --baseline. A file that is not JSON, not a report of this tool, of
// another schema_version, or of a run that stopped before any budget ran
// is an error naming the file and what is wrong, never its content.
func ReadBaseline(path string) (*checks.Baseline, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxBaselineBytes+1))
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	if len(data) > MaxBaselineBytes {
		return nil, fmt.Errorf("baseline %s: larger than %dMiB: not a secflow-budget JSON report", path, MaxBaselineBytes>>20)
	}
	b, err := parseBaseline(data)
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	b.File = path
	return b, nil
}

type baselineReport struct {
	SchemaVersion *json.RawMessage `json:"schema_version"`
	Tool          struct {
		Name string `json:"name"`
	} `json:"tool"`
	Errors  []json.RawMessage `json:"errors"`
	Budgets *[]struct {
		Name    string   `json:"name"`
		Queries []string `json:"queries"`
		Results []struct {
			Subject string            `json:"subject"`
			Labels  map[string]string `json:"labels"`
			Value   json.RawMessage   `json:"value"`
			Status  string            `json:"status"`
		} `json:"results"`
	} `json:"budgets"`
}

func parseBaseline(data []byte) (*checks.Baseline, error) {
	const foreign = "not a secflow-budget JSON report (write one with check --format json -o FILE or --report json=FILE)"
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	if !json.Valid(data) {
		var syn *json.SyntaxError
		if err := json.Unmarshal(data, new(any)); errors.As(err, &syn) {
			return nil, fmt.Errorf("not valid JSON (at byte %d): %s", syn.Offset, foreign)
		}
		return nil, errors.New("not valid JSON: " + foreign)
	}
	var rep baselineReport
	if err := json.Unmarshal(data, &rep); err != nil {
		return nil, errors.New(foreign)
	}
	if rep.SchemaVersion == nil || rep.Tool.Name != "secflow-budget" {
		return nil, errors.New(foreign)
	}
	v, err := strconv.Atoi(string(*rep.SchemaVersion))
	if err != nil {
		return nil, errors.New(foreign)
	}
	if v != JSONSchemaVersion {
		return nil, fmt.Errorf("schema_version %d: this secflow-budget reads reports of schema_version %d", v, JSONSchemaVersion)
	}
	if rep.Budgets == nil {
		return nil, errors.New(foreign)
	}
	if len(*rep.Budgets) == 0 && len(rep.Errors) > 0 {
		return nil, errors.New("the report of a run that stopped before any budget ran (it lists errors): nothing to compare with")
	}
	out := &checks.Baseline{Budgets: map[string]checks.BaselineBudget{}}
	for _, b := range *rep.Budgets {
		if _, dup := out.Budgets[b.Name]; dup || b.Name == "" {
			continue
		}
		bb := checks.BaselineBudget{Queries: b.Queries}
		for _, r := range b.Results {
			br := checks.BaselineResult{Subject: r.Subject, Labels: r.Labels}
			if r.Status != checks.Error.String() {
				br.Value = baselineValue(r.Value)
			}
			bb.Results = append(bb.Results, br)
		}
		out.Budgets[b.Name] = bb
	}
	return out, nil
}

// baselineValue reads a result's value: a number, or the strings "NaN",
// "+Inf", "-Inf" (see WriteJSON); null and anything else is no value.
func baselineValue(raw json.RawMessage) *float64 {
	var x float64
	if err := json.Unmarshal(raw, &x); err == nil {
		return &x
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch s {
		case "NaN":
			return nil // no value to compare with
		case "+Inf":
			x = math.Inf(1)
			return &x
		case "-Inf":
			x = math.Inf(-1)
			return &x
		}
	}
	return nil
}
