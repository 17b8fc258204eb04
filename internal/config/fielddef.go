package config

// Field declares one key of budgets.yaml: its name, the kind of value the
// loader reads from it, and what it means. The loader's allowed keys and
// the JSON Schema (secflow-budget schema) are both generated from these
// declarations, and a test holds every key a builder reads to them, so the
// schema cannot drift from the loader.
type Field struct {
	Name     string
	Kind     Kind
	Doc      string
	Required bool
	// Enum lists the accepted values of KindEnum (and of the items of
	// KindEnumList).
	Enum []string
	// Pattern restricts a KindString value (a regular expression, RE2 and
	// ECMA-262 alike).
	Pattern string
	// Min and Max bound a KindInt or KindNumber value, when set.
	Min, Max *float64
	// Keys restricts the keys of a map kind: a pattern (KeyPattern) or a
	// list (KeyEnum, matched as written).
	KeyPattern string
	KeyEnum    []string
	KeyFold    bool // KeyEnum matches in any case
	// Fields are the keys of a KindObject and of the items of a
	// KindObjectList.
	Fields []Field
	// AnyOf, for KindAnyOf: the value is one of these (their Name unused).
	AnyOf []Field
}

// Kind is what the loader reads from a key.
type Kind string

// The kinds of value, as the Fields getters read them.
const (
	KindString   Kind = "string"   // Fields.String
	KindEnum     Kind = "enum"     // Fields.String, one of Enum
	KindBool     Kind = "bool"     // Fields.Bool
	KindInt      Kind = "int"      // Fields.Int
	KindNumber   Kind = "number"   // Fields.Float
	KindDuration Kind = "duration" // Fields.Duration: 300s, 5m, 1h, 15d
	KindSize     Kind = "size"     // Fields.Size: 100MB, 1MiB or bytes
	KindShare    Kind = "share"    // Fields.Share: 10% or 0.1
	KindURL      Kind = "url"      // Fields.String, an http(s) URL
	// KindStrings is Fields.Strings: a list of strings, or one string.
	KindStrings Kind = "strings"
	// KindEnumList is Fields.Strings with each item one of Enum.
	KindEnumList Kind = "enum_list"
	// KindStringMap is Fields.StringMap: string keys to string values.
	KindStringMap Kind = "string_map"
	// KindDurationMap, KindShareMap: keys (KeyPattern/KeyEnum) to
	// durations or shares.
	KindDurationMap Kind = "duration_map"
	KindShareMap    Kind = "share_map"
	KindObject      Kind = "object"      // Fields.Map with Fields
	KindObjectList  Kind = "object_list" // Fields.List, each item with Fields
	KindAnyOf       Kind = "any_of"      // one of AnyOf
)

