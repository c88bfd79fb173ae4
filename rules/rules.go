// Package rules holds learning rules other than backpropagation, for asking whether the brain
// needs backpropagation's symmetric weights to learn what a CNN learns (Lillicrap et al. 2016;
// Nokland 2016; Liao et al. 2016), and a layer-local unsupervised Hebbian rule for convolutions
// (hebbian.go).
//
// The supervised rules keep backpropagation's weight gradient, dW = delta x^T, at every conv2d
// and dense layer and change only how the error reaches delta:
//
//   - bp: backpropagation, the error flows back through W^T.
//   - fa (feedback alignment): through a fixed random matrix B of W's shape in place of W
//     (Lillicrap et al. 2016, Nat Commun 7:13276). B is drawn He-uniform, U(-a, a) with
//     a = sqrt(6/fan_in), the distribution of the forward weights at initialisation, so the
//     error keeps backpropagation's scale at the start.
//   - sign (sign symmetry, Liao, Leibo and Poggio 2016, AAAI): through m sign(W), the signs of the
//     current forward weights with one magnitude per layer, m = mean |W|. Liao et al.'s
//     "uniform sign-concordant feedback" uses magnitude 1; the per-layer scale keeps the error at
//     backpropagation's size under plain SGD (with 1, it grows by about sqrt(fan_in)/m per layer),
//     and changes nothing under Adam, which is invariant to a per-layer scale of the error.
//     With all |W| of a layer equal, sign is backpropagation exactly.
//   - dfa (direct feedback alignment, Nokland 2016, NeurIPS): no error flows through any weight.
//     The output error e (the loss gradient at the logits) reaches every hidden layer l through
//     its own fixed random matrix B_l: the signal B_l e enters at the layer's output after the
//     elementwise layers that follow it (activation, batch norm, dropout), so that
//     delta_l = (B_l e) * f'(a_l) at the conv or dense output a_l. A convolution's B_l maps to
//     its whole output map (channels x height x width). The layers that produce the output
//     (the last dense layer) receive e itself. B_l is U(-a, a) with a = sqrt(6/size_l), the
//     scale of a weight matrix from the layer to the output.
//
// A fresh fa or dfa run starts with the output layers at zero (ZeroOutputLayers: from random
// output weights the not yet aligned hidden layers push the loss up). Both need smaller
// learning rates than backpropagation's recipes: LeNet-5 trains with Adam at 1e-3 (one epoch on
// 10,000 MNIST images: bp 0.939, sign 0.908, dfa 0.857, fa 0.831 test accuracy) but diverges
// under its SGD recipe (lr 0.1, Nesterov 0.9) with fa.
//
// Other parametrised layers (batch norm, local2d, recurrent cells) pass the error as
// backpropagation does. Feedback matrices are drawn from the run's seed (one stream per layer,
// named by the layer) and are saved with checkpoints (State, LoadState), so a resumed run goes
// on with the same ones.
//
// The rules act through nn.Param.Feedback, set for the duration of one backward pass, so a
// trained network afterwards computes true gradients for analyses that need them.
package rules

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// Names lists the supervised rules.
var Names = []string{"bp", "fa", "dfa", "sign"}

// StatePrefix marks a rule's tensors in a checkpoint ("rule/conv1.weight").
const StatePrefix = "rule/"

// MetaFreezeUntil is the graph metadata key naming the last frozen layer (train.MetaFreezeUntil);
// a weighted layer fed only by frozen layers needs no input gradient.
const MetaFreezeUntil = "freeze_until"

// Rule is a supervised learning rule bound to one built graph.
type Rule struct {
	Kind string
	g    *nn.Graph
	// weighted are the conv2d and dense layers with their weights, in declaration order.
	weighted []weighted
	// fb holds the fixed feedback matrices (fa: per weight name; dfa: per hidden layer name).
	fb map[string]*tensor.Tensor
	// dfa: the hidden layers, where each one's signal enters, and the output node.
	hidden []dfaLayer
	out    string
	// isOut marks the output layers: weighted layers reached backwards from the output
	// without crossing another weighted layer.
	isOut map[string]bool
	// stop marks weighted layers whose input gradient nothing trainable needs.
	stop map[string]bool
}

type weighted struct {
	node string
	w    *nn.Param
}

type dfaLayer struct {
	node, inject string
	size         int
}

// IsWeighted reports whether an op is a layer the rules act on (conv2d or dense) and returns
// its weight.
func IsWeighted(op nn.Op) (*nn.Param, bool) {
	switch o := op.(type) {
	case *nn.Conv2D:
		return o.Weight(), true
	case *nn.Dense:
		return o.Params()[0], true
	}
	return nil, false
}

