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

// func winoBT6PAVX2(src *[6]*float32, dst *float32, dstride, n, jump int)
// winoBT6AVX2 writing into panels: after every 16 elements the destinations skip jump floats.
// Bᵀ: out0 = 4 d0 - 5 d2 + d4, out1 = -4 (d1 + d2) + d3 + d4, out2 = 4 (d1 - d2) - d3 + d4,
// out3 = 2 (d3 - d1) - d2 + d4, out4 = 2 (d1 - d3) - d2 + d4, out5 = 4 d1 - 5 d3 + d5.
TEXT ·winoBT6PAVX2(SB), NOSPLIT, $0-40
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
	MOVQ jump+32(FP), SI
	SHLQ $2, SI
	XORQ AX, AX
	VBROADCASTSS winoFour<>(SB), Y12
	VBROADCASTSS winoFive<>(SB), Y13
	VBROADCASTSS winoTwo<>(SB), Y14
	CMPQ AX, CX
	JGE btpdone
btploop:
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
	TESTQ $32, AX
	JNZ btpsame
	ADDQ SI, DI
	ADDQ SI, BX
btpsame:
	CMPQ AX, CX
	JLT btploop
btpdone:
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

// Lane orders for VPERMPS: the in-lane 4x4 transposes leave 8 tiles as 0 2 4 6 1 3 5 7.
DATA winoPermIn<>+0(SB)/4, $0
DATA winoPermIn<>+4(SB)/4, $4
DATA winoPermIn<>+8(SB)/4, $1
DATA winoPermIn<>+12(SB)/4, $5
DATA winoPermIn<>+16(SB)/4, $2
DATA winoPermIn<>+20(SB)/4, $6
DATA winoPermIn<>+24(SB)/4, $3
DATA winoPermIn<>+28(SB)/4, $7
GLOBL winoPermIn<>(SB), RODATA|NOPTR, $32
DATA winoPermOut<>+0(SB)/4, $0
DATA winoPermOut<>+4(SB)/4, $2
DATA winoPermOut<>+8(SB)/4, $4
DATA winoPermOut<>+12(SB)/4, $6
DATA winoPermOut<>+16(SB)/4, $1
DATA winoPermOut<>+20(SB)/4, $3
DATA winoPermOut<>+24(SB)/4, $5
DATA winoPermOut<>+28(SB)/4, $7
GLOBL winoPermOut<>(SB), RODATA|NOPTR, $32

// func winoGather6AVX2(dst *float32, dstride int, row *float32, n int)
// dst[k*dstride + j] = row[4j + k] for k = 0..5, j < n (a multiple of 8): the six columns of n
// tiles 4 apart. Reads row[0 : 4n+4].
TEXT ·winoGather6AVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ dstride+8(FP), DX
	SHLQ $2, DX
	MOVQ row+16(FP), SI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ gdone
	LEAQ (DI)(DX*2), BX
	ADDQ DX, BX           // BX = dst + 3 rows
	LEAQ (BX)(DX*1), R8   // R8 = dst + 4 rows
	VMOVUPS winoPermIn<>(SB), Y15
gloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VUNPCKLPS Y1, Y0, Y4
	VUNPCKHPS Y1, Y0, Y5
	VUNPCKLPS Y3, Y2, Y6
	VUNPCKHPS Y3, Y2, Y7
	VUNPCKLPD Y6, Y4, Y0
	VUNPCKHPD Y6, Y4, Y1
	VUNPCKLPD Y7, Y5, Y2
	VUNPCKHPD Y7, Y5, Y3
	VPERMPS Y0, Y15, Y0
	VPERMPS Y1, Y15, Y1
	VPERMPS Y2, Y15, Y2
	VPERMPS Y3, Y15, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, (DI)(DX*1)
	VMOVUPS Y2, (DI)(DX*2)
	VMOVUPS Y3, (BX)
	// Columns 4 and 5 are columns 0 and 1 of the next tile.
	VMOVUPS 16(SI), Y0
	VMOVUPS 48(SI), Y1
	VMOVUPS 80(SI), Y2
	VMOVUPS 112(SI), Y3
	VUNPCKLPS Y1, Y0, Y4
	VUNPCKLPS Y3, Y2, Y6
	VUNPCKLPD Y6, Y4, Y0
	VUNPCKHPD Y6, Y4, Y1
	VPERMPS Y0, Y15, Y0
	VPERMPS Y1, Y15, Y1
	VMOVUPS Y0, (R8)
	VMOVUPS Y1, (R8)(DX*1)
	ADDQ $128, SI
	ADDQ $32, DI
	ADDQ $32, BX
	ADDQ $32, R8
	DECQ CX
	JNZ gloop
