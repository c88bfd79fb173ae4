package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

// naivePool visits every tap of every window, including padded ones; padded taps are -inf for
// max and 0 for average. The average's divisor is the number of taps inside input+padding
// (PyTorch's count_include_pad) or inside the input alone (exclude).
func naivePool(x *tensor.Tensor, k, s, p, oh, ow int, isMax, exclude bool) *tensor.Tensor {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	y := tensor.New(n, c, oh, ow)
	for pl := 0; pl < n*c; pl++ {
		for i := 0; i < oh; i++ {
			for j := 0; j < ow; j++ {
				best, sum, inPad, inImg := math.Inf(-1), 0.0, 0, 0
				for a := 0; a < k; a++ {
					for b := 0; b < k; b++ {
						yy, xx := i*s-p+a, j*s-p+b
						if yy >= h+p || xx >= w+p {
							continue
						}
						inPad++
						if yy < 0 || xx < 0 || yy >= h || xx >= w {
							continue
						}
						inImg++
						v := float64(x.Data[(pl*h+yy)*w+xx])
						best = math.Max(best, v)
						sum += v
					}
				}
				o := &y.Data[(pl*oh+i)*ow+j]
				switch {
				case isMax:
					*o = float32(best)
				case exclude:
					*o = float32(sum / float64(inImg))
				default:
					*o = float32(sum / float64(inPad))
				}
			}
		}
	}
	return y
}

func TestPoolsMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	type pc struct {
		k, s, p, h, w, oh, ow int
		ceil                  bool
	}
	for _, c := range []pc{
		{2, 2, 0, 8, 8, 4, 4, false},
		{2, 2, 0, 7, 9, 3, 4, false},
		{3, 2, 1, 7, 7, 4, 4, false},
		{3, 2, 0, 6, 6, 3, 3, true}, // last window hangs over the edge
		{3, 3, 1, 8, 8, 3, 3, true},
		{3, 1, 1, 5, 5, 5, 5, false},
	} {
		x := randT(rng, 2, 3, c.h, c.w)
		mp := &nn.MaxPool2D{Kernel: nn.Dims{c.k}, Stride: nn.Dims{c.s}, Pad: nn.Dims{c.p}, CeilMode: c.ceil}
		shape := build(t, mp, []int{3, c.h, c.w})
		if !tensor.SameShape(shape, []int{3, c.oh, c.ow}) {
			t.Fatalf("%+v: maxpool shape %v", c, shape)
		}
		y, _ := mp.Forward(nn.NewCtx(true, 1), []*tensor.Tensor{x})
		closeTo(t, "maxpool", y.Data, naivePool(x, c.k, c.s, c.p, c.oh, c.ow, true, false).Data, 1e-6)
		for _, ex := range []bool{false, true} {
			ap := &nn.AvgPool2D{Kernel: nn.Dims{c.k}, Stride: nn.Dims{c.s}, Pad: nn.Dims{c.p}, CeilMode: c.ceil, ExcludePad: ex}
			build(t, ap, []int{3, c.h, c.w})
			y, _ := ap.Forward(nn.NewCtx(true, 1), []*tensor.Tensor{x})
			closeTo(t, "avgpool", y.Data, naivePool(x, c.k, c.s, c.p, c.oh, c.ow, false, ex).Data, 1e-5)
		}
	}
	// PyTorch: AvgPool2d(3, 2, ceil_mode=True) on a 1x6 row of ones... on arange(6): last window
	// covers [4, 5] and divides by 2.
	x := tensor.FromData([]float32{0, 1, 2, 3, 4, 5}, 1, 1, 1, 6)
	ap := &nn.AvgPool2D{Kernel: nn.Dims{1, 3}, Stride: nn.Dims{1, 2}, CeilMode: true}
	build(t, ap, []int{1, 1, 6})
	y, _ := ap.Forward(nil, []*tensor.Tensor{x})
	closeTo(t, "avgpool ceil", y.Data, []float32{1, 3, 4.5}, 1e-6)
}

func TestAdaptiveAndGlobalPool(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	x := randT(rng, 2, 3, 7, 5)
	a := &nn.AdaptiveAvgPool{Out: nn.Dims{3, 2}}
	build(t, a, []int{3, 7, 5})
	y, _ := a.Forward(nil, []*tensor.Tensor{x})
	// Windows: rows [0,3) [2,5) [4,7); columns [0,3) [2,5).
	rows := [][2]int{{0, 3}, {2, 5}, {4, 7}}
	cols := [][2]int{{0, 3}, {2, 5}}
	want := tensor.New(2, 3, 3, 2)
	for pl := 0; pl < 6; pl++ {
		for i, r := range rows {
			for j, c := range cols {
				s := 0.0
				for yy := r[0]; yy < r[1]; yy++ {
					for xx := c[0]; xx < c[1]; xx++ {
						s += float64(x.Data[pl*35+yy*5+xx])
					}
				}
				want.Data[pl*6+i*2+j] = float32(s / 9)
			}
		}
	}
	closeTo(t, "adaptive", y.Data, want.Data, 1e-5)
	gy, _ := nn.GlobalAvgPool{}.Forward(nil, []*tensor.Tensor{x})
	for pl := 0; pl < 6; pl++ {
		s := 0.0
		for _, v := range x.Data[pl*35 : pl*35+35] {
			s += float64(v)
		}
		closeTo(t, "global", gy.Data[pl:pl+1], []float32{float32(s / 35)}, 1e-5)
	}
}

func TestGradPools(t *testing.T) {
	nntest.CheckOp(t, &nn.MaxPool2D{Kernel: nn.Dims{2}}, [][]int{{2, 4, 6}}, nntest.Opts{Kinky: true})
	nntest.CheckOp(t, &nn.MaxPool2D{Kernel: nn.Dims{3}, Stride: nn.Dims{2}, Pad: nn.Dims{1}, CeilMode: true}, [][]int{{2, 6, 6}}, nntest.Opts{Kinky: true})
	nntest.CheckOp(t, &nn.AvgPool2D{Kernel: nn.Dims{3}, Stride: nn.Dims{2}, Pad: nn.Dims{1}, CeilMode: true}, [][]int{{2, 6, 5}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.AvgPool2D{Kernel: nn.Dims{2, 3}, Pad: nn.Dims{1}, ExcludePad: true}, [][]int{{1, 5, 7}}, nntest.Opts{})
	nntest.CheckOp(t, nn.GlobalAvgPool{}, [][]int{{3, 4, 4}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.AdaptiveAvgPool{Out: nn.Dims{3}}, [][]int{{2, 7, 5}}, nntest.Opts{})
}
