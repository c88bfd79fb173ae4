package nn_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// pairGraph is a quantized network's 1x1 expansion and depthwise convolution (requantized to
// levels, as the ONNX importer builds them) and a 1x1 projection after them.
func pairGraph(t *testing.T, h, w, stride int, first string, rng *rand.Rand) *nn.Graph {
	return pairGraphW(t, h, w, stride, first, rng, 1, 1)
}

// pairGraphW is pairGraph with the weights scaled by ws (a float network where ws is not an
// integer) and the depthwise layer's fake_quant of scale q2 (not 1: real values, a tail the
// depthwise kernel does not apply).
func pairGraphW(t *testing.T, h, w, stride int, first string, rng *rand.Rand, ws, q2 float32) *nn.Graph {
	spec := fmt.Sprintf(`name: qpair
input: [5, %d, %d]
layers:
  - {name: pw, type: conv2d, out: 20, %s}
  - {name: rq1, type: channel_affine, channels: 20}
  - {name: q1, type: fake_quant, scale: 1, zero_point: 0, qmin: 0, qmax: 255}
  - {name: dw, type: conv2d, out: 20, kernel: 3, stride: %d, pad: 1, groups: 20}
  - {name: rq2, type: channel_affine, channels: 20}
  - {name: q2, type: fake_quant, scale: %g, zero_point: 3, qmin: 0, qmax: 255}
  - {name: proj, type: conv2d, out: 7, kernel: 1}
  - {name: rq3, type: channel_affine, channels: 7}
  - {name: q3, type: fake_quant, scale: 1, zero_point: -4, qmin: -128, qmax: 127}
  - {name: head, type: conv2d, out: 3, kernel: 1}
`, h, w, first, stride, q2)
	g, err := nn.ParseSpec([]byte(spec), "qpair.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(4); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"pw", "dw", "proj", "head"} {
		for _, p := range g.Node(l).Op.Params() {
			for i := range p.Value.Data {
				p.Value.Data[i] = float32(rng.IntN(255)-127) * ws // integer weights and biases, unless ws is not
			}
		}
	}
	for l, sc := range map[string]float32{"rq1": 1.0 / 300, "rq2": 1.0 / 400, "rq3": 1.0 / 200} {
		ca := g.Node(l).Op.(*nn.ChannelAffine)
		for i := range ca.Weight().Value.Data {
			ca.Weight().Value.Data[i], ca.Bias().Value.Data[i] = sc/ws*(1+float32(i)/32), 0
		}
	}
	return g
}

