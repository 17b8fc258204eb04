package logql

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// prefilterExprs are regexps whose prefilters are checked against the
// regexps alone: the redaction presets and folded literals with k and s,
// which U+212A KELVIN SIGN and U+017F LONG S spell under (?i).
var prefilterExprs = []string{
	`(?i)password\s*[=:]\s*\S+`, `AKIA[0-9A-Z]{16}`, `(?i)bearer [a-z0-9._-]{20,}`,
	`-----BEGIN [A-Z ]*PRIVATE KEY-----`, `eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`,
	`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`,
	`(?i)kelvin`, `(?i)secret key`, `(?i)ask`, `(?i)s`, `(?i)k+s`, `(?i)token=\S+`, `(?i)straße`, `(?i)ǆ`,
	// Shapes the narrowing (narrow.go) takes or must refuse: a literal in
	// the middle of a word of known bytes, folded, with non-ASCII runes,
	// and context tests a cut line would change.
	`[a-z]+@[a-z]+\.[a-z]{2,}`, `(?i)[a-z]*ask[0-9]+`, `[é-ê]+@x`, `\bask`, `ask\b`, `^ask`, `ask$`, `(?m)^ask`, `x.ask`,
	`(?i)passw(or)d`, `(?:ask)+@`, `ask|bask`, `(ask)\s*=\s*\w+`,
}

// prefilterAlphabet: pieces random lines are made of, ASCII and not.
var prefilterAlphabet = []string{
	"p", "P", "a", "A", "s", "S", "w", "W", "o", "O", "r", "R", "d", "D", "k", "K", "e", "E", "l", "L",
	"v", "V", "n", "N", "t", "T", "b", "B", "y", "c", "i", "I", "=", ":", " ", "@", ".", "-", "_", "x", "9",
	"\u212a", "\u017f", "\u212b", "é", "É", "ß", "ẞ", "İ", "ı", "ǅ", "ǆ", "Ǆ", "\u00b5", "Ω", "\u2126", "🙂", "\xff", "\xc5",
	"password", "PASSWORD", "pa\u017f\u017fword", "bearer ", "BEARER ", "\u212aelvin", "kelvin", "AKIA", "eyJ", "-----BEGIN ",
	"abcdefghij0123456789", "ABCDEFGHIJKLMNOPQRST", "secret key", "\u017fecret \u212aey", "ask", "a\u017f\u212a", "token=", "straße",
	"\"", "\n", "ASK", "ask@x.io", "@", ".io", "é@x",
}

func checkPrefilters(t *testing.T, line string) {
	t.Helper()
	for _, expr := range prefilterExprs {
		f := &lineFilter{op: tPipeMatch, values: []string{expr}}
		if err := f.compile(); err != nil {
			t.Fatal(err)
		}
		want := regexp.MustCompile(expr).MatchString(line)
		if got := f.matches([]byte(line)); got != want {
			t.Fatalf("%s on %q: filter says %v, the regexp alone %v", expr, line, got, want)
		}
		if want && !f.pres[0].mayMatch([]byte(line)) {
			t.Fatalf("%s on %q: the prefilter rejects a line the regexp matches", expr, line)
		}
	}
}

// The prefilter never rejects a line its regexp matches, on random lines
// of ASCII and UTF-8 (and invalid bytes), including the runes that fold
// to ASCII letters.
func TestPrefilterRandomUTF8(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(prefilterAlphabet[rng.IntN(len(prefilterAlphabet))])
		}
		checkPrefilters(t, b.String())
	}
}

// The prefilter's rejections, case by case: what it must let through
// (Unicode folds) and what it may skip.
func TestPrefilterFolds(t *testing.T) {
	for _, c := range []struct {
		expr, line string
		may        bool
	}{
		{`(?i)password\s*[=:]\s*\S+`, "é pa\u017f\u017fword=1", true}, // LONG S folds to s
		{`(?i)password\s*[=:]\s*\S+`, "é PassWord: x", true},
		{`(?i)password\s*[=:]\s*\S+`, "é pass word", false}, // non-ASCII no longer means "may"
		{`(?i)bearer [a-z0-9._-]{20,}`, "ü no token here", false},
		{`(?i)kelvin`, "\u212aELVIN", true}, // KELVIN SIGN folds to k
		{`(?i)kelvin`, "élvin", false},
		{`AKIA[0-9A-Z]{16}`, "akia", false},
	} {
		f := &lineFilter{op: tPipeMatch, values: []string{c.expr}}
		if err := f.compile(); err != nil {
			t.Fatal(err)
		}
		if got := f.pres[0].mayMatch([]byte(c.line)); got != c.may {
			t.Errorf("%s on %q: mayMatch %v, want %v", c.expr, c.line, got, c.may)
		}
		checkPrefilters(t, c.line)
	}
}

