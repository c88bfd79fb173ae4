package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("gabor", func() Op { return &Gabor{} })
	Register("energy", func() Op { return &Energy{} })
}

// Gabor is a fixed bank of Gabor filters, the classic model of V1 simple-cell receptive fields
// (Hubel and Wiesel 1962; Jones and Palmer 1987) and HMAX's S1 layer (Serre et al. 2007). It has
// no trainable parameters: the filters are a function of the spec fields.
//
// Spec fields: sizes (odd kernel sides, one per scale), wavelengths λ and sigmas σ (pixels, one
// per scale), orientations (evenly spaced over [0, π)), phases (degrees, default [0]), aspect γ
// (default 1), circular (zero the filter outside the inscribed circle), normalize (divide each
// response by the L2 norm of the input under a size x size window, as HMAX's S1), rectify ("",
// "abs" or "relu": none, absolute value, half-wave).
//
// With kernel coordinates (x, y) centred on the kernel (y downwards),
//
//	x' = x cos θ + y sin θ,  y' = -x sin θ + y cos θ
//	g(x, y) = exp(-(x'^2 + γ^2 y'^2) / (2 σ^2)) cos(2π x'/λ + φ)
//
// so θ = 0 modulates along x (vertical bars). Each filter is made zero-mean and of unit L2 norm
// over its support, and is applied to the sum of the input channels. Output channel
// (scale·orientations + orientation)·phases + phase (scale slowest, phase fastest) is
//
//	y = rectify(Σ g·x / n),  n = sqrt(ε + Σ_window x^2) with normalize, else 1,
//
// computed at every input position with zero padding ("same" size output).
//
// Implementation: scales of similar size share one im2col (their filters zero-embedded in the
// largest kernel of the group), computed over blocks of output rows and multiplied by the filter
// matrix with tensor.Sgemm; the window norms come from an integral image.
type Gabor struct {
	Sizes        []int     `json:"sizes"`
	Wavelengths  []float64 `json:"wavelengths"`
	Sigmas       []float64 `json:"sigmas"`
	Orientations int       `json:"orientations"`
	Phases       []float64 `json:"phases,omitempty"`
	Aspect       float64   `json:"aspect,omitempty"`
	Circular     bool      `json:"circular,omitempty"`
	Normalize    bool      `json:"normalize,omitempty"`
	Rectify      string    `json:"rectify,omitempty"`

	c, h, w int
	nf      int // filters per scale (orientations x phases)
	pad     int // padding of the shared padded image (largest kernel / 2)
	groups  []gaborGroup
}

type gaborGroup struct {
	k      int       // kernel side
	s0, s1 int       // scales [s0, s1)
	wt     []float32 // [(s1-s0)*nf, c*k*k]: filter f, channel, kernel row, column
	wk     []float32 // [k, (s1-s0)*nf, c*k]: kernel row, filter, channel, column
}

// gaborNormEps keeps the normalisation finite on blank input.
const gaborNormEps = 1e-6

func (gb *Gabor) Type() string     { return "gabor" }
func (gb *Gabor) Params() []*Param { return nil }

func (gb *Gabor) phases() []float64 {
	if len(gb.Phases) == 0 {
		return []float64{0}
	}
	return gb.Phases
}

func (gb *Gabor) validate() error {
	ns := len(gb.Sizes)
	if ns == 0 {
		return fmt.Errorf("gabor: sizes is empty (need one odd kernel size per scale)")
	}
	if len(gb.Wavelengths) != ns || len(gb.Sigmas) != ns {
		return fmt.Errorf("gabor: %d sizes but %d wavelengths and %d sigmas (need one of each per scale)", ns, len(gb.Wavelengths), len(gb.Sigmas))
	}
	for i, s := range gb.Sizes {
		if s <= 0 || s%2 == 0 {
			return fmt.Errorf("gabor: sizes must be positive and odd, got %v", gb.Sizes)
		}
		if !(gb.Wavelengths[i] > 0) || math.IsInf(gb.Wavelengths[i], 0) {
			return fmt.Errorf("gabor: wavelengths must be positive, got %v", gb.Wavelengths)
		}
		if !(gb.Sigmas[i] > 0) || math.IsInf(gb.Sigmas[i], 0) {
			return fmt.Errorf("gabor: sigmas must be positive, got %v", gb.Sigmas)
		}
	}
	if gb.Orientations <= 0 {
		return fmt.Errorf("gabor: orientations must be positive, got %d", gb.Orientations)
	}
	if gb.Aspect < 0 || math.IsNaN(gb.Aspect) || math.IsInf(gb.Aspect, 0) {
		return fmt.Errorf("gabor: aspect must be positive, got %v", gb.Aspect)
	}
	for _, p := range gb.phases() {
		if math.IsNaN(p) || math.IsInf(p, 0) {
			return fmt.Errorf("gabor: phases must be finite, got %v", gb.Phases)
		}
	}
	switch gb.Rectify {
	case "", "abs", "relu":
	default:
		return fmt.Errorf("gabor: rectify %q (expected \"\", abs or relu)", gb.Rectify)
	}
	return nil
}

