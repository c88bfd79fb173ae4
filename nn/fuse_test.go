package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// A MobileNetV2-style block and a quantized residual sum, plus the cases fusion must leave
// alone: a relu whose input has two consumers, a broadcasting add, and a leaky relu.
const fuseSpec = `name: fuse
input: [4, 12, 12]
layers:
  - {name: expand, type: conv2d, out: 12, kernel: 1}
  - {name: bn1, type: channel_affine, channels: 12}
  - {name: relu6a, type: clip, min: 0, max: 6}
  - {name: q1, type: fake_quant, scale: 0.05, zero_point: 0, qmin: 0, qmax: 255}
  - {name: dw, type: conv2d, out: 12, kernel: 3, pad: 1, stride: 2, groups: 12}
  - {name: relu6b, type: clip, min: 0, max: 6}
  - {name: project, type: conv2d, out: 6, kernel: 1, no_bias: true}
  - {name: bn2, type: channel_affine, channels: 6}
  - {name: q2, type: fake_quant, scale: 0.01, zero_point: 128, qmin: 0, qmax: 255}
  - {name: wide, type: conv2d, out: 6, kernel: 3, pad: 1}
  - {name: r, type: relu}
  - {name: sum, type: add, inputs: [wide, r]}
  - {name: sr, type: relu}
  - {name: sq, type: fake_quant, scale: 0.02, zero_point: 100, qmin: 0, qmax: 255}
  - {name: k, type: constant, shape: [6, 1, 1], inputs: [input]}
  - {name: bsum, type: add, inputs: [sq, k]}
  - {name: bsr, type: relu}
  - {name: dw2, type: conv2d, out: 12, kernel: 3, pad: 1, groups: 6, inputs: [bsr]}
  - {name: lr, type: leaky_relu}
  - {name: gp, type: global_avgpool}
`

func fuseGraph(t testing.TB) *nn.Graph {
	return jitteredGraph(t, fuseSpec, "fuse.yaml", 3, rand.New(rand.NewPCG(5, 5)), 0.3)
}

// jitteredGraph parses spec (named file in errors), builds it with seed and adds Gaussian noise
// of standard deviation sd from rng to every parameter, so that no scale is 1 and no shift 0.
func jitteredGraph(t testing.TB, spec, file string, seed uint64, rng *rand.Rand, sd float64) *nn.Graph {
	g, err := nn.ParseSpec([]byte(spec), file)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(seed); err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] += float32(rng.NormFloat64() * sd)
		}
	}
	return g
}

