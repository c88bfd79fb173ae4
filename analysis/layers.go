package analysis

import "github.com/ventral-lab/ventral/nn"

// companions are op types that only transform another layer's output elementwise or pass it
// through (activations, normalisation, dropout, flatten, gains).
var companions = map[string]bool{"relu": true, "leaky_relu": true, "sigmoid": true, "tanh": true, "dropout": true, "flatten": true,
	"batchnorm": true, "groupnorm": true, "lrn": true, "scale": true, "gain": true, "softmax": true}

// MainLayers lists the layers that are not such companions of another: convolutions, pools
// and dense layers, in order. Analyses that show one row or panel per stage use it.
func MainLayers(g *nn.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		if !companions[n.Op.Type()] {
			out = append(out, n.Name)
		}
	}
	return out
}
