// Package onnx reads ONNX model files (ModelProto) and standalone tensor files (TensorProto .pb,
// the inputs and outputs of the ONNX test cases).
//
// The format is the protobuf schema onnx/onnx.proto (IR version 3 and later). The decoding is
// written by hand over google.golang.org/protobuf/encoding/protowire instead of generated from
// onnx.proto: ventral needs about forty of the schema's fields, generated code would vendor the
// whole schema (and a code generator into the build), and a hand decoder can bound what it
// allocates and name the exact field where a file is truncated or corrupt. Fields not read here
// (training info, functions, sparse initializers, doc strings) are skipped.
//
// Tensors stored outside the file (data_location EXTERNAL) are reported as an error: ventral
// reads single-file models only.
package onnx

import (
	"errors"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// Model is an ONNX ModelProto.
type Model struct {
	IRVersion       int64
	ProducerName    string
	ProducerVersion string
	Domain          string
	ModelVersion    int64
	// Opsets maps an operator set domain to its version; the default domain ("ai.onnx") is
	// stored under "".
	Opsets map[string]int64
	// Metadata holds metadata_props (key to value; a repeated key keeps the last value).
	Metadata map[string]string
	Graph    *Graph
}

// Opset is the version of the default operator set (ai.onnx), 0 when the file imports none.
func (m *Model) Opset() int64 { return m.Opsets[""] }

// Graph is a GraphProto.
type Graph struct {
	Name         string
	Nodes        []*Node
	Initializers []*Tensor
	Inputs       []ValueInfo
	Outputs      []ValueInfo
	ValueInfo    []ValueInfo
}

// Initializer returns the initializer with the given name, or nil.
func (g *Graph) Initializer(name string) *Tensor {
	for _, t := range g.Initializers {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// Node is a NodeProto.
type Node struct {
	Name    string
	OpType  string
	Domain  string
	Inputs  []string
	Outputs []string
	Attrs   []*Attribute
}

// Attr returns the attribute with the given name, or nil.
func (n *Node) Attr(name string) *Attribute {
	for _, a := range n.Attrs {
		if a.Name == name {
			return a
		}
	}
	return nil
}

// AttrType is AttributeProto.AttributeType.
type AttrType int32

// Attribute types (onnx.proto AttributeProto.AttributeType).
const (
	AttrUndefined     AttrType = 0
	AttrFloat         AttrType = 1
	AttrInt           AttrType = 2
	AttrString        AttrType = 3
	AttrTensor        AttrType = 4
	AttrGraph         AttrType = 5
	AttrFloats        AttrType = 6
	AttrInts          AttrType = 7
	AttrStrings       AttrType = 8
	AttrTensors       AttrType = 9
	AttrGraphs        AttrType = 10
	AttrSparseTensor  AttrType = 11
	AttrSparseTensors AttrType = 12
	AttrTypeProto     AttrType = 13
	AttrTypeProtos    AttrType = 14
)

var attrTypeNames = map[AttrType]string{
	AttrUndefined: "UNDEFINED", AttrFloat: "FLOAT", AttrInt: "INT", AttrString: "STRING", AttrTensor: "TENSOR",
	AttrGraph: "GRAPH", AttrFloats: "FLOATS", AttrInts: "INTS", AttrStrings: "STRINGS", AttrTensors: "TENSORS",
	AttrGraphs: "GRAPHS", AttrSparseTensor: "SPARSE_TENSOR", AttrSparseTensors: "SPARSE_TENSORS",
	AttrTypeProto: "TYPE_PROTO", AttrTypeProtos: "TYPE_PROTOS",
}

func (t AttrType) String() string {
	if s, ok := attrTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("AttrType(%d)", int32(t))
}

// Attribute is an AttributeProto. Only the field named by Type is meaningful.
type Attribute struct {
	Name    string
	Type    AttrType
	F       float32
	I       int64
	S       []byte
	T       *Tensor
	G       *Graph
	Floats  []float32
	Ints    []int64
	Strings [][]byte
	Tensors []*Tensor
	Graphs  []*Graph
	// RefAttrName is set in function bodies only; a graph attribute with it has no value.
	RefAttrName string
}

// DataType is TensorProto.DataType.
type DataType int32

// Tensor element types (onnx.proto TensorProto.DataType).
const (
	Undefined  DataType = 0
	Float      DataType = 1
	Uint8      DataType = 2
	Int8       DataType = 3
	Uint16     DataType = 4
	Int16      DataType = 5
	Int32      DataType = 6
	Int64      DataType = 7
	String     DataType = 8
	Bool       DataType = 9
	Float16    DataType = 10
	Double     DataType = 11
	Uint32     DataType = 12
	Uint64     DataType = 13
	Complex64  DataType = 14
	Complex128 DataType = 15
	BFloat16   DataType = 16
)

var dataTypeNames = map[DataType]string{
	Undefined: "UNDEFINED", Float: "FLOAT", Uint8: "UINT8", Int8: "INT8", Uint16: "UINT16", Int16: "INT16",
	Int32: "INT32", Int64: "INT64", String: "STRING", Bool: "BOOL", Float16: "FLOAT16", Double: "DOUBLE",
	Uint32: "UINT32", Uint64: "UINT64", Complex64: "COMPLEX64", Complex128: "COMPLEX128", BFloat16: "BFLOAT16",
}

func (d DataType) String() string {
	if s, ok := dataTypeNames[d]; ok {
		return s
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// size is the bytes per element in raw_data (0 for types without a fixed-size raw form).
func (d DataType) size() int {
	switch d {
	case Float, Int32, Uint32:
		return 4
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Int64, Double, Uint64, Complex64:
		return 8
	case Complex128:
		return 16
	}
	return 0
}

// Tensor is a TensorProto. The values sit in exactly one of the data fields, as the file stored
// them; Float32 and Int64 convert them.
type Tensor struct {
	Name       string
	Dims       []int64
	DataType   DataType
	Raw        []byte
	FloatData  []float32
	Int32Data  []int32
	Int64Data  []int64
	DoubleData []float64
	Uint64Data []uint64
	StringData [][]byte
	// External is set when the values live in another file (data_location EXTERNAL);
	// ExternalData holds its location entries.
	External     bool
	ExternalData map[string]string
}

// ErrExternalData is wrapped by errors about tensors stored outside the model file.
var ErrExternalData = errors.New("tensor data stored in an external file (not supported: save the model as a single file, e.g. onnx.save_model(m, path, save_as_external_data=False))")

// maxElems bounds a tensor's element count so that a corrupt dims field cannot ask for an
// absurd allocation.
const maxElems = 1 << 40

// NumElements is the product of Dims (1 for a scalar), or an error for negative or overflowing
// dims.
func (t *Tensor) NumElements() (int, error) {
	n := int64(1)
	for i, d := range t.Dims {
		if d < 0 {
			return 0, fmt.Errorf("tensor %q: dims[%d] = %d is negative", t.Name, i, d)
		}
		if d != 0 && n > maxElems/d {
			return 0, fmt.Errorf("tensor %q: dims %v hold more than %d elements", t.Name, t.Dims, int64(maxElems))
		}
		n *= d
	}
	return int(n), nil
}

// Shape returns Dims as ints.
func (t *Tensor) Shape() []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[i] = int(d)
	}
	return s
}

// Float32 returns the tensor's values converted to float32 (integers and doubles are rounded to
// the nearest float32; booleans are 0 or 1).
func (t *Tensor) Float32() ([]float32, error) {
	n, err := t.check()
	if err != nil {
		return nil, err
	}
	out := make([]float32, n)
	if t.Raw != nil {
		if t.DataType == Float {
			for i := range out {
				out[i] = math.Float32frombits(le32(t.Raw[4*i:]))
			}
			return out, nil
		}
		for i := range out {
			out[i] = float32(rawValue(t.DataType, t.Raw, i))
		}
		return out, nil
	}
	switch t.DataType {
	case Float:
		copy(out, t.FloatData)
	case Double:
		for i, v := range t.DoubleData {
			out[i] = float32(v)
		}
	case Int64:
		for i, v := range t.Int64Data {
			out[i] = float32(v)
		}
	case Uint32, Uint64:
		for i, v := range t.Uint64Data {
			out[i] = float32(v)
		}
	case Float16:
		for i, v := range t.Int32Data {
			out[i] = half(uint16(v))
		}
	case BFloat16:
		for i, v := range t.Int32Data {
			out[i] = math.Float32frombits(uint32(uint16(v)) << 16)
		}
	default: // the types that int32_data holds
		for i, v := range t.Int32Data {
			out[i] = float32(v)
		}
	}
	return out, nil
}

// Int64 returns the tensor's values as int64 (for shapes, axes, indices). Floating-point
// tensors are rejected: a shape given as floats is a malformed file.
func (t *Tensor) Int64() ([]int64, error) {
	switch t.DataType {
	case Float, Double, Float16, BFloat16:
		return nil, fmt.Errorf("tensor %q: %s values where integers were expected", t.Name, t.DataType)
	}
	n, err := t.check()
	if err != nil {
		return nil, err
	}
	out := make([]int64, n)
	if t.Raw != nil {
		for i := range out {
			out[i] = rawInt(t.DataType, t.Raw, i)
		}
		return out, nil
	}
	switch t.DataType {
	case Int64:
		copy(out, t.Int64Data)
	case Uint32, Uint64:
		for i, v := range t.Uint64Data {
			out[i] = int64(v)
		}
	default:
		for i, v := range t.Int32Data {
			out[i] = int64(v)
		}
	}
	return out, nil
}

// check validates that the stored values match Dims and DataType and returns the element count.
func (t *Tensor) check() (int, error) {
	if t.External {
		return 0, fmt.Errorf("tensor %q: %w", t.Name, ErrExternalData)
	}
	n, err := t.NumElements()
	if err != nil {
		return 0, err
	}
	sz := t.DataType.size()
	switch t.DataType {
	case String, Undefined, Complex64, Complex128:
		return 0, fmt.Errorf("tensor %q: element type %s is not numeric", t.Name, t.DataType)
	}
	if sz == 0 {
		return 0, fmt.Errorf("tensor %q: element type %s is not supported", t.Name, t.DataType)
	}
	if t.Raw != nil {
		if len(t.Raw) != n*sz {
			return 0, fmt.Errorf("tensor %q: raw_data has %d bytes, dims %v of %s need %d", t.Name, len(t.Raw), t.Dims, t.DataType, n*sz)
		}
		return n, nil
	}
	var have int
	var field string
	switch t.DataType {
	case Float:
		have, field = len(t.FloatData), "float_data"
	case Double:
		have, field = len(t.DoubleData), "double_data"
	case Int64:
		have, field = len(t.Int64Data), "int64_data"
	case Uint32, Uint64:
		have, field = len(t.Uint64Data), "uint64_data"
	default:
		have, field = len(t.Int32Data), "int32_data"
	}
	if have != n {
		return 0, fmt.Errorf("tensor %q: %s has %d values, dims %v need %d", t.Name, field, have, t.Dims, n)
	}
	return n, nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}
func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le64(b []byte) uint64 { return uint64(le32(b)) | uint64(le32(b[4:]))<<32 }

func rawValue(d DataType, b []byte, i int) float64 {
	switch d {
	case Float:
		return float64(math.Float32frombits(le32(b[4*i:])))
	case Double:
		return math.Float64frombits(le64(b[8*i:]))
	case Float16:
		return float64(half(le16(b[2*i:])))
	case BFloat16:
		return float64(math.Float32frombits(uint32(le16(b[2*i:])) << 16))
	case Uint64:
		return float64(le64(b[8*i:]))
	}
	return float64(rawInt(d, b, i))
}

func rawInt(d DataType, b []byte, i int) int64 {
	switch d {
	case Uint8, Bool:
		return int64(b[i])
	case Int8:
		return int64(int8(b[i]))
	case Uint16:
		return int64(le16(b[2*i:]))
	case Int16:
		return int64(int16(le16(b[2*i:])))
	case Int32:
		return int64(int32(le32(b[4*i:])))
	case Uint32:
		return int64(le32(b[4*i:]))
	case Int64, Uint64:
		return int64(le64(b[8*i:]))
	}
	return 0
}

// half converts IEEE 754 binary16 bits to float32.
func half(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0:
		// zero or subnormal: man * 2^-24
		v := float32(man) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | man<<13)
}

// ValueInfo is a ValueInfoProto of a tensor: its name, element type and shape.
type ValueInfo struct {
	Name     string
	ElemType DataType
	// Dims holds each dimension's size, -1 where it is symbolic or unknown; DimParams holds the
	// symbolic names ("N", "batch_size") at those positions. HasShape is false when the file
	// gives no shape at all (not even a rank).
	Dims      []int64
	DimParams []string
	HasShape  bool
}

// ReadModel reads an .onnx file.
func ReadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := DecodeModel(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ReadTensor reads a standalone serialized TensorProto (.pb), as in the ONNX test cases.
func ReadTensor(path string) (*Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t, err := DecodeTensor(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := t.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// DecodeModel parses ModelProto bytes.
func DecodeModel(b []byte) (*Model, error) {
	d := &decoder{}
	m := &Model{Opsets: map[string]int64{}, Metadata: map[string]string{}}
	err := d.message(b, "model", func(num protowire.Number, typ protowire.Type, v field) error {
		switch num {
		case 1:
			m.IRVersion = int64(v.u)
		case 2:
			m.ProducerName = string(v.b)
		case 3:
			m.ProducerVersion = string(v.b)
		case 4:
			m.Domain = string(v.b)
		case 5:
			m.ModelVersion = int64(v.u)
		case 7:
			g, err := d.graph(v.b, "model.graph")
			if err != nil {
				return err
			}
			m.Graph = g
		case 8:
			var dom string
			var ver int64
			err := d.message(v.b, "model.opset_import", func(num protowire.Number, _ protowire.Type, v field) error {
				switch num {
				case 1:
					dom = string(v.b)
				case 2:
					ver = int64(v.u)
				}
				return nil
			}, map[protowire.Number]protowire.Type{1: protowire.BytesType, 2: protowire.VarintType})
			if err != nil {
				return err
			}
			if dom == "ai.onnx" {
				dom = ""
			}
			m.Opsets[dom] = ver
		case 14:
			k, val, err := d.entry(v.b, "model.metadata_props")
			if err != nil {
				return err
			}
			m.Metadata[k] = val
		}
		return nil
	}, map[protowire.Number]protowire.Type{1: protowire.VarintType, 2: protowire.BytesType, 3: protowire.BytesType,
		4: protowire.BytesType, 5: protowire.VarintType, 7: protowire.BytesType, 8: protowire.BytesType, 14: protowire.BytesType})
	if err != nil {
		return nil, err
	}
	if m.Graph == nil {
		return nil, fmt.Errorf("model: no graph (field 7); is this an ONNX model file?")
	}
	return m, nil
}

// DecodeTensor parses TensorProto bytes.
func DecodeTensor(b []byte) (*Tensor, error) {
	d := &decoder{}
	return d.tensor(b, "tensor")
}

// field is one decoded field value: u for varint and fixed wire types, b for length-delimited.
type field struct {
	u uint64
	b []byte
}

type decoder struct{ depth int }

// maxDepth bounds message nesting (graphs inside attributes inside graphs...), as protobuf
// implementations do, so that a hostile file cannot exhaust the stack.
const maxDepth = 100

// message walks the fields of one message and calls f for each field listed in want (with the
// wire type it must have); other fields are skipped. Repeated packed scalars are delivered as
// BytesType and unpacked by the caller.
func (d *decoder) message(b []byte, where string, f func(protowire.Number, protowire.Type, field) error, want map[protowire.Number]protowire.Type) error {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		return fmt.Errorf("%s: messages nested more than %d deep", where, maxDepth)
	}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%s: bad field tag: %w", where, protowire.ParseError(n))
		}
		b = b[n:]
		var v field
		switch typ {
		case protowire.VarintType:
			v.u, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, n = protowire.ConsumeFixed32(b)
			v.u = uint64(x)
		case protowire.Fixed64Type:
			v.u, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v.b, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%s: field %d: %w (truncated or corrupt file)", where, num, protowire.ParseError(n))
		}
		b = b[n:]
		wt, ok := want[num]
		if !ok {
			continue
		}
		if wt != typ && !(packable(wt) && typ == protowire.BytesType) {
			return fmt.Errorf("%s: field %d has wire type %d, expected %d (corrupt file)", where, num, typ, wt)
		}
		if err := f(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}

// packable reports wire types that may appear packed in a length-delimited field.
func packable(t protowire.Type) bool {
	return t == protowire.VarintType || t == protowire.Fixed32Type || t == protowire.Fixed64Type
}

func (d *decoder) entry(b []byte, where string) (string, string, error) {
	var k, v string
	err := d.message(b, where, func(num protowire.Number, _ protowire.Type, f field) error {
		if num == 1 {
			k = string(f.b)
		} else {
			v = string(f.b)
		}
		return nil
	}, map[protowire.Number]protowire.Type{1: protowire.BytesType, 2: protowire.BytesType})
	return k, v, err
}

// varints appends a repeated varint field, packed (BytesType) or not.
func varints(dst []uint64, typ protowire.Type, v field, where string) ([]uint64, error) {
	if typ != protowire.BytesType {
		return append(dst, v.u), nil
	}
	b := v.b
	for len(b) > 0 {
		x, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return nil, fmt.Errorf("%s: packed varints: %w (truncated or corrupt file)", where, protowire.ParseError(n))
		}
		dst = append(dst, x)
		b = b[n:]
	}
	return dst, nil
}

// fixed appends a repeated fixed-width (4 or 8 byte) field, packed or not.
func fixed(dst []uint64, typ protowire.Type, v field, width int, where string) ([]uint64, error) {
	if typ != protowire.BytesType {
		want := protowire.Fixed32Type
		if width == 8 {
			want = protowire.Fixed64Type
		}
		if typ != want {
			return nil, fmt.Errorf("%s: wire type %d, expected %d (corrupt file)", where, typ, want)
		}
		return append(dst, v.u), nil
	}
	if len(v.b)%width != 0 {
		return nil, fmt.Errorf("%s: packed field of %d bytes is not a multiple of %d (truncated or corrupt file)", where, len(v.b), width)
	}
	for i := 0; i < len(v.b); i += width {
		if width == 4 {
			dst = append(dst, uint64(le32(v.b[i:])))
		} else {
			dst = append(dst, le64(v.b[i:]))
		}
	}
	return dst, nil
}

func (d *decoder) tensor(b []byte, where string) (*Tensor, error) {
	t := &Tensor{}
	var dims, i32, i64, f32, f64, u64 []uint64
	var err error
	var location int64
	err = d.message(b, where, func(num protowire.Number, typ protowire.Type, v field) error {
		var e error
		switch num {
		case 1:
			dims, e = varints(dims, typ, v, where+".dims")
		case 2:
			t.DataType = DataType(int32(v.u))
		case 4:
			f32, e = fixed(f32, typ, v, 4, where+".float_data")
		case 5:
			i32, e = varints(i32, typ, v, where+".int32_data")
		case 6:
			t.StringData = append(t.StringData, v.b)
		case 7:
			i64, e = varints(i64, typ, v, where+".int64_data")
		case 8:
			t.Name = string(v.b)
		case 9:
			t.Raw = v.b
			if t.Raw == nil {
				t.Raw = []byte{}
			}
		case 10:
			f64, e = fixed(f64, typ, v, 8, where+".double_data")
		case 11:
			u64, e = varints(u64, typ, v, where+".uint64_data")
		case 13:
			k, val, err := d.entry(v.b, where+".external_data")
			if err != nil {
				return err
			}
			if t.ExternalData == nil {
				t.ExternalData = map[string]string{}
			}
			t.ExternalData[k] = val
		case 14:
			location = int64(v.u)
		}
		return e
	}, map[protowire.Number]protowire.Type{1: protowire.VarintType, 2: protowire.VarintType, 4: protowire.Fixed32Type,
		5: protowire.VarintType, 6: protowire.BytesType, 7: protowire.VarintType, 8: protowire.BytesType,
		9: protowire.BytesType, 10: protowire.Fixed64Type, 11: protowire.VarintType, 13: protowire.BytesType, 14: protowire.VarintType})
	if err != nil {
		return nil, err
	}
	t.External = location == 1
	for _, x := range dims {
		t.Dims = append(t.Dims, int64(x))
	}
	for _, x := range f32 {
		t.FloatData = append(t.FloatData, math.Float32frombits(uint32(x)))
	}
	for _, x := range f64 {
		t.DoubleData = append(t.DoubleData, math.Float64frombits(x))
	}
	for _, x := range i32 {
		t.Int32Data = append(t.Int32Data, int32(x))
	}
	for _, x := range i64 {
		t.Int64Data = append(t.Int64Data, int64(x))
	}
	t.Uint64Data = u64
	return t, nil
}

func (d *decoder) graph(b []byte, where string) (*Graph, error) {
	g := &Graph{}
	err := d.message(b, where, func(num protowire.Number, _ protowire.Type, v field) error {
		switch num {
		case 1:
			n, err := d.node(v.b, fmt.Sprintf("%s.node[%d]", where, len(g.Nodes)))
			if err != nil {
				return err
			}
			g.Nodes = append(g.Nodes, n)
		case 2:
			g.Name = string(v.b)
		case 5:
			t, err := d.tensor(v.b, fmt.Sprintf("%s.initializer[%d]", where, len(g.Initializers)))
			if err != nil {
				return err
			}
			g.Initializers = append(g.Initializers, t)
		case 11, 12, 13:
			vi, err := d.valueInfo(v.b, fmt.Sprintf("%s.value_info(field %d)", where, num))
			if err != nil {
				return err
			}
			switch num {
			case 11:
				g.Inputs = append(g.Inputs, vi)
			case 12:
				g.Outputs = append(g.Outputs, vi)
			default:
				g.ValueInfo = append(g.ValueInfo, vi)
			}
		}
		return nil
	}, map[protowire.Number]protowire.Type{1: protowire.BytesType, 2: protowire.BytesType, 5: protowire.BytesType,
		11: protowire.BytesType, 12: protowire.BytesType, 13: protowire.BytesType})
	return g, err
}

func (d *decoder) node(b []byte, where string) (*Node, error) {
	n := &Node{}
	err := d.message(b, where, func(num protowire.Number, _ protowire.Type, v field) error {
		switch num {
		case 1:
			n.Inputs = append(n.Inputs, string(v.b))
		case 2:
			n.Outputs = append(n.Outputs, string(v.b))
		case 3:
			n.Name = string(v.b)
		case 4:
			n.OpType = string(v.b)
		case 7:
			n.Domain = string(v.b)
		case 5:
			a, err := d.attribute(v.b, fmt.Sprintf("%s.attribute[%d]", where, len(n.Attrs)))
			if err != nil {
				return err
			}
			n.Attrs = append(n.Attrs, a)
		}
		return nil
	}, map[protowire.Number]protowire.Type{1: protowire.BytesType, 2: protowire.BytesType, 3: protowire.BytesType,
		4: protowire.BytesType, 5: protowire.BytesType, 7: protowire.BytesType})
	if err != nil {
		return nil, err
	}
	if n.Domain == "ai.onnx" {
		n.Domain = ""
	}
	return n, nil
}

func (d *decoder) attribute(b []byte, where string) (*Attribute, error) {
	a := &Attribute{}
	var ints, floats []uint64
	err := d.message(b, where, func(num protowire.Number, typ protowire.Type, v field) error {
		var e error
		switch num {
		case 1:
			a.Name = string(v.b)
		case 20:
			a.Type = AttrType(int32(v.u))
		case 21:
			a.RefAttrName = string(v.b)
		case 2:
			a.F = math.Float32frombits(uint32(v.u))
		case 3:
			a.I = int64(v.u)
		case 4:
			a.S = v.b
		case 5:
			a.T, e = d.tensor(v.b, where+".t")
		case 6:
			a.G, e = d.graph(v.b, where+".g")
		case 7:
			floats, e = fixed(floats, typ, v, 4, where+".floats")
		case 8:
			ints, e = varints(ints, typ, v, where+".ints")
		case 9:
			a.Strings = append(a.Strings, v.b)
		case 10:
			var t *Tensor
			t, e = d.tensor(v.b, fmt.Sprintf("%s.tensors[%d]", where, len(a.Tensors)))
			a.Tensors = append(a.Tensors, t)
		case 11:
			var g *Graph
			g, e = d.graph(v.b, fmt.Sprintf("%s.graphs[%d]", where, len(a.Graphs)))
			a.Graphs = append(a.Graphs, g)
		}
		return e
	}, map[protowire.Number]protowire.Type{1: protowire.BytesType, 20: protowire.VarintType, 21: protowire.BytesType,
		2: protowire.Fixed32Type, 3: protowire.VarintType, 4: protowire.BytesType, 5: protowire.BytesType,
		6: protowire.BytesType, 7: protowire.Fixed32Type, 8: protowire.VarintType, 9: protowire.BytesType,
		10: protowire.BytesType, 11: protowire.BytesType})
	if err != nil {
		return nil, err
	}
	for _, x := range floats {
		a.Floats = append(a.Floats, math.Float32frombits(uint32(x)))
	}
	for _, x := range ints {
		a.Ints = append(a.Ints, int64(x))
	}
	if a.Type == AttrUndefined {
		// IR version 1 files carry no type: infer it from the field that is set.
		switch {
		case len(a.Ints) > 0:
			a.Type = AttrInts
		case len(a.Floats) > 0:
			a.Type = AttrFloats
		case a.T != nil:
			a.Type = AttrTensor
		case a.S != nil:
			a.Type = AttrString
		case a.G != nil:
			a.Type = AttrGraph
		}
	}
	return a, nil
}

func (d *decoder) valueInfo(b []byte, where string) (ValueInfo, error) {
	vi := ValueInfo{}
	err := d.message(b, where, func(num protowire.Number, _ protowire.Type, v field) error {
		switch num {
		case 1:
			vi.Name = string(v.b)
		case 2: // TypeProto
			return d.message(v.b, where+".type", func(num protowire.Number, _ protowire.Type, v field) error {
				// tensor_type (1): elem_type, shape
				return d.message(v.b, where+".type.tensor_type", func(num protowire.Number, _ protowire.Type, v field) error {
					if num == 1 {
						vi.ElemType = DataType(int32(v.u))
						return nil
					}
					vi.HasShape = true
					return d.message(v.b, where+".type.tensor_type.shape", func(_ protowire.Number, _ protowire.Type, v field) error {
						dim, param := int64(-1), ""
						err := d.message(v.b, where+".type.tensor_type.shape.dim", func(num protowire.Number, _ protowire.Type, v field) error {
							if num == 1 {
								dim = int64(v.u)
							} else {
								param = string(v.b)
							}
							return nil
						}, map[protowire.Number]protowire.Type{1: protowire.VarintType, 2: protowire.BytesType})
						vi.Dims = append(vi.Dims, dim)
						vi.DimParams = append(vi.DimParams, param)
						return err
					}, map[protowire.Number]protowire.Type{1: protowire.BytesType})
				}, map[protowire.Number]protowire.Type{1: protowire.VarintType, 2: protowire.BytesType})
			}, map[protowire.Number]protowire.Type{1: protowire.BytesType})
		}
		return nil
	}, map[protowire.Number]protowire.Type{1: protowire.BytesType, 2: protowire.BytesType})
	return vi, err
}
