package behaviour

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
)

// The 16 entry-level categories of Geirhos et al. (2018, "Generalisation in humans and deep
// neural networks", NeurIPS), each a set of ImageNet classes by index in the standard
// 1000-class order. Their psychophysics (and model-vs-human, Geirhos et al. 2021) map an
// ImageNet network's answer onto the 16 categories by averaging the softmax probabilities of
// each category's classes and taking the largest mean; so do we. The index lists are the
// published mapping (the WordNet hyponyms of each category among the 1000 classes).
var imageNet16 = map[string][]int{
	"airplane": {404},
	"bear":     {294, 295, 296, 297},
	"bicycle":  {444, 671},
	"bird": {8, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 22, 23, 24, 80, 81, 82, 83, 87, 88, 89, 90,
		91, 92, 93, 94, 95, 96, 98, 99, 100, 127, 128, 129, 130, 131, 132, 133, 135, 136, 137, 138,
		139, 140, 141, 142, 143, 144, 145},
	"boat":   {472, 554, 625, 814, 914},
	"bottle": {440, 720, 737, 898, 899, 901, 907},
	"car":    {436, 511, 817},
	"cat":    {281, 282, 283, 284, 285, 286},
	"chair":  {423, 559, 765, 857},
	"clock":  {409, 530, 892},
	"dog": {152, 153, 154, 155, 156, 157, 158, 159, 160, 161, 162, 163, 164, 165, 166, 167, 168,
		169, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186,
		187, 188, 189, 190, 191, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203, 205, 206,
		207, 208, 209, 210, 211, 212, 213, 214, 215, 216, 217, 218, 219, 220, 221, 222, 223, 224,
		225, 226, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239, 240, 241, 243, 244,
		245, 246, 247, 248, 249, 250, 252, 253, 254, 255, 256, 257, 259, 261, 262, 263, 265, 266,
		267, 268},
	"elephant": {385, 386},
	"keyboard": {508, 878},
	"knife":    {499},
	"oven":     {766},
	"truck":    {555, 569, 656, 675, 717, 734, 864, 867},
}

// ImageNet16Categories lists the 16 categories, sorted.
func ImageNet16Categories() []string {
	out := make([]string, 0, len(imageNet16))
	for k := range imageNet16 {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ImageNet16Indices returns the ImageNet class indices (0..999) of a category.
func ImageNet16Indices(category string) ([]int, bool) {
	ix, ok := imageNet16[category]
	return append([]int(nil), ix...), ok
}

// LabelSpaceImageNet16 names the label space of Spec.LabelSpace that scores an ImageNet model
// on the 16 categories.
const LabelSpaceImageNet16 = "imagenet16"

// imageNetOffset is where class 0 of the 1000 ImageNet classes sits among a model's outputs:
// 0 for 1000 outputs, 1 for the 1001 outputs of TensorFlow's classifiers (index 0 is
// "background"). Other output counts are not ImageNet classifiers.
func imageNetOffset(outputs int, classes []string) (int, error) {
	switch {
	case outputs == 1000:
		return 0, nil
	case outputs == 1001 && (len(classes) == 0 || strings.EqualFold(classes[0], "background")):
		return 1, nil
	}
	return 0, fmt.Errorf("the ImageNet 16-category mapping needs a classifier over the 1000 ImageNet classes (or 1001 with a background class first); the model has %d outputs", outputs)
}

// outputsProbabilities reports whether a graph's output is already a probability distribution
// (its output node is a softmax over all its values, possibly followed by layers that only
// reshape, as Keras models end: softmax then Reshape), so that it is not put through a
// softmax twice.
func outputsProbabilities(g *nn.Graph) bool {
	n := g.Node(g.OutputName())
	for n != nil && len(n.Inputs) == 1 {
		switch n.Op.Type() {
		case "flatten", "reshape", "dropout", "fake_quant":
			// A quantized classifier's softmax is requantized (TFLite's uint8 output): still
			// probabilities, on a grid.
			n = g.Node(n.Inputs[0])
			continue
		}
		break
	}
	if n == nil || n.Op.Type() != "softmax" {
		return false
	}
	axis := 0
	switch sm := n.Op.(type) {
	case *nn.SoftmaxOp:
		axis = sm.Axis
	case nn.SoftmaxOp:
		axis = sm.Axis
	}
	if n.Shape == nil || axis < 0 || axis >= len(n.Shape) {
		return true
	}
	total := 1
	for _, d := range n.Shape {
		total *= d
	}
	return total == n.Shape[axis]
}

// probabilities turns one output row into probabilities: a softmax unless the model's
// output already is one.
func probabilities(row []float32, already bool) []float64 {
	p := make([]float64, len(row))
	if already {
		for i, v := range row {
			p[i] = float64(v)
		}
		return p
	}
	mx := math.Inf(-1)
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for i, v := range row {
		p[i] = math.Exp(float64(v) - mx)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}

// imageNet16Answer returns the category, among those in allowed (nil: all 16), with the
// highest mean probability of its ImageNet classes.
func imageNet16Answer(p []float64, offset int, allowed []string) string {
	if allowed == nil {
		allowed = ImageNet16Categories()
	}
	best, bestP := "", math.Inf(-1)
	for _, c := range allowed {
		var s float64
		ix := imageNet16[c]
		for _, i := range ix {
			s += p[i+offset]
		}
		if m := s / float64(len(ix)); m > bestP {
			best, bestP = c, m
		}
	}
	return best
}

// DataSetToImageNet16 maps the classes of ventral's labelled data sets that have a counterpart
// among the 16 categories (CIFAR-10's automobile is a car, its ship a boat). CIFAR-10's deer,
// frog and horse have none; nor has any MNIST digit.
var DataSetToImageNet16 = map[string]string{
	"airplane": "airplane", "automobile": "car", "bird": "bird", "cat": "cat", "dog": "dog",
	"ship": "boat", "truck": "truck",
}

// ImageNet16Subset keeps the images of ds whose class has a counterpart in
// DataSetToImageNet16, relabelled over the kept classes in their original order.
func ImageNet16Subset(ds *datasets.Dataset) (*datasets.Dataset, error) {
	newIndex := map[int]int{}
	out := &datasets.Dataset{Name: ds.Name + " (classes with an ImageNet 16-category counterpart)", C: ds.C, H: ds.H, W: ds.W}
	for i, c := range ds.Classes {
		if _, ok := DataSetToImageNet16[c]; ok {
			newIndex[i] = len(out.Classes)
			out.Classes = append(out.Classes, c)
		}
	}
	if len(out.Classes) < 2 {
		return nil, fmt.Errorf("%s: fewer than two of its classes (%s) have a counterpart among the ImageNet 16 categories", ds.Name, strings.Join(ds.Classes, ", "))
	}
	for i := 0; i < ds.N; i++ {
		j, ok := newIndex[ds.Labels[i]]
		if !ok {
			continue
		}
		out.X = append(out.X, ds.Image(i)...)
		out.Labels = append(out.Labels, j)
		out.N++
	}
	return out, nil
}
