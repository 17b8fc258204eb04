package recorder

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"

	"github.com/secflow/secflow-budget/internal/secret"
	"github.com/secflow/secflow-budget/internal/sources/loki"
	"github.com/secflow/secflow-budget/internal/sources/snapshot"
)

// SourceURL names a live source and its URL as configured (userinfo and
// all: Record masks it before writing it anywhere).
type SourceURL struct {
	Name string // "prometheus", "loki"
	URL  string
}

// contacts notes which live sources the recording asked anything, so that
// the manifest's captured_from names only those.
type contacts struct {
	prometheus, loki atomic.Bool
}

// capturedFrom is the manifest's captured_from: the contacted sources of
// from, in order, as name=URL with the URL masked.
func (c *contacts) capturedFrom(from []SourceURL) string {
	var parts []string
	for _, s := range from {
		var used bool
		switch s.Name {
		case "prometheus":
			used = c.prometheus.Load()
		case "loki":
			used = c.loki.Load()
		}
		if used && s.URL != "" {
			parts = append(parts, s.Name+"="+secret.URL(s.URL))
		}
	}
	return strings.Join(parts, " ")
}

// engines asks the contacted sources which engines they run: a source
// the recording never asked is not asked now either, and has no say in
// what the snapshot holds.
func (c *contacts) engines(ctx context.Context, srcs []EngineSource) []snapshot.RecordedEngine {
	var out []snapshot.RecordedEngine
	for _, s := range srcs {
		if s.Name == "prometheus" && c.prometheus.Load() || s.Name == "loki" && c.loki.Load() {
			e := s.Engine(ctx)
			out = append(out, snapshot.RecordedEngine{Source: s.Name, Engine: e.Name, Version: e.Version, OfflineParity: e.OfflineDiffers()})
		}
	}
	return out
}

// watch wraps the live sources of o so that each notes its first use.
func (c *contacts) watch(o *Options) {
	if o.Prometheus != nil {
		o.Prometheus = promContact{o.Prometheus, &c.prometheus}
	}
	if o.Loki != nil {
		o.Loki = lokiContact{o.Loki, &c.loki}
	}
	if o.State.Prometheus != nil {
		o.State.Prometheus = stateContact{o.State.Prometheus, &c.prometheus}
	}
	if o.State.LokiAPI != nil {
		o.State.LokiAPI = lokiAPIContact{o.State.LokiAPI, &c.loki}
	}
}

type promContact struct {
	PromSource
	used *atomic.Bool
}

func (p promContact) Query(ctx context.Context, q string, at time.Time) (model.Vector, error) {
	p.used.Store(true)
	return p.PromSource.Query(ctx, q, at)
}

func (p promContact) QueryMatrix(ctx context.Context, q string, at time.Time) (model.Matrix, error) {
	p.used.Store(true)
	return p.PromSource.QueryMatrix(ctx, q, at)
}

type lokiContact struct {
	LokiSource
	used *atomic.Bool
}

func (l lokiContact) Query(ctx context.Context, q string, at time.Time) (model.Vector, error) {
	l.used.Store(true)
	return l.LokiSource.Query(ctx, q, at)
}

func (l lokiContact) QueryLogs(ctx context.Context, q string, start, end time.Time, limit int) (*loki.LogPage, error) {
	l.used.Store(true)
	return l.LokiSource.QueryLogs(ctx, q, start, end, limit)
}

type stateContact struct {
	StateGetter
	used *atomic.Bool
}

func (s stateContact) StateBody(ctx context.Context, path string) ([]byte, error) {
	s.used.Store(true)
	return s.StateGetter.StateBody(ctx, path)
}

type lokiAPIContact struct {
	api interface {
		RetentionPeriod(ctx context.Context) (time.Duration, error)
	}
	used *atomic.Bool
}

func (l lokiAPIContact) RetentionPeriod(ctx context.Context) (time.Duration, error) {
	l.used.Store(true)
	return l.api.RetentionPeriod(ctx)
}

// maskStateBody masks what may be secret in an API answer before it is
// written to the snapshot: URLs anywhere in it (a target's scrapeUrl and
// globalUrl, a lastError quoting the URL, an annotation), credential
// parameters of a scrape (the __param_token label of a target), and
// echoed credential headers. A body with nothing to mask is kept byte for
// byte; one that does not decode is kept too (the recorder checked that
// it decodes).
func maskStateBody(b []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return b
	}
	changed := false
	v = maskJSON(v, "", &changed)
	if !changed {
		return b
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return b
	}
	return out.Bytes()
}

// maskJSON masks the strings in v; key is the object key v is the value
// of, if any.
func maskJSON(v any, key string, changed *bool) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = maskJSON(e, k, changed)
		}
	case []any:
		for i, e := range x {
			x[i] = maskJSON(e, "", changed)
		}
	case string:
		m := secret.Text(x)
		if p, ok := strings.CutPrefix(key, "__param_"); ok && secret.IsCredentialParam(p) && x != "" {
			m = secret.Mask
		}
		if m != x {
			*changed = true
		}
		return m
	}
	return v
}
