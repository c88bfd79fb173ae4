package nn

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/tensor"
)

// StepSep names a layer's output at one time step of an unrolled graph: "V4@t2" is node V4 at
// step 2 (counted from 0), so that the activations of a recurrent model can be recorded, cached,
// scored and decoded step by step through the same layer names as everything else. A plain
// name means the last step. Node names cannot contain '@', so the two never collide.
const StepSep = "@t"

// StepLayer returns the name of node's output at step t.
func StepLayer(node string, t int) string { return node + StepSep + strconv.Itoa(t) }

// SplitStepLayer splits "node@tK" into node and K; ok is false for a plain name (or one whose
// suffix is not a step number).
func SplitStepLayer(name string) (node string, step int, ok bool) {
	i := strings.LastIndex(name, StepSep)
	if i <= 0 {
		return name, 0, false
	}
	k, err := strconv.Atoi(name[i+len(StepSep):])
	if err != nil || k < 0 || strconv.Itoa(k) != name[i+len(StepSep):] {
		return name, 0, false
	}
	return name[:i], k, true
}

// ResolveLayer returns the node a layer name records from and its step: the last step for a
// plain name. It fails for an unknown node, or a step the graph does not have.
func (g *Graph) ResolveLayer(name string) (*Node, int, error) {
	node, step, ok := SplitStepLayer(name)
	n := g.Node(node)
	if n == nil {
		return nil, 0, fmt.Errorf("model %q has no layer %q (layers: %v)", g.Name, node, g.LayerNames())
	}
	if !ok {
		return n, g.NumSteps() - 1, nil
	}
	if step >= g.NumSteps() {
		return nil, 0, fmt.Errorf("model %q: layer %q: step %d, but the model runs %d step(s) (%s0 to %s%d)", g.Name, name, step, g.NumSteps(), node+StepSep, node+StepSep, g.NumSteps()-1)
	}
	return n, step, nil
}

// StepLayers lists, for each node, its output at every step: node@t0 ... node@t(Steps-1).
func (g *Graph) StepLayers(nodes ...string) []string {
	var out []string
	for _, n := range nodes {
		for t := 0; t < g.NumSteps(); t++ {
			out = append(out, StepLayer(n, t))
		}
	}
	return out
}

// Layer returns a layer's output by name: a plain node name at the last step, "node@tK" at step
// K (nil if unknown or recycled).
func (tr *Trace) Layer(name string) *tensor.Tensor {
	node, step, ok := SplitStepLayer(name)
	if !ok {
		return tr.Out(name)
	}
	return tr.OutAt(node, step)
}

// KeepNodes maps layer names (plain or per step) to the node names Forward must keep, without
// repeats.
func KeepNodes(layers []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range layers {
		n, _, _ := SplitStepLayer(l)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
