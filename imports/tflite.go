package imports

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ventral-lab/ventral/formats/tflite"
	"github.com/ventral-lab/ventral/nn"
)

func init() {
	register(loader{
		format: "tflite",
		match: func(path string, head []byte) bool {
			return strings.EqualFold(filepath.Ext(path), ".tflite") || len(head) >= 8 && string(head[4:8]) == "TFL3"
		},
		load: loadTFLite,
	})
}

func loadTFLite(path string, side *Sidecar, o Options) (*Model, error) {
	m, err := tflite.Read(path)
	if err != nil {
		return nil, fmt.Errorf("import %w", err)
	}
	model, err := FromTFLite(m, filepath.Base(path), o)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	meta := map[string]string{}
	if p := model.Preprocess; p.Size > 0 {
		meta["preprocess"] = fmt.Sprintf(`{"size": %d, "rgb": true, "mean": [%g, %g, %g], "std": [%g, %g, %g]}`,
			p.Size, p.Mean[0], p.Mean[1], p.Mean[2], p.Std[0], p.Std[1], p.Std[2])
	}
	if err := applySidecar(model, meta, side); err != nil {
		return nil, fmt.Errorf("import %s: %w", path, err)
	}
	return model, nil
}

// tfliteOps maps the supported builtin operators.
var tfliteOps map[tflite.BuiltinOperator]func(im *tfImporter, op *tflite.Operator) error

func init() {
	tfliteOps = map[tflite.BuiltinOperator]func(im *tfImporter, op *tflite.Operator) error{
		tflite.OpConv2D:          tfConv,
		tflite.OpDepthwiseConv2D: tfConv,
		tflite.OpFullyConnected:  tfFullyConnected,
		tflite.OpAdd:             tfBinary,
		tflite.OpMul:             tfBinary,
		tflite.OpAveragePool2D:   tfPool,
		tflite.OpMaxPool2D:       tfPool,
		tflite.OpMean:            tfMean,
		tflite.OpReshape:         tfReshape,
		tflite.OpSqueeze:         tfReshape,
		tflite.OpSoftmax:         tfSoftmax,
		tflite.OpConcatenation:   tfConcat,
		tflite.OpPad:             tfPad,
		tflite.OpQuantize:        tfQuantize,
		tflite.OpDequantize:      tfQuantize,
		tflite.OpRelu:            tfAct,
		tflite.OpRelu6:           tfAct,
		tflite.OpLogistic:        tfAct,
		tflite.OpTanh:            tfAct,
	}
}

// SupportedTFLiteOps lists the builtin operators FromTFLite maps.
func SupportedTFLiteOps() []string {
	var out []string
	for k := range tfliteOps {
		out = append(out, k.String())
	}
	sort.Strings(out)
	return out
}

// tval is a TFLite tensor during import: the node computing it and its per-sample shape in
// ventral's layout (rank-4 NHWC tensors are [C H W]; others keep TFLite's order without the
// batch axis).
type tval struct {
	node  string
	shape []int
}

type tfImporter struct {
	m       *tflite.Model
	sg      *tflite.SubGraph
	g       *nn.Graph
	o       Options
	vals    map[int32]*tval
	names   map[string]bool
	weights []paramCopy
	rng     *rand.Rand
	op      int // index of the operator being converted, for errors
	notes   map[string]bool
}

