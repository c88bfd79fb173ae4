package benchmarks

import (
	"fmt"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/stimuli"
	"github.com/ventral-lab/ventral/subject"
)

// extract returns each layer's responses to the stimuli (stimuli x features, one row per
// stimulus in the set's order) from the model (subject.Model.Activations: a graph extracts
// through package activations and, with cacheDir set, its content-addressed cache). Warnings
// (e.g. a corrupt cache entry, recomputed) go to res.
func extract(model subject.Model, set *stimuli.Set, layers []string, cacheDir string, proj activations.Projection, res *Result) ([]*activations.Matrix, error) {
	feats, err := model.Activations(set, layers, subject.Options{CacheDir: cacheDir, Projection: proj, Warn: func(msg string) { res.Warnings = append(res.Warnings, msg) }})
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
