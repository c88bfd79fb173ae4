package tensor

import (
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Winograd F(4x4, 3x3) convolution (Lavin & Gray 2016, "Fast Algorithms for Convolutional
// Neural Networks"): each 4x4 block of outputs of a 3x3, stride-1 convolution is computed from
// the 6x6 input tile under it as Y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, with the interpolation points
// 0, ±1, ±2 and ∞. Summed over input channels, the elementwise product becomes 36 independent
// matrix products (one per position ξ of the 6x6 transformed tile): M[ξ] = U[ξ] · V[ξ], with
// U[ξ] the transformed weights (Out x C) and V[ξ] the transformed tiles (C x tiles), so the
// multiply-adds run on the SGEMM at 36/16 = 2.25 per output and input channel instead of
// im2col's 9. The transforms are exact in real arithmetic; in float32 the larger constants of
// the 4x4 variant (up to 8 in Aᵀ, 5 in Bᵀ) cost a few ulps more than im2col's plain sums (the
// tests bound the error against a float64 direct convolution).

// WinogradTileLen is the number of positions in a transformed tile (6 x 6).
const WinogradTileLen = 36

// WinogradGeom is the geometry of a 3x3, stride-1, undilated, ungrouped convolution run with
// Winograd F(4x4, 3x3): C input channels of H x W, Out output channels of OH x OW, with zero
// padding PadH, PadW on each side (OH = H + 2 PadH - 2).
type WinogradGeom struct {
	C, H, W, Out, PadH, PadW int
	OH, OW                   int

	kc int // k block of the products: the transformed weights are packed in blocks of kc channels
}

// NewWinogradGeom resolves the output size; it reports an error for a geometry that has no
// output or a negative size.
func NewWinogradGeom(c, h, w, out, padH, padW int) (WinogradGeom, error) {
	g := WinogradGeom{C: c, H: h, W: w, Out: out, PadH: padH, PadW: padW, OH: h + 2*padH - 2, OW: w + 2*padW - 2, kc: blockSize(c, gemmKC, 1)}
	if c <= 0 || h <= 0 || w <= 0 || out <= 0 || padH < 0 || padW < 0 || g.OH <= 0 || g.OW <= 0 {
		return g, fmt.Errorf("winograd: bad geometry c=%d h=%d w=%d out=%d pad=%d,%d", c, h, w, out, padH, padW)
	}
	return g, nil
}

func (g *WinogradGeom) tilesH() int { return (g.OH + 3) / 4 }
func (g *WinogradGeom) tilesW() int { return (g.OW + 3) / 4 }

// WinogradWeightLen is the length of the transformed weights of g (36 x Out x C, Out rounded
// up to the GEMM's 6-row panels).
func (g *WinogradGeom) WinogradWeightLen() int { return WinogradTileLen * g.out6() * g.C }

func (g *WinogradGeom) out6() int { return (g.Out + gemmMR - 1) / gemmMR * gemmMR }

// WinogradWeights transforms the weights w ([Out, C, 3, 3], PyTorch's layout) into u: 36
// Out x C matrices, one per transformed position, each packed once for the GEMM micro-kernel
// (blocks of kc channels, in each 6-row panels holding kc columns of 6 values, rows past Out
// zero). The transform runs in float64 and rounds once.
func WinogradWeights(g *WinogradGeom, w, u []float32) {
	out, c := g.Out, g.C
	if len(w) < out*c*9 || len(u) < g.WinogradWeightLen() {
		panic(fmt.Sprintf("tensor.WinogradWeights: weights %d (need %d), transformed %d (need %d)", len(w), out*c*9, len(u), g.WinogradWeightLen()))
	}
	// G (6x3) of F(4x4, 3x3).
	G := [6][3]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	o6 := g.out6()
	clear(u[:g.WinogradWeightLen()])
	for o := 0; o < out; o++ {
		for ci := 0; ci < c; ci++ {
			pc := ci / g.kc * g.kc
			kc := min(g.kc, c-pc)
			at := pc*o6 + o/gemmMR*gemmMR*kc + (ci-pc)*gemmMR + o%gemmMR
			k := w[(o*c+ci)*9 : (o*c+ci)*9+9]
			var t [6][3]float64 // G g
			for i := 0; i < 6; i++ {
				for j := 0; j < 3; j++ {
					t[i][j] = G[i][0]*float64(k[j]) + G[i][1]*float64(k[3+j]) + G[i][2]*float64(k[6+j])
				}
			}
			for i := 0; i < 6; i++ {
				for j := 0; j < 6; j++ {
					v := t[i][0]*G[j][0] + t[i][1]*G[j][1] + t[i][2]*G[j][2]
					u[(i*6+j)*o6*c+at] = float32(v)
				}
			}
		}
	}
}

// winogradBlockBytes bounds the transformed tiles and products of one block of tiles (V and M,
// 36 x (C + Out) x tiles floats): a block small enough to stay in the shared L3 while the 36
// products read it. Blocks hold at least winogradMinTiles tiles, so that each transformed weight
// matrix (read once per block) serves enough columns.
var (
	winogradBlockBytes = 4 << 20
	winogradMinTiles   = 128
)

// winoFree keeps the work buffers between calls: a sync.Pool would drop them at every garbage
// collection, and reallocating (and faulting in) megabytes per layer costs more than the
// transforms.
var winoFree struct {
	sync.Mutex
	bufs [][]float32
}

// winoGet returns a buffer of n floats (contents undefined): the smallest kept one that is
// large enough, else a new one.
func winoGet(n int) []float32 {
	winoFree.Lock()
	best := -1
	for i, b := range winoFree.bufs {
		if cap(b) >= n && (best < 0 || cap(b) < cap(winoFree.bufs[best])) {
			best = i
		}
	}
	if best >= 0 {
		b := winoFree.bufs[best]
		last := len(winoFree.bufs) - 1
		winoFree.bufs[best] = winoFree.bufs[last]
		winoFree.bufs = winoFree.bufs[:last]
		winoFree.Unlock()
		return b[:n]
	}
	winoFree.Unlock()
	return make([]float32, n)
}

// winoPut keeps b for a later call; a buffer too small to serve the larger layers is dropped
// when the list is full.
func winoPut(b []float32) {
	winoFree.Lock()
	defer winoFree.Unlock()
	if len(winoFree.bufs) < 16 {
		winoFree.bufs = append(winoFree.bufs, b)
		return
	}
	small := 0
	for i, k := range winoFree.bufs {
		if cap(k) < cap(winoFree.bufs[small]) {
			small = i
		}
	}
	if cap(b) > cap(winoFree.bufs[small]) {
		winoFree.bufs[small] = b
	}
}

// WinogradConv computes y (n x Out x OH x OW) = the convolution of x (n x C x H x W) with the
// weights transformed into u by WinogradWeights, plus bias[o] when bias is not nil, then
// tail(o, values) on each run of channel o's outputs along a row when tail is not nil (a fused
// elementwise tail, applied while the values are in cache; it must not keep the slice). The tiles
// of all n images are multiplied together (the products' columns), in blocks; blocks are split
// over Threads() goroutines, and a single block has each of its three stages split instead.
func WinogradConv(g *WinogradGeom, n int, x, u, bias, y []float32, tail func(o int, values []float32)) {
	if n <= 0 {
		return
	}
	if len(x) < n*g.C*g.H*g.W || len(y) < n*g.Out*g.OH*g.OW || len(u) < g.WinogradWeightLen() || (bias != nil && len(bias) < g.Out) {
		panic(fmt.Sprintf("tensor.WinogradConv: sizes x=%d y=%d u=%d bias=%d for n=%d geometry %+v", len(x), len(y), len(u), len(bias), n, *g))
	}
	per := g.tilesH() * g.tilesW()
	total := n * per
	nt := winogradBlockBytes / (WinogradTileLen * 4 * (g.C + g.Out))
	nt = max(nt/16*16, winogradMinTiles)
	threads := Threads()
	// Enough blocks for every thread when there are many tiles; otherwise one block at a time
	// with its stages split.
	if total < threads*nt && total >= threads*winogradMinTiles {
		nt = (total + threads - 1) / threads
	}
	nt = min(nt, total)
	blocks := (total + nt - 1) / nt
	if blocks > 1 && threads > 1 {
		// A whole number of blocks per thread, of equal size.
		blocks = (blocks + threads - 1) / threads * threads
		nt = (total + blocks - 1) / blocks
		blocks = (total + nt - 1) / nt
	}
	var next atomic.Int64
	run := func(inner int) {
		// Tiles padded to whole 16-column panels of the products.
		ld := (nt + gemmNR - 1) / gemmNR * gemmNR
		need := WinogradTileLen * (g.C + g.Out) * ld
		bp := winoGet(need)
		v := bp[:WinogradTileLen*g.C*ld]
		m := bp[WinogradTileLen*g.C*ld : need]
		// Blocks are taken in turn: a thread slowed by other work delays nothing.
		for {
			b := int(next.Add(1) - 1)
			if b >= blocks {
				break
			}
			t0 := b * nt
			winogradBlock(g, x, u, bias, y, v, m, t0, min(nt, total-t0), per, inner, tail)
		}
		winoPut(bp)
	}
	t := min(threads, blocks)
	if t <= 1 {
		run(threads)
		return
	}
	var wg sync.WaitGroup
	for wi := 1; wi < t; wi++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(1)
		}()
	}
	run(1)
	wg.Wait()
}

