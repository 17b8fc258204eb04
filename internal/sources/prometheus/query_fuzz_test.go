package prometheus

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient"
)

// bodyTransport answers every request 200 with body, as JSON.
type bodyTransport []byte

func (b bodyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": {"application/json"}},
		Body:    io.NopCloser(bytes.NewReader(b)),
		Request: req,
	}, nil
}

// FuzzHostileQueryAnswer feeds arbitrary 200 bodies to Query through
// client_golang and our envelope check: never a panic, an accepted answer
// never holds a null, value-less or repeated sample, and every failure is
// a *sources.Error.
func FuzzHostileQueryAnswer(f *testing.F) {
	f.Add([]byte(vectorBody))
	f.Add([]byte(`{"status":"success","warnings":["w"],"data":{"resultType":"scalar","result":[1795694400,"NaN"]}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"vector","result":[null,{"metric":null},{"histogram":[1,{}]}]}}`))
	f.Add([]byte(`{"status":"pending","data":{"resultType":"vector","result":[]}}`))
	f.Add([]byte(`{"status":"error","errorType":"bad_data","error":"x"}`))
	h, err := httpclient.New(&config.Source{URL: "http://prometheus.invalid"}, httpclient.Options{Name: sourceName})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		hc, err := api.NewClient(api.Config{Address: "http://prometheus.invalid", RoundTripper: bodyTransport(body)})
		if err != nil {
			t.Fatal(err)
		}
		c := &Client{http: h, api: v1.NewAPI(envelopeClient{hc})}
		ctx, _ := sources.WithWarnings(context.Background())
		v, err := c.Query(ctx, "up", evalTime)
		if err != nil {
			if sources.KindOf(err) == 0 {
				t.Errorf("error %v (%T) is no *sources.Error", err, err)
			}
			return
		}
		if problem := sources.VectorProblem(v); problem != "" {
			t.Errorf("accepted a vector with %s", problem)
		}
	})
}
