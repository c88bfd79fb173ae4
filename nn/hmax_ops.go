package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("scale_max", func() Op { return &ScaleMax{} })
	Register("rbf", func() Op { return &RBF{} })
	Register("global_max", func() Op { return &GlobalMax{} })
}

// ScaleMax is HMAX's C1 layer (Riesenhuber and Poggio 1999; Serre et al. 2007): the maximum over
// a few adjacent scales and over a local grid of positions. The input's channels are blocks of
// group channels, one block per scale (as a gabor layer writes them: scale slowest); output
// channel g is the maximum of channel g of every listed scale over each kernel window, windows
// stride apart (floor mode, no padding).
//
// Spec fields: group (channels per scale, e.g. 4 orientations), scales (the scale blocks pooled,
// e.g. [0, 1]), kernel (the pooling grid, 8 or [h, w]), stride (default kernel).
type ScaleMax struct {
	Group  int   `json:"group"`
	Scales []int `json:"scales"`
	Kernel Dims  `json:"kernel"`
	Stride Dims  `json:"stride,omitempty"`

	g convGeom
}

func (m *ScaleMax) Type() string     { return "scale_max" }
func (m *ScaleMax) Params() []*Param { return nil }

func (m *ScaleMax) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) != 3 {
		return nil, fmt.Errorf("scale_max takes one [C H W] input, got %v", in)
	}
	if m.Group <= 0 {
		return nil, fmt.Errorf("scale_max: group must be positive, got %d", m.Group)
	}
	if in[0][0]%m.Group != 0 {
		return nil, fmt.Errorf("scale_max: %d channels is not a multiple of group %d", in[0][0], m.Group)
	}
	if len(m.Scales) == 0 {
		return nil, fmt.Errorf("scale_max: scales is empty")
	}
	ns := in[0][0] / m.Group
	for _, s := range m.Scales {
		if s < 0 || s >= ns {
			return nil, fmt.Errorf("scale_max: scale %d out of range (the input has %d scales of %d channels)", s, ns, m.Group)
		}
	}
	stride := m.Stride
	if len(stride) == 0 {
		stride = m.Kernel
	}
	if err := m.g.setup("scale_max", in[0], m.Kernel, stride, nil, nil); err != nil {
		return nil, err
	}
	if m.g.kh > m.g.h || m.g.kw > m.g.w {
		return nil, fmt.Errorf("scale_max: kernel %dx%d does not fit the %dx%d input", m.g.kh, m.g.kw, m.g.h, m.g.w)
	}
	return []int{m.Group, m.g.oh, m.g.ow}, nil
}

func (m *ScaleMax) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	g := m.g
	nb := x.Shape[0]
	hw := g.h * g.w
	ohw := g.oh * g.ow
	y := ctx.Alloc(nb, m.Group, g.oh, g.ow)
	arg := ctx.Alloc(nb, m.Group, g.oh, g.ow) // index within the sample, as float32 bits
	parallelPlanes(nb*m.Group, nb*m.Group*len(m.Scales)*hw, func(lo, hi int) {
		best := make([]float32, hw)
		bidx := make([]int32, hw)
		for pl := lo; pl < hi; pl++ {
			s, gi := pl/m.Group, pl%m.Group
			xs := x.Data[s*g.c*hw : (s+1)*g.c*hw]
			// Max over scales, pixel by pixel.
			for k, sc := range m.Scales {
				c := sc*m.Group + gi
				src := xs[c*hw : (c+1)*hw]
				for i, v := range src {
					if k == 0 || v > best[i] || v != v {
						best[i], bidx[i] = v, int32(c*hw+i)
					}
				}
			}
			dst := y.Data[pl*ohw : (pl+1)*ohw]
			ai := arg.Data[pl*ohw : (pl+1)*ohw]
			for oy := 0; oy < g.oh; oy++ {
				for ox := 0; ox < g.ow; ox++ {
					y0, x0 := oy*g.sh, ox*g.sw
					bv, bi := float32(math.Inf(-1)), bidx[y0*g.w+x0]
					for iy := y0; iy < y0+g.kh; iy++ {
						row := best[iy*g.w : iy*g.w+x0+g.kw]
						for ix := x0; ix < x0+g.kw; ix++ {
							if v := row[ix]; v > bv || v != v {
								bv, bi = v, bidx[iy*g.w+ix]
							}
						}
					}
					dst[oy*g.ow+ox] = bv
					ai[oy*g.ow+ox] = math.Float32frombits(uint32(bi))
				}
			}
		}
	})
	return y, arg
}

