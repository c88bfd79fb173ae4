// Package safetensors reads and writes the safetensors tensor file format.
//
// The format reference is https://github.com/huggingface/safetensors (README, "Format"): an
// 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON mapping each tensor
// name to {"dtype", "shape", "data_offsets": [begin, end]} plus an optional "__metadata__"
// object of string to string, then the data buffer. Offsets are relative to the start of the
// buffer, tensors are stored little-endian in row-major order, the buffer is fully covered
// without holes or overlaps, and the header is padded with spaces so the buffer starts at a
// multiple of 8 bytes.
//
// Write stores float32 tensors deterministically (names sorted, so identical content gives
// identical bytes) and atomically. Read accepts F32, F64, F16, BF16, I64, I32, I16, I8, U8 and
// BOOL tensors and converts them to float32 (I64 and F64 values lose precision beyond float32).
package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"unicode/utf8"
)

// Tensor is a named tensor. DType is the stored type ("F32" when writing; empty means F32);
// F32 holds the values in row-major order, converted to float32 when read.
type Tensor struct {
	Name  string
	DType string
	Shape []int
	F32   []float32
}

// MaxHeader is the largest JSON header accepted (the reference implementation's limit).
const MaxHeader = 100_000_000

// ErrUnsupported is wrapped by errors about valid files with dtypes this package cannot read.
var ErrUnsupported = errors.New("unsupported")

var dtypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}

// knownDtypes are valid in the format but not read here.
var knownDtypes = map[string]bool{"U16": true, "U32": true, "U64": true, "F8_E4M3": true, "F8_E5M2": true, "C64": true}

const maxElems = 1 << 50

func errf(name, format string, args ...any) error {
	return fmt.Errorf(name+": "+format, args...)
}

// Read reads all tensors of a safetensors file (sorted by name) and its metadata.
func Read(path string) ([]Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	return Decode(filepath.Base(path), b)
}

type entry struct {
	name   string
	dtype  string
	shape  []int
	begin  uint64
	end    uint64
	nelems int
}

// Decode parses safetensors bytes; name is used in error messages.
func Decode(name string, b []byte) ([]Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, errf(name, "%d bytes, too short for the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxHeader {
		return nil, nil, errf(name, "header length %d exceeds %d", n, MaxHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, nil, errf(name, "header length %d, only %d bytes follow", n, len(b)-8)
	}
	hdr := b[8 : 8+n]
	buf := b[8+n:]
	if !utf8.Valid(hdr) {
		return nil, nil, errf(name, "header is not valid UTF-8")
	}
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, errf(name, "header does not start with '{'")
	}
	entries, meta, err := parseHeader(hdr)
	if err != nil {
		return nil, nil, errf(name, "header: %v", err)
	}
	// Offsets must tile the buffer exactly.
	order := make([]*entry, len(entries))
	for i := range entries {
		order[i] = &entries[i]
	}
	sort.SliceStable(order, func(i, j int) bool {
		if order[i].begin != order[j].begin {
			return order[i].begin < order[j].begin
		}
		return order[i].end < order[j].end
	})
	var pos uint64
	for _, e := range order {
		if e.begin != pos {
			if e.begin < pos {
				return nil, nil, errf(name, "tensor %q: data_offsets [%d, %d] overlap the previous tensor (ending at %d)", e.name, e.begin, e.end, pos)
			}
			return nil, nil, errf(name, "tensor %q: data_offsets start at %d, leaving a hole after %d", e.name, e.begin, pos)
		}
		if e.end > uint64(len(buf)) {
			return nil, nil, errf(name, "tensor %q: data_offsets [%d, %d] beyond the %d-byte data buffer", e.name, e.begin, e.end, len(buf))
		}
		pos = e.end
	}
	if pos != uint64(len(buf)) {
		return nil, nil, errf(name, "tensors cover %d of %d data bytes", pos, len(buf))
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	out := make([]Tensor, len(entries))
	for i, e := range entries {
		out[i] = Tensor{Name: e.name, DType: e.dtype, Shape: e.shape, F32: convert(e.dtype, buf[e.begin:e.end], e.nelems)}
	}
	return out, meta, nil
}

func parseHeader(hdr []byte) ([]entry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	if _, err := dec.Token(); err != nil { // '{'
		return nil, nil, err
	}
	var entries []entry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, nil, fmt.Errorf("expected a key, found %v", tok)
		}
		if seen[key] {
			return nil, nil, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("%q: %v", key, err)
		}
		if key == "__metadata__" {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, nil, fmt.Errorf("__metadata__: expected an object of strings: %v", err)
			}
			continue
		}
		if key == "" {
			return nil, nil, fmt.Errorf("empty tensor name")
		}
		e, err := parseEntry(key, raw)
		if err != nil {
			return nil, nil, fmt.Errorf("tensor %q: %v", key, err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, nil, err
	}
	// Only padding may follow.
	off := dec.InputOffset()
	for _, c := range hdr[off:] {
		if c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != 0 {
			return nil, nil, fmt.Errorf("text after the JSON object at byte %d", off)
		}
	}
	return entries, meta, nil
}

