package simdscan

import "golang.org/x/sys/cpu"

var haveAVX2 = cpu.X86.HasAVX2

//go:noescape
func escapeMasksAVX2(p *[BlockSize]byte) (bs, qt, ctl uint64)

//go:noescape
func setMaskAVX2(p *[BlockSize]byte, vecs *[8][32]byte) uint64
