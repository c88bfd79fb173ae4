package train

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
)

// synthetic makes n 1x8x8 images of 4 classes: a bright 3x3 blob in the class's quadrant plus
// noise.
func synthetic(t testing.TB, n int, seed uint64) *datasets.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*64)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		c := r.IntN(4)
		y[i] = c
		img := x[i*64 : (i+1)*64]
		for j := range img {
			img[j] = 0.3 * r.Float32()
		}
		oy, ox := (c/2)*4+r.IntN(2), (c%2)*4+r.IntN(2)
		for dy := 0; dy < 3; dy++ {
			for dx := 0; dx < 3; dx++ {
				img[(oy+dy)*8+ox+dx] = 0.7 + 0.3*r.Float32()
			}
		}
	}
	return &datasets.Dataset{Name: "synthetic", X: x, Labels: y, Classes: []string{"a", "b", "c", "d"}, N: n, C: 1, H: 8, W: 8}
}

const tinySpec = `
name: tiny
input: [1, 8, 8]
meta: {preprocess: '{"mean":[0.3],"std":[0.4]}'}
layers:
  - {name: conv1, type: conv2d, out: 4, kernel: 3, pad: 1}
  - {name: bn1, type: batchnorm}
  - {name: relu1, type: relu}
  - {name: pool1, type: maxpool2d, kernel: 2}
  - {name: flat, type: flatten}
  - {name: drop, type: dropout, p: 0.2}
  - {name: fc, type: dense, out: 4}
`

