//go:build amd64 && !purego

#include "textflag.h"

// dwmask<>+4*(8-r) holds the load/store mask of the first r lanes.
DATA dwmask<>+0(SB)/4, $0xffffffff
DATA dwmask<>+4(SB)/4, $0xffffffff
DATA dwmask<>+8(SB)/4, $0xffffffff
DATA dwmask<>+12(SB)/4, $0xffffffff
DATA dwmask<>+16(SB)/4, $0xffffffff
DATA dwmask<>+20(SB)/4, $0xffffffff
DATA dwmask<>+24(SB)/4, $0xffffffff
DATA dwmask<>+28(SB)/4, $0xffffffff
DATA dwmask<>+32(SB)/4, $0
DATA dwmask<>+36(SB)/4, $0
DATA dwmask<>+40(SB)/4, $0
DATA dwmask<>+44(SB)/4, $0
DATA dwmask<>+48(SB)/4, $0
DATA dwmask<>+52(SB)/4, $0
DATA dwmask<>+56(SB)/4, $0
DATA dwmask<>+60(SB)/4, $0
GLOBL dwmask<>(SB), RODATA|NOPTR, $64

// func dwPlaneAVX2(dst *float32, rows, n int, src *float32, ld int, offs *int, ks *float32, ntaps int, bias float32)
// For each row r < rows: dst[r*n+i] = bias + sum over t < ntaps of ks[t]*src[r*ld+offs[t]+i],
// i < n; 32 outputs per iteration in four accumulators (taps alternating between two sets, so
// two FMA dependency chains run at once), then 8 (three chains); a tail of fewer than 8
// recomputes the row's last 8 outputs when n >= 8 (dst is written, not accumulated, so the
// overlap is harmless); a row shorter than 8 is one masked vector. ntaps >= 1, rows >= 1.
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
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	XORQ DX, DX
	MOVQ R12, AX
	DECQ AX
tap32:
	// Taps in pairs: even taps into Y0-Y3, odd into Y5-Y8, two dependency chains.
	CMPQ DX, AX
	JGE tap32one
	MOVQ (R8)(DX*8), R10
	ADDQ BX, R10
	LEAQ (SI)(R10*4), R11
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y4, Y1
	VFMADD231PS 64(R11), Y4, Y2
	VFMADD231PS 96(R11), Y4, Y3
	MOVQ 8(R8)(DX*8), R10
	ADDQ BX, R10
	LEAQ (SI)(R10*4), R11
	VBROADCASTSS 4(R9)(DX*4), Y9
	VFMADD231PS (R11), Y9, Y5
	VFMADD231PS 32(R11), Y9, Y6
	VFMADD231PS 64(R11), Y9, Y7
	VFMADD231PS 96(R11), Y9, Y8
	ADDQ $2, DX
	JMP tap32
tap32one:
	CMPQ DX, R12
	JGE tap32sum
	MOVQ (R8)(DX*8), R10
	ADDQ BX, R10
	LEAQ (SI)(R10*4), R11
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y4, Y1
	VFMADD231PS 64(R11), Y4, Y2
	VFMADD231PS 96(R11), Y4, Y3
tap32sum:
	VADDPS Y5, Y0, Y0
	VADDPS Y6, Y1, Y1
	VADDPS Y7, Y2, Y2
	VADDPS Y8, Y3, Y3
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
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	XORQ DX, DX
	MOVQ R12, AX
	SUBQ $2, AX
tap8:
	// Taps in threes into Y0, Y1, Y2: three dependency chains.
	CMPQ DX, AX
	JGE tap8rest
	MOVQ (R8)(DX*8), R10
	ADDQ BX, R10
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS (SI)(R10*4), Y4, Y0
	MOVQ 8(R8)(DX*8), R10
	ADDQ BX, R10
	VBROADCASTSS 4(R9)(DX*4), Y5
	VFMADD231PS (SI)(R10*4), Y5, Y1
	MOVQ 16(R8)(DX*8), R10
	ADDQ BX, R10
	VBROADCASTSS 8(R9)(DX*4), Y6
	VFMADD231PS (SI)(R10*4), Y6, Y2
	ADDQ $3, DX
	JMP tap8
