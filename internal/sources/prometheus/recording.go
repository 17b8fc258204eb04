package prometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// QueryMatrix runs query, a range-vector selector such as
// `up{job="api"}[1h]`, as an instant query at time at, and returns the
// raw samples it selects: what the snapshot command records. Failures
// are *sources.Error as for Query, except when ctx itself ends: then the
// error wraps ctx.Err().
func (c *Client) QueryMatrix(ctx context.Context, query string, at time.Time) (model.Matrix, error) {
	val, warnings, err := c.instantQuery(ctx, query, at)
	sources.AddWarnings(ctx, sourceName, warnings...)
	if err != nil {
		return nil, err
	}
	switch v := val.(type) {
	case model.Matrix:
		if problem := sources.MatrixProblem(v); problem != "" {
			return nil, c.fail(sources.BadResponse, nil, "%s answered %s", c.http.Redacted, problem)
		}
		return v, nil
	case nil:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "%s answered without a result", c.http.Redacted)
	default:
		return nil, sources.Errorf(sources.BadResponse, sourceName, "query %s returned a %s, want a range vector", query, val.Type())
	}
}

// StateBody GETs path (e.g. /api/v1/rules) and returns the body as the
// server sent it, envelope included: what the snapshot command stores in
// rules.json, alerts.json and targets.json. A body that is not a
// successful Prometheus API answer is an error. Failures are classified
// as those of Rules and the other state requests.
func (c *Client) StateBody(ctx context.Context, path string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, c.http.Abandoned(err)
	}
	reqCtx, cancel := c.http.WithRequestTimeout(ctx)
	defer cancel()
	info := &httpclient.ResponseInfo{}
	u := c.http.URL.JoinPath(path)
	req, err := http.NewRequestWithContext(httpclient.WithResponseInfo(reqCtx, info), http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, c.fail(sources.BadResponse, nil, "cannot build a request for %s", c.http.Redacted)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.HTTPClient().Do(req)
	if err != nil {
		return nil, c.classifyState(ctx, reqCtx, info, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, c.classifyState(ctx, reqCtx, info, path, err)
	}
	var env struct {
		Status    string          `json:"status"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
		Data      json.RawMessage `json:"data"`
	}
	decodeErr := json.Unmarshal(body, &env)
	if resp.StatusCode/100 != 2 {
		// As client_golang reports it, so that the classification (and
		// its messages) are those of the other requests.
		apiErr := &v1.Error{Type: v1.ErrClient, Msg: resp.Status, Detail: string(body)}
		switch {
		case resp.StatusCode >= 500:
			apiErr.Type = v1.ErrServer
		case decodeErr == nil && env.ErrorType != "" && (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnprocessableEntity):
			apiErr.Type, apiErr.Msg = v1.ErrorType(env.ErrorType), env.Error
		}
		return nil, c.classifyState(ctx, reqCtx, info, path, apiErr)
	}
	if decodeErr != nil || env.Status != "success" || len(env.Data) == 0 {
		return nil, c.badResponse(info, &v1.Error{Type: v1.ErrBadResponse, Msg: fmt.Sprintf("%s: not a successful Prometheus API answer", path)})
	}
	return body, nil
}
