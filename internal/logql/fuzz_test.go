package logql

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzLinePipeline runs lines through the json and logfmt stages, label
// filters on what they extract, and detected_level: whatever the line
// holds, the evaluator answers (or reports Loki's pipeline error) and
// never panics. Seeds: the lines of the recorded Loki data.
func FuzzLinePipeline(f *testing.F) {
	for _, rel := range []string{"logs.jsonl", "structure/logs.jsonl"} {
		fh, err := os.Open(filepath.Join(recordedDir, rel))
		if err != nil {
			f.Fatalf("seed corpus: %v", err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 1<<20)
		for n := 0; sc.Scan(); n++ {
			if n%37 != 0 { // a sample of every shape, not all 6,000 lines
				continue
			}
			var e struct {
				Line string `json:"line"`
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				f.Fatalf("seed corpus: %s: %v", rel, err)
			}
			f.Add(e.Line)
		}
		fh.Close()
	}
	for _, s := range []string{
		`{"level":"info","log":{"level":"warn"},"a":[1,{"b":2}],"c":null,"d":"\u00e9\ud800"}`,
		`level="WARN" msg="a \"quoted\" word" =bad trace.id=1 trace_id= trace_id="x y"`,
		"İNFO started, then error: no",
		`{"level":1e999,"level":"error"}`,
		`{"a":{"b":{"c":{"d":{"level":"fatal"}}}}}`,
	} {
		f.Add(s)
	}
	at := time.Unix(1795718400, 0)
	var queries []*Query
	for _, q := range []string{
		`sum by (level, detected_level) (count_over_time({s="a"} | json | __error__="" [1h]))`,
		`sum by (level, trace_id) (count_over_time({s="a"} | logfmt | trace_id!="" [1h]))`,
		`sum by (level) (count_over_time({s="a"} | json level="level", msg="log.msg" [1h]))`,
		`sum by (__error__) (count_over_time({s="a"} | json | __error__!="" [1h]))`,
		`sum(bytes_over_time({s="a"} |~ "(?i)error" | logfmt | level=~"(?i)err.*" [1h]))`,
		`count_over_time({s="a"} | json | drop __error__, __error_details__ [1h])`,
	} {
		parsed, err := Parse(q)
		if err != nil {
			f.Fatalf("%s: %v", q, err)
		}
		queries = append(queries, parsed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if got, want := guessLevel([]byte(line)), referenceGuess(line); got != want {
			t.Errorf("guessLevel(%q) = %s, the reference says %s", line, got, want)
		}
		if DetectedLevel(nil, line) == "" {
			t.Errorf("no detected_level for %q", line)
		}
		ev := NewEvaluator(at, queries...)
		ev.Add(Entry{TS: at.UnixNano() - 1, Labels: map[string]string{"s": "a"}, Line: line})
		ev.Add(Entry{TS: at.UnixNano() - 2, Labels: map[string]string{"s": "a", "level": "Information"}, Line: line})
		for i := range queries {
			_, _ = ev.Result(i)
		}
	})
}

// referenceGuess is Loki 3.7's line guess written plainly: for each word,
// its first whole-word occurrence in the lower-cased line; the earliest
// of them wins.
func referenceGuess(line string) string {
	lower := strings.ToLower(line)
	words := []struct{ word, level string }{
		{"trace", levelTrace}, {"debug", levelDebug}, {"fatal", levelFatal}, {"critical", levelCritical},
		{"error", levelError}, {"err", levelError}, {"warning", levelWarn}, {"warn", levelWarn}, {"info", levelInfo},
	}
	best, level := len(lower)+1, levelUnknown
	for _, w := range words {
		for off := 0; ; {
			i := strings.Index(lower[off:], w.word)
			if i < 0 {
				break
			}
			i += off
			end := i + len(w.word)
			if (i == 0 || strings.IndexByte(" \t\n[({\"=", lower[i-1]) >= 0) &&
				(end == len(lower) || strings.IndexByte(" \t\n[](){}:,!\"=", lower[end]) >= 0) {
				if i < best {
					best, level = i, w.level
				}
				break
			}
			off = i + 1
		}
	}
	return level
}
