package behaviour

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/internal/mirror"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// The 16-category mapping: disjoint index sets within the 1000 classes, and spot checks of
// class names against the ImageNet labels.
func TestImageNet16Mapping(t *testing.T) {
	seen := map[int]string{}
	total := 0
	for _, c := range ImageNet16Categories() {
		ix, _ := ImageNet16Indices(c)
		for _, i := range ix {
			if i < 0 || i >= 1000 {
				t.Fatalf("%s: index %d", c, i)
			}
			if o, dup := seen[i]; dup {
				t.Fatalf("index %d in %s and %s", i, o, c)
			}
			seen[i] = c
		}
		total += len(ix)
	}
	if len(ImageNet16Categories()) != 16 || total != 207 {
		t.Fatalf("%d categories, %d classes; want 16 and 207", len(ImageNet16Categories()), total)
	}
	b, err := os.ReadFile(mirror.Path(t, "imagenet-labels/imagenet-simple-labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	if err := json.Unmarshal(b, &labels); err != nil || len(labels) != 1000 {
		t.Fatalf("labels: %v (%d)", err, len(labels))
	}
	for i, want := range map[int]string{404: "airliner", 499: "cleaver", 508: "keyboard", 671: "mountain bike", 281: "tabby", 385: "elephant", 817: "sports car", 766: "rotisserie"} {
		if !strings.Contains(strings.ToLower(labels[i]), want) {
			t.Errorf("class %d (%s) is %q, expected it to name %q", i, seen[i], labels[i], want)
		}
	}
}

// identity1000 is a "classifier" whose outputs are its inputs (k of them), optionally passed
// through a softmax.
func identity1000(t *testing.T, k int, softmax bool) *Classifier {
	g := &nn.Graph{Name: "id", InputShape: []int{k}}
	g.Chain("out", &nn.Dropout{})
	if softmax {
		g.Chain("prob", &nn.SoftmaxOp{})
	}
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(g)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestImageNet16Answers(t *testing.T) {
	for _, tc := range []struct {
		k       int
		softmax bool
	}{{1000, false}, {1001, false}, {1000, true}} {
		c := identity1000(t, tc.k, tc.softmax)
		off := tc.k - 1000
		if !IsImageNetClassifier(c.G) {
			t.Fatalf("%d outputs: not recognised as an ImageNet classifier", tc.k)
		}
		if err := c.UseImageNet16([]string{"a", "b", "c"}, map[string]string{"a": "knife", "b": "dog", "c": "car"}); err != nil {
			t.Fatal(err)
		}
		img := func(set map[int]float32) *tensor.Tensor {
			x := tensor.New(tc.k)
			for i := range x.Data {
				x.Data[i] = -5
			}
			for i, v := range set {
				x.Data[i+off] = v
			}
			return x
		}
		dog, _ := ImageNet16Indices("dog")
		many := map[int]float32{}
		for _, i := range dog {
			many[i] = 3
		}
		many[499] = 2.5 // one knife class a little below each dog class: dog wins on the mean
		one := map[int]float32{499: 3, 817: 2}
		for _, i := range dog[:20] {
			one[i] = 3.2 // some dog classes above the knife, but the dog mean is far lower
		}
		pred, err := c.Predict([]*tensor.Tensor{img(many), img(one), img(map[int]float32{817: 1, 5: 9})})
		if err != nil {
			t.Fatal(err)
		}
		if pred[0] != 1 || pred[1] != 0 || pred[2] != 2 {
			t.Errorf("%d outputs, softmax %v: answers %v, want [1 0 2] (dog, knife, car)", tc.k, tc.softmax, pred)
		}
	}
	// Not an ImageNet classifier; unmapped or unknown classes.
	if err := identity1000(t, 10, false).UseImageNet16([]string{"a"}, map[string]string{"a": "dog"}); err == nil {
		t.Error("a 10-way classifier was accepted")
	}
	c := identity1000(t, 1000, false)
	if err := c.UseImageNet16([]string{"a", "b"}, map[string]string{"a": "dog"}); err == nil {
		t.Error("an unmapped class was accepted")
	}
	if err := c.UseImageNet16([]string{"a"}, map[string]string{"a": "zebra"}); err == nil {
		t.Error("a category outside the 16 was accepted")
	}
}

// The built-in ImageNet spec uses all 16 categories and every trial.
func TestGeirhosEdgesImageNet16(t *testing.T) {
	root := mirror.Path(t, "geirhos-edges")
	s, err := LoadSpec("geirhos-edges-imagenet16")
	if err != nil {
		t.Fatal(err)
	}
	s.Root = root
	b, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ClassMap) != 16 || len(b.Stimuli) != 160 || len(b.Subjects) != 10 {
		t.Fatalf("%d categories, %d stimuli, %d subjects; want 16, 160, 10", len(s.ClassMap), len(b.Stimuli), len(b.Subjects))
	}
	if _, err := ParseSpec([]byte("stimuli: s\ntrials: t\nlabel_space: imagenet1k\n"), "x.yaml"); err == nil {
		t.Error("an unknown label space was accepted")
	}
}

// Classify returns the top-K output indices by probability, with labels, in the set's order.
func TestClassifyTopK(t *testing.T) {
	g := &nn.Graph{Name: "id", InputShape: []int{1, 1, 4}}
	g.Chain("out", &nn.Dropout{})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	g.Meta = map[string]string{"classes": `["a, x","b","c","d"]`}
	c, err := NewClassifier(g)
	if err != nil {
		t.Fatal(err)
	}
	c.Batch = 2
	rows := [][]float32{{0, 1, 2, 3}, {5, 1, 1, 0}, {0, 0, 0, 9}}
	var imgs []*tensor.Tensor
	for _, r := range rows {
		imgs = append(imgs, tensor.FromData(append([]float32(nil), r...), 1, 1, 4))
	}
	set, err := stimuli.FromTensors("s", []string{"x", "y", "z"}, imgs)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Classify(set, 2)
	if err != nil {
		t.Fatal(err)
	}
	// softmax of [0 1 2 3]: e^3 / (1 + e + e^2 + e^3) = 0.6439.
	if len(res) != 3 || res[0].ID != "x" || res[0].Top[0].Index != 3 || res[0].Top[0].Label != "d" || res[0].Top[1].Index != 2 ||
		math.Abs(res[0].Top[0].P-0.643914) > 1e-5 || res[1].Top[0].Label != "a, x" || res[2].Top[0].Index != 3 || len(res[2].Top) != 2 {
		t.Fatalf("%+v", res)
	}
	if _, err := c.Classify(set, 0); err == nil {
		t.Error("top 0 was accepted")
	}
}

// A softmax over all outputs followed by shape-only layers (how Keras classifiers end) is a
// probability output; a softmax over one axis of several, or no softmax, is not.
func TestOutputsProbabilities(t *testing.T) {
	build := func(tail func(g *nn.Graph)) *nn.Graph {
		g := &nn.Graph{InputShape: []int{3}}
		g.Chain("fc", &nn.Dense{Out: 6})
		tail(g)
		if err := g.Build(1); err != nil {
			t.Fatal(err)
		}
		return g
	}
	cases := []struct {
		name string
		tail func(g *nn.Graph)
		want bool
	}{
		{"dense", func(g *nn.Graph) {}, false},
		{"softmax", func(g *nn.Graph) { g.Chain("sm", &nn.SoftmaxOp{}) }, true},
		{"keras tail", func(g *nn.Graph) {
			g.Chain("r", &nn.Reshape{Shape: []int{6, 1, 1}}).Chain("sm", &nn.SoftmaxOp{}).Chain("drop", &nn.Dropout{}).Chain("flat", &nn.Flatten{})
		}, true},
		{"softmax over one axis", func(g *nn.Graph) {
			g.Chain("r", &nn.Reshape{Shape: []int{2, 3}}).Chain("sm", &nn.SoftmaxOp{Axis: 1}).Chain("flat", &nn.Flatten{})
		}, false},
		{"requantized softmax (TFLite)", func(g *nn.Graph) {
			g.Chain("sm", &nn.SoftmaxOp{}).Chain("q", &nn.FakeQuant{Scale: 1.0 / 256, Qmin: 0, Qmax: 255})
		}, true},
		{"relu after softmax", func(g *nn.Graph) { g.Chain("sm", &nn.SoftmaxOp{}).Chain("relu", &nn.Activation{Kind: "relu"}) }, false},
	}
	for _, c := range cases {
		if got := outputsProbabilities(build(c.tail)); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
