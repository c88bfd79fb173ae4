package mat

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

type dataType uint32

// MAT-file data types.
const (
	miINT8       dataType = 1
	miUINT8      dataType = 2
	miINT16      dataType = 3
	miUINT16     dataType = 4
	miINT32      dataType = 5
	miUINT32     dataType = 6
	miSINGLE     dataType = 7
	miDOUBLE     dataType = 9
	miINT64      dataType = 12
	miUINT64     dataType = 13
	miMATRIX     dataType = 14
	miCOMPRESSED dataType = 15
	miUTF8       dataType = 16
	miUTF16      dataType = 17
	miUTF32      dataType = 18
)

// size is the byte size of one value, or 0 for non-numeric types.
func (t dataType) size() int {
	switch t {
	case miINT8, miUINT8, miUTF8:
		return 1
	case miINT16, miUINT16, miUTF16:
		return 2
	case miINT32, miUINT32, miSINGLE, miUTF32:
		return 4
	case miDOUBLE, miINT64, miUINT64:
		return 8
	}
	return 0
}

func (t dataType) String() string {
	names := map[dataType]string{
		miINT8: "miINT8", miUINT8: "miUINT8", miINT16: "miINT16", miUINT16: "miUINT16",
		miINT32: "miINT32", miUINT32: "miUINT32", miSINGLE: "miSINGLE", miDOUBLE: "miDOUBLE",
		miINT64: "miINT64", miUINT64: "miUINT64", miMATRIX: "miMATRIX", miCOMPRESSED: "miCOMPRESSED",
		miUTF8: "miUTF8", miUTF16: "miUTF16", miUTF32: "miUTF32",
	}
	if s, ok := names[t]; ok {
		return s
	}
	return "data type " + strconv.FormatUint(uint64(t), 10)
}

func (t dataType) isNumber() bool {
	return t.size() != 0 && t != miUTF8 && t != miUTF16 && t != miUTF32
}

const (
	headerLen = 128
	// maxDepth bounds the nesting of cells and structs.
	maxDepth = 64
	// maxNumel bounds the element count that dims may declare.
	maxNumel = 1 << 50
)

// File is a parsed MAT-file.
type File struct {
	name   string
	header string
	vars   []*Value
	index  map[string]*Value
}

// Open reads and parses the MAT-file at path.
func Open(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(filepath.Base(path), data)
}

// Parse parses a MAT-file held in memory; name is used in error messages.
func Parse(name string, data []byte) (*File, error) {
	ferr := func(err error, format string, args ...any) error {
		return &Error{File: name, Msg: fmt.Sprintf(format, args...), Err: err}
	}
	if len(data) < headerLen {
		return nil, ferr(nil, "file is %d bytes, shorter than the 128-byte MAT-file header", len(data))
	}
	var order binary.ByteOrder
	switch string(data[126:128]) {
	case "IM":
		order = binary.LittleEndian
	case "MI":
		order = binary.BigEndian
	default:
		if bytes.HasPrefix(data, []byte("\x89HDF")) || bytes.Contains(data[:116], []byte("MATLAB 7.3")) {
			return nil, ferr(ErrUnsupported, "MATLAB -v7.3 (HDF5) files are not supported")
		}
		return nil, ferr(nil, "bad endian indicator %q at byte 126, expected \"IM\" or \"MI\" (not a level-5 MAT-file)", data[126:128])
	}
	if v := order.Uint16(data[124:126]); v != 0x0100 {
		if bytes.Contains(data[:116], []byte("MATLAB 7.3")) {
			return nil, ferr(ErrUnsupported, "MATLAB -v7.3 (HDF5) files are not supported")
		}
		return nil, ferr(nil, "header version 0x%04x, expected 0x0100", v)
	}
	f := &File{name: name, header: strings.TrimRight(string(data[:116]), " \x00"), index: map[string]*Value{}}
	p := &parser{file: name, order: order}
	buf := data[headerLen:]
	for pos := headerLen; len(buf) > 0; {
		if len(buf) < 8 {
			// Trailing padding shorter than a tag is tolerated.
			if allZero(buf) {
				break
			}
			return nil, ferr(nil, "%d stray bytes at offset %d, expected a data element", len(buf), pos)
		}
		el, rest, err := p.next(buf, fmt.Sprintf("element at offset %d", pos))
		if err != nil {
			return nil, err
		}
		pos += len(buf) - len(rest)
		buf = rest
		if el.typ == miCOMPRESSED {
			raw, err := inflate(el.data)
			if err != nil {
				return nil, ferr(nil, "compressed element at offset %d: %v", pos, err)
			}
			el, _, err = p.next(raw, fmt.Sprintf("compressed element at offset %d", pos))
			if err != nil {
				return nil, err
			}
		}
		if el.typ != miMATRIX {
			return nil, ferr(nil, "top-level element at offset %d is %v, expected miMATRIX", pos, el.typ)
		}
		v, err := p.matrix(el.data, "", 0, true)
		if err != nil {
			return nil, err
		}
		f.vars = append(f.vars, v)
		if _, dup := f.index[v.name]; !dup && v.name != "" {
			f.index[v.name] = v
		}
	}
	return f, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// inflate decompresses a zlib stream, reading gradually so that memory follows the real size.
func inflate(b []byte) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	// A tag's length is at most 2^32-1 bytes, so one element inflates to at most 2^32+7 bytes.
	out, err := io.ReadAll(io.LimitReader(zr, 1<<32+8))
	if err != nil {
		// Some writers end the stream without a checksum; keep what inflated fine.
		if errors.Is(err, io.ErrUnexpectedEOF) && len(out) >= 8 {
			return out, nil
		}
		return nil, err
	}
	return out, nil
}

