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

func TestScaleMaxValuesAndGradients(t *testing.T) {
	m := &nn.ScaleMax{Group: 2, Scales: []int{1, 2}, Kernel: nn.Dims{3}, Stride: nn.Dims{2}}
	out, err := m.Build([][]int{{6, 7, 8}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !tensor.SameShape(out, []int{2, 3, 3}) {
		t.Fatalf("shape %v", out)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x := randTensor(rng, 2, 6, 7, 8)
	y, _ := m.Forward(nil, []*tensor.Tensor{x})
	for s := 0; s < 2; s++ {
		for g := 0; g < 2; g++ {
			for oy := 0; oy < 3; oy++ {
				for ox := 0; ox < 3; ox++ {
					best := float32(math.Inf(-1))
					for _, sc := range []int{1, 2} {
						for a := 0; a < 3; a++ {
							for b := 0; b < 3; b++ {
								best = max(best, x.Data[((s*6+sc*2+g)*7+oy*2+a)*8+ox*2+b])
							}
						}
					}
					if got := y.Data[((s*2+g)*3+oy)*3+ox]; got != best {
						t.Fatalf("y[%d,%d,%d,%d] = %v, want %v", s, g, oy, ox, got, best)
					}
				}
			}
		}
	}
	nntest.CheckOp(t, &nn.ScaleMax{Group: 2, Scales: []int{0, 1}, Kernel: nn.Dims{4}, Stride: nn.Dims{2}}, [][]int{{4, 8, 9}}, nntest.Opts{Kinky: true})
}

// naiveRBF matches every patch of every input with every prototype directly.
func naiveRBF(r *nn.RBF, ins []*tensor.Tensor, s int) []float64 {
	pt := r.PrototypeTensor()
	np, c, k := pt.Shape[0], pt.Shape[1], pt.Shape[2]
	beta := 1 / (2 * r.Sigma * r.Sigma * float64(k*k) / 16)
	var cols [][]float64 // per position, per prototype
	for _, x := range ins {
		h, w := x.Shape[2], x.Shape[3]
		for oy := 0; oy+k <= h; oy++ {
			for ox := 0; ox+k <= w; ox++ {
				rs := make([]float64, np)
				for p := 0; p < np; p++ {
					var d float64
					for ci := 0; ci < c; ci++ {
						for a := 0; a < k; a++ {
							for b := 0; b < k; b++ {
								v := float64(x.Data[((s*c+ci)*h+oy+a)*w+ox+b]) - float64(pt.Data[((p*c+ci)*k+a)*k+b])
								d += v * v
							}
						}
					}
					rs[p] = math.Exp(-beta * d)
				}
				cols = append(cols, rs)
			}
		}
	}
	out := make([]float64, np*len(cols))
	for l, rs := range cols {
		for p, v := range rs {
			out[p*len(cols)+l] = v
		}
	}
	return out
}

func TestRBFMatchesDirectDistances(t *testing.T) {
	r := &nn.RBF{Prototypes: 5, Size: 3, Sigma: 2}
	shapes := [][]int{{2, 6, 7}, {2, 2, 9}, {2, 4, 4}}
	out, err := r.Build(shapes, rand.New(rand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	// 4*5 + 0 (too small) + 2*2 positions.
	if !tensor.SameShape(out, []int{5, 24}) {
		t.Fatalf("shape %v", out)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var ins []*tensor.Tensor
	for _, s := range shapes {
		x := tensor.New(append([]int{2}, s...)...)
		for i := range x.Data {
			x.Data[i] = float32(rng.Float64())
		}
		ins = append(ins, x)
	}
	y, _ := r.Forward(nil, ins)
	for s := 0; s < 2; s++ {
		want := naiveRBF(r, ins, s)
		for i, v := range want {
			if got := float64(y.Data[s*len(want)+i]); math.Abs(got-v) > 1e-4 {
				t.Fatalf("sample %d: y[%d] = %v, want %v", s, i, got, v)
			}
		}
	}
	if got := nn.GraphBuffers(&nn.Graph{Nodes: []*nn.Node{{Name: "s2", Op: r}}}); got["s2.prototypes"] != r.PrototypeTensor() {
		t.Error("rbf prototypes are not a buffer")
	}
}

func TestRBFGradients(t *testing.T) {
	nntest.CheckOp(t, &nn.RBF{Prototypes: 4, Size: 3, Sigma: 3}, [][]int{{2, 5, 6}, {2, 4, 4}, {2, 2, 2}}, nntest.Opts{})
}

func TestGlobalMaxGradients(t *testing.T) {
	m := &nn.GlobalMax{}
	out, err := m.Build([][]int{{3, 4, 5}, {2, 7}}, nil)
	if err != nil || !tensor.SameShape(out, []int{5}) {
		t.Fatalf("%v %v", out, err)
	}
	nntest.CheckOp(t, &nn.GlobalMax{}, [][]int{{3, 4, 5}, {2, 7}}, nntest.Opts{Kinky: true})
}

func TestHMAXOpErrors(t *testing.T) {
	cases := []struct {
		op   nn.Op
		in   [][]int
		want string
	}{
		{&nn.ScaleMax{Group: 0, Scales: []int{0}, Kernel: nn.Dims{2}}, [][]int{{4, 8, 8}}, "group"},
		{&nn.ScaleMax{Group: 4, Scales: []int{2}, Kernel: nn.Dims{2}}, [][]int{{8, 8, 8}}, "out of range"},
		{&nn.ScaleMax{Group: 4, Scales: []int{0}, Kernel: nn.Dims{-2}}, [][]int{{8, 8, 8}}, "kernel"},
		{&nn.ScaleMax{Group: 4, Scales: []int{0}, Kernel: nn.Dims{9}}, [][]int{{8, 8, 8}}, "does not fit"},
		{&nn.RBF{Prototypes: 0, Size: 2}, [][]int{{4, 8, 8}}, "prototypes"},
		{&nn.RBF{Prototypes: 3, Size: -1}, [][]int{{4, 8, 8}}, "size"},
		{&nn.RBF{Prototypes: 3, Size: 9}, [][]int{{4, 8, 8}}, "larger than every input"},
		{&nn.RBF{Prototypes: 3, Size: 2}, [][]int{{4, 8, 8}, {3, 8, 8}}, "channels"},
		{&nn.GlobalMax{}, nil, "at least one"},
	}
	for _, c := range cases {
		_, err := c.op.Build(c.in, rand.New(rand.NewPCG(1, 1)))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: error %v, want one mentioning %q", c.op.Type(), c.op, err, c.want)
		}
	}
}

// A graph of the new ops survives the trip through a spec file.
func TestGaborHMAXSpecRoundTrip(t *testing.T) {
	g := &nn.Graph{Name: "mini-hmax", InputShape: []int{1, 24, 24}}
	g.Add("s1", smallGabor(), nn.InputName)
	g.Add("c1a", &nn.ScaleMax{Group: 4, Scales: []int{0, 1}, Kernel: nn.Dims{4}, Stride: nn.Dims{2}}, "s1")
	g.Add("c1b", &nn.ScaleMax{Group: 4, Scales: []int{1, 2}, Kernel: nn.Dims{6}, Stride: nn.Dims{3}}, "s1")
	g.Add("s2", &nn.RBF{Prototypes: 3, Size: 2, Sigma: 1.5}, "c1a", "c1b")
	g.Add("energy", &nn.Energy{Group: 2, Sqrt: true}, "s1")
	g.Add("c2", &nn.GlobalMax{}, "s2", "energy")
	js, err := g.SpecJSON()
	if err != nil {
		t.Fatal(err)
	}
	y, _ := g.SpecYAML()
	g2, err := nn.ParseSpec(y, "mini.yaml")
	if err != nil {
		t.Fatal(err)
	}
	js2, _ := g2.SpecJSON()
	if string(js) != string(js2) {
		t.Fatalf("spec changed:\n%s\n%s", js, js2)
	}
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	if err := g2.Build(3); err != nil {
		t.Fatal(err)
	}
	d1, _ := g.Digest()
	d2, _ := g2.Digest()
	if d1 != d2 {
		t.Error("same spec and seed give different digests")
	}
	g2.Node("s2").Op.(*nn.RBF).PrototypeTensor().Data[0] += 1
	if d3, _ := g2.Digest(); d3 == d2 {
		t.Error("prototypes are not in the digest")
	}
	x := randTensor(rand.New(rand.NewPCG(1, 1)), 2, 1, 24, 24)
	tr, err := g.Forward(nil, x, "c1a", "s2")
	if err != nil {
		t.Fatal(err)
	}
	if out := tr.Output(); !tensor.SameShape(out.Shape, []int{2, 3 + 6}) || out.HasNaN() {
		t.Errorf("c2 output %v", out.Shape)
	}
	if tr.Out("c1a") == nil || tr.Out("s2") == nil {
		t.Error("kept layers not readable")
	}
	nntest.CheckGraph(t, g, nntest.Opts{Train: true, Kinky: true, Samples: 20, Eps: 1e-3, RTol: 5e-2, ATol: 5e-3})
}
