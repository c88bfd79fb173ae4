package imports

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/ventral-lab/ventral/nn"
)

// uniqueLayerName turns a file's value or layer name into an nn layer name not yet in names
// (and records it): nn forbids '@' (recurrence) and spaces, commas separate layer lists
// (--layers, Meta "default_layers"), and "input" names the graph input, so those become '_'
// (and "input_"); a name taken already gets a numeric suffix.
func uniqueLayerName(names map[string]bool, name string) string {
	s := strings.NewReplacer("@", "_", " ", "_", ",", "_").Replace(name)
	if s == "" {
		s = "node"
	}
	if s == nn.InputName {
		s = "input_"
	}
	base := s
	for k := 2; names[s]; k++ {
		s = fmt.Sprintf("%s_%d", base, k)
	}
	names[s] = true
	return s
}

// addNode builds an op of spec type typ from cfg, works out its per-sample output shape from
// the inputs' (quickShape, else Build with rng), and adds it to g under a unique name derived
// from out. The errors carry no context: each importer wraps them with the node it was reading.
func addNode(g *nn.Graph, names map[string]bool, rng *rand.Rand, out, typ string, cfg map[string]any, inNames []string, inShapes [][]int) (string, []int, error) {
	op, err := newOp(typ, cfg)
	if err != nil {
		return "", nil, err
	}
	shape, err := quickShape(typ, cfg, inShapes)
	if shape == nil && err == nil {
		shape, err = op.Build(inShapes, rng)
	}
	if err != nil {
		return "", nil, fmt.Errorf("%s on inputs %v: %v", typ, inShapes, err)
	}
	name := uniqueLayerName(names, out)
	g.Add(name, op, inNames...)
	return name, shape, nil
}

// renameNode gives node old the name name in g and in the pending weight copies, and frees old.
// The caller has taken name (uniqueLayerName) and updates its own value maps.
func renameNode(g *nn.Graph, weights []paramCopy, names map[string]bool, old, name string) {
	for _, nd := range g.Nodes {
		if nd.Name == old {
			nd.Name = name
		}
	}
	for i := range weights {
		if weights[i].node == old {
			weights[i].node = name
		}
	}
	delete(names, old)
}
