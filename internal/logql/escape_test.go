package logql

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// TestHasEscapeOrHighBitAgrees holds the eight-bytes-at-a-time test to
// the byte loop: every length to 40, each byte value near '\\' or the
// high bit at every offset, over backgrounds of plain bytes, and random
// buffers.
func TestHasEscapeOrHighBitAgrees(t *testing.T) {
	naive := func(b []byte) bool {
		for _, c := range b {
			if c == '\\' || c >= utf8.RuneSelf {
				return true
			}
		}
		return false
	}
	special := []byte{0, 1, 0x1c, 0x3c, 0x5b, '\\', 0x5d, 0x7f, 0x80, 0xdc, 0xfe, 0xff, 'a', '"'}
	for _, bg := range []byte{'a', 0, 0x5d, 0x7f, 0x01} {
		for n := range 41 {
			buf := make([]byte, n)
			for i := range buf {
				buf[i] = bg
			}
			if got, want := hasEscapeOrHighBit(buf), naive(buf); got != want {
				t.Fatalf("%q: %v, want %v", buf, got, want)
			}
			for i := range n {
				for _, c := range special {
					buf[i] = c
					if got, want := hasEscapeOrHighBit(buf), naive(buf); got != want {
						t.Fatalf("%q: %v, want %v", buf, got, want)
					}
					buf[i] = bg
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		buf := make([]byte, r.IntN(64))
		for i := range buf {
			buf[i] = byte(0x20 + r.IntN(0x60)) // mostly ASCII, sometimes '\\'
			if r.IntN(200) == 0 {
				buf[i] = byte(r.IntN(256))
			}
		}
		if got, want := hasEscapeOrHighBit(buf), naive(buf); got != want {
			t.Fatalf("%q: %v, want %v", buf, got, want)
		}
	}
}
