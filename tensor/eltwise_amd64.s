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
	JZ cpnarrow
	// cols >= 8: whole vectors, then the last 8 columns again (overlapping) for a tail.
	LEAQ -32(R12*4), R13 // tail offset back from the end of the vectors, in bytes
cprow:
	MOVQ SI, R11
	MOVQ R9, CX
cp8:
	VMOVUPS (R11), Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, R11
	ADDQ $32, DI
	DECQ CX
	JNZ cp8
	TESTQ R12, R12
	JZ cpnext
	VMOVUPS (R11)(R13*1), Y0
	VMOVUPS Y0, (DI)(R13*1)
	LEAQ (DI)(R12*4), DI
cpnext:
	ADDQ R10, SI
	DECQ R8
	JNZ cprow
	VZEROUPPER
	RET
cpnarrow:
	// cols < 8: one element at a time.
	MOVQ SI, R11
	MOVQ R12, CX
cp1:
	MOVL (R11), AX
	MOVL AX, (DI)
	ADDQ $4, R11
	ADDQ $4, DI
	DECQ CX
	JNZ cp1
	ADDQ R10, SI
	DECQ R8
	JNZ cpnarrow
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

// Lane offsets 0, 2, ..., 14: the first column of 8 consecutive 2x2 windows.
DATA pool2off<>+0(SB)/4, $0
DATA pool2off<>+4(SB)/4, $2
DATA pool2off<>+8(SB)/4, $4
DATA pool2off<>+12(SB)/4, $6
DATA pool2off<>+16(SB)/4, $8
DATA pool2off<>+20(SB)/4, $10
DATA pool2off<>+24(SB)/4, $12
DATA pool2off<>+28(SB)/4, $14
GLOBL pool2off<>(SB), RODATA|NOPTR, $32

// func maxPool2x2RowAVX2(src, dst, arg *float32, n, base, w int)
// Eight windows per iteration. VSHUFPS splits each row's 16 floats into even and odd columns
// in the lane order of windows 0 1 4 5 2 3 6 7; VPERMPD $0xD8 restores the order at the end.
TEXT ·maxPool2x2RowAVX2(SB), NOSPLIT, $0-48
	MOVQ src+0(FP), SI
	MOVQ dst+8(FP), DI
	MOVQ arg+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ base+32(FP), AX
	MOVQ w+40(FP), BX
	LEAQ (SI)(BX*4), R8 // second row
	SHRQ $3, CX
	VPCMPEQD Y15, Y15, Y15
	VPSRLD $31, Y15, Y15 // 1
	VPSLLD $4, Y15, Y12  // 16
	VMOVD BX, X14
	VPBROADCASTD X14, Y14 // w
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	VPADDD pool2off<>(SB), Y13, Y13 // base + 2*window
mp8:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2 // e0
	VSHUFPS $0xDD, Y1, Y0, Y3 // o0
	VMOVUPS (R8), Y0
	VMOVUPS 32(R8), Y1
	VSHUFPS $0x88, Y1, Y0, Y4 // e1
	VSHUFPS $0xDD, Y1, Y0, Y5 // o1
	VCMPPS $0x1e, Y2, Y3, Y6 // ct = o0 > e0
	VBLENDVPS Y6, Y3, Y2, Y7 // t
	VCMPPS $0x1e, Y4, Y5, Y0 // cb = o1 > e1
	VBLENDVPS Y0, Y5, Y4, Y1 // bt
	VCMPPS $0x1e, Y7, Y1, Y8 // cv = bt > t
	VBLENDVPS Y8, Y1, Y7, Y9 // max
	VPAND Y15, Y6, Y6        // ct as 0/1
	VPAND Y15, Y0, Y0
	VPADDD Y14, Y0, Y0       // w + cb
	VBLENDVPS Y8, Y0, Y6, Y10 // offset in the window
	VPERMPD $0xD8, Y9, Y9
	VPERMPD $0xD8, Y10, Y10
	VPADDD Y13, Y10, Y10
	VMOVUPS Y9, (DI)
	VMOVDQU Y10, (DX)
	VPADDD Y12, Y13, Y13
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $32, DI
	ADDQ $32, DX
	DECQ CX
	JNZ mp8
	VZEROUPPER
	RET

