package nn

import (
	"math"

	"github.com/ventral-lab/ventral/tensor"
)

// Inference fusion. An elementwise layer after a convolution costs a full pass over the
// convolution's output, read and written back to memory: on MobileNetV2's ReLU6 after each
// 1x1 convolution this pass takes about as long as the convolution itself. At inference
// (ctx.Train and ctx.Backward false, one time step) Graph.Forward therefore lets an op that
// adds a bias (Conv2D, Dense) or sums a residual (Add) also apply the per-channel affine map of
// a following channel_affine or batchnorm (inference mode: its running statistics folded into
// one scale and shift per channel, recomputed on each pass) and the clamp of a following relu
// or clip, in the same pass over each output row while it is in cache, and the simulated
// integer quantisation of a following fake_quant (quantized networks). The batchnorm is applied
// as an epilogue rather than folded into the convolution's weights: folding would round
// differently (W*scale, then the sum), and the epilogue pass costs the same as the bias pass it
// replaces. A layer is fused only when its single consumer is the next one in the chain and its
// output is not asked for (the keep list of Forward), so every output a caller can read is the
// same as without fusion, bit for bit: each step rounds as the separate layers do. Ctx.NoFuse turns
// it off.

// epilogue is the fused tail: y = clamp(x*scale[c] + shift[c], lo, hi) per output channel c,
// then the simulated quantisation of quant when set.
type epilogue struct {
	scale, shift []float32 // nil: 1 and 0
	lo, hi       float32
	clamped      bool
	quant        *FakeQuant
}

// apply writes the tail of channel o's row src (whose bias b is not yet added) to dst.
func (e *epilogue) apply(dst, src []float32, o int, b float32) {
	a, c := e.coeffs(o)
	if q := e.quant; q != nil {
		tensor.AffineClampQuant(dst, src, b, a, c, e.lo, e.hi, q.Scale, float32(q.ZeroPoint), float32(q.Qmin), float32(q.Qmax))
		return
	}
	tensor.AffineClamp(dst, src, b, a, c, e.lo, e.hi)
}

// requant reports whether the epilogue is a requantization to levels (a channel_affine
// without shift, no clamp, a fake_quant of scale 1) and returns the level bounds qmin - zero
// point and qmax - zero point: the form tensor.QGemmRequant applies as it stores.
func (e *epilogue) requant() (qlo, qhi float32, ok bool) {
	if e == nil || e.quant == nil || e.quant.Scale != 1 || !math.IsInf(float64(e.lo), -1) || !math.IsInf(float64(e.hi), 1) {
		return 0, 0, false
	}
	for _, c := range e.shift {
		if c != 0 {
			return 0, 0, false
		}
	}
	q := e.quant
	return float32(q.Qmin - q.ZeroPoint), float32(q.Qmax - q.ZeroPoint), true
}

// applyCols applies the tail to the rows of y (samples of width features, as Dense computes
// them: the bias already added), feature o taking channel o's map: the steps of apply.
func (e *epilogue) applyCols(y []float32, width int) {
	for r := 0; r+width <= len(y); r += width {
		row := y[r : r+width]
		for o, v := range row {
			a, c := e.coeffs(o)
			u := float32(float32(v+0)*a) + c // conversions forbid fusing into an FMA
			if u < e.lo {
				u = e.lo
			}
			if u > e.hi {
				u = e.hi
			}
			row[o] = u
		}
		if q := e.quant; q != nil {
			tensor.FakeQuant(row, row, q.Scale, float32(q.ZeroPoint), float32(q.Qmin), float32(q.Qmax))
		}
	}
}

// coeffs returns the affine map of channel o: scale and shift (1 and 0 without a channel_affine).
func (e *epilogue) coeffs(o int) (a, c float32) {
	if e.scale != nil {
		return e.scale[o], e.shift[o]
	}
	return 1, 0
}

// fusedForwarder is an op that can apply an epilogue to its output.
type fusedForwarder interface {
	forwardFused(ctx *Ctx, in []*tensor.Tensor, ep *epilogue) *tensor.Tensor
}

