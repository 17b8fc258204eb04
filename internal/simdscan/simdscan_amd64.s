#include "textflag.h"

// EQMASK sets AX to the bytes of the 64 in Y0 (low half) and Y1 (high
// half) equal to those of vec, one bit a byte.
#define EQMASK(vec) \
	VPCMPEQB Y0, vec, Y3; \
	VPCMPEQB Y1, vec, Y4; \
	VPMOVMSKB Y3, AX; \
	VPMOVMSKB Y4, BX; \
	SHLQ $32, BX; \
	ORQ BX, AX

// func escapeMasksAVX2(p *[64]byte) (bs, qt, ctl uint64)
TEXT ·escapeMasksAVX2(SB), NOSPLIT, $0-32
	MOVQ p+0(FP), SI
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1

	VMOVDQU backslashes<>(SB), Y2
	EQMASK(Y2)
	MOVQ AX, bs+8(FP)

	VMOVDQU quotes<>(SB), Y2
	EQMASK(Y2)
	MOVQ AX, qt+16(FP)

	// x <= 0x1f exactly when min(x, 0x1f) == x (unsigned).
	VMOVDQU controls<>(SB), Y2
	VPMINUB Y0, Y2, Y3
	VPCMPEQB Y0, Y3, Y3
	VPMOVMSKB Y3, AX
	VPMINUB Y1, Y2, Y3
	VPCMPEQB Y1, Y3, Y3
	VPMOVMSKB Y3, BX
	SHLQ $32, BX
	ORQ BX, AX
	MOVQ AX, ctl+24(FP)
	VZEROUPPER
	RET

// func setMaskAVX2(p *[64]byte, vecs *[8][32]byte) uint64
// The block's two halves compared with each of the eight vectors, the
// hits or-ed together.
TEXT ·setMaskAVX2(SB), NOSPLIT, $0-24
	MOVQ p+0(FP), SI
	MOVQ vecs+8(FP), DI
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	MOVQ $8, CX
setloop:
	VPCMPEQB 0(DI), Y0, Y2
	VPCMPEQB 0(DI), Y1, Y3
	VPOR Y2, Y4, Y4
	VPOR Y3, Y5, Y5
	ADDQ $32, DI
	DECQ CX
	JNZ setloop
	VPMOVMSKB Y4, AX
	VPMOVMSKB Y5, BX
	SHLQ $32, BX
	ORQ BX, AX
	MOVQ AX, ret+16(FP)
	VZEROUPPER
	RET

// func compactSSSE3(p *[64]byte, dst *byte, drop uint64, table *[256]uint64) int
// Eight bytes at a time: the control for the group's byte of drop bits
// packs its kept bytes to the front (PSHUFB), all eight are stored, and
// dst moves on by the number kept.
TEXT ·compactSSSE3(SB), NOSPLIT, $0-40
	MOVQ p+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ drop+16(FP), DX
	MOVQ table+24(FP), R8
	MOVQ DI, R9
	MOVQ $8, CX
compactloop:
	MOVQ 0(SI), X0
	MOVBQZX DL, AX
	MOVQ 0(R8)(AX*8), X1
	PSHUFB X1, X0
	MOVQ X0, 0(DI)
	POPCNTQ AX, BX
	ADDQ $8, DI
	SUBQ BX, DI
	ADDQ $8, SI
	SHRQ $8, DX
	DECQ CX
	JNZ compactloop
	SUBQ R9, DI
	MOVQ DI, ret+32(FP)
	RET

DATA backslashes<>+0(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA backslashes<>+8(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA backslashes<>+16(SB)/8, $0x5c5c5c5c5c5c5c5c
DATA backslashes<>+24(SB)/8, $0x5c5c5c5c5c5c5c5c
GLOBL backslashes<>(SB), RODATA|NOPTR, $32

DATA quotes<>+0(SB)/8, $0x2222222222222222
DATA quotes<>+8(SB)/8, $0x2222222222222222
DATA quotes<>+16(SB)/8, $0x2222222222222222
DATA quotes<>+24(SB)/8, $0x2222222222222222
GLOBL quotes<>(SB), RODATA|NOPTR, $32

DATA controls<>+0(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA controls<>+8(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA controls<>+16(SB)/8, $0x1f1f1f1f1f1f1f1f
DATA controls<>+24(SB)/8, $0x1f1f1f1f1f1f1f1f
GLOBL controls<>(SB), RODATA|NOPTR, $32
