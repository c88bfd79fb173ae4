package imports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/formats/onnx"
	"github.com/ventral-lab/ventral/nn"
)

// ErrUnsupported is wrapped by import errors about valid files that use an operator, or an
// attribute value of an operator, that the importer does not map onto nn ops.
var ErrUnsupported = errors.New("unsupported")

func init() {
	register(loader{
		format: "onnx",
		match: func(path string, head []byte) bool {
			return strings.EqualFold(filepath.Ext(path), ".onnx")
		},
		load: func(path string, side *Sidecar, o Options) (*Model, error) {
			m, err := onnx.ReadModel(path)
			if err != nil {
				return nil, fmt.Errorf("import %w", err)
			}
			if side != nil && len(side.Input) > 0 && len(o.Input) == 0 {
				o.Input = side.Input
			}
			model, err := FromONNX(m, filepath.Base(path), o)
			if err != nil {
				return nil, fmt.Errorf("import %s: %w", path, err)
			}
			if err := applySidecar(model, m.Metadata, side); err != nil {
				return nil, fmt.Errorf("import %s: %w", path, err)
			}
			return model, nil
		},
	})
}

// val is an ONNX value during import: the output of an nn node (node != "", shape includes
// the batch axis) or a constant known at import time (c != nil).
type val struct {
	node  string
	shape []int
	c     *cval
	// q is set on node values that lie on a quantization grid (a QuantizeLinear or QLinear*
	// output): the node holds the dequantized floats, q says how they were quantized.
	q *qparams
	// levels, on quantized values, is the layer holding their integer levels q - zero point
	// (see onnx_qexact.go).
	levels *val
	// merged, when set, says the ONNX value folds the batch axis into another axis (Flatten at
	// an axis other than 1): the layer holds the same numbers in the same order, but its axes
	// are not the value's, so no operator may read it; it can only be a graph output.
	merged string
}

type qparams struct {
	scale   float64
	zero    float64
	lo, hi  float64 // the integer range (0..255 or -128..127)
	integer onnx.DataType
}

type paramCopy struct {
	node, param string
	data        []float32
}

type importer struct {
	m       *onnx.Model
	opset   int64
	g       *nn.Graph
	o       Options
	batch   int
	vals    map[string]*val
	uses    map[string]int // how many node inputs (and graph outputs) read each value
	names   map[string]bool
	weights []paramCopy
	rng     *rand.Rand
	notes   map[string]bool
	input   *val
	convs   map[string]int // conv layers the importer made -> index of their weight in weights
	node    *onnx.Node     // the node being converted, for errors
}

type opFunc func(im *importer, n *onnx.Node) error

var onnxOps map[string]opFunc