// Fused inference gives the unfused outputs bit for bit (simulated quantisation included), on
// the chains expected, and a layer the caller keeps is neither fused away nor altered.
func TestFusionMatchesUnfused(t *testing.T) {
	g := fuseGraph(t)
	chains := fmt.Sprint(nn.FusedChains(g))
	if want := "[[expand bn1 relu6a q1] [dw relu6b] [project bn2 q2] [sum sr sq]]"; chains != want {
		t.Fatalf("fused chains %s, want %s", chains, want)
	}
	if got := fmt.Sprint(nn.FusedChains(g, "bn1", "dw")); got != "[[expand bn1] [project bn2 q2] [sum sr sq]]" {
		t.Fatalf("keeping bn1 and dw: chains %s", got)
	}
	x := randN(rand.New(rand.NewPCG(6, 6)), 2, 3, 4, 12, 12)
	ref := map[string]*tensor.Tensor{}
	ctx := nn.NewCtx(false, 1)
	ctx.Backward = true // keep every output
	tr, err := g.Forward(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range g.LayerNames() {
		ref[l] = tr.Out(l).Clone()
	}
	for _, keep := range [][]string{nil, {"bn1", "dw"}, {"relu6b", "bn2"}, {"q1"}} {
		tr, err := g.Forward(nn.NewCtx(false, 1), x, keep...)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range append([]string{"gp"}, keep...) {
			if r := relDiff(tr.Out(l).Data, ref[l].Data); r != 0 {
				t.Errorf("keep %v: layer %s differs from the unfused pass by %.2g", keep, l, r)
			}
		}
	}
	noFuse := nn.NewCtx(false, 1)
	noFuse.NoFuse = true
	a, _ := g.Forward(noFuse, x)
	if r := relDiff(a.Output().Data, ref["gp"].Data); r != 0 {
		t.Errorf("NoFuse differs from the kept-everything pass by %.2g", r)
	}
}

// BenchmarkFusion runs a MobileNetV2 bottleneck (expand 24->144 1x1 + BN + ReLU6, depthwise 3x3 +
// BN + ReLU6, project 144->24 1x1 + BN) on 56x56 maps, batch 16, with and without fusion.
func BenchmarkFusion(b *testing.B) {
	g := &nn.Graph{Name: "block", InputShape: []int{24, 56, 56}}
	g.Chain("expand", &nn.Conv2D{Out: 144, Kernel: nn.Dims{1}}).Chain("bn1", &nn.ChannelAffine{Channels: 144}).Chain("r1", nn.ReLU6()).
		Chain("dw", &nn.Conv2D{Out: 144, Kernel: nn.Dims{3}, Pad: nn.Dims{1}, Groups: 144}).Chain("bn2", &nn.ChannelAffine{Channels: 144}).Chain("r2", nn.ReLU6()).
		Chain("project", &nn.Conv2D{Out: 24, Kernel: nn.Dims{1}}).Chain("bn3", &nn.ChannelAffine{Channels: 24})
	if err := g.Build(1); err != nil {
		b.Fatal(err)
	}
	x := randN(rand.New(rand.NewPCG(1, 1)), 1, 16, 24, 56, 56)
	for _, fuse := range []bool{false, true} {
		b.Run(map[bool]string{false: "unfused", true: "fused"}[fuse], func(b *testing.B) {
			ctx := nn.NewCtx(false, 1)
			ctx.NoFuse = !fuse
			c0 := cpuNow()
			for b.Loop() {
				if _, err := g.Forward(ctx, x); err != nil {
					b.Fatal(err)
				}
				ctx.Reset()
			}
			b.ReportMetric(float64(cpuNow()-c0)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}

// A layer nothing asked for is not computed at inference, and does not stop the fusion of the
// layers it reads; asked for, it is computed and exact.
func TestDeadLayersSkipped(t *testing.T) {
	g := &nn.Graph{Name: "dead", InputShape: []int{2, 6, 6}}
	g.Chain("c", &nn.Conv2D{Out: 3, Kernel: nn.Dims{3}}).Chain("q", &nn.FakeQuant{Scale: 0.1, Qmin: -128, Qmax: 127}).
		Chain("view", &nn.ChannelAffine{Channels: 3}).
		Add("c2", &nn.Conv2D{Out: 2, Kernel: nn.Dims{1}}, "q").Chain("gp", &nn.GlobalAvgPool{})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	copy(g.Node("view").Op.(*nn.ChannelAffine).Weight().Value.Data, []float32{0.1, 0.2, 0.3})
	if got := fmt.Sprint(nn.FusedChains(g)); got != "[[c q]]" {
		t.Errorf("chains %s, want [[c q]] (the unread view must not block fusion)", got)
	}
	if got := fmt.Sprint(nn.FusedChains(g, "view")); got != "[[c q]]" {
		t.Errorf("keeping view: chains %s, want [[c q]] (q, the chain's end, may have two readers)", got)
	}
	if got := fmt.Sprint(nn.FusedChains(g, "c")); got != "[]" {
		t.Errorf("keeping c: chains %s, want none", got)
	}
	x := randN(rand.New(rand.NewPCG(2, 2)), 1, 2, 2, 6, 6)
	all := nn.NewCtx(false, 1)
	all.Backward = true
	ref, _ := g.Forward(all, x)
	tr, _ := g.Forward(nn.NewCtx(false, 1), x)
	if tr.Out("view") != nil {
		t.Error("an unread layer was computed")
	}
	if relDiff(tr.Output().Data, ref.Output().Data) != 0 {
		t.Error("skipping an unread layer changed the output")
	}
	tr, _ = g.Forward(nn.NewCtx(false, 1), x, "view")
	if v := tr.Out("view"); v == nil || relDiff(v.Data, ref.Out("view").Data) != 0 {
		t.Error("a kept layer is missing or differs")
	}
}

// A convolution computed in column blocks (bias or fused epilogue applied per block) gives the
// outputs of one GEMM over all positions bit for bit: pointwise and 3x3 layers large enough to
// run one sample per GEMM, fused and unfused, with blocks that do not divide the positions.
func TestConvColumnBlocks(t *testing.T) {
	const spec = `name: blocks
input: [5, 50, 50]
layers:
  - {name: pw, type: conv2d, out: 7, kernel: 1}
  - {name: s, type: channel_affine, channels: 7}
  - {name: q, type: fake_quant, scale: 1, zero_point: 3, qmin: 0, qmax: 255}
  - {name: full, type: conv2d, out: 6, kernel: 3, pad: 1}
  - {name: r, type: relu}
  - {name: gp, type: global_avgpool}
`
	rng := rand.New(rand.NewPCG(7, 7))
	g := jitteredGraph(t, spec, "blocks.yaml", 4, rng, 3)
	x := randN(rng, 3, 3, 5, 50, 50)
	run := func(block int, fuse bool) map[string][]float32 {
		defer nn.SetConvColBlock(block)()
		ctx := nn.NewCtx(false, 1)
		ctx.NoFuse = !fuse
		tr, err := g.Forward(ctx, x, "q", "r")
		if err != nil {
			t.Fatal(err)
		}
		return map[string][]float32{"q": tr.Out("q").Clone().Data, "r": tr.Out("r").Clone().Data}
	}
	ref := run(1<<30, false)
	var levels int
	for _, v := range ref["q"] {
		if v != 0 && v != 252 && v != -3 {
			levels++
		}
	}
	if levels < len(ref["q"])/4 {
		t.Fatalf("only %d of %d quantized outputs inside the range: the test checks little", levels, len(ref["q"]))
	}
	for _, block := range []int{1 << 30, 7 * 64, 6 * 200} {
		for _, fuse := range []bool{false, true} {
			got := run(block, fuse)
			for _, l := range []string{"q", "r"} {
				if r := relDiff(got[l], ref[l]); r != 0 {
					t.Errorf("block %d fused %v: layer %s differs by %.2g", block, fuse, l, r)
				}
			}
		}
	}
}

// Convolutions on integer levels with integer weights (an imported quantized network) run on
// the exact integer GEMM: the same outputs, bit for bit, as the float GEMM (whose sums are
// exact below 2^24), for a pointwise, a strided 3x3 and a 1x1 layer fed with non-integers
// (which must fall back to the float GEMM), fused and not.
func TestIntGemmMatchesFloat(t *testing.T) {
	const spec = `name: qconv
input: [3, 40, 40]
layers:
  - {name: full, type: conv2d, out: 16, kernel: 3, stride: 2, pad: 1}
  - {name: rq1, type: channel_affine, channels: 16}
  - {name: q1, type: fake_quant, scale: 1, zero_point: 0, qmin: 0, qmax: 255}
  - {name: pw, type: conv2d, out: 24, kernel: 1}
  - {name: rq2, type: channel_affine, channels: 24}
  - {name: q2, type: fake_quant, scale: 1, zero_point: 5, qmin: 0, qmax: 255}
  - {name: real, type: channel_affine, channels: 24}
  - {name: pwf, type: conv2d, out: 8, kernel: 1}
`
	g, err := nn.ParseSpec([]byte(spec), "qconv.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(4); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	for _, l := range []string{"full", "pw", "pwf"} {
		for _, p := range g.Node(l).Op.Params() {
			for i := range p.Value.Data {
				p.Value.Data[i] = float32(rng.IntN(255) - 127) // integer weights and biases
			}
		}
	}
	set := func(l string, w, b float32) {
		ca := g.Node(l).Op.(*nn.ChannelAffine)
		for i := range ca.Weight().Value.Data {
			ca.Weight().Value.Data[i], ca.Bias().Value.Data[i] = w*(1+float32(i)/64), b
		}
	}
	set("rq1", 1.0/1500, 0)
	set("rq2", 1.0/100, 0)
	set("real", 0.37, 0.1) // real values: pwf's input is not integer
	x := tensor.New(2, 3, 40, 40)
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(256) - 128) // input levels
	}
	run := func(intGemm, fuse bool) map[string][]float32 {
		defer nn.SetIntGemm(intGemm)()
		ctx := nn.NewCtx(false, 1)
		ctx.NoFuse = !fuse
		tr, err := g.Forward(ctx, x, "q1", "q2", "pwf")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]float32{}
		for _, l := range []string{"q1", "q2", "pwf"} {
			out[l] = tr.Out(l).Clone().Data
		}
		return out
	}
	ref := run(false, false)
	for _, l := range []string{"q1", "q2"} {
		distinct := map[float32]bool{}
		for _, v := range ref[l] {
			distinct[v] = true
		}
		if len(distinct) < 30 {
			t.Fatalf("layer %s takes only %d distinct levels: the test checks little", l, len(distinct))
		}
	}
	for _, fuse := range []bool{false, true} {
		got := run(true, fuse)
		for _, l := range []string{"q1", "q2", "pwf"} {
			if r := relDiff(got[l], ref[l]); r != 0 {
				t.Errorf("fused %v: layer %s differs from the float GEMM by %.2g", fuse, l, r)
			}
		}
	}
}

// Where the float GEMM's sums pass 2^24 and round, the integer GEMM stays exact: a 1x1
// convolution over 600 channels of levels up to 1000 gives float32(exact int64 sum) + bias,
// which also shows that the integer path ran.
func TestIntGemmExactBeyondFloat(t *testing.T) {
	const c, hw = 600, 7
	g := &nn.Graph{Name: "big", InputShape: []int{c, hw, hw}}
	g.Chain("pw", &nn.Conv2D{Out: 5, Kernel: nn.Dims{1}})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	cv := g.Node("pw").Op.(*nn.Conv2D)
	w, b := cv.Weight().Value.Data, cv.Bias().Value.Data
	for i := range w {
		w[i] = float32(rng.IntN(2001) - 1000)
	}
	for i := range b {
		b[i] = float32(rng.IntN(255) - 127)
	}
	x := tensor.New(1, c, hw, hw)
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(2001) - 1000)
	}
	forward := func() []float32 {
		tr, err := g.Forward(nn.NewCtx(false, 1), x)
		if err != nil {
			t.Fatal(err)
		}
		return tr.Output().Clone().Data
	}
	got := forward()
	restore := nn.SetIntGemm(false)
	flt := forward()
	restore()
	inexact := 0
	for o := 0; o < 5; o++ {
		for p := 0; p < hw*hw; p++ {
			var s int64
			for ci := 0; ci < c; ci++ {
				s += int64(w[o*c+ci]) * int64(x.Data[ci*hw*hw+p])
			}
			want := float32(s) + b[o]
			if got[o*hw*hw+p] != want {
				t.Fatalf("output %d,%d: %g, want %g (exact sum %d)", o, p, got[o*hw*hw+p], want, s)
			}
			if flt[o*hw*hw+p] != want {
				inexact++
			}
		}
	}
	if inexact == 0 {
		t.Error("the float GEMM was exact too: the test shows nothing")
	}
	t.Logf("float GEMM off the exact sums at %d of %d outputs", inexact, 5*hw*hw)
}

