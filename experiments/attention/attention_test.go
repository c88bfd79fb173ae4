package attention

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/train"
)

// synthetic returns n 3x8x8 images of 3 classes: class c is a bright blob on channel c at a
// random place, over noise.
func synthetic(n int, seed uint64) *datasets.Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	ds := &datasets.Dataset{Name: "synthetic", N: n, C: 3, H: 8, W: 8, Classes: []string{"r", "g", "b"}}
	ds.X = make([]float32, n*3*64)
	ds.Labels = make([]int, n)
	for i := 0; i < n; i++ {
		c := i % 3
		ds.Labels[i] = c
		img := ds.X[i*192 : (i+1)*192]
		for j := range img {
			img[j] = float32(rng.Float64() * 0.5)
		}
		y, x := rng.IntN(6), rng.IntN(6)
		for dy := 0; dy < 3; dy++ {
			for dx := 0; dx < 3; dx++ {
				img[c*64+(y+dy)*8+x+dx] += 0.5
			}
		}
	}
	return ds
}

func tinyNet() *nn.Graph {
	g := &nn.Graph{Name: "tiny", InputShape: []int{3, 8, 8}}
	g.Chain("conv1", &nn.Conv2D{Out: 8, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}).Chain("relu1", nn.ReLU()).
		Chain("pool1", &nn.MaxPool2D{Kernel: nn.Dims{2}}).
		Chain("conv2", &nn.Conv2D{Out: 8, Kernel: nn.Dims{3}, Pad: nn.Dims{1}}).Chain("relu2", nn.ReLU()).
		Chain("gap", &nn.GlobalAvgPool{}).Chain("fc", &nn.Dense{Out: 3})
	return g
}

