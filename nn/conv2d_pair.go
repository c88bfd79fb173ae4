package nn

import (
	"fmt"
	"sync/atomic"

	"github.com/ventral-lab/ventral/tensor"
)

// A convolution (a pointwise expansion, mostly) and the depthwise convolution after it, run
// depth first.
//
// In a MobileNet each 1x1 convolution that widens the channels (6x in MobileNetV2) feeds one
// 3x3 depthwise convolution and nothing else. Layer by layer, the wide map between them
// (MobileNetV2's 96 x 112 x 112 levels: 4.8 MB a sample, 77 MB a batch of 16) is written to
// memory by the GEMM and read back by the depthwise kernel, and on this machine those two
// passes took about half of the two layers' time. At inference Graph.Forward therefore runs
// such a pair (and any other ungrouped convolution with a depthwise one after it) per sample,
// in bands of the depthwise layer's output rows: the GEMM computes the band's input rows of the
// wide map (the halo rows included, rows shared with the previous band moved rather than
// recomputed) for a group of channels into a buffer that stays in L2, and the depthwise kernel
// reads them from there. The wide map never reaches memory; nor, where the 1x1 projection after
// the depthwise layer joins the bands, does the depthwise output. Quantized networks run on
// the integer GEMM, float ones on the float GEMM.
//
// Every output is the same sum of the same products as layer by layer: the GEMM's columns do
// not depend on how many of them one call computes, and the depthwise kernel reads a row of
// zeros for the padding either way (here the band's padding rows are zeros in the buffer,
// there the kernel's row of zeros). So the pair gives the unfused outputs bit for bit. The wide
// map itself is never readable: a pair forms only where nothing else reads it and it is not
// asked for (Forward's keep list).

// pairRuns counts the pairs run depth first, pairProjRuns those with the projection (read by
// tests).
var pairRuns, pairProjRuns atomic.Int64

// pairDW is false only in tests that compare the pair with the layers run one by one.
var pairDW = true

// pairBudget is the scratch buffer of one band and channel group, in floats (192 KiB of the
// 512 KiB L2, leaving room for the packed columns and weights); tests make it smaller.
var pairBudget = 48 << 10

// pairable reports whether cv, a convolution that is not grouped (MobileNets' 1x1 expansions and
// their first, 3x3 layer), and d, a depthwise convolution reading its output, can run as a pair: d is 3x3 with padding 1, stride 1 or 2 and one output per input
// channel, and its tail fuses into its kernel.
func pairable(cv, d *Conv2D) bool {
	g, dg := &cv.g, &d.dw
	return pairDW && cv.groups() == 1 && !cv.depthwise() && d.depthwise() && d.Out == d.g.c && d.g.c == cv.Out &&
		dg.KH == 3 && dg.KW == 3 && dg.PadH == 1 && dg.PadW == 1 && dg.DilH == 1 && dg.DilW == 1 &&
		dg.StrideH == dg.StrideW && (dg.StrideH == 1 || dg.StrideH == 2) && dg.H == g.oh && dg.W == g.ow && dg.FusesTail() // the 3x3 kernel, AVX2
}

// pairing is a planned pair: the depthwise convolution's chain head, and the head of the 1x1
// projection's chain that reads the depthwise chain's output alone (-1: none).
type pairing struct{ dw, proj int }

