// Package nntest checks ops and graphs against finite differences. Every layer's test calls
// CheckOp; recurrent graphs use CheckGraph to verify backpropagation through time. Both run the
// whole check at every kernel level the CPU offers (tensor.AvailableKernelLevels: AVX2 assembly
// and pure Go on amd64), so each layer's gradients are checked on every code path.
package nntest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// Opts tunes a gradient check. Zero values take the defaults in brackets.
type Opts struct {
	Batch   int     // [2]
	Eps     float64 // finite-difference step [1e-2]
	RTol    float64 // relative tolerance [2e-2]
	ATol    float64 // absolute tolerance [2e-3]
	Samples int     // coordinates checked per tensor [40]
	// Kinky allows up to 5% of coordinates to disagree (ops with kinks such as relu and max,
	// where a finite step may cross the kink).
	Kinky bool
	Train bool // run in training mode
	Seed  uint64
	// Inputs, when set, replaces random inputs (with batch axis).
	Inputs []*tensor.Tensor
}

func (o *Opts) defaults() {
	if o.Batch == 0 {
		o.Batch = 2
	}
	if o.Eps == 0 {
		o.Eps = 1e-2
	}
	if o.RTol == 0 {
		o.RTol = 2e-2
	}
	if o.ATol == 0 {
		o.ATol = 2e-3
	}
	if o.Samples == 0 {
		o.Samples = 40
	}
	if o.Seed == 0 {
		o.Seed = 7
	}
}

// CheckOp builds op for the per-sample input shapes and compares its analytic gradients (inputs
// and parameters) with central finite differences of L = sum(out * R) for a random R.
func CheckOp(t testing.TB, op nn.Op, inShapes [][]int, o Opts) {
	t.Helper()
	o.defaults()
	pcg := rand.NewPCG(o.Seed, 1)
	rng := rand.New(pcg)
	outShape, err := op.Build(inShapes, rng)
	if err != nil {
		t.Fatalf("%s: Build(%v): %v", op.Type(), inShapes, err)
	}
	// Make parameters less symmetric than their initialisation (zero biases, unit gains).
	for _, p := range op.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] += float32(rng.NormFloat64() * 0.1)
		}
	}
	ins := o.Inputs
	if ins == nil {
		for _, s := range inShapes {
			x := tensor.New(append([]int{o.Batch}, s...)...)
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			ins = append(ins, x)
		}
	}
	r := tensor.New(append([]int{ins[0].Shape[0]}, outShape...)...)
	for i := range r.Data {
		r.Data[i] = float32(rng.NormFloat64())
	}
	loss := func() float64 {
		ctx := nn.NewCtx(o.Train, o.Seed)
		out, _ := op.Forward(ctx, ins)
		if !tensor.SameShape(out.Shape, r.Shape) {
			t.Fatalf("%s: output shape %v, Build said %v", op.Type(), out.Shape, r.Shape)
		}
		var s float64
		for i, v := range out.Data {
			s += float64(v) * float64(r.Data[i])
		}
		return s
	}
	atEachLevel(t, pcg, func(level string) {
		for _, p := range op.Params() {
			p.Grad.Zero()
		}
		ctx := nn.NewCtx(o.Train, o.Seed)
		out, cache := op.Forward(ctx, ins)
		need := make([]bool, len(ins))
		for i := range need {
			need[i] = true
		}
		din := op.Backward(ctx, cache, ins, out, r, need)
		if len(din) != len(ins) {
			t.Fatalf("%s%s: Backward returned %d input gradients for %d inputs", op.Type(), level, len(din), len(ins))
		}
		var targets []target
		for k, x := range ins {
			if din[k] == nil {
				t.Fatalf("%s%s: Backward returned no gradient for input %d", op.Type(), level, k)
			}
			targets = append(targets, target{fmt.Sprintf("input %d", k), x, din[k].Clone()})
		}
		for _, p := range op.Params() {
			targets = append(targets, target{p.Name, p.Value, p.Grad.Clone()})
		}
		compare(t, op.Type()+level, targets, loss, rng, o)
	})
}

