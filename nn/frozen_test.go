package nn_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// Frozen nodes: the backward pass skips them when nothing upstream needs a gradient, which
// changes no trained parameter's gradient; an input gradient still flows through them.
func TestFrozenBackward(t *testing.T) {
	spec := `
name: f
input: [2, 6, 6]
layers:
  - {name: c1, type: conv2d, out: 3, kernel: 3, pad: 1}
  - {name: r1, type: relu}
  - {name: c2, type: conv2d, out: 3, kernel: 3}
  - {name: flat, type: flatten}
  - {name: fc, type: dense, out: 2}
`
	rng := rand.New(rand.NewPCG(3, 4))
	x := randT(rng, 2, 2, 6, 6)
	run := func(frozen, inputGrad bool) (*nn.Graph, *tensor.Tensor) {
		g, err := nn.ParseSpec([]byte(spec), "f")
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(9); err != nil {
			t.Fatal(err)
		}
		g.Node("c1").Frozen = frozen
		g.Node("r1").Frozen = frozen
		tr, err := g.Forward(nn.NewCtx(true, 1), x)
		if err != nil {
			t.Fatal(err)
		}
		if inputGrad {
			tr.WantInputGrad()
		}
		d := tensor.New(tr.Output().Shape...)
		for i := range d.Data {
			d.Data[i] = float32(i%3) - 1
		}
		if err := tr.Backward(d); err != nil {
			t.Fatal(err)
		}
		return g, tr.InputGrad()
	}
	full, _ := run(false, false)
	fast, _ := run(true, false)
	for i, p := range fast.Params() {
		q := full.Params()[i]
		zero := !slices.ContainsFunc(p.Grad.Data, func(v float32) bool { return v != 0 })
		switch p.Name {
		case "c1.weight", "c1.bias":
			if !zero || !slices.ContainsFunc(q.Grad.Data, func(v float32) bool { return v != 0 }) {
				t.Errorf("%s: frozen gradient zero %v (want true), unfrozen one nonzero", p.Name, zero)
			}
		default:
			if !slices.Equal(p.Grad.Data, q.Grad.Data) {
				t.Errorf("%s: gradient changed by freezing the layers before it", p.Name)
			}
		}
	}
	_, a := run(false, true)
	_, b := run(true, true)
	if a == nil || b == nil || !slices.Equal(a.Data, b.Data) {
		t.Error("the input gradient changed when layers are frozen")
	}
}
