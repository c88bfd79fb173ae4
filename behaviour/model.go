package behaviour

import (
	"fmt"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// Classifier feeds [0,1] CHW images to a built model through its declared preprocessing
// (stimuli.FromMeta; none declared means the images go in as they are).
type Classifier struct {
	G       *nn.Graph
	Pre     stimuli.Preprocess
	HasPre  bool
	Classes []string // the model's class names (models.Classes), may be nil
	Batch   int      // images per forward pass (default 64)

	// im16, when set (UseImageNet16), makes Predict answer in a data set's classes through the
	// ImageNet 16-category mapping.
	im16 *imageNet16Space
}

// imageNet16Space maps an ImageNet classifier's outputs onto a data set's classes.
type imageNet16Space struct {
	offset   int
	probs    bool           // the output is already a softmax
	category []string       // data set class index -> one of the 16 categories
	index    map[string]int // category -> data set class index
}

// UseImageNet16 makes Predict answer in dataClasses, each mapped by toCategory onto one of the
// 16 entry-level categories (ImageNet16Categories): the answer is the data class whose
// category has the highest mean probability over its ImageNet classes. Every data class must
// be mapped, each to a different category. The model must be an ImageNet classifier.
func (c *Classifier) UseImageNet16(dataClasses []string, toCategory map[string]string) error {
	k := tensor.Numel(c.G.Node(c.G.OutputName()).Shape)
	off, err := imageNetOffset(k, c.Classes)
	if err != nil {
		return fmt.Errorf("model %q: %w", c.G.Name, err)
	}
	sp := &imageNet16Space{offset: off, probs: outputsProbabilities(c.G), index: map[string]int{}}
	for i, dc := range dataClasses {
		cat, ok := toCategory[dc]
		if !ok {
			return fmt.Errorf("class %q has no ImageNet 16-category counterpart", dc)
		}
		if _, ok := imageNet16[cat]; !ok {
			return fmt.Errorf("class %q maps to %q, which is not one of the 16 categories (%v)", dc, cat, ImageNet16Categories())
		}
		if j, dup := sp.index[cat]; dup {
			return fmt.Errorf("classes %q and %q both map to category %q", dataClasses[j], dc, cat)
		}
		sp.category = append(sp.category, cat)
		sp.index[cat] = i
	}
	c.im16 = sp
	return nil
}

// IsImageNetClassifier reports whether a built model's output is over the ImageNet classes
// (1000, or 1001 with a background class first).
func IsImageNetClassifier(g *nn.Graph) bool {
	n := g.Node(g.OutputName())
	if n == nil {
		return false
	}
	_, err := imageNetOffset(tensor.Numel(n.Shape), models.Classes(g))
	return err == nil
}

// NewClassifier wraps a built model.
func NewClassifier(g *nn.Graph) (*Classifier, error) {
	if g == nil || !g.Built() {
		return nil, fmt.Errorf("behaviour: the model must be built")
	}
	p, ok, err := stimuli.FromMeta(g)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", g.Name, err)
	}
	return &Classifier{G: g, Pre: p, HasPre: ok, Classes: models.Classes(g), Batch: 64}, nil
}

// input applies the preprocessing to one image and checks it against the model's input shape.
func (c *Classifier) input(img *tensor.Tensor) (*tensor.Tensor, error) {
	x := img
	if c.HasPre {
		var err error
		if x, err = c.Pre.Apply(img); err != nil {
			return nil, fmt.Errorf("model %q preprocessing: %w", c.G.Name, err)
		}
	}
	if !tensor.SameShape(x.Shape, c.G.InputShape) {
		return nil, fmt.Errorf("model %q takes %v, the (preprocessed) image is %v", c.G.Name, c.G.InputShape, x.Shape)
	}
	return x, nil
}

// Logits returns the model's output for each image as one row of scores per image.
func (c *Classifier) Logits(imgs []*tensor.Tensor) ([][]float32, error) {
	bs := c.Batch
	if bs <= 0 {
		bs = 64
	}
	per := tensor.Numel(c.G.InputShape)
	out := make([][]float32, 0, len(imgs))
	ctx := nn.NewCtx(false, 0)
	for lo := 0; lo < len(imgs); lo += bs {
		m := min(bs, len(imgs)-lo)
		buf := make([]float32, m*per)
		for i := range m {
			x, err := c.input(imgs[lo+i])
			if err != nil {
				return nil, err
			}
			copy(buf[i*per:], x.Data)
		}
		tr, err := c.G.Forward(ctx, tensor.FromData(buf, append([]int{m}, c.G.InputShape...)...))
		if err != nil {
			return nil, err
		}
		o := tr.Output()
		k := o.Len() / m
		for i := range m {
			out = append(out, append([]float32(nil), o.Data[i*k:(i+1)*k]...))
		}
		ctx.Reset()
	}
	return out, nil
}

// Predict returns the arg-max class of each image.
func (c *Classifier) Predict(imgs []*tensor.Tensor) ([]int, error) {
	lg, err := c.Logits(imgs)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(lg))
	for i, row := range lg {
		if sp := c.im16; sp != nil {
			cat := imageNet16Answer(probabilities(row, sp.probs), sp.offset, sp.category)
			out[i] = sp.index[cat]
			continue
		}
		out[i] = argmax(row, nil)
	}
	return out, nil
}

// argmax over row, restricted to the indices in among when among is non-nil.
func argmax(row []float32, among []int) int {
	best := -1
	if among == nil {
		for i, v := range row {
			if best < 0 || v > row[best] {
				best = i
			}
		}
		return best
	}
	for _, i := range among {
		if best < 0 || row[i] > row[best] {
			best = i
		}
	}
	return best
}