// func maxPool2x2GradRowAVX2(dx, dy, arg *float32, n, base, w int)
// Eight windows per iteration: the offsets in the window select dy into four vectors (one per
// window pixel), in the lane order 0 1 4 5 2 3 6 7, so that VUNPCKLPS/VUNPCKHPS interleave
// them into two rows of 16 consecutive pixels each.
TEXT ·maxPool2x2GradRowAVX2(SB), NOSPLIT, $0-48
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ arg+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ base+32(FP), AX
	MOVQ w+40(FP), BX
	LEAQ (DI)(BX*4), R8 // second row
	SHRQ $3, CX
	VPCMPEQD Y15, Y15, Y15
	VPSRLD $31, Y15, Y15 // 1
	VPSLLD $4, Y15, Y12  // 16
	VPXOR Y11, Y11, Y11  // 0
	VMOVD BX, X14
	VPBROADCASTD X14, Y14 // w
	VPADDD Y15, Y14, Y10  // w + 1
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	VPADDD pool2off<>(SB), Y13, Y13
mg8:
	VMOVUPS (SI), Y0
	VMOVDQU (DX), Y1
	VPSUBD Y13, Y1, Y1
	VPERMPD $0xD8, Y0, Y0
	VPERMPD $0xD8, Y1, Y1
	VPCMPEQD Y11, Y1, Y2
	VPCMPEQD Y15, Y1, Y3
	VPCMPEQD Y14, Y1, Y4
	VPCMPEQD Y10, Y1, Y5
	VANDPS Y0, Y2, Y2
	VANDPS Y0, Y3, Y3
	VANDPS Y0, Y4, Y4
	VANDPS Y0, Y5, Y5
	VUNPCKLPS Y3, Y2, Y6
	VUNPCKHPS Y3, Y2, Y7
	VUNPCKLPS Y5, Y4, Y8
	VUNPCKHPS Y5, Y4, Y9
	VMOVUPS Y6, (DI)
	VMOVUPS Y7, 32(DI)
	VMOVUPS Y8, (R8)
	VMOVUPS Y9, 32(R8)
	VPADDD Y12, Y13, Y13
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $32, SI
	ADDQ $32, DX
	DECQ CX
	JNZ mg8
	VZEROUPPER
	RET

// func maxAVX2(dst, a, b *float32, n int)
// VMAXPS returns its memory operand (a) when either is NaN; a NaN in b is blended back in.
TEXT ·maxAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
max8:
	VMOVUPS (DX), Y1
	VMAXPS (SI), Y1, Y2
	VCMPPS $3, Y1, Y1, Y3
	VBLENDVPS Y3, Y1, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, SI
	ADDQ $32, DX
	ADDQ $32, DI
	DECQ CX
	JNZ max8
	VZEROUPPER
	RET

// func addConstCopyAVX2(dst, src *float32, v float32, n int)
// dst[i] = src[i] + v.
TEXT ·addConstCopyAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	VBROADCASTSS v+16(FP), Y3
	MOVQ n+24(FP), CX
	MOVQ CX, BX
	SHRQ $3, BX
	JZ acc1
acc8:
	VADDPS (SI), Y3, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ BX
	JNZ acc8
acc1:
	ANDQ $7, CX
	JZ accdone
acc1loop:
	VADDSS (SI), X3, X1
	VMOVSS X1, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JNZ acc1loop
accdone:
	VZEROUPPER
	RET

// func dot3x4AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)
// Y0-Y11: accumulators (row i of A, row j of B in Y(4i+j)); Y12-Y14: A rows; Y15: a B row.
TEXT ·dot3x4AVX2(SB), NOSPLIT, $0-56
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R10
	SHLQ $2, R8
	SHLQ $2, R9
	SHLQ $2, R10
	SHLQ $2, CX
	LEAQ (SI)(R8*1), R11  // A row 1
	LEAQ (R11)(R8*1), R12 // A row 2
	LEAQ (DI)(R9*1), R13  // B row 1
	LEAQ (R13)(R9*1), R14 // B row 2
	LEAQ (R14)(R9*1), R15 // B row 3
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	XORQ AX, AX
d34loop:
	VMOVUPS (SI)(AX*1), Y12
	VMOVUPS (R11)(AX*1), Y13
	VMOVUPS (R12)(AX*1), Y14
	VMOVUPS (DI)(AX*1), Y15
	VFMADD231PS Y15, Y12, Y0
	VFMADD231PS Y15, Y13, Y4
	VFMADD231PS Y15, Y14, Y8
	VMOVUPS (R13)(AX*1), Y15
	VFMADD231PS Y15, Y12, Y1
	VFMADD231PS Y15, Y13, Y5
	VFMADD231PS Y15, Y14, Y9
	VMOVUPS (R14)(AX*1), Y15
	VFMADD231PS Y15, Y12, Y2
	VFMADD231PS Y15, Y13, Y6
	VFMADD231PS Y15, Y14, Y10
	VMOVUPS (R15)(AX*1), Y15
	VFMADD231PS Y15, Y12, Y3
	VFMADD231PS Y15, Y13, Y7
	VFMADD231PS Y15, Y14, Y11
	ADDQ $32, AX
	CMPQ AX, CX
	JLT d34loop
	// Row 0: Y0..Y3 -> four sums, added to c[0..3].
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VADDPS (DX), X0, X0
	VMOVUPS X0, (DX)
	ADDQ R10, DX
	VHADDPS Y5, Y4, Y4
	VHADDPS Y7, Y6, Y6
	VHADDPS Y6, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VADDPS X5, X4, X4
	VADDPS (DX), X4, X4
	VMOVUPS X4, (DX)
	ADDQ R10, DX
	VHADDPS Y9, Y8, Y8
	VHADDPS Y11, Y10, Y10
	VHADDPS Y10, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS X9, X8, X8
	VADDPS (DX), X8, X8
	VMOVUPS X8, (DX)
	VZEROUPPER
	RET

