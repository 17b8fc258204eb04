package sources

import (
	"encoding/json"
	"net/http"
	"strings"
)

// The engines a Prometheus-compatible source may run, as reports and the
// snapshot manifest name them.
const (
	EnginePrometheus      = "prometheus"
	EngineVictoriaMetrics = "victoriametrics"
	EngineThanos          = "thanos"
	EngineMimir           = "mimir"
	EngineCortex          = "cortex"
	EngineLoki            = "loki"
	// EngineUnknown: the source did not say (no buildinfo, or it could
	// not be reached).
	EngineUnknown = "unknown"
)

// Engine is what answers a source's queries: reports state it, because
// compatible engines do not compute every function as Prometheus does.
type Engine struct {
	// Name is one of the Engine* constants.
	Name string
	// Version is what the server reported, "" when it reported none
	// (Debian's VictoriaMetrics 1.79 reports an empty buildinfo).
	Version string
}

// String is "VictoriaMetrics 1.79.5", "VictoriaMetrics (version not
// reported)" or "unknown engine".
func (e Engine) String() string {
	title := EngineTitle(e.Name)
	if e.Name == "" || e.Name == EngineUnknown {
		return "unknown engine"
	}
	if e.Version == "" {
		return title + " (version not reported)"
	}
	return title + " " + e.Version
}

// EngineTitle is an engine's name as its project spells it.
func EngineTitle(name string) string {
	switch name {
	case EnginePrometheus:
		return "Prometheus"
	case EngineVictoriaMetrics:
		return "VictoriaMetrics"
	case EngineThanos:
		return "Thanos"
	case EngineMimir:
		return "Mimir"
	case EngineCortex:
		return "Cortex"
	case EngineLoki:
		return "Loki"
	}
	return name
}

// OfflineDiffers says why check --offline, which evaluates PromQL with
// Prometheus' own engine, may not reproduce what this engine computed
// live; "" when it reproduces it. Thanos and Mimir run Prometheus'
// engine (sharded or not), so their values match.
func (e Engine) OfflineDiffers() string {
	if e.Name == EngineVictoriaMetrics {
		return "VictoriaMetrics evaluates MetricsQL, whose rate and increase do not extrapolate to the window's edges and start from the last sample before the window; offline evaluation uses Prometheus' engine, so live values may differ"
	}
	return ""
}

// VictoriaMetricsHeader is the header VictoriaMetrics (single-node,
// vmselect) sends on every response.
const VictoriaMetricsHeader = "X-Server-Hostname"

// DetectEngine recognises an engine from the answer to
// GET /api/v1/status/buildinfo: its headers and body (nil when there was
// no successful answer). ok is false when nothing identifies the engine.
//
//   - VictoriaMetrics sends X-Server-Hostname on every response and
//     answers buildinfo with an empty data object (1.79) or only a
//     Prometheus-compatible "version" (later releases): neither is its own
//     version, so the version stays unknown.
//   - Mimir and Cortex name themselves in data.application.
//   - Prometheus and Thanos answer the same shape (version, revision,
//     branch, buildUser, buildDate, goVersion); Thanos' versions are 0.x.
//
// The version is made one line (OneLine) after scrub (nil: none) has
// masked the secrets in it: masking first, so that a credential the
// server echoes with a control character or a run of spaces in it is
// still found whole, not printed with a space in its place.
func DetectEngine(h http.Header, body []byte, scrub func(string) string) (Engine, bool) {
	if scrub == nil {
		scrub = func(s string) string { return s }
	}
	var env struct {
		Status string                     `json:"status"`
		Data   map[string]json.RawMessage `json:"data"`
	}
	decoded := body != nil && json.Unmarshal(body, &env) == nil && env.Status == "success" && env.Data != nil
	str := func(key string) string {
		var s string
		if raw, ok := env.Data[key]; ok {
			_ = json.Unmarshal(raw, &s)
		}
		return OneLine(scrub(s))
	}
	if decoded {
		app := strings.ToLower(str("application"))
		switch {
		case strings.Contains(app, "mimir"):
			return Engine{Name: EngineMimir, Version: CapVersion(str("version"))}, true
		case strings.Contains(app, "cortex"):
			return Engine{Name: EngineCortex, Version: CapVersion(str("version"))}, true
		case strings.Contains(app, "victoria"):
			return Engine{Name: EngineVictoriaMetrics}, true
		}
	}
	if h.Get(VictoriaMetricsHeader) != "" {
		return Engine{Name: EngineVictoriaMetrics}, true
	}
	if !decoded {
		return Engine{Name: EngineUnknown}, false
	}
	version := CapVersion(str("version"))
	_, hasVersion := env.Data["version"]
	if len(env.Data) == 0 || len(env.Data) == 1 && hasVersion {
		// An empty object, or a lone compatibility "version": what
		// VictoriaMetrics answers (behind a proxy that drops its header).
		return Engine{Name: EngineVictoriaMetrics}, true
	}
	_, hasRevision := env.Data["revision"]
	_, hasGo := env.Data["goVersion"]
	if version == "" || !hasRevision && !hasGo {
		return Engine{Name: EngineUnknown}, false
	}
	if strings.HasPrefix(version, "0.") {
		return Engine{Name: EngineThanos, Version: version}, true
	}
	return Engine{Name: EnginePrometheus, Version: version}, true
}

// MaxVersionBytes is the longest engine version reports print (in every
// header).
const MaxVersionBytes = 64

// CapVersion cuts a version a server reported to MaxVersionBytes (whole
// runes).
func CapVersion(v string) string {
	if len(v) > MaxVersionBytes {
		return strings.ToValidUTF8(v[:MaxVersionBytes], "")
	}
	return v
}
