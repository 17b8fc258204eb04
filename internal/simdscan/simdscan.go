// Package simdscan classifies the bytes of 64-byte blocks at once, with
// AVX2 where the CPU has it: the backslashes, quotes and control
// characters of a JSON string (EscapeMasks), or the bytes equal to any
// of up to eight values (Set.Mask). Bit k of a mask stands for byte k of
// the block.
//
// Both give the same answers with or without AVX2 (the portable code is
// the reference the tests hold the vector code to); Fast says whether
// the vector code runs, for callers that would rather take another
// route without it.
package simdscan

import (
	"encoding/binary"
)

// BlockSize is the number of bytes a mask covers.
const BlockSize = 64

// Fast reports whether the masks are computed with vector instructions.
func Fast() bool { return haveAVX2 }

// EscapeMasks returns the backslashes, quotes and control characters
// (bytes below 0x20) of the 64 bytes of p.
func EscapeMasks(p *[BlockSize]byte) (bs, qt, ctl uint64) {
	if haveAVX2 {
		return escapeMasksAVX2(p)
	}
	return escapeMasksGeneric(p)
}

// Set is up to eight byte values looked for at once.
type Set struct {
	// vecs holds each value 32 times over (the operand of a vector
	// compare); unused entries repeat the first value.
	vecs  [8][32]byte
	bytes []byte
}

// NewSet is the set of the distinct bytes of values; nil when there are
// none or more than eight.
func NewSet(values []byte) *Set {
	var seen [256]bool
	s := &Set{}
	for _, c := range values {
		if !seen[c] {
			seen[c] = true
			s.bytes = append(s.bytes, c)
		}
	}
	if len(s.bytes) == 0 || len(s.bytes) > 8 {
		return nil
	}
	for i := range s.vecs {
		c := s.bytes[0]
		if i < len(s.bytes) {
			c = s.bytes[i]
		}
		for k := range s.vecs[i] {
			s.vecs[i][k] = c
		}
	}
	return s
}

// Mask returns the bytes of the 64 bytes of p that are in the set.
func (s *Set) Mask(p *[BlockSize]byte) uint64 {
	if haveAVX2 {
		return setMaskAVX2(p, &s.vecs)
	}
	return s.maskGeneric(p)
}

// CompactRoom is the room Compact needs in dst: it writes 8 bytes at a
// time, up to 8 past the bytes it keeps.
const CompactRoom = BlockSize + 8

// Compact copies the bytes of the 64 bytes of p whose bit in drop is
// clear, in order, to the start of dst (len(dst) >= CompactRoom; what
// follows them in dst is overwritten), and returns how many it copied.
func Compact(p *[BlockSize]byte, dst []byte, drop uint64) int {
	dst = dst[:CompactRoom]
	if haveAVX2 {
		return compactSSSE3(p, &dst[0], drop, &compactTable)
	}
	return compactGeneric(p, dst, drop)
}

func compactGeneric(p *[BlockSize]byte, dst []byte, drop uint64) int {
	n := 0
	for k, c := range p {
		if drop&(1<<k) == 0 {
			dst[n] = c
			n++
		}
	}
	return n
}

// compactTable holds, for each byte of drop bits, the PSHUFB control
// that packs the kept bytes of 8 to the front (0x80: a zero byte).
var compactTable = func() (t [256]uint64) {
	for m := range 256 {
		var ctl uint64
		n := 0
		for k := range 8 {
			if m&(1<<k) == 0 {
				ctl |= uint64(k) << (8 * n)
				n++
			}
		}
		for ; n < 8; n++ {
			ctl |= 0x80 << (8 * n)
		}
		t[m] = ctl
	}
	return t
}()

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
	low7  = 0x7f7f7f7f7f7f7f7f
	// gather moves the high bit of each byte of x>>7 (bits 0, 8, …, 56)
	// to bits 56…63 of the product, byte k to bit 56+k (no two partial
	// products meet, so nothing carries).
	gather = 0x0102040810204080
)

// eqBits has bit k set when byte k of x equals c (exact: no borrow
// crosses bytes).
func eqBits(x, c uint64) uint64 {
	t := x ^ (ones * c)
	h := highs &^ (((t & low7) + low7) | t)
	return ((h >> 7) * gather) >> 56
}

// ctlBits has bit k set when byte k of x is below 0x20.
func ctlBits(x uint64) uint64 {
	h := highs &^ (((x & low7) + ones*(0x80-0x20)) | x)
	return ((h >> 7) * gather) >> 56
}

func escapeMasksGeneric(p *[BlockSize]byte) (bs, qt, ctl uint64) {
	for k := 0; k < BlockSize; k += 8 {
		x := binary.LittleEndian.Uint64(p[k : k+8 : k+8])
		bs |= eqBits(x, '\\') << k
		qt |= eqBits(x, '"') << k
		ctl |= ctlBits(x) << k
	}
	return bs, qt, ctl
}

func (s *Set) maskGeneric(p *[BlockSize]byte) uint64 {
	var m uint64
	for k := 0; k < BlockSize; k += 8 {
		x := binary.LittleEndian.Uint64(p[k : k+8 : k+8])
		var w uint64
		for _, c := range s.bytes {
			w |= eqBits(x, uint64(c))
		}
		m |= w << k
	}
	return m
}