// pairPlan finds the pairs of one inference pass among the fused chains of plan: the head of
// a convolution's chain mapped to the head of the depthwise convolution's chain that is
// the only live reader of its output, and the projection after it where there is one.
func (g *Graph) pairPlan(plan map[int]*fusion, keep map[int]bool, live []bool) map[int]pairing {
	readers := make([]int, len(g.Nodes))
	reader := make([]int, len(g.Nodes))
	for j, n := range g.Nodes {
		if !live[j] {
			continue
		}
		for _, r := range n.refs {
			if r.node >= 0 {
				readers[r.node]++
				reader[r.node] = j
				if r.prev {
					readers[r.node] += 2 // a recurrent read: never paired
				}
			}
		}
	}
	// sole returns the head of the chain that alone reads the output of head i's chain, and
	// its op when it is a convolution.
	sole := func(i int) (int, *Conv2D) {
		f := plan[i]
		last := f.nodes[len(f.nodes)-1]
		if keep[last] || readers[last] != 1 {
			return -1, nil
		}
		j := reader[last]
		cv, ok := g.Nodes[j].Op.(*Conv2D)
		if !ok || plan[j] == nil || len(g.Nodes[j].refs) != 1 {
			return -1, nil
		}
		return j, cv
	}
	// dwAfter returns the depthwise head that pairs with head i, or -1.
	dwAfter := func(i int) int {
		cv, ok := g.Nodes[i].Op.(*Conv2D)
		if !ok {
			return -1
		}
		if j, d := sole(i); d != nil && pairable(cv, d) {
			return j
		}
		return -1
	}
	var pairs map[int]pairing
	for _, i := range g.order {
		if plan[i] == nil {
			continue
		}
		j := dwAfter(i)
		if j < 0 {
			continue
		}
		p := pairing{dw: j, proj: -1}
		// The 1x1 projection after the depthwise layer joins the pair unless it heads a pair of
		// its own (MobileNetV1: every 1x1 convolution is followed by a depthwise one).
		if k, pr := sole(j); pr != nil && pr.g.pointwise() && pr.groups() == 1 && pr.g.c == g.Nodes[j].Op.(*Conv2D).Out && dwAfter(k) < 0 {
			p.proj = k
		}
		if pairs == nil {
			pairs = map[int]pairing{}
		}
		pairs[i] = p
	}
	return pairs
}

// dwTail returns the tail of ep that the depthwise kernel applies in its stores, or nil when
// it cannot.
func (cv *Conv2D) dwTail(ep *epilogue) *tensor.DWTail {
	if ep == nil || !cv.dw.FusesTail() {
		return nil
	}
	if ep.quant == nil {
		return &tensor.DWTail{Lo: ep.lo, Hi: ep.hi}
	}
	if qlo, qhi, ok := ep.requant(); ok {
		return &tensor.DWTail{Requant: true, Lo: qlo, Hi: qhi}
	}
	return nil
}

// pairBands picks the band (output rows of the depthwise layer) and channel group (a multiple
// of the integer GEMM's panel height) so that a group's band of input rows fits pairBudget:
// the whole map where a band of it leaves room for 48 channels, else 8 input rows' worth.
// With a projection (proj) the band's depthwise outputs, all channels, are kept too: the band
// is then the most rows whose outputs fit pairProjBudget and fill whole 16-column strips of the
// projection's GEMM; rows 0 when there is none (the projection then runs on its own).
func pairBands(m, oh, w, ow, s int, proj bool) (rows, group int) {
	in := func(r int) int { return (r-1)*s + 3 }
	rows = oh
	if in(oh)*w*48 > pairBudget {
		rows = min(oh, 8/s)
	}
	if proj {
		r := rows
		for ; r > 0 && (m*r*ow > pairProjBudget || r*ow%16 != 0); r-- {
		}
		if r == 0 {
			return 0, 0
		}
		rows = r
	}
	group = pairBudget / (in(rows) * w) / tensor.QPanelRows * tensor.QPanelRows
	return rows, min(max(group, tensor.QPanelRows), m)
}

// pairProjBudget is the largest band of depthwise outputs (floats, all channels) kept for the
// projection (256 KiB; 128 KiB measured 3% slower on MobileNetV2 at one thread).
var pairProjBudget = 64 << 10

// bandGemm computes output rows [g0, g1) of the convolution for cols columns of its input b
// (k x cols, row stride ldb) into c (row g0 first, row stride ldc), bias and tail ep applied, as
// the layer on its own computes them: on the integer GEMM where its weights (qa) and the
// columns (packed into qb) are levels, requantizing as it stores where ep is a plain
// requantization (rq), else on the float GEMM.
func (cv *Conv2D) bandGemm(qa *tensor.QPackedA, rq *qRequant, qb *tensor.QPackedB, packed bool, g0, g1, cols int, b []float32, ldb int, c []float32, ldc int, ep *epilogue) {
	switch {
	case packed && rq.bias != nil:
		qg := qa.Rows(g0, g1)
		tensor.QGemmRequant(&qg, qb, c, ldc, rq.bias[g0:], rq.mult[g0:], rq.qlo, rq.qhi)
		return
	case packed:
		qg := qa.Rows(g0, g1)
		tensor.QGemm(&qg, qb, c, ldc)
	default:
		k := cv.g.c * cv.g.kh * cv.g.kw
		tensor.SgemmSerial(false, false, g1-g0, cols, k, 1, cv.w.Value.Data[g0*k:], k, b, ldb, 0, c, ldc)
	}
	for o := g0; o < g1; o++ {
		cv.tail(c[(o-g0)*ldc:(o-g0)*ldc+cols], o, ep)
	}
}

