package mat

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"io"
	"math"
	"path/filepath"
	"unicode/utf16"
)

// Var is a named value to write.
type Var struct {
	Name  string
	Value *Value
}

// NewArray returns a double array with the given dimensions and column-major data.
// Write reports a mismatch between dims and len(colMajor).
func NewArray(dims []int, colMajor []float64) *Value {
	b := make([]byte, 8*len(colMajor))
	for i, x := range colMajor {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return &Value{class: ClassDouble, dims: append([]int(nil), dims...), re: numData{typ: miDOUBLE, b: b}}
}

// NewMatrix returns a rows x cols double matrix from row-major data (data[i*cols+j]).
func NewMatrix(rows, cols int, rowMajor []float64) *Value {
	if rows < 0 || cols < 0 || rows*cols != len(rowMajor) {
		// Keep the data as given; Write reports the mismatch.
		return NewArray([]int{rows, cols}, rowMajor)
	}
	cm := make([]float64, len(rowMajor))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			cm[j*rows+i] = rowMajor[i*cols+j]
		}
	}
	return NewArray([]int{rows, cols}, cm)
}

// NewSingle returns a single-precision array with the given dimensions and column-major data.
func NewSingle(dims []int, colMajor []float32) *Value {
	b := make([]byte, 4*len(colMajor))
	for i, x := range colMajor {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return &Value{class: ClassSingle, dims: append([]int(nil), dims...), re: numData{typ: miSINGLE, b: b}}
}

// NewChar returns a 1xN char array holding s (N counts UTF-16 code units, as in MATLAB).
func NewChar(s string) *Value {
	u := utf16.Encode([]rune(s))
	return &Value{class: ClassChar, dims: []int{1, len(u)}, chars: u}
}

// Write writes vars to a MAT-file at path, zlib-compressing each variable if compress is set.
// The file is written to a temporary file in the same directory and renamed into place.
// Numeric (any class, real or complex, including values read from another file) and char
// values are supported.
func Write(path string, vars []Var, compress bool) error {
	var buf bytes.Buffer
	if err := Encode(&buf, vars, compress); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return atomicfile.Write(path, buf.Bytes())
}

// Encode writes a MAT-file holding vars to w.
func Encode(w io.Writer, vars []Var, compress bool) error {
	hdr := make([]byte, headerLen)
	for i := range hdr[:116] {
		hdr[i] = ' '
	}
	copy(hdr, "MATLAB 5.0 MAT-file, written by ventral")
	binary.LittleEndian.PutUint16(hdr[124:], 0x0100)
	copy(hdr[126:], "IM")
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, nv := range vars {
		if !validName(nv.Name) {
			return fmt.Errorf("variable %q: invalid MATLAB name (letter, then letters, digits or _, at most 63)", nv.Name)
		}
		if seen[nv.Name] {
			return fmt.Errorf("variable %q: written twice", nv.Name)
		}
		seen[nv.Name] = true
		body, err := encodeMatrix(nv.Name, nv.Value)
		if err != nil {
			return fmt.Errorf("variable %q: %w", nv.Name, err)
		}
		el := appendElement(nil, miMATRIX, body)
		if compress {
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write(el)
			if err := zw.Close(); err != nil {
				return err
			}
			if z.Len() > math.MaxUint32 {
				return fmt.Errorf("variable %q: compressed size %d exceeds 4 GiB", nv.Name, z.Len())
			}
			var tag [8]byte
			binary.LittleEndian.PutUint32(tag[:], uint32(miCOMPRESSED))
			binary.LittleEndian.PutUint32(tag[4:], uint32(z.Len()))
			el = append(tag[:], z.Bytes()...)
		}
		if _, err := w.Write(el); err != nil {
			return err
		}
	}
	return nil
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !(letter || i > 0 && (c == '_' || c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// appendElement appends a tagged element, using the small format for 1 to 4 bytes of data.
func appendElement(dst []byte, typ dataType, data []byte) []byte {
	if n := len(data); n > 0 && n <= 4 && typ != miMATRIX {
		var e [8]byte
		binary.LittleEndian.PutUint32(e[:], uint32(n)<<16|uint32(typ))
		copy(e[4:], data)
		return append(dst, e[:]...)
	}
	var tag [8]byte
	binary.LittleEndian.PutUint32(tag[:], uint32(typ))
	binary.LittleEndian.PutUint32(tag[4:], uint32(len(data)))
	dst = append(dst, tag[:]...)
	dst = append(dst, data...)
	for len(dst)%8 != 0 {
		dst = append(dst, 0)
	}
	return dst
}

func encodeMatrix(name string, v *Value) ([]byte, error) {
	if v == nil {
		return nil, fmt.Errorf("nil value")
	}
	if v.err != nil {
		return nil, v.err
	}
	if len(v.dims) < 2 {
		return nil, fmt.Errorf("%d dimensions, need at least 2", len(v.dims))
	}
	numel := 1
	dims := make([]byte, 4*len(v.dims))
	for i, d := range v.dims {
		if d < 0 || d > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %d is %d, out of range", i, d)
		}
		if d != 0 && numel > maxNumel/d {
			return nil, fmt.Errorf("dimensions %s too large", dimsString(v.dims))
		}
		numel *= d
		binary.LittleEndian.PutUint32(dims[4*i:], uint32(d))
	}
	flags := uint32(v.class)
	if v.complex {
		flags |= 0x800
	}
	if v.logical {
		flags |= 0x200
	}
	var fl [8]byte
	binary.LittleEndian.PutUint32(fl[:], flags)
	b := appendElement(nil, miUINT32, fl[:])
	b = appendElement(b, miINT32, dims)
	b = appendElement(b, miINT8, []byte(name))
	switch {
	case v.class.IsNumeric():
		parts := []numData{v.re}
		if v.complex {
			parts = append(parts, v.im)
		}
		for _, part := range parts {
			if part.typ.size() == 0 || part.len() != numel {
				return nil, fmt.Errorf("%s needs %d values, has %d", dimsString(v.dims), numel, part.len())
			}
			b = appendElement(b, part.typ, part.b)
		}
	case v.class == ClassChar:
		if len(v.chars) != numel {
			return nil, fmt.Errorf("char %s needs %d characters, has %d", dimsString(v.dims), numel, len(v.chars))
		}
		d := make([]byte, 2*len(v.chars))
		for i, c := range v.chars {
			binary.LittleEndian.PutUint16(d[2*i:], c)
		}
		b = appendElement(b, miUINT16, d)
	default:
		return nil, fmt.Errorf("writing %s values is not supported (numeric and char only)", v.class)
	}
	if len(b) > math.MaxUint32 {
		return nil, fmt.Errorf("%d bytes exceed the 4 GiB element limit", len(b))
	}
	return b, nil
}