// splitRange runs body over [0, n) on up to t goroutines (the caller included).
func splitRange(n, t int, body func(lo, hi int)) {
	t = min(t, n)
	if t <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	for wi := 1; wi < t; wi++ {
		wg.Add(1)
		go func(wi int) {
			defer wg.Done()
			body(wi*n/t, (wi+1)*n/t)
		}(wi)
	}
	body(0, n/t)
	wg.Wait()
}

// winogradBlock computes the tiles [t0, t0+cnt) (numbered over all images, per tiles per
// image) with v and m as the transformed tiles and the products. With ld = cnt rounded up to
// 16 columns, v holds for each position ξ the C x ld matrix packed as the micro-kernel reads
// it (ld/16 panels of C rows of 16 tiles), and m for each ξ an Out x ld matrix.
func winogradBlock(g *WinogradGeom, x, u, bias, y, v, m []float32, t0, cnt, per, inner int, tail func(int, []float32)) {
	n := (cnt + 7) / 8 * 8
	ld := (cnt + gemmNR - 1) / gemmNR * gemmNR
	splitRange(g.C, inner, func(lo, hi int) {
		buf := winoGet(36*(n+8) + 36*n + 6*(4*g.tilesW()+34))
		// Cleared once: columns past the tiles and the row buffer's tail are read (and their
		// results dropped) but never written; they must not hold NaNs or subnormals.
		clear(buf)
		for ci := lo; ci < hi; ci++ {
			winogradInput(g, x, v, ci, t0, cnt, ld, per, buf)
		}
		winoPut(buf)
	})
	splitRange(WinogradTileLen, inner, func(lo, hi int) {
		for xi := lo; xi < hi; xi++ {
			winogradGemm(g, u, v, m, xi, ld)
		}
	})
	splitRange(g.Out, inner, func(lo, hi int) {
		buf := winoGet(24*n + 20*(n+8))
		clear(buf) // columns past the tiles are read (their results dropped), never written
		defer winoPut(buf)
		for o := lo; o < hi; o++ {
			var b float32
			if bias != nil {
				b = bias[o]
			}
			winogradOutput(g, m, y, o, b, t0, cnt, ld, per, buf, tail)
		}
	})
}

