package loki

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/secflow/secflow-budget/internal/sources"
)

const buildinfoPath = "loki/api/v1/status/buildinfo"

// URL is the source's base URL with any userinfo masked.
func (c *Client) URL() string { return c.http.Redacted }

// Engine asks Loki's buildinfo for its version. The engine is always
// Loki (we know no other LogQL engine); a Loki that does not answer
// buildinfo leaves the version unknown and says why. Detection never
// fails a run.
func (c *Client) Engine(ctx context.Context) (sources.Engine, string) {
	e := sources.Engine{Name: sources.EngineLoki}
	if err := ctx.Err(); err != nil {
		return e, err.Error()
	}
	reqCtx, cancel := c.http.WithRequestTimeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, c.http.URL.JoinPath(buildinfoPath).String(), nil)
	if err != nil {
		return e, "cannot build a request for " + c.http.Redacted
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return e, c.http.RequestFailed(ctx, reqCtx, err).Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var env struct {
		Version string `json:"version"`
	}
	if resp.StatusCode/100 != 2 || json.Unmarshal(body, &env) != nil || env.Version == "" {
		return e, fmt.Sprintf("GET /%s answered HTTP %d %s without a version", buildinfoPath, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	// Masked before it is made one line: a credential echoed with a
	// control character or a run of spaces in it is still found whole.
	e.Version = sources.CapVersion(c.http.Scrub(sources.OneLine(c.http.Scrub(env.Version))))
	return e, ""
}
