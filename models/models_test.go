package models

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

var update = flag.Bool("update", false, "rewrite models/specs from the Go definitions")

// Parameter counts: the torchvision-style networks as counted by PyTorch 1.13 on the peer
// definitions in shared/bench/torch_peers.py; grouped AlexNet's 60,965,224 is the published
// count for the two-GPU original with 96 first-layer filters; LeNet-5 by hand.
var wantParams = map[string]int{
	"lenet5":              61706,
	"cifar-cnn":           2168362,
	"alexnet-torchvision": 61100840,
	"alexnet":             60965224,
	"cornet-z":            2071656,
	// CIFAR ResNets counted by hand (BasicBlock: two 3x3 convs and two batchnorms, plus a 1x1
	// conv and batchnorm where a stage changes size); 11,173,962 is the count usually quoted
	// for the CIFAR ResNet-18.
	"resnet18-cifar":     11173962,
	"resnet10-cifar-w16": 308826,
	"resnet18-cifar-w16": 701466,
	"resnet34-cifar-w16": 1334618,
}

var wantOut = map[string][]int{
	"lenet5": {10}, "cifar-cnn": {10}, "alexnet-torchvision": {1000}, "alexnet": {1000}, "cornet-z": {1000},
}

func TestZooBuildsWithPublishedSizes(t *testing.T) {
	for _, name := range Names() {
		g, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(1); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want, ok := wantParams[name]; ok && g.NumParams() != want {
			t.Errorf("%s: %d parameters, want %d", name, g.NumParams(), want)
		}
		if want, ok := wantOut[name]; ok && !tensor.SameShape(g.Node(g.OutputName()).Shape, want) {
			t.Errorf("%s: output shape %v, want %v", name, g.Node(g.OutputName()).Shape, want)
		}
		if Doc(name) == "" || g.Meta["citation"] == "" {
			t.Errorf("%s: no doc or citation", name)
		}
	}
}

func TestShapesAlongTheWay(t *testing.T) {
	g, _ := Get("alexnet")
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	// 224 input, 11x11 stride 4 pad 2 -> 55; pool 3/2 -> 27; -> 13 after pool2; pool5 -> 6.
	for name, want := range map[string][]int{"conv1": {96, 55, 55}, "pool1": {96, 27, 27}, "pool2": {256, 13, 13}, "pool5": {256, 6, 6}} {
		if got := g.Node(name).Shape; !tensor.SameShape(got, want) {
			t.Errorf("alexnet %s: %v, want %v", name, got, want)
		}
	}
	c, _ := Get("cornet-z")
	c.Build(1)
	for name, want := range map[string][]int{"V1": {64, 56, 56}, "V2": {128, 28, 28}, "V4": {256, 14, 14}, "IT": {512, 7, 7}} {
		if got := c.Node(name).Shape; !tensor.SameShape(got, want) {
			t.Errorf("cornet-z %s: %v, want %v", name, got, want)
		}
	}
	small, err := Build("alexnet", Options{InputSize: 128, Classes: 10})
	if err != nil || small.Build(1) != nil || small.Node("fc8").Shape[0] != 10 {
		t.Errorf("alexnet at 128 px with 10 classes: %v", err)
	}
}

// The Go definitions and the spec files are the same models: the committed spec of each model
// equals what the Go code writes, and reading it back gives the same weights for a seed.
func TestGoAndSpecAreTheSameModel(t *testing.T) {
	for _, name := range Names() {
		g, _ := Get(name)
		y, err := g.SpecYAML()
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("specs", name+".yaml")
		if *update {
			os.MkdirAll("specs", 0o755)
			if err := nn.WriteFileAtomic(path, y); err != nil {
				t.Fatal(err)
			}
		}
		committed, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./models -update)", err)
		}
		if string(committed) != string(y) {
			t.Errorf("%s differs from the Go definition of %s (run go test ./models -update)", path, name)
		}
		g2, err := nn.LoadSpec(path)
		if err != nil {
			t.Fatal(err)
		}
		if name == "alexnet" || name == "alexnet-torchvision" {
			continue // 60M weights twice is slow; the spec equality above covers them
		}
		g.Build(9)
		g2.Build(9)
		d1, _ := g.Digest()
		d2, _ := g2.Digest()
		if d1 != d2 {
			t.Errorf("%s: Go model and spec file give different weights for one seed", name)
		}
	}
}

func TestUnknownModelsAndBadOptions(t *testing.T) {
	if _, err := Get("resnet-9000"); err == nil || !strings.Contains(err.Error(), "lenet5") {
		t.Errorf("unknown model: %v (should list the known ones)", err)
	}
	if _, err := Build("lenet5", Options{Classes: -1}); err == nil {
		t.Error("negative classes accepted")
	}
	if _, err := Resolve("missing.yaml"); err == nil {
		t.Error("missing spec file accepted")
	}
}

func TestForwardRuns(t *testing.T) {
	g, _ := Get("lenet5")
	g.Build(1)
	x := tensor.New(2, 1, 28, 28)
	tr, err := g.Forward(nil, x)
	if err != nil {
		t.Fatal(err)
	}
	if out := tr.Output(); !tensor.SameShape(out.Shape, []int{2, 10}) || out.HasNaN() {
		t.Errorf("lenet5 output %v", out.Shape)
	}
}

func TestDepth(t *testing.T) {
	for name, want := range map[string]int{"cifar-cnn": 6, "lenet5": 5, "alexnet": 8, "resnet18": 18, "resnet10-cifar-w16": 10,
		"resnet18-cifar-w16": 18, "resnet34-cifar-w16": 34} {
		g, err := Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if d := Depth(g); d != want {
			t.Errorf("%s: depth %d, want %d", name, d, want)
		}
	}
}

func TestSetClassesRoundTrip(t *testing.T) {
	for _, cl := range [][]string{{"a", "b"}, {"tench, Tinca tinca", "goldfish"}, {"[x]", "y"}} {
		g := &nn.Graph{}
		SetClasses(g, cl)
		if got := Classes(g); len(got) != len(cl) || got[0] != cl[0] || got[1] != cl[1] {
			t.Errorf("%q -> %q -> %q", cl, g.Meta["classes"], got)
		}
	}
}

func TestSummarize(t *testing.T) {
	g, err := Get("lenet5")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Summarize(g); err == nil {
		t.Fatal("an unbuilt model was summarized")
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	s, err := Summarize(g)
	if err != nil {
		t.Fatal(err)
	}
	// LeNet-5 (with 6 and 16 feature maps, 120-84-10): 61,706 parameters.
	if s.Params != g.NumParams() || s.Params != 61706 || s.Operators["conv2d"] != 2 || s.Depth != 5 || s.Preprocess == nil {
		t.Fatalf("%+v", s)
	}
	var b strings.Builder
	if err := s.WriteText(&b); err != nil || !strings.Contains(b.String(), "61706 parameters") {
		t.Fatalf("%v\n%s", err, b.String())
	}
}
