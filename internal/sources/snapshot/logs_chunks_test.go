package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/secflow/secflow-budget/internal/logql"
)

// chunkTestLogs is a file of several reading chunks (chunkBytes): entries
// of four streams with JSON, logfmt and plain bodies, escapes, UTF-8 and
// surrogate pairs, secrets for the redaction patterns, blank and CRLF
// lines, entries outside the window, and keys in either order.
func chunkTestLogs(lines int) string {
	rng := rand.New(rand.NewPCG(7, 8))
	streams := []string{`{"service":"api","env":"prod"}`, `{"service":"worker","env":"prod","level":"WARN"}`,
		`{"env":"prod","service":"scanner"}`, `{"service":"api","env":"dev"}`}
	bodies := []string{
		`{\"level\":\"info\",\"msg\":\"ok\",\"n\":1}`,
		`{\"level\":\"ERROR\",\"msg\":\"caf\u00e9 \ud83d\ude00 K\u212a\",\"nested\":{\"level\":\"x\"}}`,
		`{\"msg\":\"no level\",\"level\":\"warn\",\"level\":\"error\"}`,
		`{\"level\":\"info\" trailing garbage`,
		`level=warn msg=\"a b\" token=abc`,
		`Authorization: Bearer abcdefghijklmnopqrstuvwxyz0123`,
		`user password = hunter2 from \u017fomewhere`,
		`pa\u017f\u017fword: x`,
		`key AKIAABCDEFGHIJKLMNOP leaked`,
		`jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U`,
		`mail to a.b@example.com`,
		`-----BEGIN RSA PRIVATE KEY-----`,
		`\t tabbed \\ backslash \/ slash \"quoted\"`,
		`plain text line with nothing`,
	}
	at := evalAt.UnixNano()
	var b strings.Builder
	for i := range lines {
		ts := at - int64(i)*int64(3*time.Second/2) - int64(rng.IntN(1000))
		if i%97 == 0 {
			ts = at + int64(time.Minute) // after the time: outside every window
		}
		st := streams[rng.IntN(len(streams))]
		body := bodies[rng.IntN(len(bodies))]
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, `{"line":"%s","labels":%s,"ts":"%d"}`+"\n", body, st, ts)
		case 1:
			fmt.Fprintf(&b, `{"ts":"%d","labels":%s,"line":"%s"}`+"\r\n", ts, st, body)
		case 2:
			fmt.Fprintf(&b, `{"ts":%d, "labels":%s, "line":"%s", "extra":[1,{"a":2}]}`+"\n\n", ts, st, body)
		default:
			fmt.Fprintf(&b, `{"ts":"%d","labels":%s,"line":"%s"}`+"\n", ts, st, body)
		}
	}
	return b.String()
}

var chunkTestQueries = append([]string{
	`sum by (service, level) (count_over_time({env=~".+"} | json | __error__="" [1h]))`,
	`sum by (service, __error__) (count_over_time({env=~".+"} | json [1h]))`,
	`sum by (service, level) (count_over_time({env=~".+"} | logfmt [1h]))`,
	`sum by (detected_level) (bytes_over_time({env=~".+"} [1h]))`,
	`sum by (service) (count_over_time({env=~".+"} |= "caf" != "K" [1h]))`,
}, benchLogQueries...)

func logResults(t *testing.T, files map[string]string) (map[string]string, error) {
	t.Helper()
	s := mustOpen(t, writeSnapshot(t, files))
	ans, err := s.LogQL(context.Background(), evalAt, chunkTestQueries)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, q := range chunkTestQueries {
		v, err := ans.Query(context.Background(), q, evalAt)
		out[q] = fmt.Sprint(v, err)
	}
	return out, nil
}

