package benchmarks

import (
	"fmt"
	"strings"

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
	var bad []string
	for i, f := range feats {
		if f == nil || f.Rows != set.Len() {
			return nil, fmt.Errorf("model %q: layer %q: activations for %d stimuli expected", model.Name(), layers[i], set.Len())
		}
		if n, first := nonFinite(f.Data); n > 0 {
			bad = append(bad, fmt.Sprintf("%q (%d of %d values, first for stimulus %s)", layers[i], n, len(f.Data), set.IDs()[first/max(f.Cols, 1)]))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("model %q: layer %s: %w (NaN or Inf: overflowing or NaN weights?); score the other layers with --layers", model.Name(), strings.Join(bad, ", layer "), ErrNonFinite)
	}
	return feats, nil
}

// nonFinite counts the NaN and infinite values of x and returns the index of the first.
func nonFinite(x []float32) (n, first int) {
	first = -1
	for i, v := range x {
		if v-v != 0 { // NaN or ±Inf
			if n == 0 {
				first = i
			}
			n++
		}
	}
	return n, first
}