func (gb *Gabor) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) != 3 {
		return nil, fmt.Errorf("gabor takes one [C H W] input, got %v", in)
	}
	if err := gb.validate(); err != nil {
		return nil, err
	}
	gb.c, gb.h, gb.w = in[0][0], in[0][1], in[0][2]
	gb.nf = gb.Orientations * len(gb.phases())
	gb.pad = slices.Max(gb.Sizes) / 2
	// Group scales in order while the group's largest kernel stays within 1.6 times its first
	// (the zero-embedding then wastes at most ~2.5x the multiply-adds of per-size GEMMs, but
	// shares one im2col and gives the GEMM enough rows to run at speed).
	gb.groups = gb.groups[:0]
	for s0 := 0; s0 < len(gb.Sizes); {
		s1, k := s0+1, gb.Sizes[s0]
		for s1 < len(gb.Sizes) && float64(gb.Sizes[s1]) <= 1.6*float64(gb.Sizes[s0]) {
			k = max(k, gb.Sizes[s1])
			s1++
		}
		for s := s0; s < s1; s++ {
			k = max(k, gb.Sizes[s])
		}
		grp := gaborGroup{k: k, s0: s0, s1: s1, wt: make([]float32, (s1-s0)*gb.nf*gb.c*k*k)}
		kk := gb.c * k * k
		for s := s0; s < s1; s++ {
			for f := 0; f < gb.nf; f++ {
				filt := gb.Filter(s, f)
				sz := gb.Sizes[s]
				off := (k - sz) / 2
				row := grp.wt[((s-s0)*gb.nf+f)*kk:]
				for ci := 0; ci < gb.c; ci++ {
					for i := 0; i < sz; i++ {
						copy(row[ci*k*k+(i+off)*k+off:], filt[i*sz:(i+1)*sz])
					}
				}
			}
		}
		m := (s1 - s0) * gb.nf
		grp.wk = make([]float32, len(grp.wt))
		for f := 0; f < m; f++ {
			for ci := 0; ci < gb.c; ci++ {
				for ki := 0; ki < k; ki++ {
					copy(grp.wk[((ki*m+f)*gb.c+ci)*k:((ki*m+f)*gb.c+ci+1)*k], grp.wt[f*kk+(ci*k+ki)*k:])
				}
			}
		}
		gb.groups = append(gb.groups, grp)
		s0 = s1
	}
	return []int{len(gb.Sizes) * gb.nf, gb.h, gb.w}, nil
}

