package recorder

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/checks"
	"github.com/secflow/secflow-budget/internal/sources"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// secretTargets is /api/v1/targets of a Prometheus scraping with
// credentials in the URL: userinfo, a token parameter (__param_token), an
// error quoting the URL.
const secretTargets = `{"status":"success","data":{"activeTargets":[{"discoveredLabels":{"__address__":"api:8080","__param_token":"PARAM-SECRET-1","__scheme__":"http","__scrape_interval__":"15s","__scrape_timeout__":"10s","job":"api"},` +
	`"labels":{"instance":"api:8080","job":"api","__param_token":"PARAM-SECRET-1"},"scrapePool":"api","scrapeUrl":"http://scraper:URL-SECRET-2@api:8080/metrics?token=PARAM-SECRET-1&format=prometheus",` +
	`"globalUrl":"http://scraper:URL-SECRET-2@api.example:8080/metrics?token=PARAM-SECRET-1&format=prometheus","lastError":"Get \"http://scraper:URL-SECRET-2@api:8080/metrics?api_key=PARAM-SECRET-3\": EOF",` +
	`"lastScrape":"2026-11-26T12:00:00Z","lastScrapeDuration":0.01,"health":"up","scrapeInterval":"15s","scrapeTimeout":"10s"}],"droppedTargets":[]}}`

type secretState struct{ asked int }

func (s *secretState) StateBody(_ context.Context, path string) ([]byte, error) {
	s.asked++
	if path != "/api/v1/targets" {
		return nil, sources.Errorf(sources.BadResponse, "prometheus", "no %s", path)
	}
	return []byte(secretTargets), nil
}

// TestHostileRecordMasksSecrets: a recorded snapshot holds no credential
// of a target's scrape URL, and its manifest names only the sources the
// recording asked, with their URLs masked.
func TestHostileRecordMasksSecrets(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "budgets.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nbudgets:\n  - name: api-scrape\n    type: scrape\n    job: api\n    interval: 15s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, plan, err := checks.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "snap")
	prom := &secretState{}
	_, err = Record(context.Background(), out, Options{
		At:           planAt,
		StateBudgets: plan,
		State:        StateSources{Prometheus: prom},
		From: []SourceURL{
			{Name: "prometheus", URL: "http://ci:PROM-SECRET-4@prom.example:9090/?access_token=PROM-SECRET-5&x=1"},
			{Name: "loki", URL: "http://ci:LOKI-SECRET-6@loki.example:3100"},
		},
		Warn: func(s string) { t.Error(s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if prom.asked == 0 {
		t.Fatal("Prometheus was not asked")
	}
	targets, err := os.ReadFile(filepath.Join(out, snapshot.TargetsFile))
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile(filepath.Join(out, snapshot.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name string
		body []byte
	}{{"targets.json", targets}, {"manifest.yaml", manifest}} {
		if strings.Contains(string(f.body), "SECRET") {
			t.Errorf("%s holds a secret:\n%s", f.name, f.body)
		}
	}
	for _, want := range []string{
		`"scrapeUrl":"http://xxxxx@api:8080/metrics?token=xxxxx&format=prometheus"`,
		`"__param_token":"xxxxx"`,
		`"lastError":"Get \"http://xxxxx@api:8080/metrics?api_key=xxxxx\": EOF"`,
	} {
		if !strings.Contains(string(targets), want) {
			t.Errorf("targets.json lacks %s:\n%s", want, targets)
		}
	}
	if !strings.Contains(string(manifest), "prometheus=http://xxxxx@prom.example:9090/?access_token=xxxxx&x=1") {
		t.Errorf("manifest.yaml: want captured_from naming the masked Prometheus URL:\n%s", manifest)
	}
	if strings.Contains(string(manifest), "loki") {
		t.Errorf("manifest.yaml names Loki, which the recording never asked:\n%s", manifest)
	}

	// The masked targets give the verdict the live ones gave.
	snap, err := snapshot.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	st, err := snap.State()
	if err != nil {
		t.Fatal(err)
	}
	off, _ := checks.Run(context.Background(), plan, checks.Env{At: planAt, PromAPI: st}, 1, time.Now)
	if len(off) != 1 || off[0].Status != checks.Pass {
		t.Errorf("offline outcome %+v, want api-scrape pass", off)
	}
}

func TestHostileMaskStateBodyKeepsCleanBodies(t *testing.T) {
	for path, body := range fakeBodies {
		if got := maskStateBody([]byte(body)); string(got) != body {
			t.Errorf("%s: a body without secrets changed:\n%s", path, got)
		}
	}
}
