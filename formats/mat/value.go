package mat

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// Class is a MATLAB array class (the mxCLASS codes of the MAT-file format).
type Class uint8

// MATLAB array classes.
const (
	ClassCell     Class = 1
	ClassStruct   Class = 2
	ClassObject   Class = 3
	ClassChar     Class = 4
	ClassSparse   Class = 5
	ClassDouble   Class = 6
	ClassSingle   Class = 7
	ClassInt8     Class = 8
	ClassUint8    Class = 9
	ClassInt16    Class = 10
	ClassUint16   Class = 11
	ClassInt32    Class = 12
	ClassUint32   Class = 13
	ClassInt64    Class = 14
	ClassUint64   Class = 15
	ClassFunction Class = 16
	ClassOpaque   Class = 17
)

var classNames = map[Class]string{
	ClassCell: "cell", ClassStruct: "struct", ClassObject: "object", ClassChar: "char",
	ClassSparse: "sparse", ClassDouble: "double", ClassSingle: "single", ClassInt8: "int8",
	ClassUint8: "uint8", ClassInt16: "int16", ClassUint16: "uint16", ClassInt32: "int32",
	ClassUint32: "uint32", ClassInt64: "int64", ClassUint64: "uint64",
	ClassFunction: "function_handle", ClassOpaque: "opaque",
}

func (c Class) String() string {
	if s, ok := classNames[c]; ok {
		return s
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// IsNumeric reports whether c holds numbers (double, single or an integer class).
func (c Class) IsNumeric() bool { return c >= ClassDouble && c <= ClassUint64 }

// ErrUnsupported is wrapped by errors about valid MAT-file content this package cannot read
// (function handles, opaque objects, -v7.3 HDF5 files).
var ErrUnsupported = errors.New("unsupported")

// ErrNotFound is wrapped by errors about a missing variable or field.
var ErrNotFound = errors.New("not found")

// Error describes a problem with a MAT-file or with a value read from it.
type Error struct {
	File string // base name of the file
	Path string // where in the file, e.g. `variable "RDMs": element 3: field "RDM"`
	Msg  string
	Err  error // ErrUnsupported, ErrNotFound or nil
}

func (e *Error) Error() string {
	parts := make([]string, 0, 3)
	for _, p := range []string{e.File, e.Path, e.Msg} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ": ")
}

func (e *Error) Unwrap() error { return e.Err }

// numData is one numeric part (real or imaginary) as stored: a data type and little-endian bytes.
type numData struct {
	typ dataType
	b   []byte
}

func (d numData) len() int { return len(d.b) / d.typ.size() }

// at converts element i to float64.
func (d numData) at(i int) float64 {
	switch d.typ {
	case miINT8:
		return float64(int8(d.b[i]))
	case miUINT8:
		return float64(d.b[i])
	case miINT16:
		return float64(int16(binary.LittleEndian.Uint16(d.b[2*i:])))
	case miUINT16:
		return float64(binary.LittleEndian.Uint16(d.b[2*i:]))
	case miINT32:
		return float64(int32(binary.LittleEndian.Uint32(d.b[4*i:])))
	case miUINT32:
		return float64(binary.LittleEndian.Uint32(d.b[4*i:]))
	case miINT64:
		return float64(int64(binary.LittleEndian.Uint64(d.b[8*i:])))
	case miUINT64:
		return float64(binary.LittleEndian.Uint64(d.b[8*i:]))
	case miSINGLE:
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(d.b[4*i:])))
	case miDOUBLE:
		return math.Float64frombits(binary.LittleEndian.Uint64(d.b[8*i:]))
	}
	return math.NaN()
}

func (d numData) float64s() []float64 {
	n := d.len()
	out := make([]float64, n)
	for i := range out {
		out[i] = d.at(i)
	}
	return out
}

type sparseData struct {
	ir []int // row index of each nonzero
	jc []int // column start offsets, cols+1 entries
}

