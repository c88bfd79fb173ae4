package imports

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/ventral-lab/ventral/formats/tflite"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// tfBuilder assembles a small TFLite model for the operator tests.
type tfBuilder struct {
	m   *tflite.Model
	rng *rand.Rand
}

func newTFBuilder() *tfBuilder {
	return &tfBuilder{m: &tflite.Model{Version: 3, Subgraphs: []tflite.SubGraph{{Name: "main"}}, Buffers: [][]byte{nil}},
		rng: rand.New(rand.NewPCG(7, 8))}
}

func (b *tfBuilder) tensor(name string, shape []int32, typ tflite.TensorType, data []byte, q *tflite.Quantization) int32 {
	g := &b.m.Subgraphs[0]
	buf := uint32(0)
	if data != nil {
		b.m.Buffers = append(b.m.Buffers, data)
		buf = uint32(len(b.m.Buffers) - 1)
	}
	g.Tensors = append(g.Tensors, tflite.Tensor{Name: name, Shape: shape, Type: typ, Buffer: buf, Quantization: q})
	return int32(len(g.Tensors) - 1)
}

func f32bytes(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(x))
	}
	return out
}

func i32bytes(v []int32) []byte {
	out := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(out[4*i:], uint32(x))
	}
	return out
}

// weights is a random float32 constant.
func (b *tfBuilder) weights(name string, shape ...int32) int32 {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(b.rng.NormFloat64() * 0.5)
	}
	return b.tensor(name, shape, tflite.Float32, f32bytes(v), nil)
}

func (b *tfBuilder) op(code tflite.BuiltinOperator, optType uint8, o tflite.Options, ins []int32, out int32) int32 {
	idx := -1
	for i, c := range b.m.OperatorCodes {
		if c.Code() == code {
			idx = i
		}
	}
	if idx < 0 {
		b.m.OperatorCodes = append(b.m.OperatorCodes, tflite.OperatorCode{DeprecatedBuiltinCode: int8(min(code, 127)), BuiltinCode: code, Version: 1})
		idx = len(b.m.OperatorCodes) - 1
	}
	if o.DilationH == 0 {
		o.DilationH, o.DilationW = 1, 1
	}
	g := &b.m.Subgraphs[0]
	g.Operators = append(g.Operators, tflite.Operator{OpcodeIndex: uint32(idx), Inputs: ins, Outputs: []int32{out}, OptionsType: optType, Options: o})
	return out
}

