// Package npy reads and writes NumPy .npy arrays and .npz archives.
//
// The format reference is NumPy's "numpy.lib.format" documentation (NEP 1): a magic string
// "\x93NUMPY", a major and minor version byte, a little-endian header length (2 bytes in
// version 1.0, 4 bytes in 2.0 and 3.0), and a Python dict literal with the keys 'descr',
// 'fortran_order' and 'shape', padded with spaces to a multiple of 64 bytes and ended by a
// newline; the raw data follows. An .npz file is a zip archive of .npy members, stored or
// deflated.
//
// Readers accept the simple dtypes f8 f4 f2 i8 i4 i2 i1 u8 u4 u2 u1 b1 in either byte order
// and C or Fortran layout, and always return data in C (row-major) order: the last index
// varies fastest. Structured, object, string and complex dtypes are rejected with an error.
// Writers store little-endian float64 or float32 in C order, through a temporary file that is
// renamed into place.
package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Array is an N-dimensional float64 array in C order.
type Array struct {
	Shape []int
	Data  []float64
}

// Array32 is an N-dimensional float32 array in C order.
type Array32 struct {
	Shape []int
	Data  []float32
}

const (
	magic = "\x93NUMPY"
	// maxHeader bounds the header dict (NumPy itself refuses more than 10000 bytes by default).
	maxHeader = 1 << 20
	// maxElems bounds the element count a shape may declare.
	maxElems = 1 << 50
)

// ErrUnsupported is wrapped by errors about valid files this package cannot read.
var ErrUnsupported = errors.New("unsupported")

// header is a parsed .npy header.
type header struct {
	descr   string
	order   binary.ByteOrder
	kind    byte // 'f', 'i', 'u', 'b'
	size    int  // bytes per element
	fortran bool
	shape   []int
	n       int // number of elements
}

func errf(name, format string, args ...any) error {
	return fmt.Errorf(name+": "+format, args...)
}

// Read reads a .npy file as float64, whatever its numeric dtype.
func Read(path string) (*Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode(filepath.Base(path), b)
}

// ReadFloat32 reads a .npy file as float32 (converting other dtypes).
func ReadFloat32(path string) (*Array32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Decode32(filepath.Base(path), b)
}

// Decode parses .npy bytes; name is used in error messages.
func Decode(name string, b []byte) (*Array, error) {
	h, data, err := parse(name, b)
	if err != nil {
		return nil, err
	}
	out := make([]float64, h.n)
	for i := range out {
		out[i] = h.at(data, i)
	}
	return &Array{Shape: h.shape, Data: h.toC(out)}, nil
}

// Decode32 parses .npy bytes into float32; name is used in error messages.
func Decode32(name string, b []byte) (*Array32, error) {
	h, data, err := parse(name, b)
	if err != nil {
		return nil, err
	}
	out := make([]float32, h.n)
	if h.kind == 'f' && h.size == 4 {
		for i := range out {
			out[i] = math.Float32frombits(h.order.Uint32(data[4*i:]))
		}
	} else {
		for i := range out {
			out[i] = float32(h.at(data, i))
		}
	}
	return &Array32{Shape: h.shape, Data: h.toC32(out)}, nil
}

// parse validates the header and returns it with the data bytes.
func parse(name string, b []byte) (*header, []byte, error) {
	h, start, err := parseMeta(name, b)
	if err != nil {
		return nil, nil, err
	}
	data := b[start:]
	if h.n > len(data)/h.size {
		return nil, nil, errf(name, "shape %v of %s needs %d data bytes, file has %d", h.shape, h.descr, h.n*h.size, len(data))
	}
	return h, data[:h.n*h.size], nil
}

