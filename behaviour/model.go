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
