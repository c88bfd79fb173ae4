package smalldata

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/train"
)

// synthetic is n 3x8x8 images of three classes, each a noisy colour blob in its own corner.
func synthetic(n int, seed uint64) *datasets.Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	ds := &datasets.Dataset{Name: "toy", N: n, C: 3, H: 8, W: 8, X: make([]float32, n*192), Labels: make([]int, n), Classes: []string{"a", "b", "c"}}
	for i := 0; i < n; i++ {
		c := rng.IntN(3)
		ds.Labels[i] = c
		cy, cx := []int{2, 2, 5}[c], []int{2, 5, 3}[c]
		for ch := 0; ch < 3; ch++ {
			for y := 0; y < 8; y++ {
				for x := 0; x < 8; x++ {
					v := 0.3 + 0.15*rng.NormFloat64()
					if (y-cy)*(y-cy)+(x-cx)*(x-cx) <= 2 {
						v += 0.4 * float64(1+ch) / 3
					}
					ds.X[i*192+ch*64+y*8+x] = float32(v)
				}
			}
		}
	}
	return ds
}

const scratchSpec = `{"name": "small", "input": [3, 8, 8], "layers": [
 {"name": "c1", "type": "conv2d", "inputs": ["input"], "out": 6, "kernel": 3, "pad": 1},
 {"name": "r1", "type": "relu", "inputs": ["c1"]},
 {"name": "p1", "type": "maxpool2d", "inputs": ["r1"], "kernel": 2, "stride": 2},
 {"name": "fl", "type": "flatten", "inputs": ["p1"]},
 {"name": "f1", "type": "dense", "inputs": ["fl"], "out": 16},
 {"name": "r2", "type": "relu", "inputs": ["f1"]},
 {"name": "f2", "type": "dense", "inputs": ["r2"], "out": 3}]}`

// An "ImageNet" stand-in: 16-pixel input (so 8-pixel images are upsampled), five classes, a
// 1x1 convolution classifier behind an average pool and a softmax, as in MobileNetV1.
const netSpec = `{"name": "inet", "input": [3, 16, 16],
 "meta": {"preprocess": "{\"size\":16,\"rgb\":true,\"mean\":[0.5,0.5,0.5],\"std\":[0.25,0.25,0.25]}"},
 "layers": [
 {"name": "c1", "type": "conv2d", "inputs": ["input"], "out": 8, "kernel": 3, "stride": 2, "pad": 1},
 {"name": "r1", "type": "relu", "inputs": ["c1"]},
 {"name": "c2", "type": "conv2d", "inputs": ["r1"], "out": 12, "kernel": 3, "stride": 2, "pad": 1},
 {"name": "r2", "type": "relu", "inputs": ["c2"]},
 {"name": "pool", "type": "avgpool2d", "inputs": ["r2"], "kernel": 4},
 {"name": "logits", "type": "conv2d", "inputs": ["pool"], "out": 5, "kernel": 1},
 {"name": "flat", "type": "flatten", "inputs": ["logits"]},
 {"name": "prob", "type": "softmax", "inputs": ["flat"]}]}`

func toyConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	spec := filepath.Join(dir, "small.json")
	if err := os.WriteFile(spec, []byte(scratchSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	g, err := nn.ParseSpec([]byte(netSpec), "inet")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(9); err != nil {
		t.Fatal(err)
	}
	net := filepath.Join(dir, "inet.safetensors")
	if err := train.SaveWeights(net, g, nil); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.Train, cfg.Test = synthetic(400, 1), synthetic(90, 2)
	cfg.Sizes, cfg.Seeds = []int{60, 20}, []uint64{1, 2}
	cfg.Model, cfg.ImageNet = spec, net
	cfg.Epochs, cfg.FineTuneEpochs, cfg.HeadEpochs, cfg.MinSteps, cfg.Batch = 2, 1, 4, 60, 16
	cfg.Pool, cfg.Unlabelled, cfg.TestSize = 200, 200, 60
	return cfg
}

// TestEndToEnd runs every condition at toy size: every (condition, size, seed) has a row,
// the outputs are written, a rerun in the same folder skips everything and gives the same
// rows, and the same settings in another folder give the same accuracies (seeded).
func TestEndToEnd(t *testing.T) {
	cfg := toyConfig(t)
	cfg.Out = t.TempDir()
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4*2*2 {
		t.Fatalf("%d rows, want 16", len(rows))
	}
	for _, r := range rows {
		if !(r.TestAcc >= 0 && r.TestAcc <= 1) || r.Steps < cfg.MinSteps {
			t.Errorf("%+v: accuracy outside [0,1] or fewer than %d steps", r, cfg.MinSteps)
		}
	}
	// The blobs are easy: scratch training on 60 images beats chance by far.
	for _, s := range Summarise(rows) {
		if s.Condition == Scratch && s.Size == 60 && s.Mean < 0.6 {
			t.Errorf("scratch at 60 images: %.3f", s.Mean)
		}
	}
	text, err := Report(cfg, rows, 1, 1)
	t.Log(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 20 |", "| 60 |", Labels[ImageNetFull], "points at 20 images"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	for _, f := range []string{CSVFile, FigureFile, SummaryFile, "pretrain-seed1/pretrain.safetensors"} {
		if _, err := os.Stat(filepath.Join(cfg.Out, f)); err != nil {
			t.Error(err)
		}
	}
	back, err := ReadCSV(filepath.Join(cfg.Out, CSVFile))
	if err != nil || len(back) != len(rows) {
		t.Fatalf("read back %d rows, %v", len(back), err)
	}
	again, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if again[i] != back[i] {
			t.Fatalf("rerun: row %d %+v, want the saved %+v", i, again[i], back[i])
		}
	}
	cfg2 := cfg
	cfg2.Out = ""
	cfg2.Conditions = []string{Scratch, Autoencoder, ImageNetHead}
	cfg2.Seeds = []uint64{2}
	other, err := Run(cfg2)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range other {
		for _, r := range back {
			if r.Condition == o.Condition && r.Size == o.Size && r.Seed == o.Seed && math.Abs(r.TestAcc-o.TestAcc) > 1e-4 {
				t.Errorf("%s n=%d seed %d: %.4f, then %.4f", o.Condition, o.Size, o.Seed, r.TestAcc, o.TestAcc)
			}
		}
	}
}

