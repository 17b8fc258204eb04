package loki

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

// FuzzHostileDecode feeds arbitrary bodies to the decoders of both query
// kinds: they never panic, and a vector they accept holds no null sample,
// no value-less sample and no series twice; every error is one line.
func FuzzHostileDecode(f *testing.F) {
	f.Add([]byte(vectorBody))
	f.Add([]byte(`{"status":"success","warnings":["w"],"data":{"resultType":"scalar","result":[1795718400,"NaN"]}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[{"stream":{"service":"api"},"values":[["1795718400000000000","hello",{"structuredMetadata":{"detected_level":"info"}}]]}]}}`))
	f.Add([]byte(`{"status":"success","data":{"resultType":"vector","result":[null,{"metric":null},{"histogram":[1,{}]}]}}`))
	f.Add([]byte(`{"status":"error","error":"boom"}`))
	f.Add([]byte(`{"status":"error","error":"two\nlines"}`))
	c, err := newClient(&config.Source{URL: "http://loki.invalid"}, 0)
	if err != nil {
		f.Fatal(err)
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}}
	f.Fuzz(func(t *testing.T, body []byte) {
		ctx, _ := sources.WithWarnings(context.Background())
		v, _, err := c.decode(resp, body)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Errorf("error %q is not one line", err)
			}
		} else if problem := sources.VectorProblem(v); problem != "" {
			t.Errorf("accepted a vector with %s", problem)
		}
		if _, err := c.decodeStreams(ctx, resp, body); err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("error %q is not one line", err)
		}
	})
}
