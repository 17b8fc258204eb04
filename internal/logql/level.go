package logql

import (
	"bytes"
	"unicode"
)

// What Loki adds to entries at ingestion, with its default limits
// (discover_service_name, discover_log_levels, log_level_fields).

const (
	serviceNameLabel   = "service_name"
	unknownService     = "unknown_service"
	detectedLevelLabel = "detected_level"
	errorLabel         = "__error__"
	errorDetailsLabel  = "__error_details__"
)

// serviceNameSources are the labels service_name is copied from, first
// present wins; without any, service_name is unknown_service.
var serviceNameSources = []string{
	"service", "app", "application", "app_name", "name", "app_kubernetes_io_name",
	"container", "container_name", "k8s_container_name", "component", "workload", "job", "k8s_job_name",
}

// levelFields are the stream labels, then the body fields, that hold a
// level, in the order Loki looks for them.
var levelFields = []string{"level", "LEVEL", "Level", "severity", "SEVERITY", "Severity", "lvl", "LVL", "Lvl"}

// Loki's detected_level values.
const (
	levelTrace    = "trace"
	levelDebug    = "debug"
	levelInfo     = "info"
	levelWarn     = "warn"
	levelError    = "error"
	levelCritical = "critical"
	levelFatal    = "fatal"
	levelUnknown  = "unknown"
)

// knownLevel maps the spellings Loki recognises, case-insensitively, to
// its detected_level values.
func knownLevel(v []byte) (string, bool) {
	switch len(v) {
	case 3:
		switch {
		case bytes.EqualFold(v, []byte("trc")):
			return levelTrace, true
		case bytes.EqualFold(v, []byte("dbg")):
			return levelDebug, true
		case bytes.EqualFold(v, []byte("inf")):
			return levelInfo, true
		case bytes.EqualFold(v, []byte("wrn")):
			return levelWarn, true
		case bytes.EqualFold(v, []byte("err")):
			return levelError, true
		}
	case 4:
		switch {
		case bytes.EqualFold(v, []byte("info")):
			return levelInfo, true
		case bytes.EqualFold(v, []byte("warn")):
			return levelWarn, true
		}
	case 5:
		switch {
		case bytes.EqualFold(v, []byte("trace")):
			return levelTrace, true
		case bytes.EqualFold(v, []byte("debug")):
			return levelDebug, true
		case bytes.EqualFold(v, []byte("error")):
			return levelError, true
		case bytes.EqualFold(v, []byte("fatal")):
			return levelFatal, true
		}
	case 7:
		if bytes.EqualFold(v, []byte("warning")) {
			return levelWarn, true
		}
	case 8:
		if bytes.EqualFold(v, []byte("critical")) {
			return levelCritical, true
		}
	}
	return "", false
}

// labelLevel is detected_level for a stream with a level label: a known
// spelling normalised, anything else as it is (label crit gives "crit").
func labelLevel(v string) string {
	if l, ok := knownLevel([]byte(v)); ok {
		return l
	}
	return v
}

// bodyLevel is detected_level for an entry of a stream without a level
// label: the level field of a JSON or logfmt body when it is a known
// spelling, else a guess from words in the line.
func bodyLevel(line []byte, arena *[]byte) string {
	var v []byte
	switch {
	case looksLikeJSON(line):
		f := jsonLevelFinder{best: len(levelFields)}
		_ = jsonObjectEach(line, &f, arena)
		v = f.val
	case bytes.IndexByte(line, '=') >= 0:
		v = logfmtLevel(line)
	default:
		return guessLevel(line)
	}
	if l, ok := knownLevel(v); ok {
		return l
	}
	return guessLevel(line)
}

// looksLikeJSON: the first and last non-blank characters are braces.
func looksLikeJSON(line []byte) bool {
	first := bytes.IndexFunc(line, func(r rune) bool { return !unicode.IsSpace(r) })
	if first < 0 || line[first] != '{' {
		return false
	}
	for i := len(line) - 1; i >= 0; i-- {
		if !unicode.IsSpace(rune(line[i])) {
			return line[i] == '}'
		}
	}
	return false
}

// guessLevel is Loki's last resort: words in the line, in this order.
func guessLevel(line []byte) string {
	has := func(s string) bool { return bytes.Contains(line, []byte(s)) }
	switch {
	case has("info") || has("INFO"):
		return levelInfo
	case has("err:") || has("ERR:") || has("error") || has("ERROR"):
		return levelError
	case has("warn:") || has("WARN:") || has("warning") || has("WARNING"):
		return levelWarn
	case has("CRITICAL:") || has("critical:"):
		return levelCritical
	case has("debug:") || has("DEBUG:"):
		return levelDebug
	}
	return levelUnknown
}
