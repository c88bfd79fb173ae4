package netcdf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
)

// classic header tags and types
const (
	tagDimension = 0x0A
	tagVariable  = 0x0B
	tagAttribute = 0x0C
)

var classicTypes = map[uint32]struct {
	name string
	size int
}{
	1: {"byte", 1}, 2: {"char", 1}, 3: {"short", 2}, 4: {"int", 4}, 5: {"float", 4}, 6: {"double", 8},
	7: {"ubyte", 1}, 8: {"ushort", 2}, 9: {"uint", 4}, 10: {"int64", 8}, 11: {"uint64", 8},
}

var errShort = errors.New("header truncated")

// hdr decodes the big-endian classic header from a prefix of the file.
type hdr struct {
	b       []byte
	p       int
	version int
	err     error
}

func (h *hdr) take(n uint64) []byte {
	if h.err != nil {
		return nil
	}
	if n > uint64(len(h.b)-h.p) {
		h.err = errShort
		return nil
	}
	h.p += int(n)
	return h.b[h.p-int(n) : h.p]
}

func (h *hdr) u32() uint32 {
	b := h.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (h *hdr) u64() uint64 {
	b := h.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// count reads a non-negative count (64-bit in CDF-5).
func (h *hdr) count() uint64 {
	if h.version == 5 {
		return h.u64()
	}
	return uint64(h.u32())
}

func (h *hdr) name() string {
	n := h.count()
	b := h.take(n)
	h.take((4 - n%4) % 4)
	return string(b)
}

type classicVar struct {
	typ    uint32
	begin  uint64
	shape  []uint64
	record bool
}

type classicSource struct {
	f       *classicFile
	v       *classicVar
	name    string
	limit   int64
	recSize uint64
	numRecs uint64
}

type classicFile struct {
	r    io.ReaderAt
	size int64
}

func readClassic(name string, r io.ReaderAt, size, limit int64) (*File, error) {
	var v byte
	if size >= 4 {
		b := make([]byte, 4)
		if _, err := r.ReadAt(b, 0); err != nil {
			return nil, err
		}
		v = b[3]
	}
	if v != 1 && v != 2 && v != 5 {
		return nil, fmt.Errorf("%s: %w: CDF version %d", name, ErrFormat, v)
	}
	// the header is at the start; read more of the file until it parses
	for n := min(size, 1<<16); ; n = min(size, 4*n) {
		buf := make([]byte, n)
		if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
			return nil, err
		}
		f, err := parseClassic(name, buf, int(v), r, size, limit)
		if errors.Is(err, errShort) && n < size {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %v", name, ErrFormat, err)
		}
		return f, nil
	}
}

func parseClassic(name string, b []byte, version int, r io.ReaderAt, size, limit int64) (*File, error) {
	h := &hdr{b: b, p: 4, version: version}
	f := &File{Name: name, Format: fmt.Sprintf("CDF-%d", version)}
	numRecs := h.count()
	streaming := numRecs == math.MaxUint32 || (version == 5 && numRecs == math.MaxUint64)
	// dimensions
	tag, n := h.u32(), h.count()
	if h.err != nil {
		return nil, h.err
	}
	if tag != tagDimension && !(tag == 0 && n == 0) {
		return nil, fmt.Errorf("dimension list: tag %#x", tag)
	}
	recDim := -1
	for i := uint64(0); i < n; i++ {
		if uint64(len(h.b)-h.p) < 8 && h.err == nil {
			h.err = errShort
		}
		d := Dim{Name: h.name()}
		l := h.count()
		if h.err != nil {
			return nil, h.err
		}
		if l == 0 {
			if recDim >= 0 {
				return nil, fmt.Errorf("two record dimensions")
			}
			recDim = int(i)
			d.Unlimited = true
		} else if l > math.MaxInt32 {
			return nil, fmt.Errorf("dimension %q of length %d", d.Name, l)
		}
		d.Len = int(l)
		f.Dims = append(f.Dims, d)
	}
	var err error
	if f.Attrs, err = classicAttrs(h); err != nil {
		return nil, fmt.Errorf("global attributes: %w", err)
	}
	tag, n = h.u32(), h.count()
	if h.err != nil {
		return nil, h.err
	}
	if tag != tagVariable && !(tag == 0 && n == 0) {
		return nil, fmt.Errorf("variable list: tag %#x", tag)
	}
	cf := &classicFile{r: r, size: size}
	var vars []*classicVar
	for i := uint64(0); i < n; i++ {
		if uint64(len(h.b)-h.p) < 16 && h.err == nil {
			h.err = errShort
		}
		v := &Var{Name: h.name(), file: name}
		cv := &classicVar{}
		nd := h.count()
		if h.err != nil {
			return nil, h.err
		}
		if nd > 1024 {
			return nil, fmt.Errorf("variable %q: %d dimensions", v.Name, nd)
		}
		for j := uint64(0); j < nd; j++ {
			id := h.count()
			if h.err != nil {
				return nil, h.err
			}
			if id >= uint64(len(f.Dims)) {
				return nil, fmt.Errorf("variable %q: dimension id %d of %d", v.Name, id, len(f.Dims))
			}
			if int(id) == recDim {
				if j != 0 {
					return nil, fmt.Errorf("variable %q: record dimension is not the first", v.Name)
				}
				cv.record = true
			}
			v.Dims = append(v.Dims, f.Dims[id].Name)
			cv.shape = append(cv.shape, uint64(f.Dims[id].Len))
		}
		if v.Attrs, err = classicAttrs(h); err != nil {
			return nil, fmt.Errorf("variable %q: %w", v.Name, err)
		}
		cv.typ = h.u32()
		h.count() // vsize: recomputed, it overflows for large variables
		if version == 1 {
			cv.begin = uint64(h.u32())
		} else {
			cv.begin = h.u64()
		}
		if h.err != nil {
			return nil, h.err
		}
		t, ok := classicTypes[cv.typ]
		if !ok || (version != 5 && cv.typ > 6) {
			return nil, fmt.Errorf("variable %q: type %d", v.Name, cv.typ)
		}
		v.Type = t.name
		f.Vars = append(f.Vars, v)
		vars = append(vars, cv)
	}
	// record size: each record holds every record variable's slab, padded to 4 bytes unless
	// there is only one record variable
	var recVars int
	var recSize uint64
	for _, cv := range vars {
		if cv.record {
			recVars++
		}
	}
	for _, cv := range vars {
		if !cv.record {
			continue
		}
		s, ok := slabBytes(cv)
		if !ok {
			return nil, fmt.Errorf("record variable too large")
		}
		if recVars > 1 {
			s = (s + 3) &^ 3
		}
		recSize += s
		if recSize < s {
			return nil, fmt.Errorf("records too large")
		}
	}
	if streaming {
		numRecs = 0
		first := uint64(math.MaxUint64)
		for _, cv := range vars {
			if cv.record {
				first = min(first, cv.begin)
			}
		}
		if recSize > 0 && first < uint64(size) {
			numRecs = (uint64(size) - first) / recSize
		}
	}
	if recDim >= 0 {
		f.Dims[recDim].Len = int(min(numRecs, math.MaxInt32))
	}
	for i, cv := range vars {
		v := f.Vars[i]
		if cv.record {
			cv.shape[0] = numRecs
		}
		v.Shape = make([]int, len(cv.shape))
		for j, s := range cv.shape {
			v.Shape[j] = int(min(s, math.MaxInt32))
		}
		v.src = &classicSource{f: cf, v: cv, name: v.Name, limit: limit, recSize: recSize, numRecs: numRecs}
	}
	return f, nil
}

// slabBytes is the size of one record of a record variable, or of a whole fixed variable.
func slabBytes(cv *classicVar) (uint64, bool) {
	p := uint64(classicTypes[cv.typ].size)
	shape := cv.shape
	if cv.record {
		shape = shape[1:]
	}
	for _, s := range shape {
		hi, lo := bits.Mul64(p, s)
		if hi != 0 || lo > 1<<62 {
			return 0, false
		}
		p = lo
	}
	return p, true
}

func classicAttrs(h *hdr) ([]Attr, error) {
	tag, n := h.u32(), h.count()
	if h.err != nil {
		return nil, h.err
	}
	if tag != tagAttribute && !(tag == 0 && n == 0) {
		return nil, fmt.Errorf("attribute list: tag %#x", tag)
	}
	var out []Attr
	for i := uint64(0); i < n; i++ {
		if uint64(len(h.b)-h.p) < 12 && h.err == nil {
			h.err = errShort
		}
		a := Attr{Name: h.name()}
		typ := h.u32()
		cnt := h.count()
		if h.err != nil {
			return nil, h.err
		}
		t, ok := classicTypes[typ]
		if !ok || (h.version != 5 && typ > 6) {
			return nil, fmt.Errorf("attribute %q: type %d", a.Name, typ)
		}
		hi, nb := bits.Mul64(cnt, uint64(t.size))
		if hi != 0 {
			h.err = errShort
			return nil, h.err
		}
		b := h.take(nb)
		h.take((4 - nb%4) % 4)
		if h.err != nil {
			return nil, h.err
		}
		switch typ {
		case 2:
			s := string(b)
			for len(s) > 0 && s[len(s)-1] == 0 {
				s = s[:len(s)-1]
			}
			a.Value = s
		case 5, 6:
			out := make([]float64, cnt)
			decodeClassic(typ, b, out, nil)
			a.Value = out
		default:
			out := make([]int64, cnt)
			decodeClassic(typ, b, nil, out)
			a.Value = out
		}
		out = append(out, a)
	}
	return out, nil
}

// decodeClassic converts big-endian values of a classic type into fl or in.
func decodeClassic(typ uint32, b []byte, fl []float64, in []int64) {
	n := len(fl) + len(in)
	be := binary.BigEndian
	for i := 0; i < n; i++ {
		var f float64
		var v int64
		isInt := true
		switch typ {
		case 1:
			v = int64(int8(b[i]))
		case 2, 7:
			v = int64(b[i])
		case 3:
			v = int64(int16(be.Uint16(b[2*i:])))
		case 8:
			v = int64(be.Uint16(b[2*i:]))
		case 4:
			v = int64(int32(be.Uint32(b[4*i:])))
		case 9:
			v = int64(be.Uint32(b[4*i:]))
		case 10:
			v = int64(be.Uint64(b[8*i:]))
		case 11:
			u := be.Uint64(b[8*i:])
			v, f, isInt = int64(u), float64(u), false
		case 5:
			f, isInt = float64(math.Float32frombits(be.Uint32(b[4*i:]))), false
		case 6:
			f, isInt = math.Float64frombits(be.Uint64(b[8*i:])), false
		}
		if fl != nil {
			if isInt {
				f = float64(v)
			}
			fl[i] = f
		} else {
			in[i] = v
		}
	}
}

// read calls put with the variable's bytes, a fixed variable in one piece and a record
// variable record by record.
func (s *classicSource) read(per int, put func(off uint64, b []byte)) (uint64, error) {
	cv := s.v
	slab, ok := slabBytes(cv)
	esize := uint64(classicTypes[cv.typ].size)
	if !ok {
		return 0, fmt.Errorf("too large")
	}
	recs := uint64(1)
	if cv.record {
		recs = s.numRecs
	}
	hi, total := bits.Mul64(slab, recs)
	if hi != 0 || total/esize > uint64(s.limit)/uint64(per) {
		return 0, fmt.Errorf("%d bytes exceed the read limit of %d", total, s.limit)
	}
	n := total / esize
	step := slab
	if !cv.record {
		recs, step = 1, total
	}
	for r := uint64(0); r < recs; r++ {
		off := cv.begin + r*s.recSize
		if off < cv.begin || off > uint64(s.f.size) || step > uint64(s.f.size)-off {
			return 0, fmt.Errorf("data at %d (%d bytes) beyond the end of the file (%d bytes)", off, step, s.f.size)
		}
		b := make([]byte, step)
		if _, err := s.f.r.ReadAt(b, int64(off)); err != nil && err != io.EOF {
			return 0, err
		}
		put(r*step/esize, b)
	}
	return n, nil
}

func (s *classicSource) float64s() ([]float64, error) {
	var out []float64
	n, err := s.count(8)
	if err != nil {
		return nil, err
	}
	out = make([]float64, n)
	_, err = s.read(8, func(off uint64, b []byte) {
		decodeClassic(s.v.typ, b, out[off:off+uint64(len(b))/uint64(classicTypes[s.v.typ].size)], nil)
	})
	return out, err
}

func (s *classicSource) int64s() ([]int64, error) {
	n, err := s.count(8)
	if err != nil {
		return nil, err
	}
	out := make([]int64, n)
	_, err = s.read(8, func(off uint64, b []byte) {
		decodeClassic(s.v.typ, b, nil, out[off:off+uint64(len(b))/uint64(classicTypes[s.v.typ].size)])
	})
	if err == nil && s.v.typ == 11 {
		for _, v := range out {
			if v < 0 {
				return nil, fmt.Errorf("uint64 value beyond int64")
			}
		}
	}
	return out, err
}

func (s *classicSource) strings() ([]string, error) {
	n, err := s.count(17)
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	_, err = s.read(17, func(off uint64, b []byte) {
		for i, c := range b {
			if c != 0 {
				out[off+uint64(i)] = string([]byte{c})
			}
		}
	})
	return out, err
}

// count returns the number of elements after checking them against the limit.
func (s *classicSource) count(per int) (uint64, error) {
	slab, ok := slabBytes(s.v)
	if !ok {
		return 0, fmt.Errorf("too large")
	}
	recs := uint64(1)
	if s.v.record {
		recs = s.numRecs
	}
	hi, total := bits.Mul64(slab, recs)
	n := total / uint64(classicTypes[s.v.typ].size)
	if hi != 0 || n > uint64(s.limit)/uint64(per) {
		return 0, fmt.Errorf("%d values exceed the read limit of %d bytes", n, s.limit)
	}
	return n, nil
}