// Filter returns filter f (orientation·phases + phase) of scale s as a size x size row-major
// kernel: zero-mean, unit L2 norm, masked to the inscribed circle when Circular.
func (gb *Gabor) Filter(s, f int) []float32 {
	ph := gb.phases()
	sz, lam, sig := gb.Sizes[s], gb.Wavelengths[s], gb.Sigmas[s]
	asp := gb.Aspect
	if asp == 0 {
		asp = 1
	}
	th := math.Pi * float64(f/len(ph)) / float64(gb.Orientations)
	phi := ph[f%len(ph)] * math.Pi / 180
	c := float64(sz-1) / 2
	r2 := (float64(sz) / 2) * (float64(sz) / 2)
	v := make([]float64, sz*sz)
	in := make([]bool, sz*sz)
	mean, cnt := 0.0, 0
	for i := 0; i < sz; i++ {
		for j := 0; j < sz; j++ {
			x, y := float64(j)-c, float64(i)-c
			if gb.Circular && x*x+y*y > r2 {
				continue
			}
			xr := x*math.Cos(th) + y*math.Sin(th)
			yr := -x*math.Sin(th) + y*math.Cos(th)
			g := math.Exp(-(xr*xr+asp*asp*yr*yr)/(2*sig*sig)) * math.Cos(2*math.Pi*xr/lam+phi)
			v[i*sz+j], in[i*sz+j] = g, true
			mean += g
			cnt++
		}
	}
	mean /= float64(max(cnt, 1))
	ss := 0.0
	for i := range v {
		if in[i] {
			v[i] -= mean
			ss += v[i] * v[i]
		}
	}
	scale := 0.0
	if ss > 1e-20 {
		scale = 1 / math.Sqrt(ss)
	}
	out := make([]float32, sz*sz)
	for i := range v {
		out[i] = float32(v[i] * scale)
	}
	return out
}

// padded copies sample x ([C H W]) into a zero-padded buffer [C, H+2p, W+2p].
func (gb *Gabor) padded(x []float32) []float32 {
	p := gb.pad
	hp, wp := gb.h+2*p, gb.w+2*p
	buf := getScratch(gb.c * hp * wp)
	clear(buf)
	for ci := 0; ci < gb.c; ci++ {
		for i := 0; i < gb.h; i++ {
			copy(buf[ci*hp*wp+(i+p)*wp+p:], x[(ci*gb.h+i)*gb.w:(ci*gb.h+i+1)*gb.w])
		}
	}
	return buf
}

// gaborCols writes the im2col block for kernel k, output rows [oy0, oy0+rows), from the padded
// image xp (padding p >= k/2): row (ci*k+ki)*k+kj, column (oy-oy0)*w+ox.
func gaborCols(xp []float32, c, h, w, p, k, oy0, rows int, dst []float32) {
	hp, wp := h+2*p, w+2*p
	off := p - k/2
	n := rows * w
	for ci := 0; ci < c; ci++ {
		img := xp[ci*hp*wp:]
		for ki := 0; ki < k; ki++ {
			for kj := 0; kj < k; kj++ {
				d := dst[((ci*k+ki)*k+kj)*n:]
				for r := 0; r < rows; r++ {
					src := img[(oy0+r+ki+off)*wp+kj+off:]
					copy(d[r*w:(r+1)*w], src[:w])
				}
			}
		}
	}
}

// gaborColsAdd is the adjoint of gaborCols: it adds the block back into the padded image.
func gaborColsAdd(col []float32, c, h, w, p, k, oy0, rows int, xp []float32) {
	hp, wp := h+2*p, w+2*p
	off := p - k/2
	n := rows * w
	for ci := 0; ci < c; ci++ {
		img := xp[ci*hp*wp:]
		for ki := 0; ki < k; ki++ {
			for kj := 0; kj < k; kj++ {
				s := col[((ci*k+ki)*k+kj)*n:]
				for r := 0; r < rows; r++ {
					dst := img[(oy0+r+ki+off)*wp+kj+off:]
					dst = dst[:w]
					for i, v := range s[r*w : (r+1)*w] {
						dst[i] += v
					}
				}
			}
		}
	}
}

// blockRows is how many output rows one im2col block holds for kernel k (about 2M floats).
func (gb *Gabor) blockRows(k int) int {
	return max(1, min(gb.h, (1<<21)/(gb.c*k*k*gb.w)))
}

