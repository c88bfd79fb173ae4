package tensor

import "fmt"

// Implicit-GEMM convolution: Sgemm with the B operand, a convolution's im2col matrix, never
// written out. The macro-kernel packs B's 16-column micro-panels anyway, so they are gathered
// straight from the (zero-padded) image instead of from an unrolled copy of it: a large layer's
// columns (AlexNet's first layer: 363 x 3025 floats, 4.4 MB per sample) then never go to memory
// and back, and the image, KH*KW/(SH*SW) times smaller, stays in cache. The products are those of
// Sgemm on the materialised matrix bit for bit: the same k blocks, packed values and kernels.

// PackedA is an m x k matrix A (not transposed) packed once in the layout the GEMM's
// macro-kernel reads (6-row micro-panels in Sgemm's k blocks), for products with many B blocks:
// a convolution's weights against each block of each sample's columns (SgemmImplicit).
type PackedA struct {
	M, K     int
	kcb, mcb int
	mp       int // M rounded up to whole micro-panels
	data     []float32
}

// PackA packs the m x k matrix a (row stride lda) into dst, reusing dst's storage.
func PackA(dst *PackedA, m, k int, a []float32, lda int) {
	if m <= 0 || k <= 0 || lda < k || len(a) < (m-1)*lda+k {
		panic(fmt.Sprintf("tensor.PackA: %dx%d matrix with lda %d in %d floats", m, k, lda, len(a)))
	}
	dst.M, dst.K = m, k
	dst.kcb = blockSize(k, gemmKC, 1)
	dst.mcb = blockSize(m, gemmMC, gemmMR)
	dst.mp = (m + gemmMR - 1) / gemmMR * gemmMR
	dst.data = grow(dst.data, dst.mp*k)
	for pc := 0; pc < k; pc += dst.kcb {
		kc := min(dst.kcb, k-pc)
		packA(false, a, lda, 0, pc, m, kc, dst.data[pc*dst.mp:])
	}
}

// ConvCols describes a convolution's im2col matrix over zero-padded images without storing it:
// element (r, j) is Src[RowOff[r]+ColOff[j]]. For an image with C channels padded to Hp x Wp,
// row r = (c, i, j) of a KH x KW kernel with dilation (dh, dw) has RowOff c*Hp*Wp + i*dh*Wp +
// j*dw, and output position (y, x) with strides (sh, sw) has ColOff y*sh*Wp + x*sw.
type ConvCols struct {
	Src            []float32
	RowOff, ColOff []int32
}

// check panics unless every element of rows 0..k-1 and columns 0..n-1 lies in Src.
func (b *ConvCols) check(k, n int) {
	if len(b.RowOff) < k || len(b.ColOff) < n {
		panic(fmt.Sprintf("tensor.SgemmImplicit: %d row and %d column offsets for a %dx%d matrix", len(b.RowOff), len(b.ColOff), k, n))
	}
	lo, hi := offRange(b.RowOff[:k])
	clo, chi := offRange(b.ColOff[:n])
	if lo+clo < 0 || hi+chi >= int64(len(b.Src)) {
		panic(fmt.Sprintf("tensor.SgemmImplicit: offsets reach [%d, %d] outside the %d source floats", lo+clo, hi+chi, len(b.Src)))
	}
}

func offRange(o []int32) (lo, hi int64) {
	lo, hi = int64(o[0]), int64(o[0])
	for _, v := range o {
		lo, hi = min(lo, int64(v)), max(hi, int64(v))
	}
	return lo, hi
}