func (m *ScaleMax) Backward(ctx *Ctx, cache any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	arg := cache.(*tensor.Tensor)
	x := in[0]
	dx := ctx.Zeros(x.Shape...)
	per := x.Len() / x.Shape[0]
	opl := m.Group * m.g.oh * m.g.ow
	for s := 0; s < x.Shape[0]; s++ {
		d := dx.Data[s*per : (s+1)*per]
		a := arg.Data[s*opl : (s+1)*opl]
		for i, v := range dy.Data[s*opl : (s+1)*opl] {
			d[math.Float32bits(a[i])] += v
		}
	}
	return []*tensor.Tensor{dx}
}

// RBF is HMAX's S2 layer (Serre et al. 2007): Gaussian radial-basis units that match every
// size x size patch of their inputs (all channels) to stored prototypes,
//
//	r = exp(-||X - P||^2 / (2 σ^2 α)),  α = (size/4)^2
//
// (the patch-size normalisation α of Mutch and Lowe 2008; σ defaults to 1). The squared
// distances are one GEMM per input: ||X||^2 - 2 X·P + ||P||^2.
//
// The layer takes one or more [C H W] inputs with the same C (HMAX's C1 bands, of different
// sizes) and matches the same prototypes in all; its output is [prototypes, L], L the number of
// patch positions over all inputs, input after input, each row-major over its valid positions
// (inputs smaller than a patch contribute none).
//
// Spec fields: prototypes (how many), size (patch side), sigma. The prototypes [prototypes, C,
// size, size] are not trainable: they are a buffer (see Stateful) saved with checkpoints and
// counted in the model's digest. Build fills them with seeded uniform [0, 1) values; HMAX
// samples them from C1 responses to training images (models.HMAXPrototypes).
type RBF struct {
	Prototypes int     `json:"prototypes"`
	Size       int     `json:"size"`
	Sigma      float64 `json:"sigma,omitempty"`

	protos *tensor.Tensor
	c      int
	bands  [][3]int // per input: h, w, column offset in the output
	oh, ow []int    // valid positions per input
	l      int
}

func (r *RBF) Type() string     { return "rbf" }
func (r *RBF) Params() []*Param { return nil }

// Buffers exposes the prototypes (Stateful).
func (r *RBF) Buffers() map[string]*tensor.Tensor {
	return map[string]*tensor.Tensor{"prototypes": r.protos}
}

// PrototypeTensor returns the live prototypes [prototypes, C, size, size] (after Build).
func (r *RBF) PrototypeTensor() *tensor.Tensor { return r.protos }

// Positions returns, per input, the valid patch positions (rows, columns) after Build.
func (r *RBF) Positions() (rows, cols []int) { return r.oh, r.ow }

func (r *RBF) beta() float32 {
	sig := r.Sigma
	if sig == 0 {
		sig = 1
	}
	a := float64(r.Size) / 4
	return float32(1 / (2 * sig * sig * a * a))
}

func (r *RBF) Build(in [][]int, rng *rand.Rand) ([]int, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("rbf needs at least one input")
	}
	if r.Prototypes <= 0 {
		return nil, fmt.Errorf("rbf: prototypes must be positive, got %d", r.Prototypes)
	}
	if r.Size <= 0 {
		return nil, fmt.Errorf("rbf: size must be positive, got %d", r.Size)
	}
	if r.Sigma < 0 || math.IsNaN(r.Sigma) || math.IsInf(r.Sigma, 0) {
		return nil, fmt.Errorf("rbf: sigma must be positive, got %v", r.Sigma)
	}
	r.bands, r.oh, r.ow, r.l = r.bands[:0], r.oh[:0], r.ow[:0], 0
	for i, s := range in {
		if len(s) != 3 {
			return nil, fmt.Errorf("rbf: input %d has shape %v, expected [C H W]", i, s)
		}
		if i == 0 {
			r.c = s[0]
		} else if s[0] != r.c {
			return nil, fmt.Errorf("rbf: input %d has %d channels, input 0 has %d", i, s[0], r.c)
		}
		oh, ow := max(s[1]-r.Size+1, 0), max(s[2]-r.Size+1, 0)
		if oh == 0 || ow == 0 {
			oh, ow = 0, 0
		}
		r.bands = append(r.bands, [3]int{s[1], s[2], r.l})
		r.oh, r.ow = append(r.oh, oh), append(r.ow, ow)
		r.l += oh * ow
	}
	if r.l == 0 {
		return nil, fmt.Errorf("rbf: patch size %d is larger than every input %v", r.Size, in)
	}
	r.protos = tensor.New(r.Prototypes, r.c, r.Size, r.Size)
	for i := range r.protos.Data {
		r.protos.Data[i] = float32(rng.Float64())
	}
	return []int{r.Prototypes, r.l}, nil
}