func parseEntry(key string, raw json.RawMessage) (entry, error) {
	var v struct {
		DType       *string   `json:"dtype"`
		Shape       *[]int64  `json:"shape"`
		DataOffsets *[]uint64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return entry{}, err
	}
	if v.DType == nil || v.Shape == nil || v.DataOffsets == nil {
		return entry{}, fmt.Errorf("expected dtype, shape and data_offsets")
	}
	e := entry{name: key, dtype: *v.DType}
	size, ok := dtypeSize[e.dtype]
	if !ok {
		if knownDtypes[e.dtype] {
			return entry{}, fmt.Errorf("dtype %s: %w", e.dtype, ErrUnsupported)
		}
		return entry{}, fmt.Errorf("unknown dtype %q", e.dtype)
	}
	if len(*v.DataOffsets) != 2 {
		return entry{}, fmt.Errorf("data_offsets has %d values, expected [begin, end]", len(*v.DataOffsets))
	}
	e.begin, e.end = (*v.DataOffsets)[0], (*v.DataOffsets)[1]
	if e.end < e.begin {
		return entry{}, fmt.Errorf("data_offsets [%d, %d] end before they begin", e.begin, e.end)
	}
	e.nelems = 1
	e.shape = make([]int, len(*v.Shape))
	for i, d := range *v.Shape {
		if d < 0 {
			return entry{}, fmt.Errorf("shape %v has a negative dimension", *v.Shape)
		}
		if d != 0 && int64(e.nelems) > maxElems/d {
			return entry{}, fmt.Errorf("shape %v holds too many elements", *v.Shape)
		}
		e.nelems *= int(d)
		e.shape[i] = int(d)
	}
	if uint64(e.nelems)*uint64(size) != e.end-e.begin {
		return entry{}, fmt.Errorf("shape %v of %s needs %d bytes, data_offsets [%d, %d] give %d", e.shape, e.dtype, e.nelems*size, e.begin, e.end, e.end-e.begin)
	}
	return e, nil
}

func convert(dtype string, d []byte, n int) []float32 {
	out := make([]float32, n)
	le := binary.LittleEndian
	for i := range out {
		switch dtype {
		case "F32":
			out[i] = math.Float32frombits(le.Uint32(d[4*i:]))
		case "F64":
			out[i] = float32(math.Float64frombits(le.Uint64(d[8*i:])))
		case "F16":
			out[i] = halfToFloat32(le.Uint16(d[2*i:]))
		case "BF16":
			out[i] = math.Float32frombits(uint32(le.Uint16(d[2*i:])) << 16)
		case "I64":
			out[i] = float32(int64(le.Uint64(d[8*i:])))
		case "I32":
			out[i] = float32(int32(le.Uint32(d[4*i:])))
		case "I16":
			out[i] = float32(int16(le.Uint16(d[2*i:])))
		case "I8":
			out[i] = float32(int8(d[i]))
		case "U8":
			out[i] = float32(d[i])
		case "BOOL":
			if d[i] != 0 {
				out[i] = 1
			}
		}
	}
	return out
}

func halfToFloat32(h uint16) float32 {
	sign := float32(1)
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * float32(math.Ldexp(frac, -24))
	case 0x1f:
		if frac == 0 {
			return sign * float32(math.Inf(1))
		}
		return float32(math.NaN())
	}
	return sign * float32(math.Ldexp(1+frac/1024, exp-15))
}

// Encode writes tensors (as F32, sorted by name) and metadata in safetensors format.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	ts := make([]*Tensor, len(tensors))
	for i := range tensors {
		ts[i] = &tensors[i]
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	var h bytes.Buffer
	h.WriteByte('{')
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata) // keys sorted
		if err != nil {
			return err
		}
		h.WriteString(`"__metadata__":`)
		h.Write(m)
	}
	var off uint64
	for i, t := range ts {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("tensor %d: invalid name %q", i, t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return fmt.Errorf("tensor %q: name used twice", t.Name)
		}
		if t.DType != "" && t.DType != "F32" {
			return fmt.Errorf("tensor %q: writing dtype %q is not supported, only F32", t.Name, t.DType)
		}
		n := 1
		for _, d := range t.Shape {
			if d < 0 || d != 0 && n > maxElems/d {
				return fmt.Errorf("tensor %q: bad shape %v", t.Name, t.Shape)
			}
			n *= d
		}
		if n != len(t.F32) {
			return fmt.Errorf("tensor %q: shape %v holds %d elements, F32 has %d", t.Name, t.Shape, n, len(t.F32))
		}
		if h.Len() > 1 {
			h.WriteByte(',')
		}
		name, _ := json.Marshal(t.Name)
		h.Write(name)
		h.WriteString(`:{"dtype":"F32","shape":[`)
		for k, d := range t.Shape {
			if k > 0 {
				h.WriteByte(',')
			}
			h.WriteString(strconv.Itoa(d))
		}
		end := off + 4*uint64(n)
		fmt.Fprintf(&h, `],"data_offsets":[%d,%d]}`, off, end)
		off = end
	}
	h.WriteByte('}')
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	var lenb [8]byte
	binary.LittleEndian.PutUint64(lenb[:], uint64(h.Len()))
	if _, err := w.Write(lenb[:]); err != nil {
		return err
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return err
	}
	var chunk [4096]byte
	for _, t := range ts {
		for i := 0; i < len(t.F32); {
			k := 0
			for ; k+4 <= len(chunk) && i < len(t.F32); i++ {
				binary.LittleEndian.PutUint32(chunk[k:], math.Float32bits(t.F32[i]))
				k += 4
			}
			if _, err := w.Write(chunk[:k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// Write writes tensors and metadata to path atomically: to a temporary file in the same
// directory, synced, then renamed over path.
func Write(path string, tensors []Tensor, metadata map[string]string) error {
	base := filepath.Base(path)
	return atomicfile.WriteFunc(path, func(w io.Writer) error {
		if err := Encode(w, tensors, metadata); err != nil {
			return errf(base, "%v", err)
		}
		return nil
	})
}