tap8rest:
	CMPQ DX, R12
	JGE tap8sum
	MOVQ (R8)(DX*8), R10
	ADDQ BX, R10
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS (SI)(R10*4), Y4, Y0
	INCQ DX
	JMP tap8rest
tap8sum:
	VADDPS Y2, Y1, Y1
	VADDPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ $8, BX
	JMP loop8
tail:
	CMPQ BX, CX
	JGE nextrow
	CMPQ CX, $8
	JLT short
	MOVQ CX, BX
	SUBQ $8, BX
	JMP loop8
short:
	// A row shorter than 8 (BX = 0): one masked vector; masked lanes are neither read nor
	// written.
	LEAQ dwmask<>(SB), R11
	MOVQ $8, AX
	SUBQ CX, AX
	VMOVDQU (R11)(AX*4), Y10
	VMOVAPS Y15, Y0
	XORQ DX, DX
tapm:
	MOVQ (R8)(DX*8), R10
	VBROADCASTSS (R9)(DX*4), Y4
	VMASKMOVPS (SI)(R10*4), Y10, Y5
	VFMADD231PS Y5, Y4, Y0
	INCQ DX
	CMPQ DX, R12
	JLT tapm
	VMASKMOVPS Y0, Y10, (DI)
nextrow:
	LEAQ (DI)(CX*4), DI
	MOVQ ld+32(FP), AX
	LEAQ (SI)(AX*4), SI
	DECQ R13
	JNZ row
	VZEROUPPER
	RET

// func stridedRowsAVX2(dst *float32, dstStride int, src *float32, srcStride, w, rows int)
// Copies rows of w floats (strides in elements); rows >= 1, w >= 1.
TEXT ·stridedRowsAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R9
	SHLQ $2, R9
	MOVQ w+32(FP), R10
	MOVQ rows+40(FP), R11
crrow:
	MOVQ DI, AX
	MOVQ SI, BX
	MOVQ R10, CX
	SHRQ $3, CX
	JZ crtail
cr8:
	VMOVUPS (BX), Y0
	VMOVUPS Y0, (AX)
	ADDQ $32, BX
	ADDQ $32, AX
	DECQ CX
	JNZ cr8
crtail:
	MOVQ R10, CX
	ANDQ $7, CX
	JZ crnext
cr1:
	MOVL (BX), DX
	MOVL DX, (AX)
	ADDQ $4, BX
	ADDQ $4, AX
	DECQ CX
	JNZ cr1
crnext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R11
	JNZ crrow
	VZEROUPPER
	RET

// func deinterleaveRowsAVX2(even, odd *float32, dstStride int, src *float32, srcStride, w, rows int)
// For each row: even[j] = src[2j] for 2j < w, odd[j] = src[2j+1] for 2j+1 < w; strides in
// elements; rows >= 1.
TEXT ·deinterleaveRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ even+0(FP), DI
	MOVQ odd+8(FP), R12
	MOVQ dstStride+16(FP), R8
	SHLQ $2, R8
	MOVQ src+24(FP), SI
	MOVQ srcStride+32(FP), R9
	SHLQ $2, R9
	MOVQ w+40(FP), R10
	MOVQ rows+48(FP), R11
drrow:
	MOVQ DI, AX
	MOVQ R12, DX
	MOVQ SI, BX
	MOVQ R10, CX
	SHRQ $4, CX
	JZ drtail
dr16:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (AX)
	VMOVUPS Y3, (DX)
	ADDQ $64, BX
	ADDQ $32, AX
	ADDQ $32, DX
	DECQ CX
	JNZ dr16
drtail:
	MOVQ R10, CX
	ANDQ $15, CX
	JZ drnext
dr1:
	MOVL (BX), R13
	MOVL R13, (AX)
	ADDQ $4, AX
	DECQ CX
	JZ drnext
	MOVL 4(BX), R13
	MOVL R13, (DX)
	ADDQ $4, DX
	ADDQ $8, BX
	DECQ CX
	JNZ dr1
drnext:
	ADDQ R8, DI
	ADDQ R8, R12
	ADDQ R9, SI
	DECQ R11
	JNZ drrow
	VZEROUPPER
	RET