// FuzzPrefilter: prefilter and regexp together answer as the regexp alone.
func FuzzPrefilter(f *testing.F) {
	for _, s := range []string{"pa\u017f\u017fword=1", "\u212aelvin", "Bearer abcdefghijklmnopqrstuvwxyz", "é password=1", "x@y.io"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) { checkPrefilters(t, line) })
}

// The one-pass literal search finds a prefilter's literal exactly when
// the prefilter alone says the line may match, and the evaluator answers
// the same with the line prepared apart (PrepareLine, AddPrepared).
func TestLitSetAgreesWithPrefilters(t *testing.T) {
	var pres []prefilter
	for _, expr := range append(prefilterExprs, `(?i)AKIA`, `akia`, `(?i)eyj`, `x@y`, `(?i)ſecret`) {
		pres = append(pres, newPrefilter(expr))
	}
	set, ids := newLitSet(pres)
	if set == nil {
		t.Fatal("no litSet")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	lines := []string{"", "AKIA", "akia", "AkIa", "eyJ", "EYJ", "x@y", "X@Y", "pa\u017f\u017fword", "\u212aelvin", "\u212a", "\u017f"}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(prefilterAlphabet[rng.IntN(len(prefilterAlphabet))])
		}
		lines = append(lines, b.String())
	}
	for _, l := range lines {
		found := set.scan([]byte(l))
		for i, p := range pres {
			if ids[i] < 0 {
				continue
			}
			if got, want := found&(1<<ids[i]) != 0, p.mayMatch([]byte(l)); got != want {
				t.Fatalf("literal %q (fold %v) in %q: one pass says %v, the prefilter %v", p.lit, p.fold, l, got, want)
			}
		}
	}
}

func TestPrepareLineSameAnswers(t *testing.T) {
	var exprs []string
	for _, expr := range prefilterExprs {
		exprs = append(exprs, `sum by (s) (count_over_time({s=~".+"} |~ `+strconv.Quote(expr)+` [1h]))`)
	}
	// | json, with stream labels named like fields (renamed
	// name_extracted), fields named like the renamed ones, duplicates,
	// nesting and broken lines: PrepareLine extracts before it knows
	// the stream.
	exprs = append(exprs,
		`sum by (s, level) (count_over_time({s=~".+"} | json [1h]))`,
		`sum by (s, level, level_extracted) (count_over_time({s=~".+"} | json | __error__="" [1h]))`,
		`sum by (s_extracted, a_b) (count_over_time({s=~".+"} |~ "(?i)password" | json [30m]))`,
		`sum(count_over_time({s=~".+"} | json | level!="" [1h]))`,
		`count_over_time({s="b"} | json | level_extracted_extracted="" | __error__!="" [1h])`,
		// Negated regexp filters: a line without the literals passes.
		`sum by (s) (count_over_time({s=~".+"} !~ "(?i)password *[=:]" [1h]))`,
		`sum by (s) (count_over_time({s=~".+"} !~ "AKIA" !~ "(?i)kelvin" |~ "ask" [1h]))`,
	)
	var qs []*Query
	for _, expr := range exprs {
		q, err := Parse(expr)
		if err != nil {
			t.Fatal(expr, err)
		}
		qs = append(qs, q)
	}
	at := time.Unix(1795718400, 0)
	plain, prepared := NewEvaluator(at, qs...), NewEvaluator(at, qs...)
	rng := rand.New(rand.NewPCG(5, 6))
	keys := []string{"level", "s", "level_extracted", "s_extracted", "level_extracted_extracted", "a", "b"}
	values := []string{`"INFO"`, `"error"`, `""`, `1`, `true`, `null`, `{"b":"x","level":"w"}`, `"pass\u0041"`, `[1]`}
	streams := []map[string]string{{"s": "a"}, {"s": "b", "level": "x"}, {"s": "c", "level_extracted": "y"}, {"s": "d", "a_b": "z"}}
	var scratch LineScratch
	type pending struct {
		st   *Stream
		ts   int64
		line []byte
		p    LinePrep
	}
	var batch []pending
	for n := range 5000 {
		var b strings.Builder
		if rng.IntN(3) == 0 {
			for range rng.IntN(12) {
				b.WriteString(prefilterAlphabet[rng.IntN(len(prefilterAlphabet))])
			}
		} else {
			b.WriteString("{")
			for i := range rng.IntN(6) {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, "%q:%s", keys[rng.IntN(len(keys))], values[rng.IntN(len(values))])
			}
			if rng.IntN(8) > 0 {
				b.WriteString("}")
			}
		}
		line := []byte(b.String())
		lbls := streams[n%len(streams)]
		ts := at.UnixNano() - int64(n)*1e6
		plain.AddLine(plain.Stream(lbls), ts, line)
		// Prepared in batches, as the snapshot reader does: the
		// scratch outlives each line until the batch is added.
		batch = append(batch, pending{prepared.Stream(lbls), ts, line, prepared.PrepareLine(line, ts, &scratch, quoteHint(line))})
		if len(batch) == 64 || n == 4999 {
			for i := range batch {
				prepared.AddPrepared(batch[i].st, batch[i].ts, batch[i].line, &batch[i].p)
			}
			batch = batch[:0]
			scratch.Reset()
		}
	}
	total := 0.0
	for i, q := range qs {
		v1, err1 := plain.Result(i)
		v2, err2 := prepared.Result(i)
		if fmt.Sprint(err1) != fmt.Sprint(err2) || vectorText(v1) != vectorText(v2) {
			t.Errorf("%s: AddLine %s %v, AddPrepared %s %v", q, vectorText(v1), err1, vectorText(v2), err2)
		}
		for _, s := range v1 {
			total += float64(s.Value)
		}
	}
	if total == 0 {
		t.Error("no line matched any query: the test proves nothing")
	}
}