// parseMeta parses the magic string, version and header dictionary at the start of b and
// returns the header with the offset where the data begin.
func parseMeta(name string, b []byte) (*header, int, error) {
	if len(b) < 10 || string(b[:6]) != magic {
		return nil, 0, errf(name, "not a .npy file (expected the magic string \\x93NUMPY)")
	}
	major, minor := b[6], b[7]
	var hlen, start int
	switch major {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, 0, errf(name, "truncated header")
		}
		l := binary.LittleEndian.Uint32(b[8:])
		if l > maxHeader {
			return nil, 0, errf(name, "header length %d exceeds %d bytes", l, maxHeader)
		}
		hlen, start = int(l), 12
	default:
		return nil, 0, errf(name, "format version %d.%d, expected 1.0, 2.0 or 3.0: %w", major, minor, ErrUnsupported)
	}
	if hlen > len(b)-start {
		return nil, 0, errf(name, "header length %d, only %d bytes follow", hlen, len(b)-start)
	}
	h, err := parseHeader(string(b[start : start+hlen]))
	if err != nil {
		return nil, 0, errf(name, "header: %v", err)
	}
	return h, start + hlen, nil
}

func (h *header) at(d []byte, i int) float64 {
	switch h.kind {
	case 'f':
		switch h.size {
		case 8:
			return math.Float64frombits(h.order.Uint64(d[8*i:]))
		case 4:
			return float64(math.Float32frombits(h.order.Uint32(d[4*i:])))
		case 2:
			return halfToFloat(h.order.Uint16(d[2*i:]))
		}
	case 'i':
		switch h.size {
		case 8:
			return float64(int64(h.order.Uint64(d[8*i:])))
		case 4:
			return float64(int32(h.order.Uint32(d[4*i:])))
		case 2:
			return float64(int16(h.order.Uint16(d[2*i:])))
		case 1:
			return float64(int8(d[i]))
		}
	case 'u':
		switch h.size {
		case 8:
			return float64(h.order.Uint64(d[8*i:]))
		case 4:
			return float64(h.order.Uint32(d[4*i:]))
		case 2:
			return float64(h.order.Uint16(d[2*i:]))
		case 1:
			return float64(d[i])
		}
	case 'b':
		if d[i] != 0 {
			return 1
		}
		return 0
	}
	return math.NaN()
}

// halfToFloat converts an IEEE 754 binary16 value.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}

// fortranIndex maps each C-order position to its position in Fortran-ordered data.
func fortranIndex(shape []int, n int, visit func(c, f int)) {
	nd := len(shape)
	stride := make([]int, nd) // Fortran strides
	s := 1
	for i := 0; i < nd; i++ {
		stride[i] = s
		s *= shape[i]
	}
	idx := make([]int, nd)
	off := 0
	for k := 0; k < n; k++ {
		visit(k, off)
		for d := nd - 1; d >= 0; d-- {
			idx[d]++
			off += stride[d]
			if idx[d] < shape[d] {
				break
			}
			off -= stride[d] * idx[d]
			idx[d] = 0
		}
	}
}

func (h *header) toC(x []float64) []float64 {
	if !h.fortran || len(h.shape) < 2 {
		return x
	}
	out := make([]float64, len(x))
	fortranIndex(h.shape, len(x), func(c, f int) { out[c] = x[f] })
	return out
}

func (h *header) toC32(x []float32) []float32 {
	if !h.fortran || len(h.shape) < 2 {
		return x
	}
	out := make([]float32, len(x))
	fortranIndex(h.shape, len(x), func(c, f int) { out[c] = x[f] })
	return out
}

