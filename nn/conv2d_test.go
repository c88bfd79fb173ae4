package nn_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

func randT(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

func build(t *testing.T, op nn.Op, in ...[]int) []int {
	t.Helper()
	out, err := op.Build(in, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range op.Params() { // break symmetric initial values (unit gains, zero biases)
		for i := range p.Value.Data {
			p.Value.Data[i] += float32(0.1 * math.Sin(float64(i)+1))
		}
	}
	return out
}

func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > tol*(1+math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// naiveConv is the textbook definition: y[n,o,i,j] = b[o] + sum over the group's input channels
// and taps of w[o,c,ki,kj] x[n, g*cg+c, i*s - p + ki*d, j*s - p + kj*d].
func naiveConv(x, w *tensor.Tensor, b []float32, sh, sw, ph, pw, dh, dw, groups int) *tensor.Tensor {
	n, c, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out, cg, kh, kw := w.Shape[0], w.Shape[1], w.Shape[2], w.Shape[3]
	oh := (h+2*ph-dh*(kh-1)-1)/sh + 1
	ow := (wd+2*pw-dw*(kw-1)-1)/sw + 1
	og := out / groups
	y := tensor.New(n, out, oh, ow)
	for s := 0; s < n; s++ {
		for o := 0; o < out; o++ {
			gi := o / og
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var sum float64
					if b != nil {
						sum = float64(b[o])
					}
					for ci := 0; ci < cg; ci++ {
						for ki := 0; ki < kh; ki++ {
							for kj := 0; kj < kw; kj++ {
								yy, xx := i*sh-ph+ki*dh, j*sw-pw+kj*dw
								if yy < 0 || yy >= h || xx < 0 || xx >= wd {
									continue
								}
								sum += float64(w.Data[((o*cg+ci)*kh+ki)*kw+kj]) * float64(x.Data[((s*c+gi*cg+ci)*h+yy)*wd+xx])
							}
						}
					}
					y.Data[((s*out+o)*oh+i)*ow+j] = float32(sum)
				}
			}
		}
	}
	_ = c
	return y
}

func TestConv2DMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	cases := []struct {
		conv *nn.Conv2D
		in   []int
		n    int
	}{
		{&nn.Conv2D{Out: 4, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}, []int{2, 6, 5}, 3},
		{&nn.Conv2D{Out: 6, Kernel: nn.Dims{5}, Pad: nn.Dims{2}}, []int{1, 12, 12}, 9}, // LeNet-like, batched GEMM
		{&nn.Conv2D{Out: 4, Kernel: nn.Dims{3, 2}, Stride: nn.Dims{2, 3}, Pad: nn.Dims{1, 2}, Dilation: nn.Dims{2, 1}}, []int{3, 9, 11}, 2},
		{&nn.Conv2D{Out: 6, Kernel: nn.Dims{3}, Groups: 2, Stride: nn.Dims{2}, NoBias: true}, []int{4, 7, 7}, 2},
		{&nn.Conv2D{Out: 5, Kernel: nn.Dims{1}}, []int{3, 4, 4}, 3},
		{&nn.Conv2D{Out: 4, Kernel: nn.Dims{1}, Groups: 2}, []int{4, 3, 3}, 2},
	}
	for ci, c := range cases {
		build(t, c.conv, c.in)
		x := randT(rng, append([]int{c.n}, c.in...)...)
		y, _ := c.conv.Forward(nn.NewCtx(true, 1), []*tensor.Tensor{x})
		sh, sw := c.conv.Stride.HW(1)
		ph, pw := c.conv.Pad.HW(0)
		dh, dw := c.conv.Dilation.HW(1)
		var b []float32
		if c.conv.Bias() != nil {
			b = c.conv.Bias().Value.Data
		}
		want := naiveConv(x, c.conv.Weight().Value, b, sh, sw, ph, pw, dh, dw, max(c.conv.Groups, 1))
		if !tensor.SameShape(y.Shape, want.Shape) {
			t.Fatalf("case %d: shape %v, want %v", ci, y.Shape, want.Shape)
		}
		closeTo(t, "conv", y.Data, want.Data, 1e-4)
	}
}

