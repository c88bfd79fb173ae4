package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// At inference, 3x3 stride-1 convolutions run on Winograd F(4x4, 3x3): the outputs stay within
// 2e-5 (relative to the largest) of im2col's, with a bias, a fused ReLU tail (bit for bit the
// unfused one), paddings 0..2, one and several images and threads; the transformed weights
// follow a change of the weights; training passes stay on im2col, bit for bit.
func TestWinogradMatchesIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	for _, tc := range []struct{ c, out, h, w, pad, n int }{
		{16, 16, 8, 8, 1, 1}, {24, 40, 13, 13, 1, 3}, {16, 32, 7, 10, 0, 2}, {32, 16, 9, 6, 2, 5},
	} {
		g := &nn.Graph{Name: "wino", InputShape: []int{tc.c, tc.h, tc.w}}
		g.Chain("conv", &nn.Conv2D{Out: tc.out, Kernel: nn.Dims{3}, Pad: nn.Dims{tc.pad}})
		g.Chain("relu", nn.ReLU())
		if err := g.Build(7); err != nil {
			t.Fatal(err)
		}
		cv := g.Node("conv").Op.(*nn.Conv2D)
		for i := range cv.Bias().Value.Data {
			cv.Bias().Value.Data[i] = float32(rng.NormFloat64())
		}
		x := randT(rng, tc.n, tc.c, tc.h, tc.w)
		run := func(wino, train bool, threads int, keep ...string) map[string][]float32 {
			defer nn.SetWinograd(wino)()
			defer func(n int) { tensor.SetThreads(n) }(tensor.Threads())
			tensor.SetThreads(threads)
			ctx := nn.NewCtx(train, 1)
			tr, err := g.Forward(ctx, x, keep...)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string][]float32{"relu": tr.Out("relu").Clone().Data}
			for _, k := range keep {
				out[k] = tr.Out(k).Clone().Data
			}
			return out
		}
		for round := 0; round < 2; round++ {
			ref := run(false, false, 1, "conv")
			for _, threads := range []int{1, 2} {
				// Without keeping conv, ReLU is fused into the convolution's tail.
				var outs []map[string][]float32
				for _, keep := range [][]string{nil, {"conv"}} {
					got := run(true, false, threads, keep...)
					for l, v := range got {
						if r := relDiff(v, ref[l]); !(r <= 2e-5) {
							t.Errorf("%+v round %d threads %d keep %v: %s differs from im2col by %.2g", tc, round, threads, keep, l, r)
						}
					}
					outs = append(outs, got)
				}
				// Fusion changes nothing, bit for bit.
				if r := relDiff(outs[0]["relu"], outs[1]["relu"]); r != 0 {
					t.Errorf("%+v threads %d: the fused ReLU differs from the unfused one by %.2g", tc, threads, r)
				}
			}
			if !nn.HasWinogradWeights(cv) {
				t.Fatalf("%+v: no transformed weights: Winograd did not run", tc)
			}
			if tr, ref := run(true, true, 1, "conv"), run(false, true, 1, "conv"); relDiff(tr["conv"], ref["conv"]) != 0 {
				t.Errorf("%+v: a training pass differs from im2col", tc)
			}
			// New weights: the transformed ones must follow.
			w := cv.Weight().Value.Data
			for i := range w {
				w[i] = float32(math.Sin(float64(i)*0.37+float64(round))) * 0.2
			}
		}
	}
}

// Integer-valued weights (an imported quantized network) keep im2col, whose sums of small
// integers are exact.
func TestWinogradSkipsIntegerWeights(t *testing.T) {
	defer nn.SetIntGemm(false)()
	cv := &nn.Conv2D{Out: 16, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}
	build(t, cv, []int{16, 8, 8})
	for i := range cv.Weight().Value.Data {
		cv.Weight().Value.Data[i] = float32(i%7 - 3)
	}
	x := tensor.New(1, 16, 8, 8)
	for i := range x.Data {
		x.Data[i] = float32(i%11 - 5)
	}
	cv.Forward(nn.NewCtx(false, 1), []*tensor.Tensor{x})
	if nn.HasWinogradWeights(cv) {
		t.Fatal("integer weights ran on Winograd")
	}
}

// A map 1 or 2 outputs across keeps im2col (most of a 4x4 tile would be past the edge); 3x3
// takes Winograd.
func TestWinogradSkipsSmallMaps(t *testing.T) {
	for _, tc := range []struct {
		h, w int
		wino bool
	}{{4, 4, false}, {3, 9, false}, {5, 5, true}} {
		cv := &nn.Conv2D{Out: 16, Kernel: nn.Dims{3}}
		build(t, cv, []int{16, tc.h, tc.w})
		cv.Forward(nn.NewCtx(false, 1), []*tensor.Tensor{randT(rand.New(rand.NewPCG(1, 1)), 1, 16, tc.h, tc.w)})
		if got := nn.HasWinogradWeights(cv); got != tc.wino {
			t.Errorf("%dx%d input: Winograd %v, want %v", tc.h, tc.w, got, tc.wino)
		}
	}
}
