package train

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ventral-lab/ventral/models"
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
