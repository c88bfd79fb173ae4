package benchmarks

import (
	"fmt"
	"strings"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

// LoadStimuli loads the stimulus sets named in specs (split is "" or a split name such as
// "train"). It may be replaced, e.g. by tests; the default knows kriegeskorte92
// (stimuli.Kriegeskorte92: ids "1".."92" in RDM order, with a category column) and
// allen-mouse-v1 (stimuli.AllenMouseV1: splits train and test, ids "0".. in row order).
var LoadStimuli = func(set, split string) (*stimuli.Set, error) {
	switch set {
	case "kriegeskorte92":
		if split != "" {
			return nil, fmt.Errorf("stimulus set kriegeskorte92 has no split %q", split)
		}
		return stimuli.Kriegeskorte92()
	case "allen-mouse-v1":
		return stimuli.AllenMouseV1(split)
	}
	return nil, fmt.Errorf("unknown stimulus set %q (known: kriegeskorte92, allen-mouse-v1)", set)
}

// DefaultLayers lists every node whose output is a feature map or vector: all but the loss and
// softmax nodes.
func DefaultLayers(g *nn.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		t := strings.ToLower(n.Op.Type())
		if strings.Contains(t, "softmax") || strings.Contains(t, "loss") || strings.Contains(t, "cross_entropy") {
			continue
		}
		// Flatten and dropout pass their input through unchanged at inference: scoring them
		// again would only repeat the previous layer's row in every table.
		if t == "flatten" || t == "dropout" {
			continue
		}
		out = append(out, n.Name)
	}
	return out
}

// preprocessFor returns the preprocessing the model declares (stimuli.FromMeta), completed so
// that every stimulus comes out in the model's [C H W] input shape: without a declared size the
// image is resized to the input's (square) side, and without a declared channel conversion
// colour images are turned to luminance for a one-channel model and grey images repeated for a
// three-channel one.
func preprocessFor(g *nn.Graph) (stimuli.Preprocess, error) {
	p, _, err := stimuli.FromMeta(g)
	if err != nil {
		return p, fmt.Errorf("model %q: %w", g.Name, err)
	}
	if len(g.InputShape) != 3 {
		return p, fmt.Errorf("model %q: input %v, expected [C H W] images", g.Name, g.InputShape)
	}
	C, H, W := g.InputShape[0], g.InputShape[1], g.InputShape[2]
	if p.Size == 0 {
		if H != W {
			return p, fmt.Errorf("model %q: input %v is not square; declare its preprocessing (size, crop)", g.Name, g.InputShape)
		}
		p.Size = H
	}
	if !p.Grey && !p.RGB {
		switch C {
		case 1:
			p.Grey = true
		case 3:
			p.RGB = true
		default:
			return p, fmt.Errorf("model %q: cannot feed images to %d input channels", g.Name, C)
		}
	}
	return p, nil
}

// extract returns each layer's responses to the stimuli (stimuli x features, the output at the
// last time step, flattened) through package activations: each stimulus is preprocessed as
// preprocessFor says, and with cacheDir set the activations are read from and written to its
// content-addressed, checksummed cache (keyed by model digest, image digest, preprocessing and
// layer). Warnings (e.g. a corrupt cache entry, recomputed) go to res.
func extract(g *nn.Graph, set *stimuli.Set, layers []string, cacheDir string, res *Result) ([]*activations.Matrix, error) {
	p, err := preprocessFor(g)
	if err != nil {
		return nil, err
	}
	o := activations.Options{Dir: cacheDir, NoCache: cacheDir == "", Quiet: true, Batch: 16, Preprocess: &p,
		Warn: func(msg string) { res.Warnings = append(res.Warnings, msg) }}
	r, err := activations.Extract(g, set, layers, o)
	if err != nil {
		return nil, err
	}
	out := make([]*activations.Matrix, len(layers))
	for i, l := range r.Layers {
		out[i] = l.Features
	}
	return out, nil
}
