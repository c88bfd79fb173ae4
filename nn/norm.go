package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("lrn", func() Op { return &LRN{} })
	Register("divnorm", func() Op { return &DivNorm{} })
}

// LRN is cross-channel local response normalisation (Krizhevsky et al. 2012; PyTorch's
// LocalResponseNorm):
//
//	b_c = a_c / (k + alpha/size * sum_{c'=c-size/2}^{c+(size-1)/2} a_{c'}^2)^beta
//
// with the window clipped at the first and last channel (PyTorch's convention; AlexNet used
// size 5, alpha 1e-4, beta 0.75, k 2). Spec fields: size (required), alpha (default 1e-4), beta
// (default 0.75), k (default 1), onnx_window. Input: [C ...], normalised across axis 0 at every
// position. An even window is off-centre: PyTorch's reaches one channel further before c than
// after it; with onnx_window it reaches further after (ONNX's LRN: floor((size-1)/2) channels
// before, ceil((size-1)/2) after). Odd sizes are the same either way.
type LRN struct {
	Size       int     `json:"size"`
	Alpha      float32 `json:"alpha,omitempty"`
	Beta       float32 `json:"beta,omitempty"`
	K          float32 `json:"k,omitempty"`
	OnnxWindow bool    `json:"onnx_window,omitempty"`
}

func (l *LRN) Type() string     { return "lrn" }
func (l *LRN) Params() []*Param { return nil }
func (l *LRN) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) < 1 {
		return nil, fmt.Errorf("lrn takes one [C ...] input")
	}
	if l.Size < 1 {
		return nil, fmt.Errorf("lrn: size must be >= 1, got %d", l.Size)
	}
	return append([]int(nil), in[0]...), nil
}
func (l *LRN) PartialShape(in [][]int) ([]int, bool) { return in[0], len(in) == 1 && in[0] != nil }

func (l *LRN) consts() (alpha, beta, k float32) {
	alpha, beta, k = l.Alpha, l.Beta, l.K
	if alpha == 0 {
		alpha = 1e-4
	}
	if beta == 0 {
		beta = 0.75
	}
	if k == 0 {
		k = 1
	}
	return
}

// reach is how many channels the window spans before and after its own.
func (l *LRN) reach() (before, after int) {
	if l.OnnxWindow {
		return (l.Size - 1) / 2, l.Size / 2
	}
	return l.Size / 2, (l.Size - 1) / 2
}

// window returns the channels [lo, hi) that normalise channel c.
func (l *LRN) window(c, nc int) (int, int) {
	before, after := l.reach()
	return max(c-before, 0), min(c+after+1, nc)
}

func (l *LRN) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	n, nc := x.Shape[0], x.Shape[1]
	p := x.Len() / (n * nc)
	alpha, beta, k := l.consts()
	y := ctx.Alloc(x.Shape...)
	d := ctx.Alloc(x.Shape...) // the denominator base k + alpha/size * S, kept for backward
	sq := getScratch(nc * p)
	defer putScratch(sq)
	a := alpha / float32(l.Size)
	for s := 0; s < n; s++ {
		xs := x.Data[s*nc*p : (s+1)*nc*p]
		ds := d.Data[s*nc*p : (s+1)*nc*p]
		for i, v := range xs {
			sq[i] = v * v
		}
		for c := 0; c < nc; c++ {
			dc := ds[c*p : (c+1)*p]
			clear(dc)
			lo, hi := l.window(c, nc)
			for c2 := lo; c2 < hi; c2++ {
				tensor.Axpy(1, sq[c2*p:(c2+1)*p], dc)
			}
			for i := range dc {
				dc[i] = k + a*dc[i]
			}
		}
		ys := y.Data[s*nc*p : (s+1)*nc*p]
		for i, v := range xs {
			ys[i] = v * powNeg(ds[i], beta)
		}
	}
	return y, d
}

// powNeg returns d^-beta.
func powNeg(d, beta float32) float32 {
	if beta == 0.75 {
		r := 1 / math.Sqrt(float64(d))
		return float32(r * math.Sqrt(r))
	}
	return float32(math.Pow(float64(d), -float64(beta)))
}

