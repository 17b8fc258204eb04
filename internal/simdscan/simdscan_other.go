//go:build !amd64

package simdscan

const haveAVX2 = false

func escapeMasksAVX2(p *[BlockSize]byte) (bs, qt, ctl uint64) { return escapeMasksGeneric(p) }

func setMaskAVX2(p *[BlockSize]byte, vecs *[8][32]byte) uint64 {
	panic("simdscan: no AVX2 on this architecture")
}

func compactSSSE3(p *[BlockSize]byte, dst *byte, drop uint64, table *[256]uint64) int {
	panic("simdscan: no SSSE3 on this architecture")
}