// New binds rule kind ("" is bp) to a built graph, drawing its feedback matrices from seed.
func New(kind string, g *nn.Graph, seed uint64) (*Rule, error) {
	if kind == "" {
		kind = "bp"
	}
	if g == nil || !g.Built() {
		return nil, fmt.Errorf("rule %s: the model must be built", kind)
	}
	r := &Rule{Kind: kind, g: g, fb: map[string]*tensor.Tensor{}, out: g.OutputName(), stop: map[string]bool{}}
	for _, n := range g.Nodes {
		if w, ok := IsWeighted(n.Op); ok {
			r.weighted = append(r.weighted, weighted{node: n.Name, w: w})
		}
	}
	r.frozenStops()
	r.outputLayers()
	switch kind {
	case "bp", "sign":
	case "fa":
		for _, l := range r.weighted {
			b := tensor.New(l.w.Value.Shape...)
			fanIn := l.w.Value.Len() / l.w.Value.Shape[0]
			fill(b, math.Sqrt(6/float64(max(fanIn, 1))), stream(seed, "fa/"+l.w.Name))
			r.fb[l.w.Name] = b
		}
	case "dfa":
		if err := r.setupDFA(seed); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown learning rule %q (expected one of %s)", kind, strings.Join(Names, ", "))
	}
	if len(r.weighted) == 0 && kind != "bp" {
		return nil, fmt.Errorf("rule %s: model %s has no conv2d or dense layer to act on", kind, g.Name)
	}
	return r, nil
}

// stream is the random source of one feedback matrix: the seed and a hash of its name, so that
// adding a layer does not change the others' matrices.
func stream(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed^0x6a09e667f3bcc909, h.Sum64()))
}

func fill(t *tensor.Tensor, a float64, rng *rand.Rand) {
	for i := range t.Data {
		t.Data[i] = float32((2*rng.Float64() - 1) * a)
	}
}

// inputsOf splits a node's inputs into same-step producers and whether it has recurrent ones.
func inputsOf(n *nn.Node) (same []string, recurrent bool) {
	for _, in := range n.Inputs {
		name, prev := strings.CutSuffix(in, nn.PrevSuffix)
		if prev {
			recurrent = true
			continue
		}
		same = append(same, name)
	}
	return same, recurrent
}

// frozenStops marks the weighted layers whose inputs all come from frozen layers (fine-tuning
// with a freeze point, the readout of a Hebbian network): their input gradient would only reach
// parameters that do not change.
func (r *Rule) frozenStops() {
	until := r.g.Meta[MetaFreezeUntil]
	if until == "" {
		return
	}
	frozen := map[string]bool{nn.InputName: true}
	for _, n := range r.g.Nodes {
		frozen[n.Name] = true
		if n.Name == until {
			break
		}
	}
	if !frozen[until] {
		return
	}
	for _, l := range r.weighted {
		if frozen[l.node] {
			continue
		}
		n := r.g.Node(l.node)
		same, rec := inputsOf(n)
		all := !rec
		for _, in := range same {
			all = all && frozen[in]
		}
		if all {
			r.stop[l.node] = true
		}
	}
}

// setupDFA finds the output layers (reached from the output through parameter-free layers
// only), and for every other weighted layer where its signal enters.
func (r *Rule) setupDFA(seed uint64) error {
	g := r.g
	if g.NumSteps() > 1 {
		return fmt.Errorf("rule dfa: model %s is recurrent (%d steps); direct feedback alignment is defined here for feedforward models", g.Name, g.NumSteps())
	}
	classes := tensor.Numel(g.Node(r.out).Shape)
	consumers := map[string][]string{}
	for _, n := range g.Nodes {
		same, _ := inputsOf(n)
		for _, in := range same {
			consumers[in] = append(consumers[in], n.Name)
		}
	}
	for _, l := range r.weighted {
		if r.isOut[l.node] || r.stop[l.node] {
			continue
		}
		at := l.node
		for {
			cs := consumers[at]
			if len(cs) != 1 {
				break
			}
			c := g.Node(cs[0])
			if _, w := IsWeighted(c.Op); w || len(c.Inputs) != 1 || !tensor.SameShape(c.Shape, g.Node(at).Shape) || c.Name == r.out {
				break
			}
			at = c.Name
		}
		size := tensor.Numel(g.Node(at).Shape)
		b := tensor.New(size, classes)
		fill(b, math.Sqrt(6/float64(size)), stream(seed, "dfa/"+l.node))
		r.fb[l.node] = b
		r.hidden = append(r.hidden, dfaLayer{node: l.node, inject: at, size: size})
	}
	return nil
}

// outputLayers finds the weighted layers that produce the output: reached backwards from it
// through parameter-free layers only.
func (r *Rule) outputLayers() {
	g := r.g
	r.isOut = map[string]bool{}
	seen := map[string]bool{}
	stack := []string{r.out}
	for len(stack) > 0 {
		name := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[name] || name == nn.InputName {
			continue
		}
		seen[name] = true
		n := g.Node(name)
		if _, ok := IsWeighted(n.Op); ok {
			r.isOut[name] = true
			continue
		}
		same, _ := inputsOf(n)
		stack = append(stack, same...)
	}
}

// ZeroesOutput reports whether a fresh run of the rule starts with its output layers at zero
// (see ZeroOutputLayers): fa and dfa.
func (r *Rule) ZeroesOutput() bool { return r.Kind == "fa" || r.Kind == "dfa" }

