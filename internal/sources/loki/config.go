package loki

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// configPath is Loki's effective configuration, as YAML, relative to the
// base URL.
const configPath = "config"

var _ sources.LokiAPI = (*Client)(nil)

// lokiConfig is the part of Loki's /config that retention depends on.
// Pointers tell an absent key from a zero one.
type lokiConfig struct {
	LimitsConfig *struct {
		RetentionPeriod *string `yaml:"retention_period"`
	} `yaml:"limits_config"`
	Compactor *struct {
		RetentionEnabled *bool `yaml:"retention_enabled"`
	} `yaml:"compactor"`
}

// RetentionPeriod reads limits_config.retention_period from Loki's
// effective configuration (GET /config). 0 means that Loki deletes no logs:
// retention_period is 0 (Loki's default, "retention disabled") or absent,
// or compactor.retention_enabled is false, in which case the compactor
// applies no retention whatever retention_period says and logs live
// forever (Loki's docs: "By default the compactor.retention-enabled flag is
// not set, so the logs sent to Loki live forever").
//
// Per-tenant overrides (the runtime configuration's overrides.TENANT.
// retention_period) and per-stream retention are not read: the answer is
// the default every tenant gets. An object store lifecycle policy that
// deletes chunks sooner is invisible to Loki and so to this.
func (c *Client) RetentionPeriod(ctx context.Context) (time.Duration, error) {
	resp, body, _, err := c.get(ctx, c.http.URL.JoinPath(configPath), nil, c.configFailed)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
		// Gateways in front of Loki (and hosted Loki) often expose the
		// query API only.
		return 0, c.http.Fail(sources.BadResponse, &StatusError{Code: resp.StatusCode},
			"%s answered %d %s to /%s: is this the base URL of Loki, and does its gateway let /%s through?",
			c.http.Redacted, resp.StatusCode, http.StatusText(resp.StatusCode), configPath, configPath)
	}
	if resp.StatusCode != http.StatusOK {
		return 0, c.statusError(resp, body)
	}
	return c.parseRetention(resp.Header.Get("Content-Type"), body)
}

// configFailed is RequestFailed with a message naming /config rather than
// a query.
func (c *Client) configFailed(ctx, reqCtx context.Context, err error) error {
	if httpclient.RequestTimedOut(ctx, reqCtx) {
		return c.http.Fail(sources.Timeout, context.DeadlineExceeded, "GET /%s timed out after %s", configPath, c.http.Timeout)
	}
	return c.http.RequestFailed(ctx, reqCtx, err)
}

func (c *Client) parseRetention(contentType string, body []byte) (time.Duration, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "text/html" {
		// A login page or a proxy's page: name it, do not quote it.
		return 0, c.http.Fail(sources.BadResponse, nil, "unreadable response from %s/%s (HTTP 200, %s): not Loki's configuration", c.http.Redacted, configPath, mt)
	}
	var cfg lokiConfig
	if err := yaml.Unmarshal(body, &cfg); err != nil {
		return 0, c.http.Fail(sources.BadResponse, err, "unreadable response from %s/%s: not Loki's YAML configuration: %s", c.http.Redacted, configPath, yamlErrorText(err))
	}
	if cfg.Compactor != nil && cfg.Compactor.RetentionEnabled != nil && !*cfg.Compactor.RetentionEnabled {
		return 0, nil
	}
	if cfg.LimitsConfig == nil || cfg.LimitsConfig.RetentionPeriod == nil {
		if cfg.Compactor == nil && cfg.LimitsConfig == nil {
			// Loki's /config always holds both sections: this is some
			// other YAML (or JSON) document.
			return 0, c.http.Fail(sources.BadResponse, nil, "unreadable response from %s/%s: no limits_config or compactor section: not Loki's configuration", c.http.Redacted, configPath)
		}
		return 0, nil
	}
	return parseRetentionPeriod(*cfg.LimitsConfig.RetentionPeriod)
}

// parseRetentionPeriod reads a retention_period as Loki writes it: a
// Prometheus duration ("744h", "31d", "4w3d", "0s"), or Go's ("1h30m").
func parseRetentionPeriod(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return d, nil
	}
	return 0, sources.Errorf(sources.BadResponse, sourceName, "limits_config.retention_period %q is not a duration", s)
}

// yamlTypeError is one of yaml.v3's type errors: "line 3: cannot unmarshal
// !!seq `value` into struct { ... }".
var yamlTypeError = regexp.MustCompile("^line ([0-9]+): cannot unmarshal !!([a-z]+)")

// yamlKinds name YAML's tags in words.
var yamlKinds = map[string]string{"seq": "list", "map": "mapping", "str": "string", "int": "number", "float": "number", "bool": "boolean", "null": "null", "timestamp": "timestamp"}

// yamlErrorText says in one short line why a body is not the YAML we
// expect. yaml.v3's type errors quote the offending value (which may be
// anything Loki's configuration holds) and the Go type it did not fit,
// one per line: only the line and the kind of value are kept.
func yamlErrorText(err error) string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return truncate(sources.OneLine(err.Error()), 200)
	}
	parts := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		m := yamlTypeError.FindStringSubmatch(e)
		if m == nil {
			continue
		}
		kind := yamlKinds[m[2]]
		if kind == "" {
			kind = "value"
		}
		parts = append(parts, fmt.Sprintf("line %s: unexpected %s", m[1], kind))
	}
	if len(parts) == 0 {
		return "unexpected types"
	}
	return truncate(strings.Join(parts, "; "), 200)
}
