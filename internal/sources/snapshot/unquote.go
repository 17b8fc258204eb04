package snapshot

import (
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/secflow/secflow-budget/internal/simdscan"
)

// The fast path of scanJSONStringUnquote, for the strings log files are
// made of: a JSON body inside the entry's "line" string, whose only
// escapes are \" (one every ten bytes or so). The general loop stops at
// each of them; this one classifies 64 bytes at a time with vector
// instructions (simdscan.EscapeMasks: backslashes, quotes, control
// characters) and copies the runs between the backslashes with fixed
// 16-byte moves. It runs only where the masks are fast (simdscan.Fast):
// without them it would be slower than the general loop.
//
// Anything else (another escape, a control character, the end of b
// before the closing quote) gives up: the general loop then does the
// work from the start, and says what is wrong, if anything.

// unquoteSimple unescapes the string at b[i] (a '"') onto dst, as
// scanJSONStringUnquote does for a string whose only escapes are \" and
// with plain true; ok is false for any other string, and *qs is then
// as it was.
func unquoteSimple(b []byte, i int, dst []byte, qs *[]int32) (end int, text []byte, ok bool) {
	base := len(dst)
	// Room for the whole string, plus the 16 bytes a run's copy may
	// write past its end.
	dst = slices.Grow(dst, len(b)-i+16)
	buf := dst[:cap(dst)]
	w := base
	q := *qs
	var (
		carry uint64   // 1: the previous block ended with a backslash
		blk   [80]byte // the last block of b, padded, and room to read past it
	)
	for pos := i + 1; pos < len(b); pos += simdscan.BlockSize {
		var src *[80]byte
		n := len(b) - pos // the bytes of b from pos on
		if n >= len(blk) {
			src = (*[80]byte)(b[pos : pos+80])
		} else {
			copy(blk[:], b[pos:])
			clear(blk[n:])
			src = &blk
		}
		bs, qt, ctl := simdscan.EscapeMasks((*[simdscan.BlockSize]byte)(src[:simdscan.BlockSize]))
		valid := ^uint64(0)
		if n < simdscan.BlockSize {
			valid = 1<<n - 1
		}
		esc := bs<<1 | carry // the bytes a backslash escapes
		closing := qt &^ esc & valid
		lim := valid // the bytes of the string in this block
		stop := simdscan.BlockSize
		if closing != 0 {
			stop = bits.TrailingZeros64(closing)
			lim = 1<<stop - 1
		} else if n <= simdscan.BlockSize {
			return 0, nil, false // no closing quote in b
		}
		// Only \" escapes and no control character up to the closing
		// quote (a backslash ending the block: its quote is checked in
		// the next one, through carry).
		if (esc&^qt|ctl|bs&esc)&lim != 0 {
			return 0, nil, false
		}
		// Copy the runs between the backslashes: each ends where a
		// quote follows, which starts the next run.
		start := 0
		for m := bs & lim; m != 0; m &= m - 1 {
			k := bits.TrailingZeros64(m)
			w = copyRun(buf, w, src, start, k)
			q = append(q, int32(w-base))
			start = k + 1
		}
		w = copyRun(buf, w, src, start, stop)
		if closing != 0 {
			*qs = q
			return pos + stop + 1, buf[:w], true
		}
		carry = bs >> 63
	}
	return 0, nil, false
}

// copyRun copies src[from:to] (from ≤ to ≤ 64) to buf at w and returns
// the new w: 16 bytes whatever the run's length (buf and src have the
// room), then the rest of a longer run.
func copyRun(buf []byte, w int, src *[80]byte, from, to int) int {
	// One bounds check a side, then constant offsets.
	d, s := buf[w:w+16:w+16], src[from:from+16:from+16]
	binary.LittleEndian.PutUint64(d[:8], binary.LittleEndian.Uint64(s[:8]))
	binary.LittleEndian.PutUint64(d[8:], binary.LittleEndian.Uint64(s[8:]))
	if to-from > 16 {
		copy(buf[w+16:], src[from+16:to])
	}
	return w + to - from
}
