package logql

import "testing"

// TestHostileDetectedLevel pins detected_level to Loki 3.7's rules
// (pkg/distributor/field_detection.go): "information" is info (3.6), a
// line without a level field is guessed from whole words, the earliest
// in the line winning, and level fields are found as Loki finds them.
func TestHostileDetectedLevel(t *testing.T) {
	for _, c := range []struct {
		labels map[string]string
		line   string
		want   string
	}{
		// Words in a plain line: whole words only, earliest first.
		{nil, "retrying after error, info will follow", levelError},
		{nil, "informational message only", levelUnknown},
		{nil, "fatal: out of memory", levelFatal},
		{nil, "critical failure in module", levelCritical},
		{nil, "info: debug mode on", levelInfo},
		{nil, "debug: info follows", levelDebug},
		{nil, "WARNING disk at 91%", levelWarn},
		{nil, "Warn: slow", levelWarn},
		{nil, "[ERR] refused", levelError},
		{nil, "trace(id) started", levelTrace},
		{nil, "an error", levelError},
		{nil, "errors happened", levelUnknown},     // no whole word
		{nil, "xerror happened", levelUnknown},     // no left boundary
		{nil, "misc:error happened", levelUnknown}, // ':' is no left boundary
		{nil, "debug.log rotated", levelUnknown},   // '.' is no right boundary
		{nil, "terrible errand; info", levelInfo},  // "err" inside words does not count
		{nil, "the infos, then info!", levelInfo},  // a later whole word counts
		{nil, "İNFO started", levelInfo},           // Unicode lower-casing, as strings.ToLower
		{nil, "ÉRROR, then WARN", levelWarn},       // 'é' is no 'e'
		{nil, "", levelUnknown},
		// Level fields of a JSON line: document order, one object deep.
		{nil, `{"level":"Information","msg":"x"}`, levelInfo},
		{nil, `{"severity":"critical","level":"error"}`, levelCritical},
		{nil, `{"log":{"level":"warn"},"level":"error"}`, levelWarn},
		{nil, `{"a":{"b":{"level":"information"}}}`, levelUnknown}, // too deep; no whole word either
		{nil, `{"log.level":"dbg"}`, levelDebug},
		{nil, `{"SeverityText":"FATAL"}`, levelFatal},
		{nil, `{"lEvEl":"information"}`, levelUnknown},
		{nil, `{"level":30,"msg":"fatal: no"}`, levelFatal},
		// Logfmt: keys case-insensitive, the earliest name of the list wins.
		{nil, `severity=critical level=warn`, levelWarn},
		{nil, `SEVERITY=fatal msg=x`, levelFatal},
		{nil, `lvl=information msg=x`, levelInfo},
		{nil, `level="WARN" msg=x`, levelWarn},
		{nil, `lvl=dbug entering loop`, levelUnknown},
		// Stream labels, in the list's order; unknown values stay as they are.
		{map[string]string{"level": "Information"}, "x", levelInfo},
		{map[string]string{"level": "crit"}, "error", "crit"},
		{map[string]string{"severity_text": "WRN"}, "x", levelWarn},
		{map[string]string{"Severity": "err", "lvl": "info"}, "x", levelError},
	} {
		if got := DetectedLevel(c.labels, c.line); got != c.want {
			t.Errorf("DetectedLevel(%v, %q) = %q, want %q", c.labels, c.line, got, c.want)
		}
	}
}
