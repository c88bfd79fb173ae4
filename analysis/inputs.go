package analysis

import (
	"fmt"
	"hash/fnv"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// ModelInputs returns images lo..lo+n-1 of ds as model inputs [n InputShape...]: normalised
// as the model's preprocessing declares (the same as train.Evaluate) when the images already
// have the model's input shape, and put through the whole preprocessing (channels, resize,
// normalisation) otherwise.
func ModelInputs(g *nn.Graph, ds *datasets.Dataset, lo, n int) (*tensor.Tensor, error) {
	p, ok, err := stimuli.FromMeta(g)
	if err != nil {
		return nil, err
	}
	per := ds.ImageSize()
	x := tensor.New(append([]int{n}, g.InputShape...)...)
	same := len(g.InputShape) == 3 && g.InputShape[0] == ds.C && g.InputShape[1] == ds.H && g.InputShape[2] == ds.W
	if same {
		copy(x.Data, ds.X[lo*per:(lo+n)*per])
		if ok && len(p.Mean) > 0 {
			if len(p.Mean) != 1 && len(p.Mean) != ds.C {
				return nil, fmt.Errorf("model %q normalises %d channels, the images of %s have %d", g.Name, len(p.Mean), ds.Name, ds.C)
			}
			mean, std := p.Mean, p.Std
			if len(mean) == 1 && ds.C > 1 {
				mean, std = repeat(mean[0], ds.C), repeat(std[0], ds.C)
			}
			for i := 0; i < n; i++ {
				datasets.Normalize(x.Data[i*per:(i+1)*per], ds.C, mean, std)
			}
		}
		return x, nil
	}
	if !ok {
		return nil, fmt.Errorf("model %q takes %v and declares no preprocessing; the images of %s are [%d %d %d]", g.Name, g.InputShape, ds.Name, ds.C, ds.H, ds.W)
	}
	out := tensor.Numel(g.InputShape)
	for i := 0; i < n; i++ {
		img := tensor.FromData(append([]float32(nil), ds.Image(lo+i)...), ds.C, ds.H, ds.W)
		y, err := p.Apply(img)
		if err != nil {
			return nil, err
		}
		if !tensor.SameShape(y.Shape, g.InputShape) {
			return nil, fmt.Errorf("model %q takes %v; its preprocessing makes %v from the images of %s", g.Name, g.InputShape, y.Shape, ds.Name)
		}
		copy(x.Data[i*out:], y.Data)
	}
	return x, nil
}

func repeat(v float32, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// hash64 derives a stream number from a string (seeded choices per layer).
func hash64(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