// Reading a file in chunks on several goroutines answers exactly as
// reading it line by line (the gzip path): same counts for every query.
func TestLogsChunkedSameAsLineByLine(t *testing.T) {
	content := chunkTestLogs(12000)
	if len(content) < 4*chunkBytes {
		t.Fatalf("%d bytes: want several chunks of %d", len(content), chunkBytes)
	}
	plain, err := logResults(t, map[string]string{"logs.jsonl": content})
	if err != nil {
		t.Fatal(err)
	}
	gz, err := logResults(t, map[string]string{"logs.jsonl.gz": gzipped(t, content)})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range chunkTestQueries {
		if plain[q] != gz[q] {
			t.Errorf("%s:\nchunked      %s\nline by line %s", q, plain[q], gz[q])
		}
	}
	// Not vacuous: the patterns and the json levels found lines.
	for _, q := range []string{chunkTestQueries[0], benchLogQueries[3], benchLogQueries[5], benchLogQueries[8]} {
		if !strings.Contains(plain[q], "=>") || strings.Contains(plain[q], "=> 0 @") {
			t.Errorf("%s: %s: want counts", q, plain[q])
		}
	}
}

// Errors deep in a file name the same line, chunked or line by line.
func TestLogsChunkedErrorLines(t *testing.T) {
	content := chunkTestLogs(9000)
	lines := strings.SplitAfter(content, "\n")
	at := func(n int, bad string) string { // line n (1-based) replaced
		c := append([]string(nil), lines...)
		c[n-1] = bad + "\n"
		return strings.Join(c, "")
	}
	first := lines[0]
	for _, tc := range []struct {
		name  string
		files map[string]string
		line  int
		want  string
	}{
		{"bad json", map[string]string{"logs.jsonl": at(7001, `{"ts":"1795694340000000000","labels":{"service":"api"},"line":"x"`)}, 7001, "invalid JSON"},
		{"bad label", map[string]string{"logs.jsonl": at(5003, `{"ts":"1795694340000000000","labels":{"9x":"api"},"line":"x"}`)}, 5003, "invalid label name"},
		{"bad escape", map[string]string{"logs.jsonl": at(4001, `{"ts":"1795694340000000000","labels":{"a":"b"},"line":"x\q"}`)}, 4001, "bad escape"},
		{"bad unicode escape", map[string]string{"logs.jsonl": at(4001, `{"ts":"1795694340000000000","labels":{"a":"b"},"line":"\ud83d\uzz"}`)}, 4001, `bad \u escape`},
		// Line 1 is outside the window: line 2 is the first entry kept.
		{"appended to itself", map[string]string{"logs.jsonl": content + content}, len(lines) + 1, "the same entry as line 2 "},
		{"same first entry", map[string]string{"a.jsonl": content, "b.jsonl": "\n\n" + first}, 3, "begins with the same entry as"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check := func(files map[string]string) string {
				_, err := logResults(t, files)
				var ce *CorruptError
				if !errors.As(err, &ce) || ce.Line != tc.line || !strings.Contains(ce.Msg, tc.want) {
					t.Fatalf("got %v, want line %d: ...%s...", err, tc.line, tc.want)
				}
				return ce.Msg
			}
			msg := check(tc.files)
			gz := map[string]string{}
			for name, c := range tc.files {
				gz[name+".gz"] = gzipped(t, c)
			}
			if msgGz := check(gz); noDirs(msgGz) != noDirs(msg) {
				t.Errorf("chunked: %s\nline by line: %s", msg, msgGz)
			}
		})
	}
}

