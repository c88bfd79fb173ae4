// Package tflite reads TensorFlow Lite model files (flatbuffers, file identifier "TFL3") into
// plain Go values: the operator codes, the subgraphs with their tensors (shape, type, buffer,
// quantization) and operators (inputs, outputs, builtin options of the convolution, pooling,
// elementwise, reshape, softmax, concatenation and reduction operators), and the buffers.
//
// The table accessors are written here against the field indices of TensorFlow's schema.fbs,
// over the flatbuffers runtime library, instead of generated code: the importer needs a few
// dozen fields of a schema of several thousand lines, and owning the accessors lets every
// offset be checked before it is read. Flatbuffers readers index the byte slice directly and
// panic on a bad offset; Decode checks vector lengths against the file size before allocating
// and turns any remaining out-of-range read into an error naming the file.
package tflite

import (
	"errors"
	"fmt"
	"math"
	"os"

	flatbuffers "github.com/google/flatbuffers/go"
)

// TensorType is schema.fbs's TensorType.
type TensorType int8

// The tensor types the importer reads (schema.fbs numbering).
const (
	Float32 TensorType = 0
	Float16 TensorType = 1
	Int32   TensorType = 2
	Uint8   TensorType = 3
	Int64   TensorType = 4
	Int16   TensorType = 7
	Int8    TensorType = 9
)

var typeNames = map[TensorType]string{0: "FLOAT32", 1: "FLOAT16", 2: "INT32", 3: "UINT8", 4: "INT64",
	5: "STRING", 6: "BOOL", 7: "INT16", 8: "COMPLEX64", 9: "INT8", 10: "FLOAT64"}

func (t TensorType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("TensorType(%d)", int(t))
}

// Size is the size in bytes of one element (0 when unknown).
func (t TensorType) Size() int {
	switch t {
	case Uint8, Int8:
		return 1
	case Float16, Int16:
		return 2
	case Float32, Int32:
		return 4
	case Int64:
		return 8
	}
	return 0
}

// BuiltinOperator is schema.fbs's BuiltinOperator.
type BuiltinOperator int32

// The builtin operators the importer maps (schema.fbs numbering).
const (
	OpAdd             BuiltinOperator = 0
	OpAveragePool2D   BuiltinOperator = 1
	OpConcatenation   BuiltinOperator = 2
	OpConv2D          BuiltinOperator = 3
	OpDepthwiseConv2D BuiltinOperator = 4
	OpDequantize      BuiltinOperator = 6
	OpFullyConnected  BuiltinOperator = 9
	OpLogistic        BuiltinOperator = 14
	OpMaxPool2D       BuiltinOperator = 17
	OpMul             BuiltinOperator = 18
	OpRelu            BuiltinOperator = 19
	OpRelu6           BuiltinOperator = 21
	OpReshape         BuiltinOperator = 22
	OpSoftmax         BuiltinOperator = 25
	OpTanh            BuiltinOperator = 28
	OpCustom          BuiltinOperator = 32
	OpPad             BuiltinOperator = 34
	OpTranspose       BuiltinOperator = 39
	OpMean            BuiltinOperator = 40
	OpSub             BuiltinOperator = 41
	OpSqueeze         BuiltinOperator = 43
	OpQuantize        BuiltinOperator = 114
	OpHardSwish       BuiltinOperator = 117
)

