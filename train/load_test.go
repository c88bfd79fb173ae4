package train

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/imports"
	"github.com/ventral-lab/ventral/internal/mirror"
)

func TestLoadModel(t *testing.T) {
	dir := t.TempDir()
	spec := []byte("name: wee\ninput: [1, 8, 8]\nlayers:\n  - {name: flat, type: flatten}\n  - {name: fc, type: dense, out: 3}\n")
	specPath := filepath.Join(dir, "wee.yaml")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	// A spec file: unbuilt.
	g, err := LoadModel(specPath)
	if err != nil {
		t.Fatal(err)
	}
	if g.Name != "wee" || g.Built() {
		t.Fatalf("spec: %s built=%v", g.Name, g.Built())
	}
	// A checkpoint file and a run folder: built, with the saved weights.
	if err := g.Build(5); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "run")
	os.MkdirAll(run, 0o755)
	if err := SaveWeights(filepath.Join(run, CheckpointFile), g, nil); err != nil {
		t.Fatal(err)
	}
	want, _ := g.Digest()
	for _, p := range []string{run, filepath.Join(run, CheckpointFile)} {
		h, err := LoadModel(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got, _ := h.Digest(); !h.Built() || got != want {
			t.Fatalf("%s: built=%v digest %s, want %s", p, h.Built(), got, want)
		}
	}
	// A zoo name.
	if g, err := LoadModel("alexnet"); err != nil || g.Built() {
		t.Fatalf("alexnet: %v", err)
	}
	// Clear errors.
	for _, c := range []struct{ in, want string }{
		{dir, "without a checkpoint"},
		{filepath.Join(dir, "missing.safetensors"), "missing.safetensors"},
		{specPath + ".safetensors", "checkpoint"},
		{"", "no model given"},
	} {
		if _, err := LoadModel(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v", c.in, err)
		}
	}
}

// The imported networks resolve by name (built, with their weights) and random: gives the same
// architecture unbuilt, without the simulated quantisation.
func TestLoadModelImported(t *testing.T) {
	mirror.Path(t, "onnx-mobilenetv2-int8/mobilenetv2-12-int8.onnx")
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
	t.Setenv("VENTRAL_HOME", t.TempDir())
	g, err := LoadModel("mobilenetv2-imagenet-onnx")
	if err != nil {
		t.Fatal(err)
	}
	if !g.Built() || g.Meta["format"] != "onnx" {
		t.Fatalf("built=%v meta=%v", g.Built(), g.Meta["format"])
	}
	r, err := LoadModel("random:mobilenetv2-imagenet-onnx")
	if err != nil {
		t.Fatal(err)
	}
	if r.Built() || r.Meta["weights"] != "random" {
		t.Fatalf("random: built=%v weights=%q", r.Built(), r.Meta["weights"])
	}
	for _, n := range r.Nodes {
		if n.Op.Type() == "fake_quant" {
			t.Fatalf("random control keeps %s", n.Name)
		}
	}
	if err := r.Build(1); err != nil {
		t.Fatal(err)
	}
	// The control is the float architecture: as many parameters as the float import, and its
	// ReLU/ReLU6 clips (which live in the quantized ranges) kept as layers.
	f, err := imports.NamedOptions("mobilenetv2-imagenet-onnx", imports.Options{FloatActivations: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.NumParams() != f.Graph.NumParams() {
		t.Fatalf("random control has %d parameters, the float network %d", r.NumParams(), f.Graph.NumParams())
	}
	clips := 0
	for _, n := range r.Nodes {
		if n.Op.Type() == "clip" || n.Op.Type() == "relu" {
			clips++
		}
	}
	if clips < 30 {
		t.Fatalf("random control has %d rectifying layers; MobileNetV2 has 35 ReLU6", clips)
	}
}

// A folder in the working directory named like a zoo model, without a checkpoint, does not hide
// the zoo model; a folder of another name without a checkpoint is still an error.
func TestLoadModelZooNameBesideSameNamedFolder(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, d := range []string{"lenet5", "notamodel"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	g, err := LoadModel("lenet5")
	if err != nil {
		t.Fatalf("lenet5 beside a folder lenet5: %v", err)
	}
	if g.Name != "lenet5" {
		t.Fatalf("loaded %q, want lenet5", g.Name)
	}
	if _, err := LoadModel("notamodel"); err == nil || !strings.Contains(err.Error(), "without a checkpoint") {
		t.Fatalf("folder without checkpoint: err %v, want 'without a checkpoint'", err)
	}
}
