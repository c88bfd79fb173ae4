package nn

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/tensor"
)

// InputName is the name by which nodes refer to the graph's input.
const InputName = "input"

// PrevSuffix marks a recurrent input: "v1@prev" is node v1's output at the previous time step.
const PrevSuffix = "@prev"

// Node is a named op and the names of its inputs.
type Node struct {
	Name   string
	Op     Op
	Inputs []string
	// Shape is the per-sample output shape, set by Build.
	Shape []int
	// Frozen says the node's parameters need no gradient (fine-tuning leaves them unchanged).
	// The backward pass skips a frozen node, and sends it no gradient, when nothing it reads
	// needs one either: no trained parameter lies upstream and the input gradient is not wanted.
	// Graphs with no frozen node run the backward pass through every node, as before.
	Frozen bool
	refs   []ref
}

// Param returns the node's parameter of the given kind ("weight", "bias"): the graph names
// parameters "node.kind". Nil when the node has none.
func (n *Node) Param(kind string) *Param {
	for _, p := range n.Op.Params() {
		if p.Name[strings.LastIndexByte(p.Name, '.')+1:] == kind {
			return p
		}
	}
	return nil
}

type ref struct {
	node int // -1 for the graph input
	prev bool
}

// Graph is a model: named nodes over one input, optionally unrolled over Steps time steps.
type Graph struct {
	Name       string
	InputShape []int // per sample, e.g. [3 32 32]
	Nodes      []*Node
	// Output names the node whose output is the model's prediction (default: the last node).
	Output string
	// Steps > 1 unrolls the graph in time; the input is presented at every step.
	Steps int
	// Meta holds free-form facts saved with the spec (citation, classes, preprocessing).
	Meta map[string]string

	order []int
	index map[string]int
	seed  uint64
	built bool
}

// Add appends a node and returns the graph, so models can be written as chains of calls.
func (g *Graph) Add(name string, op Op, inputs ...string) *Graph {
	g.Nodes = append(g.Nodes, &Node{Name: name, Op: op, Inputs: inputs})
	g.built = false
	return g
}

// Chain appends a node whose input is the previous node (or the graph input for the first).
func (g *Graph) Chain(name string, op Op) *Graph {
	in := InputName
	if len(g.Nodes) > 0 {
		in = g.Nodes[len(g.Nodes)-1].Name
	}
	return g.Add(name, op, in)
}

