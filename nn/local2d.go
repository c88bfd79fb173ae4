package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("local2d", func() Op { return &Local2D{} })
}

// Local2D is a locally connected layer: the geometry of conv2d (kernel, stride, pad, dilation;
// no groups) but with an unshared filter at every output position, as in models of retinotopic
// cortex without weight sharing. Weight [OH*OW, Out, In*KH*KW] (position, output channel,
// (channel, tap) in im2col order); bias [Out, OH, OW]. Spec fields: out, kernel, stride, pad,
// dilation, no_bias, init (as conv2d, fan-in In*KH*KW), constraint.
type Local2D struct {
	Out        int    `json:"out"`
	Kernel     Dims   `json:"kernel"`
	Stride     Dims   `json:"stride,omitempty"`
	Pad        Dims   `json:"pad,omitempty"`
	Dilation   Dims   `json:"dilation,omitempty"`
	NoBias     bool   `json:"no_bias,omitempty"`
	Init       string `json:"init,omitempty"`
	Constraint string `json:"constraint,omitempty"`

	w, b *Param
	g    convGeom
}

func (l *Local2D) Type() string { return "local2d" }

func (l *Local2D) Build(in [][]int, rng *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("local2d takes 1 input, got %d", len(in))
	}
	if l.Out <= 0 {
		return nil, fmt.Errorf("out must be positive, got %d", l.Out)
	}
	if err := l.g.setup("local2d", in[0], l.Kernel, l.Stride, l.Pad, l.Dilation); err != nil {
		return nil, err
	}
	g := l.g
	k := g.c * g.kh * g.kw
	l.w = NewParam("weight", true, g.oh*g.ow, l.Out, k)
	if err := InitWeights(l.w.Value, l.Init, k, l.Out*g.kh*g.kw, rng); err != nil {
		return nil, err
	}
	c, err := ConstraintByName(l.Constraint)
	if err != nil {
		return nil, err
	}
	l.w.Constraint = c
	if c != nil {
		c.Apply(l.w.Value)
	}
	l.b = nil
	if !l.NoBias {
		l.b = NewParam("bias", false, l.Out, g.oh, g.ow)
		if l.Init == "torch" {
			fillUniform(l.b.Value, 1/sqrtf(k), rng)
		}
	}
	return []int{l.Out, g.oh, g.ow}, nil
}

func (l *Local2D) PartialShape(in [][]int) ([]int, bool) {
	var g convGeom
	if len(in) != 1 || in[0] == nil || g.setup("local2d", in[0], l.Kernel, l.Stride, l.Pad, l.Dilation) != nil {
		return nil, false
	}
	return []int{l.Out, g.oh, g.ow}, true
}

func (l *Local2D) Params() []*Param {
	if l.b == nil {
		return []*Param{l.w}
	}
	return []*Param{l.w, l.b}
}

// Weight and Bias expose the parameters (Bias is nil with no_bias).
func (l *Local2D) Weight() *Param { return l.w }
func (l *Local2D) Bias() *Param   { return l.b }

// columns returns the receptive fields ordered [P][N][K] (scratch; the caller puts it back).
func (l *Local2D) columns(x *tensor.Tensor) []float32 {
	g := &l.g
	n := x.Shape[0]
	p, k, inSz := g.oh*g.ow, g.c*g.kh*g.kw, g.c*g.h*g.w
	colT := getScratch(p * n * k)
	col := getScratch(k * p)
	defer putScratch(col)
	for s := 0; s < n; s++ {
		g.im2col(x.Data[s*inSz:(s+1)*inSz], col, p)
		for kk := 0; kk < k; kk++ {
			for q, v := range col[kk*p : (kk+1)*p] {
				colT[(q*n+s)*k+kk] = v
			}
		}
	}
	return colT
}

func (l *Local2D) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	g := &l.g
	n := x.Shape[0]
	p, k := g.oh*g.ow, g.c*g.kh*g.kw
	colT := l.columns(x)
	defer putScratch(colT)
	y := ctx.Alloc(n, l.Out, g.oh, g.ow)
	parallelRange(p, func(_, lo, hi int) {
		yp := getScratch(n * l.Out)
		defer putScratch(yp)
		for q := lo; q < hi; q++ {
			tensor.Sgemm(false, true, n, l.Out, k, 1, colT[q*n*k:], k, l.w.Value.Data[q*l.Out*k:], k, 0, yp, l.Out)
			for s := 0; s < n; s++ {
				for o := 0; o < l.Out; o++ {
					v := yp[s*l.Out+o]
					if l.b != nil {
						v += l.b.Value.Data[o*p+q]
					}
					y.Data[(s*l.Out+o)*p+q] = v
				}
			}
		}
	})
	return y, nil
}

func (l *Local2D) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x := in[0]
	g := &l.g
	n := x.Shape[0]
	p, k, inSz := g.oh*g.ow, g.c*g.kh*g.kw, g.c*g.h*g.w
	colT := l.columns(x)
	defer putScratch(colT)
	var dcolT []float32
	if need[0] {
		dcolT = getScratch(p * n * k)
		defer putScratch(dcolT)
	}
	parallelRange(p, func(_, lo, hi int) {
		dyp := getScratch(n * l.Out)
		defer putScratch(dyp)
		for q := lo; q < hi; q++ {
			for s := 0; s < n; s++ {
				for o := 0; o < l.Out; o++ {
					dyp[s*l.Out+o] = dy.Data[(s*l.Out+o)*p+q]
				}
			}
			if l.b != nil {
				for o := 0; o < l.Out; o++ {
					var sum float32
					for s := 0; s < n; s++ {
						sum += dyp[s*l.Out+o]
					}
					l.b.Grad.Data[o*p+q] += sum
				}
			}
			tensor.Sgemm(true, false, l.Out, k, n, 1, dyp, l.Out, colT[q*n*k:], k, 1, l.w.Grad.Data[q*l.Out*k:], k)
			if dcolT != nil {
				tensor.Sgemm(false, false, n, k, l.Out, 1, dyp, l.Out, l.w.Value.Data[q*l.Out*k:], k, 0, dcolT[q*n*k:], k)
			}
		}
	})
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	dx := ctx.Zeros(x.Shape...)
	col := getScratch(k * p)
	defer putScratch(col)
	for s := 0; s < n; s++ {
		for kk := 0; kk < k; kk++ {
			r := col[kk*p : (kk+1)*p]
			for q := range r {
				r[q] = dcolT[(q*n+s)*k+kk]
			}
		}
		g.col2im(col, p, dx.Data[s*inSz:(s+1)*inSz])
	}
	return []*tensor.Tensor{dx}
}