// TestIntGemmWeightsChange checks that the integer weights packed by one forward pass are not
// reused once the weights change: in place (an optimizer step), through a new tensor (Load),
// or to values that are not levels (the float path). Each output is checked against exact
// int64 sums.
func TestIntGemmWeightsChange(t *testing.T) {
	const c, hw, out = 40, 9, 7
	g := &nn.Graph{Name: "pw", InputShape: []int{c, hw, hw}}
	g.Chain("pw", &nn.Conv2D{Out: out, Kernel: nn.Dims{1}, NoBias: true})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(10, 10))
	cv := g.Node("pw").Op.(*nn.Conv2D)
	for i := range cv.Weight().Value.Data {
		cv.Weight().Value.Data[i] = float32(rng.IntN(255) - 127)
	}
	x := tensor.New(2, c, hw, hw)
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(255) - 127)
	}
	check := func(what string) {
		t.Helper()
		tr, err := g.Forward(nn.NewCtx(false, 1), x)
		if err != nil {
			t.Fatal(err)
		}
		w, y := cv.Weight().Value.Data, tr.Output().Data
		for s := 0; s < 2; s++ {
			for o := 0; o < out; o++ {
				for p := 0; p < hw*hw; p++ {
					var sum float64
					for ci := 0; ci < c; ci++ {
						sum += float64(w[o*c+ci]) * float64(x.Data[(s*c+ci)*hw*hw+p])
					}
					if got := y[(s*out+o)*hw*hw+p]; got != float32(sum) {
						t.Fatalf("%s: sample %d output %d,%d: %g, want %g", what, s, o, p, got, sum)
					}
				}
			}
		}
	}
	check("first pass")
	if !nn.HasPackedLevels(cv) {
		t.Fatal("the integer weights were not kept after a forward pass")
	}
	check("second pass (packed weights reused)")
	cv.Weight().Value.Data[3*c+5] += 9 // one weight, in place
	check("after a weight changed in place")
	nw := cv.Weight().Value.Clone()
	for i := range nw.Data {
		nw.Data[i] = float32(rng.IntN(255) - 127)
	}
	cv.Weight().Value = nw
	check("after the weight tensor was replaced")
	cv.Weight().Value.Data[0] = 0.5 // not a level: the float GEMM, exact here too
	check("after a weight stopped being a level")
	if nn.HasPackedLevels(cv) {
		t.Error("packed weights kept for weights that are not levels")
	}
}

