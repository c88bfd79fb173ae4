package models

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// mnistSubset returns the first n MNIST images of a split with their labels, or skips.
func mnistSubset(t *testing.T, split string, n int) (*tensor.Tensor, []int) {
	t.Helper()
	d, err := datasets.Load("mnist", split)
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	n = min(n, d.N)
	return tensor.FromData(d.X[:n*d.ImageSize()], n, d.C, d.H, d.W), d.Labels[:n]
}

func newNeo(t *testing.T, seed uint64) *nn.Graph {
	t.Helper()
	g, err := Get("neocognitron")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(seed); err != nil {
		t.Fatal(err)
	}
	return g
}

func unitPlanes(g *nn.Graph, layer string) [][]float64 {
	w := g.Node(layer).Op.(*nn.SCell).WeightTensor()
	p := w.Shape[0]
	n := w.Len() / p
	var out [][]float64
	for i := 0; i < p; i++ {
		var ss float64
		row := w.Data[i*n : (i+1)*n]
		for _, v := range row {
			ss += float64(v) * float64(v)
		}
		if ss == 0 {
			continue
		}
		u := make([]float64, n)
		for j, v := range row {
			u[j] = float64(v) / math.Sqrt(ss)
		}
		out = append(out, u)
	}
	return out
}

// Competitive learning recruits planes whose preferred patches differ, wins are spread over
// the planes, learning is deterministic for a seed, and the readout on the learned features
// beats chance by far and beats the random-weight baseline.
func TestNeocognitronLearnsSelectivePlanes(t *testing.T) {
	x, _ := mnistSubset(t, "train", 600)
	learnX := tensor.FromData(x.Data[:200*784], 200, 1, 28, 28)
	roX, roY := tensor.FromData(x.Data[200*784:], 400, 1, 28, 28), mnistLabels(t, "train", 600)[200:]
	teX, teY := mnistSubset(t, "test", 200)

	g := newNeo(t, 1)
	var log strings.Builder
	stats, err := TrainNeocognitron(g, learnX, NeoConfig{Log: &log}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "s3: epoch 1/1, 200/200 images") {
		t.Errorf("no progress shown: %q", log.String())
	}
	for _, st := range stats {
		planes := g.Node(st.Layer).Op.(*nn.SCell).Planes
		if st.Planes < planes/4 {
			t.Errorf("%s: only %d of %d planes recruited", st.Layer, st.Planes, planes)
		}
		// Winners are distributed: no plane takes more than a quarter of the reinforcements.
		for p, w := range st.Wins {
			if w > st.Updates/4 {
				t.Errorf("%s: plane %d won %d of %d reinforcements", st.Layer, p, w, st.Updates)
			}
		}
		// Preferred patches differ: no two planes are nearly parallel.
		u := unitPlanes(g, st.Layer)
		if len(u) != st.Planes {
			t.Errorf("%s: %d non-zero planes, stats say %d", st.Layer, len(u), st.Planes)
		}
		for i := range u {
			for j := i + 1; j < len(u); j++ {
				var c float64
				for k := range u[i] {
					c += u[i][k] * u[j][k]
				}
				if c > 0.985 {
					t.Errorf("%s: planes %d and %d have cosine %.3f", st.Layer, i, j, c)
				}
			}
		}
	}
	// Deterministic for a seed; another seed presents the images in another order.
	same := func(a, b *nn.Graph, layer string) bool {
		wa, wb := a.Node(layer).Op.(*nn.SCell).WeightTensor(), b.Node(layer).Op.(*nn.SCell).WeightTensor()
		for i := range wa.Data {
			if wa.Data[i] != wb.Data[i] {
				return false
			}
		}
		return true
	}
	g2 := newNeo(t, 1)
	if _, err := TrainNeocognitron(g2, learnX, NeoConfig{Layers: []string{"s1", "s2"}}, 5); err != nil {
		t.Fatal(err)
	}
	if !same(g, g2, "s1") || !same(g, g2, "s2") {
		t.Error("same images and seed gave different planes")
	}
	g3 := newNeo(t, 1)
	if _, err := TrainNeocognitron(g3, learnX, NeoConfig{Layers: []string{"s1"}}, 6); err != nil {
		t.Fatal(err)
	}
	if same(g, g3, "s1") {
		t.Error("another seed gave the same planes")
	}

	acc := func(g *nn.Graph) float64 {
		f, err := NeocognitronFeatures(g, roX)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := FitNeocognitronReadout(g, f, roY, ReadoutConfig{Epochs: 5}, 1); err != nil {
			t.Fatal(err)
		}
		ft, err := NeocognitronFeatures(g, teX)
		if err != nil {
			t.Fatal(err)
		}
		a, err := NeocognitronAccuracy(g, ft, teY)
		if err != nil {
			t.Fatal(err)
		}
		// The readout written into the graph gives the same predictions through Forward.
		tr, err := g.Forward(nn.NewCtx(false, 0), tensor.FromData(teX.Data[:20*784], 20, 1, 28, 28))
		if err != nil {
			t.Fatal(err)
		}
		out := tr.Output()
		z := make([]float32, 20*10)
		ps := g.Node(NeocognitronReadout).Op.(*nn.Dense).Params()
		tensor.Sgemm(false, true, 20, 10, ft.Shape[1], 1, ft.Data, ft.Shape[1], ps[0].Value.Data, ft.Shape[1], 0, z, 10)
		for i := range z {
			if d := z[i] + ps[1].Value.Data[i%10] - out.Data[i]; math.Abs(float64(d)) > 1e-3 {
				t.Fatalf("graph output %v differs from the readout's %v", out.Data[i], z[i]+ps[1].Value.Data[i%10])
			}
		}
		return a
	}
	learned, random := acc(g), acc(newNeo(t, 1))
	t.Logf("test accuracy on 200 digits: learned %.3f, random %.3f (200 unsupervised, 400 readout)", learned, random)
	if learned < 0.6 {
		t.Errorf("learned neocognitron: accuracy %.3f, want far above chance (0.1)", learned)
	}
	if learned <= random {
		t.Errorf("learned %.3f does not beat random weights %.3f", learned, random)
	}
}

