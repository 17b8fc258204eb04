package logql

import (
	"bytes"
	"unicode"
	"unicode/utf8"
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

// levelFields are the names that hold a level, in Loki's order of
// preference (validation.DefaultAllowedLevelFields of Loki 3.7): stream
// labels are looked up in this order (a label name cannot hold the dot
// of log.level), logfmt keys match them case-insensitively with the
// earliest name winning, JSON keys match them exactly in document order.
var levelFields = []string{
	"level", "LEVEL", "Level", "log.level", "severity", "SEVERITY", "Severity", "SeverityText",
	"lvl", "LVL", "Lvl", "severity_text", "Severity_Text", "SEVERITY_TEXT",
}

// jsonLevelMaxDepth is Loki's default log_level_from_json_max_depth: the
// top-level object is depth 0, and objects nested in it (depth 1) are
// searched too, deeper ones not.
const jsonLevelMaxDepth = 2

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
	case 11: // since Loki 3.6
		if bytes.EqualFold(v, []byte("information")) {
			return levelInfo, true
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
		v = jsonLevel(line, 0, arena)
	case bytes.IndexByte(line, '=') >= 0:
		v = logfmtLevel(line, arena)
	default:
		return guessLevel(line)
	}
	if l, ok := knownLevel(v); ok {
		return l
	}
	return guessLevel(line)
}

// looksLikeJSON: the first non-blank character is '{' and the last
// non-blank byte is '}' (Loki reads the end byte by byte).
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

// lineWords are the words Loki 3.7 looks for in a line that names no
// level, and the level each gives, by their first letter. With the word
// boundaries, at most one of them can match at any offset ("err" in
// "error" has no boundary after it).
var lineWords = [26][]struct{ word, level string }{
	'c' - 'a': {{"critical", levelCritical}},
	'd' - 'a': {{"debug", levelDebug}},
	'e' - 'a': {{"error", levelError}, {"err", levelError}},
	'f' - 'a': {{"fatal", levelFatal}},
	'i' - 'a': {{"info", levelInfo}},
	't' - 'a': {{"trace", levelTrace}},
	'w' - 'a': {{"warning", levelWarn}, {"warn", levelWarn}},
}

// guessLevel is Loki's last resort (3.7): the level word that occurs
// first in the lower-cased line as a whole word, else unknown. So
// "retrying after error, info will follow" is error and "informational"
// is no info.
func guessLevel(line []byte) string {
	hay, fold := line, true
	for _, c := range line {
		if c >= utf8.RuneSelf {
			// Loki lower-cases the line with strings.ToLower and
			// searches the result.
			hay, fold = bytes.ToLower(line), false
			break
		}
	}
	for i := 0; i < len(hay); i++ {
		if i > 0 && !leftBoundary(hay[i-1]) {
			continue
		}
		c := hay[i]
		if fold {
			c |= 0x20
		}
		if c < 'a' || c > 'z' {
			continue
		}
		for _, w := range lineWords[c-'a'] {
			end := i + len(w.word)
			if end <= len(hay) && matchAt(hay[i:end], w.word, fold) && (end == len(hay) || rightBoundary(hay[end])) {
				return w.level
			}
		}
	}
	return levelUnknown
}

func matchAt(b []byte, word string, fold bool) bool {
	for j := 0; j < len(word); j++ {
		c := b[j]
		if fold {
			c |= 0x20 // word is letters only: this folds ASCII letters and nothing else into them
		}
		if c != word[j] {
			return false
		}
	}
	return true
}

// leftBoundary: what may stand before a level word. Not ':' (in
// "misc:error" the word is a value, not a level).
func leftBoundary(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '[', '(', '{', '"', '=':
		return true
	}
	return false
}

// rightBoundary: what may stand after a level word, ':' included
// ("debug: message").
func rightBoundary(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '[', ']', '(', ')', '{', '}', ':', ',', '!', '"', '=':
		return true
	}
	return false
}
