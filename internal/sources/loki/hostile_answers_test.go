package loki

import (
	"context"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// TestHostileSamplePairs: a sample pair that is not [time, "value"] is an
// unreadable answer, never the value 0 (model's decoder reads [time] and
// [time, null] as 0, which passed every log budget).
func TestHostileSamplePairs(t *testing.T) {
	for name, tt := range map[string]struct{ body, want string }{
		"value missing": {string(httpclienttest.Vector(`[{"metric":{},"value":[1795694400]}]`)),
			`unreadable response from URL: a sample for {} with a time and no value`},
		"value null": {string(httpclienttest.Vector(`[{"metric":{"service":"api"},"value":[1795694400,null]}]`)),
			`unreadable response from URL: a sample for {service="api"} with a null value`},
		"pair of three": {string(httpclienttest.Vector(`[{"metric":{},"value":[1795694400,"1","2"]}]`)),
			`unreadable response from URL: a sample for {} of 3 elements, want [time, "value"]`},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeLoki(t, hostileAnswer(200, []byte(tt.body)))
			got, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), `sum(count_over_time({service="api"}[1h]))`, evalTime)
			if err == nil {
				t.Fatalf("no error, answer %v", got)
			}
			se := wantKind(t, err, sources.BadResponse)
			if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != tt.want {
				t.Errorf("message\n%s\nwant\n%s", msg, tt.want)
			}
		})
	}
}

// TestHostileStatusErrorWithoutText: HTTP 200 with "status":"error" and no
// error text says so, for metric and log queries alike.
func TestHostileStatusErrorWithoutText(t *testing.T) {
	for body, want := range map[string]string{
		`{"status":"error"}`:                    `URL answered HTTP 200 with status "error" and no error text`,
		`{"status":"error","error":"too slow"}`: `URL answered HTTP 200 with status "error": too slow`,
	} {
		srv := newFakeLoki(t, hostileAnswer(200, []byte(body)))
		c := mustNew(t, &config.Source{URL: srv.URL})
		_, err := c.Query(context.Background(), `sum(count_over_time({service="api"}[1h]))`, evalTime)
		se := wantKind(t, err, sources.BadResponse)
		if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != want {
			t.Errorf("%s: message\n%s\nwant\n%s", body, msg, want)
		}
	}
}
