package pretrain

import (
	"errors"
	"io"
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
	"github.com/ventral-lab/ventral/train"
)

// A conv (stride 2 on an even size: the decoder needs an output_pad), a conv whose block has
// a pool after it (not part of the block), a dense layer and the classifier.
const toySpec = `{"name": "toy", "input": [1, 8, 8], "layers": [
 {"name": "c1", "type": "conv2d", "inputs": ["input"], "out": 4, "kernel": 3, "stride": 2, "pad": 1},
 {"name": "a1", "type": "relu", "inputs": ["c1"]},
 {"name": "c2", "type": "conv2d", "inputs": ["a1"], "out": 6, "kernel": 3, "pad": 1},
 {"name": "a2", "type": "relu", "inputs": ["c2"]},
 {"name": "p2", "type": "maxpool2d", "inputs": ["a2"], "kernel": 2, "stride": 2},
 {"name": "fl", "type": "flatten", "inputs": ["p2"]},
 {"name": "f1", "type": "dense", "inputs": ["fl"], "out": 8},
 {"name": "a3", "type": "relu", "inputs": ["f1"]},
 {"name": "f2", "type": "dense", "inputs": ["a3"], "out": 3}]}`

func toyGraph(t *testing.T, seed uint64) *nn.Graph {
	t.Helper()
	g, err := nn.ParseSpec([]byte(toySpec), "toy")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(seed); err != nil {
		t.Fatal(err)
	}
	return g
}

// toyData is n 8x8 images of three classes of smooth patterns (stripes at three orientations
// with random phase and contrast), so there is structure to reconstruct.
func toyData(n int, seed uint64) *datasets.Dataset {
	rng := rand.New(rand.NewPCG(seed, 7))
	ds := &datasets.Dataset{Name: "toy", N: n, C: 1, H: 8, W: 8, X: make([]float32, n*64), Labels: make([]int, n), Classes: []string{"a", "b", "c"}}
	for i := 0; i < n; i++ {
		c := i % 3
		ph, a := rng.Float64()*2*math.Pi, 0.3+0.5*rng.Float64()
		for y := 0; y < 8; y++ {
			for x := 0; x < 8; x++ {
				u := [3]float64{float64(x), float64(y), float64(x+y) / math.Sqrt2}[c]
				ds.X[i*64+y*8+x] = float32(0.5 + a*0.5*math.Sin(u*1.3+ph) + 0.05*rng.NormFloat64())
			}
		}
		ds.Labels[i] = c
	}
	return ds
}

func TestBlocks(t *testing.T) {
	g := toyGraph(t, 1)
	bs, err := Blocks(g)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"input", "c1", "a1"}, {"a1", "c2", "a2"}, {"fl", "f1", "a3"}}
	if len(bs) != len(want) {
		t.Fatalf("%d blocks, want %d", len(bs), len(want))
	}
	for i, b := range bs {
		got := []string{b.Input}
		for _, n := range b.Nodes {
			got = append(got, n.Name)
		}
		if len(got) != len(want[i]) {
			t.Fatalf("block %d: %v, want %v", i, got, want[i])
		}
		for j := range got {
			if got[j] != want[i][j] {
				t.Fatalf("block %d: %v, want %v", i, got, want[i])
			}
		}
	}
	// A fine-tuning run's frozen layers are not pretrained.
	g.Meta = map[string]string{train.MetaFreezeUntil: "a1"}
	if bs, err = Blocks(g); err != nil || len(bs) != 2 || bs[0].Name() != "c2" {
		t.Fatalf("with c1 frozen: %v blocks (first %v), err %v", len(bs), bs[0].Name(), err)
	}
}

