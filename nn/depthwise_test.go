package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

// relDiff is max |a - b| / max |b|.
func relDiff(a, b []float32) float64 {
	var d, m float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		m = math.Max(m, math.Abs(float64(b[i])))
	}
	return d / math.Max(m, 1e-30)
}

// dwPass runs one forward and backward pass, returning y, dx, dW, db.
func dwPass(t *testing.T, cv *nn.Conv2D, x, dy *tensor.Tensor) [4][]float32 {
	t.Helper()
	for _, p := range cv.Params() {
		p.Grad.Zero()
	}
	ctx := nn.NewCtx(true, 1)
	y, cache := cv.Forward(ctx, []*tensor.Tensor{x})
	dx := cv.Backward(ctx, cache, []*tensor.Tensor{x}, y, dy, []bool{true})[0]
	return [4][]float32{append([]float32(nil), y.Data...), append([]float32(nil), dx.Data...),
		append([]float32(nil), cv.Weight().Grad.Data...), append([]float32(nil), cv.Bias().Grad.Data...)}
}

// The direct depthwise kernels give the im2col path's output and gradients on random
// geometries (kernel, stride, dilation, padding, channel multiplier).
func TestDepthwiseMatchesIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := 0; trial < 40; trial++ {
		c, mult := 2+rng.IntN(5), 1+rng.IntN(3)
		k, s, d, p := 1+rng.IntN(5), 1+rng.IntN(3), 1+rng.IntN(2), rng.IntN(3)
		h, w := 4+rng.IntN(12), 4+rng.IntN(12)
		if tensor.ConvOut(h, k, p, s, d) < 1 || tensor.ConvOut(w, k, p, s, d) < 1 {
			continue
		}
		cv := &nn.Conv2D{Out: c * mult, Kernel: nn.Dims{k}, Stride: nn.Dims{s}, Dilation: nn.Dims{d}, Pad: nn.Dims{p}, Groups: c}
		out := build(t, cv, []int{c, h, w})
		n := 1 + rng.IntN(3)
		x := randT(rng, append([]int{n, c}, h, w)...)
		dy := randT(rng, append([]int{n}, out...)...)
		fast := dwPass(t, cv, x, dy)
		restore := nn.SetDepthwiseDirect(false)
		ref := dwPass(t, cv, x, dy)
		restore()
		for i, what := range []string{"output", "input gradient", "weight gradient", "bias gradient"} {
			if r := relDiff(fast[i], ref[i]); r > 1e-5 || math.IsNaN(r) {
				t.Fatalf("c %d mult %d k %d s %d d %d p %d %dx%d: %s differs from im2col by %.2g (relative)", c, mult, k, s, d, p, h, w, what, r)
			}
		}
	}
}

func TestDepthwiseGradient(t *testing.T) {
	nntest.CheckOp(t, &nn.Conv2D{Out: 4, Kernel: nn.Dims{3}, Pad: nn.Dims{1}, Groups: 4}, [][]int{{4, 6, 6}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.Conv2D{Out: 6, Kernel: nn.Dims{3, 2}, Stride: nn.Dims{2}, Dilation: nn.Dims{1, 2}, Pad: nn.Dims{1, 2}, Groups: 3}, [][]int{{3, 7, 8}}, nntest.Opts{Batch: 3})
}

// BenchmarkDepthwise compares the direct kernels with the im2col path on MobileNetV2's
// expanded 3x3 depthwise layer (C = 144, 56x56, batch 16), forward and forward+backward.
func BenchmarkDepthwise(b *testing.B) {
	for _, stride := range []int{1, 2} {
		for _, direct := range []bool{true, false} {
			for _, train := range []bool{false, true} {
				name := map[bool]string{true: "direct", false: "im2col"}[direct] + map[bool]string{true: "/fwd+bwd", false: "/fwd"}[train] + map[int]string{1: "/s1", 2: "/s2"}[stride]
				b.Run(name, func(b *testing.B) {
					restore := nn.SetDepthwiseDirect(direct)
					defer restore()
					cv := &nn.Conv2D{Out: 144, Kernel: nn.Dims{3}, Pad: nn.Dims{1}, Stride: nn.Dims{stride}, Groups: 144}
					out, err := cv.Build([][]int{{144, 56, 56}}, rand.New(rand.NewPCG(1, 2)))
					if err != nil {
						b.Fatal(err)
					}
					rng := rand.New(rand.NewPCG(3, 4))
					x := randT(rng, 16, 144, 56, 56)
					dy := randT(rng, append([]int{16}, out...)...)
					ctx := nn.NewCtx(train, 1)
					c0 := cpuNow()
					for b.Loop() {
						y, cache := cv.Forward(ctx, []*tensor.Tensor{x})
						if train {
							cv.Backward(ctx, cache, []*tensor.Tensor{x}, y, dy, []bool{true})
						}
						ctx.Reset()
					}
					b.ReportMetric(float64(cpuNow()-c0)/1e6/float64(b.N), "cpu-ms/op")
				})
			}
		}
	}
}