// winogradMC is the rows of transformed weights (a multiple of 6) multiplied with each panel of
// tiles in turn: 120 rows of 256 channels (120 KiB) stay in L2, as in gemmSerial.
const winogradMC = 120

// winogradGemm computes m[ξ] = u[ξ] v[ξ] for ξ = xi from the packed operands (see
// winogradBlock and WinogradWeights) on the SGEMM's micro-kernel, the products of each k
// block added to the last.
func winogradGemm(g *WinogradGeom, u, v, m []float32, xi, ld int) {
	o6 := g.out6()
	ub, vb, mb := u[xi*o6*g.C:], v[xi*g.C*ld:], m[xi*g.Out*ld:]
	for pc := 0; pc < g.C; pc += g.kc {
		kc := min(g.kc, g.C-pc)
		var beta float32
		if pc > 0 {
			beta = 1
		}
		ua := ub[pc*o6:]
		for ic := 0; ic < g.Out; ic += winogradMC {
			ie := min(ic+winogradMC, g.Out)
			for jr := 0; jr < ld; jr += gemmNR {
				bp := vb[jr*g.C+pc*gemmNR:] // panel jr/16 starts at jr/16 * C*16
				if jr+2*gemmNR <= ld && wideKernel() {
					bp1 := vb[(jr+gemmNR)*g.C+pc*gemmNR:]
					for ir := ic; ir < ie; ir += gemmMR {
						microKernelWide(min(gemmMR, g.Out-ir), kc, ua[ir*kc:], bp, bp1, gemmNR, mb[ir*ld+jr:], ld, 1, beta)
					}
					jr += gemmNR
					continue
				}
				for ir := ic; ir < ie; ir += gemmMR {
					microKernel(min(gemmMR, g.Out-ir), kc, ua[ir*kc:], bp, gemmNR, mb[ir*ld+jr:], ld, 1, beta)
				}
			}
		}
	}
}