func mnistLabels(t *testing.T, split string, n int) []int {
	_, y := mnistSubset(t, split, n)
	return y
}

// pearson correlates two equally long vectors.
func pearson(a, b []float32) float64 {
	var ma, mb float64
	for i := range a {
		ma += float64(a[i])
		mb += float64(b[i])
	}
	ma /= float64(len(a))
	mb /= float64(len(b))
	var sab, saa, sbb float64
	for i := range a {
		da, db := float64(a[i])-ma, float64(b[i])-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	return sab / math.Sqrt(saa*sbb+1e-30)
}

// The C-layer tolerates a small shift of the digit better than the S-layer it pools.
func TestNeocognitronCLayerToleratesShifts(t *testing.T) {
	x, _ := mnistSubset(t, "test", 100)
	g := newNeo(t, 1)
	if _, err := TrainNeocognitron(g, tensor.FromData(x.Data[:50*784], 50, 1, 28, 28), NeoConfig{Layers: []string{"s1"}}, 1); err != nil {
		t.Fatal(err)
	}
	imgs := tensor.FromData(x.Data[50*784:], 50, 1, 28, 28)
	for _, shift := range []int{1, 2} {
		shifted := tensor.New(50, 1, 28, 28)
		for i := 0; i < 50; i++ {
			for y := 0; y < 28; y++ {
				for xx := shift; xx < 28; xx++ {
					shifted.Data[i*784+y*28+xx] = imgs.Data[i*784+y*28+xx-shift]
				}
			}
		}
		ctx := nn.NewCtx(false, 0)
		a, err := g.Forward(ctx, imgs, "s1", "c1")
		if err != nil {
			t.Fatal(err)
		}
		b, err := g.Forward(nn.NewCtx(false, 0), shifted, "s1", "c1")
		if err != nil {
			t.Fatal(err)
		}
		rs, rc := pearson(a.Out("s1").Data, b.Out("s1").Data), pearson(a.Out("c1").Data, b.Out("c1").Data)
		t.Logf("shift %d px: S1 correlation %.3f, C1 correlation %.3f", shift, rs, rc)
		if rc < rs+0.1 {
			t.Errorf("shift %d: C1 correlation %.3f not clearly above S1's %.3f", shift, rc, rs)
		}
	}
}

func TestNeocognitronBadParameters(t *testing.T) {
	g := newNeo(t, 1)
	x := tensor.New(2, 1, 28, 28)
	for _, c := range []struct {
		cfg  NeoConfig
		want string
	}{
		{NeoConfig{Epochs: -1}, "must be >= 0"},
		{NeoConfig{Competition: -2}, "must be >= 0"},
		{NeoConfig{MinContrast: 1.5}, "min contrast"},
		{NeoConfig{Layers: []string{"c1"}}, "no s_cell layer"},
	} {
		if _, err := TrainNeocognitron(g, x, c.cfg, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.cfg, err, c.want)
		}
	}
	if _, err := TrainNeocognitron(g, tensor.New(2, 1, 20, 20), NeoConfig{}, 1); err == nil || !strings.Contains(err.Error(), "expected [N [1 28 28]]") {
		t.Errorf("wrong image shape: %v", err)
	}
	f := tensor.New(3, 1024)
	if _, err := FitNeocognitronReadout(g, f, []int{0, 1, 10}, ReadoutConfig{}, 1); err == nil || !strings.Contains(err.Error(), "outside 0..9") {
		t.Errorf("bad label: %v", err)
	}
	if _, err := FitNeocognitronReadout(g, tensor.New(3, 100), []int{0, 1, 2}, ReadoutConfig{}, 1); err == nil {
		t.Error("wrong feature width accepted")
	}
	for spec, want := range map[string]string{
		"planes: 0":         "planes must be positive",
		"planes: -3":        "planes must be positive",
		"kernel: -5":        "kernel",
		"selectivity: 1.2":  "selectivity",
		"selectivity: -0.1": "selectivity",
	} {
		y := "name: bad\ninput: [1, 28, 28]\nlayers:\n  - {name: s1, type: s_cell, planes: 4, kernel: 5, " + spec + "}\n"
		y = strings.Replace(y, "planes: 4, kernel: 5, planes:", "kernel: 5, planes:", 1)
		y = strings.Replace(y, "kernel: 5, kernel:", "kernel:", 1)
		g, err := nn.ParseSpec([]byte(y), "bad.yaml")
		if err == nil {
			err = g.Build(1)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", spec, err, want)
		}
	}
}
