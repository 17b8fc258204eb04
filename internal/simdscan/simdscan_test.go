package simdscan

import (
	"math/bits"
	"math/rand/v2"
	"testing"
)

// naive masks, byte by byte: what every implementation must give.
func naiveEscape(p *[BlockSize]byte) (bs, qt, ctl uint64) {
	for k, c := range p {
		if c == '\\' {
			bs |= 1 << k
		}
		if c == '"' {
			qt |= 1 << k
		}
		if c < 0x20 {
			ctl |= 1 << k
		}
	}
	return bs, qt, ctl
}

func naiveSet(p *[BlockSize]byte, values []byte) uint64 {
	var m uint64
	for k, c := range p {
		for _, v := range values {
			if c == v {
				m |= 1 << k
			}
		}
	}
	return m
}

// randomBlock favours the bytes the masks are about and their
// neighbours (where a borrow between bytes would show).
func randomBlock(rng *rand.Rand, p *[BlockSize]byte, interesting []byte) {
	for k := range p {
		switch rng.IntN(4) {
		case 0:
			p[k] = interesting[rng.IntN(len(interesting))]
		case 1:
			p[k] = interesting[rng.IntN(len(interesting))] + byte(rng.IntN(3)) - 1
		default:
			p[k] = byte(rng.IntN(256))
		}
	}
}

func checkBlock(t *testing.T, p *[BlockSize]byte, s *Set, values []byte) {
	t.Helper()
	wb, wq, wc := naiveEscape(p)
	if b, q, c := escapeMasksGeneric(p); b != wb || q != wq || c != wc {
		t.Fatalf("generic escape masks of %q: %x %x %x, want %x %x %x", p[:], b, q, c, wb, wq, wc)
	}
	if b, q, c := EscapeMasks(p); b != wb || q != wq || c != wc {
		t.Fatalf("escape masks (fast=%v) of %q: %x %x %x, want %x %x %x", Fast(), p[:], b, q, c, wb, wq, wc)
	}
	want := naiveSet(p, values)
	if m := s.maskGeneric(p); m != want {
		t.Fatalf("generic set mask %q of %q: %x, want %x", values, p[:], m, want)
	}
	if m := s.Mask(p); m != want {
		t.Fatalf("set mask (fast=%v) %q of %q: %x, want %x", Fast(), values, p[:], m, want)
	}
}

// Every implementation gives the byte-by-byte answer: each byte value at
// each position, and random blocks dense in the bytes looked for.
func TestMasksEqualNaive(t *testing.T) {
	t.Logf("AVX2: %v", Fast())
	rng := rand.New(rand.NewPCG(1, 2))
	var p [BlockSize]byte
	for v := range 256 {
		values := []byte{byte(v), 'K', 0xff, 0}
		s := NewSet(values)
		for k := range BlockSize {
			for i := range p {
				p[i] = byte(rng.IntN(256))
			}
			p[k] = byte(v)
			checkBlock(t, &p, s, values)
		}
	}
	for range 20000 {
		n := 1 + rng.IntN(8)
		values := make([]byte, n)
		for i := range values {
			values[i] = byte(rng.IntN(256))
		}
		s := NewSet(values)
		randomBlock(rng, &p, append([]byte{'\\', '"', 0x1f, 0x20, 0x80, 0}, values...))
		checkBlock(t, &p, s, values)
	}
}

func TestNewSet(t *testing.T) {
	if NewSet(nil) != nil || NewSet([]byte("abcdefghi")) != nil {
		t.Error("NewSet of no byte or nine distinct bytes is not nil")
	}
	s := NewSet([]byte("aabbccddeeffgghh"))
	if s == nil || len(s.bytes) != 8 {
		t.Fatalf("NewSet of eight distinct bytes, each twice: %v", s)
	}
	var p [BlockSize]byte
	copy(p[:], "xxhxxaxx")
	if m := s.Mask(&p); m != 1<<2|1<<5 || bits.OnesCount64(m) != 2 {
		t.Errorf("mask %b, want bits 2 and 5", m)
	}
}

func FuzzMasks(f *testing.F) {
	f.Add([]byte(`{\"level\":\"info\"}`), []byte("\\\""))
	f.Fuzz(func(t *testing.T, data, values []byte) {
		var p [BlockSize]byte
		copy(p[:], data)
		if len(values) == 0 || len(values) > 8 {
			values = []byte{'K'}
		}
		s := NewSet(values)
		if s == nil {
			t.Fatalf("NewSet(%q) is nil", values)
		}
		checkBlock(t, &p, s, values)
	})
}

func BenchmarkEscapeMasks(b *testing.B) {
	var p [BlockSize]byte
	copy(p[:], `{\"ts\":\"2026-11-26T10:58:59.998Z\",\"level\":\"INFO\",\"msg\":\"request`)
	b.SetBytes(BlockSize)
	var sink uint64
	for b.Loop() {
		x, y, z := EscapeMasks(&p)
		sink += x ^ y ^ z
	}
	_ = sink
}

// Compact keeps exactly the bytes whose drop bit is clear, in order,
// with and without vector instructions, for every byte of drop bits in
// every group and for random masks.
func TestCompact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	var p [BlockSize]byte
	check := func(drop uint64) {
		t.Helper()
		var want []byte
		for k, c := range p {
			if drop&(1<<k) == 0 {
				want = append(want, c)
			}
		}
		for name, f := range map[string]func([]byte) int{
			"Compact": func(d []byte) int { return Compact(&p, d, drop) },
			"generic": func(d []byte) int { return compactGeneric(&p, d[:CompactRoom], drop) },
		} {
			dst := make([]byte, CompactRoom+8)
			for i := range dst {
				dst[i] = 0xee
			}
			n := f(dst)
			if n != len(want) || string(dst[:n]) != string(want) {
				t.Fatalf("%s(drop %064b): %d %q, want %d %q", name, drop, n, dst[:n], len(want), want)
			}
			for i := CompactRoom; i < len(dst); i++ {
				if dst[i] != 0xee {
					t.Fatalf("%s(drop %064b) wrote past CompactRoom, at %d", name, drop, i)
				}
			}
		}
	}
	for i := range p {
		p[i] = byte(i + 1)
	}
	for g := range 8 {
		for m := range 256 {
			check(uint64(m) << (8 * g))
		}
	}
	for range 20000 {
		for i := range p {
			p[i] = byte(rng.IntN(256))
		}
		drop := rng.Uint64()
		if rng.IntN(2) == 0 {
			drop &= rng.Uint64() // sparser
		}
		check(drop)
	}
}
