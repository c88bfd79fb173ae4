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

// dwmask2<>+4*(8-r) holds the first r lanes (the masked store of a row shorter than 8).
DATA dwmask2<>+0(SB)/8, $0xffffffffffffffff
DATA dwmask2<>+8(SB)/8, $0xffffffffffffffff
DATA dwmask2<>+16(SB)/8, $0xffffffffffffffff
DATA dwmask2<>+24(SB)/8, $0xffffffffffffffff
DATA dwmask2<>+32(SB)/8, $0
DATA dwmask2<>+40(SB)/8, $0
DATA dwmask2<>+48(SB)/8, $0
DATA dwmask2<>+56(SB)/8, $0
GLOBL dwmask2<>(SB), RODATA|NOPTR, $64

// EVEN sets Y to the even lanes of the 16 floats at lo and hi (one deinterleaving step).
#define EVEN(lo, hi, Y) \
	VMOVUPS lo, Y \
	VSHUFPS $0x88, hi, Y, Y \
	VPERMPD $0xD8, Y, Y

// func dwRowsS1AVX2(dst, src *float32, prog *int, nprog int, taps, blocks *int, masks *int32, ks *float32, bias float32, ow, lds int)
// One output plane of a direct plan (see dwRows). prog holds nprog runs of rows, each eight
// ints: output offset, input offset (elements), rows, byte range of its taps, byte range of its
// blocks, and whether its masked blocks may load whole and clear the lanes outside the image
// with the mask (their loads stay inside the plane) instead of loading under it. Row r of a run: dst[out+r*ow+ox] = bias + sum over taps t of
// ks[t.k]*src[in+r*lds+t.off+ox] for the columns ox of each block. taps are triples (off, kj,
// k); blocks are triples (x0, kind, mask byte offset): 32 outputs or 8 with plain loads, 8
// with the loads of kernel column kj under the lanes at masks+offset+64*kj, 8 stored whole or
// under the first ow lanes (a row shorter than 8). Every run has rows, taps and blocks. The
// blocks of 8 add the taps in two chains, even and odd, to hide the latency of the FMAs.
//
// dwRowsS2AVX2 is the same at column stride 2 (src[in+r*lds+t.off+2*ox]): each block of 8
// loads 16 floats per tap (under the 16 lanes of its mask in a masked block) and keeps the
// even ones.
TEXT ·dwRowsS1AVX2(SB), NOSPLIT, $48-88
	MOVQ ks+56(FP), R9
	VBROADCASTSS bias+64(FP), Y15
	MOVQ prog+16(FP), AX
	MOVQ AX, pp-8(SP)
	MOVQ nprog+24(FP), DX
	SHLQ $6, DX
	ADDQ AX, DX
	MOVQ DX, pe-16(SP)
s1grp:
	MOVQ pp-8(SP), AX
	MOVQ 0(AX), DI
	SHLQ $2, DI
	ADDQ dst+0(FP), DI
	MOVQ 8(AX), SI
	SHLQ $2, SI
	ADDQ src+8(FP), SI
	MOVQ 16(AX), DX
	MOVQ DX, rl-40(SP)
	MOVQ 24(AX), R8
	ADDQ taps+32(FP), R8
	MOVQ 32(AX), R12
	ADDQ taps+32(FP), R12
	MOVQ 40(AX), DX
	ADDQ blocks+40(FP), DX
	MOVQ DX, bb-24(SP)
	MOVQ 48(AX), DX
	ADDQ blocks+40(FP), DX
	MOVQ DX, be-32(SP)
	MOVQ 56(AX), DX
	MOVQ DX, wl-48(SP)
s1row:
	MOVQ bb-24(SP), CX
s1blk:
	MOVQ (CX), BX
	MOVQ 8(CX), AX
	CMPQ AX, $1
	JLT s1b32
	JEQ s1b8
	MOVQ 16(CX), R13
	ADDQ masks+48(FP), R13
	CMPQ wl-48(SP), $0
	JNE s1whole
	VMOVAPS Y15, Y0
	VXORPS Y1, Y1, Y1
	MOVQ R8, R10
