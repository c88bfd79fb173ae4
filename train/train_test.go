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

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/optim"
	"github.com/ventral-lab/ventral/tensor"
)

// synthetic makes n 1x8x8 images of 4 classes: a bright 3x3 blob in the class's quadrant plus
// noise.
func synthetic(t testing.TB, n int, seed uint64) *Memory {
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
	m, err := NewMemory("synthetic", []int{1, 8, 8}, x, y, []string{"a", "b", "c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

const tinySpec = `
name: tiny
input: [1, 8, 8]
layers:
  - {name: conv1, type: conv2d, out: 4, kernel: 3, pad: 1}
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

func TestLoaderDeterministic(t *testing.T) {
	ds := synthetic(t, 50, 3)
	a := newLoader(ds, 8, 5, Augment{Flip: true, Crop: 2})
	b := newLoader(ds, 8, 5, Augment{Flip: true, Crop: 2})
	a.startEpoch(0)
	a.get(0, 0)
	a.startEpoch(3)
	b.startEpoch(3)
	for s := 0; s < a.stepsPerEpoch(); s++ {
		xa, ya := a.get(3, s)
		xa = xa.Clone()
		ya = append([]int(nil), ya...)
		xb, yb := b.get(3, s)
		for i := range xa.Data {
			if xa.Data[i] != xb.Data[i] {
				t.Fatalf("step %d differs", s)
			}
		}
		for i := range ya {
			if ya[i] != yb[i] {
				t.Fatalf("labels differ")
			}
		}
	}
	if a.stepsPerEpoch() != 7 {
		t.Fatalf("steps %d", a.stepsPerEpoch())
	}
	// Flip without crop is a mirror image.
	l := newLoader(ds, 1, 1, Augment{Flip: true})
	l.shape = []int{1, 2, 3}
	dst := make([]float32, 6)
	r := rand.New(rand.NewPCG(0, 0))
	for {
		l.augment(r, []float32{1, 2, 3, 4, 5, 6}, dst)
		if dst[0] != 1 {
			break
		}
	}
	if want := []float32{3, 2, 1, 6, 5, 4}; !equal(dst, want) {
		t.Fatalf("flip: %v", dst)
	}
}

func equal(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}
