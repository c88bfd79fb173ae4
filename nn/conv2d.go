package nn

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"unsafe"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("conv2d", func() Op { return &Conv2D{} })
}

// Conv2D is a 2-D convolution (cross-correlation, as in PyTorch) over NCHW input.
//
// Spec fields: out (output channels), kernel (5 or [kh, kw]), stride (default 1), pad (default
// 0), dilation (default 1), groups (default 1; 2 gives AlexNet's two-GPU halves: each half of the
// output channels sees one half of the input channels), no_bias, init ("he" default, or any
// scheme of InitWeights, or "gabor"), gabor (the bank's parameters when init is gabor, see
// GaborBank), constraint ("nonneg" or "nonpos": sign-constrained weights).
//
// The weight has PyTorch's layout [Out, In/groups, KH, KW]; the bias is [Out].
//
// Implementation: the receptive fields are unrolled (im2col) and multiplied by the weight matrix
// with tensor.Sgemm. Samples are split over tensor.Threads() goroutines; when a sample's output
// map is small (LeNet), the columns of several samples are laid side by side and multiplied in
// one wide GEMM, which amortises the GEMM's packing and call overhead. 1x1 convolutions with unit
// stride and no padding multiply the input directly. Unit-stride unrolling copies each kernel
// tap's rows in one strided call (tensor.CopyRows). The backward pass recomputes the columns
// (cheaper than keeping a large matrix, see convKeepCols), computes small weight gradients as
// dot products (tensor.SgemmABt, see convDotGemmMax) and the input gradient (the expensive
// col2im) only when it is needed. At inference a sample with a large output is computed in
// column blocks with the bias and fused tail applied per block (see columnBlocks), and when
// weights and inputs are integer levels (an imported quantized network) on the exact integer
// GEMM (tensor.QGemm), with a plain requantization fused into its stores, the weights packed
// once and kept while they do not change (see packedLevels), a lone sample's column blocks
// split over the threads, and the columns of small pointwise maps left over by the GEMM's
// 16-column strips computed for several samples at once (see qLeftover).
// Float convolutions whose columns are large and not kept for the backward pass (AlexNet's and
// CORnet-Z's first layers) skip the unrolled matrix: the GEMM packs its panels straight
// from each zero-padded image (tensor.SgemmImplicit, see forwardImplicit), with the same outputs.
// At inference, 3x3 stride-1 convolutions with float weights run on Winograd F(4x4, 3x3)
// instead (tensor.WinogradConv: 2.25 multiply-adds per output and input channel where im2col
// needs 9; see useWinograd).
type Conv2D struct {
	Out        int        `json:"out"`
	Kernel     Dims       `json:"kernel"`
	Stride     Dims       `json:"stride,omitempty"`
	Pad        Dims       `json:"pad,omitempty"`
	Dilation   Dims       `json:"dilation,omitempty"`
	Groups     int        `json:"groups,omitempty"`
	NoBias     bool       `json:"no_bias,omitempty"`
	Init       string     `json:"init,omitempty"`
	Gabor      *GaborBank `json:"gabor,omitempty"`
	Constraint string     `json:"constraint,omitempty"`

	w, b *Param
	g    convGeom
	dw   tensor.DWGeom               // set when the convolution is depthwise (see depthwise)
	qw   atomic.Pointer[qWeights]    // the weights packed for the integer GEMM (see packedLevels)
	wino atomic.Pointer[winoWeights] // the weights transformed for Winograd (see useWinograd)
}

// convGeom is the resolved geometry of a convolution or pooling window.
type convGeom struct {
	c, h, w                int // input channels and size
	kh, kw, ph, pw, sh, sw int
	dh, dw                 int
	oh, ow                 int
	pb, pr                 int // bottom and right padding (pooling; equal to ph, pw unless asymmetric)
}

func (g *convGeom) setup(op string, in []int, kernel, stride, pad, dil Dims) error {
	if len(in) != 3 {
		return fmt.Errorf("%s needs a [C H W] input, got %v", op, in)
	}
	if len(kernel) == 0 {
		return fmt.Errorf("%s: kernel is required", op)
	}
	for _, c := range []struct {
		name string
		d    Dims
		min  int
	}{{"kernel", kernel, 1}, {"stride", stride, 1}, {"pad", pad, 0}, {"dilation", dil, 1}} {
		if err := c.d.valid(op+" "+c.name, c.min); err != nil {
			return err
		}
	}
	g.c, g.h, g.w = in[0], in[1], in[2]
	g.kh, g.kw = kernel.HW(1)
	g.sh, g.sw = stride.HW(1)
	g.ph, g.pw = pad.HW(0)
	g.dh, g.dw = dil.HW(1)
	g.oh = tensor.ConvOut(g.h, g.kh, g.ph, g.sh, g.dh)
	g.ow = tensor.ConvOut(g.w, g.kw, g.pw, g.sw, g.dw)
	if g.oh < 1 || g.ow < 1 {
		return fmt.Errorf("%s: kernel %dx%d (dilation %dx%d, pad %dx%d) does not fit the %dx%d input", op, g.kh, g.kw, g.dh, g.dw, g.ph, g.pw, g.h, g.w)
	}
	return nil
}

func (g *convGeom) pointwise() bool {
	return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.ph == 0 && g.pw == 0
}

// unitStride reports whether the nn helpers' padded fast path applies.
func (g *convGeom) unitStride() bool { return g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 }

// im2col writes one image's columns with row stride ld. tensor.Im2col serves the dense case
// (ld = OH*OW) except for unit strides, where the padded-copy path of im2colLd is faster; the
// strided destination of the batched wide GEMM needs im2colLd.
func (g *convGeom) im2col(src, dst []float32, ld int) {
	if ld == g.oh*g.ow && !g.unitStride() {
		tensor.Im2col(src, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, dst)
		return
	}
	im2colLd(src, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, dst, ld)
}