// Header returns the descriptive text of the 128-byte header.
func (f *File) Header() string { return f.header }

// Names returns the variable names in file order.
func (f *File) Names() []string {
	var out []string
	for _, v := range f.vars {
		if v.name != "" {
			out = append(out, v.name)
		}
	}
	return out
}

// Var returns the variable called name.
func (f *File) Var(name string) (*Value, error) {
	v, ok := f.index[name]
	if !ok {
		return nil, &Error{File: f.name, Path: fmt.Sprintf("variable %q", name), Msg: "not in file (variables: " + strings.Join(f.Names(), ", ") + ")", Err: ErrNotFound}
	}
	if v.err != nil {
		return nil, v.err
	}
	return v, nil
}

type element struct {
	typ  dataType
	data []byte
}

type parser struct {
	file  string
	order binary.ByteOrder
}

func (p *parser) errf(path, format string, args ...any) error {
	return &Error{File: p.file, Path: path, Msg: fmt.Sprintf(format, args...)}
}

// next splits one data element off buf.
func (p *parser) next(buf []byte, path string) (element, []byte, error) {
	if len(buf) < 8 {
		return element{}, nil, p.errf(path, "truncated: %d bytes left, expected an 8-byte element tag", len(buf))
	}
	w := p.order.Uint32(buf)
	if w>>16 != 0 { // small data element: 2-byte size, 2-byte type, 4 bytes of data
		n := int(w >> 16)
		typ := dataType(w & 0xffff)
		if n > 4 {
			return element{}, nil, p.errf(path, "small data element of %v claims %d bytes, at most 4 allowed", typ, n)
		}
		return element{typ, buf[4 : 4+n]}, buf[8:], nil
	}
	typ := dataType(w)
	n := uint64(p.order.Uint32(buf[4:]))
	if n > uint64(len(buf)-8) {
		return element{}, nil, p.errf(path, "%v element claims %d bytes, only %d left", typ, n, len(buf)-8)
	}
	end := 8 + int(n)
	next := end
	if typ != miCOMPRESSED {
		next = (end + 7) &^ 7
		if next > len(buf) {
			next = len(buf)
		}
	}
	return element{typ, buf[8:end]}, buf[next:], nil
}

