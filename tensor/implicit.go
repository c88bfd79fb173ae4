package tensor

import "fmt"

// Implicit-GEMM convolution: Sgemm with the B operand, a convolution's im2col matrix, never
// written out. The macro-kernel packs B's 16-column micro-panels anyway, so they are packed
// straight from the image instead of from an unrolled copy of it: a large layer's columns
// (AlexNet's first layer: 363 x 3025 floats, 4.4 MB per sample) then never go to memory and
// back, and the image, KH*KW/(SH*SW) times smaller, stays in cache. The image is first laid out
// zero-padded with each row split into its stride phases (ImplicitGeom.FillSource), so that a
// panel within one output row is 16 adjacent floats per packed row (two vector copies, whatever
// the stride), one across the end of an output row two runs (blended); only panels over three
// or more output rows are gathered. The products are those of Sgemm on the materialised matrix
// bit for bit: the same k blocks, packed values and kernels.

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
		a := runLen(idx)
		if a == gemmNR {
			packConvPanel1(src, rows, int(idx[0]), d)
			continue
		}
		if runLen(idx[a:]) == gemmNR-a && idx[a] > idx[a-1] {
			// Two runs (a panel across the end of an output row). The second run starts past
			// the first's end, so both 16-float reads (from idx[0] and from idx[a]-a) lie
			// between idx[0] and idx[15].
			packConvPanel2(src, rows, int(idx[0]), int(idx[a])-a, a, d)
			continue
		}
		packConvPanel(src, rows, (*[gemmNR]int32)(idx), d)
	}
}

// runLen is the length of the run of consecutive offsets that idx starts with.
func runLen(idx []int32) int {
	n := 1
	for n < len(idx) && idx[n] == idx[n-1]+1 {
		n++
	}
	return n
}

// packConvPanel1Go packs a full micro-panel of consecutive offsets: d[p*16+j] = src[rows[p]+o1+j].
func packConvPanel1Go(src []float32, rows []int32, o1 int, d []float32) {
	for p, r := range rows {
		*(*[gemmNR]float32)(d[p*gemmNR:]) = *(*[gemmNR]float32)(src[int(r)+o1:])
	}
}

// packConvPanel2Go packs a full micro-panel of two runs: d[p*16+j] = src[rows[p]+o1+j] for
// j < a, src[rows[p]+o2+j] for j >= a.
func packConvPanel2Go(src []float32, rows []int32, o1, o2, a int, d []float32) {
	for p, r := range rows {
		q := d[p*gemmNR : (p+1)*gemmNR]
		copy(q[:a], src[int(r)+o1:])
		copy(q[a:], src[int(r)+o2+a:int(r)+o2+gemmNR])
	}
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

// ImplicitGeom is a convolution's geometry for the implicit GEMM: FillSource lays an image out
// so that Offsets' column offsets are consecutive along each output row whatever the stride.
// Each zero-padded image row is split into StrideW phases (columns x with x % StrideW = r, in
// order), so a kernel tap's values for consecutive output columns, StrideW apart in the image,
// are adjacent: the GEMM's packed panels then copy as vectors instead of being gathered
// (AlexNet's stride-4 first layer, CORnet-Z's stride-2 one).
type ImplicitGeom struct {
	C, H, W, KH, KW, PadH, PadW, StrideH, StrideW, DilH, DilW int
}

// out returns the output size, panicking on a geometry without output.
func (g *ImplicitGeom) out() (oh, ow int) {
	if g.C <= 0 || g.H <= 0 || g.W <= 0 || g.KH <= 0 || g.KW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 || g.DilH <= 0 || g.DilW <= 0 || g.PadH < 0 || g.PadW < 0 {
		panic(fmt.Sprintf("tensor.ImplicitGeom: bad geometry %+v", *g))
	}
	oh, ow = ConvOut(g.H, g.KH, g.PadH, g.StrideH, g.DilH), ConvOut(g.W, g.KW, g.PadW, g.StrideW, g.DilW)
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("tensor.ImplicitGeom: empty output %dx%d of %+v", oh, ow, *g))
	}
	return oh, ow
}

// phaseLen is the length of one phase of a padded row; rowLen that of a padded row (all phases).
func (g *ImplicitGeom) phaseLen() int { return (g.W + 2*g.PadW + g.StrideW - 1) / g.StrideW }
func (g *ImplicitGeom) rowLen() int   { return g.StrideW * g.phaseLen() }

// SourceLen is the number of floats FillSource writes.
func (g *ImplicitGeom) SourceLen() int { return g.C * (g.H + 2*g.PadH) * g.rowLen() }