func (g *convGeom) col2im(col []float32, ld int, dst []float32) {
	if ld == g.oh*g.ow && !g.unitStride() {
		tensor.Col2im(col, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, dst)
		return
	}
	col2imLd(col, ld, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, dst)
}

func (cv *Conv2D) Type() string { return "conv2d" }

func (cv *Conv2D) groups() int { return max(cv.Groups, 1) }

func (cv *Conv2D) Build(in [][]int, rng *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("conv2d takes 1 input, got %d", len(in))
	}
	if cv.Out <= 0 {
		return nil, fmt.Errorf("out must be positive, got %d", cv.Out)
	}
	if err := cv.g.setup("conv2d", in[0], cv.Kernel, cv.Stride, cv.Pad, cv.Dilation); err != nil {
		return nil, err
	}
	gr := cv.groups()
	if cv.Groups < 0 || cv.g.c%gr != 0 || cv.Out%gr != 0 {
		return nil, fmt.Errorf("conv2d: groups %d must divide the input channels %d and out %d", cv.Groups, cv.g.c, cv.Out)
	}
	cg := cv.g.c / gr
	fanIn := cg * cv.g.kh * cv.g.kw
	cv.w = NewParam("weight", true, cv.Out, cg, cv.g.kh, cv.g.kw)
	if cv.Init == "gabor" {
		bank := GaborBank{}
		if cv.Gabor != nil {
			bank = *cv.Gabor
		}
		if err := bank.fill(cv.w.Value, rng); err != nil {
			return nil, err
		}
	} else {
		if cv.Gabor != nil {
			return nil, fmt.Errorf("conv2d: gabor parameters given but init is %q, not gabor", cv.Init)
		}
		if err := InitWeights(cv.w.Value, cv.Init, fanIn, cv.Out*cv.g.kh*cv.g.kw, rng); err != nil {
			return nil, err
		}
	}
	c, err := ConstraintByName(cv.Constraint)
	if err != nil {
		return nil, err
	}
	cv.w.Constraint = c
	if c != nil {
		c.Apply(cv.w.Value)
	}
	cv.b = nil
	if !cv.NoBias {
		cv.b = NewParam("bias", false, cv.Out)
		if cv.Init == "torch" {
			fillUniform(cv.b.Value, 1/sqrtf(fanIn), rng)
		}
	}
	cv.dw = tensor.DWGeom{}
	if cv.groups() > 1 && cv.groups() == cv.g.c {
		g := &cv.g
		cv.dw = tensor.DWGeom{H: g.h, W: g.w, KH: g.kh, KW: g.kw, PadH: g.ph, PadW: g.pw, StrideH: g.sh, StrideW: g.sw, DilH: g.dh, DilW: g.dw}
		if err := cv.dw.Check(); err != nil {
			return nil, fmt.Errorf("conv2d: %w", err)
		}
	}
	return []int{cv.Out, cv.g.oh, cv.g.ow}, nil
}

// PartialShape gives the output shape from the input shape without building.
func (cv *Conv2D) PartialShape(in [][]int) ([]int, bool) {
	var g convGeom
	if len(in) != 1 || in[0] == nil || g.setup("conv2d", in[0], cv.Kernel, cv.Stride, cv.Pad, cv.Dilation) != nil {
		return nil, false
	}
	return []int{cv.Out, g.oh, g.ow}, true
}

func (cv *Conv2D) Params() []*Param {
	if cv.b == nil {
		return []*Param{cv.w}
	}
	return []*Param{cv.w, cv.b}
}

// Weight and Bias expose the parameters (Bias is nil with no_bias).
func (cv *Conv2D) Weight() *Param { return cv.w }
func (cv *Conv2D) Bias() *Param   { return cv.b }

// convWideCols is the number of output positions above which samples are not batched into one
// wide GEMM (a larger matrix gains nothing and leaves the cache).
const convWideCols = 2048

// convKeepCols is the largest column matrix (floats, whole batch) that the forward pass keeps
// for the backward pass instead of recomputing it. Only a cache-sized one pays: a larger one is
// written out to memory and read back, while recomputing a chunk's columns (from an input
// KH*KW times smaller) into a scratch buffer stays in cache. Measured on LeNet-5 (columns of
// 1.2M and 1M floats): about 10% more images per CPU-second without keeping; CIFAR CNN: no
// difference.
const convKeepCols = 1 << 17

// convDotGemmMax is the largest weight gradient (per group, Out x In*KH*KW) computed with
// tensor.SgemmABt rather than a transposing Sgemm (measured: LeNet's 6x25 and 16x150 and a
// 32x27 first layer gain 1.2-4x; 32x288 and larger run faster in Sgemm).
const convDotGemmMax = 4096

// chunk returns how many samples share one GEMM.
func (cv *Conv2D) chunk(n int) int {
	p := cv.g.oh * cv.g.ow
	if cv.g.pointwise() || p >= convWideCols {
		return 1
	}
	b := max(convWideCols/p, 1)
	// Keep at least one chunk per thread.
	per := (n + tensor.Threads() - 1) / tensor.Threads()
	return max(min(b, per), 1)
}

// gemmFor picks the GEMM for work split into chunks over parallelRange: serial when every
// thread already has a chunk of its own (nested parallel GEMMs only oversubscribe the threads).
func gemmFor(chunks int) func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if min(tensor.Threads(), chunks) > 1 {
		return tensor.SgemmSerial
	}
	return tensor.Sgemm
}