// The depth-first pair gives the layer-by-layer outputs bit for bit, after a 1x1 convolution
// and after 3x3 ones (im2col, strides 1 and 2): at depthwise strides 1 and 2, on
// maps whose rows do not divide into bands, with one band and several, one channel group and
// several, at 1 and 2 threads, on levels (integer GEMM) and on fractional inputs or weights
// (float GEMM); with the depthwise layer's tail in its kernel and as a pass of its own;
// with the projection run in the same bands where a band of it fits and fills whole 16-column
// strips, and on its own otherwise (both happen). The pair forms only where the wide
// map is not asked for, and takes the projection only where the depthwise output is not.
func TestPairMatchesLayers(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	withProj, without := 0, 0
	for ci, c := range []struct {
		h, w, stride int
		first        string
	}{{17, 23, 1, "kernel: 1"}, {17, 23, 2, "kernel: 1"}, {16, 30, 2, "kernel: 1"}, {9, 40, 1, "kernel: 1"}, {3, 5, 1, "kernel: 1"},
		{17, 16, 1, "kernel: 1"}, {16, 16, 2, "kernel: 1"}, {9, 32, 2, "kernel: 1"},
		{33, 32, 1, "kernel: 3, stride: 2, pad: 1"}, {19, 21, 2, "kernel: 3, stride: 2, pad: 1"}, {12, 14, 1, "kernel: 3, pad: 1"}} {
		// Integer weights (the integer GEMM) and float weights (the float GEMM), alternately.
		ws, q2 := []float32{1, 0.0173}[ci%2], []float32{1, 1, 1, 0.05}[ci%4]
		g := pairGraphW(t, c.h, c.w, c.stride, c.first, rng, ws, q2)
		if p := nn.PairedHeads(g); len(p) != 1 || p[0] != [3]string{"pw", "dw", "proj"} {
			t.Fatalf("%+v: pairs %v, want pw with dw and proj", c, p)
		}
		if p := nn.PairedHeads(g, "q2"); len(p) != 1 || p[0] != [3]string{"pw", "dw", ""} {
			t.Fatalf("%+v: with q2 kept, pairs %v, want pw with dw alone", c, p)
		}
		if p := nn.PairedHeads(g, "q1"); len(p) != 0 {
			t.Fatalf("%+v: with q1 kept, pairs %v, want none", c, p)
		}
		for _, levels := range []bool{true, false} {
			x := tensor.New(3, 5, c.h, c.w)
			for i := range x.Data {
				x.Data[i] = float32(rng.IntN(256) - 128)
				if !levels {
					x.Data[i] *= 0.37
				}
			}
			run := func(pair bool, threads, budget int) []float32 {
				defer nn.SetPairDW(pair)()
				defer nn.SetPairBudget(budget)()
				defer nn.SetPairProjBudget(budget / 2)()
				defer tensor.SetThreads(tensor.Threads())
				tensor.SetThreads(threads)
				tr, err := g.Forward(nn.NewCtx(false, 1), x)
				if err != nil {
					t.Fatal(err)
				}
				return tr.Output().Clone().Data
			}
			ref := run(false, 1, 48<<10)
			distinct := map[float32]bool{}
			for _, v := range ref {
				distinct[v] = true
			}
			if len(distinct) < 20 {
				t.Fatalf("%+v: only %d distinct outputs: the test checks little", c, len(distinct))
			}
			for _, threads := range []int{1, 2} {
				// 48 Ki floats: one band and group; 6*w*5: a band of 3 input rows over groups of 6 channels.
				for _, budget := range []int{48 << 10, 6 * c.w * 5} {
					r0, p0 := nn.PairRuns()
					got := run(true, threads, budget)
					r, p := nn.PairRuns()
					if r != r0+1 {
						t.Fatalf("%+v, budget %d: %d pairs ran", c, budget, r-r0)
					}
					if p > p0 {
						withProj++
					} else {
						without++
					}
					for i := range ref {
						if got[i] != ref[i] {
							t.Fatalf("%+v levels %v, %d threads, budget %d: output %d = %g, layer by layer %g", c, levels, threads, budget, i, got[i], ref[i])
						}
					}
				}
			}
		}
	}
	if withProj == 0 || without == 0 {
		t.Errorf("%d runs with the projection in the bands, %d without: want both", withProj, without)
	}
}

// Ctx.Timings records each computed node's time under the first node of its fused chain or
// pair: the pair's convolutions appear as one entry, and nothing is recorded without it.
func TestForwardTimings(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	g := pairGraph(t, 16, 16, 1, "kernel: 1", rng)
	x := tensor.New(2, 5, 16, 16)
	for i := range x.Data {
		x.Data[i] = float32(rng.IntN(256) - 128)
	}
	ctx := nn.NewCtx(false, 1)
	ctx.Timings = map[string]time.Duration{}
	for range 2 {
		if _, err := g.Forward(ctx, x); err != nil {
			t.Fatal(err)
		}
		ctx.Reset()
	}
	var names []string
	for k, v := range ctx.Timings {
		if v <= 0 {
			t.Errorf("%s: time %v", k, v)
		}
		names = append(names, k)
	}
	sort.Strings(names)
	if want := []string{"head", "pw"}; !slices.Equal(names, want) {
		t.Errorf("timed %v, want %v (pw heads the pair with dw and proj and their tails)", names, want)
	}
}