// TestIntGemmOneSampleSplit checks that one sample's integer GEMM, split over two threads,
// gives the float GEMM's outputs bit for bit (sums below 2^24 are exact in both), with the
// requantization fused (full, pw) and without (pwf), and that the split happens.
func TestIntGemmOneSampleSplit(t *testing.T) {
	const spec = `name: qconv1
input: [3, 96, 96]
layers:
  - {name: full, type: conv2d, out: 16, kernel: 3, stride: 1, pad: 1}
  - {name: rq1, type: channel_affine, channels: 16}
  - {name: q1, type: fake_quant, scale: 1, zero_point: 0, qmin: 0, qmax: 255}
  - {name: pw, type: conv2d, out: 24, kernel: 1}
  - {name: rq2, type: channel_affine, channels: 24}
  - {name: q2, type: fake_quant, scale: 1, zero_point: 5, qmin: 0, qmax: 255}
  - {name: pwf, type: conv2d, out: 40, kernel: 1}
`
	g, err := nn.ParseSpec([]byte(spec), "qconv1.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(4); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 11))
	for _, l := range []string{"full", "pw", "pwf"} {
		for _, p := range g.Node(l).Op.Params() {
			for i := range p.Value.Data {
				p.Value.Data[i] = float32(rng.IntN(255) - 127)
			}
		}
	}
	for _, l := range []string{"rq1", "rq2"} {
		ca := g.Node(l).Op.(*nn.ChannelAffine)
		for i := range ca.Weight().Value.Data {
			ca.Weight().Value.Data[i], ca.Bias().Value.Data[i] = (1+float32(i)/64)/1500, 0
		}
	}
	x := tensor.New(1, 3, 96, 96)
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(256) - 128)
	}
	run := func(intGemm bool, threads int) map[string][]float32 {
		defer nn.SetIntGemm(intGemm)()
		defer tensor.SetThreads(tensor.Threads())
		tensor.SetThreads(threads)
		tr, err := g.Forward(nn.NewCtx(false, 1), x, "q1", "q2", "pwf")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]float32{}
		for _, l := range []string{"q1", "q2", "pwf"} {
			out[l] = tr.Out(l).Clone().Data
		}
		return out
	}
	ref := run(false, 1)
	s0 := nn.IntGemmSplits()
	for _, threads := range []int{1, 2, 3} {
		got := run(true, threads)
		for l, want := range ref {
			for i := range want {
				if got[l][i] != want[i] {
					t.Fatalf("%d threads: %s[%d] = %g, float GEMM %g", threads, l, i, got[l][i], want[i])
				}
			}
		}
	}
	if n := nn.IntGemmSplits() - s0; n < 6 {
		t.Errorf("%d integer GEMMs split over threads, want the 3 layers' at 2 and at 3 threads", n)
	}
}

