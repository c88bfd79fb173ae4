package train

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

// Fine-tuning a trained model on a data set with other classes and smaller images: the old
// weights are kept, the classifier is new, the frozen layers do not move in training (also
// after a resume), the others do.
func TestFineTune(t *testing.T) {
	dir := t.TempDir()
	cfg := baseConfig(t, filepath.Join(dir, "pre"))
	cfg.Epochs = 1
	pre, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// Images of half the size, and 3 classes instead of 4.
	small := synthetic(t, 96, 3)
	small.H, small.W = 4, 4
	small.X = small.X[:96*16]
	for i := range small.Labels {
		small.Labels[i] %= 3
	}
	small.Classes = []string{"x", "y", "z"}
	g, err := PrepareFineTune(pre.Graph, FineTune{Classes: small.Classes, FreezeUntil: "bn1", Input: []int{1, 4, 4}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if g.OutputName() != "fc" || g.Node("fc").Shape[0] != 3 {
		t.Fatalf("head: output %s shape %v, want fc [3]", g.OutputName(), g.Node("fc").Shape)
	}
	if got := models.Classes(g); !slices.Equal(got, small.Classes) {
		t.Fatalf("classes %v", got)
	}
	if up := g.Nodes[0]; up.Op.Type() != "upsample" || !slices.Equal(up.Shape, []int{1, 8, 8}) {
		t.Fatalf("first node %s %s %v, want an upsampling to [1 8 8]", up.Name, up.Op.Type(), up.Shape)
	}
	if p, ok, _ := stimuli.FromMeta(g); !ok || p.Size != 4 || p.Mean[0] != 0.3 {
		t.Fatalf("preprocessing %+v: want size 4 and the original normalisation", p)
	}
	before := map[string][]float32{}
	for _, p := range g.Params() {
		before[p.Name] = slices.Clone(p.Value.Data)
	}
	for _, p := range pre.Graph.Params() {
		if p.Name == "fc.weight" || p.Name == "fc.bias" {
			continue
		}
		if !slices.Equal(before[p.Name], p.Value.Data) {
			t.Fatalf("%s changed by the preparation", p.Name)
		}
	}
	ft := cfg
	ft.Model, ft.Train, ft.Test, ft.Out, ft.Epochs, ft.StopAfter = g, small, nil, filepath.Join(dir, "ft"), 2, 1
	ft.Augment = Augment{}
	if _, err := Run(ft); err != nil {
		t.Fatal(err)
	}
	check := func(params map[string][]float32, when string) {
		for name, v := range params {
			frozen := name == "conv1.weight" || name == "conv1.bias" || name == "bn1.weight" || name == "bn1.bias"
			if moved := !slices.Equal(before[name], v); moved == frozen {
				t.Errorf("%s: %s moved=%v, frozen=%v", when, name, moved, frozen)
			}
		}
	}
	now := map[string][]float32{}
	for _, p := range g.Params() {
		now[p.Name] = p.Value.Data
	}
	check(now, "after one epoch")
	res, err := Resume(ft.Out, Config{Train: small})
	if err != nil {
		t.Fatal(err)
	}
	now = map[string][]float32{}
	for _, p := range res.Graph.Params() {
		now[p.Name] = p.Value.Data
	}
	check(now, "after the resumed epoch")
	if _, err := os.Stat(filepath.Join(ft.Out, CheckpointFile)); err != nil {
		t.Fatal(err)
	}
	// Errors.
	if _, err := PrepareFineTune(pre.Graph, FineTune{FreezeUntil: "nope"}); err == nil {
		t.Error("an unknown --freeze-until layer was accepted")
	}
	if _, err := PrepareFineTune(pre.Graph, FineTune{Classes: []string{"a"}, FreezeUntil: "fc"}); err == nil {
		t.Error("freezing the new head was accepted")
	}
}

// The backward pass stops where the frozen layers end (nn.Node.Frozen): training gives the
// same weights, bit for bit, as a backward pass through every layer, and the frozen layers'
// gradients are never computed.
func TestFineTuneFrozenShortcut(t *testing.T) {
	spec := `
name: deep
input: [1, 8, 8]
layers:
  - {name: conv1, type: conv2d, out: 4, kernel: 3, pad: 1}
  - {name: bn1, type: batchnorm}
  - {name: relu1, type: relu}
  - {name: conv2, type: conv2d, out: 4, kernel: 3, pad: 1}
  - {name: relu2, type: relu}
  - {name: pool, type: maxpool2d, kernel: 2}
  - {name: flat, type: flatten}
  - {name: fc, type: dense, out: 4}
`
	src, err := nn.ParseSpec([]byte(spec), "deep")
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Build(5); err != nil {
		t.Fatal(err)
	}
	train := func(shortcut bool) *nn.Graph {
		noFreezeShortcut = !shortcut
		defer func() { noFreezeShortcut = false }()
		// Frozen up to bn1: relu1, unfrozen but without parameters, sits between the frozen
		// layers and conv2, so rules.frozenStops (which stops the input gradient of a weighted
		// layer reading frozen layers only) does not cut the pass; the shortcut alone does.
		g, err := PrepareFineTune(src, FineTune{FreezeUntil: "bn1", Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		cfg := baseConfig(t, t.TempDir())
		cfg.Model, cfg.Test, cfg.Epochs = g, nil, 1
		if _, err := Run(cfg); err != nil {
			t.Fatal(err)
		}
		return g
	}
	fast, full := train(true), train(false)
	for _, n := range fast.Nodes {
		if want := n.Name == "conv1" || n.Name == "bn1"; n.Frozen != want {
			t.Errorf("%s: Frozen %v, want %v", n.Name, n.Frozen, want)
		}
	}
	fp, sp := fast.Params(), full.Params()
	moved := 0
	for i, p := range fp {
		if !slices.Equal(p.Value.Data, sp[i].Value.Data) {
			t.Errorf("%s differs between the backward pass with and without the frozen shortcut", p.Name)
		}
		if !slices.Equal(p.Value.Data, src.Params()[i].Value.Data) {
			moved++
		}
		frozen := strings.HasPrefix(p.Name, "conv1.") || strings.HasPrefix(p.Name, "bn1.")
		fastGrad, fullGrad := slices.ContainsFunc(p.Grad.Data, nonzero), slices.ContainsFunc(sp[i].Grad.Data, nonzero)
		if frozen && (fastGrad || !fullGrad) {
			t.Errorf("%s: gradient computed %v with the shortcut, %v without (want false, true)", p.Name, fastGrad, fullGrad)
		}
	}
	if moved != 4 {
		t.Errorf("%d parameters moved in training, want 4 (conv2, fc)", moved)
	}
}

func nonzero(v float32) bool { return v != 0 }
