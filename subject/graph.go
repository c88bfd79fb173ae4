package subject

import (
	"fmt"
	"strings"

	"github.com/ventral-lab/ventral/activations"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/stimuli"
)

// Graph is a ventral network (zoo, spec, checkpoint or imported) as a subject.
type Graph struct{ g *nn.Graph }

// FromGraph wraps a graph. It must be built (and, for HMAX-style models, have its S2
// prototypes sampled) before a benchmark records from it; Layers says so otherwise.
func FromGraph(g *nn.Graph) *Graph { return &Graph{g: g} }

// Graph returns the wrapped network.
func (m *Graph) Graph() *nn.Graph { return m.g }

// Name implements Model.
func (m *Graph) Name() string { return m.g.Name }

// Digest implements Model: nn.Graph.Digest (spec and weights).
func (m *Graph) Digest() (string, error) { return m.g.Digest() }

// Layers implements Model: every node, in graph order, at its relative position; all but
// softmax, loss, flatten and dropout nodes are default layers (GraphDefaultLayers). A
// recurrent graph (Steps > 1) adds each node's output at every step, "V4@t0" ... (nn.StepSep),
// at the node's depth and not default: a plain name records the last step, as before, and the
// time course asks for the steps by name.
func (m *Graph) Layers() ([]Layer, error) {
	g := m.g
	if !g.Built() {
		return nil, fmt.Errorf("model %q is not built", g.Name)
	}
	// HMAX-style S2 layers match stored prototypes; unsampled ones would give every stimulus
	// the same response and meaningless (NaN-free but constant) scores.
	for _, n := range g.Nodes {
		if n.Op.Type() == "rbf" && g.Meta["prototypes"] == "" {
			return nil, fmt.Errorf("model %q: its S2 prototypes (layer %q) have not been sampled; use models.HMAXPrototypes, or 'ventral compare --models %s', which samples them from natural images", g.Name, n.Name, g.Name)
		}
	}
	def := map[string]bool{}
	for _, n := range GraphDefaultLayers(g) {
		def[n] = true
	}
	out := make([]Layer, len(g.Nodes))
	for i, n := range g.Nodes {
		d := 0.0
		if len(g.Nodes) > 1 {
			d = float64(i) / float64(len(g.Nodes)-1)
		}
		out[i] = Layer{Name: n.Name, Depth: d, Default: def[n.Name]}
	}
	if g.NumSteps() > 1 {
		for i, n := range g.Nodes {
			for _, l := range g.StepLayers(n.Name) {
				out = append(out, Layer{Name: l, Depth: out[i].Depth})
			}
		}
	}
	return out, nil
}

// GraphDefaultLayers lists every node whose output is a feature map or vector: all but the
// loss and softmax nodes, and flatten and dropout, which pass their input through unchanged at
// inference (scoring them again would only repeat the previous layer's row in every table).
func GraphDefaultLayers(g *nn.Graph) []string {
	// An imported network lists the layers that hold the file's own values (Meta
	// "default_layers"), leaving out the helper layers of its integer simulation.
	if l := g.Meta["default_layers"]; l != "" {
		var out []string
		for _, name := range strings.Split(l, ",") {
			if g.Node(name) != nil {
				out = append(out, name)
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	var out []string
	for _, n := range g.Nodes {
		t := strings.ToLower(n.Op.Type())
		if strings.Contains(t, "softmax") || strings.Contains(t, "loss") || strings.Contains(t, "cross_entropy") {
			continue
		}
		// Pure reshuffles and bookkeeping repeat another layer's values: flattening, dropout,
		// padding, reshapes and slices of imported graphs, their constants and the simulated
		// quantisation that follows nearly every layer of a quantized network.
		switch t {
		case "flatten", "dropout", "pad2d", "reshape", "transpose", "slice", "constant", "fake_quant":
			continue
		}
		out = append(out, n.Name)
	}
	return out
}

// Preprocess implements Model: the preprocessing the graph declares, completed to its input
// shape (stimuli.ForModel).
func (m *Graph) Preprocess() (*stimuli.Preprocess, error) {
	p, err := stimuli.ForModel(m.g)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Activations implements Model through activations.Extract: each stimulus preprocessed as
// Preprocess says, the output at the last time step flattened, in batches of 16 so memory holds
// one batch of every layer plus the result; with o.CacheDir the rows are read from and written
// to its content-addressed, checksummed cache.
func (m *Graph) Activations(set *stimuli.Set, layers []string, o Options) ([]*activations.Matrix, error) {
	p, err := m.Preprocess()
	if err != nil {
		return nil, err
	}
	r, err := activations.Extract(m.g, set, layers, m.options(p, o))
	if err != nil {
		return nil, err
	}
	out := make([]*activations.Matrix, len(layers))
	for i, l := range r.Layers {
		out[i] = l.Features
	}
	return out, nil
}

// options are the extraction settings of Activations and Store; both must key the cache alike.
func (m *Graph) options(p *stimuli.Preprocess, o Options) activations.Options {
	return activations.Options{Dir: o.CacheDir, NoCache: o.CacheDir == "", Quiet: true, Batch: 16, Preprocess: p, Warn: o.warn, Projection: o.Projection}
}

// LayerSize implements LayerSizer: the number of features of the layer's output (the input's
// for nn.InputName).
func (m *Graph) LayerSize(layer string) (int, error) {
	shape := m.g.InputShape
	if layer != nn.InputName {
		n, _, err := m.g.ResolveLayer(layer)
		if err != nil {
			return 0, err
		}
		shape = n.Shape
	}
	f := 1
	for _, d := range shape {
		f *= d
	}
	return f, nil
}

// Store implements Storer through activations.Store (o.CacheDir must be set): memory stays at
// one batch of every layer.
func (m *Graph) Store(set *stimuli.Set, layers []string, o Options) error {
	if o.CacheDir == "" {
		return fmt.Errorf("model %q: storing activations needs a cache folder", m.g.Name)
	}
	p, err := m.Preprocess()
	if err != nil {
		return err
	}
	_, err = activations.Store(m.g, set, layers, m.options(p, o))
	return err
}
