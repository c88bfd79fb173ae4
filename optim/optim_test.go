package optim

import (
	"math"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

func param(name string, decay bool, vals ...float32) *nn.Param {
	p := nn.NewParam(name, decay, len(vals))
	copy(p.Value.Data, vals)
	return p
}

func near(t *testing.T, what string, got float32, want float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > 1e-6*math.Max(1, math.Abs(want)) {
		t.Fatalf("%s = %.9g, want %.9g", what, got, want)
	}
}

// run applies steps updates, setting the gradient before each from grads[step].
func run(t *testing.T, cfg Config, p *nn.Param, lr float64, grads ...float32) []float32 {
	t.Helper()
	o, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []float32
	for _, g := range grads {
		p.Grad.Data[0] = g
		if _, err := o.Step([]*nn.Param{p}, lr); err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Value.Data[0])
	}
	return out
}

// Expected values below are worked by hand from torch.optim.SGD's documented update
// (dampening 0): b1 = g1; bt = mu*b(t-1) + gt; p -= lr*b (or lr*(g + mu*b) for Nesterov).
func TestSGDHand(t *testing.T) {
	// plain: p = 1 - 0.1*1 = 0.9, then 0.9 - 0.1*(-2) = 1.1
	got := run(t, Config{Name: "sgd", LR: 0.1}, param("w", true, 1), 0.1, 1, -2)
	near(t, "sgd step 1", got[0], 0.9)
	near(t, "sgd step 2", got[1], 1.1)
	// momentum 0.9, g = 1 each step: b = 1, 1.9, 2.71; p = 0.9, 0.71, 0.439
	got = run(t, Config{Name: "sgd", LR: 0.1, Momentum: 0.9}, param("w", true, 1), 0.1, 1, 1, 1)
	for i, w := range []float64{0.9, 0.71, 0.439} {
		near(t, "momentum", got[i], w)
	}
	// Nesterov: b = 1, 1.9; steps g + 0.9b = 1.9, 2.71; p = 0.81, 0.539
	got = run(t, Config{Name: "sgd", LR: 0.1, Momentum: 0.9, Nesterov: true}, param("w", true, 1), 0.1, 1, 1)
	near(t, "nesterov 1", got[0], 0.81)
	near(t, "nesterov 2", got[1], 0.539)
	// L2 decay 0.1 on a decayed param: g = 1 + 0.1*1 = 1.1, p = 0.89; a bias (Decay false) gets 0.9.
	got = run(t, Config{Name: "sgd", LR: 0.1, WeightDecay: 0.1}, param("w", true, 1), 0.1, 1)
	near(t, "sgd decay", got[0], 0.89)
	got = run(t, Config{Name: "sgd", LR: 0.1, WeightDecay: 0.1}, param("b", false, 1), 0.1, 1)
	near(t, "sgd no decay on bias", got[0], 0.9)
}

// Adam and AdamW against torch.optim.Adam / AdamW's documented algorithm (amsgrad off).
func TestAdamHand(t *testing.T) {
	// Step 1, g = 1: m = 0.1, v = 0.001; m/(1-0.9) = 1, sqrt(v/(1-0.999)) = 1; p = 1 - 0.1*1/(1+1e-8).
	// Step 2, g = -2: m = 0.09 - 0.2 = -0.11, v = 0.000999 + 0.004 = 0.004999,
	// mhat = -0.11/0.19, vhat = 0.004999/0.001999, p = p1 - 0.1*mhat/(sqrt(vhat)+1e-8).
	got := run(t, Config{Name: "adam", LR: 0.1}, param("w", true, 1), 0.1, 1, -2)
	p1 := 1 - 0.1/(1+1e-8)
	near(t, "adam step 1", got[0], p1)
	p2 := float64(got[0]) - 0.1*(-0.11/0.19)/(math.Sqrt(0.004999/0.001999)+1e-8)
	near(t, "adam step 2", got[1], p2) // = 0.93661...
	near(t, "adam step 2 literal", got[1], 0.936610)

	// Adam with L2 0.5: g = 1 + 0.5 = 1.5; normalised step is still lr: p = 0.9. Step 2 with
	// g = 0 + 0.5*0.9 = 0.45: m = 0.135+0.045 = 0.18, v = 0.0022478 + 0.0002025 = 0.0024502...
	got = run(t, Config{Name: "adam", LR: 0.1, WeightDecay: 0.5}, param("w", true, 1), 0.1, 1, 0)
	near(t, "adam l2 step 1", got[0], 0.9)
	m := 0.9*0.15 + 0.1*0.45
	v := 0.999*0.00225 + 0.001*0.45*0.45
	near(t, "adam l2 step 2", got[1], 0.9-0.1*(m/0.19)/(math.Sqrt(v/0.001999)+1e-8))

	// AdamW, decoupled decay 0.1: p = 1*(1-0.1*0.1) = 0.99, then the Adam step of 0.1: 0.89.
	got = run(t, Config{Name: "adamw", LR: 0.1, WeightDecay: 0.1}, param("w", true, 1), 0.1, 1)
	near(t, "adamw step 1", got[0], 0.99-0.1/(1+1e-8))
	got = run(t, Config{Name: "adamw", LR: 0.1, WeightDecay: 0.1}, param("b", false, 1), 0.1, 1)
	near(t, "adamw bias", got[0], 0.9)
}

