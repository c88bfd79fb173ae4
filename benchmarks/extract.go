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

// extract returns each layer's responses to the stimuli (stimuli x features, the output at the
// last time step, flattened) through package activations: each stimulus is preprocessed as
// stimuli.ForModel says, and with cacheDir set the activations are read from and written to its
// content-addressed, checksummed cache (keyed by model digest, image digest, preprocessing and
// layer). Warnings (e.g. a corrupt cache entry, recomputed) go to res.
func extract(g *nn.Graph, set *stimuli.Set, layers []string, cacheDir string, res *Result) ([]*activations.Matrix, error) {
	p, err := stimuli.ForModel(g)
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