func (cv *Conv2D) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	return cv.forward(ctx, in[0], nil)
}

// forwardFused applies ep in the pass that adds the bias (see Graph.Forward's fusion).
func (cv *Conv2D) forwardFused(ctx *Ctx, in []*tensor.Tensor, ep *epilogue) *tensor.Tensor {
	y, _ := cv.forward(ctx, in[0], ep)
	return y
}

func (cv *Conv2D) forward(ctx *Ctx, x *tensor.Tensor, ep *epilogue) (*tensor.Tensor, any) {
	if cv.depthwise() {
		return cv.forwardDW(ctx, x, ep), nil
	}
	if cv.useWinograd(ctx) {
		return cv.forwardWinograd(ctx, x, ep), nil
	}
	n := x.Shape[0]
	g := &cv.g
	gr := cv.groups()
	p := g.oh * g.ow
	k := g.c * g.kh * g.kw
	kg, og := k/gr, cv.Out/gr
	inSz, outSz := g.c*g.h*g.w, cv.Out*p
	y := ctx.Alloc(n, cv.Out, g.oh, g.ow)
	direct := g.pointwise()
	bs := cv.chunk(n)
	chunks := (n + bs - 1) / bs
	w := cv.w.Value.Data
	// In training, keep the columns for the backward pass when they are not too large.
	var keep *tensor.Tensor
	if ctx != nil && ctx.Train && !direct && n*k*p <= convKeepCols && ep == nil {
		keep = ctx.Alloc(n * k * p)
	}
	gemm := gemmFor(chunks)
	// Threads that the chunks leave idle (one sample on two threads) share each sample's
	// integer GEMM; the float GEMM splits itself.
	workers := 1
	if chunks < tensor.Threads() {
		workers = tensor.Threads() / chunks
	}
	// Integer levels (an imported quantized network's convolutions on q - zero point) run on
	// the exact integer GEMM when the weights pack as levels; each block of columns is checked
	// as it is packed and falls back to the float GEMM when it holds anything else.
	var qa *tensor.QPackedA
	if intGemm && keep == nil && bs == 1 && gr == 1 && (ctx == nil || !ctx.Train) {
		qa = cv.packedLevels(k, w)
	}
	// A pointwise convolution whose output map is not a whole number of the integer GEMM's
	// 16-column strips (MobileNetV2's 14x14 and 7x7 maps) computes each sample's whole strips
	// on its own and the columns left over, of all the samples a thread has, in one GEMM
	// (see qLeftover): each sample's partial strip would compute 16 columns for 4 or 1.
	leftover := qa != nil && direct && bs == 1 && p%16 != 0 && p <= convLeftoverMax
	var rq qRequant
	if qa != nil {
		rq = cv.requantCoeffs(ep)
	}
	if keep == nil && qa == nil && cv.useImplicit(k, p) {
		cv.forwardImplicit(x, y, ep)
		return y, nil
	}
	parallelRange(chunks, func(_, lo, hi int) {
		cols := p
		var lf []float32 // the samples' leftover columns (see qLeftover)
		if leftover && hi-lo > 1 {
			cols = p / 16 * 16
			lf = getScratch(g.c * (hi - lo) * (p - cols))
			defer putScratch(lf)
		}
		var col, yw []float32
		if !direct && keep == nil {
			col = getScratch(k * bs * p)
			defer putScratch(col)
		}
		if bs > 1 {
			yw = getScratch(outSz * bs)
			defer putScratch(yw)
		}
		for ch := lo; ch < hi; ch++ {
			s0 := ch * bs
			nb := min(bs, n-s0)
			ld := nb * p
			cm := col
			if keep != nil {
				cm = keep.Data[s0*k*p : (s0+nb)*k*p]
			}
			if direct {
				cm = x.Data[s0*inSz : (s0+1)*inSz]
			} else {
				for s := 0; s < nb; s++ {
					g.im2col(x.Data[(s0+s)*inSz:(s0+s+1)*inSz], cm[s*p:], ld)
				}
			}
			out := yw
			if nb == 1 {
				out = y.Data[s0*outSz : (s0+1)*outSz]
				cv.columnBlocks(gemm, qa, &rq, cm, out, ld, cols, ep, workers)
				if lf != nil {
					// While the sample's rows are still in the cache.
					gatherColumns(lf, (hi-lo)*(p-cols), (ch-lo)*(p-cols), cm, p, cols, g.c)
				}
				continue
			}
			for gi := 0; gi < gr; gi++ {
				gemm(false, false, og, ld, kg, 1, w[gi*og*kg:], kg, cm[gi*kg*ld:], ld, 0, out[gi*og*ld:], ld)
			}
			for s := 0; s < nb; s++ {
				ys := y.Data[(s0+s)*outSz : (s0+s+1)*outSz]
				for o := 0; o < cv.Out; o++ {
					dst := ys[o*p : (o+1)*p]
					if ep != nil {
						src := dst
						if nb > 1 {
							src = out[o*ld+s*p : o*ld+s*p+p]
						}
						var b float32
						if cv.b != nil {
							b = cv.b.Value.Data[o]
						}
						ep.apply(dst, src, o, b)
						continue
					}
					switch {
					case nb > 1 && cv.b != nil:
						tensor.AddConstCopy(dst, out[o*ld+s*p:o*ld+s*p+p], cv.b.Value.Data[o])
					case nb > 1:
						copy(dst, out[o*ld+s*p:o*ld+s*p+p])
					case cv.b != nil:
						tensor.AddConstTo(dst, cv.b.Value.Data[o], false)
					}
				}
			}
		}
		if lf != nil && !cv.qLeftover(qa, &rq, lf, y.Data, lo, hi, ep) {
			// Not levels: each sample whole again, as without the leftover GEMM.
			for ch := lo; ch < hi; ch++ {
				cv.columnBlocks(gemm, qa, &rq, x.Data[ch*inSz:(ch+1)*inSz], y.Data[ch*outSz:(ch+1)*outSz], p, p, ep, workers)
			}
		}
	})
	if keep != nil {
		return y, keep
	}
	return y, nil
}

