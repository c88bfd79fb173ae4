package models

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
)

// tinyCNN: conv(4, 3x3, pad 1) relu maxpool2 conv(6, 3x3) relu flatten dense(3), on 2x8x8.
func tinyCNN() *nn.Graph {
	g := &nn.Graph{Name: "tiny", InputShape: []int{2, 8, 8}}
	g.Chain("conv1", conv(4, 3, 1, 1)).Chain("relu1", nn.ReLU()).Chain("pool1", maxpool(2, 2, 0)).
		Chain("conv2", conv(6, 3, 1, 0)).Chain("relu2", nn.ReLU()).
		Chain("flatten", nn.Flatten{}).Chain("fc", &nn.Dense{Out: 3})
	return g
}

func types(g *nn.Graph) map[string]string {
	m := map[string]string{}
	for _, n := range g.Nodes {
		m[n.Name] = n.Op.Type()
	}
	return m
}

func mustConstrain(t *testing.T, g *nn.Graph, c Constraints) *nn.Graph {
	t.Helper()
	h, err := Constrain(g, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Build(3); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestConstrainUnshared(t *testing.T) {
	base := tinyCNN()
	if err := base.Build(1); err != nil {
		t.Fatal(err)
	}
	g := mustConstrain(t, base, Constraints{Unshared: true})
	ty := types(g)
	if ty["conv1"] != "local2d" || ty["conv2"] != "local2d" || ty["pool1"] != "maxpool2d" {
		t.Fatalf("types %v", ty)
	}
	for _, n := range base.Nodes {
		if !tensor.SameShape(n.Shape, g.Node(n.Name).Shape) {
			t.Errorf("%s: shape %v, want %v", n.Name, g.Node(n.Name).Shape, n.Shape)
		}
	}
	// conv1: 64 positions x 4 x 2*9 weights + 4*8*8 biases; conv2: 2*2 positions x 6 x 4*9 + 6*2*2;
	// fc 6*2*2*3 + 3.
	want := 64*4*18 + 4*64 + 4*6*36 + 6*4 + 24*3 + 3
	if g.NumParams() != want {
		t.Errorf("unshared params %d, want %d", g.NumParams(), want)
	}
	if g.Name != "tiny+unshared" || g.Meta["constraints"] != "unshared" || IsRandom(g) {
		t.Errorf("name %q meta %v", g.Name, g.Meta)
	}
	if base.Name != "tiny" || types(base)["conv1"] != "conv2d" {
		t.Error("Constrain changed its input")
	}
}

func TestConstrainAvgPoolAndRandom(t *testing.T) {
	g := mustConstrain(t, tinyCNN(), Constraints{AvgPool: true, Random: true})
	if ty := types(g); ty["pool1"] != "avgpool2d" || ty["conv1"] != "conv2d" {
		t.Fatalf("types %v", ty)
	}
	if !IsRandom(g) || g.Meta["constraints"] != "avgpool,random" || g.Name != "tiny+avgpool+random" {
		t.Errorf("name %q meta %v", g.Name, g.Meta)
	}
	// The result is a spec-file model: its spec reads back to the same weights.
	y, err := g.SpecYAML()
	if err != nil {
		t.Fatal(err)
	}
	g2, err := nn.ParseSpec(y, "roundtrip")
	if err != nil {
		t.Fatal(err)
	}
	if err := g2.Build(3); err != nil {
		t.Fatal(err)
	}
	d1, _ := g.Digest()
	d2, _ := g2.Digest()
	if d1 != d2 || !IsRandom(g2) {
		t.Error("spec round trip changed the constrained model")
	}
}

func TestConstrainDale(t *testing.T) {
	base := tinyCNN()
	base.Build(1)
	g := mustConstrain(t, base, Constraints{Dale: true, InhibitoryFraction: 0.5})
	ty := types(g)
	for name, want := range map[string]string{"conv1_exc": "conv2d", "conv1_inh": "conv2d", "conv1_inhr": "relu",
		"conv1_inh2e": "conv2d", "conv1": "add", "relu1": "relu", "conv2": "add"} {
		if ty[name] != want {
			t.Errorf("%s: %s, want %s", name, ty[name], want)
		}
	}
	for _, n := range base.Nodes {
		if !tensor.SameShape(n.Shape, g.Node(n.Name).Shape) {
			t.Errorf("%s: shape %v, want %v", n.Name, g.Node(n.Name).Shape, n.Shape)
		}
	}
	if s := g.Node("conv1_inh").Shape; !tensor.SameShape(s, []int{2, 8, 8}) { // ceil(0.5*4)
		t.Errorf("conv1_inh shape %v", s)
	}
	// conv1: exc 4*2*9+4, inh 2*2*9+2, inh2e 4*2; conv2: exc 6*4*9+6, inh 3*4*9+3, inh2e 6*3; fc 75.
	want := (76 + 38 + 8) + (222 + 111 + 18) + 75
	if g.NumParams() != want {
		t.Errorf("dale params %d, want %d", g.NumParams(), want)
	}
	checkSigns := func(when string) {
		for _, p := range g.Params() {
			if !strings.HasSuffix(p.Name, ".weight") || strings.HasPrefix(p.Name, "fc.") {
				continue
			}
			neg := strings.Contains(p.Name, "_inh2e.")
			for _, v := range p.Value.Data {
				if (neg && v > 0) || (!neg && v < 0) {
					t.Fatalf("%s: %s has weight %g of the wrong sign", when, p.Name, v)
				}
			}
		}
	}
	checkSigns("after init")
	// One large Adam step from a random gradient pushes many weights across zero; the
	// constraints must hold afterwards.
	x := tensor.New(8, 2, 8, 8)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	ctx := nn.NewCtx(true, 1)
	ctx.Backward = true
	g.ZeroGrad()
	tr, err := g.Forward(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	_, d, _, err := nn.SoftmaxCrossEntropy(tr.Output(), []int{0, 1, 2, 0, 1, 2, 0, 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Backward(d); err != nil {
		t.Fatal(err)
	}
	opt, _ := optim.New(optim.Config{Name: "adam", LR: 0.5})
	if _, err := opt.Step(g.Params(), 0.5); err != nil {
		t.Fatal(err)
	}
	checkSigns("after an optimizer step")
	var zeros int
	for _, v := range g.Node("conv1_exc").Op.Params()[0].Value.Data {
		if v == 0 {
			zeros++
		}
	}
	if zeros == 0 {
		t.Error("no excitatory weight was clamped at 0: the step did not test the constraint")
	}
}

func TestConstrainDaleUnsharedAvgPool(t *testing.T) {
	g := mustConstrain(t, tinyCNN(), Constraints{Dale: true, Unshared: true, AvgPool: true})
	ty := types(g)
	if ty["conv1_exc"] != "local2d" || ty["conv1_inh"] != "local2d" || ty["conv1_inh2e"] != "local2d" || ty["pool1"] != "avgpool2d" {
		t.Fatalf("types %v", ty)
	}
	if g.Node("conv2_inh").Shape[0] != 1 { // ceil(0.1*6)
		t.Errorf("conv2_inh shape %v", g.Node("conv2_inh").Shape)
	}
}

func TestConstrainedGradients(t *testing.T) {
	for _, c := range []Constraints{{Unshared: true}, {Dale: true, InhibitoryFraction: 0.5}, {AvgPool: true},
		{Dale: true, Unshared: true, AvgPool: true}} {
		t.Run(c.String(), func(t *testing.T) {
			g := mustConstrain(t, tinyCNN(), c)
			nntest.CheckGraph(t, g, nntest.Opts{Kinky: true, Seed: 5, Eps: 1e-3})
		})
	}
	// A residual block with batchnorm under Dale (the add after bn and the skip), in training mode
	// (batch statistics), as ResNets train.
	g := &nn.Graph{Name: "res", InputShape: []int{3, 6, 6}}
	g.Chain("conv1", conv(4, 3, 1, 1)).Chain("bn1", &nn.BatchNorm{}).Chain("relu1", nn.ReLU()).
		Chain("conv2", conv(4, 3, 1, 1)).Chain("bn2", &nn.BatchNorm{})
	g.Add("add", nn.Add{}, "bn2", "relu1").Chain("relu2", nn.ReLU()).Chain("gap", &nn.GlobalAvgPool{}).Chain("fc", &nn.Dense{Out: 2})
	d := mustConstrain(t, g, Constraints{Dale: true, InhibitoryFraction: 0.5})
	nntest.CheckGraph(t, d, nntest.Opts{Kinky: true, Seed: 6, Batch: 3, Eps: 1e-3, Train: true})
}

func TestConstrainErrors(t *testing.T) {
	alex, _ := Get("alexnet")
	if _, err := Constrain(alex, Constraints{Unshared: true}); err == nil || !strings.Contains(err.Error(), "groups") {
		t.Errorf("unshared on grouped convs: %v", err)
	}
	mlp := &nn.Graph{Name: "mlp", InputShape: []int{4}}
	mlp.Chain("fc1", &nn.Dense{Out: 3}).Chain("relu", nn.ReLU()).Chain("fc2", &nn.Dense{Out: 2})
	for _, c := range []Constraints{{Dale: true}, {Unshared: true}, {AvgPool: true}} {
		if _, err := Constrain(mlp, c); err == nil || !strings.Contains(err.Error(), "no ") {
			t.Errorf("%s on an MLP: %v", c, err)
		}
	}
	if _, err := Constrain(mlp, Constraints{Random: true}); err != nil {
		t.Errorf("random on an MLP: %v", err)
	}
	gabor, _ := Get("gabor-v1")
	if _, err := Constrain(gabor, Constraints{Dale: true}); err == nil {
		t.Error("dale on fixed Gabor filters: no error")
	}
	if _, err := Constrain(tinyCNN(), Constraints{Dale: true, InhibitoryFraction: 2}); err == nil {
		t.Error("inhibitory fraction 2: no error")
	}
	if _, err := ParseConstraints("dale,lateral"); err == nil || !strings.Contains(err.Error(), "lateral") {
		t.Errorf("unknown switch: %v", err)
	}
	c, err := ParseConstraints(" Dale, avgpool ,random,unshared")
	if err != nil || c.String() != "unshared,dale,avgpool,random" {
		t.Errorf("ParseConstraints: %v %v", c, err)
	}
}

func TestConstrainZooModels(t *testing.T) {
	for _, name := range []string{"lenet5", "cifar-cnn", "cornet-z", "resnet18-cifar"} {
		g, _ := Get(name)
		cs := []Constraints{{Dale: true}, {AvgPool: true}}
		if name == "resnet18-cifar" {
			cs = cs[:1] // no max-pooling in the CIFAR stem
		}
		for _, c := range cs {
			h, err := Constrain(g, c)
			if err != nil {
				t.Errorf("%s %s: %v", name, c, err)
				continue
			}
			if err := h.Build(1); err != nil {
				t.Errorf("%s %s: %v", name, c, err)
			}
		}
	}
}

func TestResNet18(t *testing.T) {
	g, err := Get("resnet18")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	// The published count of torchvision's resnet18 (1000 classes).
	if n := g.NumParams(); n != 11689512 {
		t.Errorf("resnet18: %d parameters, want 11,689,512", n)
	}
	for name, want := range map[string][]int{"maxpool": {64, 56, 56}, "layer1_1": {64, 56, 56}, "layer2_0": {128, 28, 28},
		"layer4_1": {512, 7, 7}, "fc": {1000}} {
		if s := g.Node(name).Shape; !tensor.SameShape(s, want) {
			t.Errorf("resnet18 %s: %v, want %v", name, s, want)
		}
	}
	for _, name := range []string{"resnet18-cifar", "resnet18"} {
		c, err := Build(name, Options{InputSize: 32})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Build(1); err != nil {
			t.Fatal(err)
		}
		if c.Node("maxpool") != nil || !tensor.SameShape(c.Node("layer4_1").Shape, []int{512, 4, 4}) {
			t.Errorf("%s at 32 px: layer4 %v", name, c.Node("layer4_1").Shape)
		}
		classes := 10 // the CIFAR stem defaults to CIFAR-10's classes
		// The CIFAR stem has 3*3*3*64 weights instead of 7*7*3*64.
		if want := 11689512 - 64*3*49 + 64*3*9 - 513*(1000-classes); c.NumParams() != want {
			t.Errorf("%s at 32 px: %d parameters, want %d", name, c.NumParams(), want)
		}
	}
}

// meanStd gives the mean and standard deviation of every element of t.
func meanStd(t *tensor.Tensor) (mean, std float64) {
	for _, v := range t.Data {
		mean += float64(v)
	}
	mean /= float64(len(t.Data))
	for _, v := range t.Data {
		std += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, math.Sqrt(std / float64(len(t.Data)))
}

// At initialisation a Dale layer's inhibition must cancel its excitation on average (Cornford
// et al. 2021), leaving a pre-activation centred like a He-initialised layer's, with a spread of
// the same order; the excitatory drive alone is far from centred.
func TestDaleInitBalanced(t *testing.T) {
	base, _ := Get("cifar-cnn")
	if err := base.Build(3); err != nil {
		t.Fatal(err)
	}
	g := mustConstrain(t, base, Constraints{Dale: true})
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	x := tensor.New(16, 3, 32, 32)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	keep := []string{"conv2", "conv2_exc", "conv3", "conv3_exc", "conv4", "conv4_exc"}
	trD, err := g.Forward(nn.NewCtx(false, 16), x, keep...)
	if err != nil {
		t.Fatal(err)
	}
	trB, err := base.Forward(nn.NewCtx(false, 16), x, "conv2", "conv3", "conv4")
	if err != nil {
		t.Fatal(err)
	}
	for _, layer := range []string{"conv2", "conv3", "conv4"} {
		m, s := meanStd(trD.Out(layer))
		me, _ := meanStd(trD.Out(layer + "_exc"))
		_, sb := meanStd(trB.Out(layer))
		t.Logf("%s: dale mean %.3f std %.3f (excitation alone mean %.3f); unconstrained He std %.3f", layer, m, s, me, sb)
		// Inhibition must cancel at least 90% of the mean excitation, and leave a pre-activation
		// that straddles zero. (It is not exact: the inhibitory population's weights are drawn
		// independently of the excitatory ones, so its mean drive has a sampling error of about
		// 1/sqrt(nI*fanIn).)
		if math.Abs(m) > 0.1*me || math.Abs(m) > s {
			t.Errorf("%s: mean %.3g is not balanced (excitation alone %.3g, std %.3g)", layer, m, me, s)
		}
		if me < 2*s {
			t.Errorf("%s: excitation alone has mean %.3g, std of the balanced sum %.3g: the test does not see the balance", layer, me, s)
		}
		if s < sb/4 || s > 4*sb {
			t.Errorf("%s: std %.3g is not of the order of the He-initialised layer's %.3g", layer, s, sb)
		}
	}
}

// A grouped convolution gets one inhibitory population per group (AlexNet's two halves).
func TestDaleGrouped(t *testing.T) {
	alex, _ := Get("alexnet")
	g := mustConstrain(t, alex, Constraints{Dale: true})
	l := g.Node("conv2_inh").Op.(*nn.Conv2D)
	back := g.Node("conv2_inh2e").Op.(*nn.Conv2D)
	if l.Groups != 2 || back.Groups != 2 || l.Out%2 != 0 || l.Out < 26 {
		t.Errorf("conv2 inhibition: groups %d and %d, %d channels; want 2, 2 and an even count >= ceil(0.1*256)", l.Groups, back.Groups, l.Out)
	}
}

// The random control of a quantized network leaves out its simulated quantisation and rewires
// the consumers, including a default (previous-layer) input and the graph output.
func TestRandomDropsFakeQuant(t *testing.T) {
	spec := `
name: q
input: [1, 4, 4]
output: q3
layers:
  - {name: q0, type: fake_quant, scale: 0.1, zero_point: 0, qmin: 0, qmax: 255}
  - {name: c1, type: conv2d, out: 2, kernel: 3}
  - {name: q1, type: fake_quant, inputs: [c1], scale: 0.1, zero_point: 0, qmin: 0, qmax: 255}
  - {name: r1, type: relu}
  - {name: q2, type: fake_quant, scale: 0.1, zero_point: 0, qmin: 0, qmax: 255}
  - {name: a, type: add, inputs: [q2, q1]}
  - {name: q3, type: fake_quant, scale: 0.1, zero_point: 0, qmin: 0, qmax: 255}
`
	g, err := nn.ParseSpec([]byte(spec), "q")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Constrain(g, Constraints{Random: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Build(1); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, n := range r.Nodes {
		types = append(types, n.Op.Type())
	}
	if strings.Join(types, ",") != "conv2d,relu,add" || r.OutputName() != "a" {
		t.Fatalf("layers %v, output %s", types, r.OutputName())
	}
	if in := r.Node("c1").Inputs; len(in) != 1 || in[0] != "input" {
		t.Fatalf("c1 inputs %v", in)
	}
	if in := r.Node("r1").Inputs; len(in) != 1 || in[0] != "c1" {
		t.Fatalf("r1 inputs %v", in)
	}
	if in := r.Node("a").Inputs; len(in) != 2 || in[0] != "r1" || in[1] != "c1" {
		t.Fatalf("add inputs %v", in)
	}
}