// Value is one MATLAB array: a variable, a struct field, a cell or a struct element.
type Value struct {
	file    string
	path    string
	name    string
	class   Class
	dims    []int
	complex bool
	logical bool
	global  bool

	re, im numData     // numeric and sparse values
	chars  []uint16    // char arrays as UTF-16 code units, column-major
	elems  []*Value    // cells (numel) or struct fields (numel*len(fields), element-major)
	fields []string    // struct and object field names
	objcls string      // object class name
	sparse *sparseData // sparse index data
	err    error       // deferred error for unsupported classes
}

func (v *Value) errf(err error, format string, args ...any) error {
	return &Error{File: v.file, Path: v.path, Msg: fmt.Sprintf(format, args...), Err: err}
}

// Name is the variable name for top-level values, or "" for fields, cells and elements.
func (v *Value) Name() string { return v.name }

// Class is the MATLAB class. Sparse matrices report ClassSparse; logical arrays report
// ClassUint8 with IsLogical true (as in the file format).
func (v *Value) Class() Class { return v.class }

// Dims returns the array dimensions (at least two).
func (v *Value) Dims() []int { return append([]int(nil), v.dims...) }

// Len is the number of elements (the product of Dims).
func (v *Value) Len() int {
	n := 1
	for _, d := range v.dims {
		n *= d
	}
	return n
}

// IsComplex reports whether a numeric or sparse array has an imaginary part.
func (v *Value) IsComplex() bool { return v.complex }

// IsLogical reports whether the array is MATLAB logical.
func (v *Value) IsLogical() bool { return v.logical }

// IsGlobal reports whether the variable was saved as global.
func (v *Value) IsGlobal() bool { return v.global }

// ClassName is the class of an object (ClassObject), or "".
func (v *Value) ClassName() string { return v.objcls }

// Fields returns the field names of a struct or object, in file order.
func (v *Value) Fields() []string { return append([]string(nil), v.fields...) }

func dimsString(d []int) string {
	s := make([]string, len(d))
	for i, x := range d {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, "x")
}

// kind describes the value for error messages: "1x92 struct", "92x92 double", "logical".
func (v *Value) kind() string {
	c := v.class.String()
	if v.logical {
		c = "logical"
	}
	if v.complex {
		c = "complex " + c
	}
	return dimsString(v.dims) + " " + c
}

// String describes the value, e.g. "1x92 struct" or "92x92 double"; use Text for char contents.
func (v *Value) String() string { return v.kind() }

func (v *Value) numeric() bool {
	return v.class.IsNumeric() || v.class == ClassSparse
}

func (v *Value) check() error {
	if v.err != nil {
		return v.err
	}
	return nil
}

func (v *Value) wantNumeric() error {
	if err := v.check(); err != nil {
		return err
	}
	if !v.numeric() {
		return v.errf(nil, "expected numeric, found %s", v.kind())
	}
	return nil
}

// maxDense bounds the number of elements a sparse matrix may be expanded to.
var maxDense = 1 << 28

func (v *Value) dense(part numData) ([]float64, error) {
	if v.class != ClassSparse {
		return part.float64s(), nil
	}
	rows, cols := v.dims[0], v.dims[1]
	if rows != 0 && cols > maxDense/rows {
		return nil, v.errf(nil, "sparse %s too large to expand (limit %d elements)", dimsString(v.dims), maxDense)
	}
	out := make([]float64, rows*cols)
	for j := 0; j < cols; j++ {
		for k := v.sparse.jc[j]; k < v.sparse.jc[j+1]; k++ {
			if v.logical && part.len() == 0 {
				out[j*rows+v.sparse.ir[k]] = 1
				continue
			}
			out[j*rows+v.sparse.ir[k]] = part.at(k)
		}
	}
	return out, nil
}