// winogradInput writes Bᵀ d B of channel ci's tiles [t0, t0+cnt) to v (see winogradBlock). The tiles
// are gathered into 36 rows (row i*6+k holds every tile's value at row i, column k), so that
// both 1-D transforms run along the whole block, 8 tiles at a time. Each row of tiles is
// gathered from a copy of its six input rows with the padding in place (rows of 4 tw + 2).
func winogradInput(g *WinogradGeom, x, v []float32, ci, t0, cnt, ld, per int, buf []float32) {
	tw := g.tilesW()
	h, w := g.H, g.W
	n := (cnt + 7) / 8 * 8
	nd := n + 8 // d's rows: gathered runs of 8 tiles end up to 7 past a segment
	wp := 4*tw + 2 + 32
	d, e, rows := buf[:36*nd], buf[36*nd:36*nd+36*n], buf[36*nd+36*n:36*nd+36*n+6*wp]
	for tt := 0; tt < cnt; {
		t := t0 + tt
		s, r := t/per, t%per
		ty, a := r/tw, r%tw
		b := min(tw, a+cnt-tt)
		img := x[(s*g.C+ci)*h*w : (s*g.C+ci+1)*h*w]
		for i := 0; i < 6; i++ {
			ri := rows[i*wp : (i+1)*wp]
			iy := 4*ty + i - g.PadH
			if iy < 0 || iy >= h {
				clear(ri)
				continue
			}
			// Columns [4a, 4b+2) of the padded row: image columns from 4a - PadW.
			lo, hi := 4*a, 4*b+2
			c0, c1 := max(lo, g.PadW), min(hi, g.PadW+w)
			clear(ri[lo:max(c0, lo)])
			if c1 > c0 {
				copy(ri[c0:c1], img[iy*w+c0-g.PadW:])
			}
			clear(ri[max(c1, lo):hi])
		}
		// Runs of 8 tiles: the last run gathers up to 7 tiles past the segment (from the row
		// buffer's tail), into columns that the next segment overwrites or that lie past the
		// block (d's rows have 8 spare columns).
		n8 := (b - a + 7) / 8 * 8
		for i := 0; i < 6; i++ {
			winoGather6(d[i*6*nd+tt:], nd, rows[i*wp+4*a:(i+1)*wp], n8)
		}
		tt += b - a
	}
	var src [6]*float32
	// Bᵀ over the rows i: e[j*6+k] from d[i*6+k].
	for k := 0; k < 6; k++ {
		for i := range src {
			src[i] = &d[(i*6+k)*nd]
		}
		winoBT6(&src, e[k*n:], 6*n, n)
	}
	// Then over the columns k: v[j*6+l] from e[j*6+k], into the panels of 16 tiles.
	stride := g.C * ld
	for j := 0; j < 6; j++ {
		for k := range src {
			src[k] = &e[(j*6+k)*n]
		}
		winoBT6P(&src, v[j*6*stride+ci*gemmNR:], stride, n, (g.C-1)*gemmNR)
	}
	if n < ld {
		// The last panel's upper half is past the tiles: zeros, not stale values.
		at := (ld/gemmNR-1)*g.C*gemmNR + ci*gemmNR + 8
		for xi := 0; xi < WinogradTileLen; xi++ {
			clear(v[xi*stride+at : xi*stride+at+8])
		}
	}
}

