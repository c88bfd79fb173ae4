//go:build amd64 && !purego

package tensor

// haveAsmAVX2: this build has the AVX2 assembly; whether it runs is decided in cpulevel.go.
const haveAsmAVX2 = true

// Assembly micro-kernels (gemm_kernel_amd64.s): an R x 16 tile of C, R = 1..6.
//
//go:noescape
func sgemmKernel1x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel2x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel3x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel4x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel5x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel6x16AVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// microKernel computes a rows x 16 tile (1 <= rows <= 6): a holds kc*6 packed values, b kc rows of
// 16 values ldb apart, c rows of 16 values ldc apart.
func microKernel(rows, kc int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	if !useAVX2 || kc <= 0 {
		microKernelGo(rows, kc, a, b, ldb, c, ldc, alpha, beta)
		return
	}
	_ = a[kc*gemmMR-1]
	_ = b[(kc-1)*ldb+gemmNR-1]
	_ = c[(rows-1)*ldc+gemmNR-1]
	pa, pb, pc := &a[0], &b[0], &c[0]
	switch rows {
	case 6:
		if useAVX512 {
			sgemmKernel6x16AVX512(kc, pa, pb, ldb, pc, ldc, alpha, beta)
			return
		}
		sgemmKernel6x16AVX2(kc, pa, pb, ldb, pc, ldc, alpha, beta)
	case 5:
		sgemmKernel5x16AVX2(kc, pa, pb, ldb, pc, ldc, alpha, beta)
	case 4:
		sgemmKernel4x16AVX2(kc, pa, pb, ldb, pc, ldc, alpha, beta)
	case 3:
		sgemmKernel3x16AVX2(kc, pa, pb, ldb, pc, ldc, alpha, beta)
	case 2:
		sgemmKernel2x16AVX2(kc, pa, pb, ldb, pc, ldc, alpha, beta)
	default:
		sgemmKernel1x16AVX2(kc, pa, pb, ldb, pc, ldc, alpha, beta)
	}
}

//go:noescape
func sgemmKernel6x16AVX512(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

//go:noescape
func sgemmKernel6x32AVX512(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, b1 *float32)

//go:noescape
func sgemmKernel6x32PFAVX512(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, b1 *float32, pf *float32, pfld int)

// microKernelWidePF is microKernelWide prefetching, at each k step of a whole 6-row tile, the 32
// floats at pf, then pfld floats further on (see microKernelPF).
func microKernelWidePF(rows, kc int, a, b0, b1 []float32, ldb int, c []float32, ldc int, alpha, beta float32, pf []float32, pfld int) {
	if !useAVX512 || rows != gemmMR || kc <= 0 {
		microKernelWide(rows, kc, a, b0, b1, ldb, c, ldc, alpha, beta)
		return
	}
	_ = a[kc*gemmMR-1]
	_ = b0[(kc-1)*ldb+gemmNR-1]
	_ = b1[(kc-1)*ldb+gemmNR-1]
	_ = c[(gemmMR-1)*ldc+2*gemmNR-1]
	// The prefetches may run past pf's end: a prefetch of any address is harmless.
	sgemmKernel6x32PFAVX512(kc, &a[0], &b0[0], ldb, &c[0], ldc, alpha, beta, &b1[0], &pf[0], pfld)
}

// wideKernel reports whether microKernelWide runs a kernel of its own (the avx512 level); where
// it does not, a 32-column tile is better left to two 16-column ones.
func wideKernel() bool { return useAVX512 }

// microKernelWide computes a rows x 32 tile of C (1 <= rows <= 6): the 16-column micro-panels b0
// and b1 (both kc rows ldb apart) against the packed 6-row panel a, into c (rows ldc apart). A
// whole tile runs the avx512 level's 6x32 kernel, one pass over a for both halves; the result is
// microKernelHalves's, bit for bit.
func microKernelWide(rows, kc int, a, b0, b1 []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	if !useAVX512 || rows != gemmMR || kc <= 0 {
		microKernelHalves(rows, kc, a, b0, b1, ldb, c, ldc, alpha, beta)
		return
	}
	_ = a[kc*gemmMR-1]
	_ = b0[(kc-1)*ldb+gemmNR-1]
	_ = b1[(kc-1)*ldb+gemmNR-1]
	_ = c[(gemmMR-1)*ldc+2*gemmNR-1]
	sgemmKernel6x32AVX512(kc, &a[0], &b0[0], ldb, &c[0], ldc, alpha, beta, &b1[0])
}

//go:noescape
func packBPanelsAVX2(dst, src *float32, ldb, kc, np int)

// packBFull packs np full 16-column micro-panels of the kc x 16*np row-major block b (stride ldb)
// into dst; see packB.
func packBFull(b []float32, ldb, kc, np int, dst []float32) {
	if kc == 0 || np == 0 {
		return
	}
	if !useAVX2 {
		packBFullGo(b, ldb, kc, np, dst)
		return
	}
	_ = b[(kc-1)*ldb+np*gemmNR-1]
	_ = dst[np*kc*gemmNR-1]
	packBPanelsAVX2(&dst[0], &b[0], ldb, kc, np)
}

//go:noescape
func packBTrans16AVX2(dst, src *float32, ldb, kc int)

// packBTransPanel packs the first kc values of 16 rows of b (stride ldb) into d (kc x 16).
func packBTransPanel(b []float32, ldb, kc int, d []float32) {
	if kc == 0 {
		return
	}
	if !useAVX2 {
		packBTransPanelGo(b, ldb, kc, d)
		return
	}
	_ = b[(gemmNR-1)*ldb+kc-1]
	_ = d[kc*gemmNR-1]
	packBTrans16AVX2(&d[0], &b[0], ldb, kc)
}

//go:noescape
func packA6AVX(dst, src *float32, lda, kc int)

// packA6 packs the first kc values of 6 rows of a (stride lda) into d (kc x 6).
func packA6(a []float32, lda, kc int, d []float32) {
	if kc == 0 {
		return
	}
	if !useAVX2 {
		packA6Go(a, lda, kc, d)
		return
	}
	_ = a[(gemmMR-1)*lda+kc-1]
	_ = d[kc*gemmMR-1]
	packA6AVX(&d[0], &a[0], lda, kc)
}

//go:noescape
func sgemmKernel6x16PackAVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, bp *float32, pf int)