// cols writes the valid im2col matrix ([C*size*size, oh*ow]) of plane stack x ([C h w]).
func (r *RBF) cols(x []float32, h, w, oh, ow int, dst []float32) {
	k, n := r.Size, oh*ow
	for ci := 0; ci < r.c; ci++ {
		for ki := 0; ki < k; ki++ {
			for kj := 0; kj < k; kj++ {
				d := dst[((ci*k+ki)*k+kj)*n:]
				for oy := 0; oy < oh; oy++ {
					copy(d[oy*ow:(oy+1)*ow], x[(ci*h+oy+ki)*w+kj:])
				}
			}
		}
	}
}

func (r *RBF) colsAdd(col []float32, h, w, oh, ow int, dst []float32) {
	k, n := r.Size, oh*ow
	for ci := 0; ci < r.c; ci++ {
		for ki := 0; ki < k; ki++ {
			for kj := 0; kj < k; kj++ {
				s := col[((ci*k+ki)*k+kj)*n:]
				for oy := 0; oy < oh; oy++ {
					d := dst[(ci*h+oy+ki)*w+kj:]
					d = d[:ow]
					for i, v := range s[oy*ow : (oy+1)*ow] {
						d[i] += v
					}
				}
			}
		}
	}
}

func (r *RBF) protoNorms() []float32 {
	kk := r.c * r.Size * r.Size
	pp := make([]float32, r.Prototypes)
	for p := range pp {
		pp[p] = tensor.Dot(r.protos.Data[p*kk:(p+1)*kk], r.protos.Data[p*kk:(p+1)*kk])
	}
	return pp
}

// colNorms returns the squared norm of each column of col ([kk, n]).
func colNorms(col []float32, kk, n int, xx []float32) {
	clear(xx)
	for k := 0; k < kk; k++ {
		for i, v := range col[k*n : (k+1)*n] {
			xx[i] += v * v
		}
	}
}

func (r *RBF) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	nb := in[0].Shape[0]
	np, kk := r.Prototypes, r.c*r.Size*r.Size
	y := ctx.Alloc(nb, np, r.l)
	pp := r.protoNorms()
	beta := r.beta()
	parallelRange(nb, func(_, lo, hi int) {
		for s := lo; s < hi; s++ {
			ys := y.Data[s*np*r.l : (s+1)*np*r.l]
			for b, x := range in {
				oh, ow := r.oh[b], r.ow[b]
				n := oh * ow
				if n == 0 {
					continue
				}
				h, w, off := r.bands[b][0], r.bands[b][1], r.bands[b][2]
				xs := x.Data[s*r.c*h*w : (s+1)*r.c*h*w]
				col := getScratch(kk * n)
				xx := getScratch(n)
				r.cols(xs, h, w, oh, ow, col)
				colNorms(col, kk, n, xx)
				tensor.Sgemm(false, false, np, n, kk, -2, r.protos.Data, kk, col, n, 0, ys[off:], r.l)
				for p := 0; p < np; p++ {
					row := ys[p*r.l+off : p*r.l+off+n]
					for i, v := range row {
						d := max(v+xx[i]+pp[p], 0)
						row[i] = float32(math.Exp(float64(-beta * d)))
					}
				}
				putScratch(xx)
				putScratch(col)
			}
		}
	})
	return y, nil
}

