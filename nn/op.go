package nn

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/ventral-lab/ventral/tensor"
)

// Op is one layer. Shapes passed to Build exclude the batch axis; tensors passed to Forward and
// Backward include it (NCHW for images, NF for vectors).
type Op interface {
	// Type is the op's name in spec files, e.g. "conv2d".
	Type() string
	// Build validates the per-sample input shapes, creates and initialises the parameters from
	// rng, and returns the per-sample output shape. It is called once per graph build.
	Build(in [][]int, rng *rand.Rand) ([]int, error)
	// Forward computes the output for a batch. The returned cache is handed back to Backward.
	Forward(ctx *Ctx, in []*tensor.Tensor) (out *tensor.Tensor, cache any)
	// Backward receives the gradient of the loss with respect to out, adds parameter gradients into
	// each Param's Grad, and returns the gradients with respect to the inputs for which need[i]
	// is true (nil elsewhere).
	Backward(ctx *Ctx, cache any, in []*tensor.Tensor, out, dout *tensor.Tensor, need []bool) []*tensor.Tensor
	// Params lists the op's trainable parameters (nil for none).
	Params() []*Param
}

// Param is a trainable tensor with its gradient.
type Param struct {
	Name  string // "weight", "bias"; the graph prefixes the node name
	Value *tensor.Tensor
	Grad  *tensor.Tensor
	// Decay says whether weight decay applies (true for weights, false for biases and norm gains).
	Decay bool
	// Constraint, if set, is applied to Value after every optimizer update (e.g. sign constraints).
	Constraint Constraint
	// Feedback, if set, replaces Value in the input-gradient path of conv2d and dense layers
	// (learning rules without weight transport, see feedback.go); weight gradients are unchanged.
	Feedback *tensor.Tensor
}

// NewParam allocates a parameter and its gradient.
func NewParam(name string, decay bool, shape ...int) *Param {
	return &Param{Name: name, Value: tensor.New(shape...), Grad: tensor.New(shape...), Decay: decay}
}

// Constraint projects a parameter back onto its allowed set after an update.
type Constraint interface {
	Apply(t *tensor.Tensor)
	Name() string
}

// NonNeg clamps values at zero from below: excitatory-only weights (Dale's law).
type NonNeg struct{}

func (NonNeg) Apply(t *tensor.Tensor) {
	for i, v := range t.Data {
		if v < 0 {
			t.Data[i] = 0
		}
	}
}
func (NonNeg) Name() string { return "nonneg" }

// NonPos clamps values at zero from above: inhibitory-only weights.
type NonPos struct{}

func (NonPos) Apply(t *tensor.Tensor) {
	for i, v := range t.Data {
		if v > 0 {
			t.Data[i] = 0
		}
	}
}
func (NonPos) Name() string { return "nonpos" }

// ConstraintByName returns a named constraint ("" gives nil).
func ConstraintByName(name string) (Constraint, error) {
	switch name {
	case "":
		return nil, nil
	case "nonneg":
		return NonNeg{}, nil
	case "nonpos":
		return NonPos{}, nil
	}
	return nil, fmt.Errorf("unknown constraint %q (expected nonneg or nonpos)", name)
}

// Ctx carries per-pass state: training mode, the seeded random source for stochastic ops, and a
// buffer arena that recycles tensor storage between steps so training does not churn the GC.
type Ctx struct {
	Train bool
	// Backward declares that a backward pass will follow an inference-mode forward pass (input
	// gradients for receptive fields, feature visualisation or adversarial examples); it stops
	// Forward from recycling the outputs that the backward pass needs.
	Backward bool
	// NoFuse stops Graph.Forward from fusing elementwise layers into the convolutions before
	// them at inference (see fuse.go); outputs agree either way up to float rounding.
	NoFuse bool
	// Timings, when not nil, receives each node's forward time, added up over passes: a fused
	// chain's or a depth-first pair's under the name of its first node.
	Timings map[string]time.Duration
	// NoSplit stops Forward from splitting an inference batch into one part per thread (see
	// Graph.sampleParts); the outputs are the same bits either way.
	NoSplit bool
	Rng     *rand.Rand
	arena   arena
	parts   []*Ctx // the contexts of a split batch's parts, kept for their arenas
}

// NewCtx returns a context; seed drives dropout and other stochastic ops.
func NewCtx(train bool, seed uint64) *Ctx {
	return &Ctx{Train: train, Rng: rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))}
}

// Zeros returns a zeroed tensor from the arena.
func (c *Ctx) Zeros(shape ...int) *tensor.Tensor {
	t := c.Alloc(shape...)
	clear(t.Data)
	return t
}

// Alloc returns a tensor from the arena with unspecified contents.
func (c *Ctx) Alloc(shape ...int) *tensor.Tensor {
	if c == nil {
		return tensor.New(shape...)
	}
	return tensor.FromData(c.arena.get(tensor.Numel(shape)), shape...)
}

// Reset recycles every tensor handed out since the last Reset. Tensors from earlier passes
// (outputs, caches) must not be used afterwards.
func (c *Ctx) Reset() { c.arena.reset() }

type arena struct {
	free map[int][][]float32
	used [][]float32
}

func (a *arena) get(n int) []float32 {
	if l := a.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		a.free[n] = l[:len(l)-1]
		a.used = append(a.used, b)
		return b
	}
	b := make([]float32, n)
	a.used = append(a.used, b)
	return b
}

func (a *arena) reset() {
	if a.free == nil {
		a.free = map[int][][]float32{}
	}
	for _, b := range a.used {
		a.free[len(b)] = append(a.free[len(b)], b)
	}
	clear(a.used)
	a.used = a.used[:0]
}

// registry of op constructors by spec type name.
var registry = map[string]func() Op{}

// Register makes an op type available to spec files. It panics on duplicate names, which is a
// programming error caught at init.
func Register(typ string, ctor func() Op) {
	if _, dup := registry[typ]; dup {
		panic("nn.Register: duplicate op type " + typ)
	}
	registry[typ] = ctor
}

// NewOp returns a zero-configured op of the given spec type.
func NewOp(typ string) (Op, error) {
	ctor, ok := registry[typ]
	if !ok {
		return nil, fmt.Errorf("unknown layer type %q (known: %v)", typ, OpTypes())
	}
	return ctor(), nil
}

// OpTypes lists the registered op types, sorted.
func OpTypes() []string {
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// release returns a buffer to the free list before the next Reset.
func (a *arena) release(b []float32) {
	if a.free == nil {
		a.free = map[int][][]float32{}
	}
	for k := len(a.used) - 1; k >= 0; k-- {
		if len(a.used[k]) > 0 && &a.used[k][0] == &b[0] {
			a.used[k] = a.used[len(a.used)-1]
			a.used = a.used[:len(a.used)-1]
			a.free[len(b)] = append(a.free[len(b)], b)
			return
		}
	}
}
