package compare

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ventral-lab/ventral/benchmarks"
	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/tensor"
)

// ImageSource returns n natural images ([C H W] float32 tensors with values in [0,1]) drawn
// with seed, and a description of where they come from (recorded in the table).
type ImageSource func(n int, seed uint64) (imgs []*tensor.Tensor, desc string, err error)

// CIFAR10Train is the default ImageSource: n distinct CIFAR-10 training images (32 x 32
// colour photographs of objects and animals), chosen by a permutation seeded with seed. They
// are natural images and none of them is a benchmark stimulus.
func CIFAR10Train(n int, seed uint64) ([]*tensor.Tensor, string, error) {
	d, err := datasets.Load("cifar10", "train")
	if err != nil {
		return nil, "", fmt.Errorf("loading the HMAX prototype images: %w", err)
	}
	if n > d.N {
		return nil, "", fmt.Errorf("%d prototype images asked for, CIFAR-10 has %d training images", n, d.N)
	}
	idx := rand.New(rand.NewPCG(seed, 0x5eed_c1fa_7e57)).Perm(d.N)[:n]
	imgs := make([]*tensor.Tensor, n)
	for k, i := range idx {
		imgs[k] = tensor.FromData(append([]float32(nil), d.Image(i)...), d.C, d.H, d.W)
	}
	return imgs, fmt.Sprintf("%d CIFAR-10 training images (drawn with seed %d)", n, seed), nil
}

// prototypes samples HMAX prototypes for Run and checks that the images are not stimuli of
// the benchmarks.
type prototypes struct {
	cfg   *Config
	specs []*benchmarks.Spec
}

// sample sets g's S2 prototypes from the configured images (preprocessed as g declares) and
// returns where they came from.
func (p *prototypes) sample(g *nn.Graph) (string, error) {
	imgs, desc, err := p.cfg.PrototypeSource(p.cfg.HMAXPrototypeImages, p.cfg.Seed)
	if err != nil {
		return "", err
	}
	if len(imgs) == 0 {
		return "", fmt.Errorf("the prototype image source gave no images")
	}
	pre, err := stimuli.ForModel(g)
	if err != nil {
		return "", err
	}
	per := 1
	for _, d := range g.InputShape {
		per *= d
	}
	x := tensor.New(append([]int{len(imgs)}, g.InputShape...)...)
	inputs := map[[32]byte]int{}
	for i, img := range imgs {
		in, err := pre.Apply(img)
		if err != nil {
			return "", fmt.Errorf("prototype image %d: %w", i, err)
		}
		if in.Len() != per {
			return "", fmt.Errorf("prototype image %d gives input %v, model %s takes %v", i, in.Shape, g.Name, g.InputShape)
		}
		copy(x.Data[i*per:], in.Data)
		inputs[digest(in.Data)] = i
	}
	if err := p.disjoint(pre, inputs); err != nil {
		return "", err
	}
	n := p.cfg.HMAXPrototypes
	if n <= 0 {
		for _, node := range g.Nodes {
			if r, ok := node.Op.(*nn.RBF); ok {
				n = r.Prototypes
				break
			}
		}
	}
	if err := models.HMAXPrototypes(g, x, n, p.cfg.Seed); err != nil {
		return "", err
	}
	return desc + ", preprocessed as the model declares", nil
}

// disjoint fails when a prototype image gives the same model input as a stimulus of any
// benchmark (both preprocessed alike, without visual-angle scaling).
func (p *prototypes) disjoint(pre stimuli.Preprocess, inputs map[[32]byte]int) error {
	for _, s := range p.specs {
		splits := []string{""}
		if s.Stimuli.Train != "" || s.Stimuli.Test != "" {
			splits = []string{s.Stimuli.Train, s.Stimuli.Test}
		}
		for _, split := range splits {
			set, err := s.StimulusSet(split)
			if err != nil {
				return err
			}
			for i := 0; i < set.Len(); i++ {
				img, err := set.Image(i)
				if err != nil {
					set.Close()
					return err
				}
				in, err := pre.Apply(img)
				if err != nil {
					set.Close()
					return err
				}
				if k, ok := inputs[digest(in.Data)]; ok {
					set.Close()
					return fmt.Errorf("HMAX prototype image %d is stimulus %s of benchmark %s: prototypes must come from images that are not the benchmark stimuli", k, set.ID(i), s.Name)
				}
			}
			set.Close()
		}
	}
	return nil
}

func digest(x []float32) [32]byte {
	b := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	return sha256.Sum256(b)
}

// IsHMAX reports whether g is HMAX-style: it has rbf (S2) layers whose prototypes must be
// sampled before it can be scored.
func IsHMAX(g *nn.Graph) bool { return isHMAX(g) }

// SampleHMAXPrototypes sets the S2 prototypes of an HMAX-style graph the way Run does: from
// images natural images of src (nil: CIFAR10Train; images <= 0: DefaultPrototypeImages) drawn
// with seed, preprocessed as g declares, perLayer prototypes per S2 layer (0: the model's own
// number), after checking that no image is a stimulus of specs. It returns where the
// prototypes came from, for the caller's table.
func SampleHMAXPrototypes(g *nn.Graph, specs []*benchmarks.Spec, src ImageSource, images, perLayer int, seed uint64) (string, error) {
	if src == nil {
		src = CIFAR10Train
	}
	if images <= 0 {
		images = DefaultPrototypeImages
	}
	cfg := &Config{Seed: seed, PrototypeSource: src, HMAXPrototypeImages: images, HMAXPrototypes: perLayer}
	return (&prototypes{cfg: cfg, specs: specs}).sample(g)
}
