package logql

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// prefilterExprs are regexps whose prefilters are checked against the
// regexps alone: the redaction presets and folded literals with k and s,
// which U+212A KELVIN SIGN and U+017F LONG S spell under (?i).
var prefilterExprs = []string{
	`(?i)password\s*[=:]\s*\S+`, `AKIA[0-9A-Z]{16}`, `(?i)bearer [a-z0-9._-]{20,}`,
	`-----BEGIN [A-Z ]*PRIVATE KEY-----`, `eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}`,
	`[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}`,
	`(?i)kelvin`, `(?i)secret key`, `(?i)ask`, `(?i)s`, `(?i)k+s`, `(?i)token=\S+`, `(?i)straße`, `(?i)ǆ`,
}

// prefilterAlphabet: pieces random lines are made of, ASCII and not.
var prefilterAlphabet = []string{
	"p", "P", "a", "A", "s", "S", "w", "W", "o", "O", "r", "R", "d", "D", "k", "K", "e", "E", "l", "L",
	"v", "V", "n", "N", "t", "T", "b", "B", "y", "c", "i", "I", "=", ":", " ", "@", ".", "-", "_", "x", "9",
	"\u212a", "\u017f", "\u212b", "é", "É", "ß", "ẞ", "İ", "ı", "ǅ", "ǆ", "Ǆ", "\u00b5", "Ω", "\u2126", "🙂", "\xff", "\xc5",
	"password", "PASSWORD", "pa\u017f\u017fword", "bearer ", "BEARER ", "\u212aelvin", "kelvin", "AKIA", "eyJ", "-----BEGIN ",
	"abcdefghij0123456789", "ABCDEFGHIJKLMNOPQRST", "secret key", "\u017fecret \u212aey", "ask", "a\u017f\u212a", "token=", "straße",
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
