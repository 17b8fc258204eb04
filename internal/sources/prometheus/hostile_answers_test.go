package prometheus

import (
	"context"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/httpclient/httpclienttest"
)

// TestHostileSamplePairs: a sample pair that is not [time, "value"] is an
// unreadable answer, never the value 0 (client_golang's decoder reads
// [time] and [time, null] as 0, which passed every max).
func TestHostileSamplePairs(t *testing.T) {
	for name, tt := range map[string]struct{ body, want string }{
		"vector value missing": {string(httpclienttest.Vector(`[{"metric":{},"value":[1795694400]}]`)),
			`unreadable response from URL (HTTP 200): a sample for {} with a time and no value`},
		"vector value null": {string(httpclienttest.Vector(`[{"metric":{"job":"a"},"value":[1795694400,null]}]`)),
			`unreadable response from URL (HTTP 200): a sample for {job="a"} with a null value`},
		"vector time null": {string(httpclienttest.Vector(`[{"metric":{"job":"a"},"value":[null,"5"]}]`)),
			`unreadable response from URL (HTTP 200): a sample for {job="a"} with a null time`},
		"vector pair empty": {string(httpclienttest.Vector(`[{"metric":{},"value":[]}]`)),
			`unreadable response from URL (HTTP 200): a sample for {} with neither a time nor a value`},
		"vector pair of three": {string(httpclienttest.Vector(`[{"metric":{},"value":[1795694400,"1","2"]}]`)),
			`unreadable response from URL (HTTP 200): a sample for {} of 3 elements, want [time, "value"]`},
		"vector pair an object": {string(httpclienttest.Vector(`[{"metric":{},"value":{"t":1}}]`)),
			`unreadable response from URL (HTTP 200): a sample for {} that is not a [time, "value"] pair`},
		"second sample without value": {string(httpclienttest.Vector(`[{"metric":{"i":"1"},"value":[1795694400,"3"]},{"metric":{"i":"2"},"value":[1795694400]}]`)),
			`unreadable response from URL (HTTP 200): a sample for {i="2"} with a time and no value`},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeProm(t, hostileAnswer(200, []byte(tt.body)))
			got, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), "count(up)", evalTime)
			if err == nil {
				t.Fatalf("no error, answer %v", got)
			}
			se := wantKind(t, err, sources.BadResponse)
			if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != tt.want {
				t.Errorf("message\n%s\nwant\n%s", msg, tt.want)
			}
		})
	}
	// The answers snapshot records: a matrix pair without a value is no 0.
	srv := newFakeProm(t, hostileAnswer(200, []byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[1795694400,"1"],[1795694410]]}]}}`)))
	_, err := mustNew(t, &config.Source{URL: srv.URL}).QueryMatrix(context.Background(), `up[1m]`, evalTime)
	se := wantKind(t, err, sources.BadResponse)
	if msg, want := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"), `unreadable response from URL (HTTP 200): a sample of {job="a"} with a time and no value`; msg != want {
		t.Errorf("matrix message\n%s\nwant\n%s", msg, want)
	}
}

// TestHostileStatusErrorWithoutText: HTTP 200 with "status":"error" and no
// error text says so in one clear line, not "answered HTTP 200 OK: : ".
func TestHostileStatusErrorWithoutText(t *testing.T) {
	for body, want := range map[string]string{
		`{"status":"error"}`:                        `URL answered HTTP 200 OK with status "error" and no error text`,
		`{"status":"error","errorType":"bad_data"}`: `URL answered HTTP 200 OK with status "error" and no error text (errorType "bad_data")`,
		`{"status":"error","error":"  "}`:           `URL answered HTTP 200 OK with status "error" and no error text`,
	} {
		srv := newFakeProm(t, hostileAnswer(200, []byte(body)))
		_, err := mustNew(t, &config.Source{URL: srv.URL}).Query(context.Background(), "up", evalTime)
		se := wantKind(t, err, sources.BadResponse)
		if msg := strings.ReplaceAll(se.Err.Error(), srv.URL, "URL"); msg != want {
			t.Errorf("%s: message\n%s\nwant\n%s", body, msg, want)
		}
	}
}