func TestClipGradNorm(t *testing.T) {
	a, b := param("a", true, 0), param("b", true, 0)
	a.Grad.Data[0], b.Grad.Data[0] = 3, 4
	n := ClipGradNorm([]*nn.Param{a, b}, 1)
	if n != 5 {
		t.Fatalf("norm %v, want 5", n)
	}
	near(t, "clipped a", a.Grad.Data[0], 0.6)
	near(t, "clipped b", b.Grad.Data[0], 0.8)
	// Under the limit: untouched.
	ClipGradNorm([]*nn.Param{a, b}, 10)
	near(t, "unclipped a", a.Grad.Data[0], 0.6)
	// Through the optimizer: SGD lr 1 with clip 1 moves the params by the clipped gradient.
	a.Value.Data[0], b.Value.Data[0] = 0, 0
	a.Grad.Data[0], b.Grad.Data[0] = 30, 40
	o, _ := New(Config{Name: "sgd", LR: 1, ClipNorm: 1})
	norm, err := o.Step([]*nn.Param{a, b}, 1)
	if err != nil || norm != 50 {
		t.Fatalf("step: norm %v err %v", norm, err)
	}
	near(t, "a", a.Value.Data[0], -0.6)
	near(t, "b", b.Value.Data[0], -0.8)
}

func TestConstraint(t *testing.T) {
	p := param("w", true, 0.05, 1)
	p.Constraint = nn.NonNeg{}
	p.Grad.Data[0], p.Grad.Data[1] = 1, 1
	o, _ := New(Config{Name: "sgd", LR: 0.1})
	if _, err := o.Step([]*nn.Param{p}, 0.1); err != nil {
		t.Fatal(err)
	}
	if p.Value.Data[0] != 0 {
		t.Fatalf("constraint not applied: %v", p.Value.Data)
	}
	near(t, "free", p.Value.Data[1], 0.9)
}

func TestStateRoundTrip(t *testing.T) {
	for _, cfg := range []Config{{Name: "sgd", Momentum: 0.9, Nesterov: true}, {Name: "adam"}, {Name: "adamw", WeightDecay: 0.01}} {
		mk := func() []*nn.Param { return []*nn.Param{param("l.weight", true, 1, -2, 3), param("l.bias", false, 0.5)} }
		grads := func(ps []*nn.Param, s int) {
			for i, p := range ps {
				for j := range p.Grad.Data {
					p.Grad.Data[j] = float32(math.Sin(float64(s*7 + i*3 + j)))
				}
			}
		}
		a := mk()
		oa, _ := New(cfg)
		for s := 0; s < 3; s++ {
			grads(a, s)
			oa.Step(a, 0.01)
		}
		// Copy weights and state into a fresh optimizer, continue both, compare bits.
		b := mk()
		for i := range a {
			copy(b[i].Value.Data, a[i].Value.Data)
		}
		ob, _ := New(cfg)
		st := oa.State()
		st["l.weight"] = tensor.New(3) // unrelated tensors are ignored
		if err := ob.LoadState(st, b); err != nil {
			t.Fatal(err)
		}
		if ob.Steps() != 3 {
			t.Fatalf("steps %d", ob.Steps())
		}
		for s := 3; s < 6; s++ {
			grads(a, s)
			grads(b, s)
			oa.Step(a, 0.01)
			ob.Step(b, 0.01)
		}
		for i := range a {
			for j := range a[i].Value.Data {
				if a[i].Value.Data[j] != b[i].Value.Data[j] {
					t.Fatalf("%s: %s[%d] %v != %v after restore", cfg.Name, a[i].Name, j, a[i].Value.Data[j], b[i].Value.Data[j])
				}
			}
		}
		// Mismatched shapes and foreign buffers are errors.
		bad := oa.State()
		for k, v := range bad {
			if k != StatePrefix+"step" {
				bad[k] = tensor.New(v.Len() + 1)
				break
			}
		}
		if err := ob.LoadState(bad, b); err == nil {
			t.Fatalf("%s: wrong shape accepted", cfg.Name)
		}
	}
	o, _ := New(Config{Name: "adam"})
	if err := o.LoadState(map[string]*tensor.Tensor{"optim/step": tensor.New(1), "optim/x.momentum_buffer": tensor.New(1)}, []*nn.Param{param("x", true, 0)}); err == nil {
		t.Fatal("adam accepted an sgd buffer")
	}
}

