package nn_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/nn/nntest"
	"github.com/ventral-lab/ventral/tensor"
)

func TestLocal2DMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	l := &nn.Local2D{Out: 3, Kernel: nn.Dims{3, 2}, Stride: nn.Dims{2, 1}, Pad: nn.Dims{1}}
	shape := build(t, l, []int{2, 5, 4})
	oh, ow := shape[1], shape[2]
	x := randT(rng, 3, 2, 5, 4)
	y, _ := l.Forward(nil, []*tensor.Tensor{x})
	w, b := l.Weight().Value.Data, l.Bias().Value.Data
	want := tensor.New(3, 3, oh, ow)
	for s := 0; s < 3; s++ {
		for o := 0; o < 3; o++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					q := i*ow + j
					sum := float64(b[o*oh*ow+q])
					for c := 0; c < 2; c++ {
						for a := 0; a < 3; a++ {
							for bb := 0; bb < 2; bb++ {
								yy, xx := i*2-1+a, j-1+bb
								if yy < 0 || yy >= 5 || xx < 0 || xx >= 4 {
									continue
								}
								sum += float64(w[(q*3+o)*12+(c*3+a)*2+bb]) * float64(x.Data[((s*2+c)*5+yy)*4+xx])
							}
						}
					}
					want.Data[((s*3+o)*oh+i)*ow+j] = float32(sum)
				}
			}
		}
	}
	closeTo(t, "local2d", y.Data, want.Data, 1e-4)
	nntest.CheckOp(t, &nn.Local2D{Out: 2, Kernel: nn.Dims{3}, Pad: nn.Dims{1}, Stride: nn.Dims{2}}, [][]int{{2, 5, 5}}, nntest.Opts{Batch: 3})
}

func TestUpsampleScaleSoftmax(t *testing.T) {
	x := tensor.FromData([]float32{1, 2, 3, 4, 5, 6}, 1, 1, 2, 3)
	u := &nn.Upsample{}
	if s := build(t, u, []int{1, 2, 3}); !tensor.SameShape(s, []int{1, 4, 6}) {
		t.Fatalf("upsample shape %v", s)
	}
	y, _ := u.Forward(nil, []*tensor.Tensor{x})
	closeTo(t, "upsample", y.Data, []float32{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 4, 4, 5, 5, 6, 6}, 0)
	nntest.CheckOp(t, &nn.Upsample{Factor: 3}, [][]int{{2, 2, 3}}, nntest.Opts{})

	half := float32(0.5)
	sc := &nn.Scale{Init: &half, Fixed: true}
	build(t, sc, []int{2, 3})
	xs := randT(rand.New(rand.NewPCG(1, 1)), 2, 2, 3)
	sc.Gain().Data[1] = 3
	ys, _ := sc.Forward(nil, []*tensor.Tensor{xs})
	for i := range ys.Data {
		g := []float32{0.5, 3}[i/3%2]
		closeTo(t, "scale", ys.Data[i:i+1], []float32{xs.Data[i] * g}, 1e-6)
	}
	if sc.Params() != nil || sc.Buffers()["gain"] == nil {
		t.Error("fixed gains must be a buffer, not a parameter")
	}
	nntest.CheckOp(t, &nn.Scale{}, [][]int{{3, 2, 2}}, nntest.Opts{})

	sm := &nn.SoftmaxOp{}
	build(t, sm, []int{3, 2})
	xm := randT(rand.New(rand.NewPCG(2, 2)), 2, 3, 2)
	ym, _ := sm.Forward(nil, []*tensor.Tensor{xm})
	for s := 0; s < 2; s++ {
		for q := 0; q < 2; q++ {
			z := 0.0
			for c := 0; c < 3; c++ {
				z += math.Exp(float64(xm.Data[(s*3+c)*2+q]))
			}
			for c := 0; c < 3; c++ {
				i := (s*3+c)*2 + q
				closeTo(t, "softmax", ym.Data[i:i+1], []float32{float32(math.Exp(float64(xm.Data[i])) / z)}, 1e-5)
			}
		}
	}
	nntest.CheckOp(t, &nn.SoftmaxOp{}, [][]int{{4, 2}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.SoftmaxOp{}, [][]int{{5}}, nntest.Opts{Batch: 3})
}

// Every op of this package round-trips through a spec and builds in a small recurrent model.
func TestSpecAllLayers(t *testing.T) {
	src := `name: all
input: [3, 8, 8]
steps: 2
layers:
  - {name: c1, type: conv2d, out: 4, kernel: 3, pad: 1, init: torch}
  - {name: td, type: upsample, inputs: [p1@prev]}
  - {name: sum, type: add, inputs: [c1, td]}
  - {name: bn, type: batchnorm, momentum: 0.05}
  - {name: g, type: gain, fixed: true, init: 2}
  - {name: r, type: relu}
  - {name: lrn, type: lrn, size: 3}
  - {name: dn, type: divnorm}
  - {name: gn, type: groupnorm, groups: 2}
  - {name: p1, type: maxpool2d, kernel: 2}
  - {name: p2, type: avgpool2d, kernel: 3, stride: 1, pad: 1, inputs: [p1]}
  - {name: l, type: local2d, out: 2, kernel: 2}
  - {name: a, type: adaptive_avgpool, out: 2}
  - {name: s, type: scale}
  - {name: gp, type: global_avgpool}
  - {name: sm, type: softmax}
`
	g, err := nn.ParseSpec([]byte(src), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	b, _ := g.SpecYAML()
	g2, err := nn.ParseSpec(b, "rt.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if err := g2.Build(1); err != nil {
		t.Fatal(err)
	}
	b1, _ := g.SpecJSON()
	b2, _ := g2.SpecJSON()
	if string(b1) != string(b2) {
		t.Errorf("round trip:\n%s\n%s", b1, b2)
	}
	if bufs := nn.GraphBuffers(g); len(bufs) != 3 {
		t.Errorf("buffers %v", bufs)
	}
	nntest.CheckGraph(t, g, nntest.Opts{Batch: 2, Train: true, Kinky: true, Samples: 20, Eps: 2e-3})
}