// func adamAVX2(wp, gp, mp, vp *float32, n int, p *AdamParams)
// AdamParams layout: Beta1 0, Beta2 8, WD 16, Decay 24, Decoupled 32, StepSize 40, BC2 48, Eps 56.
// Constants: Y8 b1, Y9 1-b1, Y10 b2, Y11 1-b2, Y12 wd or decay, Y13 step size, Y14 bc2, Y15 eps.
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ wp+0(FP), DI
	MOVQ gp+8(FP), SI
	MOVQ mp+16(FP), R8
	MOVQ vp+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ p+40(FP), DX
	SHRQ $2, CX
	MOVSD $1.0, X0
	VBROADCASTSD 0(DX), Y8
	VSUBSD 0(DX), X0, X1
	VBROADCASTSD X1, Y9
	VBROADCASTSD 8(DX), Y10
	VSUBSD 8(DX), X0, X1
	VBROADCASTSD X1, Y11
	VBROADCASTSD 40(DX), Y13
	VBROADCASTSD 48(DX), Y14
	VBROADCASTSD 56(DX), Y15
	MOVBLZX 32(DX), AX
	TESTQ AX, AX
	JNZ adamw
	VBROADCASTSD 16(DX), Y12
adaml2:
	VCVTPS2PD (DI), Y0
	VCVTPS2PD (SI), Y1
	VMULPD Y0, Y12, Y2 // wd*w
	VADDPD Y2, Y1, Y1  // g + wd*w
	VCVTPS2PD (R8), Y2
	VMULPD Y2, Y8, Y2  // b1*m
	VMULPD Y1, Y9, Y3  // (1-b1)*g
	VADDPD Y3, Y2, Y2  // m
	VCVTPS2PD (R9), Y3
	VMULPD Y3, Y10, Y3 // b2*v
	VMULPD Y1, Y11, Y4 // (1-b2)*g
	VMULPD Y1, Y4, Y4  // *g
	VADDPD Y4, Y3, Y3  // v
	VCVTPD2PSY Y2, X4
	VMOVUPS X4, (R8)
	VCVTPD2PSY Y3, X5
	VMOVUPS X5, (R9)
	VSQRTPD Y3, Y5
	VDIVPD Y14, Y5, Y5 // sqrt(v)/bc2
	VADDPD Y15, Y5, Y5 // + eps
	VMULPD Y2, Y13, Y6 // step*m
	VDIVPD Y5, Y6, Y6
	VSUBPD Y6, Y0, Y0
	VCVTPD2PSY Y0, X0
	VMOVUPS X0, (DI)
	ADDQ $16, DI
	ADDQ $16, SI
	ADDQ $16, R8
	ADDQ $16, R9
	DECQ CX
	JNZ adaml2
	VZEROUPPER
	RET
adamw:
	VBROADCASTSD 24(DX), Y12
adamwl:
	VCVTPS2PD (DI), Y0
	VCVTPS2PD (SI), Y1
	VMULPD Y12, Y0, Y0 // w*decay
	VCVTPS2PD (R8), Y2
	VMULPD Y2, Y8, Y2
	VMULPD Y1, Y9, Y3
	VADDPD Y3, Y2, Y2
	VCVTPS2PD (R9), Y3
	VMULPD Y3, Y10, Y3
	VMULPD Y1, Y11, Y4
	VMULPD Y1, Y4, Y4
	VADDPD Y4, Y3, Y3
	VCVTPD2PSY Y2, X4
	VMOVUPS X4, (R8)
	VCVTPD2PSY Y3, X5
	VMOVUPS X5, (R9)
	VSQRTPD Y3, Y5
	VDIVPD Y14, Y5, Y5
	VADDPD Y15, Y5, Y5
	VMULPD Y2, Y13, Y6
	VDIVPD Y5, Y6, Y6
	VSUBPD Y6, Y0, Y0
	VCVTPD2PSY Y0, X0
	VMOVUPS X0, (DI)
	ADDQ $16, DI
	ADDQ $16, SI
	ADDQ $16, R8
	ADDQ $16, R9
	DECQ CX
	JNZ adamwl
	VZEROUPPER
	RET
