package subject

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/formats/npy"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

func set(t *testing.T, name string, ids ...string) *stimuli.Set {
	t.Helper()
	var imgs []*tensor.Tensor
	for range ids {
		imgs = append(imgs, tensor.New(3, 8, 8))
	}
	s, err := stimuli.FromTensors(name, ids, imgs)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func writeNPZ(t *testing.T, arrays map[string]*npy.Array) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "feats.npz")
	if err := npy.WriteNPZ(p, arrays, true); err != nil {
		t.Fatal(err)
	}
	return p
}

// Rows are read in the set's order, or reordered by an ids array; extra dims are flattened;
// LAYER@SPLIT serves the set of that split.
func TestPrecomputedRows(t *testing.T) {
	s := set(t, "toy", "1", "2", "3")
	// conv: 3 stimuli x 2 x 2, row i holds 10*i + feature.
	conv := &npy.Array{Shape: []int{3, 2, 2}}
	for i := 0; i < 3; i++ {
		for f := 0; f < 4; f++ {
			conv.Data = append(conv.Data, float64(10*i+f))
		}
	}
	p := writeNPZ(t, map[string]*npy.Array{"conv": conv, "fc": {Shape: []int{3}, Data: []float64{7, 8, 9}}})
	m, err := Open(p, "")
	if err != nil {
		t.Fatal(err)
	}
	ls, _ := m.Layers()
	if m.Name() != "feats" || strings.Join(LayerNames(ls), ",") != "conv,fc" || !math.IsNaN(ls[0].Depth) || !ls[0].Default {
		t.Fatalf("name %q layers %+v", m.Name(), ls)
	}
	d1, _ := m.Digest()
	f, err := m.Activations(s, []string{"fc", "conv"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if f[0].Cols != 1 || f[0].At(2, 0) != 9 || f[1].Cols != 4 || f[1].At(1, 3) != 13 {
		t.Fatalf("%+v %+v", f[0], f[1])
	}
	// With ids (shuffled rows, one extra stimulus the set does not show).
	ids := &npy.Array{Shape: []int{4}, Data: []float64{3, 99, 1, 2}}
	fc := &npy.Array{Shape: []int{4, 1}, Data: []float64{30, 990, 10, 20}}
	p = writeNPZ(t, map[string]*npy.Array{"fc": fc, "ids": ids, "fc@test": {Shape: []int{2}, Data: []float64{-1, -2}}})
	m, err = Open(p, "other")
	if err != nil {
		t.Fatal(err)
	}
	if d2, _ := m.Digest(); d2 == d1 || !strings.HasPrefix(d2, "sha256:") {
		t.Fatalf("digests %s %s", d1, d2)
	}
	f, err = m.Activations(s, []string{"fc"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f[0].Data; got[0] != 10 || got[1] != 20 || got[2] != 30 {
		t.Fatalf("reordered rows %v", got)
	}
	f, err = m.Activations(set(t, "toy/test", "5", "6"), []string{"fc"}, Options{})
	if err != nil || f[0].Data[1] != -2 {
		t.Fatalf("split array: %v %v", f, err)
	}
}

func TestPrecomputedErrors(t *testing.T) {
	s := set(t, "toy", "1", "2", "3")
	good := &npy.Array{Shape: []int{3, 2}, Data: []float64{1, 2, 3, 4, 5, 6}}
	cases := []struct {
		name   string
		arrays map[string]*npy.Array
		layer  string
		want   []string
	}{
		{"missing layer", map[string]*npy.Array{"conv": good}, "fc", []string{"feats.npz", `no layer "fc"`, "conv"}},
		{"row count", map[string]*npy.Array{"conv": {Shape: []int{2, 2}, Data: []float64{1, 2, 3, 4}}}, "conv", []string{`array "conv" has 2 rows`, "3 stimuli", `"ids"`}},
		{"ids missing a stimulus", map[string]*npy.Array{"conv": good, "ids": {Shape: []int{3}, Data: []float64{1, 2, 4}}}, "conv", []string{`array "ids" lacks 1 of the 3 stimuli`, "id 3"}},
		{"ids not integers", map[string]*npy.Array{"conv": good, "ids": {Shape: []int{3}, Data: []float64{1, 2.5, 3}}}, "conv", []string{`"ids"`, "row 1", "integer"}},
		{"duplicate ids", map[string]*npy.Array{"conv": good, "ids": {Shape: []int{3}, Data: []float64{1, 2, 2}}}, "conv", []string{"stimulus id 2 in rows 1 and 2"}},
		{"ids and rows differ", map[string]*npy.Array{"conv": good, "ids": {Shape: []int{4}, Data: []float64{1, 2, 3, 4}}}, "conv", []string{`"conv" has 3 rows`, "4 ids"}},
		{"non-finite", map[string]*npy.Array{"conv": {Shape: []int{3, 2}, Data: []float64{1, 2, 3, math.NaN(), 5, 6}}}, "conv", []string{`array "conv"`, "stimulus 2 (row 1), feature 1 is NaN"}},
	}
	for _, c := range cases {
		m, err := Open(writeNPZ(t, c.arrays), "")
		if err == nil {
			_, err = m.Activations(s, []string{c.layer}, Options{})
		}
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
	p := filepath.Join(t.TempDir(), "feats.mat")
	os.WriteFile(p, []byte("x"), 0o644)
	if _, err := Open(p, ""); err == nil || !strings.Contains(err.Error(), ".npz") {
		t.Errorf("wrong extension: %v", err)
	}
	p = filepath.Join(t.TempDir(), "feats.npz")
	os.WriteFile(p, []byte("not a zip"), 0o644)
	if _, err := Open(p, ""); err == nil || !strings.Contains(err.Error(), "feats.npz") {
		t.Errorf("not a zip: %v", err)
	}
	if _, err := Open(writeNPZ(t, map[string]*npy.Array{"ids": {Shape: []int{1}, Data: []float64{1}}}), ""); err == nil || !strings.Contains(err.Error(), "no layer arrays") {
		t.Errorf("ids only: %v", err)
	}
}

func TestGraphLayers(t *testing.T) {
	g, err := nn.ParseSpec([]byte("name: tiny\ninput: [3, 8, 8]\nlayers:\n  - {name: conv1, type: conv2d, out: 2, kernel: 3}\n  - {name: flat, type: flatten}\n  - {name: fc, type: dense, out: 3}\n  - {name: prob, type: softmax}\n"), "tiny")
	if err != nil {
		t.Fatal(err)
	}
	m := FromGraph(g)
	if _, err := m.Layers(); err == nil || !strings.Contains(err.Error(), "not built") {
		t.Fatalf("unbuilt: %v", err)
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	def, err := DefaultLayers(m)
	if err != nil || strings.Join(def, ",") != "conv1,fc" {
		t.Fatalf("default layers %v %v", def, err)
	}
	ls, _ := m.Layers()
	if len(ls) != 4 || ls[0].Depth != 0 || ls[3].Depth != 1 {
		t.Fatalf("layers %+v", ls)
	}
	if err := CheckLayers(m, []string{"flat", "nope"}); err == nil || !strings.Contains(err.Error(), `no layer "nope"`) {
		t.Fatalf("check: %v", err)
	}
}

// An imported graph's Meta "default_layers" decides the default layers (names it lacks are
// skipped); without it, every layer but the pass-through ones.
func TestGraphDefaultLayersMeta(t *testing.T) {
	g := &nn.Graph{Name: "m", InputShape: []int{1, 4, 4}}
	g.Chain("c.acc", &nn.Conv2D{Out: 2, Kernel: nn.Dims{3}}).Chain("c.int", &nn.FakeQuant{Scale: 1, Qmax: 255}).Chain("c", &nn.ChannelAffine{Channels: 2}).Chain("flat", &nn.Flatten{})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(GraphDefaultLayers(g), ","); got != "c.acc,c" {
		t.Fatalf("without meta: %s", got)
	}
	g.Meta = map[string]string{"default_layers": "c,gone"}
	if got := strings.Join(GraphDefaultLayers(g), ","); got != "c" {
		t.Fatalf("with meta: %s", got)
	}
}
