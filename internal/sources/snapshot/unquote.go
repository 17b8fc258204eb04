package snapshot

import (
	"math/bits"
	"slices"

	"github.com/secflow/secflow-budget/internal/simdscan"
)

// The fast path of scanJSONStringUnquote, for the strings log files are
// made of: a JSON body inside the entry's "line" string, whose only
// escapes are \" (one every ten bytes or so). The general loop stops at
// each of them; this one classifies 64 bytes at a time with vector
// instructions (simdscan.EscapeMasks: backslashes, quotes, control
// characters) and copies each block without its backslashes
// (simdscan.Compact, 8 bytes a step). It runs only where this is fast
// (simdscan.Fast): without vector instructions it would be slower than
// the general loop.
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
	// Room for the whole string, plus what Compact may write past it.
	dst = slices.Grow(dst, len(b)-i+simdscan.CompactRoom)
	buf := dst[:cap(dst)]
	w := base
	q := *qs
	var (
		carry uint64                   // 1: the previous block ended with a backslash
		blk   [simdscan.BlockSize]byte // the last block of b, padded
	)
	for pos := i + 1; pos < len(b); pos += simdscan.BlockSize {
		var src *[simdscan.BlockSize]byte
		n := len(b) - pos // the bytes of b from pos on
		if n >= len(blk) {
			src = (*[simdscan.BlockSize]byte)(b[pos : pos+simdscan.BlockSize])
		} else {
			copy(blk[:], b[pos:])
			clear(blk[n:])
			src = &blk
		}
		bs, qt, ctl := simdscan.EscapeMasks(src)
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
		// The quote after the backslash at k lands at k less the
		// backslashes before k (those the loop met: every bit of bs
		// below k is in lim); then the block goes over without its
		// backslashes and what follows the closing quote.
		at := int32(w - base)
		for m := bs & lim; m != 0; m &= m - 1 {
			q = append(q, at+int32(bits.TrailingZeros64(m)))
			at--
		}
		w += simdscan.Compact(src, buf[w:], bs|^lim)
		if closing != 0 {
			*qs = q
			return pos + stop + 1, buf[:w], true
		}
		carry = bs >> 63
	}
	return 0, nil, false
}