var opNames = map[BuiltinOperator]string{0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D",
	4: "DEPTHWISE_CONV_2D", 5: "DEPTH_TO_SPACE", 6: "DEQUANTIZE", 7: "EMBEDDING_LOOKUP", 8: "FLOOR",
	9: "FULLY_CONNECTED", 11: "L2_NORMALIZATION", 12: "L2_POOL_2D", 13: "LOCAL_RESPONSE_NORMALIZATION",
	14: "LOGISTIC", 16: "LSTM", 17: "MAX_POOL_2D", 18: "MUL", 19: "RELU", 20: "RELU_N1_TO_1", 21: "RELU6",
	22: "RESHAPE", 23: "RESIZE_BILINEAR", 25: "SOFTMAX", 26: "SPACE_TO_DEPTH", 28: "TANH", 32: "CUSTOM",
	34: "PAD", 36: "GATHER", 39: "TRANSPOSE", 40: "MEAN", 41: "SUB", 42: "DIV", 43: "SQUEEZE",
	45: "STRIDED_SLICE", 49: "SPLIT", 53: "CAST", 54: "PRELU", 55: "MAXIMUM", 57: "ARG_MAX", 58: "MINIMUM",
	60: "PADV2", 74: "SUM", 77: "SHAPE", 83: "PACK", 97: "RESIZE_NEAREST_NEIGHBOR", 98: "LEAKY_RELU",
	114: "QUANTIZE", 117: "HARD_SWISH"}

func (o BuiltinOperator) String() string {
	if s, ok := opNames[o]; ok {
		return s
	}
	return fmt.Sprintf("BUILTIN_%d", int32(o))
}

// Padding is schema.fbs's Padding.
type Padding int8

const (
	PaddingSame  Padding = 0
	PaddingValid Padding = 1
)

// Activation is schema.fbs's ActivationFunctionType (a fused activation).
type Activation int8

const (
	ActNone      Activation = 0
	ActRelu      Activation = 1
	ActReluN1To1 Activation = 2
	ActRelu6     Activation = 3
	ActTanh      Activation = 4
	ActSignBit   Activation = 5
)

func (a Activation) String() string {
	switch a {
	case ActNone:
		return "NONE"
	case ActRelu:
		return "RELU"
	case ActReluN1To1:
		return "RELU_N1_TO_1"
	case ActRelu6:
		return "RELU6"
	case ActTanh:
		return "TANH"
	case ActSignBit:
		return "SIGN_BIT"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Model is a TFLite file.
type Model struct {
	Version       uint32
	Description   string
	OperatorCodes []OperatorCode
	Subgraphs     []SubGraph
	// Buffers holds each buffer's bytes (nil for an empty buffer); index 0 is the empty
	// sentinel buffer by convention.
	Buffers [][]byte
}

// OperatorCode names an operator: a builtin code (in one of two fields: schema version 3a
// moved codes above 127 out of the int8 deprecated_builtin_code) or a custom code.
type OperatorCode struct {
	DeprecatedBuiltinCode int8
	BuiltinCode           BuiltinOperator
	CustomCode            string
	Version               int32
}

// Code is the operator's builtin code: the larger of the two fields, as TFLite's own
// GetBuiltinCode reads it (old files leave builtin_code 0, new ones cap the deprecated field
// at 127, PLACEHOLDER_FOR_GREATER_OP_CODES).
func (c OperatorCode) Code() BuiltinOperator {
	return max(BuiltinOperator(c.DeprecatedBuiltinCode), c.BuiltinCode)
}

// SubGraph is one graph of the model (the first is the main one).
type SubGraph struct {
	Name      string
	Tensors   []Tensor
	Inputs    []int32
	Outputs   []int32
	Operators []Operator
}

// Tensor describes one tensor.
type Tensor struct {
	Name         string
	Shape        []int32
	Type         TensorType
	Buffer       uint32
	Quantization *Quantization // nil when the file has none
}

// Quantization is a tensor's affine quantization: real = scale * (q - zero_point), per tensor
// (one scale) or per channel along QuantizedDimension.
type Quantization struct {
	Min, Max           []float32
	Scale              []float32
	ZeroPoint          []int64
	QuantizedDimension int32
}

// Operator is one node of a subgraph.
type Operator struct {
	OpcodeIndex uint32
	Inputs      []int32 // tensor indices; -1 marks an omitted optional input
	Outputs     []int32
	// OptionsType is the union tag of builtin_options (schema.fbs's BuiltinOptions).
	OptionsType uint8
	Options     Options
}

// The builtin_options union tags whose tables Decode reads.
const (
	OptConv2D          = 1
	OptDepthwiseConv2D = 2
	OptPool2D          = 5
	OptFullyConnected  = 8
	OptSoftmax         = 9
	OptConcatenation   = 10
	OptAdd             = 11
	OptReshape         = 17
	OptMul             = 21
	OptPad             = 22
	OptReducer         = 27
	OptSub             = 28
)

// Options holds the fields of the builtin option tables Decode reads; each operator sets the
// ones its table has, the rest keep schema.fbs's defaults (dilations 1, beta 0).
type Options struct {
	Padding         Padding
	StrideW         int32
	StrideH         int32
	FilterW         int32
	FilterH         int32
	DilationW       int32
	DilationH       int32
	DepthMultiplier int32
	Activation      Activation
	Axis            int32   // ConcatenationOptions
	Beta            float32 // SoftmaxOptions
	KeepDims        bool    // ReducerOptions
	KeepNumDims     bool    // FullyConnectedOptions
	NewShape        []int32 // ReshapeOptions
}

// Read reads the TFLite file at path.
func Read(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(path, b)
}

// errBounds is what the recovered panics of out-of-range reads become.
var errBounds = errors.New("an offset or length points outside the file (truncated or corrupt)")

// Decode parses a TFLite flatbuffer; name names it in errors.
func Decode(name string, b []byte) (m *Model, err error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%s: %d bytes is too short for a TFLite flatbuffer", name, len(b))
	}
	if string(b[4:8]) != "TFL3" {
		return nil, fmt.Errorf("%s: file identifier %q, expected \"TFL3\" (not a TFLite model)", name, b[4:8])
	}
	if len(b) >= math.MaxInt32 {
		return nil, fmt.Errorf("%s: files of 2 GiB or more are not supported", name)
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("%s: %w (%v)", name, errBounds, r)
		}
	}()
	r := &reader{b: b}
	m, err = r.model()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return m, nil
}