// Backward: dr/dX = -2β r (X - P), so dL/dX_l = 2β (Σ_p a_pl P_p - X_l Σ_p a_pl), a = g r.
func (r *RBF) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, out, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	nb := in[0].Shape[0]
	np, kk := r.Prototypes, r.c*r.Size*r.Size
	beta := r.beta()
	dxs := make([]*tensor.Tensor, len(in))
	for b, x := range in {
		if need[b] {
			dxs[b] = ctx.Zeros(x.Shape...)
		}
	}
	parallelRange(nb, func(_, lo, hi int) {
		for s := lo; s < hi; s++ {
			ys := out.Data[s*np*r.l : (s+1)*np*r.l]
			gs := dy.Data[s*np*r.l : (s+1)*np*r.l]
			for b, x := range in {
				oh, ow := r.oh[b], r.ow[b]
				n := oh * ow
				if n == 0 || dxs[b] == nil {
					continue
				}
				h, w, off := r.bands[b][0], r.bands[b][1], r.bands[b][2]
				xs := x.Data[s*r.c*h*w : (s+1)*r.c*h*w]
				a := getScratch(np * n)
				sa := getScratch(n)
				clear(sa)
				for p := 0; p < np; p++ {
					ar := a[p*n : (p+1)*n]
					yr := ys[p*r.l+off : p*r.l+off+n]
					for i, g := range gs[p*r.l+off : p*r.l+off+n] {
						ar[i] = g * yr[i]
						sa[i] += ar[i]
					}
				}
				col := getScratch(kk * n)
				dcol := getScratch(kk * n)
				r.cols(xs, h, w, oh, ow, col)
				tensor.Sgemm(true, false, kk, n, np, 2*beta, r.protos.Data, kk, a, n, 0, dcol, n)
				for k := 0; k < kk; k++ {
					d := dcol[k*n : (k+1)*n]
					for i, v := range col[k*n : (k+1)*n] {
						d[i] -= 2 * beta * v * sa[i]
					}
				}
				r.colsAdd(dcol, h, w, oh, ow, dxs[b].Data[s*r.c*h*w:(s+1)*r.c*h*w])
				putScratch(dcol)
				putScratch(col)
				putScratch(sa)
				putScratch(a)
			}
		}
	})
	return dxs
}

// GlobalMax is HMAX's C2 layer: the maximum of each channel over all other axes (every position
// and, for an rbf input, every band). It takes one or more inputs [C_i ...] and outputs their
// channel maxima concatenated, [Σ C_i]. No spec fields.
type GlobalMax struct {
	chans []int
	per   []int
}

func (m *GlobalMax) Type() string     { return "global_max" }
func (m *GlobalMax) Params() []*Param { return nil }

func (m *GlobalMax) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("global_max needs at least one input")
	}
	m.chans, m.per = m.chans[:0], m.per[:0]
	total := 0
	for i, s := range in {
		if len(s) < 2 {
			return nil, fmt.Errorf("global_max: input %d has shape %v, expected [C ...] with positions", i, s)
		}
		n := tensor.Numel(s)
		if n == 0 {
			return nil, fmt.Errorf("global_max: input %d is empty (%v)", i, s)
		}
		m.chans = append(m.chans, s[0])
		m.per = append(m.per, n/s[0])
		total += s[0]
	}
	return []int{total}, nil
}

func (m *GlobalMax) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	nb := in[0].Shape[0]
	total := 0
	for _, c := range m.chans {
		total += c
	}
	y := ctx.Alloc(nb, total)
	arg := make([]int32, nb*total)
	for s := 0; s < nb; s++ {
		o := s * total
		for k, x := range in {
			c, p := m.chans[k], m.per[k]
			xs := x.Data[s*c*p : (s+1)*c*p]
			for ch := 0; ch < c; ch++ {
				row := xs[ch*p : (ch+1)*p]
				bi := 0
				for i, v := range row {
					if v > row[bi] || v != v {
						bi = i
					}
				}
				y.Data[o], arg[o] = row[bi], int32(ch*p+bi)
				o++
			}
		}
	}
	return y, arg
}

func (m *GlobalMax) Backward(ctx *Ctx, cache any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	arg := cache.([]int32)
	nb := in[0].Shape[0]
	total := dy.Shape[1]
	dxs := make([]*tensor.Tensor, len(in))
	for k, x := range in {
		if need[k] {
			dxs[k] = ctx.Zeros(x.Shape...)
		}
	}
	for s := 0; s < nb; s++ {
		o := s * total
		for k := range in {
			c, p := m.chans[k], m.per[k]
			for ch := 0; ch < c; ch++ {
				if dxs[k] != nil {
					dxs[k].Data[s*c*p+int(arg[o])] += dy.Data[o]
				}
				o++
			}
		}
	}
	return dxs
}
