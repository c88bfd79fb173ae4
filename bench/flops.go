package bench

import "github.com/ventral-lab/ventral/nn"

// ForwardFLOPs counts the floating-point operations of one image's forward pass through the
// layers that are GEMMs: conv2d (2 x weights x output pixels; groups are in the weight shape)
// and dense (2 x weights), times the graph's steps. Pooling, normalisation and activations are
// left out (a few percent in the zoo's networks), so a fraction of peak computed from it is a
// lower bound. A training step counts three times this (forward, input and weight gradients).
func ForwardFLOPs(g *nn.Graph) float64 {
	var macs float64
	for _, n := range g.Nodes {
		w := n.Param("weight")
		if w == nil {
			continue
		}
		switch n.Op.Type() {
		case "conv2d":
			if len(n.Shape) == 3 {
				macs += float64(w.Value.Len()) * float64(n.Shape[1]*n.Shape[2])
			}
		case "dense": // flattens its input: one product per weight
			macs += float64(w.Value.Len())
		}
	}
	return 2 * macs * float64(g.NumSteps())
}