// reader walks the flatbuffer with bounds checks.
type reader struct{ b []byte }

// table is a flatbuffer table at pos, its vtable checked.
type table struct {
	flatbuffers.Table
	nfields int
}

func (r *reader) check(pos, n uint64) error {
	if pos+n > uint64(len(r.b)) {
		return errBounds
	}
	return nil
}

func (r *reader) table(pos uint32) (*table, error) {
	if err := r.check(uint64(pos), 4); err != nil {
		return nil, err
	}
	t := &table{Table: flatbuffers.Table{Bytes: r.b, Pos: flatbuffers.UOffsetT(pos)}}
	vt := int64(pos) - int64(t.GetSOffsetT(flatbuffers.UOffsetT(pos)))
	if vt < 0 || r.check(uint64(vt), 4) != nil {
		return nil, errBounds
	}
	vlen := int64(t.GetVOffsetT(flatbuffers.UOffsetT(vt)))
	tlen := int64(t.GetVOffsetT(flatbuffers.UOffsetT(vt + 2)))
	if vlen < 4 || vlen%2 != 0 || r.check(uint64(vt), uint64(vlen)) != nil || r.check(uint64(pos), uint64(tlen)) != nil {
		return nil, errBounds
	}
	t.nfields = int(vlen-4) / 2
	// Each field's offset must lie inside the table's inline data.
	for i := 0; i < t.nfields; i++ {
		o := int64(t.GetVOffsetT(flatbuffers.UOffsetT(vt + 4 + 2*int64(i))))
		if o != 0 && (o < 4 || o >= tlen && tlen > 0 || r.check(uint64(pos)+uint64(o), 1) != nil) {
			return nil, errBounds
		}
	}
	return t, nil
}

// field is the absolute position of field i's inline value (0 when absent).
func (t *table) field(i int) uint32 {
	if i >= t.nfields {
		return 0
	}
	o := t.Offset(flatbuffers.VOffsetT(4 + 2*i))
	if o == 0 {
		return 0
	}
	return uint32(t.Pos) + uint32(o)
}

