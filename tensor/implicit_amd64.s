//go:build amd64 && !purego

#include "textflag.h"

// func packConvPanelAVX2(dst, src *float32, rows *int32, kc int, idx *int32)
// dst[p*16+j] = src[rows[p]+idx[j]], p < kc, j < 16: two 8-wide gathers per packed row (the
// offsets idx stay in registers), two rows per iteration.
TEXT ·packConvPanelAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ kc+24(FP), CX
	MOVQ idx+32(FP), DX
	VMOVDQU (DX), Y4
	VMOVDQU 32(DX), Y5
	VPCMPEQD Y6, Y6, Y6
	MOVQ CX, R9
	SHRQ $1, R9
	JZ one
two:
	MOVLQSX (BX), AX
	MOVLQSX 4(BX), R10
	LEAQ (SI)(AX*4), R8
	LEAQ (SI)(R10*4), R11
	VMOVDQA Y6, Y7
	VMOVDQA Y6, Y8
	VMOVDQA Y6, Y9
	VMOVDQA Y6, Y10
	VGATHERDPS Y7, (R8)(Y4*4), Y0
	VGATHERDPS Y8, (R8)(Y5*4), Y1
	VGATHERDPS Y9, (R11)(Y4*4), Y2
	VGATHERDPS Y10, (R11)(Y5*4), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $8, BX
	ADDQ $128, DI
	DECQ R9
	JNZ two
one:
	ANDQ $1, CX
	JZ done
	MOVLQSX (BX), AX
	LEAQ (SI)(AX*4), R8
	VMOVDQA Y6, Y7
	VMOVDQA Y6, Y8
	VGATHERDPS Y7, (R8)(Y4*4), Y0
	VGATHERDPS Y8, (R8)(Y5*4), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
done:
	VZEROUPPER
	RET

// func packConvPanel2AVX2(dst, src *float32, rows *int32, kc, o1, o2 int, mask *int32)
// dst[p*16+j] = mask[j] < 0 ? src[rows[p]+o2+j] : src[rows[p]+o1+j], p < kc (kc > 0): two
// 16-float loads and two blends per packed row.
TEXT ·packConvPanel2AVX2(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ kc+24(FP), CX
	MOVQ o1+32(FP), R8
	MOVQ o2+40(FP), R9
	MOVQ mask+48(FP), DX
	VMOVDQU (DX), Y4
	VMOVDQU 32(DX), Y5
	LEAQ (SI)(R8*4), R8
	LEAQ (SI)(R9*4), R9
loop2:
	MOVLQSX (BX), AX
	VMOVUPS (R8)(AX*4), Y0
	VMOVUPS 32(R8)(AX*4), Y1
	VBLENDVPS Y4, (R9)(AX*4), Y0, Y0
	VBLENDVPS Y5, 32(R9)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ $4, BX
	ADDQ $64, DI
	DECQ CX
	JNZ loop2
	VZEROUPPER
	RET

// func packConvPanel1AVX2(dst, src *float32, rows *int32, kc, o1 int)
// dst[p*16+j] = src[rows[p]+o1+j], p < kc (kc > 0), two packed rows per iteration.
TEXT ·packConvPanel1AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), BX
	MOVQ kc+24(FP), CX
	MOVQ o1+32(FP), R8
	LEAQ (SI)(R8*4), R8
	MOVQ CX, R9
	SHRQ $1, R9
	JZ last1
loop1:
	MOVLQSX (BX), AX
	MOVLQSX 4(BX), DX
	VMOVUPS (R8)(AX*4), Y0
	VMOVUPS 32(R8)(AX*4), Y1
	VMOVUPS (R8)(DX*4), Y2
	VMOVUPS 32(R8)(DX*4), Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $8, BX
	ADDQ $128, DI
	DECQ R9
	JNZ loop1
last1:
	ANDQ $1, CX
	JZ done1
	MOVLQSX (BX), AX
	VMOVUPS (R8)(AX*4), Y0
	VMOVUPS 32(R8)(AX*4), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
done1:
	VZEROUPPER
	RET