// winogradOutput writes Aᵀ m A + b of output channel o's tiles [t0, t0+cnt) into y, dropping
// the positions past the output's edge: both 1-D transforms run along the whole block, 8
// tiles at a time, then each tile's 4x4 values are stored.
func winogradOutput(g *WinogradGeom, m, y []float32, o int, b float32, t0, cnt, ld, per int, buf []float32, tail func(int, []float32)) {
	tw := g.tilesW()
	oh, ow := g.OH, g.OW
	stride := g.Out * ld
	n := (cnt + 7) / 8 * 8
	nr := n + 8 // r4's rows: the last run of a segment reads up to 7 past it
	f, r4, row := buf[:24*n], buf[24*n:24*n+16*nr], buf[24*n+16*nr:24*n+20*nr]
	var src [6]*float32
	// Aᵀ over the rows i: f[r*6+j] from m[i*6+j].
	for j := 0; j < 6; j++ {
		for i := range src {
			src[i] = &m[(i*6+j)*stride+o*ld]
		}
		winoAT6(&src, f[j*n:], 6*n, n)
	}
	// Then over the columns j: r4[r*4+c] from f[r*6+j].
	for r := 0; r < 4; r++ {
		for j := range src {
			src[j] = &f[(r*6+j)*n]
		}
		winoAT6(&src, r4[r*4*nr:], nr, n)
	}
	for tt := 0; tt < cnt; {
		t := t0 + tt
		s, r := t/per, t%per
		ty, a := r/tw, r%tw
		e := min(tw, a+cnt-tt)
		plane := y[(s*g.Out+o)*oh*ow : (s*g.Out+o+1)*oh*ow]
		for i := 0; i < min(4, oh-4*ty); i++ {
			yr := plane[(4*ty+i)*ow : (4*ty+i+1)*ow]
			// Whole runs of 8 tiles straight into the output row; the last, partial run
			// (which may pass the segment) into a row buffer, then its columns into the row.
			full := (e - a) / 8 * 8
			if 4*(a+full) > ow {
				full -= 8 // the row's last tile is cut short: never write past the row
			}
			winoScatter4(yr[4*a:], r4[i*4*nr+tt:], nr, full, b)
			if n4 := min(4*e, ow) - 4*(a+full); n4 > 0 {
				winoScatter4(row, r4[i*4*nr+tt+full:], nr, 8, b)
				copy(yr[4*(a+full):], row[:n4])
			}
			if tail != nil {
				tail(o, yr[4*a:min(4*e, ow)])
			}
		}
		tt += e - a
	}
}