func trained(t *testing.T) (*nn.Graph, *datasets.Dataset, *datasets.Dataset) {
	t.Helper()
	g := tinyNet()
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	tr, te := synthetic(300, 1), synthetic(150, 2)
	if _, err := train.Run(train.Config{Model: g, Train: tr, Epochs: 3, Batch: 16, Optim: optim.Config{Name: "adam", LR: 0.01}, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	return g, tr, te
}

func TestBetaZeroIsIdentityAndGainIsInserted(t *testing.T) {
	g, tr, te := trained(t)
	tun, err := ComputeTuning(g, "relu1", tr, 64)
	if err != nil {
		t.Fatal(err)
	}
	if len(tun.F) != 3 || len(tun.F[0]) != 8 {
		t.Fatalf("tuning shape %dx%d", len(tun.F), len(tun.F[0]))
	}
	for k := 0; k < 8; k++ { // normalised: zero mean and unit spread over categories (or all 0)
		var s, ss float64
		for c := 0; c < 3; c++ {
			s += tun.F[c][k]
			ss += tun.F[c][k] * tun.F[c][k]
		}
		if math.Abs(s) > 1e-9 || (ss != 0 && math.Abs(ss/3-1) > 1e-9) {
			t.Errorf("map %d: tuning sum %g, mean square %g", k, s, ss/3)
		}
	}
	a, err := Attend(g, "relu1")
	if err != nil {
		t.Fatal(err)
	}
	if n := a.Graph.Node("relu1" + GainSuffix); n == nil || n.Op.Type() != "gain" || a.Graph.Node("pool1").Inputs[0] != "relu1"+GainSuffix {
		t.Fatal("gain op not inserted between relu1 and pool1")
	}
	if a.Graph.NumParams() != g.NumParams() {
		t.Errorf("attended copy has %d parameters, the model %d (the gains must be fixed)", a.Graph.NumParams(), g.NumParams())
	}
	base, err := Logits(g, te, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Attend(tun, 1, 0); err != nil {
		t.Fatal(err)
	}
	same, err := Logits(a.Graph, te, 64)
	if err != nil {
		t.Fatal(err)
	}
	for i := range base {
		for j := range base[i] {
			if base[i][j] != same[i][j] {
				t.Fatalf("beta 0 changed logit [%d][%d]: %g -> %g", i, j, base[i][j], same[i][j])
			}
		}
	}
	// beta > 0 raises the attended category's logit on average, at either layer.
	for _, layer := range []string{"relu1", "relu2"} {
		tun, _ := ComputeTuning(g, layer, tr, 64)
		a, _ := Attend(g, layer)
		var change float64
		for c := 0; c < 3; c++ {
			a.Attend(tun, c, 1)
			lg, err := Logits(a.Graph, te, 64)
			if err != nil {
				t.Fatal(err)
			}
			change += Detect(lg, te.Labels, c).MeanLogit - Detect(base, te.Labels, c).MeanLogit
		}
		if change <= 0 {
			t.Errorf("%s: attention at beta 1 changed the attended logit by %g on average, want > 0", layer, change/3)
		}
	}
	if g := Gains([]float64{-2, 0, 1}, 1); g[0] != 0 || g[1] != 1 || g[2] != 2 {
		t.Errorf("gains %v, want [0 1 2] (clipped at 0)", g)
	}
	if _, err := Attend(g, "fc"); err == nil {
		t.Error("attention on a vector layer: no error")
	}
	if _, err := Attend(g, "nope"); err == nil {
		t.Error("attention on an unknown layer: no error")
	}
}

func TestDetect(t *testing.T) {
	logits := [][]float32{{3, 1}, {2, 1}, {0, 1}, {1, 4}}
	d := Detect(logits, []int{0, 0, 1, 1}, 0)
	if d.AUC != 1 || d.Hit != 1 || d.FalseAlarm != 0 || d.Accuracy != 1 || d.MeanLogit != 1.5 {
		t.Errorf("%+v", d)
	}
	// clipped rates: z(1-1/4) - z(1/4) = 2 * 0.6745
	if math.Abs(d.DPrime-1.34898) > 1e-4 {
		t.Errorf("d' %g", d.DPrime)
	}
	if a := auc([]float64{1, 2}, []float64{2, 0}); a != 0.625 {
		t.Errorf("auc with a tie %g, want 0.625", a)
	}
}

func TestExperimentEndToEnd(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "tiny.yaml")
	if err := tinyNet().SaveSpec(spec); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.Model, cfg.Train, cfg.Test = spec, synthetic(300, 1), synthetic(90, 2)
	cfg.TrainN, cfg.Epochs, cfg.TuningN, cfg.TestN, cfg.LR, cfg.Batch = 300, 2, 150, 90, 0.01, 16
	cfg.Betas = []float64{0, 2}
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// 2 layers x (clean, merged) x 2 betas.
	if len(res.Rows) != 8 || res.Rows[0].Layer != "relu1" || res.Rows[7].Layer != "relu2" || res.Rows[0].LogitChange != 0 ||
		res.Rows[0].Images != "clean" || res.Rows[2].Images != "merged" {
		t.Fatalf("rows %+v", res.Rows)
	}
	// Two objects per merged image: a category is present in about twice as many merged
	// images, and the unattended model detects it worse than in single images.
	if m, c := res.Rows[2], res.Rows[0]; !(m.AUC < c.AUC) {
		t.Errorf("merged AUC %.3f not below clean %.3f", m.AUC, c.AUC)
	}
	if !strings.Contains(res.Summary(), "merged images: unattended AUC") {
		t.Errorf("summary %q", res.Summary())
	}
	var buf bytes.Buffer
	res.WriteTable(&buf)
	if !strings.Contains(buf.String(), "settings: model") || !strings.Contains(buf.String(), "relu2") {
		t.Errorf("table:\n%s", buf.String())
	}
	csvPath := filepath.Join(dir, "a.csv")
	if err := res.WriteCSV(csvPath); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(csvPath)
	if n := strings.Count(string(b), "\n"); n != 9 {
		t.Errorf("csv has %d lines, want 9", n)
	}
	cfg.Betas = []float64{-1}
	if _, err := Run(cfg); err == nil {
		t.Error("negative beta: no error")
	}
}

func TestMergeAndDetectObjects(t *testing.T) {
	ds := synthetic(40, 7)
	m, objs, err := Merge(ds, 3)
	if err != nil {
		t.Fatal(err)
	}
	per := ds.ImageSize()
	for i, o := range objs {
		if len(o) != 2 || o[0] != ds.Labels[i] || o[1] == o[0] {
			t.Fatalf("image %d: categories %v, label %d", i, o, ds.Labels[i])
		}
		// The merged image is the mean of image i and some image of category o[1].
		found := false
		for j := 0; j < ds.N && !found; j++ {
			if ds.Labels[j] != o[1] {
				continue
			}
			same := true
			for p := 0; p < per && same; p++ {
				same = math.Abs(float64(m.X[i*per+p]-(ds.X[i*per+p]+ds.X[j*per+p])/2)) < 1e-6
			}
			found = same
		}
		if !found {
			t.Fatalf("merged image %d is not the mean of image %d and an image of category %d", i, i, o[1])
		}
	}
	again, _, _ := Merge(ds, 3)
	if !slices.Equal(again.X, m.X) {
		t.Error("same seed, other merged images")
	}
	// Top-k decisions: image 0 holds {0, 1}, image 1 holds {2}.
	logits := [][]float32{{3, 1, 2}, {0, 5, 1}}
	objects := [][]int{{0, 1}, {2}}
	d := DetectObjects(logits, objects, 1) // rank 3 in image 0 (miss); rank 1 in image 1 (false alarm)
	if d.Hit != 0 || d.FalseAlarm != 1 {
		t.Errorf("category 1: hit %v, false alarm %v", d.Hit, d.FalseAlarm)
	}
	d = DetectObjects(logits, objects, 2) // rank 2 of 2 objects in image 0 (false alarm); rank 2 of 1 in image 1 (miss)
	if d.Hit != 0 || d.FalseAlarm != 1 || d.AUC != 0 {
		t.Errorf("category 2: %+v", d)
	}
	if _, _, err := Merge(synthetic(1, 1), 1); err == nil {
		t.Error("merging one image: no error")
	}
}