// Node returns the node with the given name, or nil.
func (g *Graph) Node(name string) *Node {
	if g.index != nil {
		if i, ok := g.index[name]; ok {
			return g.Nodes[i]
		}
		return nil
	}
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// OutputName is the name of the prediction node.
func (g *Graph) OutputName() string {
	if g.Output != "" {
		return g.Output
	}
	if len(g.Nodes) == 0 {
		return ""
	}
	return g.Nodes[len(g.Nodes)-1].Name
}

// NumSteps is Steps, at least 1.
func (g *Graph) NumSteps() int {
	if g.Steps < 1 {
		return 1
	}
	return g.Steps
}

// Seed is the seed the graph was built with.
func (g *Graph) Seed() uint64 { return g.seed }

// Built reports whether Build has succeeded since the last change.
func (g *Graph) Built() bool { return g.built }

// PartialShaper is implemented by ops that can tell their output shape when some input shapes
// are unknown (nil); Build uses it to resolve shapes around recurrent cycles.
type PartialShaper interface {
	PartialShape(in [][]int) ([]int, bool)
}

// Build checks the graph, infers every node's shape and initialises all parameters from seed.
// Each node draws from its own stream (seed, hash of its name), so adding a node does not change
// the initial weights of the others.
func (g *Graph) Build(seed uint64) error {
	g.built = false
	g.seed = seed
	if len(g.InputShape) == 0 {
		return fmt.Errorf("model %q: input shape is empty", g.Name)
	}
	for _, d := range g.InputShape {
		if d <= 0 {
			return fmt.Errorf("model %q: input shape %v has a non-positive size", g.Name, g.InputShape)
		}
	}
	if len(g.Nodes) == 0 {
		return fmt.Errorf("model %q: no layers", g.Name)
	}
	budget := &sizeBudget{g: g}
	if err := g.checkSteps(); err != nil {
		return err
	}
	if err := budget.checkInput(); err != nil {
		return err
	}
	g.index = map[string]int{}
	for i, n := range g.Nodes {
		if n.Name == "" || n.Name == InputName || strings.ContainsAny(n.Name, "@ ") {
			return fmt.Errorf("model %q: layer %d: invalid name %q (non-empty, not %q, no '@' or spaces)", g.Name, i, n.Name, InputName)
		}
		if _, dup := g.index[n.Name]; dup {
			return fmt.Errorf("model %q: duplicate layer name %q", g.Name, n.Name)
		}
		if n.Op == nil {
			return fmt.Errorf("model %q: layer %q has no op", g.Name, n.Name)
		}
		g.index[n.Name] = i
	}
	for _, n := range g.Nodes {
		if len(n.Inputs) == 0 {
			return fmt.Errorf("model %q: layer %q has no inputs", g.Name, n.Name)
		}
		n.refs = n.refs[:0]
		for _, in := range n.Inputs {
			name, prev := strings.CutSuffix(in, PrevSuffix)
			if name == InputName {
				if prev {
					return fmt.Errorf("model %q: layer %q: the input has no previous step", g.Name, n.Name)
				}
				n.refs = append(n.refs, ref{node: -1})
				continue
			}
			j, ok := g.index[name]
			if !ok {
				return fmt.Errorf("model %q: layer %q: unknown input %q", g.Name, n.Name, in)
			}
			if prev && g.NumSteps() < 2 {
				return fmt.Errorf("model %q: layer %q: recurrent input %q needs steps >= 2 (have %d)", g.Name, n.Name, in, g.NumSteps())
			}
			n.refs = append(n.refs, ref{node: j, prev: prev})
		}
	}
	if g.Output != "" {
		if _, ok := g.index[g.Output]; !ok {
			return fmt.Errorf("model %q: output %q is not a layer", g.Name, g.Output)
		}
	}
	// Topological order over same-step edges (Kahn's algorithm, stable in declaration order).
	indeg := make([]int, len(g.Nodes))
	users := make([][]int, len(g.Nodes))
	for i, n := range g.Nodes {
		for _, r := range n.refs {
			if r.node >= 0 && !r.prev {
				indeg[i]++
				users[r.node] = append(users[r.node], i)
			}
		}
	}
	g.order = g.order[:0]
	done := make([]bool, len(g.Nodes))
	for len(g.order) < len(g.Nodes) {
		progressed := false
		for i := range g.Nodes {
			if !done[i] && indeg[i] == 0 {
				done[i] = true
				progressed = true
				g.order = append(g.order, i)
				for _, u := range users[i] {
					indeg[u]--
				}
			}
		}
		if !progressed {
			var cyc []string
			for i, n := range g.Nodes {
				if !done[i] {
					cyc = append(cyc, n.Name)
				}
			}
			return fmt.Errorf("model %q: layers %v form a cycle within one time step (use %q for recurrence)", g.Name, cyc, PrevSuffix)
		}
	}
	// Shape inference to a fixed point: recurrent inputs may refer to layers later in the order.
	shapes := make([][]int, len(g.Nodes))
	partial := make([]bool, len(g.Nodes))
	for {
		progressed := false
		for _, i := range g.order {
			if shapes[i] != nil && !partial[i] {
				continue
			}
			n := g.Nodes[i]
			in, complete := g.inShapes(n, shapes)
			if complete {
				if err := budget.beforeBuild(n, in); err != nil {
					return err
				}
				out, err := n.Op.Build(in, g.rng(n.Name))
				if err != nil {
					return fmt.Errorf("model %q: layer %q (%s): %w", g.Name, n.Name, n.Op.Type(), err)
				}
				if err := budget.afterBuild(n, out); err != nil {
					return err
				}
				if partial[i] && !tensor.SameShape(out, shapes[i]) {
					return fmt.Errorf("model %q: layer %q: output shape %v disagrees with %v inferred around a recurrent loop", g.Name, n.Name, out, shapes[i])
				}
				shapes[i], partial[i], progressed = out, false, true
			} else if shapes[i] == nil {
				if ps, ok := n.Op.(PartialShaper); ok {
					if out, ok := ps.PartialShape(in); ok {
						shapes[i], partial[i], progressed = out, true, true
					}
				}
			}
		}
		if !progressed {
			break
		}
	}
	for _, i := range g.order {
		if shapes[i] == nil || partial[i] {
			return fmt.Errorf("model %q: cannot infer the shape of layer %q: its recurrent inputs form a loop no layer can size", g.Name, g.Nodes[i].Name)
		}
		n := g.Nodes[i]
		n.Shape = shapes[i]
		for _, p := range n.Op.Params() {
			if !strings.HasPrefix(p.Name, n.Name+".") {
				p.Name = n.Name + "." + p.Name
			}
		}
	}
	g.built = true
	return nil
}

func (g *Graph) inShapes(n *Node, shapes [][]int) ([][]int, bool) {
	in := make([][]int, len(n.refs))
	complete := true
	for k, r := range n.refs {
		if r.node < 0 {
			in[k] = g.InputShape
		} else {
			in[k] = shapes[r.node]
		}
		if in[k] == nil {
			complete = false
		}
	}
	return in, complete
}

func (g *Graph) rng(name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(g.seed, h.Sum64()))
}