// FromTFLite maps a parsed TFLite model's first subgraph onto an nn graph holding its weights.
// source names the model in Graph.Meta and errors.
func FromTFLite(m *tflite.Model, source string, o Options) (*Model, error) {
	if len(m.Subgraphs) == 0 {
		return nil, fmt.Errorf("the model has no subgraph")
	}
	sg := &m.Subgraphs[0]
	im := &tfImporter{m: m, sg: sg, o: o, vals: map[int32]*tval{}, names: map[string]bool{nn.InputName: true},
		rng: rand.New(rand.NewPCG(1, 2)), op: -1, notes: map[string]bool{}}
	name := strings.TrimSuffix(source, filepath.Ext(source))
	im.g = &nn.Graph{Name: name, Meta: map[string]string{"format": "tflite", "source": source}}
	if m.Description != "" {
		im.g.Meta["producer"] = m.Description
	}
	if len(sg.Inputs) != 1 || len(sg.Outputs) < 1 {
		return nil, fmt.Errorf("subgraph has %d inputs and %d outputs; ventral models take one image input: %w", len(sg.Inputs), len(sg.Outputs), ErrUnsupported)
	}
	in := &sg.Tensors[sg.Inputs[0]]
	if len(in.Shape) != 4 || in.Shape[0] != 1 && in.Shape[0] != -1 {
		return nil, fmt.Errorf("input %q has shape %v; expected an NHWC image [1 H W C]: %w", in.Name, in.Shape, ErrUnsupported)
	}
	shape := []int{int(in.Shape[3]), int(in.Shape[1]), int(in.Shape[2])}
	if len(o.Input) == 3 {
		shape = o.Input
	}
	im.g.InputShape = shape
	x := &tval{node: nn.InputName, shape: shape}
	model := &Model{Format: "tflite", Operators: map[string]int{}, ValueLayers: map[string]string{}}
	// The graph input is the dequantized image; a quantized input is rounded to its levels.
	if q := in.Quantization; q != nil && len(q.Scale) == 1 {
		var err error
		if x, err = im.requant(short(in.Name), x, in); err != nil {
			return nil, err
		}
		s, z := float64(q.Scale[0]), float64(zero(q))
		lo, hi := qrange(in.Type)
		if in.Type == tflite.Uint8 && shape[0] == 3 {
			// x in [0,1] is q/255: mean z/255 and std 1/(255 s) give s (q - z).
			mean, std := float32(z/255), float32(1/(255*s))
			model.Preprocess.Size = shape[1]
			model.Preprocess.RGB = true
			model.Preprocess.Mean = []float32{mean, mean, mean}
			model.Preprocess.Std = []float32{std, std, std}
			im.note("input %q is %s quantized (scale %g, zero point %g: levels %g..%g are %g..%g); preprocessing maps [0,1] onto that range", in.Name, in.Type, s, z, lo, hi, s*(lo-z), s*(hi-z))
		}
	}
	im.vals[sg.Inputs[0]] = x
	for i := range sg.Operators {
		op := &sg.Operators[i]
		im.op = i
		code := m.Op(op)
		key := code.String()
		if code == tflite.OpCustom {
			key = "CUSTOM:" + m.OperatorCodes[op.OpcodeIndex].CustomCode
		}
		model.Operators[key]++
		f, ok := tfliteOps[code]
		if !ok {
			return nil, im.unsupported(fmt.Sprintf("operator %s (version %d) is not supported (supported: %s)", key, m.OperatorCodes[op.OpcodeIndex].Version, strings.Join(SupportedTFLiteOps(), ", ")))
		}
		if len(op.Outputs) != 1 {
			return nil, im.unsupported(fmt.Sprintf("%s with %d outputs", key, len(op.Outputs)))
		}
		if err := f(im, op); err != nil {
			return nil, err
		}
	}
	outT := sg.Outputs[0]
	out := im.vals[outT]
	if out == nil || out.node == nn.InputName {
		return nil, fmt.Errorf("output %q is not computed from the input: %w", sg.Tensors[outT].Name, ErrUnsupported)
	}
	im.g.Output = out.node
	if err := im.g.Build(1); err != nil {
		return nil, fmt.Errorf("building the imported graph: %w", err)
	}
	if err := copyParams(im.g, im.weights); err != nil {
		return nil, err
	}
	model.Graph = im.g
	isValue := map[string]bool{}
	for t, v := range im.vals {
		if v.node != nn.InputName {
			model.ValueLayers[sg.Tensors[t].Name] = v.node
			isValue[v.node] = true
		}
	}
	// As for ONNX: score the layers that hold the file's tensors (in a quantized file, the
	// requantized fake_quant outputs), not the helper layers before them, nor pure reshuffles,
	// nor the softmax's probabilities.
	var def []string
	probs := softmaxOutputs(im.g)
	for _, nd := range im.g.Nodes {
		switch nd.Op.Type() {
		case "flatten", "reshape", "transpose", "slice", "constant", "dropout", "pad2d":
			continue
		}
		if isValue[nd.Name] && !probs[nd.Name] {
			def = append(def, nd.Name)
		}
	}
	if im.g.Meta == nil {
		im.g.Meta = map[string]string{}
	}
	im.g.Meta["default_layers"] = strings.Join(def, ",")
	for k := range im.notes {
		model.Notes = append(model.Notes, k)
	}
	sort.Strings(model.Notes)
	return model, nil
}