func (l *LRN) Backward(ctx *Ctx, cache any, in []*tensor.Tensor, out, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x, d := in[0], cache.(*tensor.Tensor)
	n, nc := x.Shape[0], x.Shape[1]
	p := x.Len() / (n * nc)
	alpha, beta, _ := l.consts()
	dx := ctx.Alloc(x.Shape...)
	tm := getScratch(nc * p)
	defer putScratch(tm)
	coef := 2 * alpha * beta / float32(l.Size)
	for s := 0; s < n; s++ {
		off := s * nc * p
		xs, ds, ys, gs := x.Data[off:off+nc*p], d.Data[off:off+nc*p], out.Data[off:off+nc*p], dy.Data[off:off+nc*p]
		dxs := dx.Data[off : off+nc*p]
		// T_c = dy_c y_c / D_c; channel j receives T_c from every c whose window holds j.
		for i := range tm {
			tm[i] = gs[i] * ys[i] / ds[i]
		}
		before, after := l.reach()
		for j := 0; j < nc; j++ {
			lo, hi := max(j-after, 0), min(j+before+1, nc)
			dj := dxs[j*p : (j+1)*p]
			clear(dj)
			for c := lo; c < hi; c++ {
				tensor.Axpy(1, tm[c*p:(c+1)*p], dj)
			}
			for i := range dj {
				q := j*p + i
				dj[i] = gs[q]*powNeg(ds[q], beta) - coef*xs[q]*dj[i]
			}
		}
	}
	return []*tensor.Tensor{dx}
}

// DivNorm is divisive normalisation in the form of generalized divisive normalization (GDN;
// Ballé, Laparra & Simoncelli 2016, "Density modeling of images using a generalized
// normalization transformation", ICLR; after Heeger 1992's normalisation model of V1):
//
//	y_c = x_c / sqrt(beta_c + sum_{c'} gamma_{c c'} x_{c'}^2)
//
// at every spatial position, with learnable pool weights gamma [C, C] >= 0 (kept non-negative by
// a constraint applied after each update) and offsets beta [C] >= BetaMin (also a constraint;
// BetaMin defaults to 1e-6). Initialisation as Ballé et al.: beta = 1, gamma = gamma_init * I
// (gamma_init default 0.1). Spec fields: gamma_init, beta_min. Input: [C ...] (axis 0 pooled).
// Neither parameter takes weight decay.
type DivNorm struct {
	GammaInit float32 `json:"gamma_init,omitempty"`
	BetaMin   float32 `json:"beta_min,omitempty"`

	gamma, beta *Param
	c           int
}

func (dn *DivNorm) Type() string     { return "divnorm" }
func (dn *DivNorm) Params() []*Param { return []*Param{dn.gamma, dn.beta} }
func (dn *DivNorm) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) < 1 {
		return nil, fmt.Errorf("divnorm takes one [C ...] input")
	}
	if dn.GammaInit < 0 || dn.BetaMin < 0 {
		return nil, fmt.Errorf("divnorm: gamma_init and beta_min must be non-negative")
	}
	gi, bmin := dn.GammaInit, dn.BetaMin
	if gi == 0 {
		gi = 0.1
	}
	if bmin == 0 {
		bmin = 1e-6
	}
	dn.c = in[0][0]
	dn.gamma = NewParam("gamma", false, dn.c, dn.c)
	dn.gamma.Constraint = NonNeg{}
	for i := 0; i < dn.c; i++ {
		dn.gamma.Value.Data[i*dn.c+i] = gi
	}
	dn.beta = NewParam("beta", false, dn.c)
	dn.beta.Constraint = MinValue(bmin)
	for i := range dn.beta.Value.Data {
		dn.beta.Value.Data[i] = 1
	}
	return append([]int(nil), in[0]...), nil
}
func (dn *DivNorm) PartialShape(in [][]int) ([]int, bool) { return in[0], len(in) == 1 && in[0] != nil }