// intGemm is false only in tests that compare the integer GEMM with the float one.
var intGemm = true

var qbPool = sync.Pool{New: func() any { return new(tensor.QPackedB) }}

// qWeights is a weight matrix packed as integer levels together with the float weights it
// was packed from. It is never modified once stored, so forward passes running at the same
// time may share it.
type qWeights struct {
	src  []float32
	pack tensor.QPackedA
}

// packedLevels returns the weights w (Out x k) packed for the integer GEMM, or nil when they
// are not integer levels. The pack is kept across forward passes and reused only while the
// weights are bit for bit those it was packed from: compared in full on every call, because
// the weights have many writers (optimizers, Load, imports, learning rules, user code) and a
// version counter that one of them forgot to bump would silently give wrong outputs. The
// comparison reads the weights once per batch, several times cheaper than packing them.
func (cv *Conv2D) packedLevels(k int, w []float32) *tensor.QPackedA {
	if c := cv.qw.Load(); c != nil && c.pack.M == cv.Out && c.pack.K == k && sameBits(c.src, w[:cv.Out*k]) {
		return &c.pack
	}
	c := new(qWeights)
	if !tensor.PackQA(&c.pack, cv.Out, k, w, k) {
		// Not levels (a float network): nothing is kept, so it pays only PackQA's early refusal.
		cv.qw.Store(nil)
		return nil
	}
	c.src = append([]float32(nil), w[:cv.Out*k]...)
	cv.qw.Store(c)
	return &c.pack
}

// sameBits reports whether a and b hold the same bits (NaNs included).
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 0 {
		return true
	}
	return bytes.Equal(unsafe.Slice((*byte)(unsafe.Pointer(&a[0])), 4*len(a)), unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), 4*len(b)))
}

// convColBlock is the output block size (floats, all channels) of one GEMM call when a
// sample's output is computed in column blocks (see columnBlocks): it and the block's input
// columns stay in the 512 KiB L2.
var convColBlock = 1 << 16

// convStreamOut is the smallest output (floats per sample) that the integer GEMM stores past
// the caches (tensor.QGemmRequantStream): beyond the 512 KiB L2 it is written to memory
// anyway, and the next layer reads it after the whole batch (measured on MobileNetV2, whose
// 112x112 and 56x56 expansions qualify, 3-7% less CPU time per batch).
const convStreamOut = 1 << 17

// columnBlocks computes the first cols columns of one sample's output y (Out x ld) from its
// columns cm (In*KH*KW x ld) in blocks of output positions, adding the bias or applying ep to each block right after its
// GEMM, while the block is still in cache: one pass over the output in memory, where a GEMM
// over all positions followed by the bias pass writes the whole output, then reads it back
// (MobileNetV2's 112x112 layers: 4.8 MB per sample). Every output is the same sum in the
// same order as in one GEMM (the k blocking does not depend on the columns).
// With qa (the weights packed as integer levels, one group) a block whose columns pack as
// levels too runs on tensor.QGemm (tensor.QGemmRequant when ep is a plain requantization,
// tensor.QGemmRequantStream when the sample's output is large, see convStreamOut); its
// blocks are also sized so that the packed columns stay in L2, and split over up to workers
// goroutines (the integer GEMM is serial; blocks are independent, so the outputs do not
// depend on the split).
func (cv *Conv2D) columnBlocks(gemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int), qa *tensor.QPackedA, rq *qRequant, cm, y []float32, ld, cols int, ep *epilogue, workers int) {
	gr := cv.groups()
	kg, og := cv.g.c*cv.g.kh*cv.g.kw/gr, cv.Out/gr
	w := cv.w.Value.Data
	if cols == 0 {
		return
	}
	nb := cols
	if cv.Out*cols > convColBlock {
		nb = max(convColBlock/cv.Out/64*64, 64)
	}
	if qa == nil || cv.Out*cols*kg < convSplitWork {
		workers = 1
	}
	if qa != nil {
		if kg*cols > convColBlock {
			nb = min(nb, max(convColBlock/kg/16*16, 16))
		}
		if workers > 1 && (cols+nb-1)/nb < workers {
			// Fewer blocks than workers (a small output map): one block each.
			nb = (cols + workers*16 - 1) / (workers * 16) * 16
		}
	}
	blocks := (cols + nb - 1) / nb
	if workers > 1 {
		// A block that is not levels falls back to the float GEMM, serial beside the others.
		gemm = tensor.SgemmSerial
	}
	body := func(lo, hi int) {
		var qb *tensor.QPackedB
		if qa != nil {
			qb = qbPool.Get().(*tensor.QPackedB)
			defer qbPool.Put(qb)
		}
		for bi := lo; bi < hi; bi++ {
			j0 := bi * nb
			n := min(nb, cols-j0)
			if qa != nil && tensor.PackQB(qb, kg, n, cm[j0:], ld) {
				if rq.bias != nil && cv.Out*ld >= convStreamOut {
					tensor.QGemmRequantStream(qa, qb, y[j0:], ld, rq.bias, rq.mult, rq.qlo, rq.qhi)
					continue
				}
				if rq.bias != nil {
					tensor.QGemmRequant(qa, qb, y[j0:], ld, rq.bias, rq.mult, rq.qlo, rq.qhi)
					continue
				}
				tensor.QGemm(qa, qb, y[j0:], ld)
			} else {
				for gi := 0; gi < gr; gi++ {
					gemm(false, false, og, n, kg, 1, w[gi*og*kg:], kg, cm[gi*kg*ld+j0:], ld, 0, y[gi*og*ld+j0:], ld)
				}
			}
			for o := 0; o < cv.Out; o++ {
				cv.tail(y[o*ld+j0:o*ld+j0+n], o, ep)
			}
		}
	}
	t := min(workers, blocks)
	if t <= 1 {
		body(0, blocks)
		return
	}
	qSplits.Add(1)
	splitRange(blocks, t, body)
}