// Params lists every trainable parameter in node order, named "node.param".
func (g *Graph) Params() []*Param {
	var out []*Param
	for _, n := range g.Nodes {
		out = append(out, n.Op.Params()...)
	}
	return out
}

// ZeroGrad clears all parameter gradients.
func (g *Graph) ZeroGrad() {
	for _, p := range g.Params() {
		p.Grad.Zero()
	}
}

// NumParams counts the scalar parameters.
func (g *Graph) NumParams() int {
	n := 0
	for _, p := range g.Params() {
		n += p.Value.Len()
	}
	return n
}

// Trace is the record of one forward pass: every node's output at every step, and what the
// backward pass needs.
type Trace struct {
	g         *Graph
	ctx       *Ctx
	x         *tensor.Tensor
	outs      [][]*tensor.Tensor
	caches    [][]any
	zeros     []*tensor.Tensor
	inputGrad *tensor.Tensor
	recycled  bool
}

// Forward runs the graph on a batch x (N x InputShape). In inference mode (ctx.Train false)
// the outputs of nodes not named in keep are recycled as soon as they are consumed, so memory
// stays bounded by the widest part of the graph; the output node is always kept. Nodes whose
// outputs reach neither the output nor a kept node are not computed, and elementwise layers
// are fused into the convolution before them (fuse.go).
func (g *Graph) Forward(ctx *Ctx, x *tensor.Tensor, keep ...string) (*Trace, error) {
	if !g.built {
		return nil, fmt.Errorf("model %q: Forward before Build", g.Name)
	}
	if len(x.Shape) != len(g.InputShape)+1 || !tensor.SameShape(x.Shape[1:], g.InputShape) {
		return nil, fmt.Errorf("model %q: input shape %v, expected [N %v]", g.Name, x.Shape, g.InputShape)
	}
	if ctx == nil {
		ctx = NewCtx(false, 0)
	}
	for _, k := range keep {
		if _, ok := g.index[k]; !ok {
			return nil, fmt.Errorf("model %q: no layer named %q (layers: %v)", g.Name, k, g.LayerNames())
		}
	}
	if parts := g.sampleParts(ctx, x); parts > 1 {
		return g.forwardSplit(ctx, x, keep, parts)
	}
	return g.forward(ctx, x, keep)
}

// sampleParts is the number of parts Forward splits a batch into: one per thread at inference
// (a single step, no backward pass, no timings), each run through the whole graph on its own
// goroutine. A network of many small layers then keeps both cores busy, where splitting each
// layer over the threads left them idle at every layer's end (int8 MobileNetV2 at two threads
// used 1.4 cores). Every op computes a sample's outputs from that sample alone at inference,
// and the kernels give a sample the same bits at any batch size, so the outputs are those of
// one pass over the whole batch, bit for bit.
func (g *Graph) sampleParts(ctx *Ctx, x *tensor.Tensor) int {
	if ctx.Train || ctx.Backward || ctx.NoSplit || ctx.Timings != nil || g.NumSteps() != 1 {
		return 1
	}
	return min(tensor.Threads(), x.Shape[0])
}