// atEachLevel runs check at every kernel level the CPU offers, the best first, with the random
// source rewound to its current state each time (the same coordinates are checked at every
// level), and restores the kernel level afterwards. check gets " [kernels=NAME]" for messages.
func atEachLevel(t testing.TB, src *rand.PCG, check func(level string)) {
	t.Helper()
	state, err := src.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	saved := tensor.CurrentKernelLevel()
	defer func() {
		if err := tensor.SetKernelLevel(saved); err != nil {
			t.Error(err)
		}
	}()
	for _, l := range tensor.AvailableKernelLevels() {
		if err := tensor.SetKernelLevel(l); err != nil {
			t.Fatal(err)
		}
		if err := src.UnmarshalBinary(state); err != nil {
			t.Fatal(err)
		}
		check(" [kernels=" + l.String() + "]")
	}
}

// CheckGraph compares a built graph's parameter and input gradients (through all time steps)
// with finite differences of L = sum(output * R).
func CheckGraph(t testing.TB, g *nn.Graph, o Opts) {
	t.Helper()
	o.defaults()
	pcg := rand.NewPCG(o.Seed, 2)
	rng := rand.New(pcg)
	x := tensor.New(append([]int{o.Batch}, g.InputShape...)...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	var r *tensor.Tensor
	loss := func() float64 {
		tr, err := g.Forward(nn.NewCtx(o.Train, o.Seed), x)
		if err != nil {
			t.Fatal(err)
		}
		out := tr.Output()
		if r == nil {
			r = tensor.New(out.Shape...)
			for i := range r.Data {
				r.Data[i] = float32(rng.NormFloat64())
			}
		}
		var s float64
		for i, v := range out.Data {
			s += float64(v) * float64(r.Data[i])
		}
		return s
	}
	loss()
	atEachLevel(t, pcg, func(level string) {
		g.ZeroGrad()
		ctx := nn.NewCtx(o.Train, o.Seed)
		ctx.Backward = true
		tr, err := g.Forward(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		tr.WantInputGrad()
		if err := tr.Backward(r); err != nil {
			t.Fatal(err)
		}
		targets := []target{{"input", x, tr.InputGrad().Clone()}}
		for _, p := range g.Params() {
			targets = append(targets, target{p.Name, p.Value, p.Grad.Clone()})
		}
		compare(t, g.Name+level, targets, loss, rng, o)
	})
}

type target struct {
	name string
	x    *tensor.Tensor
	grad *tensor.Tensor
}

func compare(t testing.TB, what string, targets []target, loss func() float64, rng *rand.Rand, o Opts) {
	t.Helper()
	checked, bad, nonFinite := 0, 0, 0
	var firstBad, firstNonFinite string
	for _, tg := range targets {
		n := tg.x.Len()
		idx := rng.Perm(n)
		if len(idx) > o.Samples {
			idx = idx[:o.Samples]
		}
		for _, i := range idx {
			orig := tg.x.Data[i]
			tg.x.Data[i] = orig + float32(o.Eps)
			lp := loss()
			tg.x.Data[i] = orig - float32(o.Eps)
			lm := loss()
			tg.x.Data[i] = orig
			num := (lp - lm) / (2 * o.Eps)
			ana := float64(tg.grad.Data[i])
			checked++
			if math.IsNaN(num) || math.IsInf(num, 0) || math.IsNaN(ana) || math.IsInf(ana, 0) {
				// Never within tolerance (a NaN compared false with it and passed), nor a kink.
				nonFinite++
				if firstNonFinite == "" {
					firstNonFinite = fmt.Sprintf("%s[%d]: analytic %.6g, numeric %.6g", tg.name, i, ana, num)
				}
				continue
			}
			if !(math.Abs(num-ana) <= o.ATol+o.RTol*math.Max(math.Abs(num), math.Abs(ana))) {
				bad++
				if firstBad == "" {
					firstBad = fmt.Sprintf("%s[%d]: analytic %.6g, numeric %.6g", tg.name, i, ana, num)
				}
			}
		}
	}
	allowed := 0
	if o.Kinky {
		allowed = checked / 20
	}
	if nonFinite > 0 {
		t.Errorf("%s: %d of %d gradient coordinates are not finite; first: %s", what, nonFinite, checked, firstNonFinite)
	}
	if bad > allowed {
		t.Errorf("%s: %d of %d gradient coordinates disagree with finite differences; first: %s", what, bad, checked, firstBad)
	}
	if checked == 0 {
		t.Errorf("%s: no gradient coordinates checked", what)
	}
}