// microKernelPack computes a 6 x 16 tile like microKernel with b read in place (rows ldb apart),
// copies those kc rows of 16 values to bp (a packed micro-panel) and prefetches the memory pf
// bytes past each of them.
func microKernelPack(kc int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, bp []float32, pf int) {
	if !useAVX2 || kc <= 0 {
		microKernelPackGo(kc, a, b, ldb, c, ldc, alpha, beta, bp)
		return
	}
	_ = a[kc*gemmMR-1]
	_ = b[(kc-1)*ldb+gemmNR-1]
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	_ = bp[kc*gemmNR-1]
	sgemmKernel6x16PackAVX2(kc, &a[0], &b[0], ldb, &c[0], ldc, alpha, beta, &bp[0], pf)
}

//go:noescape
func sgemmKernel6x16PFAVX2(kc int, a, b *float32, ldb int, c *float32, ldc int, alpha, beta float32, pf *float32, pfld int)

// microKernelPF is microKernel for 6 rows that also prefetches one line per k step, from pf
// with stride pfld floats (pf may point past the matrix' end: prefetches do not fault, but the
// pointer must stay inside the slice, so pf is the slice's start and pfOff the offset).
func microKernelPF(kc int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, pf []float32, pfld int) {
	if !useAVX2 || kc <= 0 || len(pf) == 0 {
		microKernel(gemmMR, kc, a, b, ldb, c, ldc, alpha, beta)
		return
	}
	_ = a[kc*gemmMR-1]
	_ = b[(kc-1)*ldb+gemmNR-1]
	_ = c[(gemmMR-1)*ldc+gemmNR-1]
	sgemmKernel6x16PFAVX2(kc, &a[0], &b[0], ldb, &c[0], ldc, alpha, beta, &pf[0], pfld)
}

//go:noescape
func packBEdgeAVX2(dst, src *float32, ldb, kc, cols int)

// packBEdge packs the first cols < 16 values of kc rows of b (stride ldb) into d (kc x 16),
// zero-padded.
func packBEdge(b []float32, ldb, kc, cols int, d []float32) {
	if kc == 0 || cols == 0 {
		return
	}
	if !useAVX2 {
		packBEdgeGo(b, ldb, kc, cols, d)
		return
	}
	_ = b[(kc-1)*ldb+cols-1]
	_ = d[kc*gemmNR-1]
	packBEdgeAVX2(&d[0], &b[0], ldb, kc, cols)
}