// The length filter in front of parseResult.wants changes no answer.
func TestWantsLengthFilter(t *testing.T) {
	wanted := []string{"level", "service", "trace_id_extracted", "a", strings.Repeat("x", 70), strings.Repeat("y", 70) + "_extracted",
		"_extracted", "span_id"}
	fast := parseResult{wanted: wanted}
	fast.setWantLens()
	slow := parseResult{wanted: wanted, wantLens: ^uint64(0)}
	names := []string{"", "a", "b", "level", "levels", "level_extracted", "service", "service_extracted", "trace_id",
		"trace_id_extracted", "trace_id_extracted_extracted", strings.Repeat("x", 70), strings.Repeat("y", 70), strings.Repeat("y", 71),
		"_extracted", "span_id", "task_id", "span_ix", "lexel", "sevice_"}
	hits := 0
	for _, n := range names {
		if got, want := fast.wants(n), slow.wants(n); got != want {
			t.Errorf("wants(%q) = %v, want %v", n, got, want)
		}
		if slow.wants(n) {
			hits++
		}
	}
	if hits != 10 {
		t.Errorf("%d names wanted, want 10 (\"\" and _extracted for _extracted, a, level, service, span_id, trace_id, trace_id_extracted, x…, y…)", hits)
	}
}

// quoteHint is the LineHint of line, as the snapshot reader gives it.
func quoteHint(line []byte) LineHint {
	if bytes.IndexByte(line, '\\') >= 0 {
		return LineHint{}
	}
	h := LineHint{QuotesKnown: true}
	for i, c := range line {
		if c == '"' {
			h.Quotes = append(h.Quotes, int32(i))
		}
	}
	return h
}

