package loki

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// maxMessageBytes bounds how much of an error body reaches a message. Loki's
// longest (a pipeline error naming the series) are about 500 bytes.
const maxMessageBytes = 4 << 10

// statusError classifies a non-200 answer. Loki's own errors are text/plain
// and say exactly what is wrong, so their text is kept verbatim.
func (c *Client) statusError(resp *http.Response, body []byte) error {
	status := fmt.Sprintf("%d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	text, ok := errorText(resp.Header.Get("Content-Type"), body)
	detail := status
	if ok {
		detail = status + ": " + text
	}
	cause := &StatusError{Code: resp.StatusCode, Body: c.http.Scrub(text)}
	switch code := resp.StatusCode; {
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		// "parse error at line 1, col 55: syntax error: unexpected $end",
		// "pipeline error: 'JSONParserErr' for series: ...".
		return c.http.Fail(sources.BadQuery, cause, "%s", detail)
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		if strings.Contains(text, "no org id") && !c.sendsTenant {
			return c.http.Fail(sources.Unauthorized, cause, "%s (Loki runs with auth enabled: set sources.loki.tenant, sent as the %s header)", detail, httpclient.TenantHeader)
		}
		if !c.sendsCredentials {
			return c.http.Fail(sources.Unauthorized, cause, "%s answered %s: it requires authentication and no credentials are configured (set sources.loki.bearer_token_file, bearer_token_env, basic_auth or tenant)", c.http.Redacted, detail)
		}
		return c.http.Fail(sources.Unauthorized, cause, "%s refused the request: %s", c.http.Redacted, detail)
	case code == http.StatusGatewayTimeout:
		// Loki's querier gave up (its query timeout), or a proxy in front
		// of it did: the query is too heavy or Loki too slow, either way a
		// timeout and not an outage.
		return c.http.Fail(sources.Timeout, cause, "%s timed out the query: %s", c.http.Redacted, detail)
	case code == http.StatusTooManyRequests:
		return c.http.Fail(sources.Unavailable, cause, "%s is rate limiting us: %s", c.http.Redacted, detail)
	case code >= 500:
		return c.http.Fail(sources.Unavailable, cause, "%s answered %s", c.http.Redacted, detail)
	case code == http.StatusNotFound || code == http.StatusMethodNotAllowed:
		return c.http.Fail(sources.BadResponse, cause, "%s answered %s to /%s: is this the base URL of Loki?", c.http.Redacted, status, queryPath)
	}
	return c.http.Fail(sources.BadResponse, cause, "%s answered %s", c.http.Redacted, detail)
}

// StatusError is the cause of a failure that Loki answered with a non-200
// status: the code and the body's text (empty when the body was not text,
// e.g. a proxy's HTML page), scrubbed of known secrets.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("%d %s", e.Code, http.StatusText(e.Code))
	}
	return fmt.Sprintf("%d %s: %s", e.Code, http.StatusText(e.Code), e.Body)
}

// errorText is what an error body says, if it says it in words: Loki's
// text/plain, or the error field of a Prometheus-style JSON envelope (which
// some gateways answer). HTML (a login page, a proxy's error page) is not
// quoted: it is noise in a report and may echo what we sent.
func errorText(contentType string, body []byte) (string, bool) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "text/plain", "":
		s := strings.TrimSpace(strings.ToValidUTF8(string(body), "\uFFFD"))
		if s == "" || (mt == "" && strings.HasPrefix(s, "<")) {
			return "", false
		}
		return truncate(s, maxMessageBytes), true
	case "application/json":
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &e) == nil {
			if e.Error != "" {
				return truncate(strings.TrimSpace(e.Error), maxMessageBytes), true
			}
			if e.Message != "" {
				return truncate(strings.TrimSpace(e.Message), maxMessageBytes), true
			}
		}
	}
	return "", false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cutting inside a multi-byte character would leave invalid UTF-8.
	return strings.ToValidUTF8(s[:n], "") + "..."
}
