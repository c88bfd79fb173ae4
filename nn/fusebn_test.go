package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// Batchnorm after a plain and a grouped convolution with bias (one sample per GEMM, in column
// blocks), a convolution without bias (several samples per GEMM), a depthwise one, a sum and a
// dense layer (there with a fake_quant too); with and without an activation; and one it must
// not join: after a channel_affine (the epilogue has one affine slot).
const fuseBNSpec = `name: fusebn
input: [3, 48, 48]
layers:
  - {name: c1, type: conv2d, out: 8, kernel: 3, pad: 1}
  - {name: bn1, type: batchnorm}
  - {name: relu1, type: relu}
  - {name: g, type: conv2d, out: 8, kernel: 3, pad: 1, groups: 2}
  - {name: bn3, type: batchnorm, eps: 0.001}
  - {name: clip, type: clip, min: 0, max: 6}
  - {name: pool, type: maxpool2d, kernel: 2}
  - {name: c2, type: conv2d, out: 8, kernel: 3, pad: 1, no_bias: true}
  - {name: bn2, type: batchnorm}
  - {name: dw, type: conv2d, out: 16, kernel: 3, pad: 1, stride: 2, groups: 8}
  - {name: bn4, type: batchnorm, no_affine: true}
  - {name: r4, type: relu}
  - {name: c5, type: conv2d, out: 6, kernel: 1}
  - {name: ca, type: channel_affine, channels: 6}
  - {name: bn5, type: batchnorm}
  - {name: c6, type: conv2d, out: 6, kernel: 1, inputs: [r4]}
  - {name: sum, type: add, inputs: [bn5, c6]}
  - {name: bn6, type: batchnorm}
  - {name: gp, type: global_avgpool}
  - {name: fc1, type: dense, out: 10}
  - {name: bnd, type: batchnorm}
  - {name: rd, type: relu}
  - {name: q, type: fake_quant, scale: 0.05, zero_point: 3, qmin: 0, qmax: 255}
  - {name: fc2, type: dense, out: 4}
`

// randomizeBN gives every batchnorm random running statistics and the parameters noise (those
// of batchnorms only unless all), so that a fused layer that skipped or misapplied a step
// would show.
func randomizeBN(g *nn.Graph, seed uint64, all bool) {
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, n := range g.Nodes {
		if _, ok := n.Op.(*nn.BatchNorm); !ok && !all {
			continue
		}
		for _, p := range n.Op.Params() {
			for i := range p.Value.Data {
				p.Value.Data[i] += float32(rng.NormFloat64() * 0.3)
			}
		}
	}
	for k, b := range nn.GraphBuffers(g) {
		for i := range b.Data {
			if strings.HasSuffix(k, ".running_var") {
				b.Data[i] = float32(0.1 + 3*rng.Float64())
			} else {
				b.Data[i] = float32(rng.NormFloat64() * 0.5)
			}
		}
	}
}

// within1e5 fails unless every value of got is within 1e-5 relative of want (the issue's
// bound; the fused epilogue rounds as the separate layers do, so the values are in fact equal).
func within1e5(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*math.Abs(float64(want[i]))+1e-12 || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: value %d is %g, unfused %g", what, i, got[i], want[i])
		}
	}
}

// checkFusedMatches runs g unfused keeping every layer, then fused keeping each layer in turn,
// and compares the kept layer and the output.
func checkFusedMatches(t *testing.T, g *nn.Graph, x *tensor.Tensor, layers []string) {
	t.Helper()
	all := nn.NewCtx(false, 1)
	all.Backward = true // keeps every output, fuses nothing
	tr, err := g.Forward(all, x)
	if err != nil {
		t.Fatal(err)
	}
	ref := map[string][]float32{}
	for _, l := range g.LayerNames() {
		ref[l] = append([]float32(nil), tr.Out(l).Data...)
	}
	out := g.OutputName()
	noFuse := nn.NewCtx(false, 1)
	noFuse.NoFuse = true
	tr, err = g.Forward(noFuse, x)
	if err != nil {
		t.Fatal(err)
	}
	within1e5(t, "NoFuse output", tr.Output().Data, ref[out])
	for _, l := range append([]string{""}, layers...) {
		var keep []string
		if l != "" {
			keep = []string{l}
		}
		tr, err := g.Forward(nn.NewCtx(false, 1), x, keep...)
		if err != nil {
			t.Fatal(err)
		}
		within1e5(t, fmt.Sprintf("keeping %q: output", l), tr.Output().Data, ref[out])
		if l != "" {
			within1e5(t, fmt.Sprintf("keeping %q: the layer", l), tr.Out(l).Data, ref[l])
		}
	}
}

