package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

func TestLRNMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, tc := range []struct {
		size int
		onnx bool
	}{{5, false}, {4, false}, {1, false}, {4, true}, {2, true}, {5, true}} {
		size := tc.size
		l := &nn.LRN{Size: size, Alpha: 0.5, Beta: 0.75, K: 2, OnnxWindow: tc.onnx}
		build(t, l, []int{7, 2, 3})
		x := randT(rng, 2, 7, 2, 3)
		y, _ := l.Forward(nil, []*tensor.Tensor{x})
		want := tensor.New(x.Shape...)
		for s := 0; s < 2; s++ {
			for c := 0; c < 7; c++ {
				for q := 0; q < 6; q++ {
					sum := 0.0
					// PyTorch: pad size/2 channels before and (size-1)/2 after, average over size;
					// ONNX: floor((size-1)/2) before, ceil((size-1)/2) after.
					lo, hi := c-size/2, c+(size-1)/2
					if tc.onnx {
						lo, hi = c-(size-1)/2, c+size/2
					}
					for c2 := lo; c2 <= hi; c2++ {
						if c2 >= 0 && c2 < 7 {
							v := float64(x.Data[(s*7+c2)*6+q])
							sum += v * v
						}
					}
					a := float64(x.Data[(s*7+c)*6+q])
					want.Data[(s*7+c)*6+q] = float32(a / math.Pow(2+0.5*sum/float64(size), 0.75))
				}
			}
		}
		closeTo(t, "lrn", y.Data, want.Data, 1e-5)
	}
	nntest.CheckOp(t, &nn.LRN{Size: 3, Alpha: 0.5, Beta: 0.75, K: 1}, [][]int{{5, 2, 2}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.LRN{Size: 4, Alpha: 1, Beta: 0.6, K: 2}, [][]int{{6}}, nntest.Opts{Batch: 3})
	nntest.CheckOp(t, &nn.LRN{Size: 4, Alpha: 1, Beta: 0.6, K: 2, OnnxWindow: true}, [][]int{{6, 2}}, nntest.Opts{Batch: 2})
	nntest.CheckOp(t, &nn.LRN{Size: 2, Alpha: 1, Beta: 0.75, K: 1, OnnxWindow: true}, [][]int{{5}}, nntest.Opts{Batch: 2})
}

func TestDivNormMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for _, shape := range [][]int{{4, 3, 2}, {4}} {
		d := &nn.DivNorm{}
		build(t, d, shape)
		for i := range d.Gamma().Value.Data {
			d.Gamma().Value.Data[i] = float32(rng.Float64() * 0.3)
		}
		x := randT(rng, append([]int{3}, shape...)...)
		y, _ := d.Forward(nil, []*tensor.Tensor{x})
		p := x.Len() / 12
		want := tensor.New(x.Shape...)
		g, b := d.Gamma().Value.Data, d.Beta().Value.Data
		for s := 0; s < 3; s++ {
			for c := 0; c < 4; c++ {
				for q := 0; q < p; q++ {
					den := float64(b[c])
					for c2 := 0; c2 < 4; c2++ {
						v := float64(x.Data[(s*4+c2)*p+q])
						den += float64(g[c*4+c2]) * v * v
					}
					want.Data[(s*4+c)*p+q] = float32(float64(x.Data[(s*4+c)*p+q]) / math.Sqrt(den))
				}
			}
		}
		closeTo(t, "divnorm", y.Data, want.Data, 1e-5)
	}
	nntest.CheckOp(t, &nn.DivNorm{GammaInit: 0.5}, [][]int{{3, 2, 3}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.DivNorm{}, [][]int{{4}}, nntest.Opts{Batch: 3})
	// The constraints keep the pool weights non-negative and the offsets positive.
	d := &nn.DivNorm{}
	build(t, d, []int{2})
	d.Gamma().Value.Data[1] = -1
	d.Beta().Value.Data[0] = -1
	for _, p := range d.Params() {
		p.Constraint.Apply(p.Value)
	}
	if d.Gamma().Value.Data[1] != 0 || d.Beta().Value.Data[0] <= 0 {
		t.Errorf("constraints not applied: %v %v", d.Gamma().Value.Data, d.Beta().Value.Data)
	}
}
