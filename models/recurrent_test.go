package models

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

// Parameter counts by hand. CORnet-RT per area: conv_input (in*out*k*k, + out for V1 only),
// two GroupNorms (2*2*out), conv1 (out*out*9, no bias); decoder 512*1000+1000: 46,592 + 221,696 +
// 885,760 + 3,540,992 + 513,000 (the reference, with conv_input biases in V2-IT, has 5,208,936). BLT at 32 channels, 3x3, 28 px:
// bottom-up 9*32+32 and 9*32*32+32, readout 32*7*7*10+10 = 25,258 (B unwidened); lateral adds
// 2*9*32*32, top-down 9*32*32.
var wantRecurrentParams = map[string]int{
	"cornet-rt": 5208040,
	"blt-bl":    25258 + 18432,
	"blt-bt":    25258 + 9216,
	"blt-blt":   25258 + 27648,
	"blt-b":     53308, // 54 channels: the width nearest BLT's 52,906
}

func TestRecurrentZoo(t *testing.T) {
	for name, want := range wantRecurrentParams {
		g, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(1); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if g.NumParams() != want {
			t.Errorf("%s: %d parameters, want %d", name, g.NumParams(), want)
		}
	}
	c, _ := Get("cornet-rt")
	c.Build(1)
	if c.Steps != 5 {
		t.Errorf("cornet-rt: %d steps, want 5", c.Steps)
	}
	for name, want := range map[string][]int{"V1": {64, 56, 56}, "V2": {128, 28, 28}, "V4": {256, 14, 14}, "IT": {512, 7, 7}, "decoder": {1000}} {
		if got := c.Node(name).Shape; !tensor.SameShape(got, want) {
			t.Errorf("cornet-rt %s: %v, want %v", name, got, want)
		}
	}
	// The parameter-matched B controls are within a few percent of BLT (B-K can only take odd
	// kernels, so it is the nearest of 5x5 and 7x7).
	blt, _ := BLT(BLTConfig{Variant: "blt"})
	blt.Build(1)
	for _, v := range []string{"b", "b-k"} {
		g, err := BLT(BLTConfig{Variant: v})
		if err != nil || g.Build(1) != nil {
			t.Fatal(v, err)
		}
		tol := 0.02
		if v == "b-k" {
			tol = 0.25
		}
		if r := float64(g.NumParams()) / float64(blt.NumParams()); r < 1-tol || r > 1+tol {
			t.Errorf("%s: %d parameters vs BLT's %d", v, g.NumParams(), blt.NumParams())
		}
		t.Logf("%s: %d parameters (%s channels, %s px kernels); BLT %d", v, g.NumParams(), g.Meta["channels"], g.Meta["kernel"], blt.NumParams())
	}
}

// BPTT gradients of small versions of every variant and of CORnet-RT agree with finite
// differences (through all time steps, into the input). Each is checked twice: as it is, where
// relu and max-pooling kinks let a few coordinates disagree, and as a smooth twin (tanh for
// relu, average for max pooling) where every coordinate must agree.
func TestRecurrentGradients(t *testing.T) {
	var graphs []func() *nn.Graph
	for _, v := range BLTVariants {
		graphs = append(graphs, func() *nn.Graph {
			g, err := BLT(BLTConfig{Variant: v, Channels: 3, InputSize: 8, Steps: 3, Classes: 3})
			if err != nil {
				t.Fatal(err)
			}
			return g
		})
	}
	graphs = append(graphs, func() *nn.Graph {
		g, err := CORnetRT(CORnetRTConfig{Channels: [4]int{2, 3, 3, 4}, Groups: 1, Steps: 4, InputSize: 32, InputChannels: 1, Classes: 3})
		if err != nil {
			t.Fatal(err)
		}
		return g
	})
	for _, mk := range graphs {
		for _, smooth := range []bool{false, true} {
			g := mk()
			if smooth {
				g.Name += "-smooth"
				for _, n := range g.Nodes {
					switch op := n.Op.(type) {
					case *nn.Activation:
						n.Op = &nn.Activation{Kind: "tanh"}
					case *nn.MaxPool2D:
						n.Op = &nn.AvgPool2D{Kernel: op.Kernel, Stride: op.Stride, Pad: op.Pad}
					}
				}
			}
			if err := g.Build(3); err != nil {
				t.Fatal(err)
			}
			jitter(g)
			nntest.CheckGraph(t, g, nntest.Opts{Kinky: !smooth, Samples: 12, Eps: 1e-3, RTol: 5e-2, ATol: 5e-3})
		}
	}
}

// jitter moves the parameters off their initialisation (zero biases, unit gains), whose ties
// put units exactly at relu's kink, as CheckOp does for single ops.
func jitter(g *nn.Graph) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, p := range g.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] += float32(rng.NormFloat64() * 0.1)
		}
	}
}