func (r *reader) u8(t *table, i int, def uint8) uint8 {
	if p := t.field(i); p != 0 {
		return r.b[p]
	}
	return def
}

func (r *reader) i32(t *table, i int, def int32) (int32, error) {
	p := t.field(i)
	if p == 0 {
		return def, nil
	}
	if err := r.check(uint64(p), 4); err != nil {
		return 0, err
	}
	return flatbuffers.GetInt32(r.b[p:]), nil
}

func (r *reader) f32(t *table, i int, def float32) (float32, error) {
	v, err := r.i32(t, i, int32(math.Float32bits(def)))
	return math.Float32frombits(uint32(v)), err
}

// ref follows the offset stored in field i (a table, vector or string); 0 when absent.
func (r *reader) ref(t *table, i int) (uint32, error) {
	p := t.field(i)
	if p == 0 {
		return 0, nil
	}
	if err := r.check(uint64(p), 4); err != nil {
		return 0, err
	}
	q := uint64(p) + uint64(flatbuffers.GetUint32(r.b[p:]))
	if q >= uint64(len(r.b)) {
		return 0, errBounds
	}
	return uint32(q), nil
}

// vector returns the start and length of the vector in field i, checked against the file for
// elements of elem bytes.
func (r *reader) vector(t *table, i int, elem uint64) (start uint32, n int, err error) {
	p, err := r.ref(t, i)
	if err != nil || p == 0 {
		return 0, 0, err
	}
	if err := r.check(uint64(p), 4); err != nil {
		return 0, 0, err
	}
	l := uint64(flatbuffers.GetUint32(r.b[p:]))
	if err := r.check(uint64(p)+4, l*elem); err != nil {
		return 0, 0, err
	}
	return p + 4, int(l), nil
}

func (r *reader) str(t *table, i int) (string, error) {
	s, n, err := r.vector(t, i, 1)
	if err != nil || n == 0 {
		return "", err
	}
	return string(r.b[s : s+uint32(n)]), nil
}

func (r *reader) bytes(t *table, i int) ([]byte, error) {
	s, n, err := r.vector(t, i, 1)
	if err != nil || n == 0 {
		return nil, err
	}
	return r.b[s : s+uint32(n)], nil
}

func (r *reader) ints(t *table, i int) ([]int32, error) {
	s, n, err := r.vector(t, i, 4)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int32, n)
	for k := range out {
		out[k] = flatbuffers.GetInt32(r.b[s+uint32(4*k):])
	}
	return out, nil
}

func (r *reader) floats(t *table, i int) ([]float32, error) {
	v, err := r.ints(t, i)
	out := make([]float32, len(v))
	for k := range v {
		out[k] = math.Float32frombits(uint32(v[k]))
	}
	return out, err
}

func (r *reader) longs(t *table, i int) ([]int64, error) {
	s, n, err := r.vector(t, i, 8)
	if err != nil || n == 0 {
		return nil, err
	}
	out := make([]int64, n)
	for k := range out {
		out[k] = flatbuffers.GetInt64(r.b[s+uint32(8*k):])
	}
	return out, nil
}

// tables reads the vector of tables in field i.
func (r *reader) tables(t *table, i int, what string, f func(k int, t *table) error) error {
	s, n, err := r.vector(t, i, 4)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	for k := 0; k < n; k++ {
		p := uint64(s) + uint64(4*k)
		q := p + uint64(flatbuffers.GetUint32(r.b[p:]))
		if q >= uint64(len(r.b)) {
			return fmt.Errorf("%s %d: %w", what, k, errBounds)
		}
		tt, err := r.table(uint32(q))
		if err != nil {
			return fmt.Errorf("%s %d: %w", what, k, err)
		}
		if err := f(k, tt); err != nil {
			return fmt.Errorf("%s %d: %w", what, k, err)
		}
	}
	return nil
}

