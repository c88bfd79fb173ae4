package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
	"github.com/ventral-lab/ventral/train"
)

const tinySpec = `name: tiny
input: [3, 32, 32]
layers:
  - {name: conv1, type: conv2d, out: 6, kernel: 5, stride: 2}
  - {name: relu1, type: relu}
  - {name: pool1, type: maxpool2d, kernel: 2}
  - {name: flat, type: flatten}
  - {name: fc, type: dense, out: 8}
`

const nStim = 12

// blobs returns a smooth random colour image (a few Gaussian blobs) of side n.
func blobs(rng *rand.Rand, n int) *tensor.Tensor {
	t := tensor.New(3, n, n)
	for k := 0; k < 4; k++ {
		cx, cy, s := rng.Float64()*float64(n), rng.Float64()*float64(n), 2+rng.Float64()*float64(n)/4
		col := [3]float64{rng.Float64(), rng.Float64(), rng.Float64()}
		for c := 0; c < 3; c++ {
			for y := 0; y < n; y++ {
				for x := 0; x < n; x++ {
					dx, dy := float64(x)-cx, float64(y)-cy
					v := col[c] * math.Exp(-(dx*dx+dy*dy)/(2*s*s))
					t.Data[(c*n+y)*n+x] = min(1, t.Data[(c*n+y)*n+x]+float32(v))
				}
			}
		}
	}
	return t
}

func tinyStimuli() []*tensor.Tensor {
	rng := rand.New(rand.NewPCG(1, 2))
	var imgs []*tensor.Tensor
	for i := 0; i < nStim; i++ {
		imgs = append(imgs, blobs(rng, 32))
	}
	return imgs
}

// naturalSource is a stand-in for CIFAR-10: other random blob images, drawn with the seed.
func naturalSource(n int, seed uint64) ([]*tensor.Tensor, string, error) {
	rng := rand.New(rand.NewPCG(seed, 99))
	var imgs []*tensor.Tensor
	for i := 0; i < n; i++ {
		imgs = append(imgs, blobs(rng, 32))
	}
	return imgs, fmt.Sprintf("%d blob images", n), nil
}

type fixture struct {
	dir, bench1, bench2, tiny, hmax, run string
}

