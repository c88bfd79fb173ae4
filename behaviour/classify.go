package behaviour

import (
	"fmt"
	"sort"

	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// Guess is one of a model's top answers for an image: the model's own output index, its label
// (empty when the model has none) and its probability (the softmax of the output, or the
// output itself when the model ends in a softmax).
type Guess struct {
	Index int     `json:"index"`
	Label string  `json:"label"`
	P     float64 `json:"p"`
}

// Classification is the top-K answers for one stimulus.
type Classification struct {
	ID  string  `json:"id"`
	Top []Guess `json:"top"`
}

// Classify shows every stimulus of set to the model and returns its k most probable classes
// per stimulus, in the set's order. Images are decoded batch by batch, so memory stays bounded
// by the batch size whatever the set's size.
func (c *Classifier) Classify(set *stimuli.Set, k int) ([]Classification, error) {
	if k < 1 {
		return nil, fmt.Errorf("classify: top %d: must be at least 1", k)
	}
	bs := c.Batch
	if bs <= 0 {
		bs = 64
	}
	probs := outputsProbabilities(c.G)
	out := make([]Classification, 0, set.Len())
	for lo := 0; lo < set.Len(); lo += bs {
		n := min(bs, set.Len()-lo)
		imgs := make([]*tensor.Tensor, n)
		for i := range n {
			img, err := set.Image(lo + i)
			if err != nil {
				return nil, fmt.Errorf("classify: stimulus %s: %w", set.ID(lo+i), err)
			}
			imgs[i] = img
		}
		lg, err := c.Logits(imgs)
		if err != nil {
			return nil, err
		}
		for i, row := range lg {
			p := probabilities(row, probs)
			order := make([]int, len(p))
			for j := range order {
				order[j] = j
			}
			sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
			cl := Classification{ID: set.ID(lo + i)}
			for _, j := range order[:min(k, len(order))] {
				g := Guess{Index: j, P: p[j]}
				if j < len(c.Classes) {
					g.Label = c.Classes[j]
				}
				cl.Top = append(cl.Top, g)
			}
			out = append(out, cl)
		}
	}
	return out, nil
}
