//go:build amd64 && !purego

#include "textflag.h"

// Elementwise AVX2 kernels: 16 elements per iteration, then 8, then one at a time.

// func reluAVX2(dst, src *float32, n int)
// dst[i] = max(src[i], 0) + 0: VMAXPS returns its memory operand when that is NaN, and adding
// +0 turns -0 into +0.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	MOVQ CX, BX
	SHRQ $4, BX
	JZ relu8
relu16:
	VMAXPS (SI), Y0, Y1
	VMAXPS 32(SI), Y0, Y2
	VADDPS Y0, Y1, Y1
	VADDPS Y0, Y2, Y2
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ BX
	JNZ relu16
relu8:
	TESTQ $8, CX
	JZ relu1
	VMAXPS (SI), Y0, Y1
	VADDPS Y0, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
relu1:
	ANDQ $7, CX
	JZ reludone
relu1loop:
	VMAXSS (SI), X0, X1
	VADDSS X0, X1, X1
	VMOVSS X1, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JNZ relu1loop
reludone:
	VZEROUPPER
	RET

// func reluGradAVX2(dx, dy, out *float32, n int)
// dx[i] = dy[i] if 0 < out[i] else 0 (ordered compare: NaN gives 0).
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ out+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y0, Y0, Y0
	MOVQ CX, BX
	SHRQ $4, BX
	JZ rg8
rg16:
	VCMPPS $0x11, (DX), Y0, Y1
	VCMPPS $0x11, 32(DX), Y0, Y2
	VANDPS (SI), Y1, Y1
	VANDPS 32(SI), Y2, Y2
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, DX
	DECQ BX
	JNZ rg16
rg8:
	TESTQ $8, CX
	JZ rg1
	VCMPPS $0x11, (DX), Y0, Y1
	VANDPS (SI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, DX
rg1:
	ANDQ $7, CX
	JZ rgdone
rg1loop:
	VMOVSS (DX), X1
	VCMPSS $0x11, X1, X0, X2
	VMOVSS (SI), X3
	VANDPS X3, X2, X2
	VMOVSS X2, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	ADDQ $4, DX
	DECQ CX
	JNZ rg1loop
rgdone:
	VZEROUPPER
	RET

// func addAVX2(dst, src *float32, n int)
// dst[i] += src[i].
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ CX, BX
	SHRQ $4, BX
	JZ add8
add16:
	VMOVUPS (SI), Y1
	VMOVUPS 32(SI), Y2
	VADDPS (DI), Y1, Y1
	VADDPS 32(DI), Y2, Y2
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ BX
	JNZ add16
add8:
	TESTQ $8, CX
	JZ add1
	VMOVUPS (SI), Y1
	VADDPS (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
add1:
	ANDQ $7, CX
	JZ adddone
add1loop:
	VMOVSS (SI), X1
	VADDSS (DI), X1, X1
	VMOVSS X1, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JNZ add1loop
adddone:
	VZEROUPPER
	RET

// func addConstAVX2(x *float32, v float32, relu bool, n int)
// x[i] += v, then with relu x[i] = max(x[i], 0) + 0.
TEXT ·addConstAVX2(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), DI
	VBROADCASTSS v+8(FP), Y3
	MOVBLZX relu+12(FP), AX
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	TESTQ AX, AX
	JNZ acr
	MOVQ CX, BX
	SHRQ $3, BX
	JZ ac1
ac8:
	VADDPS (DI), Y3, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	DECQ BX
	JNZ ac8
ac1:
	ANDQ $7, CX
	JZ acdone
ac1loop:
	VADDSS (DI), X3, X1
	VMOVSS X1, (DI)
	ADDQ $4, DI
	DECQ CX
	JNZ ac1loop
	JMP acdone
acr:
	MOVQ CX, BX
	SHRQ $3, BX
	JZ acr1
acr8:
	VADDPS (DI), Y3, Y1
	VMAXPS Y1, Y0, Y1
	VADDPS Y0, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, DI
	DECQ BX
	JNZ acr8
acr1:
	ANDQ $7, CX
	JZ acdone
acr1loop:
	VADDSS (DI), X3, X1
	VMAXSS X1, X0, X1
	VADDSS X0, X1, X1
	VMOVSS X1, (DI)
	ADDQ $4, DI
	DECQ CX
	JNZ acr1loop
acdone:
	VZEROUPPER
	RET

// func copyRowsAVX2(dst, src *float32, rows, cols, ld int)
// dst[r*cols+c] = src[r*ld+c]; rows, cols > 0.
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ cols+24(FP), R9
	MOVQ ld+32(FP), R10
	SHLQ $2, R10
	MOVQ R9, R12
	ANDQ $7, R12
	SHRQ $3, R9
cprow:
	MOVQ SI, R11
	MOVQ R9, CX
	TESTQ CX, CX
	JZ cptail
cp8:
	VMOVUPS (R11), Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, R11
	ADDQ $32, DI
	DECQ CX
	JNZ cp8
cptail:
	MOVQ R12, CX
	TESTQ CX, CX
	JZ cpnext
cp1:
	MOVL (R11), AX
	MOVL AX, (DI)
	ADDQ $4, R11
	ADDQ $4, DI
	DECQ CX
	JNZ cp1
cpnext:
	ADDQ R10, SI
	DECQ R8
	JNZ cprow
	VZEROUPPER
	RET

// func addRowsAVX2(dst *float32, ld int, src *float32, rows, cols int)
// dst[r*ld+c] += src[r*cols+c]; rows, cols > 0.
TEXT ·addRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ld+8(FP), R10
	MOVQ src+16(FP), SI
	MOVQ rows+24(FP), R8
	MOVQ cols+32(FP), R9
	SHLQ $2, R10
	MOVQ R9, R12
	ANDQ $7, R12
	SHRQ $3, R9
arrow:
	MOVQ DI, R11
	MOVQ R9, CX
	TESTQ CX, CX
	JZ artail
ar8:
	VMOVUPS (SI), Y0
	VADDPS (R11), Y0, Y0
	VMOVUPS Y0, (R11)
	ADDQ $32, R11
	ADDQ $32, SI
	DECQ CX
	JNZ ar8
artail:
	MOVQ R12, CX
	TESTQ CX, CX
	JZ arnext
ar1:
	VMOVSS (SI), X0
	VADDSS (R11), X0, X0
	VMOVSS X0, (R11)
	ADDQ $4, R11
	ADDQ $4, SI
	DECQ CX
	JNZ ar1
arnext:
	ADDQ R10, DI
	DECQ R8
	JNZ arrow
	VZEROUPPER
	RET
