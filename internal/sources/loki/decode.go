package loki

import (
	"encoding/json"
	"mime"
	"net/http"
	"strconv"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/sources"
)

// response is Loki's envelope. data.stats, which Loki fills with some 3 KiB
// of query statistics, is skipped by the decoder.
type response struct {
	Status string `json:"status"`
	Data   struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
	Error string `json:"error"`
}

// decode reads a 200 answer into a vector.
func (c *Client) decode(resp *http.Response, body []byte) (model.Vector, error) {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" && mt != "" {
		// An HTML login page or a proxy's page: name it, do not quote it.
		return nil, c.http.Fail(sources.BadResponse, nil, "unreadable response from %s (HTTP 200, %s): not a Loki API answer", c.http.Redacted, mt)
	}
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, c.unreadable(err)
	}
	if r.Status != "success" {
		msg := r.Error
		if msg == "" {
			msg = "status " + strconv.Quote(r.Status)
		}
		return nil, c.http.Fail(sources.BadResponse, nil, "%s answered HTTP 200 without success: %s", c.http.Redacted, truncate(msg, maxMessageBytes))
	}
	switch r.Data.ResultType {
	case "vector":
		var v model.Vector
		if err := json.Unmarshal(r.Data.Result, &v); err != nil {
			return nil, c.unreadable(err)
		}
		if v == nil {
			v = model.Vector{}
		}
		for _, s := range v {
			if s == nil {
				return nil, c.http.Fail(sources.BadResponse, nil, "unreadable response from %s: null sample", c.http.Redacted)
			}
			if s.Metric == nil {
				s.Metric = model.Metric{}
			}
		}
		return v, nil
	case "scalar":
		var s model.Scalar
		if err := json.Unmarshal(r.Data.Result, &s); err != nil {
			return nil, c.unreadable(err)
		}
		return model.Vector{{Metric: model.Metric{}, Value: s.Value, Timestamp: s.Timestamp}}, nil
	case "streams":
		return nil, c.http.Fail(sources.BadResponse, nil, "not a metric query: Loki answered log lines (resultType streams); log budgets need a metric query such as sum(count_over_time({...}[1h]))")
	case "matrix":
		return nil, c.http.Fail(sources.BadResponse, nil, "query returned a range vector; log budgets need an instant vector or a scalar")
	case "":
		return nil, c.http.Fail(sources.BadResponse, nil, "%s answered without a result", c.http.Redacted)
	default:
		return nil, c.http.Fail(sources.BadResponse, nil, "query returned a %s; log budgets need an instant vector or a scalar", strconv.Quote(r.Data.ResultType))
	}
}

// unreadable describes JSON that does not decode. The decoder's message
// names the offending field or offset, never more than a token of the body.
func (c *Client) unreadable(err error) error {
	return c.http.Fail(sources.BadResponse, err, "unreadable response from %s: %s", c.http.Redacted, truncate(err.Error(), 200))
}
