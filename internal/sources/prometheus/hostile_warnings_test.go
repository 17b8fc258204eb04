package prometheus

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

// TestHostileQueryWarnings: Prometheus' "warnings" (partial data) beside a
// successful answer reach the collector of the query's context, scrubbed of
// the source's secrets, once each (issue 7, item 2).
func TestHostileQueryWarnings(t *testing.T) {
	body := `{"status":"success","warnings":[
		"remote store eu-1 did not answer: partial data",
		"remote store eu-1 did not answer: partial data",
		"  ",
		"query hit the series limit of http://ci:hunter2-secret@thanos:10901",
		"store rejected token s3cr3t-pw"],
		"data":{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[1795694400,"1"]}]}}`
	srv := newFakeProm(t, jsonAnswer(200, body))
	u := strings.Replace(srv.URL, "http://", "http://ci:s3cr3t-pw@", 1)
	c := mustNew(t, &config.Source{URL: u, Timeout: 7 * time.Second})

	ctx, w := sources.WithWarnings(context.Background())
	got, err := c.Query(ctx, "up", evalTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Value != 1 {
		t.Errorf("answer = %v, want the one sample: warnings do not void the data", got)
	}
	want := []string{
		"prometheus: remote store eu-1 did not answer: partial data",
		"prometheus: query hit the series limit of http://xxxxx@thanos:10901",
		"prometheus: store rejected token xxxxx",
	}
	if list := w.List(); !reflect.DeepEqual(list, want) {
		t.Errorf("warnings = %q, want %q", list, want)
	}

	// Without a collector, a query with warnings works as before.
	if _, err := c.Query(context.Background(), "up", evalTime); err != nil {
		t.Fatal(err)
	}
}