// opsModel is a float32 network with every supported operator kind: strided VALID and SAME
// convolutions, a depthwise convolution with depth multiplier 2, asymmetric PAD, SAME max and
// average pooling, MUL by a per-channel constant, ADD with a fused ReLU, channel CONCATENATION,
// a RESHAPE that flattens a map with several pixels and channels (NHWC order), FULLY_CONNECTED,
// MEAN, TANH, LOGISTIC, a rank-2 CONCATENATION, SOFTMAX and DEQUANTIZE. act makes every activation tensor uint8 with the
// given per-tensor quantization (name -> scale, zero point), and then the weights int8 per
// channel and biases int32, as a quantized converter writes them.
func opsModel(quant map[string][2]float64) *tflite.Model {
	b := newTFBuilder()
	f := tflite.Float32
	act := func(name string, shape ...int32) int32 {
		if q, ok := quant[name]; ok {
			return b.tensor(name, shape, tflite.Uint8, nil, &tflite.Quantization{Scale: []float32{float32(q[0])}, ZeroPoint: []int64{int64(q[1])}})
		}
		return b.tensor(name, shape, f, nil, nil)
	}
	x := act("image", 1, 9, 9, 3)
	g := &b.m.Subgraphs[0]
	g.Inputs = []int32{x}
	conv := func(name string, in int32, w int32, bias int32, o tflite.Options, code tflite.BuiltinOperator, opt uint8, shape ...int32) int32 {
		if _, ok := quant[name]; ok {
			w, bias = b.quantizeFilter(in, w, bias, code == tflite.OpDepthwiseConv2D)
		}
		return b.op(code, opt, o, []int32{in, w, bias}, act(name, shape...))
	}
	c1 := conv("conv1", x, b.weights("w1", 4, 3, 3, 3), b.weights("b1", 4),
		tflite.Options{Padding: tflite.PaddingValid, StrideH: 2, StrideW: 2, Activation: tflite.ActRelu}, tflite.OpConv2D, tflite.OptConv2D, 1, 4, 4, 4)
	c2 := conv("dw", c1, b.weights("w2", 1, 3, 3, 8), b.weights("b2", 8),
		tflite.Options{Padding: tflite.PaddingSame, StrideH: 1, StrideW: 1, DepthMultiplier: 2, Activation: tflite.ActRelu6}, tflite.OpDepthwiseConv2D, tflite.OptDepthwiseConv2D, 1, 4, 4, 8)
	c3 := conv("conv2", c2, b.weights("w3", 8, 2, 2, 8), b.weights("b3", 8),
		tflite.Options{Padding: tflite.PaddingSame, StrideH: 1, StrideW: 1}, tflite.OpConv2D, tflite.OptConv2D, 1, 4, 4, 8)
	pads := b.tensor("pads", []int32{4, 2}, tflite.Int32, i32bytes([]int32{0, 0, 1, 0, 0, 1, 0, 0}), nil)
	p := b.op(tflite.OpPad, tflite.OptPad, tflite.Options{}, []int32{c3, pads}, act("pad", 1, 5, 5, 8))
	mp := b.op(tflite.OpMaxPool2D, tflite.OptPool2D, tflite.Options{Padding: tflite.PaddingSame, StrideH: 2, StrideW: 2, FilterH: 2, FilterW: 2}, []int32{p}, act("maxpool", 1, 3, 3, 8))
	ap := b.op(tflite.OpAveragePool2D, tflite.OptPool2D, tflite.Options{Padding: tflite.PaddingSame, StrideH: 1, StrideW: 1, FilterH: 3, FilterW: 3}, []int32{mp}, act("avgpool", 1, 3, 3, 8))
	mul := b.op(tflite.OpMul, tflite.OptMul, tflite.Options{}, []int32{ap, b.weights("gain", 8)}, act("mul", 1, 3, 3, 8))
	add := b.op(tflite.OpAdd, tflite.OptAdd, tflite.Options{Activation: tflite.ActRelu}, []int32{mul, mp}, act("add", 1, 3, 3, 8))
	cat := b.op(tflite.OpConcatenation, tflite.OptConcatenation, tflite.Options{Axis: 3}, []int32{add, mp}, act("concat", 1, 3, 3, 16))
	shape := b.tensor("shape", []int32{2}, tflite.Int32, i32bytes([]int32{1, 144}), nil)
	flat := b.op(tflite.OpReshape, tflite.OptReshape, tflite.Options{NewShape: []int32{1, 144}}, []int32{cat, shape}, act("flat", 1, 144))
	fc := b.op(tflite.OpFullyConnected, tflite.OptFullyConnected, tflite.Options{}, []int32{flat, b.weights("wfc", 10, 144), b.weights("bfc", 10)}, act("fc", 1, 10))
	axes := b.tensor("axes", []int32{2}, tflite.Int32, i32bytes([]int32{1, 2}), nil)
	mean := b.op(tflite.OpMean, tflite.OptReducer, tflite.Options{KeepDims: true}, []int32{cat, axes}, act("mean", 1, 1, 1, 16))
	shape2 := b.tensor("shape2", []int32{2}, tflite.Int32, i32bytes([]int32{1, 16}), nil)
	m2 := b.op(tflite.OpReshape, tflite.OptReshape, tflite.Options{}, []int32{mean, shape2}, act("mean_flat", 1, 16))
	th := b.op(tflite.OpTanh, 0, tflite.Options{}, []int32{fc}, act("fc_tanh", 1, 10))
	sg := b.op(tflite.OpLogistic, 0, tflite.Options{}, []int32{m2}, act("mean_sigmoid", 1, 16))
	cat2 := b.op(tflite.OpConcatenation, tflite.OptConcatenation, tflite.Options{Axis: -1}, []int32{th, sg}, act("logits", 1, 26))
	prob := b.op(tflite.OpSoftmax, tflite.OptSoftmax, tflite.Options{Beta: 1}, []int32{cat2}, act("prob", 1, 26))
	out := b.op(tflite.OpDequantize, 0, tflite.Options{}, []int32{prob}, b.tensor("prob_float", []int32{1, 26}, f, nil, nil))
	g.Outputs = []int32{out}
	return b.m
}

