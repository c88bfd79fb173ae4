package bench

import (
	"fmt"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// LayerGemms lists the GEMMs of a built graph's conv2d and dense layers for one image, as the
// engine runs them: a convolution is C (out channels x output pixels) = W (out x in/groups x
// kernel area) times its im2col matrix, one image at a time; a dense layer is one row of
// C = X W^T. Grouped convolutions are listed as one GEMM of the same multiply-adds.
func LayerGemms(g *nn.Graph) []tensor.GemmShape {
	var out []tensor.GemmShape
	for _, n := range g.Nodes {
		w := n.Param("weight")
		if w == nil || len(w.Value.Shape) == 0 {
			continue
		}
		co := w.Value.Shape[0]
		switch n.Op.Type() {
		case "conv2d":
			if len(n.Shape) == 3 && co > 0 {
				out = append(out, tensor.GemmShape{Name: g.Name + "/" + n.Name, M: co, N: n.Shape[1] * n.Shape[2], K: w.Value.Len() / co})
			}
		case "dense": // flattens its input: W is out x in
			if co > 0 {
				out = append(out, tensor.GemmShape{Name: g.Name + "/" + n.Name, M: 1, N: co, K: w.Value.Len() / co})
			}
		}
	}
	return out
}

// ForwardFLOPs counts the floating-point operations of one image's forward pass through the
// layers that are GEMMs (LayerGemms: 2 x M x N x K each), times the graph's steps. Pooling,
// normalisation and activations are left out (a few percent in the zoo's networks), so a
// fraction of peak computed from it is a lower bound. A training step counts three times this
// (forward, input and weight gradients).
func ForwardFLOPs(g *nn.Graph) float64 {
	var f float64
	for _, s := range LayerGemms(g) {
		f += 2 * float64(s.M) * float64(s.N) * float64(s.K)
	}
	return f * float64(g.NumSteps())
}

// engineModels are the networks of the engine workloads (Workloads), in order.
var engineModels = []string{"lenet5", "cifar-cnn", "alexnet-torchvision", "cornet-z"}

// ZooGemmShapes are square 512 and the distinct GEMMs of the engine workloads' networks: each
// convolution per image as the engine runs it, and each dense layer at batch 16 (M = 16).
func ZooGemmShapes() ([]tensor.GemmShape, error) {
	out := []tensor.GemmShape{{Name: "square-512", M: 512, N: 512, K: 512}}
	seen := map[[3]int]bool{{512, 512, 512}: true}
	for _, name := range engineModels {
		g, err := models.Get(name)
		if err != nil {
			return nil, err
		}
		if err := g.Build(1); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, s := range LayerGemms(g) {
			if s.M == 1 {
				s.M = 16
				s.Name += "-b16"
			}
			if k := [3]int{s.M, s.N, s.K}; !seen[k] {
				seen[k] = true
				out = append(out, s)
			}
		}
	}
	return out, nil
}
