package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// The implicit-GEMM forward pass gives bit for bit the outputs of the unrolled (im2col) one,
// with and without a fused tail, on 1 and 2 threads and at every kernel level, and both agree
// with the float64 textbook convolution.
func TestConvImplicitMatchesUnrolled(t *testing.T) {
	defer nn.SetWinograd(false)()
	saved := tensor.CurrentKernelLevel()
	rng := rand.New(rand.NewPCG(61, 62))
	type geom struct {
		c, out, h, w, kh, kw, sh, sw, ph, pw, dh, dw, groups, n int
		all                                                     bool // every size implicitly, not only large maps
	}
	for _, tc := range []geom{
		// AlexNet's first layer on a smaller image, at the default threshold.
		{3, 64, 67, 67, 11, 11, 4, 4, 2, 2, 1, 1, 1, 2, false},
		// AlexNet's second layer's shape: 5x5, pad 2, unit stride (contiguous panels).
		{24, 40, 13, 13, 5, 5, 1, 1, 2, 2, 1, 1, 1, 3, true},
		{5, 7, 11, 14, 3, 5, 2, 1, 1, 2, 1, 2, 1, 2, true},
		{4, 6, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1, 2, 1, true},
		{8, 10, 12, 10, 1, 1, 2, 2, 0, 0, 1, 1, 1, 3, true},
		{3, 9, 20, 17, 7, 7, 3, 2, 0, 3, 1, 1, 1, 1, true},
		{6, 130, 9, 8, 3, 3, 1, 1, 1, 1, 2, 1, 1, 2, true},
	} {
		g := &nn.Graph{Name: "implicit", InputShape: []int{tc.c, tc.h, tc.w}}
		cv := &nn.Conv2D{Out: tc.out, Kernel: nn.Dims{tc.kh, tc.kw}, Stride: nn.Dims{tc.sh, tc.sw},
			Pad: nn.Dims{tc.ph, tc.pw}, Dilation: nn.Dims{tc.dh, tc.dw}, Groups: tc.groups}
		g.Chain("conv", cv).Chain("relu", nn.ReLU())
		if err := g.Build(7); err != nil {
			t.Fatal(err)
		}
		for i := range cv.Bias().Value.Data {
			cv.Bias().Value.Data[i] = float32(rng.NormFloat64())
		}
		x := randT(rng, tc.n, tc.c, tc.h, tc.w)
		run := func(implicit bool, threads int, keep ...string) map[string][]float32 {
			defer nn.SetImplicit(implicit, tc.all)()
			defer func(n int) { tensor.SetThreads(n) }(tensor.Threads())
			tensor.SetThreads(threads)
			before := nn.ImplicitPasses()
			tr, err := g.Forward(nn.NewCtx(false, 1), x, keep...)
			if err != nil {
				t.Fatal(err)
			}
			if ran := nn.ImplicitPasses() > before; ran != implicit {
				t.Fatalf("%+v: implicit pass ran %v, want %v", tc, ran, implicit)
			}
			out := map[string][]float32{"relu": tr.Out("relu").Clone().Data}
			for _, k := range keep {
				out[k] = tr.Out(k).Clone().Data
			}
			return out
		}
		want := naiveConv(x, cv.Weight().Value, cv.Bias().Value.Data, tc.sh, tc.sw, tc.ph, tc.pw, tc.dh, tc.dw, tc.groups)
		for _, level := range tensor.AvailableKernelLevels() {
			if err := tensor.SetKernelLevel(level); err != nil {
				t.Fatal(err)
			}
			ref := run(false, 1, "conv")
			closeTo(t, "unrolled conv", ref["conv"], want.Data, 1e-5)
			for _, threads := range []int{1, 2} {
				// Without keeping conv, ReLU is fused into the convolution's tail.
				for _, keep := range [][]string{nil, {"conv"}} {
					for l, v := range run(true, threads, keep...) {
						for i := range v {
							if math.Float32bits(v[i]) != math.Float32bits(ref[l][i]) {
								t.Fatalf("%+v %s, %d threads, keep %v: %s[%d] is %v implicitly, %v unrolled", tc, level, threads, keep, l, i, v[i], ref[l][i])
							}
						}
					}
				}
			}
		}
		if err := tensor.SetKernelLevel(saved); err != nil {
			t.Fatal(err)
		}
	}
}

// Small maps keep the wide multi-sample GEMM: a 7x7 output's last partial panel would be a
// quarter of each sample's work. A 14x14 one (an eighth) and larger run implicitly.
func TestConvImplicitSkipsSmallMaps(t *testing.T) {
	defer nn.SetWinograd(false)()
	for _, tc := range []struct {
		h        int
		implicit bool
	}{{14, false}, {28, true}} {
		cv := &nn.Conv2D{Out: 8, Kernel: nn.Dims{3}, Stride: nn.Dims{2}, Pad: nn.Dims{1}}
		build(t, cv, []int{64, tc.h, tc.h})
		before := nn.ImplicitPasses()
		cv.Forward(nn.NewCtx(false, 1), []*tensor.Tensor{randT(rand.New(rand.NewPCG(1, 1)), 2, 64, tc.h, tc.h)})
		if ran := nn.ImplicitPasses() > before; ran != tc.implicit {
			t.Errorf("%dx%d input: implicit pass ran %v, want %v", tc.h, tc.h, ran, tc.implicit)
		}
	}
}
