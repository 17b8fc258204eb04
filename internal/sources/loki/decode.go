package loki

import (
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

// response is Loki's envelope. data.stats, which Loki fills with some 3 KiB
// of query statistics, is skipped by the decoder. Warnings, as in
// Prometheus' envelope, say that the answer may be partial (a limit hit,
// a store that did not answer).
type response struct {
	Status   string   `json:"status"`
	Warnings []string `json:"warnings"`
	Data     struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
	Error string `json:"error"`
}

// decode reads a 200 answer into a vector, and returns the warnings beside
// it, scrubbed, for the caller to add to its budget's collector.
func (c *Client) decode(resp *http.Response, body []byte) (model.Vector, []string, error) {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "" {
		// An HTML login page or a proxy's page: name it, do not quote it.
		return nil, nil, c.http.Fail(sources.BadResponse, nil, "unreadable response from %s (HTTP 200, %s): not a Loki API answer", c.http.Redacted, mt)
	}
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, nil, c.unreadable(err)
	}
	if r.Status != "success" {
		return nil, nil, c.notSuccess(r.Status, r.Error)
	}
	if problem := sources.ResultProblem(r.Data.ResultType, r.Data.Result); problem != "" {
		return nil, nil, c.http.Fail(sources.BadResponse, nil, "unreadable response from %s: %s", c.http.Redacted, problem)
	}
	switch r.Data.ResultType {
	case "vector":
		var v model.Vector
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, nil, c.unreadable(err)
		}
		if v == nil {
			v = model.Vector{}
		}
		if problem := sources.VectorProblem(v); problem != "" {
			return nil, nil, c.http.Fail(sources.BadResponse, nil, "%s answered %s", c.http.Redacted, problem)
		}
		return v, c.scrubWarnings(r.Warnings), nil
	case "scalar":
		var s model.Scalar
		if err := json.Unmarshal(r.Data.Result, &s); err != nil {
			return nil, nil, c.unreadable(err)
		}
		if s.Timestamp == 0 {
			return nil, nil, c.http.Fail(sources.BadResponse, nil, "%s answered a scalar without a value or timestamp", c.http.Redacted)
		}
		return model.Vector{{Metric: model.Metric{}, Value: s.Value, Timestamp: s.Timestamp}}, c.scrubWarnings(r.Warnings), nil
	case "streams":
		return nil, nil, c.http.Fail(sources.BadResponse, nil, "not a metric query: Loki answered log lines (resultType streams); log budgets need a metric query such as sum(count_over_time({...}[1h]))")
	case "matrix":
		return nil, nil, c.http.Fail(sources.BadResponse, nil, "query returned a range vector; log budgets need an instant vector or a scalar")
	case "":
		return nil, nil, c.http.Fail(sources.BadResponse, nil, "%s answered without a result", c.http.Redacted)
	default:
		return nil, nil, c.http.Fail(sources.BadResponse, nil, "query returned a %s; log budgets need an instant vector or a scalar", strconv.Quote(r.Data.ResultType))
	}
}

// unreadable describes JSON that does not decode. The decoder's message
// names the offending field or offset, never more than a token of the body.
func (c *Client) unreadable(err error) error {
	return c.http.Fail(sources.BadResponse, err, "unreadable response from %s: %s", c.http.Redacted, sources.DecodeErrorText(err.Error()))
}

// addWarnings records the warnings Loki sent beside an answer that is
// used, each made one line and scrubbed of the source's secrets: the
// budget's report says that the answer may be partial.
func (c *Client) addWarnings(ctx context.Context, warnings []string) {
	sources.AddWarnings(ctx, sourceName, c.scrubWarnings(warnings)...)
}

// scrubWarnings makes each warning one line and masks the source's secrets
// in it, in place.
func (c *Client) scrubWarnings(warnings []string) []string {
	for i := range warnings {
		warnings[i] = c.http.Scrub(sources.OneLine(warnings[i]))
	}
	return warnings
}

// notSuccess describes a 200 answer whose status is not "success", with
// the error text it holds, or says that it holds none.
func (c *Client) notSuccess(status, text string) error {
	msg := ": " + truncate(sources.OneLine(text), maxMessageBytes)
	if msg == ": " {
		msg = " and no error text"
	}
	return c.http.Fail(sources.BadResponse, nil, "%s answered HTTP 200 with status %s%s", c.http.Redacted, strconv.Quote(truncate(sources.OneLine(status), 40)), msg)
}
