package sources

import (
	"net/http"
	"strings"
	"testing"
)

func TestDetectEngine(t *testing.T) {
	vmHeader := http.Header{"X-Server-Hostname": {"vm"}}
	for _, tc := range []struct {
		name   string
		header http.Header
		body   string
		want   Engine
		ok     bool
		text   string
	}{
		{"debian victoriametrics 1.79", vmHeader, `{"status":"success","data":{}}`,
			Engine{Name: EngineVictoriaMetrics}, true, "VictoriaMetrics (version not reported)"},
		{"victoriametrics compat version behind a proxy", nil, `{"status":"success","data":{"version":"2.24.0"}}`,
			Engine{Name: EngineVictoriaMetrics}, true, "VictoriaMetrics (version not reported)"},
		{"victoriametrics header, no buildinfo", vmHeader, "",
			Engine{Name: EngineVictoriaMetrics}, true, "VictoriaMetrics (version not reported)"},
		{"prometheus", nil, `{"status":"success","data":{"version":"2.42.0","revision":"225c61122d88b01d1f0eaaee0e05b6f3e0567ac0","branch":"HEAD","buildUser":"root@x","buildDate":"20230201-10:00:00","goVersion":"go1.19.5"}}`,
			Engine{Name: EnginePrometheus, Version: "2.42.0"}, true, "Prometheus 2.42.0"},
		{"thanos", nil, `{"status":"success","data":{"version":"0.34.1","revision":"4cf1559","branch":"HEAD","buildUser":"root@x","buildDate":"20240219","goVersion":"go1.21.7"}}`,
			Engine{Name: EngineThanos, Version: "0.34.1"}, true, "Thanos 0.34.1"},
		{"mimir", nil, `{"status":"success","data":{"application":"Grafana Mimir","version":"2.15.0","revision":"x","goVersion":"go1.23"}}`,
			Engine{Name: EngineMimir, Version: "2.15.0"}, true, "Mimir 2.15.0"},
		{"cortex", nil, `{"status":"success","data":{"application":"Cortex","version":"1.16.0"}}`,
			Engine{Name: EngineCortex, Version: "1.16.0"}, true, "Cortex 1.16.0"},
		{"404 page", nil, "", Engine{Name: EngineUnknown}, false, "unknown engine"},
		{"error envelope", nil, `{"status":"error","error":"nope"}`, Engine{Name: EngineUnknown}, false, "unknown engine"},
		{"control characters in the version", nil, "{\"status\":\"success\",\"data\":{\"version\":\"2.42.0\\n\\u001b[31m\",\"revision\":\"x\"}}",
			Engine{Name: EnginePrometheus, Version: "2.42.0 [31m"}, true, "Prometheus 2.42.0 [31m"},
		{"a page for a version", nil, `{"status":"success","data":{"version":"2.42.0-` + strings.Repeat("x", 5000) + `","revision":"x"}}`,
			Engine{Name: EnginePrometheus, Version: "2.42.0-" + strings.Repeat("x", 57)}, true, "Prometheus 2.42.0-" + strings.Repeat("x", 57)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			got, ok := DetectEngine(tc.header, body, nil)
			if got != tc.want || ok != tc.ok {
				t.Errorf("DetectEngine = %+v, %v; want %+v, %v", got, ok, tc.want, tc.ok)
			}
			if s := got.String(); s != tc.text {
				t.Errorf("String() = %q, want %q", s, tc.text)
			}
		})
	}
}

func TestDetectEngineNotFooledByOtherAnswers(t *testing.T) {
	// A fake that answers every path with a query result is no
	// VictoriaMetrics.
	body := `{"status":"success","data":{"resultType":"vector","result":[]}}`
	if e, ok := DetectEngine(http.Header{}, []byte(body), nil); ok || e.Name != EngineUnknown {
		t.Errorf("DetectEngine(query answer) = %+v, %v; want unknown", e, ok)
	}
}
