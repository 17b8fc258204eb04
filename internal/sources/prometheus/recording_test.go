package prometheus

import (
	"context"
	"strings"
	"testing"

	"github.com/secflow/secflow-budget/internal/config"
	"github.com/secflow/secflow-budget/internal/sources"
)

const matrixBody = `{"status":"success","data":{"resultType":"matrix","result":[
	{"metric":{"__name__":"up","job":"api"},"values":[[1795694385,"1"],[1795694400.123,"0"]]}]}}`

func TestQueryMatrix(t *testing.T) {
	f := newFakeProm(t, jsonAnswer(200, matrixBody))
	c := mustNew(t, &config.Source{URL: f.URL})
	m, err := c.QueryMatrix(context.Background(), `up[5m]`, evalTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 || len(m[0].Values) != 2 || m[0].Values[1].Timestamp != 1795694400123 {
		t.Errorf("matrix = %v", m)
	}
	if req := f.last(t); req.form.Get("query") != "up[5m]" || req.form.Get("time") == "" {
		t.Errorf("request %+v", req)
	}

	f = newFakeProm(t, jsonAnswer(200, vectorBody))
	c = mustNew(t, &config.Source{URL: f.URL})
	_, err = c.QueryMatrix(context.Background(), `up`, evalTime)
	wantKind(t, err, sources.BadResponse)
}

func TestStateBody(t *testing.T) {
	const rules = `{"status":"success","data":{"groups":[]}}`
	f := newFakeProm(t, jsonAnswer(200, rules))
	c := mustNew(t, &config.Source{URL: f.URL})
	b, err := c.StateBody(context.Background(), "/api/v1/rules")
	if err != nil || string(b) != rules {
		t.Errorf("body %q, %v; want the answer verbatim", b, err)
	}
	if req := f.last(t); req.path != "/api/v1/rules" {
		t.Errorf("path %s", req.path)
	}

	for _, c := range []struct {
		name   string
		status int
		body   string
		kind   sources.Kind
		msg    string
	}{
		{"not found", 404, `404 page not found`, sources.BadResponse, "does it serve /api/v1/rules"},
		{"unauthorized", 401, `Unauthorized`, sources.Unauthorized, "answered HTTP 401 Unauthorized: it requires authentication and no credentials are configured"},
		{"server error", 500, `oops`, sources.Unavailable, "HTTP 500"},
		{"not success", 200, `{"status":"error","errorType":"internal","error":"x"}`, sources.BadResponse, "unreadable response"},
		{"html", 200, `<html>login</html>`, sources.BadResponse, "unreadable response"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeProm(t, jsonAnswer(c.status, c.body))
			cl := mustNew(t, &config.Source{URL: f.URL})
			_, err := cl.StateBody(context.Background(), "/api/v1/rules")
			se := wantKind(t, err, c.kind)
			if !strings.Contains(se.Error(), c.msg) {
				t.Errorf("error %q lacks %q", se, c.msg)
			}
		})
	}
}