// convSplitWork is the fewest multiply-adds (one sample's integer GEMM) worth splitting over
// goroutines: below it the start and join cost more than they save.
const convSplitWork = 1 << 18

// qSplits counts the samples whose integer GEMM was split over goroutines (read by tests).
var qSplits atomic.Int64

// qLeftovers counts the groups of samples whose leftover columns ran as one integer GEMM
// (read by tests).
var qLeftovers atomic.Int64

// qRequant is the requantization that tensor.QGemmRequant applies as it stores: per output
// channel a bias and a multiplier, and the level bounds; bias is nil when there is none.
type qRequant struct {
	bias, mult []float32
	qlo, qhi   float32
}

// requantCoeffs returns the requantization of ep (the same steps as ep.apply), or a zero
// qRequant when ep is not a plain requantization.
func (cv *Conv2D) requantCoeffs(ep *epilogue) qRequant {
	qlo, qhi, ok := ep.requant()
	if !ok {
		return qRequant{}
	}
	rq := qRequant{bias: make([]float32, cv.Out), mult: make([]float32, cv.Out), qlo: qlo, qhi: qhi}
	for o := range rq.bias {
		if cv.b != nil {
			rq.bias[o] = cv.b.Value.Data[o]
		}
		rq.mult[o], _ = ep.coeffs(o)
	}
	return rq
}

// convLeftoverMax is the largest output map whose leftover columns are gathered (see
// qLeftover); beyond it the partial strip is a small part of the work.
const convLeftoverMax = 1024

// gatherColumns copies the columns c0..p-1 of the k x p matrix x into the k x w matrix e,
// from column e0 on. Element by element: a copy call per row costs more than its 1 to 15
// floats.
func gatherColumns(e []float32, w, e0 int, x []float32, p, c0, k int) {
	for row := 0; row < k; row++ {
		src := x[row*p+c0 : row*p+p]
		dst := e[row*w+e0 : row*w+e0+len(src)]
		for j := range dst {
			dst[j] = src[j]
		}
	}
}

// qLeftover computes, for the samples lo..hi-1 of a pointwise convolution (y the outputs of
// the whole batch), the output columns beyond each sample's last whole 16-column strip on
// the integer GEMM: e holds those columns of the inputs, gathered (see gatherColumns) as one
// matrix of (hi-lo)*(p%16) columns, and the outputs are scattered back, with the bias and ep
// applied as in columnBlocks. It returns false, having written nothing, when those columns
// are not integer levels. Integer sums are exact, so every output is what a GEMM per sample
// gives.
func (cv *Conv2D) qLeftover(qa *tensor.QPackedA, rq *qRequant, e, y []float32, lo, hi int, ep *epilogue) bool {
	k, p := cv.g.c, cv.g.oh*cv.g.ow
	r, c0 := p%16, p/16*16
	w := (hi - lo) * r
	qb := qbPool.Get().(*tensor.QPackedB)
	defer qbPool.Put(qb)
	if !tensor.PackQB(qb, k, w, e, w) {
		return false
	}
	qLeftovers.Add(1)
	t := getScratch(cv.Out * w)
	defer putScratch(t)
	if rq.bias != nil {
		tensor.QGemmRequant(qa, qb, t, w, rq.bias, rq.mult, rq.qlo, rq.qhi)
	} else {
		tensor.QGemm(qa, qb, t, w)
		for o := 0; o < cv.Out; o++ {
			cv.tail(t[o*w:(o+1)*w], o, ep)
		}
	}
	outSz := cv.Out * p
	for s := lo; s < hi; s++ {
		for o := 0; o < cv.Out; o++ {
			dst := y[s*outSz+o*p+c0 : s*outSz+o*p+p]
			src := t[o*w+(s-lo)*r : o*w+(s-lo+1)*r]
			for j := range dst {
				dst[j] = src[j]
			}
		}
	}
	return true
}

// convCol2imBlock is the most column-gradient floats that backwardDataRows computes at a time
// (256 KiB: they stay in L2 between the GEMM that writes them and col2im that reads them;
// the whole sample's, 1-2 MiB in the CIFAR CNN, went out to memory and back).
const convCol2imBlock = 1 << 16

// col2imRows is how many output rows backwardDataRows takes per block.
func (cv *Conv2D) col2imRows() int {
	k := cv.g.c * cv.g.kh * cv.g.kw
	return min(max(convCol2imBlock/(k*cv.g.ow), 1), cv.g.oh)
}