// quantizeFilter replaces a float filter and bias with int8 per-output-channel weights and an
// int32 bias in units of input_scale*filter_scale (the input must be quantized).
func (b *tfBuilder) quantizeFilter(in, w, bias int32, depthwise bool) (int32, int32) {
	g := &b.m.Subgraphs[0]
	wt, bt := g.Tensors[w], g.Tensors[bias]
	wv, _ := b.m.Float32s(&wt)
	bv, _ := b.m.Float32s(&bt)
	xs := float64(g.Tensors[in].Quantization.Scale[0])
	dim, n := 0, int(wt.Shape[0])
	if depthwise {
		dim, n = 3, int(wt.Shape[3])
	}
	scales := make([]float32, n)
	absmax := make([]float64, n)
	ch := func(i int) int {
		if depthwise {
			return i % n
		}
		return i / (len(wv) / n)
	}
	for i, v := range wv {
		absmax[ch(i)] = math.Max(absmax[ch(i)], math.Abs(float64(v)))
	}
	for c := range scales {
		scales[c] = float32(absmax[c] / 127)
	}
	q := make([]byte, len(wv))
	for i, v := range wv {
		q[i] = byte(int8(math.RoundToEven(float64(v) / float64(scales[ch(i)]))))
	}
	bq := make([]int32, n)
	for c := range bq {
		bq[c] = int32(math.RoundToEven(float64(bv[c]) / (xs * float64(scales[c]))))
	}
	zeros := make([]int64, n)
	nw := b.tensor(wt.Name+"_q", wt.Shape, tflite.Int8, q, &tflite.Quantization{Scale: scales, ZeroPoint: zeros, QuantizedDimension: int32(dim)})
	nb := b.tensor(bt.Name+"_q", bt.Shape, tflite.Int32, i32bytes(bq), nil)
	return nw, nb
}

func writeTFLite(t *testing.T, m *tflite.Model, name string) string {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, tflite.Encode(m), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTFLiteOperators imports opsModel and compares every operator's output with the numpy
// reference on random images: the float network through the whole chain within 1e-4 of
// max|ref|; the quantized one (uint8 activations with scales from the float run, int8
// per-channel filters, int32 biases) operator by operator, exact but at rounding ties.
func TestTFLiteOperators(t *testing.T) {
	path := writeTFLite(t, opsModel(nil), "ops.tflite")
	m, err := Load(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(3, 3, 9, 9)
	for i := range x.Data {
		x.Data[i] = float32(rng.Float64()*2 - 1)
	}
	tensors := opOutputs(t, path)
	got, want, _ := tfliteCompare(t, path, m, x, "float", tensors)
	ranges := map[string][2]float64{"image": {2.0 / 255, 128}}
	fm, err := tflite.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for k, ti := range tensors {
		e := relMax(got[k].Data, want[k].Data)
		name := fm.Subgraphs[0].Tensors[ti].Name
		if !(e <= 1e-4) {
			t.Errorf("float: %s %v: max|diff|/max|ref| = %.3g", name, want[k].Shape, e)
		}
		lo, hi := 0.0, 0.0
		for _, v := range want[k].Data {
			lo, hi = math.Min(lo, float64(v)), math.Max(hi, float64(v))
		}
		s := (hi - lo) / 255 * 1.1
		ranges[name] = [2]float64{s, math.Round(-lo * 1.05 / s)}
	}
	// The same network, quantized.
	qpath := writeTFLite(t, opsModel(ranges), "ops_q.tflite")
	qm, err := Load(qpath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Data {
		x.Data[i] = float32(math.Round(float64(x.Data[i])*127.5) / 127.5)
	}
	qt := opOutputs(t, qpath)
	got, want, tie := tfliteCompare(t, qpath, qm, x, "forced", qt)
	ties, n := checkForced(t, "quantized operators", qt, got, want, tie)
	t.Logf("quantized: %d of %d values differ at rounding ties", ties, n)
	// One fake_quant for the input and for every operator but DEQUANTIZE and the layout-only
	// ones (PAD, RESHAPE) whose output keeps its input's quantization.
	fake := 0
	for _, nd := range qm.Graph.Nodes {
		if nd.Op.Type() == "fake_quant" {
			fake++
		}
	}
	qf, err := tflite.Read(qpath)
	if err != nil {
		t.Fatal(err)
	}
	g := qf.Subgraphs[0]
	wantFQ := 1
	for _, o := range g.Operators {
		c := qf.Op(&o)
		if (c == tflite.OpPad || c == tflite.OpReshape) && sameQuant(&g.Tensors[o.Inputs[0]], &g.Tensors[o.Outputs[0]]) || c == tflite.OpDequantize {
			continue
		}
		wantFQ++
	}
	if fake != wantFQ {
		t.Errorf("%d fake_quant layers, want %d", fake, wantFQ)
	}
	// FloatActivations keeps the network but clips instead of rounding.
	fl, err := Load(qpath, Options{FloatActivations: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, nd := range fl.Graph.Nodes {
		if nd.Op.Type() == "fake_quant" {
			t.Fatalf("layer %s: fake_quant with float activations", nd.Name)
		}
	}
	a, err := qm.Graph.Forward(nn.NewCtx(false, 0), x)
	if err != nil {
		t.Fatal(err)
	}
	b, err := fl.Graph.Forward(nn.NewCtx(false, 0), x)
	if err != nil {
		t.Fatal(err)
	}
	if e := relMax(a.Output().Data, b.Output().Data); e == 0 || e > 0.2 {
		t.Errorf("integer simulation vs float activations: max|diff|/max = %.3g", e)
	}
}