func TestGradConv2D(t *testing.T) {
	nntest.CheckOp(t, &nn.Conv2D{Out: 3, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}, [][]int{{2, 5, 5}}, nntest.Opts{Batch: 3})
	nntest.CheckOp(t, &nn.Conv2D{Out: 4, Kernel: nn.Dims{3, 2}, Stride: nn.Dims{2}, Pad: nn.Dims{1}, Dilation: nn.Dims{1, 2}, Groups: 2}, [][]int{{2, 7, 6}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.Conv2D{Out: 3, Kernel: nn.Dims{1}}, [][]int{{2, 3, 3}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.Conv2D{Out: 2, Kernel: nn.Dims{5}, Pad: nn.Dims{2}}, [][]int{{1, 8, 8}}, nntest.Opts{Batch: 5})
	nntest.CheckOp(t, &nn.Conv2D{Out: 2, Kernel: nn.Dims{5}, Pad: nn.Dims{2}}, [][]int{{1, 8, 8}}, nntest.Opts{Batch: 5, Train: true}) // columns kept for backward
}

func TestConv2DSkipsInputGrad(t *testing.T) {
	c := &nn.Conv2D{Out: 2, Kernel: nn.Dims{3}}
	build(t, c, []int{1, 5, 5})
	x := randT(rand.New(rand.NewPCG(1, 1)), 2, 1, 5, 5)
	ctx := nn.NewCtx(true, 1)
	y, cache := c.Forward(ctx, []*tensor.Tensor{x})
	d := c.Backward(ctx, cache, []*tensor.Tensor{x}, y, y, []bool{false})
	if d[0] != nil {
		t.Error("input gradient computed though not needed")
	}
	if c.Weight().Grad.Data[0] == 0 {
		t.Error("no weight gradient")
	}
}

func TestConv2DGaborAndSpec(t *testing.T) {
	src := `name: g
input: [3, 15, 15]
layers:
  - {name: v1, type: conv2d, out: 20, kernel: [7, 7], stride: 2, init: gabor, gabor: {orientations: 4, wavelengths: [3, 6], phases: [0, 90]}, constraint: nonneg}
  - {name: c2, type: conv2d, out: 4, kernel: [3, 1], groups: 2, no_bias: true}
`
	g, err := nn.ParseSpec([]byte(src), "gabor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g.Nodes[0].Op.(*nn.Conv2D).Constraint = ""
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	if got := g.Nodes[1].Shape; !tensor.SameShape(got, []int{4, 3, 5}) {
		t.Errorf("shape %v", got)
	}
	w := g.Nodes[0].Op.(*nn.Conv2D).Weight().Value
	per := 3 * 49
	// Filters 0 and 1 (orientation 0, phases 0 and 90): zero mean, norm sqrt(2), same on all channels,
	// filter 0 even-symmetric, filter 1 odd-symmetric about the vertical axis.
	for o := 0; o < 2; o++ {
		f := w.Data[o*per : (o+1)*per]
		var sum, ss float64
		for _, v := range f {
			sum += float64(v)
			ss += float64(v) * float64(v)
		}
		if math.Abs(sum) > 1e-4 || math.Abs(ss-2) > 1e-4 {
			t.Errorf("filter %d: sum %v, squared norm %v", o, sum, ss)
		}
		if f[0] != f[49] || f[3] != f[49+3] {
			t.Errorf("filter %d differs across channels", o)
		}
		for i := 0; i < 7; i++ {
			l, r := f[i*7+1], f[i*7+5]
			if o == 0 && math.Abs(float64(l-r)) > 1e-6 || o == 1 && math.Abs(float64(l+r)) > 1e-6 {
				t.Errorf("filter %d row %d: symmetry broken: %v %v", o, i, l, r)
			}
		}
	}
	b, _ := g.SpecJSON()
	g2, err := nn.ParseSpec(b, "rt.json")
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if b2, _ := g2.SpecJSON(); string(b2) != string(b) {
		t.Errorf("round trip:\n%s\n%s", b, b2)
	}
	if _, err := nn.ParseSpec([]byte("name: x\ninput: [1,4,4]\nlayers: [{name: a, type: conv2d, out: 2, kernel: [1,2,3]}]\n"), "x"); err == nil {
		t.Error("3-element kernel accepted")
	}
}

// The input gradient of unit-stride convolutions is computed a block of output rows at a time; these
// layers span several blocks (16 channels of 3x3 over 24 columns: 18 rows per block, so 18 + 6;
// 40 channels of 5x5 over 13 columns in two groups: 5 + 4; 32 channels of 3x3 without padding
// over 28 columns: 8 + 8 + 2). Input
// and weight gradients of sum(y*r) against naive float64 sums, on 1 and 2 threads.
func TestConv2DBackwardRowBlocks(t *testing.T) {
	defer tensor.SetThreads(0)
	rng := rand.New(rand.NewPCG(41, 42))
	for _, tc := range []struct {
		conv *nn.Conv2D
		in   []int
		n    int
	}{
		{&nn.Conv2D{Out: 8, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}, []int{16, 24, 24}, 3},
		{&nn.Conv2D{Out: 6, Kernel: nn.Dims{5}, Pad: nn.Dims{2}, Groups: 2}, []int{40, 9, 13}, 2},
		{&nn.Conv2D{Out: 5, Kernel: nn.Dims{3}}, []int{32, 20, 30}, 2},
	} {
		cv := tc.conv
		out := build(t, cv, tc.in)
		c, h, wd := tc.in[0], tc.in[1], tc.in[2]
		kh, kw := cv.Kernel.HW(1)
		ph, pw := cv.Pad.HW(0)
		oh, ow := out[1], out[2]
		gr := max(cv.Groups, 1)
		cg, og := c/gr, cv.Out/gr
		x := randT(rng, append([]int{tc.n}, tc.in...)...)
		r := randT(rng, tc.n, cv.Out, oh, ow)
		w := cv.Weight().Value.Data
		wantDX := make([]float64, len(x.Data))
		wantDW := make([]float64, len(w))
		for s := 0; s < tc.n; s++ {
			for o := 0; o < cv.Out; o++ {
				gi := o / og
				for i := 0; i < oh; i++ {
					for j := 0; j < ow; j++ {
						rv := float64(r.Data[((s*cv.Out+o)*oh+i)*ow+j])
						for ci := 0; ci < cg; ci++ {
							for ki := 0; ki < kh; ki++ {
								for kj := 0; kj < kw; kj++ {
									yy, xx := i-ph+ki, j-pw+kj
									if yy < 0 || yy >= h || xx < 0 || xx >= wd {
										continue
									}
									xi := ((s*c+gi*cg+ci)*h+yy)*wd + xx
									wi := ((o*cg+ci)*kh+ki)*kw + kj
									wantDX[xi] += rv * float64(w[wi])
									wantDW[wi] += rv * float64(x.Data[xi])
								}
							}
						}
					}
				}
			}
		}
		f32 := func(v []float64) []float32 {
			o := make([]float32, len(v))
			for i := range v {
				o[i] = float32(v[i])
			}
			return o
		}
		for _, threads := range []int{1, 2} {
			tensor.SetThreads(threads)
			clear(cv.Weight().Grad.Data)
			ctx := nn.NewCtx(true, 1)
			y, cache := cv.Forward(ctx, []*tensor.Tensor{x})
			dx := cv.Backward(ctx, cache, []*tensor.Tensor{x}, y, r, []bool{true})[0]
			closeTo(t, fmt.Sprintf("%v dx, %d threads", tc.in, threads), dx.Data, f32(wantDX), 1e-4)
			closeTo(t, fmt.Sprintf("%v dW, %d threads", tc.in, threads), cv.Weight().Grad.Data, f32(wantDW), 1e-4)
		}
	}
}