// backwardDataRows computes one sample's input gradient dxs for a unit-stride convolution:
// for each block of output rows, the column gradient W^T dy of those rows (wT holds each
// group's W^T, kg x og; into buf, on the
// GEMM) and its col2im into acc, the zero-padded input gradient of every channel, whose
// interior is copied to dxs at the end. d holds the output gradient, rows ld apart, the
// sample's columns from off.
func (cv *Conv2D) backwardDataRows(gemm func(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int), wT, d []float32, ld, off int, buf, acc, dxs []float32) {
	g := &cv.g
	gr := cv.groups()
	kg, og := g.c*g.kh*g.kw/gr, cv.Out/gr
	hp, wp := g.h+2*g.ph, g.w+2*g.pw
	acc = acc[:g.c*hp*wp]
	clear(acc)
	rb := cv.col2imRows()
	for oy0 := 0; oy0 < g.oh; oy0 += rb {
		rows := min(rb, g.oh-oy0)
		nc := rows * g.ow
		for gi := 0; gi < gr; gi++ {
			gemm(false, false, kg, nc, og, 1, wT[gi*og*kg:], og, d[gi*og*ld+off+oy0*g.ow:], ld, 0, buf[gi*kg*nc:], nc)
		}
		for ci := 0; ci < g.c; ci++ {
			a := acc[ci*hp*wp : (ci+1)*hp*wp]
			for ki := 0; ki < g.kh; ki++ {
				for kj := 0; kj < g.kw; kj++ {
					tensor.AddRows(a[(oy0+ki)*wp+kj:], wp, buf[((ci*g.kh+ki)*g.kw+kj)*nc:], rows, g.ow)
				}
			}
		}
	}
	for ci := 0; ci < g.c; ci++ {
		for y := 0; y < g.h; y++ {
			src := acc[ci*hp*wp+(y+g.ph)*wp+g.pw:]
			copy(dxs[(ci*g.h+y)*g.w:(ci*g.h+y+1)*g.w], src[:g.w])
		}
	}
}

func (cv *Conv2D) Backward(ctx *Ctx, cache any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x := in[0]
	w, pass := cv.w.feedback()
	if cv.depthwise() {
		return []*tensor.Tensor{cv.backwardDW(ctx, x, dy, w, need[0] && pass)}
	}
	n := x.Shape[0]
	g := &cv.g
	gr := cv.groups()
	p := g.oh * g.ow
	k := g.c * g.kh * g.kw
	kg, og := k/gr, cv.Out/gr
	inSz, outSz := g.c*g.h*g.w, cv.Out*p
	direct := g.pointwise()
	bs := cv.chunk(n)
	chunks := (n + bs - 1) / bs
	var dx *tensor.Tensor
	if need[0] && pass {
		dx = ctx.Alloc(x.Shape...)
	}
	keep, _ := cache.(*tensor.Tensor)
	nw := min(tensor.Threads(), chunks)
	dWs := make([][]float32, nw)
	dbs := make([][]float32, nw)
	gemm := gemmFor(chunks)
	var wT []float32
	if dx != nil && !direct && g.unitStride() {
		// backwardDataRows multiplies by W^T once per block of rows: transposed once here, its
		// GEMMs pack it with plain row copies instead of a strided gather each time.
		wT = getScratch(len(w))
		defer putScratch(wT)
		for gi := 0; gi < gr; gi++ {
			wg, tg := w[gi*og*kg:(gi+1)*og*kg], wT[gi*og*kg:(gi+1)*og*kg]
			for o := 0; o < og; o++ {
				for j, v := range wg[o*kg : (o+1)*kg] {
					tg[j*og+o] = v
				}
			}
		}
	}
	parallelRange(chunks, func(wk, lo, hi int) {
		dW := cv.w.Grad.Data
		var db []float32
		if cv.b != nil {
			db = cv.b.Grad.Data
		}
		if wk > 0 {
			dW = getScratch(len(dW))
			clear(dW)
			dWs[wk] = dW
			if db != nil {
				db = getScratch(cv.Out)
				clear(db)
				dbs[wk] = db
			}
		}
		var col, dyw, dcol []float32
		if !direct && keep == nil {
			col = getScratch(k * bs * p)
			defer putScratch(col)
		}
		// Unit-stride convolutions compute the input gradient a block of output rows at a time
		// (backwardDataRows): the block's column gradients stay in cache for col2im.
		rowBlocks := !direct && g.unitStride()
		var acc []float32
		if dx != nil {
			switch {
			case rowBlocks:
				dcol = getScratch(k * g.ow * cv.col2imRows())
				defer putScratch(dcol)
				acc = getScratch(g.c * (g.h + 2*g.ph) * (g.w + 2*g.pw))
				defer putScratch(acc)
			case !direct:
				dcol = getScratch(k * bs * p)
				defer putScratch(dcol)
			}
		}
		if bs > 1 {
			dyw = getScratch(outSz * bs)
			defer putScratch(dyw)
		}
		for ch := lo; ch < hi; ch++ {
			s0 := ch * bs
			nb := min(bs, n-s0)
			ld := nb * p
			cm := col
			switch {
			case direct:
				cm = x.Data[s0*inSz : (s0+1)*inSz]
			case keep != nil:
				cm = keep.Data[s0*k*p : (s0+nb)*k*p]
			default:
				for s := 0; s < nb; s++ {
					g.im2col(x.Data[(s0+s)*inSz:(s0+s+1)*inSz], col[s*p:], ld)
				}
			}
			d := dyw
			if nb == 1 {
				d = dy.Data[s0*outSz : (s0+1)*outSz]
			} else {
				for s := 0; s < nb; s++ {
					ds := dy.Data[(s0+s)*outSz : (s0+s+1)*outSz]
					for o := 0; o < cv.Out; o++ {
						copy(d[o*ld+s*p:o*ld+s*p+p], ds[o*p:(o+1)*p])
					}
				}
			}
			if db != nil {
				for o := 0; o < cv.Out; o++ {
					db[o] += tensor.Sum(d[o*ld : o*ld+ld])
				}
			}
			for gi := 0; gi < gr; gi++ {
				if og*kg <= convDotGemmMax {
					// A small weight gradient over many positions: dot products, no transposition.
					tensor.SgemmABt(og, kg, ld, d[gi*og*ld:], ld, cm[gi*kg*ld:], ld, dW[gi*og*kg:], kg)
					continue
				}
				gemm(false, true, og, kg, ld, 1, d[gi*og*ld:], ld, cm[gi*kg*ld:], ld, 1, dW[gi*og*kg:], kg)
			}
			if dx == nil {
				continue
			}
			if rowBlocks {
				for s := 0; s < nb; s++ {
					cv.backwardDataRows(gemm, wT, d, ld, s*p, dcol, acc, dx.Data[(s0+s)*inSz:(s0+s+1)*inSz])
				}
				continue
			}
			dc := dcol
			if direct {
				dc = dx.Data[s0*inSz : (s0+1)*inSz]
			}
			for gi := 0; gi < gr; gi++ {
				gemm(true, false, kg, ld, og, 1, w[gi*og*kg:], kg, d[gi*og*ld:], ld, 0, dc[gi*kg*ld:], ld)
			}
			if !direct {
				for s := 0; s < nb; s++ {
					dxs := dx.Data[(s0+s)*inSz : (s0+s+1)*inSz]
					clear(dxs)
					g.col2im(dcol[s*p:], ld, dxs)
				}
			}
		}
	})
	for wk := 1; wk < nw; wk++ {
		if dWs[wk] != nil {
			tensor.Axpy(1, dWs[wk], cv.w.Grad.Data)
			putScratch(dWs[wk])
		}
		if dbs[wk] != nil {
			tensor.Axpy(1, dbs[wk], cv.b.Grad.Data)
			putScratch(dbs[wk])
		}
	}
	return []*tensor.Tensor{dx}
}

