package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("clip", func() Op { return &Clip{} })
	Register("fake_quant", func() Op { return &FakeQuant{} })
	Register("channel_affine", func() Op { return &ChannelAffine{} })
	Register("constant", func() Op { return &Constant{} })
}

func oneInput(typ string, in [][]int) error {
	if len(in) != 1 {
		return fmt.Errorf("%s takes 1 input, got %d", typ, len(in))
	}
	return nil
}

func finite32(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

// Clip clamps every element to [min, max]: ReLU6 is clip 0..6 (ONNX Clip, TFLite RELU6). The
// gradient is 1 strictly inside (min, max) and 0 elsewhere. Spec fields: min, max. JSON has no
// infinity, so an unbounded side is written as ±math.MaxFloat32 (3.4028235e38).
type Clip struct {
	Min float32 `json:"min"`
	Max float32 `json:"max"`
}

// ReLU6 is clip 0..6.
func ReLU6() *Clip { return &Clip{Min: 0, Max: 6} }

func (c *Clip) Type() string     { return "clip" }
func (c *Clip) Params() []*Param { return nil }
func (c *Clip) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if err := oneInput("clip", in); err != nil {
		return nil, err
	}
	if !finite32(c.Min) || !finite32(c.Max) || c.Min > c.Max {
		return nil, fmt.Errorf("clip: need finite min <= max, got min %g max %g", c.Min, c.Max)
	}
	return append([]int(nil), in[0]...), nil
}
func (c *Clip) PartialShape(in [][]int) ([]int, bool) { return in[0], len(in) == 1 && in[0] != nil }

func (c *Clip) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	y := ctx.Alloc(x.Shape...)
	lo, hi := c.Min, c.Max
	for i, v := range x.Data {
		y.Data[i] = min(max(v, lo), hi)
	}
	return y, nil
}

func (c *Clip) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	dx := ctx.Alloc(x.Shape...)
	for i, v := range x.Data {
		if v > c.Min && v < c.Max {
			dx.Data[i] = dy.Data[i]
		} else {
			dx.Data[i] = 0
		}
	}
	return []*tensor.Tensor{dx}
}

// FakeQuant simulates a per-tensor integer activation (ONNX QuantizeLinear followed by
// DequantizeLinear, TFLite's uint8/int8 tensors): y = (clamp(round(x/scale) + zero_point, qmin,
// qmax) - zero_point) * scale, rounding half to even as onnxruntime does. The backward pass is the
// straight-through estimator: the gradient passes unchanged where round(x/scale) + zero_point lies
// in [qmin, qmax] and is 0 where it was clamped (the true derivative is 0 almost everywhere, which
// would make the op useless for receptive fields and fine-tuning). Spec fields: scale (> 0),
// zero_point, qmin, qmax (e.g. 0 and 255 for uint8, -128 and 127 for int8).
type FakeQuant struct {
	Scale     float32 `json:"scale"`
	ZeroPoint int     `json:"zero_point"`
	Qmin      int     `json:"qmin"`
	Qmax      int     `json:"qmax"`
}

func (f *FakeQuant) Type() string     { return "fake_quant" }
func (f *FakeQuant) Params() []*Param { return nil }
func (f *FakeQuant) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if err := oneInput("fake_quant", in); err != nil {
		return nil, err
	}
	if !(f.Scale > 0) || !finite32(f.Scale) {
		return nil, fmt.Errorf("fake_quant: scale must be positive and finite, got %g", f.Scale)
	}
	if f.Qmin > f.Qmax {
		return nil, fmt.Errorf("fake_quant: qmin %d > qmax %d", f.Qmin, f.Qmax)
	}
	const exact = 1 << 24 // integers beyond are not exact in float32
	if max(abs(f.Qmin), abs(f.Qmax), abs(f.ZeroPoint)) > exact {
		return nil, fmt.Errorf("fake_quant: qmin %d, qmax %d and zero_point %d must lie within ±2^24", f.Qmin, f.Qmax, f.ZeroPoint)
	}
	return append([]int(nil), in[0]...), nil
}
func (f *FakeQuant) PartialShape(in [][]int) ([]int, bool) {
	return in[0], len(in) == 1 && in[0] != nil
}

// level is round(x/scale) + zero_point before clamping. The division is in float32 (as
// onnxruntime's QuantizeLinear), the rounding half to even.
func (f *FakeQuant) level(v float32) float64 {
	return math.RoundToEven(float64(v/f.Scale)) + float64(f.ZeroPoint)
}

func (f *FakeQuant) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	y := ctx.Alloc(x.Shape...)
	// Split across threads in whole samples (a quantized network's requantizations outside
	// the convolutions would otherwise run on one core).
	n := x.Shape[0]
	per := x.Len() / max(n, 1)
	parallelWork(n, x.Len(), func(lo, hi int) {
		f.apply(y.Data[lo*per:hi*per], x.Data[lo*per:hi*per])
	})
	return y, nil
}

// apply is the forward map (tensor.FakeQuant; integers up to 2^24 are exact in float32).
func (f *FakeQuant) apply(dst, src []float32) {
	tensor.FakeQuant(dst, src, f.Scale, float32(f.ZeroPoint), float32(f.Qmin), float32(f.Qmax))
}

func (f *FakeQuant) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	x := in[0]
	dx := ctx.Alloc(x.Shape...)
	lo, hi := float64(f.Qmin), float64(f.Qmax)
	for i, v := range x.Data {
		if q := f.level(v); q >= lo && q <= hi {
			dx.Data[i] = dy.Data[i]
		} else {
			dx.Data[i] = 0
		}
	}
	return []*tensor.Tensor{dx}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// ChannelAffine is y = x * weight[c] + bias[c] over the channel axis (axis 0 of a [C ...]
