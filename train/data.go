package train

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

// Augment configures training-time augmentation (never applied in Evaluate).
type Augment struct {
	// Flip mirrors each image left-right with probability 1/2.
	Flip bool `json:"flip,omitempty"`
	// Crop > 0 pads each image by Crop pixels of zeros and takes a random crop of the original
	// size (the CIFAR recipe uses 4).
	Crop int `json:"crop,omitempty"`
}

// Subset returns n images of ds (ds itself when n <= 0 or n >= its length), chosen by a
// fixed-seed shuffle and kept in their original order. Data sets stored class by class (the
// CIFAR-10 zips) would lose whole classes to a plain prefix; this keeps every class in
// proportion, and the same n always gives the same images.
func Subset(ds *datasets.Dataset, n int) *datasets.Dataset {
	if n <= 0 || n >= ds.N {
		return ds
	}
	pick := rand.New(rand.NewPCG(0x5eed, uint64(ds.N))).Perm(ds.N)[:n]
	sort.Ints(pick)
	per := ds.ImageSize()
	s := *ds
	s.N = n
	s.X = make([]float32, n*per)
	if ds.Labels != nil {
		s.Labels = make([]int, n)
	}
	if ds.Files != nil {
		s.Files = make([]string, n)
	}
	for i, j := range pick {
		copy(s.X[i*per:(i+1)*per], ds.X[j*per:(j+1)*per])
		if ds.Labels != nil {
			s.Labels[i] = ds.Labels[j]
		}
		if ds.Files != nil {
			s.Files[i] = ds.Files[j]
		}
	}
	return &s
}

// normalization returns the per-channel mean and std the model declares in its preprocessing
// metadata (nil, nil when it declares none), checked against the images' channel count.
func normalization(g *nn.Graph, ds *datasets.Dataset) (mean, std []float32, err error) {
	p, ok, err := stimuli.FromMeta(g)
	if err != nil || !ok || len(p.Mean) == 0 {
		return nil, nil, err
	}
	if len(p.Mean) != ds.C || len(p.Std) != ds.C {
		return nil, nil, fmt.Errorf("model %q normalises %d channels, the images of %s have %d", g.Name, len(p.Mean), ds.Name, ds.C)
	}
	return p.Mean, p.Std, nil
}

func checkData(g *nn.Graph, ds *datasets.Dataset, what string) error {
	if ds == nil || ds.N == 0 {
		return fmt.Errorf("empty %s set", what)
	}
	if ds.Labels == nil {
		return fmt.Errorf("%s set %s has no labels", what, ds.Name)
	}
	if len(g.InputShape) != 3 || g.InputShape[0] != ds.C || g.InputShape[1] != ds.H || g.InputShape[2] != ds.W {
		return fmt.Errorf("model %q takes %v, the %s images of %s are [%d %d %d]", g.Name, g.InputShape, what, ds.Name, ds.C, ds.H, ds.W)
	}
	return nil
}