// absorb extends ep with op if op is a tail that fuses after it: one channel_affine or
// batchnorm (before any clamp), then one relu or clip, then one fake_quant.
func absorb(ep *epilogue, op Op, channels int) bool {
	if ep.quant != nil {
		return false
	}
	switch o := op.(type) {
	case *FakeQuant:
		ep.quant = o
		return true
	case *ChannelAffine:
		if ep.scale != nil || ep.clamped || o.Channels != channels || o.w == nil {
			return false
		}
		ep.scale, ep.shift = o.w.Value.Data, o.b.Value.Data
		return true
	case *BatchNorm:
		if ep.scale != nil || ep.clamped || o.c != channels || o.runMean == nil {
			return false
		}
		ep.scale, ep.shift = o.inferenceAffine()
		return true
	case *Clip:
		if ep.clamped {
			return false
		}
		ep.lo, ep.hi, ep.clamped = o.Min, o.Max, true
		return true
	case *Activation:
		if ep.clamped || o.Kind != "relu" {
			return false
		}
		ep.lo, ep.clamped = 0, true
		return true
	}
	return false
}

// fusion is one fused chain: the head's op computes the output of the last node.
type fusion struct {
	nodes []int // the absorbed nodes, in order
	ep    epilogue
}

// fusePlan finds the chains for one inference pass. keep holds the nodes whose outputs must
// stay readable and live those that are computed at all (see liveNodes); consumers that are not
// computed do not count.
func (g *Graph) fusePlan(keep map[int]bool, live []bool) (map[int]*fusion, []bool) {
	var plan map[int]*fusion
	absorbed := make([]bool, len(g.Nodes))
	users := make([]int, len(g.Nodes))
	for j, n := range g.Nodes {
		for _, r := range n.refs {
			if r.node >= 0 && live[j] {
				users[r.node]++
			}
		}
	}
	sole := make([]int, len(g.Nodes)) // the single consumer of each node, or -1
	for i := range sole {
		sole[i] = -1
	}
	for j, n := range g.Nodes {
		for _, r := range n.refs {
			if r.node >= 0 && live[j] && users[r.node] == 1 && len(n.refs) == 1 {
				sole[r.node] = j
			}
		}
	}
	for _, i := range g.order {
		n := g.Nodes[i]
		if absorbed[i] || keep[i] || !live[i] || len(n.Shape) == 0 {
			continue
		}
		if _, ok := n.Op.(fusedForwarder); !ok || !g.sameShapeInputs(n) {
			continue
		}
		f := &fusion{ep: epilogue{lo: float32(math.Inf(-1)), hi: float32(math.Inf(1))}}
		if a, ok := n.Op.(*ChannelAffine); ok {
			// A channel_affine head is its own epilogue's affine map, so only a clamp and a
			// fake_quant can join it (a quantized importer's rescaling to levels).
			f.ep.scale, f.ep.shift = a.w.Value.Data, a.b.Value.Data
		}
		for cur := i; !keep[cur]; {
			j := sole[cur]
			if j < 0 || !absorb(&f.ep, g.Nodes[j].Op, n.Shape[0]) {
				break
			}
			f.nodes = append(f.nodes, j)
			absorbed[j] = true
			cur = j
		}
		if len(f.nodes) > 0 {
			if plan == nil {
				plan = map[int]*fusion{}
			}
			plan[i] = f
		}
	}
	return plan, absorbed
}

// sameShapeInputs reports whether a sum's inputs all have its shape (a broadcasting add is not
// fused); other ops pass.
func (g *Graph) sameShapeInputs(n *Node) bool {
	switch n.Op.(type) {
	case Add, *Add:
	default:
		return true
	}
	for _, r := range n.refs {
		s := g.InputShape
		if r.node >= 0 {
			s = g.Nodes[r.node].Shape
		}
		if !tensor.SameShape(s, n.Shape) {
			return false
		}
	}
	return true
}