// Each optimizer minimises f(p) = 0.5 * sum a_i (p_i - c_i)^2.
func TestConvergeQuadratic(t *testing.T) {
	a := []float64{1, 4, 0.25}
	c := []float64{3, -1, 0.5}
	for _, cfg := range []Config{
		{Name: "sgd", LR: 0.2},
		{Name: "sgd", LR: 0.05, Momentum: 0.9},
		{Name: "sgd", LR: 0.05, Momentum: 0.9, Nesterov: true},
		{Name: "adam", LR: 0.05},
		{Name: "adamw", LR: 0.05},
	} {
		p := param("w", false, 0, 0, 0)
		o, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		sched := Schedule{Kind: "cosine", Floor: 0}
		const steps = 1500
		for s := 0; s < steps; s++ {
			for i := range a {
				p.Grad.Data[i] = float32(a[i] * (float64(p.Value.Data[i]) - c[i]))
			}
			o.Step([]*nn.Param{p}, sched.LR(cfg.LR, s, 100, steps))
		}
		for i := range c {
			if math.Abs(float64(p.Value.Data[i])-c[i]) > 1e-2 {
				t.Fatalf("%v: p = %v, want %v", cfg, p.Value.Data, c)
			}
		}
	}
}

func TestSchedules(t *testing.T) {
	const spe, total = 10, 100
	cases := []struct {
		s    Schedule
		step int
		want float64
	}{
		{Schedule{}, 57, 0.1},
		{Schedule{Kind: "step", StepEpochs: 3, Gamma: 0.5}, 29, 0.1},  // epoch 2
		{Schedule{Kind: "step", StepEpochs: 3, Gamma: 0.5}, 30, 0.05}, // epoch 3
		{Schedule{Kind: "step", StepEpochs: 3, Gamma: 0.5}, 65, 0.025},
		{Schedule{Kind: "cosine"}, 0, 0.1},
		{Schedule{Kind: "cosine"}, 50, 0.05},
		{Schedule{Kind: "cosine", Floor: 0.01}, 50, 0.055},
		{Schedule{Kind: "cosine", Floor: 0.01}, 100, 0.01},
		{Schedule{Kind: "cosine"}, 25, 0.05 * (1 + math.Sqrt2/2)},
		{Schedule{WarmupSteps: 10}, 0, 0.01},
		{Schedule{WarmupSteps: 10}, 4, 0.05},
		{Schedule{WarmupSteps: 10}, 10, 0.1},
		// cosine after a warm-up of 20: the 80 remaining steps anneal; step 60 is half-way.
		{Schedule{Kind: "cosine", WarmupSteps: 20}, 9, 0.1 * 10 / 20},
		{Schedule{Kind: "cosine", WarmupSteps: 20}, 60, 0.05},
		{Schedule{Kind: "step", StepEpochs: 1, Gamma: 0.1, WarmupSteps: 20}, 14, 0.1 * 0.1 * 15 / 20},
	}
	for _, c := range cases {
		got := c.s.LR(0.1, c.step, spe, total)
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%v at step %d: %v, want %v", c.s, c.step, got, c.want)
		}
	}
	for _, text := range []string{"constant", "step:30:0.1", "cosine", "cosine:0.0001", "cosine,warmup=500", "step:5:0.5,warmup=10"} {
		s, err := ParseSchedule(text)
		if err != nil {
			t.Fatal(err)
		}
		if s.String() != text {
			t.Errorf("ParseSchedule(%q).String() = %q", text, s.String())
		}
	}
	for _, bad := range []string{"linear", "step", "step:x", "cosine:a", "cosine,warm=3", "step:0"} {
		if _, err := ParseSchedule(bad); err == nil {
			t.Errorf("ParseSchedule(%q) accepted", bad)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{{Name: "rmsprop"}, {LR: -1}, {Momentum: 1}, {Name: "adam", Nesterov: true}, {WeightDecay: -1}} {
		if _, err := New(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	o, _ := New(Config{})
	if c := o.Config(); c.Name != "sgd" || c.LR != 0.01 {
		t.Errorf("defaults: %+v", c)
	}
}
