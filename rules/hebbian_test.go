package rules

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// gaussianData draws n zero-mean points in d dimensions with standard deviations sd along a
// random rotation.
func gaussianData(n int, sd []float64, seed uint64) *tensor.Tensor {
	d := len(sd)
	r := rand.New(rand.NewPCG(seed, 3))
	q := mat.NewDense(d, d, nil)
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			q.Set(i, j, r.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(q)
	var rot mat.Dense
	qr.QTo(&rot)
	x := tensor.New(n, d)
	for s := 0; s < n; s++ {
		z := make([]float64, d)
		for i := range z {
			z[i] = r.NormFloat64() * sd[i]
		}
		for i := 0; i < d; i++ {
			var v float64
			for j := 0; j < d; j++ {
				v += rot.At(i, j) * z[j]
			}
			x.Data[s*d+i] = float32(v)
		}
	}
	return x
}

// eigenvectors of the sample second-moment matrix, largest eigenvalue first.
func eigenvectors(x *tensor.Tensor) [][]float64 {
	n, d := x.Shape[0], x.Shape[1]
	c := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			var s float64
			for k := 0; k < n; k++ {
				s += float64(x.Data[k*d+i]) * float64(x.Data[k*d+j])
			}
			c.SetSym(i, j, s/float64(n))
		}
	}
	var eg mat.EigenSym
	if !eg.Factorize(c, true) {
		panic("eigendecomposition failed")
	}
	var v mat.Dense
	eg.VectorsTo(&v)
	out := make([][]float64, d)
	for k := 0; k < d; k++ {
		col := d - 1 - k // ascending order
		out[k] = make([]float64, d)
		for i := 0; i < d; i++ {
			out[k][i] = v.At(i, col)
		}
	}
	return out
}

func absCos(w []float32, v []float64) float64 {
	var s, nw, nv float64
	for i := range v {
		s += float64(w[i]) * v[i]
		nw += float64(w[i]) * float64(w[i])
		nv += v[i] * v[i]
	}
	return math.Abs(s) / math.Sqrt(nw*nv)
}

// Oja's rule (Sanger's form for several units) finds the principal components: on zero-mean
// Gaussian data with standard deviations 3, 2, 1, 0.5, 0.3, 0.2 along a random rotation, the
// first filter ends along the first eigenvector of the sample covariance (gonum's
// eigendecomposition) and the second along the second, each with unit norm.
func TestOjaFindsPrincipalComponents(t *testing.T) {
	x := gaussianData(4000, []float64{3, 2, 1, 0.5, 0.3, 0.2}, 1)
	ev := eigenvectors(x)
	const k, d = 2, 6
	r := rand.New(rand.NewPCG(2, 2))
	w := make([]float32, k*d)
	for i := range w {
		w[i] = float32(r.NormFloat64())
	}
	normalizeRows(w, k, d)
	if c := absCos(w[:d], ev[0]); c > 0.9 {
		t.Fatalf("a test that cannot fail: the random start is already along PC1 (|cos| %.3f)", c)
	}
	const m, epochs = 50, 20
	steps := epochs * 4000 / m
	for s := 0; s < steps; s++ {
		lo := (s * m) % 4000
		batch := tensor.FromData(x.Data[lo*d:(lo+m)*d], m, d)
		ojaStep(w, batch, k, d, 0.05*(1-float64(s)/float64(steps)))
	}
	for i := 0; i < k; i++ {
		row := w[i*d : (i+1)*d]
		if c := absCos(row, ev[i]); c < 0.995 {
			t.Errorf("filter %d: |cos| with eigenvector %d is %.4f, want > 0.995", i, i, c)
		}
		if n := math.Sqrt(dot(row, row)); math.Abs(n-1) > 0.02 {
			t.Errorf("filter %d has norm %.3f, want 1", i, n)
		}
	}
}