// forwardSplit runs Forward on parts contiguous slices of the batch at once, each with a
// context of its own (kept in ctx for the next call), and gathers the kept outputs into
// tensors from ctx's arena.
func (g *Graph) forwardSplit(ctx *Ctx, x *tensor.Tensor, keep []string, parts int) (*Trace, error) {
	batch := x.Shape[0]
	per := len(x.Data) / batch
	for len(ctx.parts) < parts {
		ctx.parts = append(ctx.parts, &Ctx{})
	}
	traces := make([]*Trace, parts)
	errs := make([]error, parts)
	// parallelRange cuts the batch as sampleParts counted: min(threads, batch) parts.
	parallelRange(batch, func(p, lo, hi int) {
		child := ctx.parts[p]
		child.Reset()
		child.NoFuse = ctx.NoFuse
		xp := &tensor.Tensor{Shape: append([]int{hi - lo}, x.Shape[1:]...), Data: x.Data[lo*per : hi*per]}
		traces[p], errs[p] = g.forward(child, xp, keep)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	tr := &Trace{g: g, ctx: ctx, x: x, outs: [][]*tensor.Tensor{make([]*tensor.Tensor, len(g.Nodes))}, caches: [][]any{make([]any, len(g.Nodes))}, recycled: true}
	for i, o := range traces[0].outs[0] {
		if o == nil {
			continue
		}
		out := ctx.Alloc(append([]int{batch}, o.Shape[1:]...)...)
		off := 0
		for _, pt := range traces {
			off += copy(out.Data[off:], pt.outs[0][i].Data)
		}
		tr.outs[0][i] = out
	}
	return tr, nil
}

// forward is Forward on one goroutine's share of the work (kernels still split layers over
// the threads).
func (g *Graph) forward(ctx *Ctx, x *tensor.Tensor, keep []string) (*Trace, error) {
	steps := g.NumSteps()
	batch := x.Shape[0]
	tr := &Trace{g: g, ctx: ctx, x: x, outs: make([][]*tensor.Tensor, steps), caches: make([][]any, steps)}
	// Remaining same-step consumers, for recycling in inference mode.
	var remaining []int
	keepSet := map[int]bool{g.index[g.OutputName()]: true}
	for _, k := range keep {
		keepSet[g.index[k]] = true
	}
	recycle := !ctx.Train && !ctx.Backward && steps == 1
	tr.recycled = recycle
	if recycle {
		remaining = make([]int, len(g.Nodes))
		for _, n := range g.Nodes {
			for _, r := range n.refs {
				if r.node >= 0 {
					remaining[r.node]++
				}
			}
		}
	}
	var plan map[int]*fusion
	var absorbed []bool
	var live []bool
	var pairs map[int]pairing // see forwardPair
	var paired []bool
	if recycle {
		live = g.liveNodes(keepSet)
		if !ctx.NoFuse {
			plan, absorbed = g.fusePlan(keepSet, live)
			pairs = g.pairPlan(plan, keepSet, live)
			paired = make([]bool, len(g.Nodes))
		}
	}
	consumed := func(t int, n *Node) {
		for _, r := range n.refs {
			if r.node < 0 {
				continue
			}
			remaining[r.node]--
			if remaining[r.node] == 0 && !keepSet[r.node] {
				tr.recycle(t, r.node)
			}
		}
	}
	// run computes node i at step t (and the nodes fused into it).
	run := func(t, i int) {
		n := g.Nodes[i]
		in := tr.inputs(n, t, batch)
		if pp, ok := pairs[i]; ok {
			// A 1x1 convolution, the depthwise one reading it and the projection after,
			// run depth first; nil when the pair cannot run on this input, then one by one.
			j, fj := pp.dw, plan[pp.dw]
			var pr *Conv2D
			var prep *epilogue
			if pp.proj >= 0 {
				pr, prep = g.Nodes[pp.proj].Op.(*Conv2D), &plan[pp.proj].ep
			}
			if out, proj := n.Op.(*Conv2D).forwardPair(ctx, in[0], &plan[i].ep, g.Nodes[j].Op.(*Conv2D), &fj.ep, pr, prep); out != nil {
				heads := []int{i, j}
				if proj {
					heads = append(heads, pp.proj)
				}
				last := plan[heads[len(heads)-1]].nodes
				tr.outs[t][last[len(last)-1]] = out // the others are never materialised
				for _, h := range heads {
					f := plan[h]
					consumed(t, g.Nodes[h])
					for _, k := range f.nodes {
						consumed(t, g.Nodes[k])
					}
					paired[h] = h != i
				}
				return
			}
		}
		if f := plan[i]; f != nil {
			// The chain's output lands on its last node; the absorbed nodes' inputs are
			// consumed (their outputs were never materialised).
			tr.outs[t][f.nodes[len(f.nodes)-1]] = n.Op.(fusedForwarder).forwardFused(ctx, in, &f.ep)
			consumed(t, n)
			for _, j := range f.nodes {
				consumed(t, g.Nodes[j])
			}
			return
		}
		out, cache := n.Op.Forward(ctx, in)
		tr.outs[t][i], tr.caches[t][i] = out, cache
		if recycle {
			consumed(t, n)
		}
	}
	for t := 0; t < steps; t++ {
		tr.outs[t] = make([]*tensor.Tensor, len(g.Nodes))
		tr.caches[t] = make([]any, len(g.Nodes))
		for _, i := range g.order {
			if absorbed != nil && (absorbed[i] || paired[i]) {
				continue // computed by the head of its fused chain, or of its pair
			}
			if live != nil && !live[i] {
				// Nothing asked for reads this output (an importer's dequantised view of an
				// integer layer, say): skip it, and release what it would have consumed.
				consumed(t, g.Nodes[i])
				continue
			}
			if ctx.Timings == nil {
				run(t, i)
				continue
			}
			start := time.Now()
			run(t, i)
			ctx.Timings[g.Nodes[i].Name] += time.Since(start)
		}
	}
	return tr, nil
}

// liveNodes marks the nodes whose outputs the kept nodes depend on (same step; inference with
// recycling runs one step).
func (g *Graph) liveNodes(keep map[int]bool) []bool {
	live := make([]bool, len(g.Nodes))
	var stack []int
	for i := range keep {
		live[i] = true
		stack = append(stack, i)
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, r := range g.Nodes[i].refs {
			if r.node >= 0 && !live[r.node] {
				live[r.node] = true
				stack = append(stack, r.node)
			}
		}
	}
	return live
}

// recycle drops node i's output at step t and returns its storage to the arena, unless another
// live output shares that storage (flatten and inference-mode dropout return views).
func (tr *Trace) recycle(t, i int) {
	out := tr.outs[t][i]
	tr.outs[t][i] = nil
	if out == nil || len(out.Data) == 0 || (tr.x != nil && len(tr.x.Data) > 0 && &tr.x.Data[0] == &out.Data[0]) {
		return
	}
	for _, o := range tr.outs[t] {
		if o != nil && len(o.Data) > 0 && &o.Data[0] == &out.Data[0] {
			return
		}
	}
	tr.ctx.arena.release(out.Data)
}

func (tr *Trace) inputs(n *Node, t, batch int) []*tensor.Tensor {
	in := make([]*tensor.Tensor, len(n.refs))
	for k, r := range n.refs {
		switch {
		case r.node < 0:
			in[k] = tr.x
		case r.prev && t == 0:
			in[k] = tr.zero(r.node, batch)
		case r.prev:
			in[k] = tr.outs[t-1][r.node]
		default:
			in[k] = tr.outs[t][r.node]
		}
	}
	return in
}

func (tr *Trace) zero(node, batch int) *tensor.Tensor {
	if tr.zeros == nil {
		tr.zeros = make([]*tensor.Tensor, len(tr.g.Nodes))
	}
	if tr.zeros[node] == nil {
		tr.zeros[node] = tr.ctx.Zeros(append([]int{batch}, tr.g.Nodes[node].Shape...)...)
	}
	return tr.zeros[node]
}

// Out returns a node's output at the last step (nil if it was recycled).
func (tr *Trace) Out(name string) *tensor.Tensor { return tr.OutAt(name, len(tr.outs)-1) }

// OutAt returns a node's output at step t.
func (tr *Trace) OutAt(name string, t int) *tensor.Tensor {
	i, ok := tr.g.index[name]
	if !ok || t < 0 || t >= len(tr.outs) {
		return nil
	}
	return tr.outs[t][i]
}

// Output is the prediction node's output at the last step.
func (tr *Trace) Output() *tensor.Tensor { return tr.Out(tr.g.OutputName()) }

// Seed is a gradient entering the backward pass at a node and step.
type Seed struct {
	Node string
	Step int
	Grad *tensor.Tensor
}

// Backward propagates dout, the loss gradient at the output node's last step, accumulating
// into parameter gradients.
func (tr *Trace) Backward(dout *tensor.Tensor) error {
	return tr.BackwardSeeds(Seed{Node: tr.g.OutputName(), Step: len(tr.outs) - 1, Grad: dout})
}

// BackwardSeeds propagates gradients entering at any nodes and steps (losses at several time
// steps, or a unit's activation for receptive-field and feature-visualisation analyses).
func (tr *Trace) BackwardSeeds(seeds ...Seed) error {
	g := tr.g
	if tr.recycled {
		return fmt.Errorf("model %q: backward pass after an inference-mode forward pass that recycled its outputs (set ctx.Train or ctx.Backward before Forward)", g.Name)
	}
	steps := len(tr.outs)
	grads := make([][]*tensor.Tensor, steps)
	owned := make([][]bool, steps)
	for t := range grads {
		grads[t] = make([]*tensor.Tensor, len(g.Nodes))
		owned[t] = make([]bool, len(g.Nodes))
	}
	for _, s := range seeds {
		i, ok := g.index[s.Node]
		if !ok || s.Step < 0 || s.Step >= steps {
			return fmt.Errorf("model %q: backward seed at unknown layer %q or step %d", g.Name, s.Node, s.Step)
		}
		if tr.outs[s.Step][i] == nil || !tensor.SameShape(s.Grad.Shape, tr.outs[s.Step][i].Shape) {
			return fmt.Errorf("model %q: backward seed for %q has shape %v, output has %v", g.Name, s.Node, s.Grad.Shape, shapeOf(tr.outs[s.Step][i]))
		}
		tr.accumulate(grads, owned, s.Step, i, s.Grad)
	}
	wants := tr.wantsGrad()
	var dx *tensor.Tensor
	for t := steps - 1; t >= 0; t-- {
		for oi := len(g.order) - 1; oi >= 0; oi-- {
			i := g.order[oi]
			dout := grads[t][i]
			if dout == nil || !wants[i] {
				continue
			}
			n := g.Nodes[i]
			in := tr.inputs(n, t, tr.x.Shape[0])
			need := make([]bool, len(n.refs))
			for k, r := range n.refs {
				need[k] = (r.node >= 0 && wants[r.node] && !(r.prev && t == 0)) || (r.node < 0 && tr.inputGrad != nil)
			}
			din := n.Op.Backward(tr.ctx, tr.caches[t][i], in, tr.outs[t][i], dout, need)
			for k, r := range n.refs {
				if !need[k] || k >= len(din) || din[k] == nil {
					continue
				}
				switch {
				case r.node < 0:
					if dx == nil {
						dx = din[k].Clone()
					} else {
						tensor.Axpy(1, din[k].Data, dx.Data)
					}
				case r.prev:
					tr.accumulate(grads, owned, t-1, r.node, din[k])
				default:
					tr.accumulate(grads, owned, t, r.node, din[k])
				}
			}
			grads[t][i] = nil
		}
	}
	if tr.inputGrad != nil && dx != nil {
		copy(tr.inputGrad.Data, dx.Data)
	}
	return nil
}

// wantsGrad reports, per node, whether the backward pass must reach it: its own parameters
// are trained, or something it reads (another node, or the input when its gradient is wanted)
// needs a gradient through it. Without frozen nodes every node is wanted.
func (tr *Trace) wantsGrad() []bool {
	g := tr.g
	wants := make([]bool, len(g.Nodes))
	frozen := false
	for _, n := range g.Nodes {
		frozen = frozen || n.Frozen
	}
	if !frozen {
		for i := range wants {
			wants[i] = true
		}
		return wants
	}
	// Recurrent inputs may point forward in the order: iterate to the fixed point.
	for changed := true; changed; {
		changed = false
		for _, i := range g.order {
			if wants[i] {
				continue
			}
			n := g.Nodes[i]
			w := !n.Frozen && len(n.Op.Params()) > 0
			for _, r := range n.refs {
				w = w || (r.node < 0 && tr.inputGrad != nil) || (r.node >= 0 && wants[r.node])
			}
			if w {
				wants[i], changed = true, true
			}
		}
	}
	return wants
}

// WantInputGrad makes the next backward pass compute the gradient with respect to the input,
// returned by InputGrad.
func (tr *Trace) WantInputGrad() { tr.inputGrad = tensor.New(tr.x.Shape...) }

// InputGrad is the gradient with respect to the input after a backward pass (nil unless
// WantInputGrad was called first).
func (tr *Trace) InputGrad() *tensor.Tensor { return tr.inputGrad }

func (tr *Trace) accumulate(grads [][]*tensor.Tensor, owned [][]bool, t, i int, d *tensor.Tensor) {
	cur := grads[t][i]
	if cur == nil {
		grads[t][i], owned[t][i] = d, false
		return
	}
	if !owned[t][i] {
		sum := tr.ctx.Alloc(cur.Shape...)
		copy(sum.Data, cur.Data)
		grads[t][i], owned[t][i] = sum, true
		cur = sum
	}
	tensor.Axpy(1, d.Data, cur.Data)
}

func shapeOf(t *tensor.Tensor) []int {
	if t == nil {
		return nil
	}
	return t.Shape
}

// LayerNames lists the node names in declaration order.
func (g *Graph) LayerNames() []string {
	out := make([]string, len(g.Nodes))
	for i, n := range g.Nodes {
		out[i] = n.Name
	}
	return out
}
