package checks

import "strings"

// The canonical log levels, in display order. Every line belongs to exactly
// one of them: a level not in the table, an empty one or none is UNKNOWN.
var logLevels = []string{"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "UNKNOWN"}

var levelAliases = func() map[string]string {
	m := map[string]string{}
	for level, spellings := range map[string][]string{
		"DEBUG":    {"debug", "dbug", "trace"},
		"INFO":     {"info", "information", "informational", "notice"},
		"WARNING":  {"warn", "warning"},
		"ERROR":    {"err", "error", "eror"},
		"CRITICAL": {"crit", "critical", "fatal", "panic", "alert", "emerg", "emergency"},
		"UNKNOWN":  {"unknown"},
	} {
		for _, s := range spellings {
			m[s] = level
		}
	}
	return m
}()

// normalizeLevel maps a level as logged (any case, any alias) to its
// canonical name.
func normalizeLevel(s string) string {
	if l, ok := levelAliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return l
	}
	return "UNKNOWN"
}
