package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/tensor"
)

func init() {
	Register("relu", func() Op { return &Activation{Kind: "relu"} })
	Register("leaky_relu", func() Op { return &Activation{Kind: "leaky_relu", Slope: 0.01} })
	Register("sigmoid", func() Op { return &Activation{Kind: "sigmoid"} })
	Register("tanh", func() Op { return &Activation{Kind: "tanh"} })
}

// Activation is an elementwise nonlinearity: relu, leaky_relu (with Slope), sigmoid or tanh.
type Activation struct {
	Kind  string  `json:"-"`
	Slope float32 `json:"slope,omitempty"`
}

// ReLU, LeakyReLU, Sigmoid and Tanh construct the activations for Go-written models.
func ReLU() *Activation                   { return &Activation{Kind: "relu"} }
func LeakyReLU(slope float32) *Activation { return &Activation{Kind: "leaky_relu", Slope: slope} }
func Sigmoid() *Activation                { return &Activation{Kind: "sigmoid"} }
func Tanh() *Activation                   { return &Activation{Kind: "tanh"} }

func (a *Activation) Type() string { return a.Kind }
func (a *Activation) Build(in [][]int, _ *rand.Rand) ([]int, error) {
	if len(in) != 1 {
		return nil, fmt.Errorf("%s takes 1 input, got %d", a.Kind, len(in))
	}
	switch a.Kind {
	case "relu", "sigmoid", "tanh":
	case "leaky_relu":
		if a.Slope < 0 || a.Slope >= 1 {
			return nil, fmt.Errorf("leaky_relu slope %g outside [0,1)", a.Slope)
		}
	default:
		return nil, fmt.Errorf("unknown activation %q", a.Kind)
	}
	return append([]int(nil), in[0]...), nil
}
func (a *Activation) PartialShape(in [][]int) ([]int, bool) { return in[0], in[0] != nil }
func (a *Activation) Params() []*Param                      { return nil }

func (a *Activation) Forward(ctx *Ctx, in []*tensor.Tensor) (*tensor.Tensor, any) {
	x := in[0]
	y := ctx.Alloc(x.Shape...)
	xs, ys := x.Data, y.Data[:len(x.Data)]
	switch a.Kind {
	case "relu":
		tensor.ReluTo(ys, xs)
	case "leaky_relu":
		for i, v := range xs {
			if v < 0 {
				v *= a.Slope
			}
			ys[i] = v
		}
	case "sigmoid":
		for i, v := range xs {
			ys[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case "tanh":
		for i, v := range xs {
			ys[i] = float32(math.Tanh(float64(v)))
		}
	}
	return y, nil
}

func (a *Activation) Backward(ctx *Ctx, _ any, in []*tensor.Tensor, out, dy *tensor.Tensor, need []bool) []*tensor.Tensor {
	if !need[0] {
		return []*tensor.Tensor{nil}
	}
	dx := ctx.Alloc(dy.Shape...)
	d, g := dx.Data, dy.Data[:len(dx.Data)]
	switch a.Kind {
	case "relu":
		tensor.ReluGradTo(d, g, out.Data)
	case "leaky_relu":
		xs := in[0].Data[:len(d)]
		for i, v := range xs {
			if v < 0 {
				d[i] = g[i] * a.Slope
			} else {
				d[i] = g[i]
			}
		}
	case "sigmoid":
		ys := out.Data[:len(d)]
		for i, y := range ys {
			d[i] = g[i] * y * (1 - y)
		}
	case "tanh":
		ys := out.Data[:len(d)]
		for i, y := range ys {
			d[i] = g[i] * (1 - y*y)
		}
	}
	return []*tensor.Tensor{dx}
}

func sqrtf(n int) float64 { return math.Sqrt(float64(n)) }