// parseHeader parses the Python dict literal of a .npy header.
func parseHeader(s string) (*header, error) {
	p := &lexer{s: strings.TrimRight(s, " \n\x00")}
	if !p.eat('{') {
		return nil, fmt.Errorf("expected a dict starting with '{', found %q", p.rest(20))
	}
	h := &header{}
	seen := map[string]bool{}
	for {
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if !p.eat(':') {
			return nil, fmt.Errorf("expected ':' after key %q", key)
		}
		switch key {
		case "descr":
			if p.peek() == '[' {
				return nil, fmt.Errorf("structured dtype: %w", ErrUnsupported)
			}
			if h.descr, err = p.str(); err != nil {
				return nil, fmt.Errorf("descr: %v", err)
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return nil, fmt.Errorf("fortran_order: expected True or False, found %q", p.rest(10))
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return nil, fmt.Errorf("shape: %v", err)
			}
		default:
			return nil, fmt.Errorf("unexpected key %q", key)
		}
		seen[key] = true
		if !p.eat(',') {
			if !p.eat('}') {
				return nil, fmt.Errorf("expected ',' or '}' after %q, found %q", key, p.rest(10))
			}
			break
		}
	}
	if p.skip(); p.i != len(p.s) {
		return nil, fmt.Errorf("trailing text %q after the dict", p.rest(20))
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return nil, fmt.Errorf("missing key %q", k)
		}
	}
	if err := h.setType(); err != nil {
		return nil, err
	}
	h.n = 1
	for _, d := range h.shape {
		if d != 0 && h.n > maxElems/d {
			return nil, fmt.Errorf("shape %v holds too many elements", h.shape)
		}
		h.n *= d
	}
	return h, nil
}

func (h *header) setType() error {
	d := h.descr
	if len(d) < 3 {
		return fmt.Errorf("descr %q: expected e.g. '<f8'", d)
	}
	switch d[0] {
	case '<', '|', '=':
		h.order = binary.LittleEndian
	case '>':
		h.order = binary.BigEndian
	default:
		return fmt.Errorf("descr %q: byte order %q, expected '<', '>', '|' or '='", d, d[0])
	}
	size, err := strconv.Atoi(d[2:])
	if err != nil {
		return fmt.Errorf("descr %q: bad item size: %w", d, ErrUnsupported)
	}
	h.kind, h.size = d[1], size
	ok := false
	switch h.kind {
	case 'f':
		ok = size == 2 || size == 4 || size == 8
	case 'i', 'u':
		ok = size == 1 || size == 2 || size == 4 || size == 8
	case 'b':
		ok = size == 1
	}
	if !ok {
		return fmt.Errorf("dtype %q: %w (expected f2/f4/f8, i1-i8, u1-u8 or b1)", d, ErrUnsupported)
	}
	return nil
}

type lexer struct {
	s string
	i int
}

func (p *lexer) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *lexer) peek() byte {
	p.skip()
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *lexer) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *lexer) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *lexer) rest(n int) string {
	r := p.s[p.i:]
	if len(r) > n {
		r = r[:n]
	}
	return r
}

func (p *lexer) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("expected a quoted string, found %q", p.rest(10))
	}
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", fmt.Errorf("unterminated string")
	}
	out := p.s[p.i+1 : p.i+1+j]
	p.i += j + 2
	return out, nil
}

func (p *lexer) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("expected a tuple, found %q", p.rest(10))
	}
	shape := []int{}
	for {
		if p.eat(')') {
			return shape, nil
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j < len(p.s) && p.s[j] == 'L' { // Python 2 long suffix
			j++
		}
		n, err := strconv.Atoi(strings.TrimSuffix(p.s[p.i:j], "L"))
		if err != nil || n < 0 || n > maxElems {
			return nil, fmt.Errorf("expected a non-negative dimension, found %q", p.rest(10))
		}
		if len(shape) >= 64 {
			return nil, fmt.Errorf("more than 64 dimensions")
		}
		shape = append(shape, n)
		p.i = j
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, fmt.Errorf("expected ',' or ')', found %q", p.rest(10))
			}
			return shape, nil
		}
	}
}

// Encode writes a in .npy format (version 1.0 unless the header needs 2.0) as little-endian float64.
func Encode(w io.Writer, a *Array) error {
	n, err := count(a.Shape, len(a.Data))
	if err != nil {
		return err
	}
	buf := make([]byte, 8*n)
	for i, x := range a.Data {
		binary.LittleEndian.PutUint64(buf[8*i:], math.Float64bits(x))
	}
	return encode(w, "<f8", a.Shape, buf)
}