// Offsets fills rowOff (C*KH*KW values, the im2col rows in order) and colOff (OH*OW) for the
// layout of FillSource.
func (g *ImplicitGeom) Offsets(rowOff, colOff []int32) {
	oh, ow := g.out()
	rl, pl := g.rowLen(), g.phaseLen()
	plane := (g.H + 2*g.PadH) * rl
	if g.C*plane > 1<<31-1 {
		panic(fmt.Sprintf("tensor.ImplicitGeom: %d source floats overflow the offsets", g.C*plane))
	}
	rowOff = rowOff[:g.C*g.KH*g.KW]
	colOff = colOff[:oh*ow]
	r := 0
	for ci := 0; ci < g.C; ci++ {
		for ki := 0; ki < g.KH; ki++ {
			for kj := 0; kj < g.KW; kj++ {
				x := kj * g.DilW
				rowOff[r] = int32(ci*plane + ki*g.DilH*rl + x%g.StrideW*pl + x/g.StrideW)
				r++
			}
		}
	}
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			colOff[oy*ow+ox] = int32(oy*g.StrideH*rl + ox)
		}
	}
}

// FillSource writes the image img (C x H x W) into dst (SourceLen floats) zero-padded, each
// padded row split into its StrideW phases. Rows and phases that no kernel tap reaches (a 1x1
// stride-2 convolution reads every second row and one phase) are left as they are.
func (g *ImplicitGeom) FillSource(dst, img []float32) {
	oh, _ := g.out()
	hp, rl, pl, sw := g.H+2*g.PadH, g.rowLen(), g.phaseLen(), g.StrideW
	dst = dst[:g.C*hp*rl]
	img = img[:g.C*g.H*g.W]
	var phases [64]bool // the phases read, for strides up to 64 (beyond, all)
	all := sw > len(phases)
	if !all {
		for kj := 0; kj < g.KW; kj++ {
			phases[kj*g.DilW%sw] = true
		}
	}
	need := func(r int) bool { return all || phases[r] }
	var tmp []float32
	for ci := 0; ci < g.C; ci++ {
		plane := dst[ci*hp*rl : (ci+1)*hp*rl]
		for y := 0; y < hp; y++ {
			if !g.rowUsed(y, oh) {
				continue
			}
			row := plane[y*rl : (y+1)*rl]
			iy := y - g.PadH
			if iy < 0 || iy >= g.H {
				clear(row)
				continue
			}
			line := img[(ci*g.H+iy)*g.W : (ci*g.H+iy+1)*g.W]
			if sw == 1 {
				clear(row[:g.PadW])
				copy(row[g.PadW:], line)
				clear(row[g.PadW+g.W:])
				continue
			}
			if sw == 2 && need(0) && need(1) && g.W > 1 {
				// Image column x goes to phase (x+PadW)%2 at (x+PadW)/2.
				e, o := g.PadW%2, (g.PadW+1)%2
				ev, od := row[e*pl:(e+1)*pl], row[o*pl:(o+1)*pl]
				deinterleaveRows(ev[g.PadW/2:], od[(g.PadW+1)/2:], rl, line, g.W, g.W, 1)
				clear(ev[:g.PadW/2])
				clear(ev[g.PadW/2+(g.W+1)/2:])
				clear(od[:(g.PadW+1)/2])
				clear(od[(g.PadW+1)/2+g.W/2:])
				continue
			}
			if sw == 4 && need(0) && need(1) && need(2) && need(3) && g.W >= 4 {
				// Two rounds of the vector deinterleave: even and odd columns, then each of
				// those; image phase q (columns 4t+q) lands in padded phase (q+PadW)%4 from
				// (q+PadW)/4 on.
				if len(tmp) < g.W {
					tmp = make([]float32, g.W)
				}
				half := [2][]float32{tmp[:(g.W+1)/2], tmp[(g.W+1)/2 : g.W]}
				deinterleaveRows(half[0], half[1], 0, line, g.W, g.W, 1)
				for q, h := range half {
					a, b := (q+g.PadW)%4, (q+2+g.PadW)%4
					deinterleaveRows(row[a*pl+(q+g.PadW)/4:(a+1)*pl], row[b*pl+(q+2+g.PadW)/4:(b+1)*pl], 0, h, len(h), len(h), 1)
				}
				for r := 0; r < sw; r++ {
					ph := row[r*pl : (r+1)*pl]
					lo := min(max((g.PadW-r+sw-1)/sw, 0), pl)
					hi := min(max((g.PadW+g.W-r+sw-1)/sw, lo), pl)
					clear(ph[:lo])
					clear(ph[hi:])
				}
				continue
			}
			for r := 0; r < sw; r++ {
				if !need(r) {
					continue
				}
				// Phase r holds padded columns u*sw + r, image columns u*sw + r - PadW.
				ph := row[r*pl : (r+1)*pl]
				lo := min(max((g.PadW-r+sw-1)/sw, 0), pl)
				hi := min(max((g.PadW+g.W-r+sw-1)/sw, lo), pl)
				clear(ph[:lo])
				clear(ph[hi:])
				x := lo*sw + r - g.PadW
				seg := ph[lo:hi]
				for u := range seg {
					seg[u] = line[x]
					x += sw
				}
			}
		}
	}
}

// rowUsed reports whether a kernel tap reaches padded row y (of an output oh rows high).
func (g *ImplicitGeom) rowUsed(y, oh int) bool {
	for ki := 0; ki < g.KH; ki++ {
		if t := y - ki*g.DilH; t >= 0 && t%g.StrideH == 0 && t/g.StrideH < oh {
			return true
		}
	}
	return false
}
