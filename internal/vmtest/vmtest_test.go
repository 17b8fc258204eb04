package vmtest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const healthy = "../../testdata/snapshots/healthy/metrics.om"

// vmQuery runs an instant query and returns the raw answer's result.
func vmQuery(t *testing.T, srv *Server, query, at string) []struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
	Values [][]any           `json:"values"`
} {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/v1/query?" + url.Values{"query": {query}, "time": {at}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  []any             `json:"value"`
				Values [][]any           `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Status != "success" {
		t.Fatalf("query %s: %v, status %q", query, err, env.Status)
	}
	return env.Data.Result
}

func TestImportedSamplesAreTheFixture(t *testing.T) {
	srv := Start(t, healthy)
	// The first three samples of the fixture's queue depth, at 10:00:00,
	// :15 and :30 (unix seconds 1795687200...), as imported.
	got := vmQuery(t, srv, `secflow_queue_depth{queue="default"}[30s]`, "1795687230")
	if len(got) != 1 {
		t.Fatalf("got %d series, want 1: %+v", len(got), got)
	}
	var pairs []string
	for _, v := range got[0].Values {
		pairs = append(pairs, jsonText(v[0])+"="+jsonText(v[1]))
	}
	// A range [t-30s, t] in MetricsQL excludes its start: 10:00:00 is
	// not in it.
	if want := `1795687215="83" 1795687230="90"`; strings.Join(pairs, " ") != want {
		t.Errorf("samples %s, want %s", strings.Join(pairs, " "), want)
	}
	// The fixture's 17 metric names (histograms' _bucket, _count and
	// _sum apart), all with samples within 5 minutes of 12:00:07.
	if got := vmQuery(t, srv, `count(count by (__name__) ({__name__=~"secflow_.+|up|scrape_samples_scraped"}))`, "1795694407"); len(got) != 1 || jsonText(got[0].Value[1]) != `"17"` {
		t.Errorf("metric names at the evaluation time: %+v, want 17", got)
	}
}

func TestVMAlertBehindProxy(t *testing.T) {
	srv := StartWith(t, []Option{WithVMAlert("../../deploy/alerts.yaml")}, healthy)
	resp, err := http.Get(srv.URL + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var env struct {
		Data struct {
			Groups []struct {
				Name  string `json:"name"`
				Rules []struct {
					Name string `json:"name"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		t.Fatal(err)
	}
	if len(env.Data.Groups) == 0 || env.Data.Groups[0].Name != "secflow-budgets" || len(env.Data.Groups[0].Rules) == 0 {
		t.Errorf("rules through -vmalert.proxyURL: %+v\n%s", env.Data.Groups, srv.Log())
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
