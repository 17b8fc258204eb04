package simdscan

import "golang.org/x/sys/cpu"

// AVX2 for the masks; POPCNT and SSSE3 (PSHUFB) for Compact: every CPU
// with AVX2 has both, and all three are checked.
var haveAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasPOPCNT && cpu.X86.HasSSSE3

//go:noescape
func escapeMasksAVX2(p *[BlockSize]byte) (bs, qt, ctl uint64)

//go:noescape
func setMaskAVX2(p *[BlockSize]byte, vecs *[8][32]byte) uint64

//go:noescape
func compactSSSE3(p *[BlockSize]byte, dst *byte, drop uint64, table *[256]uint64) int