// TestGradient checks the gradients of the reconstruction loss with respect to every encoder
// and decoder parameter against central finite differences, for a strided convolution block
// (decoder with output_pad) and a dense block, with a smooth activation.
func TestGradient(t *testing.T) {
	spec := `{"name": "g", "input": [2, 6, 6], "layers": [
	 {"name": "c", "type": "conv2d", "inputs": ["input"], "out": 3, "kernel": 3, "stride": 2, "pad": 1},
	 {"name": "a", "type": "tanh", "inputs": ["c"]},
	 {"name": "fl", "type": "flatten", "inputs": ["a"]},
	 {"name": "d", "type": "dense", "inputs": ["fl"], "out": 5},
	 {"name": "s", "type": "sigmoid", "inputs": ["d"]},
	 {"name": "out", "type": "dense", "inputs": ["s"], "out": 2}]}`
	g, err := nn.ParseSpec([]byte(spec), "g")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Build(3); err != nil {
		t.Fatal(err)
	}
	bs, err := Blocks(g)
	if err != nil || len(bs) != 2 {
		t.Fatalf("blocks: %d, %v", len(bs), err)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for _, b := range bs {
		dec, err := decoder(g, b, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		if ct, ok := dec.(*nn.ConvTranspose2D); ok && (ct.OutputPad[0] != 1 || ct.Out != 2) {
			t.Fatalf("decoder of %s: output_pad %v out %d, want 1 and 2", b.Name(), ct.OutputPad, ct.Out)
		}
		shape := append([]int{3}, b.In...)
		h := tensor.New(shape...)
		for i := range h.Data {
			h.Data[i] = float32(rng.NormFloat64())
		}
		hn := corrupt(h, 0.3, rng)
		var params []*nn.Param
		for _, n := range b.Nodes {
			params = append(params, n.Op.Params()...)
		}
		params = append(params, dec.Params()...)
		loss := func() float64 {
			ctx := nn.NewCtx(true, 1)
			for _, p := range params {
				clear(p.Grad.Data)
			}
			l, err := step(ctx, b, dec, h, hn)
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		loss()
		grads := make([][]float32, len(params))
		for i, p := range params {
			grads[i] = append([]float32(nil), p.Grad.Data...)
		}
		checked := 0
		for i, p := range params {
			for j := range p.Value.Data {
				v := p.Value.Data[j]
				const eps = 1e-2
				p.Value.Data[j] = v + eps
				lp := loss()
				p.Value.Data[j] = v - eps
				lm := loss()
				p.Value.Data[j] = v
				num := (lp - lm) / (2 * eps)
				an := float64(grads[i][j])
				if math.Abs(num-an) > 2e-3*math.Max(1, math.Abs(num))+1e-4 {
					t.Errorf("block %s: %s[%d]: analytic %.6g, numeric %.6g", b.Name(), p.Name, j, an, num)
				}
				checked++
			}
		}
		if checked < 50 {
			t.Fatalf("block %s: only %d parameters checked", b.Name(), checked)
		}
	}
}

// TestLossFalls: the reconstruction error of every layer falls over the epochs, and the first
// layer ends well below the input's variance.
func TestLossFalls(t *testing.T) {
	g := toyGraph(t, 1)
	res, err := Run(g, toyData(300, 1), Config{Epochs: 25, Batch: 16, LR: 3e-3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d layers pretrained, want 3", len(res))
	}
	for _, r := range res {
		first, last := r.Loss[0], r.Loss[len(r.Loss)-1]
		t.Logf("%s: %.4f -> %.4f", r.Layer, first, last)
		if !(last < 0.8*first) {
			t.Errorf("%s: reconstruction error %.4f -> %.4f did not fall by 20%%", r.Layer, first, last)
		}
	}
	if l := res[0].Loss[len(res[0].Loss)-1]; l > 0.3 {
		t.Errorf("first layer reconstructs only to %.3f of its input's variance", l)
	}
}

func weights(g *nn.Graph) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range g.Params() {
		out[p.Name] = append([]float32(nil), p.Value.Data...)
	}
	return out
}

func sameWeights(a, b map[string][]float32) bool {
	for k, v := range a {
		w := b[k]
		if len(w) != len(v) {
			return false
		}
		for i := range v {
			if v[i] != w[i] {
				return false
			}
		}
	}
	return len(a) == len(b)
}

// TestDeterministicAndResume: the same seed gives the same weights, another seed others, and
// a run stopped after its first layer and continued from the folder checkpoint ends with the
// weights of the uninterrupted run.
func TestDeterministicAndResume(t *testing.T) {
	data := toyData(96, 2)
	cfg := Config{Epochs: 2, Batch: 16, Seed: 4}
	run := func(c Config) map[string][]float32 {
		g := toyGraph(t, 1)
		if _, err := Run(g, data, c); err != nil {
			t.Fatal(err)
		}
		return weights(g)
	}
	a, b := run(cfg), run(cfg)
	if !sameWeights(a, b) {
		t.Fatal("same seed, different weights")
	}
	c2 := cfg
	c2.Seed = 5
	if sameWeights(a, run(c2)) {
		t.Fatal("another seed gave the same weights")
	}
	init := weights(toyGraph(t, 1))
	if sameWeights(a, init) {
		t.Fatal("pretraining changed no weight")
	}
	if !equal(a["f2.weight"], init["f2.weight"]) {
		t.Fatal("the classifier was pretrained")
	}

	dir := t.TempDir()
	crash := errors.New("crash")
	afterLayer = func(k int) error {
		if k == 1 {
			return crash
		}
		return nil
	}
	c3 := cfg
	c3.Dir = dir
	g := toyGraph(t, 1)
	if _, err := Run(g, data, c3); !errors.Is(err, crash) {
		t.Fatalf("interrupted run: %v", err)
	}
	afterLayer = nil
	g = toyGraph(t, 1)
	res, err := Run(g, data, c3)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Layer != "c2" {
		t.Fatalf("continued run trained %d layers starting at %v, want 2 from c2", len(res), res[0].Layer)
	}
	if !sameWeights(a, weights(g)) {
		t.Fatal("the continued run's weights differ from the uninterrupted run's")
	}
	// Other settings do not continue that checkpoint.
	c4 := c3
	c4.Noise = 0.5
	if _, err := Run(toyGraph(t, 1), data, c4); err == nil {
		t.Fatal("a checkpoint of other settings was continued")
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestWeightsReachSupervisedRun: through train.Config.Pretrain the supervised run starts from
// the pretrained weights (at a learning rate too small to move them far they are still there
// after an epoch) and its checkpoint holds them, not a re-initialisation.
func TestWeightsReachSupervisedRun(t *testing.T) {
	data := toyData(96, 3)
	g := toyGraph(t, 1)
	init := weights(g)
	var pre map[string][]float32
	hook := Hook(Config{Epochs: 2, Batch: 16, Seed: 1})
	dir := t.TempDir()
	res, err := train.Run(train.Config{Model: g, Train: data, Epochs: 1, Batch: 16, Seed: 1, Out: dir,
		Optim: optim.Config{Name: "sgd", LR: 1e-7},
		Pretrain: func(g *nn.Graph, ds *datasets.Dataset, mean, std []float32, d string, log io.Writer) error {
			if err := hook(g, ds, mean, std, d, nil); err != nil {
				return err
			}
			pre = weights(g)
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err != nil {
		t.Fatalf("no pretraining checkpoint: %v", err)
	}
	ck, err := train.LoadCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	final := weights(ck.Graph)
	for _, name := range []string{"c1.weight", "c2.weight", "f1.weight"} {
		var dPre, dInit float64
		for i, v := range final[name] {
			dPre = math.Max(dPre, math.Abs(float64(v-pre[name][i])))
			dInit = math.Max(dInit, math.Abs(float64(v-init[name][i])))
		}
		if dPre > 1e-4 || dInit < 1e-3 {
			t.Errorf("%s: max distance to the pretrained weights %.2g, to the initial ones %.2g", name, dPre, dInit)
		}
	}
	_ = res
}

// TestRenormalised: each pretrained layer's outputs on the first batch have per-channel mean
// 0 and SD 1 (computed here by the graph's own forward pass), unless KeepScale is set.
func TestRenormalised(t *testing.T) {
	data := toyData(64, 6)
	for _, keep := range []bool{false, true} {
		g := toyGraph(t, 2)
		cfg := Config{Epochs: 2, Batch: 32, Seed: 3, KeepScale: keep}
		if _, err := Run(g, data, cfg); err != nil {
			t.Fatal(err)
		}
		ld, err := datasets.NewLoader(data, datasets.LoaderConfig{Batch: 32, Seed: 3, Shuffle: true})
		if err != nil {
			t.Fatal(err)
		}
		bt := ld.MakeBatch(0, 0, ld.Order(0))
		ctx := nn.NewCtx(false, 0)
		ctx.NoFuse = true
		tr, err := g.Forward(ctx, tensor.FromData(bt.X, bt.N, 1, 8, 8), "c1", "c2", "f1")
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for _, name := range []string{"c1", "c2", "f1"} {
			y := tr.Out(name)
			ch := y.Shape[1]
			per := len(y.Data) / (y.Shape[0] * ch)
			for c := 0; c < ch; c++ {
				var v []float64
				for i := 0; i < y.Shape[0]; i++ {
					for _, x := range y.Data[(i*ch+c)*per : (i*ch+c+1)*per] {
						v = append(v, float64(x))
					}
				}
				var m, ss float64
				for _, x := range v {
					m += x
				}
				m /= float64(len(v))
				for _, x := range v {
					ss += (x - m) * (x - m)
				}
				sd := math.Sqrt(ss / float64(len(v)))
				worst = math.Max(worst, math.Max(math.Abs(m), math.Abs(sd-1)))
			}
		}
		if !keep && worst > 1e-3 {
			t.Errorf("renormalised layers: largest deviation from mean 0, SD 1 is %.3g", worst)
		}
		if keep && worst < 0.1 {
			t.Errorf("KeepScale: the layers look renormalised (largest deviation %.3g)", worst)
		}
	}
}

// TestConvOnly: with ConvOnly the dense layers keep their initial weights and the
// convolutions change.
func TestConvOnly(t *testing.T) {
	g := toyGraph(t, 1)
	init := weights(g)
	res, err := Run(g, toyData(64, 7), Config{Epochs: 1, Batch: 32, Seed: 1, ConvOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	w := weights(g)
	if len(res) != 2 || !equal(w["f1.weight"], init["f1.weight"]) || equal(w["c2.weight"], init["c2.weight"]) {
		t.Fatalf("%d layers; f1 unchanged %v, c2 unchanged %v", len(res), equal(w["f1.weight"], init["f1.weight"]), equal(w["c2.weight"], init["c2.weight"]))
	}
}

func TestHookForRefuses(t *testing.T) {
	for _, c := range []struct {
		method string
		cfg    Config
		want   string
	}{
		{"autoencoderz", Config{Epochs: 1}, "autoencoderz"},
		{Autoencoder, Config{Epochs: 0}, "epochs 0"},
		{Autoencoder, Config{Epochs: 1, Noise: -0.5}, "noise -0.5"},
	} {
		if _, err := HookFor(c.method, c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %+v: %v, want an error with %q", c.method, c.cfg, err, c.want)
		}
	}
	if h, err := HookFor("", Config{}); h != nil || err != nil {
		t.Errorf("no method: %v, %v", h != nil, err)
	}
}