// GaborBank parametrises init "gabor": each output channel starts as a Gabor filter (a sinusoid
// under a Gaussian envelope, the classic model of V1 simple-cell receptive fields; Jones & Palmer
// 1987), the same on every input channel (a luminance filter).
//
// Filter o is bank entry o (wavelength slowest, then orientation, then phase fastest); when the
// layer has more channels than the bank, the extra ones take a random wavelength from the list, a
// random orientation and a random phase. With kernel coordinates (x, y) centred on the kernel,
//
//	x' = x cos θ + y sin θ,  y' = -x sin θ + y cos θ
//	g(x, y) = exp(-(x'^2 + aspect^2 y'^2) / (2 σ^2)) cos(2π x'/λ + φ),  σ = sigma·λ
//
// Each filter is then made zero-mean and scaled to an L2 norm of sqrt(2) over its In/groups x
// KH x KW entries (the expected norm under He initialisation), so the layer starts at the same
// scale as a randomly initialised one.
type GaborBank struct {
	// Orientations evenly spaced over [0, π) (default 8).
	Orientations int `json:"orientations,omitempty"`
	// Wavelengths λ in kernel taps (default: 3 values spaced geometrically from 2.5 to
	// max(3, 0.75 · max(KH, KW))).
	Wavelengths []float64 `json:"wavelengths,omitempty"`
	// Phases φ in degrees (default [0, 90]: even and odd symmetric filters).
	Phases []float64 `json:"phases,omitempty"`
	// Sigma is the envelope's standard deviation as a fraction of λ (default 0.56, a spatial
	// frequency bandwidth of about one octave).
	Sigma float64 `json:"sigma,omitempty"`
	// Aspect is the envelope's aspect ratio along the bars (default 0.5).
	Aspect float64 `json:"aspect,omitempty"`
}

func (b GaborBank) fill(w *tensor.Tensor, rng *rand.Rand) error {
	out, cg, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	nOr := b.Orientations
	if nOr == 0 {
		nOr = 8
	}
	lams := b.Wavelengths
	if len(lams) == 0 {
		hi := math.Max(3, 0.75*float64(max(kh, kw)))
		lams = []float64{2.5, math.Sqrt(2.5 * hi), hi}
	}
	phases := b.Phases
	if len(phases) == 0 {
		phases = []float64{0, 90}
	}
	sig, asp := b.Sigma, b.Aspect
	if sig == 0 {
		sig = 0.56
	}
	if asp == 0 {
		asp = 0.5
	}
	if nOr < 0 || sig < 0 || asp < 0 {
		return fmt.Errorf("gabor: orientations, sigma and aspect must be positive")
	}
	for _, l := range lams {
		if l <= 0 {
			return fmt.Errorf("gabor: wavelengths must be positive, got %v", lams)
		}
	}
	nb := len(lams) * nOr * len(phases)
	per := cg * kh * kw
	for o := 0; o < out; o++ {
		var lam, th, ph float64
		if o < nb {
			lam = lams[o/(nOr*len(phases))]
			th = math.Pi * float64(o/len(phases)%nOr) / float64(nOr)
			ph = phases[o%len(phases)] * math.Pi / 180
		} else {
			lam = lams[rng.IntN(len(lams))]
			th = rng.Float64() * math.Pi
			ph = rng.Float64() * 2 * math.Pi
		}
		s := sig * lam
		f := w.Data[o*per : (o+1)*per]
		cy, cx := float64(kh-1)/2, float64(kw-1)/2
		mean := 0.0
		for i := 0; i < kh; i++ {
			for j := 0; j < kw; j++ {
				x, y := float64(j)-cx, float64(i)-cy
				xr := x*math.Cos(th) + y*math.Sin(th)
				yr := -x*math.Sin(th) + y*math.Cos(th)
				v := math.Exp(-(xr*xr+asp*asp*yr*yr)/(2*s*s)) * math.Cos(2*math.Pi*xr/lam+ph)
				f[i*kw+j] = float32(v)
				mean += v
			}
		}
		mean /= float64(kh * kw)
		ss := 0.0
		for i := 0; i < kh*kw; i++ {
			f[i] -= float32(mean)
			ss += float64(f[i]) * float64(f[i])
		}
		scale := 0.0
		if ss > 1e-20 {
			scale = math.Sqrt(2 / (ss * float64(cg)))
		}
		for i := 0; i < kh*kw; i++ {
			f[i] *= float32(scale)
		}
		for c := 1; c < cg; c++ {
			copy(f[c*kh*kw:(c+1)*kh*kw], f[:kh*kw])
		}
	}
	return nil
}