// Float64s returns the (real part of the) values of any numeric, logical or sparse array
// converted to float64, in MATLAB's column-major order, with the dimensions.
// Sparse matrices are expanded to dense.
func (v *Value) Float64s() ([]float64, []int, error) {
	if err := v.wantNumeric(); err != nil {
		return nil, nil, err
	}
	d, err := v.dense(v.re)
	if err != nil {
		return nil, nil, err
	}
	return d, v.Dims(), nil
}

// Imag returns the imaginary part like Float64s; for a real array it returns zeros.
func (v *Value) Imag() ([]float64, []int, error) {
	if err := v.wantNumeric(); err != nil {
		return nil, nil, err
	}
	if !v.complex {
		re, dims, err := v.Float64s()
		clear(re)
		return re, dims, err
	}
	d, err := v.dense(v.im)
	if err != nil {
		return nil, nil, err
	}
	return d, v.Dims(), nil
}

// Complex128s returns the values as complex numbers, column-major.
func (v *Value) Complex128s() ([]complex128, []int, error) {
	re, dims, err := v.Float64s()
	if err != nil {
		return nil, nil, err
	}
	im, _, err := v.Imag()
	if err != nil {
		return nil, nil, err
	}
	out := make([]complex128, len(re))
	for i := range out {
		out[i] = complex(re[i], im[i])
	}
	return out, dims, nil
}

// RowMajor returns the values like Float64s but in row-major (C) order: the last index varies
// fastest, as in NumPy's default layout.
func (v *Value) RowMajor() ([]float64, []int, error) {
	cm, dims, err := v.Float64s()
	if err != nil {
		return nil, nil, err
	}
	return colToRow(cm, dims), dims, nil
}

// colToRow reorders column-major data of the given dims into row-major order.
func colToRow(cm []float64, dims []int) []float64 {
	out := make([]float64, len(cm))
	if len(cm) == 0 {
		return out
	}
	n := len(dims)
	// column-major strides
	stride := make([]int, n)
	s := 1
	for i := 0; i < n; i++ {
		stride[i] = s
		s *= dims[i]
	}
	idx := make([]int, n)
	off := 0
	for k := range out {
		out[k] = cm[off]
		// increment the row-major counter: last index fastest
		for d := n - 1; d >= 0; d-- {
			idx[d]++
			off += stride[d]
			if idx[d] < dims[d] {
				break
			}
			off -= stride[d] * idx[d]
			idx[d] = 0
		}
	}
	return out
}

// Matrix returns a 2-D numeric array as rows, cols and row-major data (data[i*cols+j] is
// element (i+1, j+1) in MATLAB). Arrays with more than two non-singleton trailing dimensions
// are an error.
func (v *Value) Matrix() (rows, cols int, data []float64, err error) {
	if err := v.wantNumeric(); err != nil {
		return 0, 0, nil, err
	}
	for _, d := range v.dims[2:] {
		if d != 1 {
			return 0, 0, nil, v.errf(nil, "expected a 2-D matrix, found %s", v.kind())
		}
	}
	cm, _, err := v.Float64s()
	if err != nil {
		return 0, 0, nil, err
	}
	rows, cols = v.dims[0], v.dims[1]
	return rows, cols, colToRow(cm, []int{rows, cols}), nil
}

// Scalar returns the single value of a 1x1 numeric array.
func (v *Value) Scalar() (float64, error) {
	if err := v.wantNumeric(); err != nil {
		return 0, err
	}
	if v.Len() != 1 {
		return 0, v.errf(nil, "expected a scalar, found %s", v.kind())
	}
	d, _, err := v.Float64s()
	if err != nil {
		return 0, err
	}
	return d[0], nil
}

