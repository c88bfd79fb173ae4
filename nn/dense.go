package nn

import (
	"fmt"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("dense", func() Op { return &Dense{} })
	Register("flatten", func() Op { return &Flatten{} })
}

// Dense is a fully connected layer: y = x W^T + b, with W of shape [Out, In]
// (PyTorch's layout, so weights exchange without transposition). Inputs of rank > 1 per sample
// are flattened.
type Dense struct {
	Out        int    `json:"out"`
	NoBias     bool   `json:"no_bias,omitempty"`
	Init       string `json:"init,omitempty"`
	Constraint string `json:"constraint,omitempty"`

	w, b *Param
	in   int
}

func (d *Dense) Type() string { return "dense" }

func (d *Dense) Build(in [][]int, rng *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("dense takes 1 input, got %d", len(in))
	}
	if d.Out <= 0 {
		return nil, fmt.Errorf("out must be positive, got %d", d.Out)
	}
	d.in = tensor.Numel(in[0])
	d.w = NewParam("weight", true, d.Out, d.in)
	if err := InitWeights(d.w.Value, d.Init, d.in, d.Out, rng); err != nil {
		return nil, err
	}
	c, err := ConstraintByName(d.Constraint)
	if err != nil {
		return nil, err
	}
	d.w.Constraint = c
	if c != nil {
		c.Apply(d.w.Value)
	}
	d.b = nil
	if !d.NoBias {
		d.b = NewParam("bias", false, d.Out)
		if d.Init == "torch" {
			fillUniform(d.b.Value, 1/sqrtf(d.in), rng)
		}
	}
	return []int{d.Out}, nil
}

func (d *Dense) Params() []*Param {
	if d.b == nil {
		return []*Param{d.w}
	}
	return []*Param{d.w, d.b}
}

func (d *Dense) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	n := x.Shape[0]
	y := ctx.Alloc(n, d.Out)
	if d.b != nil {
		for i := 0; i < n; i++ {
			copy(y.Data[i*d.Out:(i+1)*d.Out], d.b.Value.Data)
		}
		tensor.SgemmNT(n, d.Out, d.in, x.Data, d.in, d.w.Value.Data, d.in, 1, y.Data, d.Out)
	} else {
		tensor.SgemmNT(n, d.Out, d.in, x.Data, d.in, d.w.Value.Data, d.in, 0, y.Data, d.Out)
	}
	return y, nil
}

// forwardFused applies ep to each output row after the bias (see Graph.Forward's fusion).
func (d *Dense) forwardFused(ctx *Ctx, in []*tensor.Tensor, ep *epilogue) *tensor.Tensor {
	y, _ := d.Forward(ctx, in)
	ep.applyCols(y.Data, d.Out)
	return y
}

func (d *Dense) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	x := in[0]
	n := x.Shape[0]
	// dW += dy^T x ; db += sum dy ; dx = dy W
	tensor.Sgemm(true, false, d.Out, d.in, n, 1, dy.Data, d.Out, x.Data, d.in, 1, d.w.Grad.Data, d.in)
	if d.b != nil {
		g := d.b.Grad.Data
		for i := 0; i < n; i++ {
			tensor.Axpy(1, dy.Data[i*d.Out:(i+1)*d.Out], g)
		}
	}
	fw, ok := d.w.feedback()
	if !need[0] || !ok {
		return []*tensor.Tensor{nil}
	}
	dx := ctx.Alloc(x.Shape...)
	tensor.Sgemm(false, false, n, d.in, d.Out, 1, dy.Data, d.Out, fw, d.in, 0, dx.Data, d.in)
	return []*tensor.Tensor{dx}
}

// Flatten reshapes each sample to a vector (sharing storage).
type Flatten struct{}

func (Flatten) Type() string { return "flatten" }
func (Flatten) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("flatten takes 1 input, got %d", len(in))
	}
	return []int{tensor.Numel(in[0])}, nil
}
func (Flatten) Params() []*Param { return nil }
func (Flatten) Forward(_ *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	return x.Reshape(x.Shape[0], x.Len()/x.Shape[0]), nil
}
func (Flatten) Backward(_ *Ctx, _ any, in []*tensor.Tensor, _, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	return []*tensor.Tensor{dy.Reshape(in[0].Shape...)}
}