// Losses at every step (the BLT readout) back-propagate through time: a seed at an early step
// gives a gradient to the bottom-up weights; seeds at several steps add up.
func TestBLTSeedsAtEveryStep(t *testing.T) {
	g, _ := BLT(BLTConfig{Variant: "blt", Channels: 2, InputSize: 8, Steps: 4, Classes: 3})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(2, 1, 8, 8)
	for i := range x.Data {
		x.Data[i] = float32(i%7) / 7
	}
	grad := func(steps ...int) []float32 {
		g.ZeroGrad()
		tr, err := g.Forward(nn.NewCtx(true, 1), x)
		if err != nil {
			t.Fatal(err)
		}
		var seeds []nn.Seed
		for _, s := range steps {
			d := tensor.New(2, 3)
			d.Data[0], d.Data[4] = 1, -1
			seeds = append(seeds, nn.Seed{Node: "readout", Step: s, Grad: d})
		}
		if err := tr.BackwardSeeds(seeds...); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), g.Node("l1_b").Op.Params()[0].Grad.Data...)
	}
	a, b, ab := grad(0), grad(3), grad(0, 3)
	nonzero := false
	for i := range a {
		nonzero = nonzero || a[i] != 0
		if d := ab[i] - a[i] - b[i]; d > 1e-4 || d < -1e-4 {
			t.Fatalf("gradients of seeds at steps 0 and 3 do not add up at %d: %v vs %v + %v", i, ab[i], a[i], b[i])
		}
	}
	if !nonzero {
		t.Error("a loss at step 0 gives no gradient to l1_b")
	}
	// The lateral weights are not used at step 0, so a loss there does not reach them.
	g.ZeroGrad()
	grad(0)
	for _, v := range g.Node("l1_l").Op.Params()[0].Grad.Data {
		if v != 0 {
			t.Fatal("a loss at step 0 reached the lateral weights")
		}
	}
}

// Forward with keep returns every area's activation at every step; in CORnet-RT the image
// reaches area k (V1 = 0) at step k.
func TestCORnetRTActivations(t *testing.T) {
	g, err := CORnetRT(CORnetRTConfig{Channels: [4]int{4, 4, 4, 4}, Groups: 2, InputSize: 32, Classes: 5})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(2); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(2, 3, 32, 32)
	for i := range x.Data {
		x.Data[i] = float32((i*37)%11) / 11
	}
	tr, err := g.Forward(nil, x, "V1", "V2", "V4", "IT")
	if err != nil {
		t.Fatal(err)
	}
	for k, area := range []string{"V1", "V2", "V4", "IT"} {
		for s := 0; s < g.Steps; s++ {
			a := tr.OutAt(area, s)
			if a == nil || a.HasNaN() {
				t.Fatalf("%s at step %d: missing or NaN", area, s)
			}
			var sum float64
			for _, v := range a.Data {
				sum += float64(v)
			}
			if s < k && sum != 0 {
				t.Errorf("%s is active at step %d, before the image can reach it", area, s)
			}
			if s >= k && sum == 0 {
				t.Errorf("%s is silent at step %d", area, s)
			}
		}
	}
	if out := tr.Output(); !tensor.SameShape(out.Shape, []int{2, 5}) {
		t.Errorf("decoder output %v", out.Shape)
	}
}

func TestRecurrentBadInputs(t *testing.T) {
	for _, c := range []struct {
		cfg  BLTConfig
		want string
	}{
		{BLTConfig{Variant: "lt"}, "unknown variant"},
		{BLTConfig{Variant: "blt", Steps: 1}, "at least 2 time steps"},
		{BLTConfig{Variant: "bl", Steps: -1}, "must not be negative"},
		{BLTConfig{Variant: "b", Channels: -4}, "must not be negative"},
		{BLTConfig{Variant: "bt", InputSize: 27}, "even input size"},
		{BLTConfig{Variant: "b0", Kernel: 4}, "odd"},
		{BLTConfig{Variant: "b0", InputSize: 2}, "too small"},
	} {
		if _, err := BLT(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one mentioning %q", c.cfg, err, c.want)
		}
	}
	for _, c := range []struct {
		cfg  CORnetRTConfig
		want string
	}{
		{CORnetRTConfig{Steps: 3}, "at least 4"},
		{CORnetRTConfig{Steps: -1}, "must not be negative"},
		{CORnetRTConfig{InputSize: -224}, "must not be negative"},
		{CORnetRTConfig{Channels: [4]int{64, 100, 256, 512}}, "divisible"},
	} {
		if _, err := CORnetRT(c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one mentioning %q", c.cfg, err, c.want)
		}
	}
	if _, err := Build("blt-bl", Options{InputSize: -28}); err == nil {
		t.Error("negative input size accepted")
	}
}