// le converts numeric element data to little-endian in place order (copying if needed).
func (p *parser) le(el element) []byte {
	sz := el.typ.size()
	if p.order == binary.LittleEndian || sz <= 1 {
		return el.data
	}
	out := make([]byte, len(el.data))
	for i := 0; i+sz <= len(el.data); i += sz {
		for k := 0; k < sz; k++ {
			out[i+k] = el.data[i+sz-1-k]
		}
	}
	return out
}

func (p *parser) ints(el element, path, what string) ([]int, error) {
	if el.typ != miINT32 && el.typ != miUINT32 {
		return nil, p.errf(path, "%s stored as %v, expected miINT32", what, el.typ)
	}
	if len(el.data)%4 != 0 {
		return nil, p.errf(path, "%s has %d bytes, not a multiple of 4", what, len(el.data))
	}
	out := make([]int, len(el.data)/4)
	for i := range out {
		x := p.order.Uint32(el.data[4*i:])
		if el.typ == miINT32 {
			if int32(x) < 0 {
				return nil, p.errf(path, "%s[%d] = %d, expected >= 0", what, i, int32(x))
			}
		} else if x > math.MaxInt32 {
			return nil, p.errf(path, "%s[%d] = %d is too large", what, i, x)
		}
		out[i] = int(x)
	}
	return out, nil
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// matrix parses the contents of an miMATRIX element.
func (p *parser) matrix(b []byte, path string, depth int, top bool) (*Value, error) {
	if depth > maxDepth {
		return nil, p.errf(path, "nesting deeper than %d levels", maxDepth)
	}
	v := &Value{file: p.file, path: path}
	if len(b) == 0 { // an empty placeholder, e.g. an unset struct field
		v.class, v.dims = ClassDouble, []int{0, 0}
		v.re = numData{typ: miDOUBLE}
		return v, nil
	}
	flagsEl, b, err := p.next(b, joinPath(path, "array flags"))
	if err != nil {
		return nil, err
	}
	if flagsEl.typ != miUINT32 || len(flagsEl.data) != 8 {
		return nil, p.errf(path, "array flags are %v of %d bytes, expected 8 bytes of miUINT32", flagsEl.typ, len(flagsEl.data))
	}
	flags := p.order.Uint32(flagsEl.data)
	nzmax := int(p.order.Uint32(flagsEl.data[4:]))
	v.class = Class(flags & 0xff)
	v.complex = flags&0x800 != 0
	v.global = flags&0x400 != 0
	v.logical = flags&0x200 != 0
	if v.class == ClassOpaque || v.class == ClassFunction {
		v.dims = []int{1, 1}
		if v.class == ClassOpaque { // opaque arrays have no dims: the name follows the flags
			if nameEl, _, err := p.next(b, joinPath(path, "name")); err == nil {
				v.name = cstring(nameEl.data)
			}
		}
		if top {
			v.path = fmt.Sprintf("variable %q", v.name)
		}
		v.err = v.errf(ErrUnsupported, "%s arrays are not supported", v.class)
		return v, nil
	}
	dimsEl, b, err := p.next(b, joinPath(path, "dimensions"))
	if err != nil {
		return nil, err
	}
	v.dims, err = p.ints(dimsEl, path, "dimensions")
	if err != nil {
		return nil, err
	}
	if len(v.dims) < 2 {
		return nil, p.errf(path, "%d dimensions, expected at least 2", len(v.dims))
	}
	numel := 1
	for _, d := range v.dims {
		if d != 0 && numel > maxNumel/d {
			return nil, p.errf(path, "dimensions %s hold too many elements", dimsString(v.dims))
		}
		numel *= d
	}
	nameEl, b, err := p.next(b, joinPath(path, "name"))
	if err != nil {
		return nil, err
	}
	if nameEl.typ != miINT8 && nameEl.typ != miUINT8 {
		return nil, p.errf(path, "array name stored as %v, expected miINT8", nameEl.typ)
	}
	v.name = cstring(nameEl.data)
	if top {
		path = fmt.Sprintf("variable %q", v.name)
		v.path = path
	}
	switch {
	case v.class.IsNumeric():
		return v, p.numeric(v, b, numel)
	case v.class == ClassChar:
		return v, p.char(v, b, numel)
	case v.class == ClassSparse:
		return v, p.sparse(v, b, nzmax)
	case v.class == ClassCell:
		if numel > len(b)/8 {
			return nil, p.errf(path, "cell array %s needs %d elements, only %d bytes left", dimsString(v.dims), numel, len(b))
		}
		v.elems = make([]*Value, numel)
		for i := range v.elems {
			cp := joinPath(path, "cell "+strconv.Itoa(i))
			var el element
			if el, b, err = p.next(b, cp); err != nil {
				return nil, err
			}
			if el.typ != miMATRIX {
				return nil, p.errf(cp, "stored as %v, expected miMATRIX", el.typ)
			}
			if v.elems[i], err = p.matrix(el.data, cp, depth+1, false); err != nil {
				return nil, err
			}
		}
		return v, nil
	case v.class == ClassStruct || v.class == ClassObject:
		return v, p.structure(v, b, numel, depth)
	}
	return nil, p.errf(path, "unknown array class %d", v.class)
}

func (p *parser) numeric(v *Value, b []byte, numel int) error {
	parts := []*numData{&v.re}
	names := []string{"real part"}
	if v.complex {
		parts = append(parts, &v.im)
		names = append(names, "imaginary part")
	}
	for k, part := range parts {
		if len(b) == 0 && numel == 0 { // empty arrays may omit their data
			*part = numData{typ: miDOUBLE}
			continue
		}
		el, rest, err := p.next(b, joinPath(v.path, names[k]))
		if err != nil {
			return err
		}
		b = rest
		if !el.typ.isNumber() {
			return p.errf(v.path, "%s stored as %v, expected a numeric data type", names[k], el.typ)
		}
		if len(el.data) != numel*el.typ.size() {
			return p.errf(v.path, "%s has %d bytes of %v, expected %d values for %s", names[k], len(el.data), el.typ, numel, v.kind())
		}
		*part = numData{typ: el.typ, b: p.le(el)}
	}
	return nil
}

func (p *parser) char(v *Value, b []byte, numel int) error {
	if len(b) == 0 && numel == 0 {
		return nil
	}
	el, _, err := p.next(b, joinPath(v.path, "characters"))
	if err != nil {
		return err
	}
	var u []uint16
	switch el.typ {
	case miUTF16, miUINT16, miINT16:
		d := p.le(element{miUINT16, el.data})
		u = make([]uint16, len(d)/2)
		for i := range u {
			u[i] = binary.LittleEndian.Uint16(d[2*i:])
		}
	case miUTF8:
		if !utf8.Valid(el.data) {
			return p.errf(v.path, "char data is not valid UTF-8")
		}
		u = utf16.Encode([]rune(string(el.data)))
	case miUINT8, miINT8:
		u = make([]uint16, len(el.data))
		for i, c := range el.data {
			u[i] = uint16(c)
		}
	case miUTF32, miUINT32, miINT32:
		d := p.le(element{miUINT32, el.data})
		r := make([]rune, len(d)/4)
		for i := range r {
			r[i] = rune(binary.LittleEndian.Uint32(d[4*i:]))
		}
		u = utf16.Encode(r)
	default:
		return p.errf(v.path, "char data stored as %v, expected miUTF16, miUTF8 or miUINT8", el.typ)
	}
	if len(u) != numel {
		return p.errf(v.path, "char data holds %d UTF-16 code units, expected %d for %s", len(u), numel, v.kind())
	}
	v.chars = u
	return nil
}

func (p *parser) sparse(v *Value, b []byte, nzmax int) error {
	if len(v.dims) != 2 {
		return p.errf(v.path, "sparse array with %d dimensions, expected 2", len(v.dims))
	}
	rows, cols := v.dims[0], v.dims[1]
	var ir, jc []int
	var err error
	for _, what := range []string{"row indices", "column offsets"} {
		var el element
		if el, b, err = p.next(b, joinPath(v.path, what)); err != nil {
			return err
		}
		x, err := p.ints(el, v.path, "sparse "+what)
		if err != nil {
			return err
		}
		if ir == nil {
			ir = x
		} else {
			jc = x
		}
	}
	if len(jc) != cols+1 {
		return p.errf(v.path, "sparse column offsets have %d entries, expected %d", len(jc), cols+1)
	}
	if jc[0] != 0 {
		return p.errf(v.path, "sparse column offsets start at %d, expected 0", jc[0])
	}
	for j := 0; j < cols; j++ {
		if jc[j+1] < jc[j] {
			return p.errf(v.path, "sparse column offsets decrease at column %d", j)
		}
	}
	nnz := jc[cols]
	if nnz > len(ir) {
		return p.errf(v.path, "sparse matrix has %d nonzeros but %d row indices", nnz, len(ir))
	}
	for k := 0; k < nnz; k++ {
		if ir[k] >= rows {
			return p.errf(v.path, "sparse row index %d out of range for %d rows", ir[k], rows)
		}
	}
	_ = nzmax
	v.sparse = &sparseData{ir: ir[:nnz], jc: jc}
	parts := []*numData{&v.re}
	if v.complex {
		parts = append(parts, &v.im)
	}
	for _, part := range parts {
		if len(b) == 0 && v.logical {
			break
		}
		el, rest, err := p.next(b, joinPath(v.path, "sparse values"))
		if err != nil {
			return err
		}
		b = rest
		if !el.typ.isNumber() {
			return p.errf(v.path, "sparse values stored as %v, expected a numeric data type", el.typ)
		}
		n := len(el.data) / el.typ.size()
		if len(el.data)%el.typ.size() != 0 || n < nnz {
			return p.errf(v.path, "sparse values: %d bytes of %v, expected at least %d values", len(el.data), el.typ, nnz)
		}
		*part = numData{typ: el.typ, b: p.le(element{el.typ, el.data[:nnz*el.typ.size()]})}
	}
	if v.re.typ == 0 {
		v.re = numData{typ: miDOUBLE}
	}
	return nil
}

func (p *parser) structure(v *Value, b []byte, numel, depth int) error {
	var err error
	if v.class == ClassObject {
		var el element
		if el, b, err = p.next(b, joinPath(v.path, "class name")); err != nil {
			return err
		}
		v.objcls = cstring(el.data)
	}
	lenEl, b, err := p.next(b, joinPath(v.path, "field name length"))
	if err != nil {
		return err
	}
	l, err := p.ints(lenEl, v.path, "field name length")
	if err != nil {
		return err
	}
	if len(l) != 1 || l[0] == 0 {
		return p.errf(v.path, "field name length element holds %v, expected one positive value", l)
	}
	namesEl, b, err := p.next(b, joinPath(v.path, "field names"))
	if err != nil {
		return err
	}
	if len(namesEl.data)%l[0] != 0 {
		return p.errf(v.path, "field names take %d bytes, not a multiple of the name length %d", len(namesEl.data), l[0])
	}
	nf := len(namesEl.data) / l[0]
	v.fields = make([]string, nf)
	for k := range v.fields {
		v.fields[k] = cstring(namesEl.data[k*l[0] : (k+1)*l[0]])
	}
	if nf != 0 && numel > len(b)/8/nf {
		return p.errf(v.path, "struct %s with %d fields needs %d elements, only %d bytes left", dimsString(v.dims), nf, numel*nf, len(b))
	}
	v.elems = make([]*Value, numel*nf)
	for i := 0; i < numel; i++ {
		for k, name := range v.fields {
			fp := fmt.Sprintf("field %q", name)
			if numel != 1 {
				fp = "element " + strconv.Itoa(i) + ": " + fp
			}
			fp = joinPath(v.path, fp)
			var el element
			if el, b, err = p.next(b, fp); err != nil {
				return err
			}
			if el.typ != miMATRIX {
				return p.errf(fp, "stored as %v, expected miMATRIX", el.typ)
			}
			if v.elems[i*nf+k], err = p.matrix(el.data, fp, depth+1, false); err != nil {
				return err
			}
		}
	}
	return nil
}