gdone:
	VZEROUPPER
	RET

// func winoScatter4AVX2(dst, src *float32, sstride, n int, b float32)
// dst[4j + c] = src[c*sstride + j] + b for c = 0..3, j < n (a multiple of 8): four columns of
// n tiles interleaved into an output row.
TEXT ·winoScatter4AVX2(SB), NOSPLIT, $0-36
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ sstride+16(FP), DX
	SHLQ $2, DX
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ sdone
	LEAQ (SI)(DX*2), BX
	ADDQ DX, BX
	VBROADCASTSS b+32(FP), Y14
	VMOVUPS winoPermOut<>(SB), Y15
sloop:
	VADDPS (SI), Y14, Y0
	VADDPS (SI)(DX*1), Y14, Y1
	VADDPS (SI)(DX*2), Y14, Y2
	VADDPS (BX), Y14, Y3
	VPERMPS Y0, Y15, Y0
	VPERMPS Y1, Y15, Y1
	VPERMPS Y2, Y15, Y2
	VPERMPS Y3, Y15, Y3
	VUNPCKLPS Y1, Y0, Y4
	VUNPCKHPS Y1, Y0, Y5
	VUNPCKLPS Y3, Y2, Y6
	VUNPCKHPS Y3, Y2, Y7
	VUNPCKLPD Y6, Y4, Y0
	VUNPCKHPD Y6, Y4, Y1
	VUNPCKLPD Y7, Y5, Y2
	VUNPCKHPD Y7, Y5, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $128, DI
	DECQ CX
	JNZ sloop
sdone:
	VZEROUPPER
	RET

// func winoBT6AVX512(src *[6]*float32, dst *float32, dstride, n int)
// winoBT6AVX2 16 lanes at a time (a last 8 in ymm): the same operations on every lane.
TEXT ·winoBT6AVX512(SB), NOSPLIT, $0-32
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
	VBROADCASTSS winoFour<>(SB), Z12
	VBROADCASTSS winoFive<>(SB), Z13
	VBROADCASTSS winoTwo<>(SB), Z14
	SUBQ $64, CX // CX: the last start of a whole 16
	CMPQ AX, CX
	JGT winoBT6AVX512_y
winoBT6AVX512_z:
	VMOVUPS (R8)(AX*1), Z0
	VMOVUPS (R9)(AX*1), Z1
	VMOVUPS (R10)(AX*1), Z2
	VMOVUPS (R11)(AX*1), Z3
	VMOVUPS (R12)(AX*1), Z4
	VMOVUPS (R13)(AX*1), Z5
	// out0
	VMOVAPS Z4, Z6
	VFMADD231PS Z12, Z0, Z6
	VFNMADD231PS Z13, Z2, Z6
	// out1
	VADDPS Z1, Z2, Z7
	VADDPS Z3, Z4, Z8
	VFNMADD231PS Z12, Z7, Z8
	// out2
	VSUBPS Z2, Z1, Z9
	VSUBPS Z3, Z4, Z10
	VFMADD231PS Z12, Z9, Z10
	// out3, out4
	VSUBPS Z1, Z3, Z11
	VSUBPS Z2, Z4, Z15
	VMOVAPS Z15, Z7
	VFNMADD231PS Z14, Z11, Z7
	VFMADD231PS Z14, Z11, Z15
	// out5
	VFMADD231PS Z12, Z1, Z5
	VFNMADD231PS Z13, Z3, Z5
	VMOVUPS Z6, (DI)
	VMOVUPS Z8, (DI)(DX*1)
	VMOVUPS Z10, (DI)(DX*2)
	VMOVUPS Z15, (BX)
	VMOVUPS Z7, (BX)(DX*1)
	VMOVUPS Z5, (BX)(DX*2)
	ADDQ $64, AX
	ADDQ $64, DI
	ADDQ $64, BX
	CMPQ AX, CX
	JLE winoBT6AVX512_z
winoBT6AVX512_y:
	ADDQ $64, CX
	CMPQ AX, CX
	JGE winoBT6AVX512_done
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
winoBT6AVX512_done:
	VZEROUPPER
	RET