func tinyModel(t testing.TB, out int) *nn.Graph {
	spec := strings.Replace(tinySpec, "out: 4}\n", "out: "+string(rune('0'+out))+"}\n", 1)
	g, err := nn.ParseSpec([]byte(spec), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(7); err != nil {
		t.Fatal(err)
	}
	return g
}

func baseConfig(t testing.TB, dir string) Config {
	return Config{
		Model: tinyModel(t, 4), Train: synthetic(t, 160, 1), Test: synthetic(t, 80, 2), DataName: "synthetic",
		Epochs: 2, Batch: 16, Seed: 42, Out: dir,
		Optim:    optim.Config{Name: "sgd", LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4, ClipNorm: 5},
		Schedule: optim.Schedule{Kind: "cosine", Floor: 0.001, WarmupSteps: 3},
		Augment:  Augment{Crop: 1}, // a flip would swap the synthetic classes
	}
}

func TestResumeBitIdentical(t *testing.T) {
	for _, oc := range []optim.Config{
		{Name: "sgd", LR: 0.1, Momentum: 0.9, Nesterov: true, WeightDecay: 1e-4, ClipNorm: 5},
		{Name: "adamw", LR: 0.01, WeightDecay: 0.01},
	} {
		straight := t.TempDir()
		cfg := baseConfig(t, straight)
		cfg.Optim = oc
		cfg.Augment.Flip = true
		a, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		broken := t.TempDir()
		cfg = baseConfig(t, broken)
		cfg.Optim = oc
		cfg.Augment.Flip = true
		cfg.StopAfter = 1
		if _, err := Run(cfg); err != nil {
			t.Fatal(err)
		}
		// Resume with a fresh config holding only the data (and nonsense that must be ignored).
		b, err := Resume(broken, Config{Train: synthetic(t, 160, 1), Test: synthetic(t, 80, 2), Seed: 999, Batch: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Rows) != 2 || b.Rows[1].Step != a.Rows[1].Step {
			t.Fatalf("%s: resumed rows %+v", oc.Name, b.Rows)
		}
		ta, tb := ModelTensors(a.Graph), ModelTensors(b.Graph)
		for k, v := range ta {
			for i := range v.Data {
				if math.Float32bits(v.Data[i]) != math.Float32bits(tb[k].Data[i]) {
					t.Fatalf("%s: %s[%d]: straight %v, resumed %v", oc.Name, k, i, v.Data[i], tb[k].Data[i])
				}
			}
		}
		if a.Rows[1].TestAcc != b.Rows[1].TestAcc || a.Rows[1].TrainLoss != b.Rows[1].TrainLoss {
			t.Fatalf("%s: metrics differ: %+v vs %+v", oc.Name, a.Rows[1], b.Rows[1])
		}
		// The saved optimizer states agree too.
		ca, err := LoadCheckpoint(straight)
		if err != nil {
			t.Fatal(err)
		}
		cb, err := LoadCheckpoint(filepath.Join(broken, CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		if ca.Epoch != 2 || cb.Epoch != 2 || ca.Step != 20 || len(ca.Optim) != len(cb.Optim) || len(ca.Optim) < 2 {
			t.Fatalf("checkpoints: epoch %d/%d step %d, %d/%d optim tensors", ca.Epoch, cb.Epoch, ca.Step, len(ca.Optim), len(cb.Optim))
		}
		for k, v := range ca.Optim {
			for i := range v.Data {
				if v.Data[i] != cb.Optim[k].Data[i] {
					t.Fatalf("%s: optimizer state %s differs", oc.Name, k)
				}
			}
		}
	}
}

// One epoch end to end: metrics.csv columns, the PNG decodes, the checkpoint reloads and
// evaluates to the recorded accuracy.
func TestOneEpochArtifacts(t *testing.T) {
	dir := t.TempDir()
	cfg := baseConfig(t, dir)
	cfg.Epochs = 1
	var log bytes.Buffer
	cfg.Log = &log
	res, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "epoch 1/1 step 10") {
		t.Fatalf("log: %q", log.String())
	}
	raw, err := os.ReadFile(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if lines[0] != "epoch,step,lr,train_loss,train_acc,test_loss,test_acc,seconds,images_per_s,peak_rss_mb" || len(lines) != 2 {
		t.Fatalf("metrics.csv:\n%s", raw)
	}
	rows, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	r := rows[0]
	if r.Epoch != 1 || r.Step != 10 || r.TestAcc < 0.6 || r.PeakRSSMB <= 0 || r.ImagesPerS <= 0 || math.IsNaN(r.TestLoss) {
		t.Fatalf("row %+v", r)
	}
	f, err := os.Open(filepath.Join(dir, CurvesFile))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("curves.png: %v", err)
	}
	if _, err := nn.LoadSpec(filepath.Join(dir, SpecFile)); err != nil {
		t.Fatal(err)
	}
	ck, err := LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"spec", "seed", "epoch", "step", "dataset", "optimizer", "ventral_version"} {
		if ck.Meta[k] == "" {
			t.Errorf("metadata %q missing", k)
		}
	}
	if _, ok := ModelTensors(ck.Graph)["bn1.running_var"]; !ok {
		t.Error("batchnorm buffers not in the checkpoint")
	}
	if ck.Meta["dataset"] != "synthetic" || ck.Seed != 42 {
		t.Errorf("metadata %v", ck.Meta)
	}
	acc, loss, err := Evaluate(ck.Graph, cfg.Test, 7)
	if err != nil {
		t.Fatal(err)
	}
	if acc != r.TestAcc || math.Abs(loss-r.TestLoss) > 1e-6 {
		t.Fatalf("reloaded: acc %v loss %v, recorded %v %v", acc, loss, r.TestAcc, r.TestLoss)
	}
	acc2, _, _ := Evaluate(res.Graph, cfg.Test, 80)
	if acc2 != acc {
		t.Fatalf("trained graph %v vs reloaded %v", acc2, acc)
	}
	// A second Run into the same folder refuses to clobber it.
	if _, err := Run(cfg); err == nil {
		t.Fatal("Run overwrote a checkpoint")
	}
}

func TestCheckpointMismatch(t *testing.T) {
	dir := t.TempDir()
	g := tinyModel(t, 4)
	file := filepath.Join(dir, "w.safetensors")
	if err := SaveWeights(file, g, nil); err != nil {
		t.Fatal(err)
	}
	// Another model shape: fc with 5 outputs.
	other := tinyModel(t, 5)
	err := LoadWeights(other, file)
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), `tensor "fc.`) {
		t.Fatalf("wrong shape: %v", err)
	}
	// A missing tensor.
	ts := ModelTensors(g)
	delete(ts, "conv1.bias")
	spec, _ := g.SpecJSON()
	if err := writeSafetensors(file, ts, map[string]string{"spec": string(spec)}); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCheckpoint(file)
	if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), `"conv1.bias"`) {
		t.Fatalf("missing tensor: %v", err)
	}
	// An extra tensor from some other model.
	ts = ModelTensors(g)
	ts["v4.weight"] = tensor.New(2)
	writeSafetensors(file, ts, map[string]string{"spec": string(spec)})
	if err := LoadWeights(g, file); err == nil || !strings.Contains(err.Error(), `"v4.weight"`) {
		t.Fatalf("extra tensor: %v", err)
	}
	// Round trip of values.
	ts = ModelTensors(g)
	ts["fc.weight"].Data[3] = 1.25
	SaveWeights(file, g, map[string]string{"note": "x"})
	ck, err := LoadCheckpoint(file)
	if err != nil {
		t.Fatal(err)
	}
	if ck.Graph.Node("fc").Op.Params()[0].Value.Data[3] != 1.25 || ck.Meta["note"] != "x" {
		t.Fatal("weights or metadata not restored")
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "absent")); err == nil {
		t.Fatal("absent file loaded")
	}
}