// TestHeadOnFeaturesIsHeadTraining: training the new classifier on cached features gives the
// weights that training it behind the frozen network on the images does.
func TestHeadOnFeaturesIsHeadTraining(t *testing.T) {
	cfg := toyConfig(t)
	pool := cfg.Train
	test := train.Subset(cfg.Test, cfg.TestSize)
	in, err := loadImageNet(cfg, pool, test)
	if err != nil {
		t.Fatal(err)
	}
	if in.feature != "pool" || in.headName != "logits" {
		t.Fatalf("feature %q head %q, want pool and logits", in.feature, in.headName)
	}
	idx := rand.New(rand.NewPCG(4, 4)).Perm(pool.N)[:48]
	const seed = 3
	_, g1, err := in.trainHead(cfg, idx, seed)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := in.prepare(cfg, seed, true)
	if err != nil {
		t.Fatal(err)
	}
	w0, _, _ := headParams(g2, "logits")
	init := append([]float32(nil), w0.Value.Data...)
	if _, err := train.Run(train.Config{Model: g2, Train: pick(pool, idx, "x"), Epochs: epochsFor(48, cfg.Batch, cfg.HeadEpochs, cfg.MinSteps),
		Batch: cfg.Batch, Seed: seed, Optim: optim.Config{Name: "adam", LR: cfg.LR}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"weight", "bias"} {
		pa, pb := headOf(t, g1), headOf(t, g2)
		a, b := pa[name], pb[name]
		if len(a) == 0 || len(a) != len(b) {
			t.Fatalf("head %s: %d and %d values", name, len(a), len(b))
		}
		var d, moved float64
		for i := range a {
			d = math.Max(d, math.Abs(float64(a[i]-b[i])))
			if name == "weight" {
				moved = math.Max(moved, math.Abs(float64(b[i]-init[i])))
			}
		}
		if d > 1e-4 || (name == "weight" && moved < 1e-2) {
			t.Errorf("head %s: max difference %.3g (moved %.3g in training)", name, d, moved)
		}
	}
	// The frozen body did not change.
	for _, p := range g2.Node("c1").Op.Params() {
		for _, q := range in.base.Node("c1").Op.Params() {
			if p.Name == q.Name {
				for i := range p.Value.Data {
					if p.Value.Data[i] != q.Value.Data[i] {
						t.Fatal("the frozen layer c1 changed")
					}
				}
			}
		}
	}
}

func TestSummariseAndBadInput(t *testing.T) {
	rows := []Row{{Condition: Scratch, Size: 10, Seed: 1, TestAcc: 0.2}, {Condition: Scratch, Size: 10, Seed: 2, TestAcc: 0.4},
		{Condition: Scratch, Size: 10, Seed: 3, TestAcc: 0.9}, {Condition: ImageNetHead, Size: 10, Seed: 1, TestAcc: 0.5}}
	s := Summarise(rows)
	// numpy: mean 0.5, std(ddof=1) 0.360555...
	if len(s) != 2 || math.Abs(s[0].Mean-0.5) > 1e-12 || math.Abs(s[0].SD-0.3605551275463989) > 1e-12 || !math.IsNaN(s[1].SD) {
		t.Fatalf("summaries %+v", s)
	}
	cfg := toyConfig(t)
	cfg.Sizes = []int{300}
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "exceed") {
		t.Fatalf("300 labelled + 200 unlabelled of 400: %v", err)
	}
	cfg = toyConfig(t)
	cfg.Conditions = []string{"magic"}
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("unknown condition: %v", err)
	}
}

func headOf(t *testing.T, g *nn.Graph) map[string][]float32 {
	w, b, err := headParams(g, "logits")
	if err != nil || b == nil {
		t.Fatalf("head: %v (bias %v)", err, b)
	}
	return map[string][]float32{"weight": w.Value.Data, "bias": b.Value.Data}
}

// TestAddSizes: a later invocation with another size and the same settings keeps the earlier
// rows and adds its own, which equal those of a run that did both at once.
func TestAddSizes(t *testing.T) {
	cfg := toyConfig(t)
	cfg.Conditions, cfg.Seeds = []string{Scratch}, []uint64{1}
	cfg.Out = t.TempDir()
	cfg.Sizes = []int{20}
	if _, err := Run(cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Sizes = []int{40}
	rows, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	both := cfg
	both.Out, both.Sizes = "", []int{20, 40}
	want, err := Run(both)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].Size != 20 || rows[1].Size != 40 {
		t.Fatalf("rows %+v", rows)
	}
	for i := range rows {
		if math.Abs(rows[i].TestAcc-want[i].TestAcc) > 1e-4 {
			t.Errorf("size %d: %.4f added later, %.4f in one run", rows[i].Size, rows[i].TestAcc, want[i].TestAcc)
		}
	}
}