// Batchnorm in inference mode joins the epilogue of the convolution, sum or dense layer before
// it, and every output a caller can read stays within 1e-5 relative of the unfused pass;
// changed statistics are picked up on the next pass.
func TestFusionBatchNorm(t *testing.T) {
	g, err := nn.ParseSpec([]byte(fuseBNSpec), "fusebn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(4); err != nil {
		t.Fatal(err)
	}
	randomizeBN(g, 7, true)
	want := "[[c1 bn1 relu1] [g bn3 clip] [c2 bn2] [dw bn4 r4] [c5 ca] [sum bn6] [fc1 bnd rd q]]"
	if got := fmt.Sprint(nn.FusedChains(g)); got != want {
		t.Fatalf("fused chains %s, want %s", got, want)
	}
	want = "[[c1 bn1] [g bn3 clip] [dw bn4 r4] [c5 ca] [sum bn6] [fc1 bnd rd q]]"
	if got := fmt.Sprint(nn.FusedChains(g, "bn1", "c2")); got != want {
		t.Fatalf("keeping bn1 and c2: chains %s, want %s", got, want)
	}
	x := randN(rand.New(rand.NewPCG(8, 8)), 1, 3, 3, 48, 48)
	checkFusedMatches(t, g, x, g.LayerNames())

	// New statistics and weights (a load, a training step) reach the next fused pass.
	bufs := nn.GraphBuffers(g)
	for _, k := range []string{"bn1.running_mean", "bnd.running_var", "bn2.running_var"} {
		for i := range bufs[k].Data {
			bufs[k].Data[i] += 0.5
		}
	}
	before, _ := g.Forward(nn.NewCtx(false, 1), x, "bn2")
	old := append([]float32(nil), before.Out("bn2").Data...)
	g.Node("bn2").Op.Params()[0].Value.Data[0] *= -2
	after, _ := g.Forward(nn.NewCtx(false, 1), x, "bn2")
	if relDiff(after.Out("bn2").Data, old) == 0 {
		t.Fatal("a changed batchnorm weight did not change the fused output")
	}
	checkFusedMatches(t, g, x, []string{"bn2", "rd"})
}

// A zoo ResNet end to end: every batchnorm fuses, and the logits and the readable stage outputs
// stay within 1e-5 relative of the unfused pass.
func TestFusionBatchNormResNet(t *testing.T) {
	g, err := models.Get("resnet18-cifar-w16")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(2); err != nil {
		t.Fatal(err)
	}
	randomizeBN(g, 9, false)
	fused := map[string]bool{}
	for _, c := range nn.FusedChains(g) {
		for _, l := range c[1:] {
			fused[l] = true
		}
	}
	bns := 0
	for _, n := range g.Nodes {
		if _, ok := n.Op.(*nn.BatchNorm); ok {
			bns++
			if !fused[n.Name] {
				t.Errorf("batchnorm %s is not fused", n.Name)
			}
		}
	}
	if bns < 10 {
		t.Fatalf("only %d batchnorm layers in %s", bns, g.Name)
	}
	x := randN(rand.New(rand.NewPCG(3, 3)), 1, 2, 3, 32, 32)
	checkFusedMatches(t, g, x, []string{"layer1_0_bn1", "layer2_0_downsample_1", "layer3_1", "layer4_1_conv2"})
}