// Gamma and Beta expose the parameters.
func (dn *DivNorm) Gamma() *Param { return dn.gamma }
func (dn *DivNorm) Beta() *Param  { return dn.beta }

// denominators computes D = beta + gamma x^2 into d for the whole batch (sq is scratch x^2).
func (dn *DivNorm) denominators(x *tensor.Tensor, sq, d []float32) {
	n, c := x.Shape[0], dn.c
	p := x.Len() / (n * c)
	for i, v := range x.Data {
		sq[i] = v * v
	}
	g := dn.gamma.Value.Data
	if p == 1 {
		tensor.Sgemm(false, true, n, c, c, 1, sq, c, g, c, 0, d, c)
	} else {
		for s := 0; s < n; s++ {
			tensor.Sgemm(false, false, c, p, c, 1, g, c, sq[s*c*p:], p, 0, d[s*c*p:], p)
		}
	}
	b := dn.beta.Value.Data
	for s := 0; s < n; s++ {
		for ch := 0; ch < c; ch++ {
			r := d[(s*c+ch)*p : (s*c+ch+1)*p]
			for i := range r {
				r[i] += b[ch]
			}
		}
	}
}

func (dn *DivNorm) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	d := ctx.Alloc(x.Shape...)
	sq := getScratch(x.Len())
	defer putScratch(sq)
	dn.denominators(x, sq, d.Data)
	y := ctx.Alloc(x.Shape...)
	for i, v := range x.Data {
		y.Data[i] = v / float32(math.Sqrt(float64(d.Data[i])))
	}
	return y, d
}

func (dn *DivNorm) Backward(ctx *Ctx, cache any, in []*tensor.Tensor, out, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x, d := in[0], cache.(*tensor.Tensor)
	n, c := x.Shape[0], dn.c
	p := x.Len() / (n * c)
	sq := getScratch(x.Len())
	defer putScratch(sq)
	e := getScratch(x.Len())
	defer putScratch(e)
	for i, v := range x.Data {
		sq[i] = v * v
		// E = dy * x * D^-3/2 = dy * y / D
		e[i] = dy.Data[i] * out.Data[i] / d.Data[i]
	}
	g, dg, db := dn.gamma.Value.Data, dn.gamma.Grad.Data, dn.beta.Grad.Data
	for s := 0; s < n; s++ {
		for ch := 0; ch < c; ch++ {
			var sum float32
			for _, v := range e[(s*c+ch)*p : (s*c+ch+1)*p] {
				sum += v
			}
			db[ch] -= 0.5 * sum
		}
	}
	if p == 1 {
		tensor.Sgemm(true, false, c, c, n, -0.5, e, c, sq, c, 1, dg, c)
	} else {
		for s := 0; s < n; s++ {
			tensor.Sgemm(false, true, c, c, p, -0.5, e[s*c*p:], p, sq[s*c*p:], p, 1, dg, c)
		}
	}
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	dx := ctx.Alloc(x.Shape...)
	// G = gamma^T E; dx = dy / sqrt(D) - x G.
	if p == 1 {
		tensor.Sgemm(false, false, n, c, c, 1, e, c, g, c, 0, dx.Data, c)
	} else {
		for s := 0; s < n; s++ {
			tensor.Sgemm(true, false, c, p, c, 1, g, c, e[s*c*p:], p, 0, dx.Data[s*c*p:], p)
		}
	}
	for i, v := range x.Data {
		dx.Data[i] = dy.Data[i]/float32(math.Sqrt(float64(d.Data[i]))) - v*dx.Data[i]
	}
	return []*tensor.Tensor{dx}
}

// MinValue is a constraint that clamps values from below (used to keep divisive
// normalisation's offsets positive).
type MinValue float32

func (m MinValue) Apply(t *tensor.Tensor) {
	for i, v := range t.Data {
		if v < float32(m) {
			t.Data[i] = float32(m)
		}
	}
}
func (m MinValue) Name() string { return fmt.Sprintf("min%g", float32(m)) }