// Model fields: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4.
func (r *reader) model() (*Model, error) {
	root := flatbuffers.GetUOffsetT(r.b)
	t, err := r.table(uint32(root))
	if err != nil {
		return nil, fmt.Errorf("root table: %w", err)
	}
	m := &Model{}
	v, err := r.i32(t, 0, 0)
	if err != nil {
		return nil, err
	}
	m.Version = uint32(v)
	if m.Description, err = r.str(t, 3); err != nil {
		return nil, fmt.Errorf("description: %w", err)
	}
	err = r.tables(t, 1, "operator code", func(k int, t *table) error {
		c, err := r.opcode(t)
		m.OperatorCodes = append(m.OperatorCodes, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = r.tables(t, 4, "buffer", func(k int, t *table) error {
		b, err := r.buffer(t)
		m.Buffers = append(m.Buffers, b)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = r.tables(t, 2, "subgraph", func(k int, t *table) error {
		g, err := r.subgraph(t)
		m.Subgraphs = append(m.Subgraphs, g)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, m.validate()
}

// OperatorCode fields: deprecated_builtin_code 0 (byte), custom_code 1, version 2 (default 1),
// builtin_code 3 (int).
func (r *reader) opcode(t *table) (OperatorCode, error) {
	var c OperatorCode
	c.DeprecatedBuiltinCode = int8(r.u8(t, 0, 0))
	var err error
	if c.CustomCode, err = r.str(t, 1); err != nil {
		return c, err
	}
	if c.Version, err = r.i32(t, 2, 1); err != nil {
		return c, err
	}
	bc, err := r.i32(t, 3, 0)
	c.BuiltinCode = BuiltinOperator(bc)
	return c, err
}

// Buffer fields: data 0, offset 1 (ulong), size 2 (ulong). Files over 2 GiB keep data outside
// the flatbuffer at offset/size; those are refused by Decode.
func (r *reader) buffer(t *table) ([]byte, error) {
	b, err := r.bytes(t, 0)
	if err != nil {
		return nil, err
	}
	if p := t.field(1); p != 0 && len(b) == 0 {
		if err := r.check(uint64(p), 8); err != nil {
			return nil, err
		}
		off := flatbuffers.GetUint64(r.b[p:])
		var size uint64
		if q := t.field(2); q != 0 {
			if err := r.check(uint64(q), 8); err != nil {
				return nil, err
			}
			size = flatbuffers.GetUint64(r.b[q:])
		}
		if off > 1 {
			if off > uint64(len(r.b)) || size > uint64(len(r.b))-off {
				return nil, fmt.Errorf("external data at offset %d, size %d, beyond the file's %d bytes", off, size, len(r.b))
			}
			b = r.b[off : off+size]
		}
	}
	return b, nil
}

// SubGraph fields: tensors 0, inputs 1, outputs 2, operators 3, name 4.
func (r *reader) subgraph(t *table) (SubGraph, error) {
	var g SubGraph
	var err error
	if g.Name, err = r.str(t, 4); err != nil {
		return g, err
	}
	if g.Inputs, err = r.ints(t, 1); err != nil {
		return g, fmt.Errorf("inputs: %w", err)
	}
	if g.Outputs, err = r.ints(t, 2); err != nil {
		return g, fmt.Errorf("outputs: %w", err)
	}
	err = r.tables(t, 0, "tensor", func(k int, t *table) error {
		x, err := r.tensor(t)
		g.Tensors = append(g.Tensors, x)
		return err
	})
	if err != nil {
		return g, err
	}
	err = r.tables(t, 3, "operator", func(k int, t *table) error {
		o, err := r.operator(t)
		g.Operators = append(g.Operators, o)
		return err
	})
	return g, err
}

// Tensor fields: shape 0, type 1 (byte), buffer 2 (uint), name 3, quantization 4.
func (r *reader) tensor(t *table) (Tensor, error) {
	var x Tensor
	var err error
	if x.Shape, err = r.ints(t, 0); err != nil {
		return x, fmt.Errorf("shape: %w", err)
	}
	x.Type = TensorType(r.u8(t, 1, 0))
	b, err := r.i32(t, 2, 0)
	if err != nil {
		return x, err
	}
	x.Buffer = uint32(b)
	if x.Name, err = r.str(t, 3); err != nil {
		return x, err
	}
	q, err := r.ref(t, 4)
	if err != nil || q == 0 {
		return x, err
	}
	qt, err := r.table(q)
	if err != nil {
		return x, fmt.Errorf("tensor %q: quantization: %w", x.Name, err)
	}
	x.Quantization, err = r.quant(qt)
	if err != nil {
		return x, fmt.Errorf("tensor %q: quantization: %w", x.Name, err)
	}
	return x, nil
}

// QuantizationParameters fields: min 0, max 1, scale 2, zero_point 3 (long), details_type 4,
// details 5, quantized_dimension 6.
func (r *reader) quant(t *table) (*Quantization, error) {
	q := &Quantization{}
	var err error
	if q.Min, err = r.floats(t, 0); err != nil {
		return nil, err
	}
	if q.Max, err = r.floats(t, 1); err != nil {
		return nil, err
	}
	if q.Scale, err = r.floats(t, 2); err != nil {
		return nil, err
	}
	if q.ZeroPoint, err = r.longs(t, 3); err != nil {
		return nil, err
	}
	if q.QuantizedDimension, err = r.i32(t, 6, 0); err != nil {
		return nil, err
	}
	if len(q.Scale) == 0 && len(q.Min) == 0 && len(q.ZeroPoint) == 0 {
		return nil, nil
	}
	return q, nil
}

// Operator fields: opcode_index 0 (uint), inputs 1, outputs 2, builtin_options_type 3 (ubyte),
// builtin_options 4.
func (r *reader) operator(t *table) (Operator, error) {
	var o Operator
	idx, err := r.i32(t, 0, 0)
	if err != nil {
		return o, err
	}
	o.OpcodeIndex = uint32(idx)
	if o.Inputs, err = r.ints(t, 1); err != nil {
		return o, fmt.Errorf("inputs: %w", err)
	}
	if o.Outputs, err = r.ints(t, 2); err != nil {
		return o, fmt.Errorf("outputs: %w", err)
	}
	o.OptionsType = r.u8(t, 3, 0)
	o.Options = Options{DilationW: 1, DilationH: 1}
	p, err := r.ref(t, 4)
	if err != nil || p == 0 {
		return o, err
	}
	ot, err := r.table(p)
	if err != nil {
		return o, fmt.Errorf("builtin options: %w", err)
	}
	if err := r.options(ot, o.OptionsType, &o.Options); err != nil {
		return o, fmt.Errorf("builtin options (type %d): %w", o.OptionsType, err)
	}
	return o, nil
}

func (r *reader) options(t *table, typ uint8, o *Options) error {
	ints := func(fields ...struct {
		i   int
		dst *int32
		def int32
	}) error {
		for _, f := range fields {
			v, err := r.i32(t, f.i, f.def)
			if err != nil {
				return err
			}
			*f.dst = v
		}
		return nil
	}
	type fi = struct {
		i   int
		dst *int32
		def int32
	}
	switch typ {
	case OptConv2D:
		// padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w 4, dilation_h 5
		o.Padding = Padding(r.u8(t, 0, 0))
		o.Activation = Activation(r.u8(t, 3, 0))
		return ints(fi{1, &o.StrideW, 0}, fi{2, &o.StrideH, 0}, fi{4, &o.DilationW, 1}, fi{5, &o.DilationH, 1})
	case OptDepthwiseConv2D:
		// padding 0, stride_w 1, stride_h 2, depth_multiplier 3, fused_activation_function 4,
		// dilation_w 5, dilation_h 6
		o.Padding = Padding(r.u8(t, 0, 0))
		o.Activation = Activation(r.u8(t, 4, 0))
		return ints(fi{1, &o.StrideW, 0}, fi{2, &o.StrideH, 0}, fi{3, &o.DepthMultiplier, 0}, fi{5, &o.DilationW, 1}, fi{6, &o.DilationH, 1})
	case OptPool2D:
		// padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, fused_activation_function 5
		o.Padding = Padding(r.u8(t, 0, 0))
		o.Activation = Activation(r.u8(t, 5, 0))
		return ints(fi{1, &o.StrideW, 0}, fi{2, &o.StrideH, 0}, fi{3, &o.FilterW, 0}, fi{4, &o.FilterH, 0})
	case OptFullyConnected:
		// fused_activation_function 0, weights_format 1, keep_num_dims 2
		o.Activation = Activation(r.u8(t, 0, 0))
		o.KeepNumDims = r.u8(t, 2, 0) != 0
	case OptSoftmax:
		v, err := r.f32(t, 0, 0)
		o.Beta = v
		return err
	case OptConcatenation:
		// axis 0, fused_activation_function 1
		o.Activation = Activation(r.u8(t, 1, 0))
		return ints(fi{0, &o.Axis, 0})
	case OptAdd, OptMul, OptSub:
		o.Activation = Activation(r.u8(t, 0, 0))
	case OptReshape:
		v, err := r.ints(t, 0)
		o.NewShape = v
		return err
	case OptReducer:
		o.KeepDims = r.u8(t, 0, 0) != 0
	}
	return nil
}

// validate checks the cross references: operator code indices, tensor indices, buffer indices
// and that a tensor's buffer holds its shape's bytes.
func (m *Model) validate() error {
	for gi, g := range m.Subgraphs {
		nt := int32(len(g.Tensors))
		for ti, x := range g.Tensors {
			if int(x.Buffer) >= len(m.Buffers) {
				return fmt.Errorf("subgraph %d: tensor %d (%q): buffer %d of %d", gi, ti, x.Name, x.Buffer, len(m.Buffers))
			}
			n := int64(1)
			for _, d := range x.Shape {
				if d < -1 {
					return fmt.Errorf("subgraph %d: tensor %d (%q): shape %v", gi, ti, x.Name, x.Shape)
				}
				n *= int64(max(d, 1))
				if n > 1<<40 {
					return fmt.Errorf("subgraph %d: tensor %d (%q): shape %v is too large", gi, ti, x.Name, x.Shape)
				}
			}
			if b := m.Buffers[x.Buffer]; len(b) > 0 && x.Type.Size() > 0 && int64(len(b)) != n*int64(x.Type.Size()) {
				return fmt.Errorf("subgraph %d: tensor %d (%q): %s %v needs %d bytes, its buffer %d holds %d", gi, ti, x.Name, x.Type, x.Shape, n*int64(x.Type.Size()), x.Buffer, len(b))
			}
			if q := x.Quantization; q != nil && len(q.ZeroPoint) > 0 && len(q.ZeroPoint) != len(q.Scale) {
				return fmt.Errorf("subgraph %d: tensor %d (%q): %d scales but %d zero points", gi, ti, x.Name, len(q.Scale), len(q.ZeroPoint))
			}
		}
		idx := func(what string, v []int32, optional bool) error {
			for _, i := range v {
				if (i < 0 && !(optional && i == -1)) || i >= nt {
					return fmt.Errorf("%s tensor index %d (the subgraph has %d tensors)", what, i, nt)
				}
			}
			return nil
		}
		if err := idx("input", g.Inputs, false); err != nil {
			return fmt.Errorf("subgraph %d: %w", gi, err)
		}
		if err := idx("output", g.Outputs, false); err != nil {
			return fmt.Errorf("subgraph %d: %w", gi, err)
		}
		for oi, o := range g.Operators {
			if int(o.OpcodeIndex) >= len(m.OperatorCodes) {
				return fmt.Errorf("subgraph %d: operator %d: opcode index %d of %d", gi, oi, o.OpcodeIndex, len(m.OperatorCodes))
			}
			if err := idx("input", o.Inputs, true); err != nil {
				return fmt.Errorf("subgraph %d: operator %d: %w", gi, oi, err)
			}
			if err := idx("output", o.Outputs, false); err != nil {
				return fmt.Errorf("subgraph %d: operator %d: %w", gi, oi, err)
			}
		}
	}
	return nil
}

// Data is the buffer of tensor t (nil when the tensor is computed at run time).
func (m *Model) Data(t *Tensor) []byte {
	if int(t.Buffer) >= len(m.Buffers) {
		return nil
	}
	return m.Buffers[t.Buffer]
}

// Op is the builtin code of operator o.
func (m *Model) Op(o *Operator) BuiltinOperator {
	return m.OperatorCodes[o.OpcodeIndex].Code()
}

// Float32s dequantizes a constant tensor into float32 values in the file's (row-major) order:
// float32 data as is, uint8/int8/int32/int16 through the tensor's quantization (per tensor or
// per channel along QuantizedDimension); a quantized-type tensor without quantization reads as
// its integer values.
func (m *Model) Float32s(t *Tensor) ([]float32, error) {
	b := m.Data(t)
	sz := t.Type.Size()
	if sz == 0 {
		return nil, fmt.Errorf("tensor %q: type %s is not read", t.Name, t.Type)
	}
	n := len(b) / sz
	out := make([]float32, n)
	raw := make([]float64, n)
	for i := 0; i < n; i++ {
		switch t.Type {
		case Float32:
			out[i] = math.Float32frombits(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24)
		case Float16:
			out[i] = half(uint16(b[2*i]) | uint16(b[2*i+1])<<8)
		case Uint8:
			raw[i] = float64(b[i])
		case Int8:
			raw[i] = float64(int8(b[i]))
		case Int16:
			raw[i] = float64(int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8))
		case Int32:
			raw[i] = float64(int32(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24))
		case Int64:
			var v uint64
			for k := 7; k >= 0; k-- {
				v = v<<8 | uint64(b[8*i+k])
			}
			raw[i] = float64(int64(v))
		}
	}
	if t.Type == Float32 || t.Type == Float16 {
		return out, nil
	}
	q := t.Quantization
	if q == nil || len(q.Scale) == 0 {
		for i, v := range raw {
			out[i] = float32(v)
		}
		return out, nil
	}
	if len(q.Scale) == 1 {
		z := 0.0
		if len(q.ZeroPoint) > 0 {
			z = float64(q.ZeroPoint[0])
		}
		for i, v := range raw {
			out[i] = float32(float64(q.Scale[0]) * (v - z))
		}
		return out, nil
	}
	d := int(q.QuantizedDimension)
	if d < 0 || d >= len(t.Shape) || int(t.Shape[d]) != len(q.Scale) {
		return nil, fmt.Errorf("tensor %q: %d scales along dimension %d of shape %v", t.Name, len(q.Scale), d, t.Shape)
	}
	inner := 1
	for _, s := range t.Shape[d+1:] {
		inner *= int(s)
	}
	for i, v := range raw {
		c := (i / inner) % len(q.Scale)
		z := 0.0
		if len(q.ZeroPoint) > 0 {
			z = float64(q.ZeroPoint[c])
		}
		out[i] = float32(float64(q.Scale[c]) * (v - z))
	}
	return out, nil
}

func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := int(h>>10) & 0x1f
	frac := uint32(h & 0x3ff)
	switch {
	case exp == 0:
		return math.Float32frombits(sign) + float32(frac)*float32(math.Pow(2, -24))*func() float32 {
			if sign != 0 {
				return -1
			}
			return 1
		}()
	case exp == 31:
		return math.Float32frombits(sign | 0x7f800000 | frac<<13)
	}
	return math.Float32frombits(sign | uint32(exp-15+127)<<23 | frac<<13)
}