// SupportedONNXOps lists the operators the importer maps (domain-qualified for non-default
// domains).
func SupportedONNXOps() []string {
	var out []string
	for k := range onnxOps {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// FromONNX maps a parsed ONNX model onto an nn graph holding its weights. source names the
// model in errors and in Graph.Meta.
func FromONNX(m *onnx.Model, source string, o Options) (*Model, error) {
	im := &importer{m: m, opset: m.Opset(), o: o, vals: map[string]*val{}, uses: map[string]int{},
		names: map[string]bool{nn.InputName: true}, rng: rand.New(rand.NewPCG(1, 2)), notes: map[string]bool{}, convs: map[string]int{}}
	if im.opset == 0 {
		im.opset = 1
	}
	g := m.Graph
	name := strings.TrimSuffix(source, filepath.Ext(source))
	if name == "" {
		name = g.Name
	}
	im.g = &nn.Graph{Name: name, Meta: map[string]string{"format": "onnx", "source": source}}
	if m.ProducerName != "" {
		im.g.Meta["producer"] = strings.TrimSpace(m.ProducerName + " " + m.ProducerVersion)
	}
	im.g.Meta["opset"] = fmt.Sprint(im.opset)
	for _, t := range g.Initializers {
		c, err := tensorToConst(t)
		if err != nil {
			return nil, fmt.Errorf("initializer %q: %w", t.Name, err)
		}
		im.vals[t.Name] = &val{c: c}
	}
	var inputs []onnx.ValueInfo
	for _, in := range g.Inputs {
		if _, ok := im.vals[in.Name]; !ok {
			inputs = append(inputs, in)
		}
	}
	if len(inputs) != 1 {
		var names []string
		for _, in := range inputs {
			names = append(names, in.Name)
		}
		return nil, fmt.Errorf("graph has %d inputs that are not initializers (%v); ventral models take one image input: %w", len(inputs), names, ErrUnsupported)
	}
	in := inputs[0]
	shape, err := im.inputShape(in)
	if err != nil {
		return nil, err
	}
	im.g.InputShape = shape[1:]
	im.batch = shape[0]
	im.input = &val{node: nn.InputName, shape: shape}
	im.vals[in.Name] = im.input
	for _, n := range g.Nodes {
		for _, x := range n.Inputs {
			im.uses[x]++
		}
	}
	for _, out := range g.Outputs {
		im.uses[out.Name]++
	}
	ops := map[string]int{}
	for _, n := range g.Nodes {
		key := n.OpType
		if n.Domain != "" {
			key = n.Domain + "." + n.OpType
		}
		ops[key]++
		im.node = n
		if len(n.Outputs) == 0 || n.Outputs[0] == "" {
			return nil, im.errorf("no output")
		}
		f, ok := onnxOps[key]
		if !ok && n.Domain == "com.microsoft" {
			f, ok = onnxOps[n.OpType]
		}
		if !ok {
			return nil, im.unsupported(fmt.Sprintf("operator %s is not supported (supported: %s)", key, strings.Join(SupportedONNXOps(), ", ")))
		}
		if err := im.foldOrRun(n, f); err != nil {
			return nil, err
		}
	}
	if len(g.Outputs) == 0 {
		return nil, fmt.Errorf("graph %q has no outputs", g.Name)
	}
	outV := im.vals[g.Outputs[0].Name]
	if outV == nil || outV.node == "" || outV.node == nn.InputName {
		return nil, fmt.Errorf("graph output %q is not computed from the input: %w", g.Outputs[0].Name, ErrUnsupported)
	}
	im.g.Output = outV.node
	if err := im.g.Build(1); err != nil {
		return nil, fmt.Errorf("building the imported graph: %w", err)
	}
	if err := im.copyWeights(); err != nil {
		return nil, err
	}
	model := &Model{Graph: im.g, Format: "onnx", Operators: ops, ValueLayers: map[string]string{}}
	isValue := map[string]bool{}
	for name, v := range im.vals {
		if v.node != "" && v.node != nn.InputName {
			model.ValueLayers[name] = v.node
			isValue[v.node] = true
		}
	}
	// Meta "default_layers" lists, in graph order, the layers that compute the file's own values
	// (not the helper layers: .acc, .requant, .int, .levels, .pad, .const...), leaving out pure
	// reshuffles and the softmax's probabilities; a quantized graph has three or four layers per
	// ONNX convolution, and scoring them all repeats each value several times.
	var def []string
	probs := softmaxOutputs(im.g)
	for _, nd := range im.g.Nodes {
		switch nd.Op.Type() {
		case "flatten", "transpose", "slice", "constant", "dropout":
			continue
		}
		if isValue[nd.Name] && !probs[nd.Name] {
			def = append(def, nd.Name)
		}
	}
	im.g.Meta["default_layers"] = strings.Join(def, ",")
	for k := range im.notes {
		model.Notes = append(model.Notes, k)
	}
	sort.Strings(model.Notes)
	return model, nil
}

func (im *importer) inputShape(in onnx.ValueInfo) ([]int, error) {
	if len(im.o.Input) > 0 {
		return append([]int{1}, im.o.Input...), nil
	}
	if in.HasShape && len(in.Dims) < 2 {
		return nil, fmt.Errorf("input %q of rank %d has no per-sample axes (ventral models take [N ...] batches): %w", in.Name, len(in.Dims), ErrUnsupported)
	}
	if !in.HasShape {
		return nil, fmt.Errorf("input %q: the file gives no per-sample shape (rank %d); declare it in the sidecar (input: [C, H, W])", in.Name, len(in.Dims))
	}
	shape := make([]int, len(in.Dims))
	for i, d := range in.Dims {
		if d == 0 {
			return nil, fmt.Errorf("input %q has an empty dimension %d: %w", in.Name, i, ErrUnsupported)
		}
		if d < 0 {
			if i == 0 {
				d = 1 // a symbolic batch size
			} else {
				return nil, fmt.Errorf("input %q: dimension %d is symbolic (%q); declare the per-sample shape in the sidecar (input: [C, H, W])", in.Name, i, in.DimParams[i])
			}
		}
		shape[i] = int(d)
	}
	return shape, nil
}

func (im *importer) unsupported(msg string) error {
	n := im.node
	return fmt.Errorf("node %q (%s, opset %d): %s: %w", n.Name, n.OpType, im.opset, msg, ErrUnsupported)
}

func (im *importer) errorf(format string, args ...any) error {
	n := im.node
	return fmt.Errorf("node %q (%s, opset %d): %s", n.Name, n.OpType, im.opset, fmt.Sprintf(format, args...))
}

func (im *importer) note(format string, args ...any) { im.notes[fmt.Sprintf(format, args...)] = true }

// in returns input i of the current node (nil when absent or empty, i.e. an omitted optional
// input).
func (im *importer) in(n *onnx.Node, i int) (*val, error) {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil, nil
	}
	v, ok := im.vals[n.Inputs[i]]
	if !ok {
		return nil, im.errorf("input %q is not produced by any earlier node, initializer or graph input", n.Inputs[i])
	}
	if v.merged != "" {
		return nil, im.unsupported(fmt.Sprintf("input %q is %s, which folds the batch axis into its axes (only a graph output may be)", n.Inputs[i], v.merged))
	}
	return v, nil
}

func (im *importer) mustIn(n *onnx.Node, i int) (*val, error) {
	v, err := im.in(n, i)
	if err == nil && v == nil {
		err = im.errorf("missing input %d", i)
	}
	return v, err
}

// constIn returns input i, which must be a constant (nil when the optional input is absent).
func (im *importer) constIn(n *onnx.Node, i int, what string) (*cval, error) {
	v, err := im.in(n, i)
	if err != nil || v == nil {
		return nil, err
	}
	if v.c == nil {
		return nil, im.unsupported(fmt.Sprintf("%s (input %q) must be a constant known at import time", what, n.Inputs[i]))
	}
	return v.c, nil
}

// mustConstIn is constIn for a required input.
func (im *importer) mustConstIn(n *onnx.Node, i int, what string) (*cval, error) {
	c, err := im.constIn(n, i, what)
	if err == nil && c == nil {
		err = im.errorf("missing %s (input %d)", what, i)
	}
	return c, err
}

func (im *importer) set(n *onnx.Node, i int, v *val) {
	if i < len(n.Outputs) && n.Outputs[i] != "" {
		im.vals[n.Outputs[i]] = v
	}
}

// foldable lists the operators computed at import when all their inputs are constants.
var foldable = map[string]bool{"Shape": true, "Gather": true, "Unsqueeze": true, "Squeeze": true, "Concat": true,
	"Cast": true, "Reshape": true, "Add": true, "Sub": true, "Mul": true, "Div": true, "Identity": true,
	"Constant": true, "Slice": true, "ConstantOfShape": true, "Transpose": true, "Flatten": true,
	"DequantizeLinear": true, "Dropout": true}

func (im *importer) foldOrRun(n *onnx.Node, f opFunc) error {
	allConst := true
	for i := range n.Inputs {
		v, err := im.in(n, i)
		if err != nil {
			return err
		}
		if v != nil && v.c == nil {
			allConst = false
		}
	}
	if (allConst && foldable[n.OpType]) || n.OpType == "Shape" {
		return im.fold(n)
	}
	return f(im, n)
}

// --- attributes -----------------------------------------------------------------------------

func attrInt(n *onnx.Node, name string, def int) int {
	if a := n.Attr(name); a != nil {
		return int(a.I)
	}
	return def
}

func attrFloat(n *onnx.Node, name string, def float64) float64 {
	if a := n.Attr(name); a != nil {
		return float64(a.F)
	}
	return def
}

func attrString(n *onnx.Node, name, def string) string {
	if a := n.Attr(name); a != nil {
		return string(a.S)
	}
	return def
}

func attrInts(n *onnx.Node, name string) []int {
	a := n.Attr(name)
	if a == nil {
		return nil
	}
	out := make([]int, len(a.Ints))
	for i, v := range a.Ints {
		out[i] = int(v)
	}
	return out
}

// --- building nn nodes ----------------------------------------------------------------------

// layerName turns an ONNX value name into an nn layer name (uniqueLayerName).
func (im *importer) layerName(name string) string { return uniqueLayerName(im.names, name) }

// newOp builds an op by its spec type and spec fields, the same way a spec file does, so the
// imported graph's spec reproduces it exactly.
func newOp(typ string, cfg map[string]any) (nn.Op, error) {
	op, err := nn.NewOp(typ)
	if err != nil {
		return nil, err
	}
	if len(cfg) > 0 {
		b, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(op); err != nil {
			return nil, fmt.Errorf("%s %s: %w", typ, b, err)
		}
	}
	return op, nil
}

// emit adds an nn node named after the ONNX value out, reading ins (constants become constant
// nodes), and returns its value.
func (im *importer) emit(out string, typ string, cfg map[string]any, ins ...*val) (*val, error) {
	op, err := newOp(typ, cfg)
	if err != nil {
		return nil, im.errorf("%v", err)
	}
	var names []string
	var shapes [][]int
	rank := 0
	for _, v := range ins {
		rank = max(rank, len(v.shape))
	}
	for _, v := range ins {
		if v.c != nil {
			cv, err := im.constNode(out, v.c, rank)
			if err != nil {
				return nil, err
			}
			v = cv
		}
		if len(v.shape) == 0 {
			return nil, im.unsupported("an input without a batch axis")
		}
		names = append(names, v.node)
		shapes = append(shapes, v.shape[1:])
	}
	shape, err := quickShape(typ, cfg, shapes)
	if shape == nil && err == nil {
		shape, err = op.Build(shapes, im.rng)
	}
	if err != nil {
		return nil, im.errorf("%s on inputs %v: %v", typ, shapes, err)
	}
	name := im.layerName(out)
	im.g.Add(name, op, names...)
	return &val{node: name, shape: append([]int{im.batch}, shape...)}, nil
}

// constNode materialises a constant operand as a "constant" layer (a per-sample tensor
// repeated over the batch; its input, the graph input, only gives the batch size). rank is the
// rank of the computed operand it meets: a constant of that full rank must have a batch axis of
// 1, which is dropped; a shorter one already broadcasts per sample.
func (im *importer) constNode(user string, c *cval, rank int) (*val, error) {
	shape := c.shape
	if len(shape) >= rank {
		if len(shape) > rank || shape[0] != 1 {
			return nil, im.unsupported(fmt.Sprintf("a constant of shape %v that varies along the batch axis", c.shape))
		}
		shape = shape[1:]
	}
	if len(shape) == 0 {
		shape = []int{1}
	}
	v, err := im.emit(user+".const", "constant", map[string]any{"shape": shape}, im.input)
	if err != nil {
		return nil, err
	}
	im.weights = append(im.weights, paramCopy{v.node, "value", c.f32()})
	return v, nil
}

func (im *importer) param(v *val, name string, data []float32) {
	im.weights = append(im.weights, paramCopy{v.node, name, data})
}

func (im *importer) copyWeights() error {
	for _, w := range im.weights {
		n := im.g.Node(w.node)
		if n == nil {
			return fmt.Errorf("internal: weights for missing layer %q", w.node)
		}
		var p *nn.Param
		for _, q := range n.Op.Params() {
			if q.Name == w.param || q.Name == n.Name+"."+w.param {
				p = q
			}
		}
		if p == nil {
			return fmt.Errorf("internal: layer %q (%s) has no parameter %q", w.node, n.Op.Type(), w.param)
		}
		if len(p.Value.Data) != len(w.data) {
			return fmt.Errorf("layer %q: parameter %s holds %d values, the file gives %d", w.node, w.param, len(p.Value.Data), len(w.data))
		}
		copy(p.Value.Data, w.data)
	}
	return nil
}

// node value of input i (a constant is an error: the op needs a computed input).
func (im *importer) nodeIn(n *onnx.Node, i int) (*val, error) {
	v, err := im.mustIn(n, i)
	if err != nil {
		return nil, err
	}
	if v.c != nil {
		return nil, im.unsupported(fmt.Sprintf("input %q is a constant where a computed tensor was expected", n.Inputs[i]))
	}
	return v, nil
}

// perSampleAxis maps an ONNX axis of a rank-r tensor (batch first) onto the per-sample axis.
func (im *importer) perSampleAxis(axis, rank int) (int, error) {
	a, err := normAxis(axis, rank)
	if err != nil {
		return 0, im.errorf("%v", err)
	}
	if a == 0 {
		return 0, im.unsupported("an operation along the batch axis")
	}
	return a - 1, nil
}

// quickShape infers the output shape of the layers with large weights without building them
// (Build would draw random weights that the import then overwrites; Graph.Build checks the
// shape again). nil, nil means "build it".
func quickShape(typ string, cfg map[string]any, in [][]int) ([]int, error) {
	switch typ {
	case "dense":
		if len(in) == 1 && len(in[0]) == 1 {
			return []int{cfg["out"].(int)}, nil
		}
	case "conv2d":
		if len(in) != 1 || len(in[0]) != 3 {
			return nil, nil
		}
		k, s, p, d := cfg["kernel"].([]int), cfg["stride"].([]int), cfg["pad"].([]int), cfg["dilation"].([]int)
		out := []int{cfg["out"].(int), 0, 0}
		for i := 0; i < 2; i++ {
			if s[i] < 1 || d[i] < 1 || k[i] < 1 {
				return nil, fmt.Errorf("conv2d: kernel %v, stride %v and dilation %v must be positive", k, s, d)
			}
			o := (in[0][i+1]+2*p[i]-d[i]*(k[i]-1)-1)/s[i] + 1
			if o < 1 {
				return nil, fmt.Errorf("conv2d: kernel %v (dilation %v, stride %v, pad %v) does not fit an input of %v", k, d, s, p, in[0])
			}
			out[i+1] = o
		}
		return out, nil
	}
	return nil, nil
}
