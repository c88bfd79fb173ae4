package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

// naiveNorm normalises x ([N C P]) over the elements that share key(n, c), then applies
// per-channel weight and bias; it returns the output and each key's mean and biased variance.
func naiveNorm(x *tensor.Tensor, key func(n, c int) int, w, b []float32, eps float64) (*tensor.Tensor, map[int][2]float64) {
	n, c := x.Shape[0], x.Shape[1]
	p := x.Len() / (n * c)
	sum, sq, cnt := map[int]float64{}, map[int]float64{}, map[int]float64{}
	for s := 0; s < n; s++ {
		for ch := 0; ch < c; ch++ {
			for q := 0; q < p; q++ {
				v := float64(x.Data[(s*c+ch)*p+q])
				sum[key(s, ch)] += v
				cnt[key(s, ch)]++
			}
		}
	}
	st := map[int][2]float64{}
	for k := range sum {
		m := sum[k] / cnt[k]
		st[k] = [2]float64{m, 0}
	}
	for s := 0; s < n; s++ {
		for ch := 0; ch < c; ch++ {
			for q := 0; q < p; q++ {
				d := float64(x.Data[(s*c+ch)*p+q]) - st[key(s, ch)][0]
				sq[key(s, ch)] += d * d
			}
		}
	}
	for k := range st {
		st[k] = [2]float64{st[k][0], sq[k] / cnt[k]}
	}
	y := tensor.New(x.Shape...)
	for s := 0; s < n; s++ {
		for ch := 0; ch < c; ch++ {
			m := st[key(s, ch)]
			for q := 0; q < p; q++ {
				i := (s*c+ch)*p + q
				y.Data[i] = float32((float64(x.Data[i])-m[0])/math.Sqrt(m[1]+eps)*float64(w[ch]) + float64(b[ch]))
			}
		}
	}
	return y, st
}

func TestBatchNormMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	for _, shape := range [][]int{{3, 4, 5}, {6}} {
		bn := &nn.BatchNorm{Momentum: 0.2}
		build(t, bn, shape)
		x := randT(rng, append([]int{4}, shape...)...)
		for i := range x.Data {
			x.Data[i] = x.Data[i]*2 + 1
		}
		w, b := bn.Params()[0].Value.Data, bn.Params()[1].Value.Data
		y, _ := bn.Forward(nn.NewCtx(true, 1), []*tensor.Tensor{x})
		want, st := naiveNorm(x, func(_, c int) int { return c }, w, b, 1e-5)
		closeTo(t, "batchnorm train", y.Data, want.Data, 1e-4)
		m := float64(x.Len() / shape[0])
		buf := nn.GraphBuffers(&nn.Graph{Nodes: []*nn.Node{{Name: "bn", Op: bn}}})
		for ch := 0; ch < shape[0]; ch++ {
			wantMean := 0.2 * st[ch][0]
			wantVar := 0.8 + 0.2*st[ch][1]*m/(m-1)
			closeTo(t, "running mean", buf["bn.running_mean"].Data[ch:ch+1], []float32{float32(wantMean)}, 1e-5)
			closeTo(t, "running var", buf["bn.running_var"].Data[ch:ch+1], []float32{float32(wantVar)}, 1e-5)
		}
		// Inference uses the running statistics.
		y, _ = bn.Forward(nn.NewCtx(false, 1), []*tensor.Tensor{x})
		rm, rv := buf["bn.running_mean"].Data, buf["bn.running_var"].Data
		p := x.Len() / (4 * shape[0])
		for i := range y.Data {
			ch := i / p % shape[0]
			want := (float64(x.Data[i])-float64(rm[ch]))/math.Sqrt(float64(rv[ch])+1e-5)*float64(w[ch]) + float64(b[ch])
			closeTo(t, "batchnorm eval", y.Data[i:i+1], []float32{float32(want)}, 1e-4)
		}
	}
	nntest.CheckOp(t, &nn.BatchNorm{}, [][]int{{3, 2, 2}}, nntest.Opts{Train: true, Batch: 3})
	nntest.CheckOp(t, &nn.BatchNorm{}, [][]int{{4}}, nntest.Opts{Train: true, Batch: 5})
	nntest.CheckOp(t, &nn.BatchNorm{NoAffine: true}, [][]int{{2, 3, 1}}, nntest.Opts{Train: true})
	nntest.CheckOp(t, &nn.BatchNorm{}, [][]int{{3, 2, 2}}, nntest.Opts{Train: false})
}

func TestGroupNormMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	gn := &nn.GroupNorm{Groups: 2}
	build(t, gn, []int{6, 3, 2})
	x := randT(rng, 3, 6, 3, 2)
	y, _ := gn.Forward(nil, []*tensor.Tensor{x})
	want, _ := naiveNorm(x, func(n, c int) int { return n*2 + c/3 }, gn.Params()[0].Value.Data, gn.Params()[1].Value.Data, 1e-5)
	closeTo(t, "groupnorm", y.Data, want.Data, 1e-4)
	nntest.CheckOp(t, &nn.GroupNorm{Groups: 2}, [][]int{{4, 2, 3}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.GroupNorm{Groups: 1, NoAffine: true}, [][]int{{3, 2, 2}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.GroupNorm{Groups: 3}, [][]int{{3}}, nntest.Opts{Batch: 2, ATol: 5e-3}) // one element per group: output 0
}
