package nn_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

func TestSCellGradients(t *testing.T) {
	nntest.CheckOp(t, &nn.SCell{Planes: 3, Kernel: nn.Dims{3}, Pad: nn.Dims{1}, Selectivity: 0.1}, [][]int{{2, 5, 6}}, nntest.Opts{Kinky: true, Eps: 1e-3})
	nntest.CheckOp(t, &nn.SCell{Planes: 4, Kernel: nn.Dims{2, 3}}, [][]int{{1, 4, 5}}, nntest.Opts{Kinky: true, Eps: 1e-3})
}

// The response is the contrast times the rectified, rescaled cosine; an all-zero plane is
// silent; the output only depends on the direction of the weights.
func TestSCellResponse(t *testing.T) {
	s := &nn.SCell{Planes: 3, Kernel: nn.Dims{2}, Selectivity: 0.6}
	out, err := s.Build([][]int{{1, 2, 2}}, rand.New(rand.NewPCG(1, 2)))
	if err != nil || !tensor.SameShape(out, []int{3, 1, 1}) {
		t.Fatalf("build: %v %v", out, err)
	}
	w := s.WeightTensor()
	copy(w.Data, []float32{2, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0})
	x := tensor.FromData([]float32{3, 3, 0, 0}, 1, 1, 2, 2)
	y, _ := s.Forward(nn.NewCtx(false, 0), []*tensor.Tensor{x})
	v := math.Sqrt(18)
	cos0, cos1 := 3/v, 1.0
	want := []float64{v * math.Max(cos0-0.6, 0) / 0.4, v * (cos1 - 0.6) / 0.4, 0}
	for i, wv := range want {
		if math.Abs(float64(y.Data[i])-wv) > 1e-4 {
			t.Errorf("plane %d: %v, want %v", i, y.Data[i], wv)
		}
	}
}

func TestSCellBadConfig(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		op   *nn.SCell
		in   []int
		want string
	}{
		{&nn.SCell{Planes: 0, Kernel: nn.Dims{3}}, []int{1, 8, 8}, "planes must be positive"},
		{&nn.SCell{Planes: 2, Kernel: nn.Dims{-3}}, []int{1, 8, 8}, "kernel"},
		{&nn.SCell{Planes: 2, Kernel: nn.Dims{3}, Pad: nn.Dims{-1}}, []int{1, 8, 8}, "pad"},
		{&nn.SCell{Planes: 2, Kernel: nn.Dims{3}, Selectivity: 1}, []int{1, 8, 8}, "selectivity"},
		{&nn.SCell{Planes: 2, Kernel: nn.Dims{3}, Selectivity: -0.1}, []int{1, 8, 8}, "selectivity"},
		{&nn.SCell{Planes: 2, Kernel: nn.Dims{9}}, []int{1, 8, 8}, "does not fit"},
		{&nn.SCell{Planes: 2, Kernel: nn.Dims{3}}, []int{8, 8}, "[C H W]"},
	} {
		if _, err := c.op.Build([][]int{c.in}, rng); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v on %v: error %v, want %q", c.op, c.in, err, c.want)
		}
	}
}
