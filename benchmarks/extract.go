package benchmarks

import (
	"fmt"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/subject"
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

// extract returns each layer's responses to the stimuli (stimuli x features, one row per
// stimulus in the set's order) from the model (subject.Model.Activations: a graph extracts
// through package activations and, with cacheDir set, its content-addressed cache). Warnings
// (e.g. a corrupt cache entry, recomputed) go to res.
func extract(model subject.Model, set *stimuli.Set, layers []string, cacheDir string, res *Result) ([]*activations.Matrix, error) {
	feats, err := model.Activations(set, layers, subject.Options{CacheDir: cacheDir, Warn: func(msg string) { res.Warnings = append(res.Warnings, msg) }})
	if err != nil {
		return nil, err
	}
	if len(feats) != len(layers) {
		return nil, fmt.Errorf("model %q returned %d layers' activations for %d requested", model.Name(), len(feats), len(layers))
	}
	for i, f := range feats {
		if f == nil || f.Rows != set.Len() {
			return nil, fmt.Errorf("model %q: layer %q: activations for %d stimuli expected", model.Name(), layers[i], set.Len())
		}
	}
	return feats, nil
}