// One pass that checks and unescapes a string does what scanning it and
// then unescaping it did, errors included.
func TestScanJSONStringUnquote(t *testing.T) {
	pieces := []string{`a`, `é`, `\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u00e9`, `\ud83d\ude00`, `\ud83d`, `\ude00`,
		`\ud83dx`, `\ud83d\u0041`, `\uzzzz`, `\u12`, `\q`, "\x01", "\t", `\`, `"`, "🙂", "\xff", `\u0000`, `\uDBFF\uDFFF`,
		"abcdefghijklmnopqrstuvwxyz0123456789", "{:plain words of JSON-in-JSON,}", "\x1f\x7f\x80"}
	rng := rand.New(rand.NewPCG(9, 10))
	for range 50000 {
		var b strings.Builder
		b.WriteByte('"')
		for range rng.IntN(10) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		if rng.IntN(8) > 0 {
			b.WriteByte('"')
		}
		s := []byte(b.String())
		end, _, msg := scanJSONString(s, 0)
		var want []byte
		if msg == "" {
			want, _ = logql.AppendUnquoted([]byte("pre"), s[1:end-1])
		}
		pre := make([]byte, 3, 3+rng.IntN(64)) // with room to spare, or none
		copy(pre, "pre")
		var qs []int32
		gotEnd, got, plain, gotMsg := scanJSONStringUnquote(s, 0, pre, &qs)
		if gotMsg != msg || (msg == "" && (gotEnd != end || string(got) != string(want))) {
			t.Fatalf("%q: one pass %d %q %q, two %d %q %q", s, gotEnd, got, gotMsg, end, want, msg)
		}
		if msg != "" {
			continue
		}
		// The quote offsets, when plain, are every quote of the text
		// (after "pre"), and it has no backslash.
		text := got[3:]
		if wantPlain := !bytes.Contains(s[:end], []byte(`\\`)) && !bytes.Contains(s[:end], []byte(`\u`)); plain != wantPlain {
			t.Fatalf("%q: plain %v, want %v", s, plain, wantPlain)
		}
		var wantQs []int32
		for i, c := range text {
			if c == '"' {
				wantQs = append(wantQs, int32(i))
			}
		}
		if plain && (fmt.Sprint(qs) != fmt.Sprint(wantQs) || bytes.IndexByte(text, '\\') >= 0) {
			t.Fatalf("%q: quotes at %v, want %v (text %q)", s, qs, wantQs, text)
		}
	}
}

// noDirs drops the directories and .gz of the file names in msg.
func noDirs(msg string) string {
	return strings.ReplaceAll(regexp.MustCompile(`\S*/`).ReplaceAllString(msg, ""), ".gz", "")
}

// parseTS reads 19 digits as strconv does, at the edges too.
func TestParseTS19Digits(t *testing.T) {
	for _, raw := range []string{"1795690740000171393", "9223372036854775807", "9223372036854775808", "9999999999999999999",
		"0000000000000000001", "0000000000123456789", "0100000000000000000", "0099999999999999999", "179569074000017139x", "1795690740000171393"} {
		ns, msg := parseTS([]byte(raw), true)
		var want int64
		var wantMsg string
		if v, err := strconv.ParseInt(raw, 10, 64); err != nil {
			if _, err := strconv.ParseUint(raw, 10, 64); err == nil {
				wantMsg = "ts: out of range for unix nanoseconds"
			} else {
				wantMsg = "ts: bad timestamp: want unix nanoseconds (\"1795718400000000000\") or RFC3339 (\"2026-11-26T18:40:00.123456789Z\")"
			}
		} else if v < minLogTS {
			wantMsg = tsUnitProblem(v, len(raw))
		} else {
			want = v
		}
		if ns != want || msg != wantMsg {
			t.Errorf("parseTS(%s) = %d %q, want %d %q", raw, ns, msg, want, wantMsg)
		}
	}
}