// ZeroOutputLayers sets the weights and biases of the output layers to zero. Feedback alignment
// learns once the forward weights of the layers above have come to align with the fixed
// feedback; starting the output layer at zero lets that happen from the first steps (Nokland
// 2016 trains DFA networks from zero weights). With LeNet-5's random output layer both fa and
// dfa pushed the loss up, from 3.9 to 6-8 over the first 135 Adam steps (lr 1e-4) and to
// divergence at larger rates, while from zero they train; backpropagation trains from either.
func (r *Rule) ZeroOutputLayers() {
	for _, n := range r.g.Nodes {
		if r.isOut[n.Name] {
			for _, p := range n.Op.Params() {
				p.Value.Zero()
			}
		}
	}
}

// Backward runs one backward pass of the rule from dout, the loss gradient at the graph's
// output (the output error e), accumulating into the parameters' gradients.
func (r *Rule) Backward(tr *nn.Trace, dout *tensor.Tensor) error {
	defer r.detach()
	for _, l := range r.weighted {
		if r.stop[l.node] {
			l.w.Feedback = nn.NoFeedback
		}
	}
	switch r.Kind {
	case "bp":
		return tr.Backward(dout)
	case "fa":
		for _, l := range r.weighted {
			if !r.stop[l.node] {
				l.w.Feedback = r.fb[l.w.Name]
			}
		}
		return tr.Backward(dout)
	case "sign":
		for _, l := range r.weighted {
			if !r.stop[l.node] {
				l.w.Feedback = signOf(l.w.Value, r.fb[l.w.Name])
				r.fb[l.w.Name] = l.w.Feedback
			}
		}
		return tr.Backward(dout)
	}
	// dfa
	for _, l := range r.weighted {
		l.w.Feedback = nn.NoFeedback
	}
	n := dout.Shape[0]
	classes := dout.Len() / n
	seeds := []nn.Seed{{Node: r.out, Step: 0, Grad: dout}}
	for _, h := range r.hidden {
		b := r.fb[h.node]
		s := tensor.New(append([]int{n}, r.g.Node(h.inject).Shape...)...)
		// s = e B^T: each sample's error through the layer's fixed matrix.
		tensor.Sgemm(false, true, n, h.size, classes, 1, dout.Data, classes, b.Data, classes, 0, s.Data, h.size)
		seeds = append(seeds, nn.Seed{Node: h.inject, Step: 0, Grad: s})
	}
	return tr.BackwardSeeds(seeds...)
}

// signOf writes mean|w| * sign(w) into buf (allocated when nil) and returns it.
func signOf(w, buf *tensor.Tensor) *tensor.Tensor {
	if buf == nil {
		buf = tensor.New(w.Shape...)
	}
	var s float64
	for _, v := range w.Data {
		s += math.Abs(float64(v))
	}
	m := float32(s / float64(max(len(w.Data), 1)))
	for i, v := range w.Data {
		switch {
		case v > 0:
			buf.Data[i] = m
		case v < 0:
			buf.Data[i] = -m
		default:
			buf.Data[i] = 0
		}
	}
	return buf
}

func (r *Rule) detach() {
	for _, l := range r.weighted {
		l.w.Feedback = nil
	}
}

// State returns the fixed feedback matrices under their checkpoint names (StatePrefix + weight
// or layer name), sharing storage with the rule: writing into them changes the feedback. Rules
// without fixed matrices (bp, sign) have none.
func (r *Rule) State() map[string]*tensor.Tensor {
	out := map[string]*tensor.Tensor{}
	if r.Kind != "fa" && r.Kind != "dfa" {
		return out
	}
	for k, t := range r.fb {
		out[StatePrefix+k] = t
	}
	return out
}

// LoadState replaces the feedback matrices by saved ones (a checkpoint's StatePrefix tensors);
// every matrix must be present with its shape, and no other.
func (r *Rule) LoadState(ts map[string]*tensor.Tensor, file string) error {
	want := r.State()
	names := make([]string, 0, len(want))
	for k := range want {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		t, ok := ts[k]
		if !ok {
			return fmt.Errorf("%s: the %s rule's feedback matrix %q is missing", file, r.Kind, k)
		}
		if !tensor.SameShape(t.Shape, want[k].Shape) {
			return fmt.Errorf("%s: feedback matrix %q has shape %v, the %s rule on model %s expects %v", file, k, t.Shape, r.Kind, r.g.Name, want[k].Shape)
		}
	}
	for k := range ts {
		if _, ok := want[k]; !ok {
			return fmt.Errorf("%s: tensor %q is not a feedback matrix of the %s rule on model %s", file, k, r.Kind, r.g.Name)
		}
	}
	for _, k := range names {
		copy(want[k].Data, ts[k].Data)
	}
	return nil
}

// Hidden lists, for dfa, each hidden layer and the node where its signal enters.
func (r *Rule) Hidden() [][2]string {
	var out [][2]string
	for _, h := range r.hidden {
		out = append(out, [2]string{h.node, h.inject})
	}
	return out
}
