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

// DefaultMemoryBudget bounds the activations a benchmark holds at once (Options.MemoryBudget).
const DefaultMemoryBudget = 1 << 29

// layerGroups splits layers into runs whose activations for rows stimuli fit budget bytes
// (float32 features; a layer larger than the budget is a group of its own). A model that
// cannot say its layers' sizes (subject.LayerSizer) gets one group: its activations come from
// a file one layer at a time anyway.
func layerGroups(model subject.Model, layers []string, rows int, budget int64) ([][]string, error) {
	sz, ok := model.(subject.LayerSizer)
	if !ok {
		return [][]string{layers}, nil
	}
	if budget <= 0 {
		budget = DefaultMemoryBudget
	}
	var groups [][]string
	var cur []string
	var bytes int64
	for _, l := range layers {
		f, err := sz.LayerSize(l)
		if err != nil {
			return nil, err
		}
		b := 4 * int64(f) * int64(rows)
		if len(cur) > 0 && bytes+b > budget {
			groups = append(groups, cur)
			cur, bytes = nil, 0
		}
		cur = append(cur, l)
		bytes += b
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups, nil
}

// extractGroups calls fn with the activations of each group of layers (layerGroups) in turn,
// so that memory holds one group: a network with many large layers (an ImageNet MobileNet has
// gigabytes of activations for even 92 images) is scored in bounded memory. Without a cache each
// group is a forward pass of its own; with one, the model stores every layer in a single pass
// first (subject.Storer) and each group is read back from the cache. fn gets the index of the
// group's first layer in layers.
func extractGroups(model subject.Model, set *stimuli.Set, layers []string, opts Options, proj activations.Projection, res *Result, fn func(first int, feats []*activations.Matrix) error) error {
	groups, err := layerGroups(model, layers, set.Len(), opts.MemoryBudget)
	if err != nil {
		return err
	}
	if st, ok := model.(subject.Storer); ok && len(groups) > 1 && opts.CacheDir != "" {
		if err := st.Store(set, layers, subject.Options{CacheDir: opts.CacheDir, Projection: proj, Warn: func(msg string) { res.Warnings = append(res.Warnings, msg) }}); err != nil {
			return err
		}
	}
	first := 0
	for _, g := range groups {
		feats, err := extract(model, set, g, opts.CacheDir, proj, res)
		if err != nil {
			return err
		}
		if err := fn(first, feats); err != nil {
			return err
		}
		first += len(g)
	}
	return nil
}
