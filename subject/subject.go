// Package subject is the seam between models and benchmarks: a benchmark treats a model as an
// experimental subject (Brain-Score's "model as subject") that it shows stimuli and records
// from, and never reaches into its layers itself. Model is all a benchmark may ask of one: who it
// is (a digest for caches and results), which layers it can record from, how it sees images,
// and its responses to a stimulus set at named layers.
//
// Two implementations live here: Graph wraps a ventral *nn.Graph (imported networks are graphs
// too), extracting through package activations with its content-addressed cache; Precomputed
// reads activations that a model run anywhere else left in a file (.npz, .h5 or .nc: one array
// per layer),
// so that a model none of our code can run is scored by exactly the same benchmark code.
package subject

import (
	"fmt"
	"math"
	"strings"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/stimuli"
)

// Model is a model as a benchmark sees it.
type Model interface {
	// Name is the model's display name (results are recorded under it).
	Name() string
	// Digest identifies everything that changes the model's responses (weights, buffers, or the
	// bytes of a precomputed file); caches and results are keyed by it.
	Digest() (string, error)
	// Layers lists the layers a benchmark may record from, input side first, or says why the
	// model cannot be recorded from yet (not built, HMAX prototypes not sampled).
	Layers() ([]Layer, error)
	// Preprocess is how a stimulus becomes the model's input; nil when the model's responses
	// were computed elsewhere and the preprocessing is not ours to know (Precomputed).
	Preprocess() (*stimuli.Preprocess, error)
	// Activations returns each named layer's responses to every stimulus of set, one row per
	// stimulus in the set's order (features flattened), in the order of layers.
	Activations(set *stimuli.Set, layers []string, o Options) ([]*activations.Matrix, error)
}

// LayerSizer is implemented by models that know how many features a layer has before running
// (a graph's output shapes); benchmarks use it to hold a bounded share of a network's
// activations at once.
type LayerSizer interface {
	LayerSize(layer string) (int, error)
}

// Storer is implemented by models that can write their activations to the cache in one pass
// without holding them (a graph), so that later Activations calls for groups of the layers read
// them back instead of running the model again.
type Storer interface {
	Store(set *stimuli.Set, layers []string, o Options) error
}

// Layer is one layer a benchmark can record from.
type Layer struct {
	Name string
	// Depth is the layer's relative depth, 0 (first recorded layer) to 1 (last), NaN when
	// unknown.
	Depth float64
	// Default marks the layers scored when a benchmark is not told which to score (a graph's
	// softmax, loss, flatten and dropout nodes can be recorded from but are not scored by
	// default: they repeat or squash the layer before them).
	Default bool
}

// Options control Activations.
type Options struct {
	// CacheDir, when set, caches computed activations there (package activations' cache,
	// keyed by model digest, stimuli, preprocessing and layer); empty: no cache.
	CacheDir string
	// Warn receives warnings such as a corrupt cache entry that was recomputed (nil: dropped).
	Warn func(msg string)
	// Projection caps the features per layer (activations.Projection; zero: none). Random and
	// sketch projections give the same numbers for a graph and for its precomputed activations.
	Projection activations.Projection
}

func (o Options) warn(msg string) {
	if o.Warn != nil {
		o.Warn(msg)
	}
}

// LayerNames returns the names of layers.
func LayerNames(ls []Layer) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Name
	}
	return out
}

// CheckLayers returns an error naming the model and its layers when any of want is not one of
// m's layers.
func CheckLayers(m Model, want []string) error {
	ls, err := m.Layers()
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, l := range ls {
		have[l.Name] = true
	}
	for _, w := range want {
		if !have[w] {
			return fmt.Errorf("model %q has no layer %q (layers: %s)", m.Name(), w, strings.Join(LayerNames(ls), ", "))
		}
	}
	return nil
}

// DefaultLayers returns the names of m's default layers.
func DefaultLayers(m Model) ([]string, error) {
	ls, err := m.Layers()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range ls {
		if l.Default {
			out = append(out, l.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("model %q has no layers to score", m.Name())
	}
	return out, nil
}

// unknownDepths returns default layers of unknown depth.
func unknownDepths(names []string) []Layer {
	out := make([]Layer, len(names))
	for i, n := range names {
		out[i] = Layer{Name: n, Depth: math.NaN(), Default: true}
	}
	return out
}
