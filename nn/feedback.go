package nn

import "github.com/ventral-lab/ventral/tensor"

// Learning rules without weight transport (feedback alignment, sign symmetry, direct feedback
// alignment; see package rules) keep backpropagation's weight gradients, dW = dy x^T, and change
// only how the error reaches the layer below: through a fixed feedback matrix B in place of W^T,
// or not at all. The hook is one optional tensor per weight (Param.Feedback), read by the
// input-gradient path of Conv2D and Dense.

// NoFeedback, set as a weight's Feedback, stops the layer's input gradient: nothing flows to the
// layers below through it (direct feedback alignment delivers each layer's error itself).
var NoFeedback = &tensor.Tensor{}

// feedback returns the weights the input gradient is computed with (Value, or Feedback when
// set) and whether an input gradient flows at all. When it does not, the returned slice is still
// Value's, for kernels that check operand sizes.
func (p *Param) feedback() ([]float32, bool) {
	switch {
	case p.Feedback == nil:
		return p.Value.Data, true
	case p.Feedback == NoFeedback:
		return p.Value.Data, false
	}
	return p.Feedback.Data, true
}
