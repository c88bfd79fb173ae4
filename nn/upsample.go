package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("upsample", func() Op { return &Upsample{} })
	Register("scale", func() Op { return &Scale{Kind: "scale"} })
	Register("gain", func() Op { return &Scale{Kind: "gain"} })
	Register("softmax", func() Op { return &SoftmaxOp{} })
}

// Upsample repeats each pixel of a [C H W] input factor x factor times (nearest neighbour), as
// used by top-down connections from a coarser map. Spec field: factor (default 2).
type Upsample struct {
	Factor int `json:"factor,omitempty"`
}

func (u *Upsample) Type() string     { return "upsample" }
func (u *Upsample) Params() []*Param { return nil }

func (u *Upsample) f() int {
	if u.Factor == 0 {
		return 2
	}
	return u.Factor
}

func (u *Upsample) shape(in []int) ([]int, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("upsample needs a [C H W] input, got %v", in)
	}
	if u.Factor < 0 {
		return nil, fmt.Errorf("upsample: factor must be positive, got %d", u.Factor)
	}
	f := u.f()
	return []int{in[0], in[1] * f, in[2] * f}, nil
}

func (u *Upsample) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("upsample takes 1 input, got %d", len(in))
	}
	return u.shape(in[0])
}

func (u *Upsample) PartialShape(in [][]int) ([]int, bool) {
	if len(in) != 1 || in[0] == nil {
		return nil, false
	}
	s, err := u.shape(in[0])
	return s, err == nil
}

func (u *Upsample) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	f := u.f()
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	y := ctx.Alloc(n, c, h*f, w*f)
	ow := w * f
	for pl := 0; pl < n*c; pl++ {
		src := x.Data[pl*h*w : (pl+1)*h*w]
		dst := y.Data[pl*h*w*f*f : (pl+1)*h*w*f*f]
		for i := 0; i < h; i++ {
			row := dst[i*f*ow : i*f*ow+ow]
			for j, v := range src[i*w : (i+1)*w] {
				for k := 0; k < f; k++ {
					row[j*f+k] = v
				}
			}
			for r := 1; r < f; r++ {
				copy(dst[(i*f+r)*ow:(i*f+r+1)*ow], row)
			}
		}
	}
	return y, nil
}

func (u *Upsample) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	f := u.f()
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	dx := ctx.Zeros(x.Shape...)
	ow := w * f
	for pl := 0; pl < n*c; pl++ {
		d := dx.Data[pl*h*w : (pl+1)*h*w]
		g := dy.Data[pl*h*w*f*f : (pl+1)*h*w*f*f]
		for i := 0; i < h*f; i++ {
			dr := d[(i/f)*w : (i/f+1)*w]
			for j, v := range g[i*ow : (i+1)*ow] {
				dr[j/f] += v
			}
		}
	}
	return []*tensor.Tensor{dx}
}

// Scale multiplies each channel (axis 0 of the per-sample shape) by a gain: y = x * g_c. It is
// the hook for feature-based attention: a model's attention code reads and writes the gains
// with Gain. Spec fields: init (the initial gain, default 1), fixed (the gains are not trained;
// they are then a buffer, saved with checkpoints, see Stateful). Registered as "scale" and
// "gain".
type Scale struct {
	Kind  string   `json:"-"`
	Init  *float32 `json:"init,omitempty"`
	Fixed bool     `json:"fixed,omitempty"`

	g *Param
}

func (s *Scale) Type() string {
	if s.Kind == "" {
		return "scale"
	}
	return s.Kind
}

func (s *Scale) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) < 1 {
		return nil, fmt.Errorf("%s takes one [C ...] input", s.Type())
	}
	init := float32(1)
	if s.Init != nil {
		init = *s.Init
	}
	s.g = NewParam("gain", false, in[0][0])
	for i := range s.g.Value.Data {
		s.g.Value.Data[i] = init
	}
	return append([]int(nil), in[0]...), nil
}

func (s *Scale) PartialShape(in [][]int) ([]int, bool) { return in[0], len(in) == 1 && in[0] != nil }

func (s *Scale) Params() []*Param {
	if s.Fixed {
		return nil
	}
	return []*Param{s.g}
}

// Buffers holds the gains when they are fixed.
func (s *Scale) Buffers() map[string]*tensor.Tensor {
	if !s.Fixed || s.g == nil {
		return nil
	}
	return map[string]*tensor.Tensor{"gain": s.g.Value}
}

// Gain returns the live per-channel gains [C] (after Build).
func (s *Scale) Gain() *tensor.Tensor { return s.g.Value }