// Uint8s returns the raw values of a uint8 or logical array, column-major, without conversion
// (images are usually stored this way).
func (v *Value) Uint8s() ([]uint8, []int, error) {
	if err := v.check(); err != nil {
		return nil, nil, err
	}
	if v.class != ClassUint8 {
		return nil, nil, v.errf(nil, "expected uint8, found %s", v.kind())
	}
	if v.re.typ == miUINT8 {
		return append([]uint8(nil), v.re.b...), v.Dims(), nil
	}
	out := make([]uint8, v.re.len())
	for i := range out {
		x := v.re.at(i)
		if x < 0 || x > 255 || x != math.Trunc(x) {
			return nil, nil, v.errf(nil, "uint8 array holds %v at index %d", x, i)
		}
		out[i] = uint8(x)
	}
	return out, v.Dims(), nil
}

// Text returns the contents of a char row vector (1xN, or empty).
func (v *Value) Text() (string, error) {
	if err := v.check(); err != nil {
		return "", err
	}
	if v.class != ClassChar {
		return "", v.errf(nil, "expected char, found %s", v.kind())
	}
	if v.Len() != 0 && (len(v.dims) != 2 || v.dims[0] != 1) {
		return "", v.errf(nil, "expected a char row vector, found %s", v.kind())
	}
	return string(utf16.Decode(v.chars)), nil
}

// Strings returns the rows of a 2-D char array (MATLAB pads rows with spaces; they are kept),
// or the texts of a cell array of char row vectors, in column-major cell order.
func (v *Value) Strings() ([]string, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	switch v.class {
	case ClassChar:
		if len(v.dims) != 2 {
			return nil, v.errf(nil, "expected a 2-D char array, found %s", v.kind())
		}
		rows, cols := v.dims[0], v.dims[1]
		out := make([]string, rows)
		r := make([]uint16, cols)
		for i := range out {
			for j := range r {
				r[j] = v.chars[j*rows+i]
			}
			out[i] = string(utf16.Decode(r))
		}
		return out, nil
	case ClassCell:
		out := make([]string, len(v.elems))
		for i, c := range v.elems {
			s, err := c.Text()
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, v.errf(nil, "expected char or cell of char, found %s", v.kind())
}

// Cell returns element i (column-major, zero-based) of a cell array.
func (v *Value) Cell(i int) (*Value, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	if v.class != ClassCell {
		return nil, v.errf(nil, "expected cell, found %s", v.kind())
	}
	if i < 0 || i >= len(v.elems) {
		return nil, v.errf(nil, "cell index %d out of range for %s", i, v.kind())
	}
	return v.elems[i], nil
}

// Index returns element i (column-major, zero-based) of a struct or object array as a 1x1
// struct, or of a cell array as the cell's contents (same as Cell).
func (v *Value) Index(i int) (*Value, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	if v.class == ClassCell {
		return v.Cell(i)
	}
	if v.class != ClassStruct && v.class != ClassObject {
		return nil, v.errf(nil, "expected struct, found %s", v.kind())
	}
	n := v.Len()
	if i < 0 || i >= n {
		return nil, v.errf(nil, "index %d out of range for %s", i, v.kind())
	}
	nf := len(v.fields)
	return &Value{
		file: v.file, path: joinPath(v.path, "element "+strconv.Itoa(i)),
		class: v.class, dims: []int{1, 1}, fields: v.fields, objcls: v.objcls,
		elems: v.elems[i*nf : (i+1)*nf],
	}, nil
}

// Field returns field name of a 1x1 struct (or object); use Index first for struct arrays.
func (v *Value) Field(name string) (*Value, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	if v.class != ClassStruct && v.class != ClassObject {
		return nil, v.errf(nil, "expected struct, found %s (looking for field %q)", v.kind(), name)
	}
	if v.Len() != 1 {
		return nil, v.errf(nil, "field %q of %s: expected a 1x1 struct, use Index", name, v.kind())
	}
	for k, f := range v.fields {
		if f == name {
			return v.elems[k], nil
		}
	}
	return nil, v.errf(ErrNotFound, "no field %q (fields: %s)", name, strings.Join(v.fields, ", "))
}

func joinPath(a, b string) string {
	if a == "" {
		return b
	}
	return a + ": " + b
}
