package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("add", func() Op { return &Add{} })
	Register("concat", func() Op { return &Concat{} })
	Register("dropout", func() Op { return &Dropout{} })
}

// Add sums its inputs, which must have equal shapes; two inputs may instead have different
// shapes that broadcast as in numpy (see Binary).
type Add struct{}

func (Add) Type() string { return "add" }
func (Add) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("add takes at least 2 inputs, got %d", len(in))
	}
	if len(in) == 2 && !tensor.SameShape(in[0], in[1]) {
		if out, err := broadcastShape(in[0], in[1]); err == nil {
			return out, nil
		}
		return nil, fmt.Errorf("add: input 1 has shape %v, input 0 has %v (neither equal nor broadcastable)", in[1], in[0])
	}
	for k := 1; k < len(in); k++ {
		if !tensor.SameShape(in[k], in[0]) {
			return nil, fmt.Errorf("add: input %d has shape %v, input 0 has %v", k, in[k], in[0])
		}
	}
	return append([]int(nil), in[0]...), nil
}
func (Add) PartialShape(in [][]int) ([]int, bool) {
	for _, s := range in {
		if s != nil {
			return s, true
		}
	}
	return nil, false
}
func (Add) Params() []*Param { return nil }
func (Add) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	if len(in) == 2 && !tensor.SameShape(in[0].Shape, in[1].Shape) {
		return addBroadcast(ctx, in[0], in[1]), nil
	}
	y := ctx.Alloc(in[0].Shape...)
	copy(y.Data, in[0].Data)
	for _, x := range in[1:] {
		tensor.Axpy(1, x.Data, y.Data)
	}
	return y, nil
}
func (Add) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(in))
	bcast := len(in) == 2 && !tensor.SameShape(in[0].Shape, in[1].Shape)
	for k := range in {
		switch {
		case !need[k]:
		case bcast && !tensor.SameShape(in[k].Shape, dy.Shape):
			out[k] = reduceBroadcast(ctx, in[0], in[1], dy, k)
		default:
			out[k] = dy
		}
	}
	return out
}

// forwardFused sums equal-shaped inputs channel row by channel row and applies ep to each row
// while it is in cache (a residual sum followed by relu or simulated quantisation).
func (Add) forwardFused(ctx *Ctx, in []*tensor.Tensor, ep *epilogue) *tensor.Tensor {
	y := ctx.Alloc(in[0].Shape...)
	n, c := in[0].Shape[0], in[0].Shape[1]
	p := in[0].Len() / (n * c)
	parallelWork(n*c, len(in)*y.Len(), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			dst := y.Data[r*p : (r+1)*p]
			copy(dst, in[0].Data[r*p:(r+1)*p])
			for _, x := range in[1:] {
				tensor.Axpy(1, x.Data[r*p:(r+1)*p], dst) // as Forward does, so the sums agree
			}
			ep.apply(dst, dst, r%c, 0)
		}
	})
	return y
}

// Concat joins its inputs along one per-sample axis, by default the channel axis (axis 0);
// the other axes must agree. Spec field: axis (negative counts from the end).
type Concat struct {
	Axis int `json:"axis,omitempty"`
}

func (c Concat) Type() string { return "concat" }

// axis resolves the concatenation axis for a per-sample rank.
func (c Concat) axis(rank int) (int, error) {
	a := c.Axis
	if a < 0 {
		a += rank
	}
	if a < 0 || a >= rank {
		return 0, fmt.Errorf("concat: axis %d out of range for rank %d", c.Axis, rank)
	}
	return a, nil
}

func (c Concat) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) < 1 {
		return nil, fmt.Errorf("concat needs inputs")
	}
	a, err := c.axis(len(in[0]))
	if err != nil {
		return nil, err
	}
	out := append([]int(nil), in[0]...)
	for k := 1; k < len(in); k++ {
		ok := len(in[k]) == len(in[0])
		for d := 0; ok && d < len(in[0]); d++ {
			ok = d == a || in[k][d] == in[0][d]
		}
		if !ok {
			return nil, fmt.Errorf("concat: input %d has shape %v, incompatible with %v (all but axis %d must agree)", k, in[k], in[0], a)
		}
		out[a] += in[k][a]
	}
	return out, nil
}
func (Concat) Params() []*Param { return nil }

// blocks splits a batched tensor around the concatenation axis: outer blocks (samples and the
// axes before) of size per (the axis and the axes after).
func (c Concat) blocks(x *tensor.Tensor) (outer, per int) {
	a, _ := c.axis(len(x.Shape) - 1)
	outer = tensor.Numel(x.Shape[:a+1])
	return outer, x.Len() / outer
}

func (c Concat) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	a, _ := c.axis(len(in[0].Shape) - 1)
	shape := append([]int(nil), in[0].Shape...)
	shape[a+1] = 0
	for _, x := range in {
		shape[a+1] += x.Shape[a+1]
	}
	y := ctx.Alloc(shape...)
	outer, tot := c.blocks(y)
	off0 := 0
	for _, x := range in {
		_, per := c.blocks(x)
		for s := 0; s < outer; s++ {
			copy(y.Data[s*tot+off0:s*tot+off0+per], x.Data[s*per:(s+1)*per])
		}
		off0 += per
	}
	return y, nil
}
func (c Concat) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	outer, tot := c.blocks(dy)
	out := make([]*tensor.Tensor, len(in))
	off0 := 0
	for k, x := range in {
		_, per := c.blocks(x)
		if need[k] {
			dx := ctx.Alloc(x.Shape...)
			for s := 0; s < outer; s++ {
				copy(dx.Data[s*per:(s+1)*per], dy.Data[s*tot+off0:s*tot+off0+per])
			}
			out[k] = dx
		}
		off0 += per
	}
	return out
}

// Dropout zeroes each unit with probability P during training and scales the survivors by
// 1/(1-P) (inverted dropout), so inference is the identity.
type Dropout struct {
	P float32 `json:"p"`
}

func (d *Dropout) Type() string { return "dropout" }
func (d *Dropout) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("dropout takes 1 input, got %d", len(in))
	}
	if d.P < 0 || d.P >= 1 {
		return nil, fmt.Errorf("dropout p %g outside [0,1)", d.P)
	}
	return append([]int(nil), in[0]...), nil
}
func (d *Dropout) Params() []*Param { return nil }
func (d *Dropout) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	if !ctx.Train || d.P == 0 {
		return x, nil
	}
	mask := ctx.Alloc(x.Shape...)
	y := ctx.Alloc(x.Shape...)
	scale := 1 / (1 - d.P)
	for i := range mask.Data {
		if ctx.Rng.Float32() >= d.P {
			mask.Data[i] = scale
		} else {
			mask.Data[i] = 0
		}
		y.Data[i] = x.Data[i] * mask.Data[i]
	}
	return y, mask
}
func (d *Dropout) Backward(ctx *Ctx, cache any, _ []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	mask, ok := cache.(*tensor.Tensor)
	if !ok {
		return []*tensor.Tensor{dy}
	}
	dx := ctx.Alloc(dy.Shape...)
	for i, m := range mask.Data {
		dx.Data[i] = dy.Data[i] * m
	}
	return []*tensor.Tensor{dx}
}