// The fast path (unquoteSimple: the reader takes it with vector
// instructions, the test on any CPU, with the portable masks) gives what
// the general loop gives, on long strings of JSON bodies, over many 64-byte blocks, with
// a backslash at every place of a block, and gives up on every string
// that is not its kind.
func TestUnquoteSimpleAgrees(t *testing.T) {
	pieces := []string{`\"`, `\"`, `\"`, `a`, `level`, `:`, `,`, `{`, `}`, ` `, `é`, "🙂", `0123456789abcdef`,
		`Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0`}
	rare := []string{`\\`, `\n`, `\u00e9`, `\/`, "\x01", `"`, `\`, `\q`}
	rng := rand.New(rand.NewPCG(11, 12))
	simple := 0
	for n := range 30000 {
		var b strings.Builder
		b.WriteByte('"')
		size := rng.IntN(400)
		for b.Len() < size {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		if rng.IntN(10) == 0 {
			b.WriteString(rare[rng.IntN(len(rare))])
			for range rng.IntN(20) {
				b.WriteString(pieces[rng.IntN(len(pieces))])
			}
		}
		if rng.IntN(20) > 0 {
			b.WriteByte('"')
		}
		b.WriteString(strings.Repeat("}", rng.IntN(100))) // what follows the string
		s := []byte(b.String())
		if n%7 == 0 && len(s) > 70 {
			// A backslash-quote across a block's edge.
			at := 1 + 64*rng.IntN(len(s)/64) - rng.IntN(2)
			if at > 0 && at+1 < len(s) {
				s[at], s[at+1] = '\\', '"'
			}
		}
		pre := []byte("pre")
		wantQs := []int32{7}
		wantEnd, want, wantPlain, wantMsg := unquoteGeneral(s, 0, slices.Clone(pre), &wantQs)
		gotQs := []int32{7}
		gotEnd, got, ok := unquoteSimple(s, 0, slices.Clone(pre), &gotQs)
		if !ok {
			if len(gotQs) != 1 {
				t.Fatalf("%q: gave up with quotes %v, want them as they were", s, gotQs)
			}
			// It may give up only on what is not its kind: another
			// escape, a control character, no closing quote.
			if wantMsg == "" && wantPlain && !bytes.Contains(s[:wantEnd], []byte(`\n`)) && !bytes.Contains(s[:wantEnd], []byte(`\/`)) && !bytes.Contains(s[:wantEnd], []byte("\x01")) {
				t.Fatalf("%q: gave up on a string of only \\\" escapes", s)
			}
			continue
		}
		simple++
		if wantMsg != "" || !wantPlain || gotEnd != wantEnd || string(got) != string(want) || fmt.Sprint(gotQs) != fmt.Sprint(wantQs) {
			t.Fatalf("%q:\nfast    %d %q %v\ngeneral %d %q %v plain %v %q", s, gotEnd, got, gotQs, wantEnd, want, wantQs, wantPlain, wantMsg)
		}
	}
	if simple < 20000 {
		t.Errorf("only %d of 30000 strings took the fast path", simple)
	}
}

// parseTS reads 19 characters as the long way (strconv) does, whether
// they are all digits or not, out of range, or below minLogTS.
func TestParseTS19Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	for range 200000 {
		raw := []byte(strconv.FormatUint(rng.Uint64()%10_000_000_000_000_000_000, 10))
		for len(raw) < 19 {
			raw = append([]byte{'0'}, raw...)
		}
		if rng.IntN(4) == 0 {
			raw[rng.IntN(19)] = byte(rng.IntN(256))
		}
		ns, msg := parseTS(raw, true)
		var want int64
		var wantMsg string
		if v, err := strconv.ParseUint(string(raw), 10, 64); err == nil && bytes.IndexFunc(raw, func(r rune) bool { return r < '0' || r > '9' }) < 0 {
			switch {
			case v > math.MaxInt64:
				wantMsg = "ts: out of range for unix nanoseconds"
			case int64(v) < minLogTS:
				wantMsg = tsUnitProblem(int64(v), 19)
			default:
				want = int64(v)
			}
		} else {
			// Not all digits: refused (as a bad timestamp, or RFC3339
			// it cannot be at 19 bytes with a digit changed).
			if msg == "" || ns != 0 {
				t.Fatalf("%q: %d %q, want it refused", raw, ns, msg)
			}
			continue
		}
		if ns != want || msg != wantMsg {
			t.Fatalf("%q: %d %q, want %d %q", raw, ns, msg, want, wantMsg)
		}
	}
}
