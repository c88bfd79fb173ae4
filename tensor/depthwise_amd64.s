//go:build amd64 && !purego

#include "textflag.h"

// func dwPlaneAVX2(dst *float32, rows, n int, src *float32, ld int, offs *int, ks *float32, ntaps int, bias float32)
// For each row r < rows: dst[r*n+i] = bias + sum over t < ntaps of ks[t]*src[r*ld+offs[t]+i],
// i < n; 32 outputs per iteration in four accumulators, then 8; a tail of fewer than 8
// recomputes the row's last 8 outputs when n >= 8 (dst is written, not accumulated, so the
// overlap is harmless), else runs one at a time. ntaps >= 1, rows >= 1.
TEXT ·dwPlaneAVX2(SB), NOSPLIT, $0-68
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), R13
	MOVQ n+16(FP), CX
	MOVQ src+24(FP), SI
	MOVQ offs+40(FP), R8
	MOVQ ks+48(FP), R9
	MOVQ ntaps+56(FP), R12
	VBROADCASTSS bias+64(FP), Y15
row:
	XORQ BX, BX
loop32:
	MOVQ CX, AX
	SUBQ BX, AX
	CMPQ AX, $32
	JLT loop8
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	XORQ DX, DX
tap32:
	MOVQ (R8)(DX*8), R10
	ADDQ BX, R10
	LEAQ (SI)(R10*4), R11
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y4, Y1
	VFMADD231PS 64(R11), Y4, Y2
	VFMADD231PS 96(R11), Y4, Y3
	INCQ DX
	CMPQ DX, R12
	JLT tap32
	LEAQ (DI)(BX*4), R11
	VMOVUPS Y0, (R11)
	VMOVUPS Y1, 32(R11)
	VMOVUPS Y2, 64(R11)
	VMOVUPS Y3, 96(R11)
	ADDQ $32, BX
	JMP loop32
loop8:
	MOVQ CX, AX
	SUBQ BX, AX
	CMPQ AX, $8
	JLT tail
	VMOVAPS Y15, Y0
	XORQ DX, DX
tap8:
	MOVQ (R8)(DX*8), R10
	ADDQ BX, R10
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS (SI)(R10*4), Y4, Y0
	INCQ DX
	CMPQ DX, R12
	JLT tap8
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ $8, BX
	JMP loop8
tail:
	CMPQ BX, CX
	JGE nextrow
	CMPQ CX, $8
	JLT loop1
	MOVQ CX, BX
	SUBQ $8, BX
	JMP loop8
loop1:
	CMPQ BX, CX
	JGE nextrow
	VMOVAPS X15, X0
	XORQ DX, DX
tap1:
	MOVQ (R8)(DX*8), R10
	ADDQ BX, R10
	VMOVSS (R9)(DX*4), X4
	VFMADD231SS (SI)(R10*4), X4, X0
	INCQ DX
	CMPQ DX, R12
	JLT tap1
	VMOVSS X0, (DI)(BX*4)
	INCQ BX
	JMP loop1
nextrow:
	LEAQ (DI)(CX*4), DI
	MOVQ ld+32(FP), AX
	LEAQ (SI)(AX*4), SI
	DECQ R13
	JNZ row
	VZEROUPPER
	RET

// func deinterleave2AVX2(even, odd, src *float32, n int)
// even[j] = src[2j], odd[j] = src[2j+1] for j < n, n a multiple of 8.
TEXT ·deinterleave2AVX2(SB), NOSPLIT, $0-32
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), R8
	MOVQ src+16(FP), SI
	MOVQ n+24(FP), CX
	SHRQ $3, CX
	JZ dedone
deloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)
	VMOVUPS Y3, (R8)
	ADDQ $64, SI
	ADDQ $32, DI
	ADDQ $32, R8
	DECQ CX
	JNZ deloop
dedone:
	VZEROUPPER
	RET
