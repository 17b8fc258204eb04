package snapshot

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// decodeOnce runs decode on line with fresh buffers and says all it gave.
func decodeOnce(line []byte, decode func(b []byte, dst *[]byte, qs *[]int32) (rawEntry, string)) string {
	dst, qs := []byte("pre"), []int32{7}
	e, msg := decode(line, &dst, &qs)
	return fmt.Sprintf("msg=%q blank=%v ts=%d labels=%q text=%d:%d line=%q quotes=%d:%d plain=%v dst=%q qs=%v",
		msg, e.blank, e.ts, e.labels, e.textStart, e.textEnd, e.line, e.quotesFrom, e.quotesTo, e.plain, dst, qs)
}

// mutate changes line a little: a byte replaced, dropped or added
// (often near the parts the fast path looks at), blanks, another key
// order.
func mutate(rng *rand.Rand, line []byte) []byte {
	b := slices.Clone(line)
	at := func() int {
		if rng.IntN(2) == 0 && len(b) > 0 {
			return rng.IntN(min(len(b), 90)) // the ts and the labels
		}
		return rng.IntN(len(b) + 1)
	}
	tokens := []byte{'"', '\\', '{', '}', ',', ':', ' ', '0', 'x', '\n', 0x01, 0xff}
	for range 1 + rng.IntN(2) {
		switch i := at(); rng.IntN(4) {
		case 0:
			if i < len(b) {
				b[i] = tokens[rng.IntN(len(tokens))]
			}
		case 1:
			if i < len(b) {
				b = slices.Delete(b, i, i+1)
			}
		case 2:
			b = slices.Insert(b, i, tokens[rng.IntN(len(tokens))])
		default:
			if i := len(b) - rng.IntN(3); i >= 0 && i <= len(b) {
				b = slices.Insert(b, i, ' ')
			}
		}
	}
	return b
}

// The fast path gives exactly what the general decoder gives (entry,
// unescaped text, quote offsets, error), on the shipped snapshot's lines,
// on other shapes of entry, and on thousands of broken variants; the
// labels cache, kept across lines as the reader keeps it, changes no
// answer.
func TestDecodeEntryFastAgrees(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "..", "testdata", "snapshots", "healthy", "logs.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, MaxLogLineBytes)
	for sc.Scan() && len(lines) < 3000 {
		lines = append(lines, slices.Clone(sc.Bytes()))
	}
	if len(lines) < 3000 {
		t.Fatalf("only %d lines in the healthy snapshot", len(lines))
	}
	lines = append(lines,
		[]byte(`{"ts":"2026-11-26T11:59:00Z","labels":{"service":"api"},"line":"x"}`),
		[]byte(`{"ts":1795694340000000000,"labels":{"service":"api"},"line":"x"}`),
		[]byte(`{"labels":{"service":"api"},"ts":"1795694340000000000","line":"x"}`),
		[]byte(`{"ts":"1795694340000000000","labels":{"service":"api"},"line":"x","line":"y"}`),
		[]byte(`{"ts":"1795694340000000000","labels":{"service":"api"},"line":"x"} `),
		[]byte(`{"ts":"1795694340000000000","labels":{"serv\u0069ce":"api"},"line":"x\ny"}`),
		[]byte(`{"ts":"1795694340000000000","labels":{"service":"api"},"line":"x"}}`),
		[]byte(`{"ts":"1795694340000000000","labels":{"service":"api"},"line":"x"`),
		[]byte(`{"ts":"17956943400000000\u0030","labels":{"service":"api"},"line":"x"}`),
		[]byte(`{"ts":"1795694","labels":{"service":"api"},"line":"x"}`),
		[]byte(`{"ts":"1795694340000000000","labels":{},"line":"x"}`),
		[]byte(`{"ts":"1795694340000000000","labels":{"service":"api"},"line":""}`),
		[]byte(`{"ts":"1795694340000000000","labels":{"service":"api","service":"x"},"line":"x"}`),
		[]byte(`{"ts":"1795694340000000000","labels":{"service":"api"},"line":"x","extra":1}`),
	)
	rng := rand.New(rand.NewPCG(21, 22))
	for range 30000 {
		lines = append(lines, mutate(rng, lines[rng.IntN(3000)]))
	}
	// Windows: every line in, none, and the healthy lines cut in two.
	for _, w := range [][2]int64{{0, 1 << 62}, {0, 1}, {1795692600000000000, 1795694407000000000}} {
		var lc labelCache
		fast := func(b []byte, dst *[]byte, qs *[]int32) (rawEntry, string) {
			return decodeEntry(b, dst, qs, w[0], w[1], &lc)
		}
		general := func(b []byte, dst *[]byte, qs *[]int32) (rawEntry, string) {
			return decodeEntryGeneral(b, dst, qs, w[0], w[1], &labelCache{})
		}
		took := 0
		for _, line := range lines {
			got, want := decodeOnce(line, fast), decodeOnce(line, general)
			if got != want {
				t.Fatalf("window %v, %q:\nfast path %s\ngeneral   %s", w, line, got, want)
			}
			var c labelCache
			dst, qs := []byte(nil), []int32(nil)
			if _, ok := decodeEntryFast(line, &dst, &qs, w[0], w[1], &c); ok {
				took++
			}
		}
		if took < 3000 {
			t.Errorf("window %v: the fast path took %d lines, fewer than the shipped snapshot's 3000", w, took)
		}
	}
}

// FuzzDecodeEntryFast: the fast paths (entry shape, labels cache, vector
// unescaping) give what the general decoder gives, on any line.
func FuzzDecodeEntryFast(f *testing.F) {
	f.Add([]byte(`{"ts":"1795694340000000000","labels":{"service":"api","env":"prod"},"line":"{\"level\":\"info\",\"msg\":\"ok\"}"}`))
	f.Add([]byte(`{"ts":"2026-11-26T11:59:00Z","labels":{},"line":"x\\\"y\n"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var lc labelCache
		for range 2 { // the second time with the labels remembered
			fast := decodeOnce(line, func(b []byte, dst *[]byte, qs *[]int32) (rawEntry, string) {
				return decodeEntry(b, dst, qs, 0, 1<<62, &lc)
			})
			general := decodeOnce(line, func(b []byte, dst *[]byte, qs *[]int32) (rawEntry, string) {
				return decodeEntryGeneral(b, dst, qs, 0, 1<<62, &labelCache{})
			})
			if fast != general {
				t.Fatalf("%q:\nfast path %s\ngeneral   %s", line, fast, general)
			}
		}
		// A string at the start of line: the vector unescaping against
		// the general loop.
		if len(line) > 0 && line[0] == '"' {
			q1, q2 := []int32{}, []int32{}
			end1, text1, ok := unquoteSimple(line, 0, nil, &q1)
			end2, text2, plain, msg := unquoteGeneral(line, 0, nil, &q2)
			if ok && (msg != "" || !plain || end1 != end2 || string(text1) != string(text2) || fmt.Sprint(q1) != fmt.Sprint(q2)) {
				t.Fatalf("%q: fast %d %q %v, general %d %q %v %v %q", line, end1, text1, q1, end2, text2, q2, plain, msg)
			}
		}
	})
}
