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

func randTensor(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.New(shape...)
	for i := range t.Data {
		t.Data[i] = float32(rng.NormFloat64())
	}
	return t
}

// naiveGabor convolves every filter directly ("same" size, zero padding).
func naiveGabor(g *nn.Gabor, x *tensor.Tensor) *tensor.Tensor {
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	nf := g.Orientations * max(len(g.Phases), 1)
	y := tensor.New(n, len(g.Sizes)*nf, h, w)
	for s := 0; s < n; s++ {
		for sc, sz := range g.Sizes {
			half := sz / 2
			for f := 0; f < nf; f++ {
				filt := g.Filter(sc, f)
				for i := 0; i < h; i++ {
					for j := 0; j < w; j++ {
						var u, ss float64
						for ci := 0; ci < c; ci++ {
							for a := 0; a < sz; a++ {
								for b := 0; b < sz; b++ {
									yy, xx := i-half+a, j-half+b
									if yy < 0 || xx < 0 || yy >= h || xx >= w {
										continue
									}
									v := float64(x.Data[((s*c+ci)*h+yy)*w+xx])
									u += float64(filt[a*sz+b]) * v
									ss += v * v
								}
							}
						}
						if g.Normalize {
							u /= math.Sqrt(ss + 1e-6)
						}
						switch g.Rectify {
						case "abs":
							u = math.Abs(u)
						case "relu":
							u = math.Max(u, 0)
						}
						y.Data[((s*len(g.Sizes)*nf+sc*nf+f)*h+i)*w+j] = float32(u)
					}
				}
			}
		}
	}
	return y
}

func smallGabor() *nn.Gabor {
	return &nn.Gabor{Sizes: []int{3, 5, 9}, Wavelengths: []float64{2.5, 4, 7}, Sigmas: []float64{1, 1.6, 2.8},
		Orientations: 2, Phases: []float64{0, 90}, Aspect: 0.5, Circular: true, Normalize: true, Rectify: "abs"}
}

func TestGaborMatchesDirectConvolution(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, mode := range []string{"", "relu", "abs"} {
		for _, norm := range []bool{false, true} {
			g := smallGabor()
			g.Rectify, g.Normalize = mode, norm
			if _, err := g.Build([][]int{{2, 11, 13}}, nil); err != nil {
				t.Fatal(err)
			}
			x := randTensor(rng, 2, 2, 11, 13)
			y, _ := g.Forward(nil, []*tensor.Tensor{x})
			want := naiveGabor(g, x)
			for i, v := range want.Data {
				if math.Abs(float64(v-y.Data[i])) > 1e-4*(1+math.Abs(float64(v))) {
					t.Fatalf("rectify %q normalize %v: y[%d] = %v, want %v", mode, norm, i, y.Data[i], v)
				}
			}
		}
	}
}

func TestGaborFiltersZeroMeanUnitNorm(t *testing.T) {
	g := smallGabor()
	if _, err := g.Build([][]int{{1, 16, 16}}, nil); err != nil {
		t.Fatal(err)
	}
	for s := range g.Sizes {
		for f := 0; f < 4; f++ {
			var sum, ss float64
			for _, v := range g.Filter(s, f) {
				sum += float64(v)
				ss += float64(v) * float64(v)
			}
			if math.Abs(sum) > 1e-5 || math.Abs(ss-1) > 1e-5 {
				t.Errorf("scale %d filter %d: sum %g, norm^2 %g", s, f, sum, ss)
			}
		}
	}
}

func TestGaborGradients(t *testing.T) {
	// Linear and normalised responses, several scales and channels.
	for _, norm := range []bool{true, false} {
		g := smallGabor()
		g.Rectify, g.Normalize = "", norm
		nntest.CheckOp(t, g, [][]int{{2, 9, 10}}, nntest.Opts{Eps: 1e-3})
	}
	// Rectified: kinks wherever a response crosses zero, so a small bank and map.
	for _, mode := range []string{"abs", "relu"} {
		g := smallGabor()
		g.Rectify, g.Sizes, g.Wavelengths, g.Sigmas = mode, []int{3}, []float64{2.5}, []float64{1}
		nntest.CheckOp(t, g, [][]int{{1, 5, 6}}, nntest.Opts{Kinky: true, Eps: 1e-3})
	}
}

func TestEnergyGradientsAndValues(t *testing.T) {
	nntest.CheckOp(t, &nn.Energy{Group: 2}, [][]int{{4, 3, 5}}, nntest.Opts{})
	nntest.CheckOp(t, &nn.Energy{Group: 4, Sqrt: true}, [][]int{{8, 3, 3}}, nntest.Opts{})
	e := &nn.Energy{Group: 2}
	if _, err := e.Build([][]int{{4, 1, 1}}, nil); err != nil {
		t.Fatal(err)
	}
	x := tensor.FromData([]float32{1, 2, 3, 4}, 1, 4, 1, 1)
	y, _ := e.Forward(nil, []*tensor.Tensor{x})
	if y.Data[0] != 5 || y.Data[1] != 25 {
		t.Errorf("energy of (1,2),(3,4) = %v, want [5 25]", y.Data)
	}
}

func TestGaborAndEnergyErrors(t *testing.T) {
	cases := []struct {
		op   nn.Op
		in   []int
		want string
	}{
		{&nn.Gabor{Sizes: []int{-3}, Wavelengths: []float64{2}, Sigmas: []float64{1}, Orientations: 4}, []int{1, 8, 8}, "odd"},
		{&nn.Gabor{Sizes: []int{4}, Wavelengths: []float64{2}, Sigmas: []float64{1}, Orientations: 4}, []int{1, 8, 8}, "odd"},
		{&nn.Gabor{Sizes: []int{5}, Wavelengths: []float64{2}, Sigmas: []float64{1}, Orientations: 0}, []int{1, 8, 8}, "orientations"},
		{&nn.Gabor{Sizes: []int{5}, Wavelengths: []float64{2, 3}, Sigmas: []float64{1}, Orientations: 2}, []int{1, 8, 8}, "per scale"},
		{&nn.Gabor{Sizes: []int{5}, Wavelengths: []float64{-2}, Sigmas: []float64{1}, Orientations: 2}, []int{1, 8, 8}, "wavelengths"},
		{&nn.Gabor{Sizes: []int{5}, Wavelengths: []float64{2}, Sigmas: []float64{1}, Orientations: 2, Rectify: "square"}, []int{1, 8, 8}, "rectify"},
		{&nn.Gabor{}, []int{1, 8, 8}, "sizes"},
		{&nn.Energy{Group: 0}, []int{4, 2, 2}, "group"},
		{&nn.Energy{Group: 3}, []int{4, 2, 2}, "multiple"},
	}
	for _, c := range cases {
		_, err := c.op.Build([][]int{c.in}, nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: error %v, want one mentioning %q", c.op.Type(), c.op, err, c.want)
		}
	}
}