// TestIntGemmLeftoverColumns checks the pointwise convolutions whose output maps (14x14, 7x7)
// end in a partial 16-column strip: the columns left over of all a thread's samples run as
// one integer GEMM, requantization fused (q) and not (pwf), and give the float GEMM's outputs
// bit for bit at 1 and 2 threads; with a fraction among the leftover columns the samples fall
// back and still agree.
func TestIntGemmLeftoverColumns(t *testing.T) {
	for _, hw := range []int{14, 7} {
		spec := fmt.Sprintf(`name: qpw
input: [40, %d, %d]
layers:
  - {name: pw, type: conv2d, out: 20, kernel: 1}
  - {name: rq, type: channel_affine, channels: 20}
  - {name: q, type: fake_quant, scale: 1, zero_point: 3, qmin: 0, qmax: 255}
  - {name: pwf, type: conv2d, out: 7, kernel: 1}
`, hw, hw)
		g, err := nn.ParseSpec([]byte(spec), "qpw.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(4); err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(12, uint64(hw)))
		for _, l := range []string{"pw", "pwf"} {
			for _, p := range g.Node(l).Op.Params() {
				for i := range p.Value.Data {
					p.Value.Data[i] = float32(rng.IntN(255) - 127)
				}
			}
		}
		ca := g.Node("rq").Op.(*nn.ChannelAffine)
		for i := range ca.Weight().Value.Data {
			ca.Weight().Value.Data[i], ca.Bias().Value.Data[i] = (1+float32(i)/64)/1500, 0
		}
		x := tensor.New(5, 40, hw, hw)
		for i := range x.Data {
			x.Data[i] = float32(rng.IntN(256) - 128)
		}
		run := func(intGemm bool, threads int, split bool) map[string][]float32 {
			defer nn.SetIntGemm(intGemm)()
			defer tensor.SetThreads(tensor.Threads())
			tensor.SetThreads(threads)
			ctx := nn.NewCtx(false, 1)
			ctx.NoSplit = !split // the counts below are those of layers split over the threads
			tr, err := g.Forward(ctx, x, "q", "pwf")
			if err != nil {
				t.Fatal(err)
			}
			return map[string][]float32{"q": tr.Out("q").Clone().Data, "pwf": tr.Out("pwf").Clone().Data}
		}
		for _, frac := range []bool{false, true} {
			if frac {
				x.Data[1*40*hw*hw+hw*hw-1] = 0.5 // sample 1, channel 0, the last (leftover) column
			}
			ref := run(false, 1, false)
			distinct := map[float32]bool{}
			for _, v := range ref["q"] {
				distinct[v] = true
			}
			if len(distinct) < 30 {
				t.Fatalf("%dx%d: q takes only %d distinct levels: the test checks little", hw, hw, len(distinct))
			}
			for _, threads := range []int{1, 2} {
				for _, split := range []bool{true, false} {
					got := run(true, threads, split)
					for l, want := range ref {
						for i := range want {
							if math.Float32bits(got[l][i]) != math.Float32bits(want[i]) {
								t.Fatalf("%dx%d, fraction %v, %d threads, batch split %v: %s[%d] = %g, float GEMM %g", hw, hw, frac, threads, split, l, i, got[l][i], want[i])
							}
						}
					}
				}
				s0 := nn.IntGemmLeftovers()
				run(true, threads, false)
				// pw and pwf each run one leftover GEMM per thread; with the fraction pw's
				// group holding sample 1 falls back.
				want := int64(2 * threads)
				if frac {
					want--
				}
				if n := nn.IntGemmLeftovers() - s0; n != want {
					t.Errorf("%dx%d, fraction %v, %d threads: %d leftover GEMMs, want %d", hw, hw, frac, threads, n, want)
				}
			}
		}
	}
}

// A channel_affine heads a fused chain of the clamp and simulated quantisation after it (an
// imported integer network rescales each residual sum to levels this way), never of a second
// affine map, and gives the unfused outputs bit for bit.
func TestFusionChannelAffineHead(t *testing.T) {
	const spec = `name: affine-head
input: [5, 7, 9]
layers:
  - {name: a1, type: channel_affine, channels: 5}
  - {name: q1, type: fake_quant, scale: 0.05, zero_point: 3, qmin: 0, qmax: 255}
  - {name: a2, type: channel_affine, channels: 5}
  - {name: c2, type: clip, min: -1, max: 2}
  - {name: q2, type: fake_quant, scale: 0.02, zero_point: 120, qmin: 0, qmax: 255}
  - {name: a3, type: channel_affine, channels: 5}
  - {name: a4, type: channel_affine, channels: 5}
  - {name: r4, type: relu}
  - {name: gp, type: global_avgpool}
`
	rng := rand.New(rand.NewPCG(8, 9))
	g := jitteredGraph(t, spec, "affine-head.yaml", 1, rng, 1)
	if got, want := fmt.Sprint(nn.FusedChains(g)), "[[a1 q1] [a2 c2 q2] [a4 r4]]"; got != want {
		t.Fatalf("fused chains %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(nn.FusedChains(g, "c2")), "[[a1 q1] [a2 c2] [a4 r4]]"; got != want {
		t.Fatalf("keeping c2: fused chains %s, want %s", got, want)
	}
	x := randN(rng, 4, 3, 5, 7, 9)
	ctx := nn.NewCtx(false, 1)
	ctx.NoFuse = true
	tr, err := g.Forward(ctx, x, g.LayerNames()...)
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range [][]string{nil, {"c2"}, {"q1", "r4"}} {
		fused, err := g.Forward(nn.NewCtx(false, 1), x, keep...)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range append([]string{"gp"}, keep...) {
			if r := relDiff(fused.Out(l).Data, tr.Out(l).Data); r != 0 {
				t.Errorf("keep %v: layer %s differs from the unfused pass by %.2g", keep, l, r)
			}
		}
	}
}
