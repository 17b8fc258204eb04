package promtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

const queryTimeout = 30 * time.Second

// Sample is one element of an instant query's answer. A scalar answer is a
// single Sample with no labels.
type Sample struct {
	Labels map[string]string
	Value  float64
}

// String renders the sample like the Prometheus UI does, labels sorted.
func (s Sample) String() string {
	names := make([]string, 0, len(s.Labels))
	for n := range s.Labels {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s=%q", n, s.Labels[n])
	}
	return "{" + strings.Join(parts, ", ") + "} " + strconv.FormatFloat(s.Value, 'g', -1, 64)
}

// Query runs an instant query at time at and returns the vector (or scalar)
// it answers, in the order Prometheus gave. It fails the test on any error;
// a test that expects an error should use its own client. Always pass an
// explicit time: fixtures are hours old and a query at "now" sees nothing.
func (s *Server) Query(t testing.TB, expr string, at time.Time) []Sample {
	t.Helper()
	samples, err := s.query(expr, at)
	if err != nil {
		t.Fatalf("promtest: query %s at %s: %v", expr, at.UTC().Format(time.RFC3339), err)
	}
	return samples
}

// QueryValue runs an instant query expected to answer exactly one sample and
// returns its value.
func (s *Server) QueryValue(t testing.TB, expr string, at time.Time) float64 {
	t.Helper()
	samples := s.Query(t, expr, at)
	if len(samples) != 1 {
		t.Fatalf("promtest: query %s: got %d samples %v, want 1", expr, len(samples), samples)
	}
	return samples[0].Value
}

type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

func (s *Server) query(expr string, at time.Time) ([]Sample, error) {
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	form := url.Values{
		"query": {expr},
		"time":  {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/api/v1/query", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	var r apiResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("%s: decoding %.200q: %w", resp.Status, body, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("%s: %s: %s", resp.Status, r.ErrorType, r.Error)
	}
	switch r.Data.ResultType {
	case "vector":
		var vec []struct {
			Metric map[string]string `json:"metric"`
			Value  [2]any            `json:"value"`
		}
		if err := json.Unmarshal(r.Data.Result, &vec); err != nil {
			return nil, fmt.Errorf("decoding vector: %w", err)
		}
		out := make([]Sample, len(vec))
		for i, v := range vec {
			f, err := parseValue(v.Value)
			if err != nil {
				return nil, err
			}
			out[i] = Sample{Labels: v.Metric, Value: f}
		}
		return out, nil
	case "scalar":
		var sc [2]any
		if err := json.Unmarshal(r.Data.Result, &sc); err != nil {
			return nil, fmt.Errorf("decoding scalar: %w", err)
		}
		f, err := parseValue(sc)
		if err != nil {
			return nil, err
		}
		return []Sample{{Value: f}}, nil
	}
	return nil, fmt.Errorf("result type %q is not supported (only vector and scalar)", r.Data.ResultType)
}

// parseValue reads the [time, "value"] pair of the HTTP API; values are
// strings so that NaN and ±Inf survive JSON.
func parseValue(v [2]any) (float64, error) {
	s, ok := v[1].(string)
	if !ok {
		return 0, fmt.Errorf("sample value %v is not a string", v[1])
	}
	return strconv.ParseFloat(s, 64)
}