func TestNaNStops(t *testing.T) {
	cfg := baseConfig(t, "")
	cfg.Epochs = 1
	cfg.Model.Node("fc").Op.Params()[0].Value.Data[0] = float32(math.NaN())
	_, err := Run(cfg)
	if err == nil || !strings.Contains(err.Error(), "epoch 1, step 1") {
		t.Fatalf("NaN loss: %v", err)
	}
}

func TestSubsetAndNormalization(t *testing.T) {
	ds := synthetic(t, 50, 3)
	s := Subset(ds, 10)
	if s.N != 10 || len(s.Labels) != 10 || len(s.X) != 640 || ds.N != 50 {
		t.Fatalf("subset %d %d %d", s.N, len(s.Labels), len(s.X))
	}
	g := tinyModel(t, 4)
	mean, std, err := normalization(g, ds)
	if err != nil || len(mean) != 1 || mean[0] != 0.3 || std[0] != 0.4 {
		t.Fatalf("normalization %v %v %v", mean, std, err)
	}
	// Evaluate normalises: the same weights without the metadata see other inputs.
	a1, _, _ := Evaluate(g, ds, 16)
	spec, _ := g.SpecJSON()
	delete(g.Meta, "preprocess")
	a2, l2, _ := Evaluate(g, ds, 16)
	_, l1, _ := Evaluate(tinyModelFrom(t, spec, g), ds, 16)
	if l1 == l2 {
		t.Fatalf("normalisation had no effect (%v %v, %v %v)", a1, l1, a2, l2)
	}
	c := *ds
	c.C, c.H = 2, 4
	if _, _, err := Evaluate(g, &c, 16); err == nil {
		t.Fatal("wrong image shape accepted")
	}
}

// tinyModelFrom rebuilds a spec and copies src's weights into it.
func tinyModelFrom(t *testing.T, spec []byte, src *nn.Graph) *nn.Graph {
	g, err := nn.ParseSpec(spec, "spec")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(0); err != nil {
		t.Fatal(err)
	}
	a, b := ModelTensors(src), ModelTensors(g)
	for k := range a {
		copy(b[k].Data, a[k].Data)
	}
	return g
}

func TestSubsetKeepsEveryClass(t *testing.T) {
	// A data set stored class by class, as the CIFAR-10 zips are.
	ds := &datasets.Dataset{Name: "sorted", N: 1000, C: 1, H: 1, W: 1, X: make([]float32, 1000), Labels: make([]int, 1000)}
	for i := range ds.Labels {
		ds.Labels[i] = i / 100
		ds.X[i] = float32(i)
	}
	s := Subset(ds, 200)
	counts := map[int]int{}
	for i, y := range s.Labels {
		counts[y]++
		if int(s.X[i])/100 != y {
			t.Fatalf("image %d (value %v) carries label %d", i, s.X[i], y)
		}
	}
	if len(counts) != 10 {
		t.Errorf("subset of 200 covers classes %v, want all 10", counts)
	}
	if again := Subset(ds, 200); again.X[17] != s.X[17] {
		t.Error("Subset is not deterministic")
	}
}

// A warm-up that covers the whole run would leave the rate below base (and, under a cosine
// schedule, at zero) throughout: refused, naming both lengths.
func TestWarmupLongerThanRun(t *testing.T) {
	cfg := baseConfig(t, "")
	cfg.Epochs = 1
	cfg.Schedule = optim.Schedule{Kind: "cosine", WarmupSteps: 10000}
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "warm-up of 10000 steps") {
		t.Fatalf("warm-up longer than the run: %v", err)
	}
}