// forwardPair runs cv (a convolution, its tail ep) and then d (the depthwise convolution
// reading cv's output, its tail dep) on x as one pass, and with pr (a 1x1 projection reading
// d's output, its tail prep; nil for none) the projection too where its band fits (see
// pairBands). It returns the last output it computed and whether that is pr's; nil when the
// pair cannot run here (training, a Winograd convolution, a depthwise tail its kernel cannot
// apply, fewer samples than threads: the split over threads is by sample), the caller then
// runs them one by one.
func (cv *Conv2D) forwardPair(ctx *Ctx, x *tensor.Tensor, ep *epilogue, d *Conv2D, dep *epilogue, pr *Conv2D, prep *epilogue) (*tensor.Tensor, bool) {
	n := x.Shape[0]
	if (ctx != nil && ctx.Train) || n < tensor.Threads() || cv.useWinograd(ctx) {
		return nil, false
	}
	g, dg := &cv.g, &d.dw
	// c1 is the GEMM's k and h x w its output map: a convolution other than 1x1 runs on each
	// sample's im2col columns.
	c1, m, h, w := g.c*g.kh*g.kw, cv.Out, g.oh, g.ow
	direct, inSz := g.pointwise(), g.c*g.h*g.w
	tail := d.dwTail(dep) // nil: the tail is a separate pass over each band's rows
	if tail != nil {
		tail.A, tail.C = make([]float32, m), make([]float32, m)
		for ch := range m {
			tail.A[ch], tail.C[ch] = dep.coeffs(ch)
		}
	}
	// The weights packed for the integer GEMM where they are levels (see bandGemm).
	var qa, qp *tensor.QPackedA
	var rq, rqp qRequant
	if intGemm {
		if qa = cv.packedLevels(c1, cv.w.Value.Data); qa != nil {
			rq = cv.requantCoeffs(ep)
		}
		if pr != nil {
			if qp = pr.packedLevels(m, pr.w.Value.Data); qp != nil {
				rqp = pr.requantCoeffs(prep)
			}
		}
	}
	s, oh, ow := dg.StrideH, dg.OH, dg.OW
	rows, group := 0, 0
	if pr != nil {
		rows, group = pairBands(m, oh, w, ow, s, true)
	}
	if rows == 0 {
		pr = nil
		rows, group = pairBands(m, oh, w, ow, s, false)
	}
	// The geometry of a band of r output rows: its input rows, padding rows included, as a
	// plane without vertical padding.
	geoms := map[int]*tensor.DWGeom{}
	geom := func(r int) *tensor.DWGeom {
		if bg := geoms[r]; bg != nil {
			return bg
		}
		bg := &tensor.DWGeom{H: (r-1)*s + 3, W: w, KH: 3, KW: 3, PadW: 1, StrideH: s, StrideW: s, DilH: 1, DilW: 1}
		if err := bg.Check(); err != nil || bg.OH != r || bg.OW != ow || (tail != nil && !bg.FusesTail()) {
			panic(fmt.Sprintf("nn: depthwise band geometry %+v: %v", *bg, err))
		}
		geoms[r] = bg
		return bg
	}
	geom(rows)
	if oh%rows != 0 {
		geom(oh % rows)
	}
	workLen := 0
	for _, bg := range geoms {
		workLen = max(workLen, bg.ScratchLen())
	}
	ps := ((rows-1)*s + 3) * w // a channel's plane in the band buffer
	var y, yp *tensor.Tensor
	op := 0 // the projection's output channels
	if pr != nil {
		op = pr.Out
		yp = ctx.Alloc(n, op, oh, ow)
	} else {
		y = ctx.Alloc(n, m, oh, ow)
	}
	dwt := d.w.Value.Data
	parallelRange(n, func(_, lo, hi int) {
		buf := getScratch(m * ps)
		defer putScratch(buf)
		var work []float32 // the depthwise kernel's scratch, without a fused tail
		if tail == nil {
			work = getScratch(workLen)
			defer putScratch(work)
		}
		qb := qbPool.Get().(*tensor.QPackedB)
		defer qbPool.Put(qb)
		var col []float32 // a sample's columns, when not direct
		if !direct {
			col = getScratch(c1 * h * w)
			defer putScratch(col)
		}
		var band []float32 // the band's depthwise outputs, for the projection
		var qbp *tensor.QPackedB
		if pr != nil {
			band = getScratch(m * rows * ow)
			defer putScratch(band)
			qbp = qbPool.Get().(*tensor.QPackedB)
			defer qbPool.Put(qbp)
		}
		for smp := lo; smp < hi; smp++ {
			xs := x.Data[smp*inSz : (smp+1)*inSz]
			if !direct {
				g.im2col(xs, col, h*w)
				xs = col
			}
			var ys, yps []float32
			if pr != nil {
				yps = yp.Data[smp*op*oh*ow : (smp+1)*op*oh*ow]
			} else {
				ys = y.Data[smp*m*oh*ow : (smp+1)*m*oh*ow]
			}
			prevHi, prevIn := 0, 0 // the previous band's input rows: image rows up to prevHi, prevIn of them
			for r0 := 0; r0 < oh; r0 += rows {
				r := min(rows, oh-r0)
				bg := geom(r)
				top, in := r0*s-1, bg.H // the band's first input row (image coordinates) and count
				kept := 0
				if r0 > 0 {
					kept = prevHi - top // rows the previous band computed: moved, not recomputed
				}
				// The rows to compute, [a, b) in the image; rows outside it are zeros.
				a, b := max(top+kept, 0), min(top+in, h)
				packed := b > a && qa != nil && tensor.PackQB(qb, c1, (b-a)*w, xs[a*w:], h*w)
				for g0 := 0; g0 < m; g0 += group {
					g1 := min(g0+group, m)
					for ch := g0; ch < g1; ch++ {
						pl := buf[ch*ps : ch*ps+in*w]
						if kept > 0 {
							copy(pl[:kept*w], buf[ch*ps+(prevIn-kept)*w:ch*ps+prevIn*w])
						}
						clear(pl[kept*w : (a-top)*w])
						clear(pl[max(b-top, kept)*w:])
					}
					if b > a {
						cv.bandGemm(qa, &rq, qb, packed, g0, g1, (b-a)*w, xs[a*w:], h*w, buf[g0*ps+(a-top)*w:], ps, ep)
					}
					// The depthwise outputs: into the band for the projection, else into y.
					var dst []float32
					ds := r * ow
					if pr != nil {
						dst = band[g0*ds:]
					} else {
						dst, ds = ys[(g0*oh+r0)*ow:], oh*ow
					}
					if tail != nil {
						var bias []float32
						if d.b != nil {
							bias = d.b.Value.Data[g0:g1]
						}
						t := tensor.DWTail{Requant: tail.Requant, A: tail.A[g0:g1], C: tail.C[g0:g1], Lo: tail.Lo, Hi: tail.Hi}
						tensor.DepthwiseForwardTailPlanes(bg, buf[g0*ps:], ps, dwt[g0*9:g1*9], bias, dst, ds, g1-g0, &t)
						continue
					}
					// A tail the kernel does not apply (a fake_quant of real values): as
					// forwardDW, a pass over each plane's rows while they are in cache.
					for ch := g0; ch < g1; ch++ {
						var bias []float32
						if d.b != nil {
							bias = d.b.Value.Data[ch : ch+1]
						}
						o := dst[(ch-g0)*ds : (ch-g0)*ds+r*ow]
						tensor.DepthwiseForward(bg, buf[ch*ps:ch*ps+in*w], dwt[ch*9:(ch+1)*9], bias, o, work, 1)
						dep.apply(o, o, ch, 0)
					}
				}
				if pr != nil {
					// The projection of the band's columns, all channels in.
					cols := r * ow
					packed := qp != nil && tensor.PackQB(qbp, m, cols, band, cols)
					pr.bandGemm(qp, &rqp, qbp, packed, 0, op, cols, band, cols, yps[r0*ow:], oh*ow, prep)
				}
				prevHi, prevIn = top+in, in
			}
		}
	})
	pairRuns.Add(1)
	if pr != nil {
		pairProjRuns.Add(1)
		return yp, true
	}
	return y, false
}
