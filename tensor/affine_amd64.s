//go:build amd64 && !purego

#include "textflag.h"

// func affineClampAVX2(dst, src *float32, n int, b, a, c, lo, hi float32)
// dst[i] = min(max((src[i] + b)*a + c, lo), hi), each step rounded (no FMA); 32 per iteration,
// then 8, then 1. The max and min take the value as the operand returned for NaN, so NaN
// propagates as in affineClampGo.
TEXT ·affineClampAVX2(SB), NOSPLIT, $0-44
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Y11
	VBROADCASTSS a+28(FP), Y12
	VBROADCASTSS c+32(FP), Y13
	VBROADCASTSS lo+36(FP), Y14
	VBROADCASTSS hi+40(FP), Y15
	MOVQ CX, BX
	SHRQ $5, BX
	JZ ac8
ac32:
	VADDPS (SI), Y11, Y0
	VADDPS 32(SI), Y11, Y1
	VADDPS 64(SI), Y11, Y2
	VADDPS 96(SI), Y11, Y3
	VMULPS Y12, Y0, Y0
	VMULPS Y12, Y1, Y1
	VMULPS Y12, Y2, Y2
	VMULPS Y12, Y3, Y3
	VADDPS Y13, Y0, Y0
	VADDPS Y13, Y1, Y1
	VADDPS Y13, Y2, Y2
	VADDPS Y13, Y3, Y3
	VMAXPS Y0, Y14, Y0
	VMAXPS Y1, Y14, Y1
	VMAXPS Y2, Y14, Y2
	VMAXPS Y3, Y14, Y3
	VMINPS Y0, Y15, Y0
	VMINPS Y1, Y15, Y1
	VMINPS Y2, Y15, Y2
	VMINPS Y3, Y15, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ BX
	JNZ ac32
ac8:
	ANDQ $31, CX
	MOVQ CX, BX
	SHRQ $3, BX
	JZ ac1
ac8loop:
	VADDPS (SI), Y11, Y0
	VMULPS Y12, Y0, Y0
	VADDPS Y13, Y0, Y0
	VMAXPS Y0, Y14, Y0
	VMINPS Y0, Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ BX
	JNZ ac8loop
ac1:
	ANDQ $7, CX
	JZ acdone
ac1loop:
	VMOVSS (SI), X0
	VADDSS X11, X0, X0
	VMULSS X12, X0, X0
	VADDSS X13, X0, X0
	VMAXSS X0, X14, X0
	VMINSS X0, X15, X0
	VMOVSS X0, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JNZ ac1loop
acdone:
	VZEROUPPER
	RET

// func fakeQuantAVX2(dst, src *float32, n int, scale, zp, qmin, qmax float32)
// n a multiple of 8. VROUNDPS $0 rounds to nearest even; max and min return the value operand
// for NaN.
TEXT ·fakeQuantAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y12
	VBROADCASTSS zp+28(FP), Y13
	VBROADCASTSS qmin+32(FP), Y14
	VBROADCASTSS qmax+36(FP), Y15
	SHRQ $3, CX
	JZ fqdone
fqloop:
	VMOVUPS (SI), Y0
	VDIVPS Y12, Y0, Y0
	VROUNDPS $0, Y0, Y0
	VADDPS Y13, Y0, Y0
	VMAXPS Y0, Y14, Y0
	VMINPS Y0, Y15, Y0
	VSUBPS Y13, Y0, Y0
	VMULPS Y12, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ fqloop
fqdone:
	VZEROUPPER
	RET

// func affineClampQuantAVX2(dst, src *float32, n int, b, a, c, lo, hi, scale, zp, qmin, qmax float32)
// n a multiple of 8. The steps of affineClampAVX2 then fakeQuantAVX2 on the value in a
// register.
TEXT ·affineClampQuantAVX2(SB), NOSPLIT, $0-60
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Y8
	VBROADCASTSS a+28(FP), Y9
	VBROADCASTSS c+32(FP), Y10
	VBROADCASTSS lo+36(FP), Y11
	VBROADCASTSS hi+40(FP), Y12
	VBROADCASTSS scale+44(FP), Y7
	VBROADCASTSS zp+48(FP), Y13
	VBROADCASTSS qmin+52(FP), Y14
	VBROADCASTSS qmax+56(FP), Y15
	SHRQ $3, CX
	JZ aqdone
aqloop:
	VADDPS (SI), Y8, Y0
	VMULPS Y9, Y0, Y0
	VADDPS Y10, Y0, Y0
	VMAXPS Y0, Y11, Y0
	VMINPS Y0, Y12, Y0
	VDIVPS Y7, Y0, Y0
	VROUNDPS $0, Y0, Y0
	VADDPS Y13, Y0, Y0
	VMAXPS Y0, Y14, Y0
	VMINPS Y0, Y15, Y0
	VSUBPS Y13, Y0, Y0
	VMULPS Y7, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ aqloop
aqdone:
	VZEROUPPER
	RET

// func requantAVX2(dst, src *float32, n int, b, a, qlo, qhi float32)
// n a multiple of 8. The unit-scale case of affineClampQuantAVX2 with no shift and no clamp
// before the rounding: dst = min(max(round((src + b)*a), qlo), qhi) + 0, where qlo and qhi are
// qmin and qmax minus the zero point. Adding and subtracting the (integer) zero point around
// the clamp is exact, and the final + 0 turns -0 into +0 as the subtraction did, so the result
// is the same bit for bit in fewer steps.
TEXT ·requantAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Y8
	VBROADCASTSS a+28(FP), Y9
	VBROADCASTSS qlo+32(FP), Y14
	VBROADCASTSS qhi+36(FP), Y15
	VXORPS Y13, Y13, Y13
	SHRQ $4, CX
	JZ rqone
rqloop:
	VADDPS (SI), Y8, Y0
	VADDPS 32(SI), Y8, Y1
	VMULPS Y9, Y0, Y0
	VMULPS Y9, Y1, Y1
	VROUNDPS $0, Y0, Y0
	VROUNDPS $0, Y1, Y1
	VMAXPS Y0, Y14, Y0
	VMAXPS Y1, Y14, Y1
	VMINPS Y0, Y15, Y0
	VMINPS Y1, Y15, Y1
	VADDPS Y13, Y0, Y0
	VADDPS Y13, Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ rqloop
rqone:
	MOVQ n+16(FP), CX
	ANDQ $8, CX
	JZ rqdone
	VADDPS (SI), Y8, Y0
	VMULPS Y9, Y0, Y0
	VROUNDPS $0, Y0, Y0
	VMAXPS Y0, Y14, Y0
	VMINPS Y0, Y15, Y0
	VADDPS Y13, Y0, Y0
	VMOVUPS Y0, (DI)
rqdone:
	VZEROUPPER
	RET