// Encode32 writes a in .npy format as little-endian float32.
func Encode32(w io.Writer, a *Array32) error {
	n, err := count(a.Shape, len(a.Data))
	if err != nil {
		return err
	}
	buf := make([]byte, 4*n)
	for i, x := range a.Data {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return encode(w, "<f4", a.Shape, buf)
}

func count(shape []int, have int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v", shape)
		}
		if d != 0 && n > maxElems/d {
			return 0, fmt.Errorf("shape %v too large", shape)
		}
		n *= d
	}
	if n != have {
		return 0, fmt.Errorf("shape %v holds %d elements, data has %d", shape, n, have)
	}
	return n, nil
}

func encode(w io.Writer, descr string, shape []int, data []byte) error {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tup := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tup += ","
	}
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, tup)
	version, pre := byte(1), 10
	if len(dict)+1+pre > math.MaxUint16 {
		version, pre = 2, 12
	}
	total := pre + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := []byte(magic)
	hdr = append(hdr, version, 0)
	hl := len(dict) + pad + 1
	if version == 1 {
		hdr = binary.LittleEndian.AppendUint16(hdr, uint16(hl))
	} else {
		hdr = binary.LittleEndian.AppendUint32(hdr, uint32(hl))
	}
	hdr = append(hdr, dict...)
	hdr = append(hdr, bytes.Repeat([]byte{' '}, pad)...)
	hdr = append(hdr, '\n')
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// Write writes a to path as a float64 .npy file, atomically.
func Write(path string, a *Array) error {
	var buf bytes.Buffer
	if err := Encode(&buf, a); err != nil {
		return errf(filepath.Base(path), "%v", err)
	}
	return atomicfile.Write(path, buf.Bytes())
}

// Write32 writes a to path as a float32 .npy file, atomically.
func Write32(path string, a *Array32) error {
	var buf bytes.Buffer
	if err := Encode32(&buf, a); err != nil {
		return errf(filepath.Base(path), "%v", err)
	}
	return atomicfile.Write(path, buf.Bytes())
}

// ReadNPZ reads every member of an .npz archive as float64. Keys are member names without the
// ".npy" suffix, as numpy.load gives them.
func ReadNPZ(path string) (map[string]*Array, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeNPZ(filepath.Base(path), b)
}

// DecodeNPZ parses .npz bytes; name is used in error messages.
func DecodeNPZ(name string, b []byte) (map[string]*Array, error) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, errf(name, "not a zip archive: %v", err)
	}
	out := map[string]*Array{}
	for _, zf := range zr.File {
		key := strings.TrimSuffix(zf.Name, ".npy")
		mname := name + ": " + zf.Name
		if _, dup := out[key]; dup {
			return nil, errf(mname, "duplicate member")
		}
		// Deflate expands at most about 1032:1; anything claiming more is corrupt.
		limit := zf.CompressedSize64*1100 + 1024
		if zf.Method == zip.Store {
			limit = zf.CompressedSize64
		}
		if zf.UncompressedSize64 > limit {
			return nil, errf(mname, "claims %d bytes from %d compressed", zf.UncompressedSize64, zf.CompressedSize64)
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, errf(mname, "%v", err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, int64(zf.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return nil, errf(mname, "%v", err)
		}
		if uint64(len(data)) != zf.UncompressedSize64 {
			return nil, errf(mname, "holds %d bytes, the directory says %d", len(data), zf.UncompressedSize64)
		}
		a, err := Decode(mname, data)
		if err != nil {
			return nil, err
		}
		out[key] = a
	}
	return out, nil
}

// WriteNPZ writes arrays (float64) to an .npz archive at path, deflated if compress is set,
// members sorted by name, atomically.
func WriteNPZ(path string, arrays map[string]*Array, compress bool) error {
	names := make([]string, 0, len(arrays))
	for k := range arrays {
		names = append(names, k)
	}
	sort.Strings(names)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, k := range names {
		if k == "" || strings.Contains(k, "/") {
			return errf(filepath.Base(path), "bad member name %q", k)
		}
		method := zip.Store
		if compress {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: k + ".npy", Method: method})
		if err != nil {
			return err
		}
		if err := Encode(w, arrays[k]); err != nil {
			return errf(filepath.Base(path), "%s: %v", k, err)
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes())
}
