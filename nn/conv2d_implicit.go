package nn

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/ventral-lab/ventral/tensor"
)

// The implicit-GEMM forward pass (tensor.SgemmImplicit): the GEMM packs its column panels
// straight from each image (zero-padded, rows split into stride phases: see
// tensor.ImplicitGeom), so a sample's im2col matrix is never written.
// Where that matrix is larger than the caches (AlexNet's first two layers: 4.4 and 4.7 MB per
// sample, CORnet-Z's first: 7.4 MB) the unrolled path wrote it to memory, read it back to pack
// it, and the strided gathers of a stride-4 unrolling ran at memory speed; here the image (a
// few hundred KB) stays in L2 and each panel is copied once, into L1, with vector loads. The outputs are bit for
// bit those of the unrolled path: the same packed values in the same k blocks on the same
// kernels (a GEMM's columns do not depend on how many columns it computes).

// convImplicit is false only in tests and measurements that compare the two paths.
var convImplicit = true

// convImplicitMin is the smallest im2col matrix (floats per sample) computed implicitly:
// below it the unrolled columns stay in cache and the wide multi-sample GEMM of small maps
// (see chunk) amortises the per-call costs better.
const convImplicitMin = 1 << 15

// convImplicitAll makes every float convolution but a pointwise one run implicitly, whatever
// its size (tests of small geometries).
var convImplicitAll = false

// implicitPasses counts the forward passes run on the implicit GEMM (read by tests).
var implicitPasses atomic.Int64

// useImplicit reports whether the float forward pass runs on the implicit GEMM. Each sample's
// last panel of 16 columns is computed whole: on a small map (7x7: 49 outputs in 4 panels) that
// wastes more than the wide multi-sample GEMM saves (ResNet-18's 7x7 stride-2 layer: 22% slower
// implicitly), so the partial panel must be at most an eighth of the map. A strided 1x1
// convolution's columns are no larger than its input: unrolled they stay in cache.
func (cv *Conv2D) useImplicit(k, p int) bool {
	if !convImplicit || cv.g.pointwise() {
		return false
	}
	if cv.g.kh*cv.g.kw == 1 && !convImplicitAll {
		return false
	}
	if g := &cv.g; g.c*(g.h+2*g.ph)*(g.w+2*g.pw+g.sw) > math.MaxInt32 {
		return false // offsets past int32 (tensor.ImplicitGeom)
	}
	waste := (16 - p%16) % 16
	return convImplicitAll || k*p >= convImplicitMin && p >= 128 && 8*waste <= p
}

// implicitWork is a forward pass's packed weights (one per group) and offset tables.
type implicitWork struct {
	pa             []tensor.PackedA
	rowOff, colOff []int32
}

var implicitPool = sync.Pool{New: func() any { return new(implicitWork) }}

// forwardImplicit computes y from x on the implicit GEMM, each sample in blocks of output
// positions (as columnBlocks: the block's outputs stay in cache for the bias or ep), the
// samples split over the threads and, when there are fewer samples than threads, each
// sample's blocks too.
func (cv *Conv2D) forwardImplicit(x, y *tensor.Tensor, ep *epilogue) {
	n := x.Shape[0]
	g := &cv.g
	gr := cv.groups()
	p := g.oh * g.ow
	k := g.c * g.kh * g.kw
	kg, og := k/gr, cv.Out/gr
	inSz, outSz := g.c*g.h*g.w, cv.Out*p
	ig := tensor.ImplicitGeom{C: g.c, H: g.h, W: g.w, KH: g.kh, KW: g.kw, PadH: g.ph, PadW: g.pw,
		StrideH: g.sh, StrideW: g.sw, DilH: g.dh, DilW: g.dw}
	// Without padding or a stride across rows, the source is the image itself.
	inPlace := g.ph == 0 && g.pw == 0 && g.sw == 1
	implicitPasses.Add(1)
	iw := implicitPool.Get().(*implicitWork)
	defer implicitPool.Put(iw)
	if cap(iw.pa) < gr {
		iw.pa = make([]tensor.PackedA, gr)
	}
	pas := iw.pa[:gr]
	w := cv.w.Value.Data
	for gi := range pas {
		tensor.PackA(&pas[gi], og, kg, w[gi*og*kg:], kg)
	}
	iw.rowOff = growInt32(iw.rowOff, k)
	iw.colOff = growInt32(iw.colOff, p)
	rowOff, colOff := iw.rowOff, iw.colOff
	ig.Offsets(rowOff, colOff)
	nb := p
	if cv.Out*p > convColBlock {
		nb = max(convColBlock/cv.Out/64*64, 64)
	}
	blocks := (p + nb - 1) / nb
	workers := 1
	if n < tensor.Threads() {
		workers = min(tensor.Threads()/n, blocks)
	}
	parallelRange(n, func(_, lo, hi int) {
		var buf []float32
		if !inPlace {
			buf = getScratch(ig.SourceLen())
			defer putScratch(buf)
		}
		for s := lo; s < hi; s++ {
			src := x.Data[s*inSz : (s+1)*inSz]
			if !inPlace {
				ig.FillSource(buf, src)
				src = buf
			}
			ys := y.Data[s*outSz : (s+1)*outSz]
			run := func(b0, b1 int) {
				for bi := b0; bi < b1; bi++ {
					j0 := bi * nb
					nc := min(nb, p-j0)
					for gi := 0; gi < gr; gi++ {
						b := tensor.ConvCols{Src: src, RowOff: rowOff[gi*kg : (gi+1)*kg], ColOff: colOff[j0 : j0+nc]}
						tensor.SgemmImplicit(&pas[gi], &b, nc, ys[gi*og*p+j0:], p)
					}
					for o := 0; o < cv.Out; o++ {
						cv.tail(ys[o*p+j0:o*p+j0+nc], o, ep)
					}
				}
			}
			splitRange(blocks, workers, run)
		}
	})
}

func growInt32(s []int32, n int) []int32 {
	if cap(s) < n {
		return make([]int32, n)
	}
	return s[:n]
}
