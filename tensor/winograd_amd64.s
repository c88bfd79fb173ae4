//go:build amd64 && !purego

#include "textflag.h"

// Winograd F(4x4, 3x3) transform kernels (see winograd.go): each applies one 1-D transform to
// 8 lanes at a time across n elements (a multiple of 8) of six source rows, writing rows
// dstride floats apart.

DATA winoFour<>+0(SB)/4, $4.0
GLOBL winoFour<>(SB), RODATA|NOPTR, $4
DATA winoFive<>+0(SB)/4, $5.0
GLOBL winoFive<>(SB), RODATA|NOPTR, $4
DATA winoTwo<>+0(SB)/4, $2.0
GLOBL winoTwo<>(SB), RODATA|NOPTR, $4
DATA winoEight<>+0(SB)/4, $8.0
GLOBL winoEight<>(SB), RODATA|NOPTR, $4

// func winoBT6AVX2(src *[6]*float32, dst *float32, dstride, n int)
// Bᵀ: out0 = 4 d0 - 5 d2 + d4, out1 = -4 (d1 + d2) + d3 + d4, out2 = 4 (d1 - d2) - d3 + d4,
// out3 = 2 (d3 - d1) - d2 + d4, out4 = 2 (d1 - d3) - d2 + d4, out5 = 4 d1 - 5 d3 + d5.
TEXT ·winoBT6AVX2(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ 32(SI), R12
	MOVQ 40(SI), R13
	MOVQ dst+8(FP), DI
	MOVQ dstride+16(FP), DX
	SHLQ $2, DX
	LEAQ (DI)(DX*2), BX
	ADDQ DX, BX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ AX, AX
	VBROADCASTSS winoFour<>(SB), Y12
	VBROADCASTSS winoFive<>(SB), Y13
	VBROADCASTSS winoTwo<>(SB), Y14
	CMPQ AX, CX
	JGE btdone
btloop:
	VMOVUPS (R8)(AX*1), Y0
	VMOVUPS (R9)(AX*1), Y1
	VMOVUPS (R10)(AX*1), Y2
	VMOVUPS (R11)(AX*1), Y3
	VMOVUPS (R12)(AX*1), Y4
	VMOVUPS (R13)(AX*1), Y5
	// out0
	VMOVAPS Y4, Y6
	VFMADD231PS Y12, Y0, Y6
	VFNMADD231PS Y13, Y2, Y6
	// out1
	VADDPS Y1, Y2, Y7
	VADDPS Y3, Y4, Y8
	VFNMADD231PS Y12, Y7, Y8
	// out2
	VSUBPS Y2, Y1, Y9
	VSUBPS Y3, Y4, Y10
	VFMADD231PS Y12, Y9, Y10
	// out3, out4
	VSUBPS Y1, Y3, Y11
	VSUBPS Y2, Y4, Y15
	VMOVAPS Y15, Y7
	VFNMADD231PS Y14, Y11, Y7
	VFMADD231PS Y14, Y11, Y15
	// out5
	VFMADD231PS Y12, Y1, Y5
	VFNMADD231PS Y13, Y3, Y5
	VMOVUPS Y6, (DI)
	VMOVUPS Y8, (DI)(DX*1)
	VMOVUPS Y10, (DI)(DX*2)
	VMOVUPS Y15, (BX)
	VMOVUPS Y7, (BX)(DX*1)
	VMOVUPS Y5, (BX)(DX*2)
	ADDQ $32, AX
	ADDQ $32, DI
	ADDQ $32, BX
	CMPQ AX, CX
	JLT btloop
btdone:
	VZEROUPPER
	RET

// func winoAT6AVX2(src *[6]*float32, dst *float32, dstride, n int)
// Aᵀ: with a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4:
// out0 = m0 + a + c, out1 = b + 2 d, out2 = a + 4 c, out3 = b + 8 d + m5.
TEXT ·winoAT6AVX2(SB), NOSPLIT, $0-32
	MOVQ src+0(FP), SI
	MOVQ 0(SI), R8
	MOVQ 8(SI), R9
	MOVQ 16(SI), R10
	MOVQ 24(SI), R11
	MOVQ 32(SI), R12
	MOVQ 40(SI), R13
	MOVQ dst+8(FP), DI
	MOVQ dstride+16(FP), DX
	SHLQ $2, DX
	LEAQ (DI)(DX*2), BX
	ADDQ DX, BX
	MOVQ n+24(FP), CX
	SHLQ $2, CX
	XORQ AX, AX
	VBROADCASTSS winoTwo<>(SB), Y12
	VBROADCASTSS winoFour<>(SB), Y13
	VBROADCASTSS winoEight<>(SB), Y14
	CMPQ AX, CX
	JGE atdone
atloop:
	VMOVUPS (R8)(AX*1), Y0
	VMOVUPS (R9)(AX*1), Y1
	VMOVUPS (R10)(AX*1), Y2
	VMOVUPS (R11)(AX*1), Y3
	VMOVUPS (R12)(AX*1), Y4
	VMOVUPS (R13)(AX*1), Y5
	VADDPS Y2, Y1, Y6  // a
	VSUBPS Y2, Y1, Y7  // b
	VADDPS Y4, Y3, Y8  // c
	VSUBPS Y4, Y3, Y9  // d
	VADDPS Y6, Y0, Y0
	VADDPS Y8, Y0, Y0  // out0
	VMOVAPS Y7, Y10
	VFMADD231PS Y12, Y9, Y10 // out1
	VFMADD231PS Y13, Y8, Y6  // out2
	VADDPS Y5, Y7, Y7
	VFMADD231PS Y14, Y9, Y7  // out3
	VMOVUPS Y0, (DI)
	VMOVUPS Y10, (DI)(DX*1)
	VMOVUPS Y6, (DI)(DX*2)
	VMOVUPS Y7, (BX)
	ADDQ $32, AX
	ADDQ $32, DI
	ADDQ $32, BX
	CMPQ AX, CX
	JLT atloop
atdone:
	VZEROUPPER
	RET