// winoBT6Go is winoBT6 in Go.
func winoBT6Go(src *[6]*float32, dst []float32, dstride, n int) {
	var in [6][]float32
	for i, p := range src {
		in[i] = unsafe.Slice(p, n)
	}
	for k := 0; k < n; k++ {
		d0, d1, d2, d3, d4, d5 := in[0][k], in[1][k], in[2][k], in[3][k], in[4][k], in[5][k]
		dst[k] = 4*d0 - 5*d2 + d4
		dst[dstride+k] = -4*(d1+d2) + d3 + d4
		dst[2*dstride+k] = 4*(d1-d2) - d3 + d4
		dst[3*dstride+k] = 2*(d3-d1) - d2 + d4
		dst[4*dstride+k] = 2*(d1-d3) - d2 + d4
		dst[5*dstride+k] = 4*d1 - 5*d3 + d5
	}
}

// winoAT6Go is winoAT6 in Go.
func winoAT6Go(src *[6]*float32, dst []float32, dstride, n int) {
	var in [6][]float32
	for i, p := range src {
		in[i] = unsafe.Slice(p, n)
	}
	for k := 0; k < n; k++ {
		m0, m1, m2, m3, m4, m5 := in[0][k], in[1][k], in[2][k], in[3][k], in[4][k], in[5][k]
		a, b := m1+m2, m1-m2
		c, d := m3+m4, m3-m4
		dst[k] = m0 + a + c
		dst[dstride+k] = b + 2*d
		dst[2*dstride+k] = a + 4*c
		dst[3*dstride+k] = b + 8*d + m5
	}
}

// winoGather6Go is winoGather6 in Go.
func winoGather6Go(dst []float32, dstride int, row []float32, n int) {
	q0, q1, q2 := dst[:n], dst[dstride:dstride+n], dst[2*dstride:2*dstride+n]
	q3, q4, q5 := dst[3*dstride:3*dstride+n], dst[4*dstride:4*dstride+n], dst[5*dstride:5*dstride+n]
	for j := range q0 {
		p := (*[6]float32)(row[4*j:])
		q0[j], q1[j], q2[j], q3[j], q4[j], q5[j] = p[0], p[1], p[2], p[3], p[4], p[5]
	}
}

// winoScatter4Go is winoScatter4 in Go.
func winoScatter4Go(dst, src []float32, sstride, n int, b float32) {
	c0, c1, c2, c3 := src[:n], src[sstride:sstride+n], src[2*sstride:2*sstride+n], src[3*sstride:3*sstride+n]
	for j := range c0 {
		z := (*[4]float32)(dst[4*j:])
		z[0], z[1], z[2], z[3] = c0[j]+b, c1[j]+b, c2[j]+b, c3[j]+b
	}
}

// winoBT6PGo is winoBT6P in Go.
func winoBT6PGo(src *[6]*float32, dst []float32, dstride, n, jump int) {
	var in [6][]float32
	for i, p := range src {
		in[i] = unsafe.Slice(p, n)
	}
	for k := 0; k < n; k++ {
		d0, d1, d2, d3, d4, d5 := in[0][k], in[1][k], in[2][k], in[3][k], in[4][k], in[5][k]
		o := k + k/16*jump
		dst[o] = 4*d0 - 5*d2 + d4
		dst[dstride+o] = -4*(d1+d2) + d3 + d4
		dst[2*dstride+o] = 4*(d1-d2) - d3 + d4
		dst[3*dstride+o] = 2*(d3-d1) - d2 + d4
		dst[4*dstride+o] = 2*(d1-d3) - d2 + d4
		dst[5*dstride+o] = 4*d1 - 5*d3 + d5
	}
}
