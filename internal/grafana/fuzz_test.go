package grafana

import (
	"testing"
	"time"
)

// FuzzLoad: any bytes given as a dashboard load or fail with an error,
// and every target's expression interpolates or fails with one: nothing
// panics, nothing loops.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(varsDashboard))
	f.Add([]byte(`{"rows": [{"panels": [{"targets": [{"expr": "x{a=\"${a:regex}\"}[$__range]"}]}]}], "templating": {"list": [{"name": "a", "multi": true, "current": {"value": ["1", "[2]"]}}]}}`))
	f.Add([]byte(`{"panels": [{"type": "row", "panels": [{"datasource": "$ds", "targets": [{"expr": "[[a]] $b ${c.d} ${e:f}"}]}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Load(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, tg := range d.Targets {
			if tg.Datasource != Prometheus && tg.Datasource != Loki {
				t.Fatalf("datasource %q", tg.Datasource)
			}
			if _, err := d.Interpolate(tg.Expr, IntervalsFor(time.Hour)); err != nil && err.Error() == "" {
				t.Fatal("empty error")
			}
		}
	})
}
