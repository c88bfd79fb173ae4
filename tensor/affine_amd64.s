//go:build amd64 && !purego

#include "textflag.h"

// func affineClampAVX2(dst, src *float32, n int, a, c, lo, hi float32)
// dst[i] = min(max(src[i]*a + c, lo), hi); 32 per iteration, then 8, then 1. The max and min
// take the value as the operand returned for NaN, so NaN propagates as in affineClampGo.
TEXT ·affineClampAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS a+24(FP), Y12
	VBROADCASTSS c+28(FP), Y13
	VBROADCASTSS lo+32(FP), Y14
	VBROADCASTSS hi+36(FP), Y15
	MOVQ CX, BX
	SHRQ $5, BX
	JZ ac8
ac32:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VFMADD213PS Y13, Y12, Y0
	VFMADD213PS Y13, Y12, Y1
	VFMADD213PS Y13, Y12, Y2
	VFMADD213PS Y13, Y12, Y3
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
	VMOVUPS (SI), Y0
	VFMADD213PS Y13, Y12, Y0
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
	VFMADD213SS X13, X12, X0
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