// The soft winner-take-all rule clusters: on points around three directions (unit centres,
// radii 0.5 to 1.5, Gaussian jitter 0.05), from k-means++ seeds, its three filters end along
// the three centres, one each, and the winning filter of every point is its cluster.
func TestWTAFindsClusters(t *testing.T) {
	const k, d, n = 3, 8, 3000
	r := rand.New(rand.NewPCG(4, 4))
	centres := make([][]float64, k)
	for c := range centres {
		centres[c] = make([]float64, d)
		var nn float64
		for i := range centres[c] {
			centres[c][i] = r.NormFloat64()
			nn += centres[c][i] * centres[c][i]
		}
		for i := range centres[c] {
			centres[c][i] /= math.Sqrt(nn)
		}
	}
	x := tensor.New(n, d)
	labels := make([]int, n)
	for s := 0; s < n; s++ {
		c := r.IntN(k)
		labels[s] = c
		rad := 0.5 + r.Float64()
		for i := 0; i < d; i++ {
			x.Data[s*d+i] = float32(centres[c][i]*rad + 0.05*r.NormFloat64())
		}
	}
	w := make([]float32, k*d)
	seedFilters(w, tensor.FromData(x.Data[:300*d], 300, d), k, d, r)
	const m, epochs = 30, 10
	steps := epochs * n / m
	for s := 0; s < steps; s++ {
		lo := (s * m) % n
		wtaStep(w, tensor.FromData(x.Data[lo*d:(lo+m)*d], m, d), k, d, 0.1*(1-float64(s)/float64(steps)), 0.1)
	}
	match := make([]int, k) // filter -> centre
	used := map[int]bool{}
	for f := 0; f < k; f++ {
		best, bc := -1, -2.0
		for c := 0; c < k; c++ {
			var s float64
			for i := 0; i < d; i++ {
				s += float64(w[f*d+i]) * centres[c][i]
			}
			s /= math.Sqrt(dot(w[f*d:(f+1)*d], w[f*d:(f+1)*d]))
			if s > bc {
				best, bc = c, s
			}
		}
		if bc < 0.99 {
			t.Errorf("filter %d: best cosine with a centre %.3f, want > 0.99", f, bc)
		}
		if used[best] {
			t.Errorf("two filters found centre %d", best)
		}
		used[best] = true
		match[f] = best
	}
	wrong := 0
	for s := 0; s < n; s++ {
		xs := x.Data[s*d : (s+1)*d]
		bf, bu := 0, math.Inf(-1)
		for f := 0; f < k; f++ {
			if u := cosine(xs, w[f*d:(f+1)*d]); u > bu {
				bf, bu = f, u
			}
		}
		if match[bf] != labels[s] {
			wrong++
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d points won by another cluster's filter", wrong, n)
	}
}

// On a convolution, the patches are the layer's receptive fields in the weight's layout: with
// images whose first channel is a constant per image plus noise and whose second channel is
// faint noise, Oja's filter converges to the uniform vector over the first channel's taps
// (the patches' first principal component), near zero on the second channel.
func TestHebbianConvLayout(t *testing.T) {
	const n = 400
	r := rand.New(rand.NewPCG(5, 5))
	ds := &datasets.Dataset{Name: "toy", N: n, C: 2, H: 6, W: 6, X: make([]float32, n*72), Labels: make([]int, n), Classes: []string{"a"}}
	for s := 0; s < n; s++ {
		v := r.NormFloat64()
		for i := 0; i < 36; i++ {
			ds.X[s*72+i] = float32(v + 0.1*r.NormFloat64())
			ds.X[s*72+36+i] = float32(0.1 * r.NormFloat64())
		}
	}
	g := &nn.Graph{Name: "c", InputShape: []int{2, 6, 6}}
	g.Chain("conv", &nn.Conv2D{Out: 1, Kernel: nn.Dims{3}}).Chain("relu", nn.ReLU()).Chain("fc", &nn.Dense{Out: 1})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	if l := HebbianLayers(g); len(l) != 1 || l[0] != "conv" {
		t.Fatalf("hebbian layers %v", l)
	}
	res, err := TrainHebbian(g, ds, nil, HebbConfig{Rule: "oja", Epochs: 5, Batch: 20, Patches: 8, LR: 0.5, Seed: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := g.Node("conv").Op.(*nn.Conv2D).Weight().Value.Data
	want := make([]float64, 18)
	for i := 0; i < 9; i++ {
		want[i] = 1
	}
	if c := absCos(w, want); c < 0.99 {
		t.Fatalf("filter %v: |cos| with the uniform first-channel vector %.4f, want > 0.99 (%+v)", w, c, res)
	}
}

// HebbianNet keeps the feature extractor and puts a readout on its flattened output, frozen
// below it.
func TestHebbianNet(t *testing.T) {
	base := zoo(t, "cifar-cnn")
	g, err := HebbianNet(base, 10, 1)
	if err != nil {
		t.Fatal(err)
	}
	names := g.LayerNames()
	if names[len(names)-1] != "readout" || g.Node("fc1") != nil || g.Node("conv4") == nil || g.Meta[MetaFreezeUntil] != "flatten" {
		t.Fatalf("layers %v, freeze at %q", names, g.Meta[MetaFreezeUntil])
	}
	if sh := g.Node("readout").Shape; len(sh) != 1 || sh[0] != 10 {
		t.Fatalf("readout shape %v", sh)
	}
	if l := HebbianLayers(g); len(l) != 4 {
		t.Fatalf("hebbian layers %v, want conv1..conv4", l)
	}
}