func (s *Scale) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	y := ctx.Alloc(x.Shape...)
	c := len(s.g.Value.Data)
	p := x.Len() / (x.Shape[0] * c)
	for i := 0; i < x.Len()/p; i++ {
		g := s.g.Value.Data[i%c]
		ys := y.Data[i*p : (i+1)*p]
		for j, v := range x.Data[i*p : (i+1)*p] {
			ys[j] = v * g
		}
	}
	return y, nil
}

func (s *Scale) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x := in[0]
	c := len(s.g.Value.Data)
	p := x.Len() / (x.Shape[0] * c)
	if !s.Fixed {
		for i := 0; i < x.Len()/p; i++ {
			var sum float32
			g := dy.Data[i*p : (i+1)*p]
			for j, v := range x.Data[i*p : (i+1)*p] {
				sum += v * g[j]
			}
			s.g.Grad.Data[i%c] += sum
		}
	}
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	dx := ctx.Alloc(x.Shape...)
	for i := 0; i < x.Len()/p; i++ {
		g := s.g.Value.Data[i%c]
		d := dx.Data[i*p : (i+1)*p]
		for j, v := range dy.Data[i*p : (i+1)*p] {
			d[j] = v * g
		}
	}
	return []*tensor.Tensor{dx}
}

// SoftmaxOp (spec type "softmax") turns one per-sample axis into probabilities (at every
// position of the other axes): y_c = exp(x_c) / sum_c' exp(x_c'). Spec field: axis (per-sample,
// negative counts from the end, so -1 is the last axis; default 0, the channel axis, which for a
// [C] vector is also the last). For training on class labels use SoftmaxCrossEntropy on logits
// instead, which is more accurate; this op is for models whose output must be probabilities.
type SoftmaxOp struct {
	Axis int `json:"axis,omitempty"`
}

func (sm SoftmaxOp) Type() string     { return "softmax" }
func (sm SoftmaxOp) Params() []*Param { return nil }
func (sm SoftmaxOp) axis(in []int) (int, error) {
	a := sm.Axis
	if a < 0 {
		a += len(in)
	}
	if a < 0 || a >= len(in) {
		return 0, fmt.Errorf("softmax: axis %d out of range for %v", sm.Axis, in)
	}
	return a, nil
}
func (sm SoftmaxOp) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 || len(in[0]) < 1 {
		return nil, fmt.Errorf("softmax takes one [C ...] input")
	}
	if _, err := sm.axis(in[0]); err != nil {
		return nil, err
	}
	return append([]int(nil), in[0]...), nil
}
func (sm SoftmaxOp) PartialShape(in [][]int) ([]int, bool) {
	return in[0], len(in) == 1 && in[0] != nil
}

// blocks splits a batched shape into outer x c x p around the softmax axis.
func (sm SoftmaxOp) blocks(shape []int) (outer, c, p int) {
	a, _ := sm.axis(shape[1:])
	a++
	return tensor.Numel(shape[:a]), shape[a], tensor.Numel(shape[a+1:])
}

func (sm SoftmaxOp) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	n, c, p := sm.blocks(x.Shape)
	y := ctx.Alloc(x.Shape...)
	for s := 0; s < n; s++ {
		base := s * c * p
		for q := 0; q < p; q++ {
			m := float32(math.Inf(-1))
			for ch := 0; ch < c; ch++ {
				m = max(m, x.Data[base+ch*p+q])
			}
			var sum float64
			for ch := 0; ch < c; ch++ {
				e := math.Exp(float64(x.Data[base+ch*p+q] - m))
				y.Data[base+ch*p+q] = float32(e)
				sum += e
			}
			inv := float32(1 / sum)
			for ch := 0; ch < c; ch++ {
				y.Data[base+ch*p+q] *= inv
			}
		}
	}
	return y, nil
}

// Backward: dx_c = y_c (dy_c - sum_c' dy_c' y_c').
func (sm SoftmaxOp) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, out, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	n, c, p := sm.blocks(x.Shape)
	dx := ctx.Alloc(x.Shape...)
	for s := 0; s < n; s++ {
		base := s * c * p
		for q := 0; q < p; q++ {
			var dot float32
			for ch := 0; ch < c; ch++ {
				dot += dy.Data[base+ch*p+q] * out.Data[base+ch*p+q]
			}
			for ch := 0; ch < c; ch++ {
				i := base + ch*p + q
				dx.Data[i] = out.Data[i] * (dy.Data[i] - dot)
			}
		}
	}
	return []*tensor.Tensor{dx}
}