// copyParams copies imported weights into the built graph's parameters.
func copyParams(g *nn.Graph, weights []paramCopy) error {
	for _, w := range weights {
		n := g.Node(w.node)
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

func (im *tfImporter) where() string {
	if im.op < 0 {
		return "input"
	}
	op := &im.sg.Operators[im.op]
	out := ""
	if len(op.Outputs) > 0 {
		out = im.sg.Tensors[op.Outputs[0]].Name
	}
	return fmt.Sprintf("operator %d (%s, output %q)", im.op, im.m.Op(op), out)
}

func (im *tfImporter) unsupported(msg string) error {
	return fmt.Errorf("%s: %s: %w", im.where(), msg, ErrUnsupported)
}

func (im *tfImporter) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s", im.where(), fmt.Sprintf(format, args...))
}

func (im *tfImporter) note(format string, args ...any) { im.notes[fmt.Sprintf(format, args...)] = true }

func (im *tfImporter) layerName(name string) string { return uniqueLayerName(im.names, name) }

func (im *tfImporter) emit(out, typ string, cfg map[string]any, ins ...*tval) (*tval, error) {
	var names []string
	var shapes [][]int
	for _, v := range ins {
		names = append(names, v.node)
		shapes = append(shapes, v.shape)
	}
	name, shape, err := addNode(im.g, im.names, im.rng, out, typ, cfg, names, shapes)
	if err != nil {
		return nil, im.errorf("%v", err)
	}
	return &tval{node: name, shape: shape}, nil
}

func (im *tfImporter) param(v *tval, name string, data []float32) {
	im.weights = append(im.weights, paramCopy{v.node, name, data})
}

// tensor returns operator input i's tensor (nil when omitted).
func (im *tfImporter) tensor(op *tflite.Operator, i int) *tflite.Tensor {
	if i >= len(op.Inputs) || op.Inputs[i] < 0 {
		return nil
	}
	return &im.sg.Tensors[op.Inputs[i]]
}

func (im *tfImporter) outTensor(op *tflite.Operator) *tflite.Tensor {
	return &im.sg.Tensors[op.Outputs[0]]
}

// in is the computed value of operator input i.
func (im *tfImporter) in(op *tflite.Operator, i int) (*tval, error) {
	if i >= len(op.Inputs) || op.Inputs[i] < 0 {
		return nil, im.errorf("input %d is missing", i)
	}
	v := im.vals[op.Inputs[i]]
	if v == nil {
		t := im.tensor(op, i)
		if len(im.m.Data(t)) > 0 {
			return nil, im.unsupported(fmt.Sprintf("constant tensor %q where a computed input was expected", t.Name))
		}
		return nil, im.errorf("input %q is read before any operator computes it", t.Name)
	}
	return v, nil
}

// constant is operator input i as dequantized float32 values (error when it is not constant).
func (im *tfImporter) constant(op *tflite.Operator, i int, what string) (*tflite.Tensor, []float32, error) {
	t := im.tensor(op, i)
	if t == nil {
		return nil, nil, im.errorf("%s (input %d) is missing", what, i)
	}
	if len(im.m.Data(t)) == 0 {
		return nil, nil, im.unsupported(fmt.Sprintf("%s %q is computed; only constant %ss are supported", what, t.Name, what))
	}
	v, err := im.m.Float32s(t)
	if err != nil {
		return nil, nil, im.errorf("%s: %v", what, err)
	}
	return t, v, nil
}

func (im *tfImporter) ints(op *tflite.Operator, i int, what string) ([]int, error) {
	t := im.tensor(op, i)
	if t == nil || len(im.m.Data(t)) == 0 || (t.Type != tflite.Int32 && t.Type != tflite.Int64) {
		return nil, im.unsupported(fmt.Sprintf("%s must be a constant int32 tensor", what))
	}
	q := *t
	q.Quantization = nil
	v, err := im.m.Float32s(&q)
	if err != nil {
		return nil, im.errorf("%s: %v", what, err)
	}
	out := make([]int, len(v))
	for k, x := range v {
		out[k] = int(x)
	}
	return out, nil
}

func zero(q *tflite.Quantization) int64 {
	if len(q.ZeroPoint) == 0 {
		return 0
	}
	return q.ZeroPoint[0]
}

func qrange(t tflite.TensorType) (float64, float64) {
	switch t {
	case tflite.Uint8:
		return 0, 255
	case tflite.Int8:
		return -128, 127
	case tflite.Int16:
		return -32768, 32767
	}
	return 0, 0
}

// requant makes the tensor t's value from x: a fake_quant with t's quantization (or, with
// FloatActivations, a clip to its range) when t is a quantized 8- or 16-bit tensor, else x.
// The result carries t's name.
func (im *tfImporter) requant(name string, x *tval, t *tflite.Tensor) (*tval, error) {
	q := t.Quantization
	lo, hi := qrange(t.Type)
	if q == nil || len(q.Scale) != 1 || lo == hi {
		if x.node == nn.InputName || im.names[name] {
			return x, nil
		}
		return im.rename(x, name)
	}
	s, z := float64(q.Scale[0]), float64(zero(q))
	if im.o.FloatActivations {
		return im.emit(name, "clip", map[string]any{"min": s * (lo - z), "max": s * (hi - z)}, x)
	}
	return im.emit(name, "fake_quant", map[string]any{"scale": s, "zero_point": int(z), "qmin": int(lo), "qmax": int(hi)}, x)
}

// rename gives the last layer the tensor's name (when nothing else took it).
func (im *tfImporter) rename(x *tval, name string) (*tval, error) {
	n := im.g.Node(x.node)
	if n == nil || n != im.g.Nodes[len(im.g.Nodes)-1] {
		return x, nil
	}
	delete(im.names, x.node)
	newName := im.layerName(name)
	n.Name = newName
	for i := range im.weights {
		if im.weights[i].node == x.node {
			im.weights[i].node = newName
		}
	}
	return &tval{node: newName, shape: x.shape}, nil
}

// finish applies the fused activation to x and requantizes into the operator's output tensor,
// which it records.
func (im *tfImporter) finish(op *tflite.Operator, x *tval, act tflite.Activation) error {
	t := im.outTensor(op)
	var err error
	switch act {
	case tflite.ActNone:
	case tflite.ActRelu:
		x, err = im.emit(short(t.Name)+".act", "relu", nil, x)
	case tflite.ActRelu6:
		x, err = im.emit(short(t.Name)+".act", "clip", map[string]any{"min": 0, "max": 6}, x)
	case tflite.ActReluN1To1:
		x, err = im.emit(short(t.Name)+".act", "clip", map[string]any{"min": -1, "max": 1}, x)
	case tflite.ActTanh:
		x, err = im.emit(short(t.Name)+".act", "tanh", nil, x)
	default:
		return im.unsupported(fmt.Sprintf("fused activation %s (supported: NONE, RELU, RELU6, RELU_N1_TO_1, TANH)", act))
	}
	if err != nil {
		return err
	}
	if x, err = im.requant(short(t.Name), x, t); err != nil {
		return err
	}
	if err := im.checkShape(t, x); err != nil {
		return err
	}
	im.vals[op.Outputs[0]] = x
	return nil
}

// nchw is a TFLite shape in ventral's per-sample layout.
func nchw(s []int32) []int {
	if len(s) == 0 {
		return nil
	}
	out := make([]int, 0, len(s)-1)
	for _, d := range s[1:] {
		out = append(out, int(d))
	}
	if len(out) == 3 {
		out = []int{out[2], out[0], out[1]}
	}
	return out
}

func (im *tfImporter) checkShape(t *tflite.Tensor, x *tval) error {
	want := nchw(t.Shape)
	if len(want) == 0 || len(t.Shape) > 0 && t.Shape[0] != 1 && t.Shape[0] != -1 {
		return nil
	}
	if fmt.Sprint(want) != fmt.Sprint(x.shape) && len(im.o.Input) == 0 {
		return im.errorf("computed shape %v, the file says %v (NHWC %v)", x.shape, want, t.Shape)
	}
	return nil
}

// samePads is TF's SAME padding along one axis: [before, after].
func tfSamePads(in, k, s, d int) [2]int {
	out := (in + s - 1) / s
	total := max((out-1)*s+(k-1)*d+1-in, 0)
	return [2]int{total / 2, total - total/2}
}

func tfConv(im *tfImporter, op *tflite.Operator) error {
	x, err := im.in(op, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 {
		return im.unsupported(fmt.Sprintf("convolution of a per-sample shape %v (expected an image)", x.shape))
	}
	wt, w, err := im.constant(op, 1, "filter")
	if err != nil {
		return err
	}
	if len(wt.Shape) != 4 {
		return im.errorf("filter %q has shape %v (expected 4 dimensions)", wt.Name, wt.Shape)
	}
	o := op.Options
	dw := im.m.Op(op) == tflite.OpDepthwiseConv2D
	kh, kw := int(wt.Shape[1]), int(wt.Shape[2])
	cin := x.shape[0]
	var out, groups int
	var oihw []float32
	if dw {
		// filter [1 KH KW C*M]; output channel c*M+m reads input channel c.
		out, groups = int(wt.Shape[3]), cin
		if out%cin != 0 {
			return im.errorf("depthwise filter %v for %d input channels", wt.Shape, cin)
		}
		oihw = hwioToOIHW(w, kh, kw, 1, out)
	} else {
		// filter [O KH KW I] (OHWI).
		out, groups = int(wt.Shape[0]), 1
		if int(wt.Shape[3]) != cin {
			return im.errorf("filter %v for %d input channels", wt.Shape, cin)
		}
		oihw = make([]float32, len(w))
		for oc := 0; oc < out; oc++ {
			for y := 0; y < kh; y++ {
				for xx := 0; xx < kw; xx++ {
					for i := 0; i < cin; i++ {
						oihw[((oc*cin+i)*kh+y)*kw+xx] = w[((oc*kh+y)*kw+xx)*cin+i]
					}
				}
			}
		}
	}
	bias := make([]float32, out)
	if bt := im.tensor(op, 2); bt != nil {
		if _, bias, err = im.bias(op, out); err != nil {
			return err
		}
	}
	s := []int{int(max(o.StrideH, 1)), int(max(o.StrideW, 1))}
	d := []int{int(max(o.DilationH, 1)), int(max(o.DilationW, 1))}
	name := short(im.outTensor(op).Name)
	p := [4]int{}
	if o.Padding == tflite.PaddingSame {
		ph, pw := tfSamePads(x.shape[1], kh, s[0], d[0]), tfSamePads(x.shape[2], kw, s[1], d[1])
		p = [4]int{ph[0], ph[1], pw[0], pw[1]}
	}
	if p[0] != p[1] || p[2] != p[3] {
		if x, err = im.emit(name+".pad", "pad2d", map[string]any{"pads": p[:]}, x); err != nil {
			return err
		}
		p = [4]int{}
	}
	v, err := im.emit(name+".conv", "conv2d", map[string]any{"out": out, "kernel": []int{kh, kw}, "stride": s,
		"pad": []int{p[0], p[2]}, "dilation": d, "groups": groups}, x)
	if err != nil {
		return err
	}
	im.param(v, "weight", oihw)
	im.param(v, "bias", bias)
	return im.finish(op, v, o.Activation)
}

// bias reads input 2 (int32 with scale input_scale*filter_scale[c], or float).
func (im *tfImporter) bias(op *tflite.Operator, n int) (*tflite.Tensor, []float32, error) {
	bt, b, err := im.constant(op, 2, "bias")
	if err != nil {
		return nil, nil, err
	}
	if len(b) != n {
		return nil, nil, im.errorf("bias %q holds %d values for %d outputs", bt.Name, len(b), n)
	}
	if bt.Type == tflite.Int32 && (bt.Quantization == nil || len(bt.Quantization.Scale) == 0) {
		// Without its own scale the bias is in units of input_scale*filter_scale[c].
		xt, wt := im.tensor(op, 0), im.tensor(op, 1)
		if xt.Quantization == nil || wt.Quantization == nil || len(xt.Quantization.Scale) != 1 {
			return nil, nil, im.errorf("int32 bias %q without quantization on an unquantized operator", bt.Name)
		}
		ws := wt.Quantization.Scale
		for c := range b {
			b[c] *= xt.Quantization.Scale[0] * ws[min(c, len(ws)-1)]
		}
	}
	return bt, b, nil
}

func tfFullyConnected(im *tfImporter, op *tflite.Operator) error {
	x, err := im.in(op, 0)
	if err != nil {
		return err
	}
	wt, w, err := im.constant(op, 1, "weights")
	if err != nil {
		return err
	}
	if len(wt.Shape) != 2 {
		return im.errorf("weights %q have shape %v (expected [out in])", wt.Name, wt.Shape)
	}
	out, nin := int(wt.Shape[0]), int(wt.Shape[1])
	name := short(im.outTensor(op).Name)
	if numel(x.shape) != nin {
		return im.unsupported(fmt.Sprintf("FULLY_CONNECTED over an input of %v (%d values) with %d weights per output (batched rows)", x.shape, numel(x.shape), nin))
	}
	if len(x.shape) != 1 {
		if x, err = im.toVector(name, x); err != nil {
			return err
		}
	}
	bias := make([]float32, out)
	if im.tensor(op, 2) != nil {
		if _, bias, err = im.bias(op, out); err != nil {
			return err
		}
	}
	v, err := im.emit(name+".fc", "dense", map[string]any{"out": out}, x)
	if err != nil {
		return err
	}
	im.param(v, "weight", w)
	im.param(v, "bias", bias)
	return im.finish(op, v, op.Options.Activation)
}

// toVector flattens x in TFLite's (NHWC) element order.
func (im *tfImporter) toVector(name string, x *tval) (*tval, error) {
	var err error
	if len(x.shape) == 3 && x.shape[0] > 1 && x.shape[1]*x.shape[2] > 1 {
		if x, err = im.emit(name+".nhwc", "transpose", map[string]any{"perm": []int{1, 2, 0}}, x); err != nil {
			return nil, err
		}
	}
	return im.emit(name+".flatten", "flatten", nil, x)
}

// operand is input i as a computed value, or a constant node in ventral's layout.
func (im *tfImporter) operand(op *tflite.Operator, i int, rank int) (*tval, error) {
	t := im.tensor(op, i)
	if t == nil {
		return nil, im.errorf("input %d is missing", i)
	}
	if v := im.vals[op.Inputs[i]]; v != nil {
		return v, nil
	}
	_, c, err := im.constant(op, i, "operand")
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(t.Shape))
	for k, d := range t.Shape {
		shape[k] = int(d)
	}
	// Drop a leading batch axis of 1 from a full-rank constant.
	if len(shape) == rank+1 && shape[0] == 1 {
		shape = shape[1:]
	}
	if rank == 3 {
		switch len(shape) {
		case 0:
			shape = []int{1}
		case 1: // per channel (NHWC's last axis)
			shape = []int{shape[0], 1, 1}
		case 3: // [H W C] -> [C H W]
			hw, ch := shape[0]*shape[1], shape[2]
			t := make([]float32, len(c))
			for p := 0; p < hw; p++ {
				for k := 0; k < ch; k++ {
					t[k*hw+p] = c[p*ch+k]
				}
			}
			c, shape = t, []int{shape[2], shape[0], shape[1]}
		default:
			return nil, im.unsupported(fmt.Sprintf("a constant operand of shape %v against an image", t.Shape))
		}
	}
	if len(shape) == 0 {
		shape = []int{1}
	}
	v, err := im.emit(short(t.Name)+".const", "constant", map[string]any{"shape": shape}, &tval{node: nn.InputName, shape: im.g.InputShape})
	if err != nil {
		return nil, err
	}
	im.param(v, "value", c)
	return v, nil
}

func tfBinary(im *tfImporter, op *tflite.Operator) error {
	if len(op.Inputs) != 2 {
		return im.errorf("%d inputs (expected 2)", len(op.Inputs))
	}
	rank := 0
	for i := 0; i < 2; i++ {
		if v := im.vals[op.Inputs[i]]; v != nil {
			rank = max(rank, len(v.shape))
		}
	}
	if rank == 0 {
		return im.unsupported("an operation on two constants")
	}
	a, err := im.operand(op, 0, rank)
	if err != nil {
		return err
	}
	b, err := im.operand(op, 1, rank)
	if err != nil {
		return err
	}
	typ, suffix := "add", ".add"
	if im.m.Op(op) == tflite.OpMul {
		typ, suffix = "mul", ".mul"
	}
	v, err := im.emit(short(im.outTensor(op).Name)+suffix, typ, nil, a, b)
	if err != nil {
		return err
	}
	return im.finish(op, v, op.Options.Activation)
}

func tfPool(im *tfImporter, op *tflite.Operator) error {
	x, err := im.in(op, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 {
		return im.unsupported(fmt.Sprintf("pooling of a per-sample shape %v", x.shape))
	}
	o := op.Options
	k := []int{int(o.FilterH), int(o.FilterW)}
	s := []int{int(max(o.StrideH, 1)), int(max(o.StrideW, 1))}
	if k[0] < 1 || k[1] < 1 {
		return im.errorf("filter %dx%d", k[0], k[1])
	}
	cfg := map[string]any{"kernel": k, "stride": s}
	if o.Padding == tflite.PaddingSame {
		ph, pw := tfSamePads(x.shape[1], k[0], s[0], 1), tfSamePads(x.shape[2], k[1], s[1], 1)
		if p := []int{ph[0], ph[1], pw[0], pw[1]}; p[0]+p[1]+p[2]+p[3] > 0 {
			cfg["pads"] = p
		}
	}
	typ := "maxpool2d"
	if im.m.Op(op) == tflite.OpAveragePool2D {
		typ = "avgpool2d"
		// TF's SAME average divides by the number of input pixels under the window.
		if cfg["pads"] != nil {
			cfg["exclude_pad"] = true
		}
	}
	v, err := im.emit(short(im.outTensor(op).Name)+".pool", typ, cfg, x)
	if err != nil {
		return err
	}
	return im.finish(op, v, o.Activation)
}

func tfMean(im *tfImporter, op *tflite.Operator) error {
	x, err := im.in(op, 0)
	if err != nil {
		return err
	}
	axes, err := im.ints(op, 1, "MEAN axes")
	if err != nil {
		return err
	}
	sort.Ints(axes)
	if len(x.shape) != 3 || fmt.Sprint(axes) != "[1 2]" {
		return im.unsupported(fmt.Sprintf("MEAN over axes %v of a per-sample shape %v (only the spatial mean of an image, axes [1 2])", axes, x.shape))
	}
	name := short(im.outTensor(op).Name)
	v, err := im.emit(name+".mean", "global_avgpool", nil, x)
	if err != nil {
		return err
	}
	if op.Options.KeepDims {
		if v, err = im.emit(name+".keep", "reshape", map[string]any{"shape": []int{v.shape[0], 1, 1}}, v); err != nil {
			return err
		}
	}
	return im.finish(op, v, tflite.ActNone)
}

// tfReshape reshapes in NHWC element order: a map with several pixels and channels goes to HWC
// order first, and a rank-4 target comes back to CHW.
func tfReshape(im *tfImporter, op *tflite.Operator) error {
	x, err := im.in(op, 0)
	if err != nil {
		return err
	}
	t := im.outTensor(op)
	if len(t.Shape) == 0 || t.Shape[0] != 1 && t.Shape[0] != -1 {
		return im.unsupported(fmt.Sprintf("a reshape to %v (the batch axis must stay first)", t.Shape))
	}
	target := make([]int, 0, len(t.Shape)-1)
	for _, d := range t.Shape[1:] {
		target = append(target, int(d))
	}
	if numel(target) != numel(x.shape) {
		return im.errorf("reshape of %v (%d values) to %v", x.shape, numel(x.shape), t.Shape)
	}
	name := short(t.Name)
	mixed := func(s []int) bool { return len(s) == 3 && s[0] > 1 && s[1]*s[2] > 1 }
	if mixed(x.shape) {
		if x, err = im.emit(name+".nhwc", "transpose", map[string]any{"perm": []int{1, 2, 0}}, x); err != nil {
			return err
		}
	}
	if len(target) == 3 {
		hwc := target
		if fmt.Sprint(x.shape) != fmt.Sprint(hwc) || mixed(target) {
			if x, err = im.emit(name+".r", "reshape", map[string]any{"shape": hwc}, x); err != nil {
				return err
			}
		}
		if mixed(target) {
			if x, err = im.emit(name+".nchw", "transpose", map[string]any{"perm": []int{2, 0, 1}}, x); err != nil {
				return err
			}
		} else if fmt.Sprint(x.shape) != fmt.Sprint([]int{target[2], target[0], target[1]}) {
			if x, err = im.emit(name+".r2", "reshape", map[string]any{"shape": []int{target[2], target[0], target[1]}}, x); err != nil {
				return err
			}
		}
	} else if fmt.Sprint(x.shape) != fmt.Sprint(target) {
		if len(target) == 1 {
			x, err = im.emit(name+".flatten", "flatten", nil, x)
		} else {
			x, err = im.emit(name+".r", "reshape", map[string]any{"shape": target}, x)
		}
		if err != nil {
			return err
		}
	}
	return im.finishAlias(op, x)
}

// finishAlias records x as the output of a layout-only operator (requantizing only when the
// output's quantization differs from the input's).
func (im *tfImporter) finishAlias(op *tflite.Operator, x *tval) error {
	in, out := im.tensor(op, 0), im.outTensor(op)
	if sameQuant(in, out) {
		if x.node != nn.InputName && im.vals[op.Inputs[0]] != x {
			var err error
			if x, err = im.rename(x, short(out.Name)); err != nil {
				return err
			}
		}
		if err := im.checkShape(out, x); err != nil {
			return err
		}
		im.vals[op.Outputs[0]] = x
		return nil
	}
	return im.finish(op, x, tflite.ActNone)
}

func sameQuant(a, b *tflite.Tensor) bool {
	if a.Type != b.Type {
		return false
	}
	qa, qb := a.Quantization, b.Quantization
	if qa == nil || qb == nil || len(qa.Scale) != 1 || len(qb.Scale) != 1 {
		return qa == nil && qb == nil
	}
	return qa.Scale[0] == qb.Scale[0] && zero(qa) == zero(qb)
}

func tfSoftmax(im *tfImporter, op *tflite.Operator) error {
	x, err := im.in(op, 0)
	if err != nil {
		return err
	}
	if b := op.Options.Beta; b != 1 && b != 0 {
		return im.unsupported(fmt.Sprintf("SOFTMAX with beta %g (only 1)", b))
	}
	axis := len(x.shape) - 1
	if len(x.shape) == 3 {
		axis = 0
	}
	cfg := map[string]any{}
	if axis != 0 {
		cfg["axis"] = axis
	}
	v, err := im.emit(short(im.outTensor(op).Name)+".softmax", "softmax", cfg, x)
	if err != nil {
		return err
	}
	return im.finish(op, v, tflite.ActNone)
}

func tfConcat(im *tfImporter, op *tflite.Operator) error {
	var ins []*tval
	for i := range op.Inputs {
		x, err := im.in(op, i)
		if err != nil {
			return err
		}
		ins = append(ins, x)
	}
	rank := len(im.outTensor(op).Shape)
	axis := int(op.Options.Axis)
	if axis < 0 {
		axis += rank
	}
	if axis <= 0 || axis >= rank {
		return im.unsupported(fmt.Sprintf("CONCATENATION along axis %d of rank %d (not the batch axis)", op.Options.Axis, rank))
	}
	a := axis - 1
	if rank == 4 {
		a = []int{1, 2, 0}[axis-1]
	}
	cfg := map[string]any{}
	if a != 0 {
		cfg["axis"] = a
	}
	v, err := im.emit(short(im.outTensor(op).Name)+".concat", "concat", cfg, ins...)
	if err != nil {
		return err
	}
	return im.finish(op, v, op.Options.Activation)
}

func tfPad(im *tfImporter, op *tflite.Operator) error {
	x, err := im.in(op, 0)
	if err != nil {
		return err
	}
	p, err := im.ints(op, 1, "PAD paddings")
	if err != nil {
		return err
	}
	if len(x.shape) != 3 || len(p) != 8 || p[0] != 0 || p[1] != 0 || p[6] != 0 || p[7] != 0 {
		return im.unsupported(fmt.Sprintf("PAD %v of a per-sample shape %v (only the height and width of an image)", p, x.shape))
	}
	// Quantized PAD fills with the zero point, which is 0.
	v, err := im.emit(short(im.outTensor(op).Name)+".pad", "pad2d", map[string]any{"pads": []int{p[2], p[3], p[4], p[5]}}, x)
	if err != nil {
		return err
	}
	return im.finishAlias(op, v)
}

func tfQuantize(im *tfImporter, op *tflite.Operator) error {
	x, err := im.in(op, 0)
	if err != nil {
		return err
	}
	if im.m.Op(op) == tflite.OpDequantize {
		if err := im.checkShape(im.outTensor(op), x); err != nil {
			return err
		}
		im.vals[op.Outputs[0]] = x
		return nil
	}
	return im.finish(op, x, tflite.ActNone)
}

func tfAct(im *tfImporter, op *tflite.Operator) error {
	x, err := im.in(op, 0)
	if err != nil {
		return err
	}
	name := short(im.outTensor(op).Name) + ".act"
	var v *tval
	switch im.m.Op(op) {
	case tflite.OpRelu:
		v, err = im.emit(name, "relu", nil, x)
	case tflite.OpRelu6:
		v, err = im.emit(name, "clip", map[string]any{"min": 0, "max": 6}, x)
	case tflite.OpLogistic:
		v, err = im.emit(name, "sigmoid", nil, x)
	case tflite.OpTanh:
		v, err = im.emit(name, "tanh", nil, x)
	}
	if err != nil {
		return err
	}
	return im.finish(op, v, tflite.ActNone)
}

// short is the layer name of a TFLite tensor: converters name a fused operator's output by
// joining the names of the TensorFlow ops folded into it with ';'
// ("MobilenetV1/MobilenetV1/Conv2d_0/Relu6;MobilenetV1/.../add_fold;..."), and the first one
// is the op whose output the tensor is. Model.ValueLayers maps the full names.
func short(name string) string {
	if i := strings.IndexByte(name, ';'); i > 0 {
		return name[:i]
	}
	return name
}