// linear computes the unnormalised responses u ([F H W]) of one sample.
//
// Per scale group with kernel k and padding q = k/2, the outputs are computed on rows of the
// padded width wq = W + 2q (the extra columns are discarded), so that the im2col rows of kernel
// row ki are the rows of kernel row 0 shifted by ki·wq: only the k shifted copies of the padded
// image (one per kernel column) are materialised, and the convolution is k GEMMs of inner size
// C·k accumulated, over blocks of columns that stay in cache. Filter rows go in chunks of 16,
// which tensor.Sgemm multiplies without packing the image.
func (gb *Gabor) linear(x, u []float32) {
	hw := gb.h * gb.w
	for _, grp := range gb.groups {
		k, q := grp.k, grp.k/2
		wq, hq := gb.w+2*q, gb.h+2*q
		l := hq * wq
		plane := l + k
		xp := getScratch(gb.c * plane)
		clear(xp)
		for ci := 0; ci < gb.c; ci++ {
			for i := 0; i < gb.h; i++ {
				copy(xp[ci*plane+(i+q)*wq+q:], x[(ci*gb.h+i)*gb.w:(ci*gb.h+i+1)*gb.w])
			}
		}
		ck := gb.c * k
		bx := getScratch(ck * l)
		for ci := 0; ci < gb.c; ci++ {
			for kj := 0; kj < k; kj++ {
				copy(bx[(ci*k+kj)*l:(ci*k+kj+1)*l], xp[ci*plane+kj:])
			}
		}
		putScratch(xp)
		m := (grp.s1 - grp.s0) * gb.nf
		nrow := gb.h * wq
		out := getScratch(m * nrow)
		const nblk = 2048
		for n0 := 0; n0 < nrow; n0 += nblk {
			nc := min(nblk, nrow-n0)
			for ki := 0; ki < k; ki++ {
				beta := float32(1)
				if ki == 0 {
					beta = 0
				}
				for f0 := 0; f0 < m; f0 += 16 {
					mc := min(16, m-f0)
					tensor.Sgemm(false, false, mc, nc, ck, 1, grp.wk[(ki*m+f0)*ck:], ck, bx[ki*wq+n0:], l, beta, out[f0*nrow+n0:], nrow)
				}
			}
		}
		for f := 0; f < m; f++ {
			dst := u[(grp.s0*gb.nf+f)*hw:]
			for oy := 0; oy < gb.h; oy++ {
				copy(dst[oy*gb.w:(oy+1)*gb.w], out[f*nrow+oy*wq:])
			}
		}
		putScratch(out)
		putScratch(bx)
	}
}

// integral returns the (h+1) x (w+1) integral image of Σ_c x^2.
func (gb *Gabor) integral(x []float32) []float64 {
	h, w := gb.h, gb.w
	ii := make([]float64, (h+1)*(w+1))
	for i := 0; i < h; i++ {
		var row float64
		for j := 0; j < w; j++ {
			var s float64
			for ci := 0; ci < gb.c; ci++ {
				v := float64(x[(ci*h+i)*w+j])
				s += v * v
			}
			row += s
			ii[(i+1)*(w+1)+j+1] = ii[i*(w+1)+j+1] + row
		}
	}
	return ii
}

// boxSum sums integral image ii over the size x size window centred at (i, j), clipped.
func boxSum(ii []float64, h, w, i, j, half int) float64 {
	y0, y1 := max(i-half, 0), min(i+half+1, h)
	x0, x1 := max(j-half, 0), min(j+half+1, w)
	w1 := w + 1
	return ii[y1*w1+x1] - ii[y0*w1+x1] - ii[y1*w1+x0] + ii[y0*w1+x0]
}

// norms fills n ([S H W]) with the window norms of one sample.
func (gb *Gabor) norms(x []float32, n []float32) {
	ii := gb.integral(x)
	hw := gb.h * gb.w
	for s, sz := range gb.Sizes {
		d := n[s*hw : (s+1)*hw]
		for i := 0; i < gb.h; i++ {
			for j := 0; j < gb.w; j++ {
				d[i*gb.w+j] = float32(math.Sqrt(boxSum(ii, gb.h, gb.w, i, j, sz/2) + gaborNormEps))
			}
		}
	}
}

