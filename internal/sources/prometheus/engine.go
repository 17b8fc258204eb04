package prometheus

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/secflow/secflow-budget/internal/sources"
)

// The endpoints engine detection reads.
const (
	buildinfoPath = "/api/v1/status/buildinfo"
	tsdbPath      = "/api/v1/status/tsdb"
)

// maxEngineBody bounds what detection reads of an answer: buildinfo is a
// few hundred bytes, and of the tsdb status only the top-level keys count.
const maxEngineBody = 1 << 20

// Engine says which engine answers this source, asking
// /api/v1/status/buildinfo the first time and remembering the answer (see
// sources.DetectEngine). When buildinfo answers but tells nothing (no
// X-Server-Hostname, data of no known shape), /api/v1/status/tsdb is
// asked: only VictoriaMetrics' has totalLabelValuePairs. A server that
// does not serve buildinfo is asked nothing more. A source that cannot be
// reached gives sources.EngineUnknown and the reason, which the budgets'
// own requests will report in full; detection never fails a run.
func (c *Client) Engine(ctx context.Context) (sources.Engine, string) {
	c.engineOnce.Do(func() {
		c.engine, c.engineWhy = c.detectEngine(ctx)
	})
	return c.engine, c.engineWhy
}

func (c *Client) detectEngine(ctx context.Context) (sources.Engine, string) {
	h, body, status, err := c.rawGet(ctx, buildinfoPath)
	if err != nil {
		return sources.Engine{Name: sources.EngineUnknown}, err.Error()
	}
	if status/100 != 2 {
		body = nil
	}
	if e, ok := sources.DetectEngine(h, body, c.scrub); ok {
		e.Version = truncate(c.scrub(e.Version), 64)
		return e, ""
	}
	if status/100 != 2 {
		return sources.Engine{Name: sources.EngineUnknown}, fmt.Sprintf("GET %s answered HTTP %d %s", buildinfoPath, status, http.StatusText(status))
	}
	why := "GET " + buildinfoPath + " answered no build information"
	_, body, status, err = c.rawGet(ctx, tsdbPath)
	if err == nil && status/100 == 2 {
		var env struct {
			Data map[string]json.RawMessage `json:"data"`
		}
		if json.Unmarshal(body, &env) == nil {
			if _, ok := env.Data["totalLabelValuePairs"]; ok {
				return sources.Engine{Name: sources.EngineVictoriaMetrics}, ""
			}
		}
	}
	return sources.Engine{Name: sources.EngineUnknown}, why
}

// rawGet GETs path with the source's credentials and timeout and returns
// the headers, at most maxEngineBody bytes of the body and the status.
func (c *Client) rawGet(ctx context.Context, path string) (http.Header, []byte, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, 0, c.http.Abandoned(err)
	}
	reqCtx, cancel := c.http.WithRequestTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, c.http.URL.JoinPath(path).String(), nil)
	if err != nil {
		return nil, nil, 0, c.fail(sources.BadResponse, nil, "cannot build a request for %s", c.http.Redacted)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.HTTPClient().Do(req)
	if err != nil {
		return nil, nil, 0, c.http.RequestFailed(ctx, reqCtx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEngineBody))
	if err != nil {
		return nil, nil, 0, c.http.RequestFailed(ctx, reqCtx, err)
	}
	return resp.Header, body, resp.StatusCode, nil
}

// URL is the source's base URL with any userinfo masked.
func (c *Client) URL() string { return c.http.Redacted }