// func winoBT6PAVX512(src *[6]*float32, dst *float32, dstride, n, jump int)
// winoBT6PAVX2 16 lanes (one panel) at a time, then the jump; a last 8 in ymm.
TEXT ·winoBT6PAVX512(SB), NOSPLIT, $0-40
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
	MOVQ jump+32(FP), SI
	SHLQ $2, SI
	XORQ AX, AX
	VBROADCASTSS winoFour<>(SB), Z12
	VBROADCASTSS winoFive<>(SB), Z13
	VBROADCASTSS winoTwo<>(SB), Z14
	SUBQ $64, CX // CX: the last start of a whole 16
	CMPQ AX, CX
	JGT winoBT6PAVX512_y
winoBT6PAVX512_z:
	VMOVUPS (R8)(AX*1), Z0
	VMOVUPS (R9)(AX*1), Z1
	VMOVUPS (R10)(AX*1), Z2
	VMOVUPS (R11)(AX*1), Z3
	VMOVUPS (R12)(AX*1), Z4
	VMOVUPS (R13)(AX*1), Z5
	// out0
	VMOVAPS Z4, Z6
	VFMADD231PS Z12, Z0, Z6
	VFNMADD231PS Z13, Z2, Z6
	// out1
	VADDPS Z1, Z2, Z7
	VADDPS Z3, Z4, Z8
	VFNMADD231PS Z12, Z7, Z8
	// out2
	VSUBPS Z2, Z1, Z9
	VSUBPS Z3, Z4, Z10
	VFMADD231PS Z12, Z9, Z10
	// out3, out4
	VSUBPS Z1, Z3, Z11
	VSUBPS Z2, Z4, Z15
	VMOVAPS Z15, Z7
	VFNMADD231PS Z14, Z11, Z7
	VFMADD231PS Z14, Z11, Z15
	// out5
	VFMADD231PS Z12, Z1, Z5
	VFNMADD231PS Z13, Z3, Z5
	VMOVUPS Z6, (DI)
	VMOVUPS Z8, (DI)(DX*1)
	VMOVUPS Z10, (DI)(DX*2)
	VMOVUPS Z15, (BX)
	VMOVUPS Z7, (BX)(DX*1)
	VMOVUPS Z5, (BX)(DX*2)
	ADDQ $64, AX
	ADDQ $64, DI
	ADDQ $64, BX
	ADDQ SI, DI
	ADDQ SI, BX
	CMPQ AX, CX
	JLE winoBT6PAVX512_z
winoBT6PAVX512_y:
	ADDQ $64, CX
	CMPQ AX, CX
	JGE winoBT6PAVX512_done
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
winoBT6PAVX512_done:
	VZEROUPPER
	RET

// func winoAT6AVX512(src *[6]*float32, dst *float32, dstride, n int)
// winoAT6AVX2 16 lanes at a time (a last 8 in ymm).
TEXT ·winoAT6AVX512(SB), NOSPLIT, $0-32
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
	VBROADCASTSS winoTwo<>(SB), Z12
	VBROADCASTSS winoFour<>(SB), Z13
	VBROADCASTSS winoEight<>(SB), Z14
	SUBQ $64, CX // CX: the last start of a whole 16
	CMPQ AX, CX
	JGT winoAT6AVX512_y
winoAT6AVX512_z:
	VMOVUPS (R8)(AX*1), Z0
	VMOVUPS (R9)(AX*1), Z1
	VMOVUPS (R10)(AX*1), Z2
	VMOVUPS (R11)(AX*1), Z3
	VMOVUPS (R12)(AX*1), Z4
	VMOVUPS (R13)(AX*1), Z5
	VADDPS Z2, Z1, Z6  // a
	VSUBPS Z2, Z1, Z7  // b
	VADDPS Z4, Z3, Z8  // c
	VSUBPS Z4, Z3, Z9  // d
	VADDPS Z6, Z0, Z0
	VADDPS Z8, Z0, Z0  // out0
	VMOVAPS Z7, Z10
	VFMADD231PS Z12, Z9, Z10 // out1
	VFMADD231PS Z13, Z8, Z6  // out2
	VADDPS Z5, Z7, Z7
	VFMADD231PS Z14, Z9, Z7  // out3
	VMOVUPS Z0, (DI)
	VMOVUPS Z10, (DI)(DX*1)
	VMOVUPS Z6, (DI)(DX*2)
	VMOVUPS Z7, (BX)
	ADDQ $64, AX
	ADDQ $64, DI
	ADDQ $64, BX
	CMPQ AX, CX
	JLE winoAT6AVX512_z
winoAT6AVX512_y:
	ADDQ $64, CX
	CMPQ AX, CX
	JGE winoAT6AVX512_done
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
winoAT6AVX512_done:
	VZEROUPPER
	RET