func (gb *Gabor) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	nb := x.Shape[0]
	f := len(gb.Sizes) * gb.nf
	hw := gb.h * gb.w
	y := ctx.Alloc(nb, f, gb.h, gb.w)
	inSz := gb.c * hw
	parallelRange(nb, func(_, lo, hi int) {
		var nrm []float32
		if gb.Normalize {
			nrm = getScratch(len(gb.Sizes) * hw)
			defer putScratch(nrm)
		}
		for s := lo; s < hi; s++ {
			xs := x.Data[s*inSz : (s+1)*inSz]
			ys := y.Data[s*f*hw : (s+1)*f*hw]
			gb.linear(xs, ys)
			if gb.Normalize {
				gb.norms(xs, nrm)
			}
			if !gb.Normalize && gb.Rectify == "" {
				continue
			}
			for ch := 0; ch < f; ch++ {
				d := ys[ch*hw : (ch+1)*hw]
				if gb.Normalize {
					nr := nrm[(ch/gb.nf)*hw:]
					for i := range d {
						d[i] /= nr[i]
					}
				}
				gaborRectify(gb.Rectify, d)
			}
		}
	})
	return y, nil
}

func gaborRectify(mode string, d []float32) {
	switch mode {
	case "abs":
		for i, v := range d {
			if v < 0 {
				d[i] = -v
			}
		}
	case "relu":
		for i, v := range d {
			if v < 0 {
				d[i] = 0
			}
		}
	}
}

// rectGrad is the derivative of the rectification at v.
func rectGrad(mode string, v float32) float32 {
	switch mode {
	case "abs":
		if v < 0 {
			return -1
		}
		return 1
	case "relu":
		if v > 0 {
			return 1
		}
		return 0
	}
	return 1
}

// Backward recomputes the linear responses (Forward keeps no cache) and returns the input
// gradient; the filters are fixed.
func (gb *Gabor) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	nb := x.Shape[0]
	f := len(gb.Sizes) * gb.nf
	hw := gb.h * gb.w
	inSz := gb.c * hw
	dx := ctx.Alloc(x.Shape...)
	p := gb.pad
	hp, wp := gb.h+2*p, gb.w+2*p
	parallelRange(nb, func(_, lo, hi int) {
		u := getScratch(f * hw)
		defer putScratch(u)
		var nrm, a []float32
		if gb.Normalize {
			nrm = getScratch(len(gb.Sizes) * hw)
			a = getScratch(len(gb.Sizes) * hw)
			defer putScratch(nrm)
			defer putScratch(a)
		}
		dxp := getScratch(gb.c * hp * wp)
		defer putScratch(dxp)
		for s := lo; s < hi; s++ {
			xs := x.Data[s*inSz : (s+1)*inSz]
			gs := dy.Data[s*f*hw : (s+1)*f*hw]
			gb.linear(xs, u)
			if gb.Normalize {
				gb.norms(xs, nrm)
				clear(a)
			}
			// du = g R'(u/n) / n, overwriting u; a_s = -Σ_f g R' u / n^3.
			for ch := 0; ch < f; ch++ {
				uc := u[ch*hw : (ch+1)*hw]
				gc := gs[ch*hw : (ch+1)*hw]
				if !gb.Normalize {
					for i, v := range uc {
						uc[i] = gc[i] * rectGrad(gb.Rectify, v)
					}
					continue
				}
				sc := ch / gb.nf
				nr := nrm[sc*hw : (sc+1)*hw]
				ac := a[sc*hw : (sc+1)*hw]
				for i, v := range uc {
					t := gc[i] * rectGrad(gb.Rectify, v) / nr[i]
					ac[i] -= t * v / (nr[i] * nr[i])
					uc[i] = t
				}
			}
			clear(dxp)
			for _, grp := range gb.groups {
				kk := gb.c * grp.k * grp.k
				rb := gb.blockRows(grp.k)
				col := getScratch(kk * rb * gb.w)
				m := (grp.s1 - grp.s0) * gb.nf
				for oy0 := 0; oy0 < gb.h; oy0 += rb {
					rows := min(rb, gb.h-oy0)
					n := rows * gb.w
					tensor.Sgemm(true, false, kk, n, m, 1, grp.wt, kk, u[grp.s0*gb.nf*hw+oy0*gb.w:], hw, 0, col, n)
					gaborColsAdd(col, gb.c, gb.h, gb.w, p, grp.k, oy0, rows, dxp)
				}
				putScratch(col)
			}
			dxs := dx.Data[s*inSz : (s+1)*inSz]
			for ci := 0; ci < gb.c; ci++ {
				for i := 0; i < gb.h; i++ {
					copy(dxs[(ci*gb.h+i)*gb.w:(ci*gb.h+i+1)*gb.w], dxp[ci*hp*wp+(i+p)*wp+p:])
				}
			}
			if !gb.Normalize {
				continue
			}
			// dn_p/dx_q = x_q / n_p for q in window(p): dx_q += x_q Σ_{p: q∈window(p)} a_p, a box
			// sum of a around q (the windows are symmetric).
			for sc, sz := range gb.Sizes {
				ii := integralOf(a[sc*hw:(sc+1)*hw], gb.h, gb.w)
				for i := 0; i < gb.h; i++ {
					for j := 0; j < gb.w; j++ {
						b := float32(boxSum(ii, gb.h, gb.w, i, j, sz/2))
						for ci := 0; ci < gb.c; ci++ {
							q := (ci*gb.h+i)*gb.w + j
							dxs[q] += xs[q] * b
						}
					}
				}
			}
		}
	})
	return []*tensor.Tensor{dx}
}