s1tm2:
	LEAQ 24(R10), AX
	CMPQ AX, R12
	JGE s1tm1
	MOVQ 8(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y6
	MOVQ 0(R10), DX
	ADDQ BX, DX
	VMASKMOVPS (SI)(DX*4), Y6, Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
	MOVQ 32(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y11
	MOVQ 24(R10), DX
	ADDQ BX, DX
	VMASKMOVPS (SI)(DX*4), Y11, Y9
	MOVQ 40(R10), DX
	VBROADCASTSS (R9)(DX*4), Y10
	VFMADD231PS Y9, Y10, Y1
	ADDQ $48, R10
	JMP s1tm2
s1tm1:
	CMPQ R10, R12
	JGE s1tm0
	MOVQ 8(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y6
	MOVQ 0(R10), DX
	ADDQ BX, DX
	VMASKMOVPS (SI)(DX*4), Y6, Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
s1tm0:
	VADDPS Y1, Y0, Y0
	JMP s1mdone
s1whole:
	VMOVAPS Y15, Y0
	VXORPS Y1, Y1, Y1
	MOVQ R8, R10
s1ta2:
	LEAQ 24(R10), AX
	CMPQ AX, R12
	JGE s1ta1
	MOVQ 8(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y6
	MOVQ 0(R10), DX
	ADDQ BX, DX
	VANDPS (SI)(DX*4), Y6, Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
	MOVQ 32(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y11
	MOVQ 24(R10), DX
	ADDQ BX, DX
	VANDPS (SI)(DX*4), Y11, Y9
	MOVQ 40(R10), DX
	VBROADCASTSS (R9)(DX*4), Y10
	VFMADD231PS Y9, Y10, Y1
	ADDQ $48, R10
	JMP s1ta2
s1ta1:
	CMPQ R10, R12
	JGE s1ta0
	MOVQ 8(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y6
	MOVQ 0(R10), DX
	ADDQ BX, DX
	VANDPS (SI)(DX*4), Y6, Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
s1ta0:
	VADDPS Y1, Y0, Y0
s1mdone:
	MOVQ 8(CX), AX
	CMPQ AX, $4
	JEQ s1mstore
	VMOVUPS Y0, (DI)(BX*4)
	JMP s1next
s1mstore:
	LEAQ dwmask2<>(SB), AX
	MOVQ $8, DX
	SUBQ ow+72(FP), DX
	VMOVDQU (AX)(DX*4), Y6
	VMASKMOVPS Y0, Y6, (DI)
	JMP s1next
s1b32:
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	MOVQ R8, R10
s1t32:
	MOVQ (R10), AX
	ADDQ BX, AX
	LEAQ (SI)(AX*4), R11
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS (R11), Y4, Y0
	VFMADD231PS 32(R11), Y4, Y1
	VFMADD231PS 64(R11), Y4, Y2
	VFMADD231PS 96(R11), Y4, Y3
	ADDQ $24, R10
	CMPQ R10, R12
	JLT s1t32
	LEAQ (DI)(BX*4), R11
	VMOVUPS Y0, (R11)
	VMOVUPS Y1, 32(R11)
	VMOVUPS Y2, 64(R11)
	VMOVUPS Y3, 96(R11)
	JMP s1next
s1b8:
	VMOVAPS Y15, Y0
	VXORPS Y1, Y1, Y1
	MOVQ R8, R10
s1t82:
	LEAQ 24(R10), AX
	CMPQ AX, R12
	JGE s1t81
	MOVQ 0(R10), AX
	ADDQ BX, AX
	VMOVUPS (SI)(AX*4), Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
	MOVQ 24(R10), AX
	ADDQ BX, AX
	VMOVUPS (SI)(AX*4), Y9
	MOVQ 40(R10), DX
	VBROADCASTSS (R9)(DX*4), Y10
	VFMADD231PS Y9, Y10, Y1
	ADDQ $48, R10
	JMP s1t82
s1t81:
	CMPQ R10, R12
	JGE s1t80
	MOVQ 0(R10), AX
	ADDQ BX, AX
	VMOVUPS (SI)(AX*4), Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
s1t80:
	VADDPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)(BX*4)
s1next:
	ADDQ $24, CX
	CMPQ CX, be-32(SP)
	JLT s1blk
	MOVQ ow+72(FP), AX
	LEAQ (DI)(AX*4), DI
	MOVQ lds+80(FP), AX
	LEAQ (SI)(AX*4), SI
	DECQ rl-40(SP)
	JNZ s1row
	MOVQ pp-8(SP), AX
	ADDQ $64, AX
	MOVQ AX, pp-8(SP)
	CMPQ AX, pe-16(SP)
	JLT s1grp
	VZEROUPPER
	RET

TEXT ·dwRowsS2AVX2(SB), NOSPLIT, $48-88
	MOVQ ks+56(FP), R9
	VBROADCASTSS bias+64(FP), Y15
	MOVQ prog+16(FP), AX
	MOVQ AX, pp-8(SP)
	MOVQ nprog+24(FP), DX
	SHLQ $6, DX
	ADDQ AX, DX
	MOVQ DX, pe-16(SP)
s2grp:
	MOVQ pp-8(SP), AX
	MOVQ 0(AX), DI
	SHLQ $2, DI
	ADDQ dst+0(FP), DI
	MOVQ 8(AX), SI
	SHLQ $2, SI
	ADDQ src+8(FP), SI
	MOVQ 16(AX), DX
	MOVQ DX, rl-40(SP)
	MOVQ 24(AX), R8
	ADDQ taps+32(FP), R8
	MOVQ 32(AX), R12
	ADDQ taps+32(FP), R12
	MOVQ 40(AX), DX
	ADDQ blocks+40(FP), DX
	MOVQ DX, bb-24(SP)
	MOVQ 48(AX), DX
	ADDQ blocks+40(FP), DX
	MOVQ DX, be-32(SP)
	MOVQ 56(AX), DX
	MOVQ DX, wl-48(SP)
s2row:
	MOVQ bb-24(SP), CX
s2blk:
	MOVQ (CX), BX
	MOVQ 8(CX), AX
	CMPQ AX, $1
	JLT s2b32
	JEQ s2b8
	MOVQ 16(CX), R13
	ADDQ masks+48(FP), R13
	CMPQ wl-48(SP), $0
	JNE s2whole
	VMOVAPS Y15, Y0
	VXORPS Y1, Y1, Y1
	MOVQ R8, R10
s2tm2:
	LEAQ 24(R10), AX
	CMPQ AX, R12
	JGE s2tm1
	MOVQ 8(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y6
	VMOVDQU 32(R13)(AX*1), Y7
	MOVQ 0(R10), DX
	LEAQ (DX)(BX*2), DX
	LEAQ (SI)(DX*4), R11
	VMASKMOVPS (R11), Y6, Y5
	VMASKMOVPS 32(R11), Y7, Y8
	VSHUFPS $0x88, Y8, Y5, Y5
	VPERMPD $0xD8, Y5, Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
	MOVQ 32(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y11
	VMOVDQU 32(R13)(AX*1), Y12
	MOVQ 24(R10), DX
	LEAQ (DX)(BX*2), DX
	LEAQ (SI)(DX*4), R11
	VMASKMOVPS (R11), Y11, Y9
	VMASKMOVPS 32(R11), Y12, Y13
	VSHUFPS $0x88, Y13, Y9, Y9
	VPERMPD $0xD8, Y9, Y9
	MOVQ 40(R10), DX
	VBROADCASTSS (R9)(DX*4), Y10
	VFMADD231PS Y9, Y10, Y1
	ADDQ $48, R10
	JMP s2tm2
s2tm1:
	CMPQ R10, R12
	JGE s2tm0
	MOVQ 8(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y6
	VMOVDQU 32(R13)(AX*1), Y7
	MOVQ 0(R10), DX
	LEAQ (DX)(BX*2), DX
	LEAQ (SI)(DX*4), R11
	VMASKMOVPS (R11), Y6, Y5
	VMASKMOVPS 32(R11), Y7, Y8
	VSHUFPS $0x88, Y8, Y5, Y5
	VPERMPD $0xD8, Y5, Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
s2tm0:
	VADDPS Y1, Y0, Y0
	JMP s2mdone
s2whole:
	VMOVAPS Y15, Y0
	VXORPS Y1, Y1, Y1
	MOVQ R8, R10
s2ta2:
	LEAQ 24(R10), AX
	CMPQ AX, R12
	JGE s2ta1
	MOVQ 8(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y6
	VMOVDQU 32(R13)(AX*1), Y7
	MOVQ 0(R10), DX
	LEAQ (DX)(BX*2), DX
	LEAQ (SI)(DX*4), R11
	VANDPS (R11), Y6, Y5
	VANDPS 32(R11), Y7, Y8
	VSHUFPS $0x88, Y8, Y5, Y5
	VPERMPD $0xD8, Y5, Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
	MOVQ 32(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y11
	VMOVDQU 32(R13)(AX*1), Y12
	MOVQ 24(R10), DX
	LEAQ (DX)(BX*2), DX
	LEAQ (SI)(DX*4), R11
	VANDPS (R11), Y11, Y9
	VANDPS 32(R11), Y12, Y13
	VSHUFPS $0x88, Y13, Y9, Y9
	VPERMPD $0xD8, Y9, Y9
	MOVQ 40(R10), DX
	VBROADCASTSS (R9)(DX*4), Y10
	VFMADD231PS Y9, Y10, Y1
	ADDQ $48, R10
	JMP s2ta2
s2ta1:
	CMPQ R10, R12
	JGE s2ta0
	MOVQ 8(R10), AX
	SHLQ $6, AX
	VMOVDQU (R13)(AX*1), Y6
	VMOVDQU 32(R13)(AX*1), Y7
	MOVQ 0(R10), DX
	LEAQ (DX)(BX*2), DX
	LEAQ (SI)(DX*4), R11
	VANDPS (R11), Y6, Y5
	VANDPS 32(R11), Y7, Y8
	VSHUFPS $0x88, Y8, Y5, Y5
	VPERMPD $0xD8, Y5, Y5
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
s2ta0:
	VADDPS Y1, Y0, Y0
s2mdone:
	MOVQ 8(CX), AX
	CMPQ AX, $4
	JEQ s2mstore
	VMOVUPS Y0, (DI)(BX*4)
	JMP s2next
s2mstore:
	LEAQ dwmask2<>(SB), AX
	MOVQ $8, DX
	SUBQ ow+72(FP), DX
	VMOVDQU (AX)(DX*4), Y6
	VMASKMOVPS Y0, Y6, (DI)
	JMP s2next
s2b32:
	VMOVAPS Y15, Y0
	VMOVAPS Y15, Y1
	VMOVAPS Y15, Y2
	VMOVAPS Y15, Y3
	MOVQ R8, R10
s2t32:
	MOVQ (R10), AX
	LEAQ (AX)(BX*2), AX
	LEAQ (SI)(AX*4), R11
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	EVEN((R11), 32(R11), Y5)
	EVEN(64(R11), 96(R11), Y6)
	EVEN(128(R11), 160(R11), Y7)
	EVEN(192(R11), 224(R11), Y8)
	VFMADD231PS Y5, Y4, Y0
	VFMADD231PS Y6, Y4, Y1
	VFMADD231PS Y7, Y4, Y2
	VFMADD231PS Y8, Y4, Y3
	ADDQ $24, R10
	CMPQ R10, R12
	JLT s2t32
	LEAQ (DI)(BX*4), R11
	VMOVUPS Y0, (R11)
	VMOVUPS Y1, 32(R11)
	VMOVUPS Y2, 64(R11)
	VMOVUPS Y3, 96(R11)
	JMP s2next
s2b8:
	VMOVAPS Y15, Y0
	VXORPS Y1, Y1, Y1
	MOVQ R8, R10
s2t82:
	LEAQ 24(R10), AX
	CMPQ AX, R12
	JGE s2t81
	MOVQ 0(R10), AX
	LEAQ (AX)(BX*2), AX
	LEAQ (SI)(AX*4), R11
	EVEN((R11), 32(R11), Y5)
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
	MOVQ 24(R10), AX
	LEAQ (AX)(BX*2), AX
	LEAQ (SI)(AX*4), R11
	EVEN((R11), 32(R11), Y9)
	MOVQ 40(R10), DX
	VBROADCASTSS (R9)(DX*4), Y10
	VFMADD231PS Y9, Y10, Y1
	ADDQ $48, R10
	JMP s2t82
s2t81:
	CMPQ R10, R12
	JGE s2t80
	MOVQ 0(R10), AX
	LEAQ (AX)(BX*2), AX
	LEAQ (SI)(AX*4), R11
	EVEN((R11), 32(R11), Y5)
	MOVQ 16(R10), DX
	VBROADCASTSS (R9)(DX*4), Y4
	VFMADD231PS Y5, Y4, Y0
s2t80:
	VADDPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)(BX*4)
s2next:
	ADDQ $24, CX
	CMPQ CX, be-32(SP)
	JLT s2blk
	MOVQ ow+72(FP), AX
	LEAQ (DI)(AX*4), DI
	MOVQ lds+80(FP), AX
	LEAQ (SI)(AX*4), SI
	DECQ rl-40(SP)
	JNZ s2row
	MOVQ pp-8(SP), AX
	ADDQ $64, AX
	MOVQ AX, pp-8(SP)
	CMPQ AX, pe-16(SP)
	JLT s2grp
	VZEROUPPER
	RET