// per-sample shape): an inference-mode batch norm that could not be folded into a preceding
// convolution. weight starts at 1 and bias at 0; neither decays. Spec field: channels.
type ChannelAffine struct {
	Channels int `json:"channels"`

	w, b *Param
}

func (a *ChannelAffine) Type() string { return "channel_affine" }
func (a *ChannelAffine) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if err := oneInput("channel_affine", in); err != nil {
		return nil, err
	}
	if len(in[0]) < 1 || in[0][0] != a.Channels || a.Channels <= 0 {
		return nil, fmt.Errorf("channel_affine: channels %d, but the input has shape %v (expected [%d ...])", a.Channels, in[0], a.Channels)
	}
	a.w = NewParam("weight", false, a.Channels)
	a.b = NewParam("bias", false, a.Channels)
	for i := range a.w.Value.Data {
		a.w.Value.Data[i] = 1
	}
	return append([]int(nil), in[0]...), nil
}
func (a *ChannelAffine) PartialShape(in [][]int) ([]int, bool) {
	return in[0], len(in) == 1 && in[0] != nil
}
func (a *ChannelAffine) Params() []*Param { return []*Param{a.w, a.b} }

// Weight and Bias expose the parameters for importers.
func (a *ChannelAffine) Weight() *Param { return a.w }
func (a *ChannelAffine) Bias() *Param   { return a.b }

func (a *ChannelAffine) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	y := ctx.Alloc(x.Shape...)
	c := a.Channels
	p := x.Len() / (x.Shape[0] * c)
	w, b := a.w.Value.Data, a.b.Value.Data
	inf := float32(math.Inf(1))
	parallelWork(x.Len()/p, x.Len(), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			// (v + 0)*w + b, each step rounded (no FMA), as fused inference (fuse.go) computes it.
			tensor.AffineClamp(y.Data[i*p:(i+1)*p], x.Data[i*p:(i+1)*p], 0, w[i%c], b[i%c], -inf, inf)
		}
	})
	return y, nil
}

// forwardFused applies the map with the clamp and simulated quantisation that follow it in one
// pass per channel row; ep's affine map is the op's own (see fusePlan), so each step rounds as
// Forward and the absorbed layers do.
func (a *ChannelAffine) forwardFused(ctx *Ctx, in []*tensor.Tensor, ep *epilogue) *tensor.Tensor {
	x := in[0]
	y := ctx.Alloc(x.Shape...)
	c := a.Channels
	p := x.Len() / (x.Shape[0] * c)
	parallelWork(x.Len()/p, x.Len(), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			ep.apply(y.Data[i*p:(i+1)*p], x.Data[i*p:(i+1)*p], i%c, 0)
		}
	})
	return y
}

func (a *ChannelAffine) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x := in[0]
	c := a.Channels
	p := x.Len() / (x.Shape[0] * c)
	w := a.w.Value.Data
	var dx *tensor.Tensor
	if need[0] {
		dx = ctx.Alloc(x.Shape...)
	}
	for i := 0; i < x.Len()/p; i++ {
		g := dy.Data[i*p : (i+1)*p]
		var sw, sb float32
		for j, v := range x.Data[i*p : (i+1)*p] {
			sw += v * g[j]
			sb += g[j]
		}
		a.w.Grad.Data[i%c] += sw
		a.b.Grad.Data[i%c] += sb
		if dx != nil {
			d := dx.Data[i*p : (i+1)*p]
			for j, gv := range g {
				d[j] = gv * w[i%c]
			}
		}
	}
	return []*tensor.Tensor{dx}
}

// Constant outputs a learned-or-imported tensor (the Param "value", of per-sample shape shape)
// repeated over the batch. Its single input only sets the batch size (any node will do, usually
// the graph input): this is how an ONNX initializer used as an operand (Mul by a per-channel
// constant) enters the graph. The value starts at zero, does not decay, and its gradient sums
// over the batch; the input gets a zero gradient. Spec field: shape (at least one axis; a scalar
// is [1], which broadcasts).
type Constant struct {
	Shape []int `json:"shape"`

	v *Param
}

func (c *Constant) Type() string { return "constant" }
func (c *Constant) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if err := oneInput("constant", in); err != nil {
		return nil, err
	}
	if len(c.Shape) == 0 {
		return nil, fmt.Errorf("constant: shape is required (use [1] for a scalar)")
	}
	for _, d := range c.Shape {
		if d <= 0 {
			return nil, fmt.Errorf("constant: shape %v has a non-positive size", c.Shape)
		}
	}
	c.v = NewParam("value", false, c.Shape...)
	return append([]int(nil), c.Shape...), nil
}
func (c *Constant) PartialShape(_ [][]int) ([]int, bool) {
	return append([]int(nil), c.Shape...), len(c.Shape) > 0
}
func (c *Constant) Params() []*Param { return []*Param{c.v} }

// Value exposes the parameter for importers.
func (c *Constant) Value() *Param { return c.v }

func (c *Constant) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	n := in[0].Shape[0]
	y := ctx.Alloc(append([]int{n}, c.Shape...)...)
	per := c.v.Value.Len()
	for s := 0; s < n; s++ {
		copy(y.Data[s*per:(s+1)*per], c.v.Value.Data)
	}
	return y, nil
}

func (c *Constant) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	per := c.v.Value.Len()
	for s := 0; s < dy.Shape[0]; s++ {
		tensor.Axpy(1, dy.Data[s*per:(s+1)*per], c.v.Grad.Data)
	}
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	return []*tensor.Tensor{ctx.Zeros(in[0].Shape...)}
}