// integralOf returns the (h+1) x (w+1) integral image of one plane.
func integralOf(a []float32, h, w int) []float64 {
	ii := make([]float64, (h+1)*(w+1))
	for i := 0; i < h; i++ {
		var row float64
		for j := 0; j < w; j++ {
			row += float64(a[i*w+j])
			ii[(i+1)*(w+1)+j+1] = ii[i*(w+1)+j+1] + row
		}
	}
	return ii
}

// Energy is the energy model of complex cells (Adelson and Bergen 1985): the squares of each
// group of consecutive channels summed, y_c = Σ_{k<group} x_{c·group+k}^2 (or its square root
// with sqrt). Fed the half-wave rectified responses of a Gabor bank with phases 0, 90, 180, 270
// it gives even^2 + odd^2 of a quadrature pair, a response independent of the stimulus phase.
// Spec fields: group (channels summed, >= 1), sqrt. Input [C ...] with C a multiple of group;
// output [C/group ...].
type Energy struct {
	Group int  `json:"group"`
	Sqrt  bool `json:"sqrt,omitempty"`
}

func (e *Energy) Type() string     { return "energy" }
func (e *Energy) Params() []*Param { return nil }

func (e *Energy) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) < 1 {
		return nil, fmt.Errorf("energy takes one [C ...] input")
	}
	if e.Group <= 0 {
		return nil, fmt.Errorf("energy: group must be positive, got %d", e.Group)
	}
	if in[0][0]%e.Group != 0 {
		return nil, fmt.Errorf("energy: %d channels is not a multiple of group %d", in[0][0], e.Group)
	}
	out := append([]int(nil), in[0]...)
	out[0] /= e.Group
	return out, nil
}

func (e *Energy) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	sh := append([]int(nil), x.Shape...)
	sh[1] /= e.Group
	y := ctx.Alloc(sh...)
	p := x.Len() / (x.Shape[0] * x.Shape[1]) // positions per channel
	for o := 0; o < y.Len()/p; o++ {
		d := y.Data[o*p : (o+1)*p]
		clear(d)
		for k := 0; k < e.Group; k++ {
			src := x.Data[(o*e.Group+k)*p : (o*e.Group+k+1)*p]
			for i, v := range src {
				d[i] += v * v
			}
		}
		if e.Sqrt {
			for i, v := range d {
				d[i] = float32(math.Sqrt(float64(v)))
			}
		}
	}
	return y, nil
}

func (e *Energy) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, out, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	dx := ctx.Alloc(x.Shape...)
	p := x.Len() / (x.Shape[0] * x.Shape[1])
	for o := 0; o < dy.Len()/p; o++ {
		g := dy.Data[o*p : (o+1)*p]
		yo := out.Data[o*p : (o+1)*p]
		for k := 0; k < e.Group; k++ {
			c := o*e.Group + k
			src := x.Data[c*p : (c+1)*p]
			d := dx.Data[c*p : (c+1)*p]
			for i, v := range src {
				if e.Sqrt {
					if yo[i] > 0 {
						d[i] = g[i] * v / yo[i]
					} else {
						d[i] = 0
					}
				} else {
					d[i] = 2 * v * g[i]
				}
			}
		}
	}
	return []*tensor.Tensor{dx}
}
