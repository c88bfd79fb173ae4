//go:build amd64 && !purego

#include "textflag.h"

// func qKernelAVX2(a, b *int16, kp int, c *float32, ldc int)
// The 6x16 int32 tile of kp pairs: per pair two ymm of B (16 columns x 2 int16), per row one
// broadcast pair of A and two VPMADDWD into the row's accumulators Y4..Y15; the sums are
// stored converted to float32. kp >= 1.
TEXT ·qKernelAVX2(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ kp+16(FP), CX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	VPXOR Y12, Y12, Y12
	VPXOR Y13, Y13, Y13
	VPXOR Y14, Y14, Y14
	VPXOR Y15, Y15, Y15
qloop:
	VMOVDQU (DI), Y0
	VMOVDQU 32(DI), Y1
	VPBROADCASTD 0(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y4, Y4
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y5, Y5
	VPBROADCASTD 4(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y6, Y6
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y7, Y7
	VPBROADCASTD 8(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y8, Y8
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y9, Y9
	VPBROADCASTD 12(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y10, Y10
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y11, Y11
	VPBROADCASTD 16(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y12, Y12
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y13, Y13
	VPBROADCASTD 20(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y14, Y14
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y15, Y15
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ qloop
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y5, Y5
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VCVTDQ2PS Y6, Y6
	VCVTDQ2PS Y7, Y7
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ R8, DX
	VCVTDQ2PS Y8, Y8
	VCVTDQ2PS Y9, Y9
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ R8, DX
	VCVTDQ2PS Y10, Y10
	VCVTDQ2PS Y11, Y11
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	ADDQ R8, DX
	VCVTDQ2PS Y12, Y12
	VCVTDQ2PS Y13, Y13
	VMOVUPS Y12, (DX)
	VMOVUPS Y13, 32(DX)
	ADDQ R8, DX
	VCVTDQ2PS Y14, Y14
	VCVTDQ2PS Y15, Y15
	VMOVUPS Y14, (DX)
	VMOVUPS Y15, 32(DX)
	VZEROUPPER
	RET

// func packQBAVX2(d *int16, r0, r1 *float32, count, r0step, r1step, dstep int) bool
// count times: the 16 floats at r0 and the 16 at r1 become 16 int16 pairs (r0[j], r1[j]) at
// d; then r0, r1 and d advance by r0step, r1step and dstep bytes. Returns false if any value
// is not an integer (converted and converted back, it differs; NaN included) or exceeds 1024
// in magnitude (the int32 levels are packed to int16 with signed saturation, so anything
// beyond 32767 stays beyond 1024, and the largest magnitude is kept). count >= 1. The
// activations come from memory (a whole batch's layer output is larger than the caches):
// prefetching 8 steps ahead packs MobileNetV2's cold activations about 1.3x faster.
TEXT ·packQBAVX2(SB), NOSPLIT, $0-57
	MOVQ d+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), BX
	MOVQ count+24(FP), CX
	MOVQ r0step+32(FP), R8
	MOVQ r1step+40(FP), R9
	MOVQ dstep+48(FP), R10
	VPXOR Y15, Y15, Y15
	VPXOR Y14, Y14, Y14
ploop:
	PREFETCHT0 (SI)(R8*8)
	PREFETCHT0 (BX)(R9*8)
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS (BX), Y2
	VMOVUPS 32(BX), Y3
	VCVTPS2DQ Y0, Y4
	VCVTPS2DQ Y1, Y5
	VCVTPS2DQ Y2, Y6
	VCVTPS2DQ Y3, Y7
	VCVTDQ2PS Y4, Y8
	VCVTDQ2PS Y5, Y9
	VCVTDQ2PS Y6, Y10
	VCVTDQ2PS Y7, Y11
	VCMPPS $4, Y8, Y0, Y8
	VCMPPS $4, Y9, Y1, Y9
	VCMPPS $4, Y10, Y2, Y10
	VCMPPS $4, Y11, Y3, Y11
	VPOR Y8, Y9, Y9
	VPOR Y10, Y11, Y11
	VPOR Y9, Y15, Y15
	VPOR Y11, Y15, Y15
	VPACKSSDW Y5, Y4, Y8
	VPACKSSDW Y7, Y6, Y9
	VPUNPCKLWD Y9, Y8, Y10
	VPUNPCKHWD Y9, Y8, Y11
	VMOVDQU Y10, (DI)
	VMOVDQU Y11, 32(DI)
	VPABSW Y8, Y8
	VPABSW Y9, Y9
	VPMAXUW Y8, Y14, Y14
	VPMAXUW Y9, Y14, Y14
	ADDQ R8, SI
	ADDQ R9, BX
	ADDQ R10, DI
	DECQ CX
	JNZ ploop
	MOVL $0x04000400, AX
	VMOVD AX, X13
	VPBROADCASTD X13, Y13
	VPSUBUSW Y13, Y14, Y14
	VPOR Y14, Y15, Y15
	VPTEST Y15, Y15
	SETEQ ret+56(FP)
	VZEROUPPER
	RET

// func qKernelRqAVX2(a, b *int16, kp int, c *float32, ldc int, bias, mult, zeros *float32, qlo, qhi float32, panels int)
// For each of panels consecutive 6-row panels of A (the tiles one below the other in C, and
// their biases and multipliers consecutive too): qKernelAVX2 with the requantization of each
// row i applied before the store, c = min(max(round((float(acc) + bias[i])*mult[i]), qlo),
// qhi) + 0 (zeros: 8 zero floats), the steps of requantAVX2. The sums are integers, so no NaN
// reaches the clamps. kp, panels >= 1.
TEXT ·qKernelRqAVX2(SB), NOSPLIT, $0-80
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), R13
	MOVQ c+24(FP), BX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ bias+40(FP), R9
	MOVQ mult+48(FP), R10
	MOVQ zeros+56(FP), R11
	MOVQ panels+72(FP), R12
rqpanel:
	MOVQ R13, DI
	MOVQ kp+16(FP), CX
	MOVQ BX, DX
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	VPXOR Y12, Y12, Y12
	VPXOR Y13, Y13, Y13
	VPXOR Y14, Y14, Y14
	VPXOR Y15, Y15, Y15
rqkloop:
	VMOVDQU (DI), Y0
	VMOVDQU 32(DI), Y1
	VPBROADCASTD 0(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y4, Y4
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y5, Y5
	VPBROADCASTD 4(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y6, Y6
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y7, Y7
	VPBROADCASTD 8(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y8, Y8
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y9, Y9
	VPBROADCASTD 12(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y10, Y10
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y11, Y11
	VPBROADCASTD 16(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y12, Y12
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y13, Y13
	VPBROADCASTD 20(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y14, Y14
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y15, Y15
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ rqkloop
	VBROADCASTSS qlo+64(FP), Y2
	VBROADCASTSS qhi+68(FP), Y3
	VBROADCASTSS 0(R9), Y0
	VBROADCASTSS 0(R10), Y1
	VCVTDQ2PS Y4, Y4
	VADDPS Y0, Y4, Y4
	VMULPS Y1, Y4, Y4
	VROUNDPS $0, Y4, Y4
	VMAXPS Y4, Y2, Y4
	VMINPS Y4, Y3, Y4
	VADDPS (R11), Y4, Y4
	VMOVUPS Y4, (DX)
	VCVTDQ2PS Y5, Y5
	VADDPS Y0, Y5, Y5
	VMULPS Y1, Y5, Y5
	VROUNDPS $0, Y5, Y5
	VMAXPS Y5, Y2, Y5
	VMINPS Y5, Y3, Y5
	VADDPS (R11), Y5, Y5
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 4(R9), Y0
	VBROADCASTSS 4(R10), Y1
	VCVTDQ2PS Y6, Y6
	VADDPS Y0, Y6, Y6
	VMULPS Y1, Y6, Y6
	VROUNDPS $0, Y6, Y6
	VMAXPS Y6, Y2, Y6
	VMINPS Y6, Y3, Y6
	VADDPS (R11), Y6, Y6
	VMOVUPS Y6, (DX)
	VCVTDQ2PS Y7, Y7
	VADDPS Y0, Y7, Y7
	VMULPS Y1, Y7, Y7
	VROUNDPS $0, Y7, Y7
	VMAXPS Y7, Y2, Y7
	VMINPS Y7, Y3, Y7
	VADDPS (R11), Y7, Y7
	VMOVUPS Y7, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 8(R9), Y0
	VBROADCASTSS 8(R10), Y1
	VCVTDQ2PS Y8, Y8
	VADDPS Y0, Y8, Y8
	VMULPS Y1, Y8, Y8
	VROUNDPS $0, Y8, Y8
	VMAXPS Y8, Y2, Y8
	VMINPS Y8, Y3, Y8
	VADDPS (R11), Y8, Y8
	VMOVUPS Y8, (DX)
	VCVTDQ2PS Y9, Y9
	VADDPS Y0, Y9, Y9
	VMULPS Y1, Y9, Y9
	VROUNDPS $0, Y9, Y9
	VMAXPS Y9, Y2, Y9
	VMINPS Y9, Y3, Y9
	VADDPS (R11), Y9, Y9
	VMOVUPS Y9, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 12(R9), Y0
	VBROADCASTSS 12(R10), Y1
	VCVTDQ2PS Y10, Y10
	VADDPS Y0, Y10, Y10
	VMULPS Y1, Y10, Y10
	VROUNDPS $0, Y10, Y10
	VMAXPS Y10, Y2, Y10
	VMINPS Y10, Y3, Y10
	VADDPS (R11), Y10, Y10
	VMOVUPS Y10, (DX)
	VCVTDQ2PS Y11, Y11
	VADDPS Y0, Y11, Y11
	VMULPS Y1, Y11, Y11
	VROUNDPS $0, Y11, Y11
	VMAXPS Y11, Y2, Y11
	VMINPS Y11, Y3, Y11
	VADDPS (R11), Y11, Y11
	VMOVUPS Y11, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 16(R9), Y0
	VBROADCASTSS 16(R10), Y1
	VCVTDQ2PS Y12, Y12
	VADDPS Y0, Y12, Y12
	VMULPS Y1, Y12, Y12
	VROUNDPS $0, Y12, Y12
	VMAXPS Y12, Y2, Y12
	VMINPS Y12, Y3, Y12
	VADDPS (R11), Y12, Y12
	VMOVUPS Y12, (DX)
	VCVTDQ2PS Y13, Y13
	VADDPS Y0, Y13, Y13
	VMULPS Y1, Y13, Y13
	VROUNDPS $0, Y13, Y13
	VMAXPS Y13, Y2, Y13
	VMINPS Y13, Y3, Y13
	VADDPS (R11), Y13, Y13
	VMOVUPS Y13, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 20(R9), Y0
	VBROADCASTSS 20(R10), Y1
	VCVTDQ2PS Y14, Y14
	VADDPS Y0, Y14, Y14
	VMULPS Y1, Y14, Y14
	VROUNDPS $0, Y14, Y14
	VMAXPS Y14, Y2, Y14
	VMINPS Y14, Y3, Y14
	VADDPS (R11), Y14, Y14
	VMOVUPS Y14, (DX)
	VCVTDQ2PS Y15, Y15
	VADDPS Y0, Y15, Y15
	VMULPS Y1, Y15, Y15
	VROUNDPS $0, Y15, Y15
	VMAXPS Y15, Y2, Y15
	VMINPS Y15, Y3, Y15
	VADDPS (R11), Y15, Y15
	VMOVUPS Y15, 32(DX)
	LEAQ (R8)(R8*2), AX
	LEAQ (BX)(AX*2), BX
	ADDQ $24, R9
	ADDQ $24, R10
	DECQ R12
	JNZ rqpanel
	VZEROUPPER
	RET

// func qKernelRqNTAVX2(a, b *int16, kp int, c *float32, ldc int, bias, mult, zeros *float32, qlo, qhi float32, panels int)
// qKernelRqAVX2 with non-temporal stores: c and 4*ldc are multiples of 32. The stores are
// fenced before it returns.
TEXT ·qKernelRqNTAVX2(SB), NOSPLIT, $0-80
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), R13
	MOVQ c+24(FP), BX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ bias+40(FP), R9
	MOVQ mult+48(FP), R10
	MOVQ zeros+56(FP), R11
	MOVQ panels+72(FP), R12
ntpanel:
	MOVQ R13, DI
	MOVQ kp+16(FP), CX
	MOVQ BX, DX
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
	VPXOR Y12, Y12, Y12
	VPXOR Y13, Y13, Y13
	VPXOR Y14, Y14, Y14
	VPXOR Y15, Y15, Y15
ntkloop:
	VMOVDQU (DI), Y0
	VMOVDQU 32(DI), Y1
	VPBROADCASTD 0(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y4, Y4
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y5, Y5
	VPBROADCASTD 4(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y6, Y6
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y7, Y7
	VPBROADCASTD 8(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y8, Y8
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y9, Y9
	VPBROADCASTD 12(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y10, Y10
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y11, Y11
	VPBROADCASTD 16(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y12, Y12
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y13, Y13
	VPBROADCASTD 20(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y14, Y14
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y15, Y15
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ ntkloop
	VBROADCASTSS qlo+64(FP), Y2
	VBROADCASTSS qhi+68(FP), Y3
	VBROADCASTSS 0(R9), Y0
	VBROADCASTSS 0(R10), Y1
	VCVTDQ2PS Y4, Y4
	VADDPS Y0, Y4, Y4
	VMULPS Y1, Y4, Y4
	VROUNDPS $0, Y4, Y4
	VMAXPS Y4, Y2, Y4
	VMINPS Y4, Y3, Y4
	VADDPS (R11), Y4, Y4
	VMOVNTPS Y4, (DX)
	VCVTDQ2PS Y5, Y5
	VADDPS Y0, Y5, Y5
	VMULPS Y1, Y5, Y5
	VROUNDPS $0, Y5, Y5
	VMAXPS Y5, Y2, Y5
	VMINPS Y5, Y3, Y5
	VADDPS (R11), Y5, Y5
	VMOVNTPS Y5, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 4(R9), Y0
	VBROADCASTSS 4(R10), Y1
	VCVTDQ2PS Y6, Y6
	VADDPS Y0, Y6, Y6
	VMULPS Y1, Y6, Y6
	VROUNDPS $0, Y6, Y6
	VMAXPS Y6, Y2, Y6
	VMINPS Y6, Y3, Y6
	VADDPS (R11), Y6, Y6
	VMOVNTPS Y6, (DX)
	VCVTDQ2PS Y7, Y7
	VADDPS Y0, Y7, Y7
	VMULPS Y1, Y7, Y7
	VROUNDPS $0, Y7, Y7
	VMAXPS Y7, Y2, Y7
	VMINPS Y7, Y3, Y7
	VADDPS (R11), Y7, Y7
	VMOVNTPS Y7, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 8(R9), Y0
	VBROADCASTSS 8(R10), Y1
	VCVTDQ2PS Y8, Y8
	VADDPS Y0, Y8, Y8
	VMULPS Y1, Y8, Y8
	VROUNDPS $0, Y8, Y8
	VMAXPS Y8, Y2, Y8
	VMINPS Y8, Y3, Y8
	VADDPS (R11), Y8, Y8
	VMOVNTPS Y8, (DX)
	VCVTDQ2PS Y9, Y9
	VADDPS Y0, Y9, Y9
	VMULPS Y1, Y9, Y9
	VROUNDPS $0, Y9, Y9
	VMAXPS Y9, Y2, Y9
	VMINPS Y9, Y3, Y9
	VADDPS (R11), Y9, Y9
	VMOVNTPS Y9, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 12(R9), Y0
	VBROADCASTSS 12(R10), Y1
	VCVTDQ2PS Y10, Y10
	VADDPS Y0, Y10, Y10
	VMULPS Y1, Y10, Y10
	VROUNDPS $0, Y10, Y10
	VMAXPS Y10, Y2, Y10
	VMINPS Y10, Y3, Y10
	VADDPS (R11), Y10, Y10
	VMOVNTPS Y10, (DX)
	VCVTDQ2PS Y11, Y11
	VADDPS Y0, Y11, Y11
	VMULPS Y1, Y11, Y11
	VROUNDPS $0, Y11, Y11
	VMAXPS Y11, Y2, Y11
	VMINPS Y11, Y3, Y11
	VADDPS (R11), Y11, Y11
	VMOVNTPS Y11, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 16(R9), Y0
	VBROADCASTSS 16(R10), Y1
	VCVTDQ2PS Y12, Y12
	VADDPS Y0, Y12, Y12
	VMULPS Y1, Y12, Y12
	VROUNDPS $0, Y12, Y12
	VMAXPS Y12, Y2, Y12
	VMINPS Y12, Y3, Y12
	VADDPS (R11), Y12, Y12
	VMOVNTPS Y12, (DX)
	VCVTDQ2PS Y13, Y13
	VADDPS Y0, Y13, Y13
	VMULPS Y1, Y13, Y13
	VROUNDPS $0, Y13, Y13
	VMAXPS Y13, Y2, Y13
	VMINPS Y13, Y3, Y13
	VADDPS (R11), Y13, Y13
	VMOVNTPS Y13, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 20(R9), Y0
	VBROADCASTSS 20(R10), Y1
	VCVTDQ2PS Y14, Y14
	VADDPS Y0, Y14, Y14
	VMULPS Y1, Y14, Y14
	VROUNDPS $0, Y14, Y14
	VMAXPS Y14, Y2, Y14
	VMINPS Y14, Y3, Y14
	VADDPS (R11), Y14, Y14
	VMOVNTPS Y14, (DX)
	VCVTDQ2PS Y15, Y15
	VADDPS Y0, Y15, Y15
	VMULPS Y1, Y15, Y15
	VROUNDPS $0, Y15, Y15
	VMAXPS Y15, Y2, Y15
	VMINPS Y15, Y3, Y15
	VADDPS (R11), Y15, Y15
	VMOVNTPS Y15, 32(DX)
	LEAQ (R8)(R8*2), AX
	LEAQ (BX)(AX*2), BX
	ADDQ $24, R9
	ADDQ $24, R10
	DECQ R12
	JNZ ntpanel
	SFENCE
	VZEROUPPER
	RET

// func qKernelRq4AVX2(a, b *int16, kp int, c *float32, ldc int, bias, mult, zeros *float32, qlo, qhi float32)
// qKernelRqAVX2 for the first 4 rows of one 6-row panel of A (the last, partial panel): 4
// rows computed and stored, nothing past them touched.
TEXT ·qKernelRq4AVX2(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ kp+16(FP), CX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ bias+40(FP), R9
	MOVQ mult+48(FP), R10
	MOVQ zeros+56(FP), R11
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	VPXOR Y8, Y8, Y8
	VPXOR Y9, Y9, Y9
	VPXOR Y10, Y10, Y10
	VPXOR Y11, Y11, Y11
r4kloop:
	VMOVDQU (DI), Y0
	VMOVDQU 32(DI), Y1
	VPBROADCASTD 0(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y4, Y4
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y5, Y5
	VPBROADCASTD 4(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y6, Y6
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y7, Y7
	VPBROADCASTD 8(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y8, Y8
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y9, Y9
	VPBROADCASTD 12(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y10, Y10
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y11, Y11
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ r4kloop
	VBROADCASTSS qlo+64(FP), Y2
	VBROADCASTSS qhi+68(FP), Y3
	VBROADCASTSS 0(R9), Y0
	VBROADCASTSS 0(R10), Y1
	VCVTDQ2PS Y4, Y4
	VADDPS Y0, Y4, Y4
	VMULPS Y1, Y4, Y4
	VROUNDPS $0, Y4, Y4
	VMAXPS Y4, Y2, Y4
	VMINPS Y4, Y3, Y4
	VADDPS (R11), Y4, Y4
	VMOVUPS Y4, (DX)
	VCVTDQ2PS Y5, Y5
	VADDPS Y0, Y5, Y5
	VMULPS Y1, Y5, Y5
	VROUNDPS $0, Y5, Y5
	VMAXPS Y5, Y2, Y5
	VMINPS Y5, Y3, Y5
	VADDPS (R11), Y5, Y5
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 4(R9), Y0
	VBROADCASTSS 4(R10), Y1
	VCVTDQ2PS Y6, Y6
	VADDPS Y0, Y6, Y6
	VMULPS Y1, Y6, Y6
	VROUNDPS $0, Y6, Y6
	VMAXPS Y6, Y2, Y6
	VMINPS Y6, Y3, Y6
	VADDPS (R11), Y6, Y6
	VMOVUPS Y6, (DX)
	VCVTDQ2PS Y7, Y7
	VADDPS Y0, Y7, Y7
	VMULPS Y1, Y7, Y7
	VROUNDPS $0, Y7, Y7
	VMAXPS Y7, Y2, Y7
	VMINPS Y7, Y3, Y7
	VADDPS (R11), Y7, Y7
	VMOVUPS Y7, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 8(R9), Y0
	VBROADCASTSS 8(R10), Y1
	VCVTDQ2PS Y8, Y8
	VADDPS Y0, Y8, Y8
	VMULPS Y1, Y8, Y8
	VROUNDPS $0, Y8, Y8
	VMAXPS Y8, Y2, Y8
	VMINPS Y8, Y3, Y8
	VADDPS (R11), Y8, Y8
	VMOVUPS Y8, (DX)
	VCVTDQ2PS Y9, Y9
	VADDPS Y0, Y9, Y9
	VMULPS Y1, Y9, Y9
	VROUNDPS $0, Y9, Y9
	VMAXPS Y9, Y2, Y9
	VMINPS Y9, Y3, Y9
	VADDPS (R11), Y9, Y9
	VMOVUPS Y9, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 12(R9), Y0
	VBROADCASTSS 12(R10), Y1
	VCVTDQ2PS Y10, Y10
	VADDPS Y0, Y10, Y10
	VMULPS Y1, Y10, Y10
	VROUNDPS $0, Y10, Y10
	VMAXPS Y10, Y2, Y10
	VMINPS Y10, Y3, Y10
	VADDPS (R11), Y10, Y10
	VMOVUPS Y10, (DX)
	VCVTDQ2PS Y11, Y11
	VADDPS Y0, Y11, Y11
	VMULPS Y1, Y11, Y11
	VROUNDPS $0, Y11, Y11
	VMAXPS Y11, Y2, Y11
	VMINPS Y11, Y3, Y11
	VADDPS (R11), Y11, Y11
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET

// func qKernelRq2AVX2(a, b *int16, kp int, c *float32, ldc int, bias, mult, zeros *float32, qlo, qhi float32)
// qKernelRqAVX2 for the first 2 rows of one 6-row panel of A (the last, partial panel): 2
// rows computed and stored, nothing past them touched.
TEXT ·qKernelRq2AVX2(SB), NOSPLIT, $0-72
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ kp+16(FP), CX
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ bias+40(FP), R9
	MOVQ mult+48(FP), R10
	MOVQ zeros+56(FP), R11
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
r2kloop:
	VMOVDQU (DI), Y0
	VMOVDQU 32(DI), Y1
	VPBROADCASTD 0(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y4, Y4
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y5, Y5
	VPBROADCASTD 4(SI), Y2
	VPMADDWD Y0, Y2, Y3
	VPADDD Y3, Y6, Y6
	VPMADDWD Y1, Y2, Y3
	VPADDD Y3, Y7, Y7
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ r2kloop
	VBROADCASTSS qlo+64(FP), Y2
	VBROADCASTSS qhi+68(FP), Y3
	VBROADCASTSS 0(R9), Y0
	VBROADCASTSS 0(R10), Y1
	VCVTDQ2PS Y4, Y4
	VADDPS Y0, Y4, Y4
	VMULPS Y1, Y4, Y4
	VROUNDPS $0, Y4, Y4
	VMAXPS Y4, Y2, Y4
	VMINPS Y4, Y3, Y4
	VADDPS (R11), Y4, Y4
	VMOVUPS Y4, (DX)
	VCVTDQ2PS Y5, Y5
	VADDPS Y0, Y5, Y5
	VMULPS Y1, Y5, Y5
	VROUNDPS $0, Y5, Y5
	VMAXPS Y5, Y2, Y5
	VMINPS Y5, Y3, Y5
	VADDPS (R11), Y5, Y5
	VMOVUPS Y5, 32(DX)
	ADDQ R8, DX
	VBROADCASTSS 4(R9), Y0
	VBROADCASTSS 4(R10), Y1
	VCVTDQ2PS Y6, Y6
	VADDPS Y0, Y6, Y6
	VMULPS Y1, Y6, Y6
	VROUNDPS $0, Y6, Y6
	VMAXPS Y6, Y2, Y6
	VMINPS Y6, Y3, Y6
	VADDPS (R11), Y6, Y6
	VMOVUPS Y6, (DX)
	VCVTDQ2PS Y7, Y7
	VADDPS Y0, Y7, Y7
	VMULPS Y1, Y7, Y7
	VROUNDPS $0, Y7, Y7
	VMAXPS Y7, Y2, Y7
	VMINPS Y7, Y3, Y7
	VADDPS (R11), Y7, Y7
	VMOVUPS Y7, 32(DX)
	VZEROUPPER
	RET

// The AVX-512 VNNI kernels (the avx512 level). VPDPWSSD multiplies the 16 int16 pairs of a
// zmm of B by a row's broadcast pair of A and adds each pair's two products into 16 int32
// lanes, without saturation: VPMADDWD and VPADDD in one instruction, the same integers. The
// epilogue is qKernelRqAVX2's in zmm, step for step (VRNDSCALEPS $0 rounds as VROUNDPS $0 does,
// the clamps keep their operand order), so the bits are the AVX2 kernels'.
//
// Both kernels take
//	a, b *int16, kp int, c *float32, ldc int, bias, mult *float32, bstep int, qlo, qhi float32,
//	panels, rows, sstride, mask, mode int
// and run panels consecutive 6-row panels of A (their tiles one below the other in C, 6*ldc
// apart) against one strip of B (qKernelZ1) or two (qKernelZ2: the second sstride bytes after
// the first, its tile 16 columns right of the first's). Of the last panel only the first rows
// rows are stored (and their bias and mult read); bias and mult advance bstep bytes a panel.
// mask selects the columns stored of the last strip (0xffff: all 16). mode 0 stores the
// requantized values, mode 1 the same with non-temporal stores (c and 4*ldc multiples of 64, mask
// 0xffff; fenced before returning), mode 2 the int32 sums converted to float32 (bias, mult,
// qlo and qhi unused). kp, panels, rows >= 1.

// RQZ requantizes the int32 lanes of acc with bias Z26 and multiplier Z27.
#define RQZ(acc) \
	VCVTDQ2PS acc, acc; \
	VADDPS Z26, acc, acc; \
	VMULPS Z27, acc, acc; \
	VRNDSCALEPS $0, acc, acc; \
	VMAXPS acc, Z28, acc; \
	VMINPS acc, Z29, acc; \
	VADDPS Z30, acc, acc

#define LDRQ(off) \
	VBROADCASTSS off(R9), Z26; \
	VBROADCASTSS off(R10), Z27

// One row of a two-strip tile, requantized (stored, NT-stored) or converted.
#define ROW2RQ(off, acc0, acc1) \
	LDRQ(off); \
	RQZ(acc0); \
	RQZ(acc1); \
	VMOVUPS acc0, (DX); \
	VMOVUPS acc1, K1, 64(DX); \
	ADDQ R8, DX

#define ROW2NT(off, acc0, acc1) \
	LDRQ(off); \
	RQZ(acc0); \
	RQZ(acc1); \
	VMOVNTPS acc0, (DX); \
	VMOVNTPS acc1, 64(DX); \
	ADDQ R8, DX

#define ROW2RAW(acc0, acc1) \
	VCVTDQ2PS acc0, acc0; \
	VCVTDQ2PS acc1, acc1; \
	VMOVUPS acc0, (DX); \
	VMOVUPS acc1, K1, 64(DX); \
	ADDQ R8, DX

// One row of A's pair broadcast into Z2, times both strips.
#define PAIR2(off, acc0, acc1) \
	VPBROADCASTD off(SI), Z2; \
	VPDPWSSD Z0, Z2, acc0; \
	VPDPWSSD Z1, Z2, acc1

// func qKernelZ2(a, b *int16, kp int, c *float32, ldc int, bias, mult *float32, bstep int, qlo, qhi float32, panels, rows, sstride, mask, mode int)
// 6 rows x 32 columns: 12 accumulators Z4..Z15 (row i in Z(4+2i), Z(5+2i)).
TEXT ·qKernelZ2(SB), NOSPLIT, $0-112
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), R13
	MOVQ c+24(FP), BX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ bias+40(FP), R9
	MOVQ mult+48(FP), R10
	MOVQ bstep+56(FP), R11
	MOVQ panels+72(FP), R12
	MOVQ sstride+88(FP), AX
	MOVQ mask+96(FP), R14
	KMOVW R14, K1
	VBROADCASTSS qlo+64(FP), Z28
	VBROADCASTSS qhi+68(FP), Z29
	VPXORD Z30, Z30, Z30
z2panel:
	MOVQ R13, DI
	MOVQ kp+16(FP), CX
	MOVQ BX, DX
	MOVQ $6, R14
	CMPQ R12, $1
	JNE z2zero
	MOVQ rows+80(FP), R14
z2zero:
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
z2k:
	VMOVDQU32 (DI), Z0
	VMOVDQU32 (DI)(AX*1), Z1
	PAIR2(0, Z4, Z5)
	PAIR2(4, Z6, Z7)
	PAIR2(8, Z8, Z9)
	PAIR2(12, Z10, Z11)
	PAIR2(16, Z12, Z13)
	PAIR2(20, Z14, Z15)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ z2k
	MOVQ mode+104(FP), CX
	CMPQ CX, $1
	JEQ z2nt
	JGT z2raw
	ROW2RQ(0, Z4, Z5)
	DECQ R14
	JZ z2next
	ROW2RQ(4, Z6, Z7)
	DECQ R14
	JZ z2next
	ROW2RQ(8, Z8, Z9)
	DECQ R14
	JZ z2next
	ROW2RQ(12, Z10, Z11)
	DECQ R14
	JZ z2next
	ROW2RQ(16, Z12, Z13)
	DECQ R14
	JZ z2next
	ROW2RQ(20, Z14, Z15)
	JMP z2next
z2nt:
	ROW2NT(0, Z4, Z5)
	DECQ R14
	JZ z2next
	ROW2NT(4, Z6, Z7)
	DECQ R14
	JZ z2next
	ROW2NT(8, Z8, Z9)
	DECQ R14
	JZ z2next
	ROW2NT(12, Z10, Z11)
	DECQ R14
	JZ z2next
	ROW2NT(16, Z12, Z13)
	DECQ R14
	JZ z2next
	ROW2NT(20, Z14, Z15)
	JMP z2next
z2raw:
	ROW2RAW(Z4, Z5)
	DECQ R14
	JZ z2next
	ROW2RAW(Z6, Z7)
	DECQ R14
	JZ z2next
	ROW2RAW(Z8, Z9)
	DECQ R14
	JZ z2next
	ROW2RAW(Z10, Z11)
	DECQ R14
	JZ z2next
	ROW2RAW(Z12, Z13)
	DECQ R14
	JZ z2next
	ROW2RAW(Z14, Z15)
z2next:
	LEAQ (R8)(R8*2), CX
	LEAQ (BX)(CX*2), BX
	ADDQ R11, R9
	ADDQ R11, R10
	DECQ R12
	JNZ z2panel
	CMPQ mode+104(FP), $1
	JNE z2ret
	SFENCE
z2ret:
	VZEROUPPER
	RET

// One row of a three-strip tile.
#define ROW3RQ(off, acc0, acc1, acc2) \
	LDRQ(off); \
	RQZ(acc0); \
	RQZ(acc1); \
	RQZ(acc2); \
	VMOVUPS acc0, (DX); \
	VMOVUPS acc1, 64(DX); \
	VMOVUPS acc2, K1, 128(DX); \
	ADDQ R8, DX

#define ROW3NT(off, acc0, acc1, acc2) \
	LDRQ(off); \
	RQZ(acc0); \
	RQZ(acc1); \
	RQZ(acc2); \
	VMOVNTPS acc0, (DX); \
	VMOVNTPS acc1, 64(DX); \
	VMOVNTPS acc2, 128(DX); \
	ADDQ R8, DX

#define ROW3RAW(acc0, acc1, acc2) \
	VCVTDQ2PS acc0, acc0; \
	VCVTDQ2PS acc1, acc1; \
	VCVTDQ2PS acc2, acc2; \
	VMOVUPS acc0, (DX); \
	VMOVUPS acc1, 64(DX); \
	VMOVUPS acc2, K1, 128(DX); \
	ADDQ R8, DX

#define PAIR3(off, acc0, acc1, acc2) \
	VPBROADCASTD off(SI), Z2; \
	VPDPWSSD Z0, Z2, acc0; \
	VPDPWSSD Z1, Z2, acc1; \
	VPDPWSSD Z3, Z2, acc2

// func qKernelZ3(a, b *int16, kp int, c *float32, ldc int, bias, mult *float32, bstep int, qlo, qhi float32, panels, rows, sstride, mask, mode int)
// 6 rows x 48 columns: 18 accumulators Z4..Z21 (row i in Z(4+3i)..Z(6+3i)), the third strip
// 2*sstride bytes after the first; for n of 48 (MobileNetV2's 7x7 layers), where two passes
// would read A twice.
TEXT ·qKernelZ3(SB), NOSPLIT, $0-112
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), R13
	MOVQ c+24(FP), BX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ bias+40(FP), R9
	MOVQ mult+48(FP), R10
	MOVQ bstep+56(FP), R11
	MOVQ panels+72(FP), R12
	MOVQ sstride+88(FP), AX
	MOVQ mask+96(FP), R14
	KMOVW R14, K1
	VBROADCASTSS qlo+64(FP), Z28
	VBROADCASTSS qhi+68(FP), Z29
	VPXORD Z30, Z30, Z30
z3panel:
	MOVQ R13, DI
	MOVQ kp+16(FP), CX
	MOVQ BX, DX
	MOVQ $6, R14
	CMPQ R12, $1
	JNE z3zero
	MOVQ rows+80(FP), R14
z3zero:
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
z3k:
	VMOVDQU32 (DI), Z0
	VMOVDQU32 (DI)(AX*1), Z1
	VMOVDQU32 (DI)(AX*2), Z3
	PAIR3(0, Z4, Z5, Z6)
	PAIR3(4, Z7, Z8, Z9)
	PAIR3(8, Z10, Z11, Z12)
	PAIR3(12, Z13, Z14, Z15)
	PAIR3(16, Z16, Z17, Z18)
	PAIR3(20, Z19, Z20, Z21)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ z3k
	MOVQ mode+104(FP), CX
	CMPQ CX, $1
	JEQ z3nt
	JGT z3raw
	ROW3RQ(0, Z4, Z5, Z6)
	DECQ R14
	JZ z3next
	ROW3RQ(4, Z7, Z8, Z9)
	DECQ R14
	JZ z3next
	ROW3RQ(8, Z10, Z11, Z12)
	DECQ R14
	JZ z3next
	ROW3RQ(12, Z13, Z14, Z15)
	DECQ R14
	JZ z3next
	ROW3RQ(16, Z16, Z17, Z18)
	DECQ R14
	JZ z3next
	ROW3RQ(20, Z19, Z20, Z21)
	JMP z3next
z3nt:
	ROW3NT(0, Z4, Z5, Z6)
	DECQ R14
	JZ z3next
	ROW3NT(4, Z7, Z8, Z9)
	DECQ R14
	JZ z3next
	ROW3NT(8, Z10, Z11, Z12)
	DECQ R14
	JZ z3next
	ROW3NT(12, Z13, Z14, Z15)
	DECQ R14
	JZ z3next
	ROW3NT(16, Z16, Z17, Z18)
	DECQ R14
	JZ z3next
	ROW3NT(20, Z19, Z20, Z21)
	JMP z3next
z3raw:
	ROW3RAW(Z4, Z5, Z6)
	DECQ R14
	JZ z3next
	ROW3RAW(Z7, Z8, Z9)
	DECQ R14
	JZ z3next
	ROW3RAW(Z10, Z11, Z12)
	DECQ R14
	JZ z3next
	ROW3RAW(Z13, Z14, Z15)
	DECQ R14
	JZ z3next
	ROW3RAW(Z16, Z17, Z18)
	DECQ R14
	JZ z3next
	ROW3RAW(Z19, Z20, Z21)
z3next:
	LEAQ (R8)(R8*2), CX
	LEAQ (BX)(CX*2), BX
	ADDQ R11, R9
	ADDQ R11, R10
	DECQ R12
	JNZ z3panel
	CMPQ mode+104(FP), $1
	JNE z3ret
	SFENCE
z3ret:
	VZEROUPPER
	RET

// One row of a one-strip tile.
#define ROW1RQ(off, acc) \
	LDRQ(off); \
	RQZ(acc); \
	VMOVUPS acc, K1, (DX); \
	ADDQ R8, DX

#define ROW1NT(off, acc) \
	LDRQ(off); \
	RQZ(acc); \
	VMOVNTPS acc, (DX); \
	ADDQ R8, DX

#define ROW1RAW(acc) \
	VCVTDQ2PS acc, acc; \
	VMOVUPS acc, K1, (DX); \
	ADDQ R8, DX

// The six rows of A's pair at off(SI) times the strip's pair in zb, into acc0..acc5.
#define PAIR1(zb, off, acc0, acc1, acc2, acc3, acc4, acc5) \
	VPDPWSSD.BCST off(SI), zb, acc0; \
	VPDPWSSD.BCST off+4(SI), zb, acc1; \
	VPDPWSSD.BCST off+8(SI), zb, acc2; \
	VPDPWSSD.BCST off+12(SI), zb, acc3; \
	VPDPWSSD.BCST off+16(SI), zb, acc4; \
	VPDPWSSD.BCST off+20(SI), zb, acc5

// func qKernelZ1(a, b *int16, kp int, c *float32, ldc int, bias, mult *float32, bstep int, qlo, qhi float32, panels, rows, sstride, mask, mode int)
// 6 rows x 16 columns: the even pairs summed in Z4..Z9, the odd ones in Z10..Z15 (two
// independent chains per row), added at the end (exact integers, so the order is free).
TEXT ·qKernelZ1(SB), NOSPLIT, $0-112
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), R13
	MOVQ c+24(FP), BX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ bias+40(FP), R9
	MOVQ mult+48(FP), R10
	MOVQ bstep+56(FP), R11
	MOVQ panels+72(FP), R12
	MOVQ mask+96(FP), R14
	KMOVW R14, K1
	VBROADCASTSS qlo+64(FP), Z28
	VBROADCASTSS qhi+68(FP), Z29
	VPXORD Z30, Z30, Z30
z1panel:
	MOVQ R13, DI
	MOVQ kp+16(FP), CX
	MOVQ BX, DX
	MOVQ $6, R14
	CMPQ R12, $1
	JNE z1zero
	MOVQ rows+80(FP), R14
z1zero:
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	SHRQ $1, CX
	JZ z1tail
z1k:
	VMOVDQU32 (DI), Z0
	VMOVDQU32 64(DI), Z1
	PAIR1(Z0, 0, Z4, Z5, Z6, Z7, Z8, Z9)
	PAIR1(Z1, 24, Z10, Z11, Z12, Z13, Z14, Z15)
	ADDQ $48, SI
	ADDQ $128, DI
	DECQ CX
	JNZ z1k
z1tail:
	TESTQ $1, kp+16(FP)
	JZ z1sum
	VMOVDQU32 (DI), Z0
	PAIR1(Z0, 0, Z4, Z5, Z6, Z7, Z8, Z9)
	ADDQ $24, SI
z1sum:
	VPADDD Z10, Z4, Z4
	VPADDD Z11, Z5, Z5
	VPADDD Z12, Z6, Z6
	VPADDD Z13, Z7, Z7
	VPADDD Z14, Z8, Z8
	VPADDD Z15, Z9, Z9
	MOVQ mode+104(FP), CX
	CMPQ CX, $1
	JEQ z1nt
	JGT z1raw
	ROW1RQ(0, Z4)
	DECQ R14
	JZ z1next
	ROW1RQ(4, Z5)
	DECQ R14
	JZ z1next
	ROW1RQ(8, Z6)
	DECQ R14
	JZ z1next
	ROW1RQ(12, Z7)
	DECQ R14
	JZ z1next
	ROW1RQ(16, Z8)
	DECQ R14
	JZ z1next
	ROW1RQ(20, Z9)
	JMP z1next
z1nt:
	ROW1NT(0, Z4)
	DECQ R14
	JZ z1next
	ROW1NT(4, Z5)
	DECQ R14
	JZ z1next
	ROW1NT(8, Z6)
	DECQ R14
	JZ z1next
	ROW1NT(12, Z7)
	DECQ R14
	JZ z1next
	ROW1NT(16, Z8)
	DECQ R14
	JZ z1next
	ROW1NT(20, Z9)
	JMP z1next
z1raw:
	ROW1RAW(Z4)
	DECQ R14
	JZ z1next
	ROW1RAW(Z5)
	DECQ R14
	JZ z1next
	ROW1RAW(Z6)
	DECQ R14
	JZ z1next
	ROW1RAW(Z7)
	DECQ R14
	JZ z1next
	ROW1RAW(Z8)
	DECQ R14
	JZ z1next
	ROW1RAW(Z9)
z1next:
	LEAQ (R8)(R8*2), CX
	LEAQ (BX)(CX*2), BX
	ADDQ R11, R9
	ADDQ R11, R10
	DECQ R12
	JNZ z1panel
	CMPQ mode+104(FP), $1
	JNE z1ret
	SFENCE
z1ret:
	VZEROUPPER
	RET

// The word order of a VPACKSSDW of rows r0 and r1 (per 128-bit lane r0[0..3] r1[0..3]) to
// pairs (per lane r0[0] r1[0] r0[1] r1[1] ...).
DATA qPairShuf<>+0(SB)/8, $0x0b0a030209080100
DATA qPairShuf<>+8(SB)/8, $0x0f0e07060d0c0504
GLOBL qPairShuf<>(SB), RODATA|NOPTR, $16

// func packQBZ(d *int16, r0, r1 *float32, count, r0step, r1step, dstep int) bool
// packQBAVX2 in zmm: 16 columns of both rows a step, one zmm of pairs stored. The checks:
// converted and converted back, a level equals itself but for the sign of a zero, so the
// differences' bits (their sign bits cleared at the end) are ORed into Z14 with one VPTERNLOGD;
// the levels saturated to int16 by the VPACKSSDW that also pairs them have their largest
// magnitude kept in Z15 (anything beyond int16, -2^31 for NaN and infinities included, stays
// beyond 1024). count >= 1.
TEXT ·packQBZ(SB), NOSPLIT, $0-57
	MOVQ d+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), BX
	MOVQ count+24(FP), CX
	MOVQ r0step+32(FP), R8
	MOVQ r1step+40(FP), R9
	MOVQ dstep+48(FP), R10
	VBROADCASTI32X4 qPairShuf<>(SB), Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
pzloop:
	PREFETCHT0 (SI)(R8*8)
	PREFETCHT0 (BX)(R9*8)
	VMOVUPS (SI), Z0
	VMOVUPS (BX), Z1
	VCVTPS2DQ Z0, Z2
	VCVTPS2DQ Z1, Z3
	VCVTDQ2PS Z2, Z4
	VCVTDQ2PS Z3, Z5
	VPTERNLOGD $0xf6, Z4, Z0, Z14
	VPTERNLOGD $0xf6, Z5, Z1, Z14
	VPACKSSDW Z3, Z2, Z6
	VPSHUFB Z13, Z6, Z7
	VMOVDQU32 Z7, (DI)
	VPABSW Z6, Z6
	VPMAXUW Z6, Z15, Z15
	ADDQ R8, SI
	ADDQ R9, BX
	ADDQ R10, DI
	DECQ CX
	JNZ pzloop
	MOVL $0x04000400, AX
	VPBROADCASTD AX, Z12
	VPSUBUSW Z12, Z15, Z15
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z12
	VPANDD Z12, Z14, Z14
	VPORD Z14, Z15, Z15
	VPTESTMD Z15, Z15, K1
	KORTESTW K1, K1
	SETEQ ret+56(FP)
	VZEROUPPER
	RET