// FieldNames returns the names of fs, in order.
func FieldNames(fs []Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// Bound returns a pointer to x, for Field.Min and Field.Max.
func Bound(x float64) *float64 { return &x }

// NamePattern is what a budget's name must match.
const NamePattern = `^[a-z0-9][a-z0-9._-]*$`

// CommonFieldDefs declares the keys every budget may have (commonFields),
// with regression per SPEC ("Regression limits"). types is the list of
// known budget types, for the type key's enum.
func CommonFieldDefs(types []string) []Field {
	return []Field{
		{Name: "name", Kind: KindString, Required: true, Pattern: NamePattern, Doc: "Unique name of the budget: lower-case letters, digits, '.', '_' and '-'."},
		{Name: "type", Kind: KindEnum, Required: true, Enum: types, Doc: "The budget type; it decides which other keys the budget takes."},
		{Name: "description", Kind: KindString, Doc: "What the budget holds, for people."},
		{Name: "severity", Kind: KindEnum, Enum: []string{"error", "warning", "warn"}, Doc: "error (default): a violation fails the run; warning: it only warns."},
		{Name: "tags", Kind: KindStrings, Doc: "Tags for --only/--skip."},
		{Name: "category", Kind: KindEnum, Enum: Categories, Doc: "Report area (default: by type)."},
		{Name: "window", Kind: KindDuration, Doc: "Evaluation window ending at the evaluation time (default: defaults.window)."},
		{Name: "on_missing", Kind: KindEnum, Enum: onMissingValues, Doc: "What no data does: fail | warn | pass | skip (default: defaults.on_missing)."},
		{Name: "runbook", Kind: KindString, Doc: "Shown when the budget does not pass."},
		RegressionFieldDef("regression", "Regression limits, judged against --baseline (SPEC: Regression limits)."),
	}
}

var onMissingValues = []string{string(MissingFail), string(MissingWarn), string(MissingPass), string(MissingSkip)}

// RegressionFieldDef declares a regression mapping (a budget's, or
// defaults.regression).
func RegressionFieldDef(name, doc string) Field {
	limit := func(k, d string) Field {
		return Field{Kind: KindAnyOf, Name: k, Doc: d, AnyOf: []Field{{Kind: KindShare}, {Kind: KindDuration}, {Kind: KindSize}, {Kind: KindNumber}}}
	}
	return Field{Name: name, Kind: KindObject, Doc: doc, Fields: []Field{
		{Name: "max_increase", Kind: KindShare, Doc: "Lower is better: at most this relative increase over the baseline, e.g. 10%."},
		limit("max_increase_abs", "Lower is better: at most this absolute increase, in the result's unit."),
		{Name: "max_decrease", Kind: KindShare, Doc: "Higher is better: at most this relative decrease from the baseline."},
		limit("max_decrease_abs", "Higher is better: at most this absolute decrease, in the result's unit."),
		{Name: "severity", Kind: KindEnum, Enum: []string{"error", "warning", "warn"}, Doc: "error (default): a regression fails the budget; warning: it warns."},
	}}
}

// SourceFieldDefs declares the keys of sources.prometheus and sources.loki
// (parseSource reads exactly these).
func SourceFieldDefs() []Field {
	return []Field{
		{Name: "url", Kind: KindURL, Doc: "Base URL; --prometheus/--loki and SECFLOW_*_URL override it."},
		{Name: "timeout", Kind: KindDuration, Doc: "Per request, retries included (default 30s)."},
		{Name: "headers", Kind: KindStringMap, Doc: "Extra headers, e.g. {X-Scope-OrgID: secflow}."},
		{Name: "tenant", Kind: KindString, Doc: "Sent as X-Scope-OrgID (Mimir, Cortex, Loki)."},
		{Name: "bearer_token_file", Kind: KindString, Doc: "File holding the bearer token (re-read on every request)."},
		{Name: "bearer_token_env", Kind: KindString, Doc: "Environment variable holding the bearer token."},
		{Name: "basic_auth", Kind: KindObject, Doc: "HTTP basic auth; the password from a file or an environment variable.", Fields: []Field{
			{Name: "username", Kind: KindString, Required: true},
			{Name: "password_file", Kind: KindString},
			{Name: "password_env", Kind: KindString},
		}},
		{Name: "tls", Kind: KindObject, Doc: "Server verification and client certificate.", Fields: []Field{
			{Name: "ca_file", Kind: KindString},
			{Name: "cert_file", Kind: KindString},
			{Name: "key_file", Kind: KindString},
			{Name: "server_name", Kind: KindString},
			{Name: "insecure_skip_verify", Kind: KindBool},
		}},
		{Name: "proxy_url", Kind: KindURL, Doc: "HTTP proxy."},
		{Name: "retries", Kind: KindInt, Min: Bound(0), Max: Bound(10), Doc: "Retries after the first attempt (default 3)."},
		{Name: "retry_backoff", Kind: KindDuration, Doc: "First wait between attempts (default 250ms)."},
		{Name: "max_response_size", Kind: KindSize, Doc: "Cap on each response body (default 16MiB, at least 1KiB)."},
		{Name: "max_concurrency", Kind: KindInt, Min: Bound(1), Doc: "Cap on this source's requests in flight at once, below --concurrency (default: no cap of its own)."},
	}
}

// DefaultsFieldDefs declares the keys of defaults.
func DefaultsFieldDefs() []Field {
	return []Field{
		{Name: "window", Kind: KindDuration, Doc: "Evaluation window of every budget that sets none (default 1h)."},
		{Name: "on_missing", Kind: KindEnum, Enum: onMissingValues, Doc: "What no data does, for every budget that sets none (default fail)."},
		RegressionFieldDef("regression", "Regression limits of every budget that sets none (SPEC: Regression limits)."),
	}
}

// WaiverFieldDefs declares the keys of each entry of waivers (SPEC:
// Waivers).
func WaiverFieldDefs() []Field {
	return []Field{
		{Name: "budget", Kind: KindString, Required: true, Pattern: NamePattern, Doc: "The name of the budget waived."},
		{Name: "subject", Kind: KindString, Doc: "Only results with this subject, e.g. bytes_per_1h."},
		{Name: "labels", Kind: KindStringMap, Doc: "Only results whose labels include these."},
		{Name: "reason", Kind: KindString, Required: true, Doc: "Why the violation is accepted."},
		{Name: "owner", Kind: KindString, Required: true, Doc: "Who answers for it, e.g. \"@secflow/platform\"."},
		{Name: "expires", Kind: KindString, Required: true, Pattern: `^[0-9]{4}-[0-9]{2}-[0-9]{2}([Tt ].*)?$`, Doc: "A date (end of that day, UTC) or RFC3339 time."},
	}
}

// TopFieldDefs declares the top-level keys of budgets.yaml (besides x-*
// extension keys); budgets' items are described by the caller from the
// type registry.
func TopFieldDefs() []Field {
	return []Field{
		{Name: "version", Kind: KindInt, Required: true, Min: Bound(1), Max: Bound(1), Doc: "The file format's version: 1."},
		{Name: "defaults", Kind: KindObject, Fields: DefaultsFieldDefs(), Doc: "Settings every budget inherits."},
		{Name: "sources", Kind: KindObject, Doc: "Live sources; optional: --prometheus/--loki and SECFLOW_*_URL override them, offline needs none.", Fields: []Field{
			{Name: "prometheus", Kind: KindObject, Fields: SourceFieldDefs(), Doc: "A Prometheus-compatible API (Prometheus, Thanos, Mimir, VictoriaMetrics)."},
			{Name: "loki", Kind: KindObject, Fields: SourceFieldDefs(), Doc: "Grafana Loki."},
		}},
		{Name: "budgets", Kind: KindObjectList, Required: true, Doc: "The budgets."},
		{Name: "waivers", Kind: KindObjectList, Fields: WaiverFieldDefs(), Doc: "Accepted violations, each with a reason, an owner and an expiry (SPEC: Waivers)."},
	}
}