// SgemmImplicit computes C = A*B for the packed m x k matrix a and the first n columns of the
// implicit k x n matrix b, C m x n with row stride ldc, on the calling goroutine. Every element
// of C is bit for bit what Sgemm gives on the materialised B (with alpha 1 and beta 0), whatever n.
func SgemmImplicit(a *PackedA, b *ConvCols, n int, c []float32, ldc int) {
	m, k := a.M, a.K
	if n <= 0 {
		return
	}
	if ldc < n || len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("tensor.SgemmImplicit: C %dx%d with ldc %d in %d floats", m, n, ldc, len(c)))
	}
	b.check(k, n)
	w := gemmPool.Get().(*gemmWork)
	own := w.a
	kcb, mcb := a.kcb, a.mcb
	ncb := blockSize(n, gemmImplicitNC, gemmNR)
	ncp := (min(ncb, n) + gemmNR - 1) / gemmNR * gemmNR
	w.b = grow(w.b, ncp*kcb)
	for jc := 0; jc < n; jc += ncb {
		nc := min(ncb, n-jc)
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			var beta float32
			if pc > 0 {
				beta = 1
			}
			packConvB(b, pc, jc, kc, nc, w.b)
			for ic := 0; ic < m; ic += mcb {
				mc := min(mcb, m-ic)
				w.a = a.data[pc*a.mp+ic*kc:]
				macroKernel(w, mc, nc, kc, 1, beta, c[ic*ldc+jc:], ldc, nil, 0)
			}
		}
	}
	w.a = own
	gemmPool.Put(w)
}

// gemmImplicitNC is SgemmImplicit's n block: its packed B block (kc x nc, 256 x 256 floats at
// most) stays in L2 beside the C block it accumulates into.
var gemmImplicitNC = 256

// packConvB packs rows p0..p0+kc-1, columns j0..j0+nc-1 of b into 16-column micro-panels, as
// packB does for a stored matrix (columns past nc are zero).
func packConvB(b *ConvCols, p0, j0, kc, nc int, dst []float32) {
	rows := b.RowOff[p0 : p0+kc]
	src := b.Src
	for jr := 0; jr < nc; jr += gemmNR {
		cols := min(gemmNR, nc-jr)
		d := dst[jr*kc : jr*kc+kc*gemmNR]
		idx := b.ColOff[j0+jr : j0+jr+cols]
		if cols < gemmNR {
			clear(d)
			for p, r := range rows {
				q := d[p*gemmNR : p*gemmNR+cols]
				for j, o := range idx {
					q[j] = src[int(r)+int(o)]
				}
			}
			continue
		}
		if contiguous16(idx) {
			o0 := int(idx[0])
			for p, r := range rows {
				*(*[gemmNR]float32)(d[p*gemmNR:]) = *(*[gemmNR]float32)(src[int(r)+o0:])
			}
			continue
		}
		packConvPanel(src, rows, (*[gemmNR]int32)(idx), d)
	}
}

// contiguous16 reports whether the 16 offsets are consecutive (a panel within one output row of
// a unit-stride convolution: its rows copy as vectors).
func contiguous16(idx []int32) bool {
	for j := 1; j < gemmNR; j++ {
		if idx[j] != idx[j-1]+1 {
			return false
		}
	}
	return true
}

// packConvPanelGo gathers one full micro-panel: d[p*16+j] = src[rows[p]+idx[j]].
func packConvPanelGo(src []float32, rows []int32, idx *[gemmNR]int32, d []float32) {
	d = d[:len(rows)*gemmNR]
	for p, r := range rows {
		s := src[r:]
		q := (*[gemmNR]float32)(d[p*gemmNR:])
		q[0], q[1], q[2], q[3] = s[idx[0]], s[idx[1]], s[idx[2]], s[idx[3]]
		q[4], q[5], q[6], q[7] = s[idx[4]], s[idx[5]], s[idx[6]], s[idx[7]]
		q[8], q[9], q[10], q[11] = s[idx[8]], s[idx[9]], s[idx[10]], s[idx[11]]
		q[12], q[13], q[14], q[15] = s[idx[12]], s[idx[13]], s[idx[14]], s[idx[15]]
	}
}

func packConvPanel(src []float32, rows []int32, idx *[gemmNR]int32, d []float32) {
	packConvPanelGo(src, rows, idx, d)
}
