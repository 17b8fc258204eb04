package prometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/secflow/secflow-budget/internal/sources"
)

// envelopeClient checks the envelope of each successful answer before
// client_golang decodes it. client_golang treats any 2xx whose status is
// not "error" as a success, so {"status":"pending","data":{...}} would be
// read as an answer; Prometheus only ever says "success" or "error".
type envelopeClient struct {
	api.Client
}

func (e envelopeClient) Do(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	resp, body, err := e.Client.Do(ctx, req)
	if err != nil || resp == nil || resp.StatusCode/100 != 2 || resp.StatusCode == http.StatusNoContent {
		return resp, body, err
	}
	var env struct {
		Status *string `json:"status"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &env) != nil {
		// Not JSON at all: client_golang says why.
		return resp, body, nil
	}
	switch {
	case env.Status == nil:
		return resp, body, &v1.Error{Type: v1.ErrBadResponse, Msg: `the answer has no "status"`}
	case *env.Status != "success" && *env.Status != "error":
		return resp, body, &v1.Error{Type: v1.ErrBadResponse, Msg: fmt.Sprintf(`the answer's status is %q, want "success"`, truncate(*env.Status, 40))}
	}
	// client_golang reads [time] and [time, null] as the value 0.
	if problem := sources.ResultProblem(env.Data.ResultType, env.Data.Result); problem != "" {
		return resp, body, &v1.Error{Type: v1.ErrBadResponse, Msg: problem}
	}
	return resp, body, nil
}