// setup replaces the benchmarks' stimulus loader with a tiny set "tiny" and writes two RSA
// benchmarks on it, a tiny model spec, a small HMAX spec and a trained-looking checkpoint.
func setup(t *testing.T) fixture {
	t.Helper()
	imgs := tinyStimuli()
	var ids []string
	for i := 1; i <= nStim; i++ {
		ids = append(ids, fmt.Sprint(i))
	}
	old := benchmarks.LoadStimuli
	benchmarks.LoadStimuli = func(set, split string) (*stimuli.Set, error) {
		if set == "tiny" {
			return stimuli.FromTensors("tiny", ids, imgs)
		}
		return old(set, split)
	}
	t.Cleanup(func() { benchmarks.LoadStimuli = old })
	f := fixture{dir: t.TempDir()}
	write := func(name, body string) string {
		p := filepath.Join(f.dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for k, name := range []string{"resp1.csv", "resp2.csv"} {
		rng := rand.New(rand.NewPCG(7, uint64(k)))
		var b strings.Builder
		b.WriteString("stimulus_id,n1,n2,n3,n4,n5\n")
		for i := 1; i <= nStim; i++ {
			fmt.Fprintf(&b, "%d", i)
			for j := 0; j < 5; j++ {
				fmt.Fprintf(&b, ",%.4f", rng.Float64()+float64(i%3))
			}
			b.WriteString("\n")
		}
		write(name, b.String())
		write(fmt.Sprintf("bench%d.yaml", k+1), fmt.Sprintf(`name: tiny-rsa-%d
version: 1
citation: none
region: IT
stimuli: {set: tiny}
data: {kind: assembly, path: %s}
metric: {type: rsa, bootstrap: 40}
ceiling: {type: none}
`, k+1, name))
	}
	f.bench1, f.bench2 = filepath.Join(f.dir, "bench1.yaml"), filepath.Join(f.dir, "bench2.yaml")
	f.tiny = write("tiny.yaml", tinySpec)
	h, err := models.Build("hmax", models.Options{InputSize: 72})
	if err != nil {
		t.Fatal(err)
	}
	y, err := h.SpecYAML()
	if err != nil {
		t.Fatal(err)
	}
	f.hmax = write("hmax.yaml", string(y))
	g, err := nn.ParseSpec([]byte(tinySpec), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(11); err != nil {
		t.Fatal(err)
	}
	f.run = filepath.Join(f.dir, "run")
	os.MkdirAll(f.run, 0o755)
	if err := train.SaveWeights(filepath.Join(f.run, train.CheckpointFile), g, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) config(seed uint64) Config {
	return Config{Models: []string{f.hmax, "random:" + f.tiny, f.run}, Benchmarks: []string{f.bench1, f.bench2},
		Seed: seed, Bootstrap: 40, HMAXPrototypeImages: 6, HMAXPrototypes: 5, PrototypeSource: naturalSource,
		DB: filepath.Join(f.dir, "results.db"), CacheDir: filepath.Join(f.dir, "cache")}
}

// withoutTimes returns the table's JSON with the timings zeroed.
func withoutTimes(t *testing.T, tb *Table) string {
	t.Helper()
	c := *tb
	c.Seconds = 0
	c.Rows = append([]Row(nil), tb.Rows...)
	for i := range c.Rows {
		c.Rows[i].Seconds, c.Rows[i].PrepSeconds, c.Rows[i].RunID = 0, 0, 0
	}
	js, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}

func TestRunTableDeterministic(t *testing.T) {
	f := setup(t)
	tb, err := Run(f.config(3))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := tb.WriteTable(&out); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if len(tb.Rows) != 3*2 {
		t.Fatalf("%d rows, want 3 models x 2 benchmarks", len(tb.Rows))
	}
	wantKinds := []string{Untrained, Untrained, Trained}
	for i, r := range tb.Rows {
		m, b := i/2, i%2
		if r.Model != f.config(3).Models[m] || r.Benchmark != fmt.Sprintf("tiny-rsa-%d", b+1) {
			t.Errorf("row %d is %s on %s", i, r.Model, r.Benchmark)
		}
		if r.Kind != wantKinds[m] || r.HMAX != (m == 0) || r.BestLayer == "" || r.RunID == 0 || r.Bootstrap != 40 {
			t.Errorf("row %d: %+v", i, r)
		}
		if !(r.CILow <= r.CIHigh) {
			t.Errorf("row %d: interval [%v, %v]", i, r.CILow, r.CIHigh)
		}
	}
	if !strings.Contains(tb.Rows[0].Weights, "5 per S2 layer") || !strings.Contains(tb.Prototypes, "6 blob images") {
		t.Errorf("HMAX prototypes: %q, %q", tb.Rows[0].Weights, tb.Prototypes)
	}
	if len(tb.Tests) != 2 || len(tb.Answers) != 2 {
		t.Fatalf("%d tests, %d answers", len(tb.Tests), len(tb.Answers))
	}
	for _, x := range tb.Tests {
		if x.Reference != f.hmax || x.Model == f.hmax || x.Note != "" || !(x.P > 0 && x.P <= 1) || x.Samples != 40 {
			t.Errorf("test %+v", x)
		}
	}
	var csv strings.Builder
	if err := tb.WriteCSV(&csv); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(csv.String(), "\n"); n != 1+6 {
		t.Errorf("csv has %d lines", n)
	}
	js, err := tb.JSON()
	if err != nil || !json.Valid(js) {
		t.Fatalf("json: %v", err)
	}

	// Same seed, same table (a fresh cache); another seed, other prototypes.
	cfg := f.config(3)
	cfg.CacheDir, cfg.NoRecord = "", true
	again, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := withoutTimes(t, tb), withoutTimes(t, again); a != b {
		t.Fatalf("same seed, different tables:\n%s\n%s", a, b)
	}
	cfg.Seed = 4
	other, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if withoutTimes(t, tb) == withoutTimes(t, other) {
		t.Error("another seed gave the same table")
	}
}

func TestUnknownModel(t *testing.T) {
	for _, name := range []string{"nosuchnet", "random:nosuchnet"} {
		_, err := Run(Config{Models: []string{"gabor-v1", name}, NoRecord: true})
		if err == nil {
			t.Fatalf("%s accepted", name)
		}
		for _, want := range []string{`"` + name + `"`, "alexnet", "hmax", "cifar-cnn"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q lacks %q", name, err, want)
			}
		}
	}
	if _, err := Run(Config{Models: []string{"gabor-v1"}, Benchmarks: []string{"nosuchbench"}, NoRecord: true}); err == nil || !strings.Contains(err.Error(), "kriegeskorte92-humanIT-rsa") {
		t.Errorf("unknown benchmark: %v", err)
	}
}

func TestHMAXPrototypes(t *testing.T) {
	f := setup(t)
	cfg := f.config(5)
	s1, err := benchmarks.Load(f.bench1)
	if err != nil {
		t.Fatal(err)
	}
	digest := func(cfg Config) (string, error) {
		g, err := loadModel(f.hmax)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(cfg.Seed); err != nil {
			t.Fatal(err)
		}
		p := &prototypes{cfg: &cfg, specs: []*benchmarks.Spec{s1}}
		if _, err := p.sample(g); err != nil {
			return "", err
		}
		return g.Digest()
	}
	d1, err := digest(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := digest(cfg)
	if d1 != d2 {
		t.Error("the same seed gave other prototypes")
	}
	cfg.Seed = 6
	if d3, _ := digest(cfg); d3 == d1 {
		t.Error("another seed gave the same prototypes")
	}
	// Prototype images that include a benchmark stimulus are refused.
	cfg.PrototypeSource = func(n int, seed uint64) ([]*tensor.Tensor, string, error) {
		imgs, desc, _ := naturalSource(n-1, seed)
		return append(imgs, tinyStimuli()[4]), desc, nil
	}
	if _, err := digest(cfg); err == nil || !strings.Contains(err.Error(), "stimulus 5 of benchmark tiny-rsa-1") || !strings.Contains(err.Error(), "not the benchmark stimuli") {
		t.Errorf("benchmark stimuli as prototype images: %v", err)
	}
}

func TestAnswer(t *testing.T) {
	norm := func(x float64) *float64 { return &x }
	tb := &Table{Rows: []Row{
		{Model: "hmax", Kind: Untrained, Benchmark: "b", Region: "IT", HeldOut: 0.18, HeldOutNormalized: norm(0.35), HMAX: true},
		{Model: "cifar-cnn", Kind: Trained, Benchmark: "b", Region: "IT", HeldOut: 0.31, HeldOutNormalized: norm(0.6)},
		{Model: "random:alexnet", Kind: Untrained, Benchmark: "b", Region: "IT", HeldOut: 0.25, HeldOutNormalized: norm(0.5)},
		{Model: "hmax", Kind: Untrained, Benchmark: "c", Region: "IT", HeldOut: 0.40, HMAX: true},
		{Model: "cifar-cnn", Kind: Trained, Benchmark: "c", Region: "IT", HeldOut: 0.31},
		{Model: "gabor-v1", Kind: Untrained, Benchmark: "d", HeldOut: 0.2},
	}, Tests: []Test{
		{Benchmark: "b", Model: "cifar-cnn", Reference: "hmax", Diff: 0.1, DiffLow: 0.02, DiffHigh: 0.2, P: 0.02, Samples: 100},
		{Benchmark: "c", Model: "cifar-cnn", Reference: "hmax", Diff: -0.05, DiffLow: -0.2, DiffHigh: 0.1, P: 0.4, Samples: 100},
	}}
	a := Answer(tb, "b")
	t.Log(a)
	for _, want := range []string{"b (IT): cifar-cnn (trained) 0.310 vs hmax 0.180", "normalised 0.600 vs 0.350", "cifar-cnn is ahead of hmax", "p=0.02", "(significant"} {
		if !strings.Contains(a, want) {
			t.Errorf("answer %q lacks %q", a, want)
		}
	}
	c := Answer(tb, "c")
	t.Log(c)
	for _, want := range []string{"cifar-cnn (trained) 0.310 vs hmax 0.400", "hmax is ahead", "p=0.4", "not significant"} {
		if !strings.Contains(c, want) {
			t.Errorf("answer %q lacks %q", c, want)
		}
	}
	if d := Answer(tb, "d"); !strings.Contains(d, "best model gabor-v1") || !strings.Contains(d, "no HMAX") {
		t.Errorf("answer without HMAX: %q", d)
	}
}

// With Against every other model is tested against that one, on every benchmark; the paired
// difference is the difference of the held-out scores the table shows, and the 4 tests are one
// Holm family.
func TestAgainst(t *testing.T) {
	f := setup(t)
	cfg := f.config(3)
	cfg.Against, cfg.NoRecord = f.run, true
	tb, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Tests) != 2*2 || len(tb.Answers) != 4 {
		t.Fatalf("%d tests, %d answers; want 2 models x 2 benchmarks", len(tb.Tests), len(tb.Answers))
	}
	for i, x := range tb.Tests {
		if x.Reference != f.run || x.Model == f.run || x.Note != "" || !(x.P > 0 && x.P <= 1) {
			t.Errorf("test %+v", x)
		}
		var a, b *Row
		for k := range tb.Rows {
			r := &tb.Rows[k]
			if r.Benchmark == x.Benchmark && r.Model == x.Model {
				a = r
			}
			if r.Benchmark == x.Benchmark && r.Model == x.Reference {
				b = r
			}
		}
		if x.Diff != a.HeldOut-b.HeldOut {
			t.Errorf("%s vs %s: diff %v, held-out scores %v - %v", x.Model, x.Reference, x.Diff, a.HeldOut, b.HeldOut)
		}
		if x.Family != 4 || !(x.PHolm >= x.P) || x.PHolm != Holm([]float64{tb.Tests[0].P, tb.Tests[1].P, tb.Tests[2].P, tb.Tests[3].P})[i] {
			t.Errorf("test %d: Holm p %v over %d tests (raw %v)", i, x.PHolm, x.Family, x.P)
		}
		if !strings.Contains(tb.Answers[i], "Holm-adjusted over the 4 tests") {
			t.Errorf("answer %q does not report the correction", tb.Answers[i])
		}
		if !strings.Contains(tb.Answers[i], "held-out") || !strings.Contains(tb.Answers[i], "p=") {
			t.Errorf("answer %q", tb.Answers[i])
		}
	}
	cfg.Against = "nosuchmodel"
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), "nosuchmodel") {
		t.Errorf("against a model not compared: %v", err)
	}
}