// Which regexps are narrowed, and how: the redaction presets are (so a
// near miss costs one anchored try or a word, not the whole line), and
// context tests and unbounded alphabets are not.
func TestNarrowingKinds(t *testing.T) {
	for _, c := range []struct{ expr, kind string }{
		{`(?i)password\s*[=:]\s*\S+`, "anchored"}, {`(?i)bearer [a-z0-9._-]{20,}`, "anchored"}, {`AKIA[0-9A-Z]{16}`, "anchored"},
		{`-----BEGIN [A-Z ]*PRIVATE KEY-----`, "member"}, {`eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`, "anchored"},
		{`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`, "member"}, {`(?i)[a-z]*ask[0-9]+`, "member"},
		{`\bask`, "none"}, {`ask$`, "anchored"}, {`x.ask`, "none"}, {`[^"]*ask`, "none"}, {`(?i)token=\S+`, "anchored"},
	} {
		f := &lineFilter{op: tPipeMatch, values: []string{c.expr}}
		if err := f.compile(); err != nil {
			t.Fatal(err)
		}
		kind := "none"
		switch n := f.nars[0]; {
		case n.anchored != nil:
			kind = "anchored"
		case n.member != nil:
			kind = "member"
		}
		if kind != c.kind {
			t.Errorf("%s: narrowed %s, want %s", c.expr, kind, c.kind)
		}
	}
	// The word around the @ of an e-mail address: not the quotes.
	f := &lineFilter{op: tPipeMatch, values: []string{`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`}}
	if err := f.compile(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		line string
		want bool
	}{{`{"to":"user@localhost","x":"a.io"}`, false}, {`{"to":"user@example.org"}`, true}, {`"@x.io" a@b "c@d.ef"`, true}} {
		if got := f.matches([]byte(c.line)); got != c.want {
			t.Errorf("%s: %v, want %v", c.line, got, c.want)
		}
	}
}

// Line filters none of whose regexps has a literal (no litSet at all):
// PrepareLine runs them whole, and answers as AddLine does.
func TestPrepareLineWithoutLiterals(t *testing.T) {
	var qs []*Query
	for _, expr := range []string{`sum(count_over_time({s="a"} |~ "\\d{4}" [1h]))`, `sum(count_over_time({s="a"} |= "ab" != "abc" [1h]))`} {
		q, err := Parse(expr)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	at := time.Unix(1795718400, 0)
	plain, prepared := NewEvaluator(at, qs...), NewEvaluator(at, qs...)
	lbls := map[string]string{"s": "a"}
	var scratch LineScratch
	for n, line := range []string{"card 1234", "ab", "abc 9999", "x", "ab 12"} {
		ts := at.UnixNano() - int64(n+1)*1e9
		plain.AddLine(plain.Stream(lbls), ts, []byte(line))
		p := prepared.PrepareLine([]byte(line), ts, &scratch, LineHint{})
		prepared.AddPrepared(prepared.Stream(lbls), ts, []byte(line), &p)
	}
	for i, want := range []string{"{} 2\n", "{} 2\n"} {
		v1, _ := plain.Result(i)
		v2, _ := prepared.Result(i)
		if vectorText(v1) != want || vectorText(v2) != want {
			t.Errorf("%s: AddLine %s, AddPrepared %s, want %s", qs[i], vectorText(v1), vectorText(v2), want)
		}
	}
}

// The literal search 64 bytes at a time (scanBlocks; the reader uses it
// with vector instructions, the test runs it on any CPU) finds what
// looking for each literal in turn finds, on long lines, with literals
// across the blocks' edges.
func TestLitSetBlocksAgree(t *testing.T) {
	groups := [][]string{
		prefilterExprs[:6], // the redaction presets: eight rare bytes
		{`(?i)kelvin`, `(?i)ask`, `eyJ`},
		{`AKIA`, `(?i)password`, `x@y`},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, exprs := range groups {
		var pres []prefilter
		for _, expr := range exprs {
			pres = append(pres, newPrefilter(expr))
		}
		set, _ := newLitSet(pres)
		if set == nil {
			t.Fatalf("%q: no litSet", exprs)
		}
		if set.rare == nil {
			t.Fatalf("%q: no set of rare bytes (at most eight here)", exprs)
		}
		for range 20000 {
			var b strings.Builder
			for n := rng.IntN(300); b.Len() < n; {
				b.WriteString(prefilterAlphabet[rng.IntN(len(prefilterAlphabet))])
			}
			line := []byte(b.String())
			if len(line) > 70 && rng.IntN(2) == 0 {
				// A literal across a block's edge.
				lit := set.lits[rng.IntN(len(set.lits))].lit
				at := 64 - rng.IntN(len(lit)+1)
				copy(line[at:], lit)
			}
			var want uint64
			for id := range set.lits {
				if set.lits[id].in(line) {
					want |= 1 << id
				}
			}
			if got := set.scanBlocks(line); got != want {
				t.Fatalf("%q in %q: 64 bytes at a time %b, one literal at a time %b", exprs, line, got, want)
			}
		}
	}
}