// depthwise reports whether every group has one input channel (MobileNets' depthwise layers,
// with Out/groups output channels per input channel). Those run on the direct plane kernels of
// tensor.DepthwisePlane: per group, im2col would copy the plane KH*KW times for a GEMM with a
// single row. A single-channel, single-group convolution keeps the im2col path.
func (cv *Conv2D) depthwise() bool {
	return depthwiseDirect && cv.groups() > 1 && cv.groups() == cv.g.c
}

// depthwiseDirect is false only in tests that compare the depthwise kernels with im2col.
var depthwiseDirect = true

// parallelWork runs body over n items, split across threads when the work (in multiply-adds)
// is worth the goroutines.
func parallelWork(n, work int, body func(lo, hi int)) {
	if work < 1<<15 {
		body(0, n)
		return
	}
	parallelRange(n, func(_, lo, hi int) { body(lo, hi) })
}

func (cv *Conv2D) forwardDW(ctx *Ctx, x *tensor.Tensor, ep *epilogue) *tensor.Tensor {
	g := &cv.dw
	n, c := x.Shape[0], cv.g.c
	mult := cv.Out / c
	ip, op, kk := g.H*g.W, g.OH*g.OW, g.KH*g.KW
	y := ctx.Alloc(n, cv.Out, g.OH, g.OW)
	w := cv.w.Value.Data
	// The tail (a folded batch norm and clamp, or a quantized network's requantization) goes
	// into the kernel's stores where it can, bit for bit the separate pass of ep.apply.
	tail := cv.dwTail(ep)
	parallelWork(n*c, n*cv.Out*op*kk, func(lo, hi int) {
		work := getScratch(g.ScratchLen())
		defer putScratch(work)
		var t tensor.DWTail
		if tail != nil {
			t = *tail
			t.A, t.C = make([]float32, mult), make([]float32, mult)
		}
		for pl := lo; pl < hi; pl++ {
			ci := pl % c
			var b []float32
			if cv.b != nil {
				b = cv.b.Value.Data[ci*mult : (ci+1)*mult]
			}
			ys := y.Data[pl*mult*op : (pl+1)*mult*op]
			if tail != nil {
				for m := range t.A {
					t.A[m], t.C[m] = ep.coeffs(ci*mult + m)
				}
				tensor.DepthwiseForwardTail(g, x.Data[pl*ip:(pl+1)*ip], w[ci*mult*kk:(ci+1)*mult*kk], b, ys, mult, &t)
				continue
			}
			tensor.DepthwiseForward(g, x.Data[pl*ip:(pl+1)*ip], w[ci*mult*kk:(ci+1)*mult*kk], b, ys, work, mult)
			if ep != nil {
				// The fused tail over each output plane while it is in cache (the bias is in).
				for m := 0; m < mult; m++ {
					ym := ys[m*op : (m+1)*op]
					ep.apply(ym, ym, ci*mult+m, 0)
				}
			}
		}
	})
	return y
}

// backwardDW splits the work by input channel: each thread owns its channels' kernel and bias
// gradients (over all samples) and their input-gradient planes, so nothing needs reducing.
func (cv *Conv2D) backwardDW(ctx *Ctx, x, dy *tensor.Tensor, w []float32, needX bool) *tensor.Tensor {
	g := &cv.dw
	n, c := x.Shape[0], cv.g.c
	mult := cv.Out / c
	ip, op, kk := g.H*g.W, g.OH*g.OW, g.KH*g.KW
	dw := cv.w.Grad.Data
	var dx *tensor.Tensor
	if needX {
		dx = ctx.Zeros(x.Shape...)
	}
	parallelWork(c, n*cv.Out*op*kk, func(lo, hi int) {
		work := getScratch(g.ScratchLen())
		defer putScratch(work)
		for ci := lo; ci < hi; ci++ {
			for s := 0; s < n; s++ {
				pl := s*c + ci
				d := dy.Data[pl*mult*op : (pl+1)*mult*op]
				var dxp []float32
				if dx != nil {
					dxp = dx.Data[pl*ip : (pl+1)*ip]
				}
				tensor.DepthwiseBackward(g, x.Data[pl*ip:(pl+1)*ip], w[ci*mult*kk:(ci+1)*mult*kk], d, dw[ci*mult*kk:(ci+1)*mult*kk], dxp, work, mult)
				if cv.b != nil {
					for m := 0; m < mult; m++ {
						cv.b.Grad.Data[ci*mult+m] += tensor.Sum(d[m*op : (m+1)*op])
					}
				}
			}
		}
	})
	return dx
}

// tail adds output channel o's bias to its row dst in place and applies the fused tail ep, if
// any, in the same pass.
func (cv *Conv2D) tail(dst []float32, o int, ep *epilogue) {
	var b float32
	if cv.b != nil {
		b = cv.b.Value.Data[o]
	}
	switch {
	case ep != nil:
		ep.apply(dst, dst, o, b)
	case cv.b != nil:
		tensor.AddConstTo(dst, b, false)
	}
}
