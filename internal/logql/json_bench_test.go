package logql

import (
	"testing"
)

// benchJSONLine is a typical line of the repo's generated logs.
const benchJSONLine = `{"ts":"2026-11-26T10:58:59.998Z","level":"INFO","msg":"request completed","method":"POST","path":"/api/v1/scans","status":400,"duration_ms":56.38,"request_id":"93f189b950634144","remote_ip":"10.42.112.153","bytes":6405,"user_agent":"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"}`

// BenchmarkExtractJSON is `| json` on a typical line when a query reads
// the level and the service (as the log_levels budget's does).
func BenchmarkExtractJSON(b *testing.B) {
	res := parseResult{wanted: []string{"__error__", "level", "service"}}
	res.setWantLens()
	line := []byte(benchJSONLine)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		res.reset()
		extractJSON(&res, noLabels, line)
		if len(res.pairs) != 1 || res.errType != "" {
			b.Fatal(res.pairs, res.errType)
		}
	}
}

// BenchmarkExtractJSONQuoted is BenchmarkExtractJSON with the quote
// offsets the snapshot reader finds while unescaping the line.
func BenchmarkExtractJSONQuoted(b *testing.B) {
	res := parseResult{wanted: []string{"__error__", "level", "service"}}
	res.setWantLens()
	line := []byte(benchJSONLine)
	h := quoteHint(line)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		res.reset()
		if !extractJSONQuoted(&res, noLabels, line, h.Quotes) || len(res.pairs) != 1 || res.errType != "" {
			b.Fatal(res.pairs, res.errType)
		}
	}
}

// benchRedactionExprs are the redaction presets' regexps.
var benchRedactionExprs = []string{`AKIA[0-9A-Z]{16}`, `(?i)bearer [a-z0-9._-]{20,}`, `(?i)password\s*[=:]\s*\S+`,
	`-----BEGIN [A-Z ]*PRIVATE KEY-----`, `eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`,
	`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`}

// BenchmarkLitScan looks for the redaction presets' literals in a
// typical line (none of them is there).
func BenchmarkLitScan(b *testing.B) {
	var pres []prefilter
	for _, e := range benchRedactionExprs {
		pres = append(pres, newPrefilter(e))
	}
	set, _ := newLitSet(pres)
	line := []byte(benchJSONLine)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if set.scan(line) != 0 {
			b.Fatal("a literal found")
		}
	}
}
