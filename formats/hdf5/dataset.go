package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// Dataset is an HDF5 dataset.
type Dataset struct {
	f       *File
	addr    uint64
	name    string
	h       *objectHeader
	t       *Dtype
	space   *dataspace
	lay     *layout
	filters []filter
	fill    []byte
}

type layout struct {
	version int
	class   int // 0 compact, 1 contiguous, 2 chunked
	compact []byte
	addr    uint64
	chunk   []uint64 // chunk dimensions in elements, one per dataset dimension
	index   int      // chunk index: 0 v1 B-tree, 1 single chunk, 2 implicit, 3 fixed array, 4 extensible array, 5 v2 B-tree
	flags   uint8
	single  struct {
		size uint64
		mask uint32
	}
}

type filter struct {
	id     uint16
	name   string
	flags  uint16
	client []uint32
}

func (ds *Dataset) errorf(err error) error {
	return fmt.Errorf("%s: dataset %q: %w", ds.f.name, ds.name, err)
}

func (f *File) dataset(addr uint64, name string) (*Dataset, error) {
	ds := &Dataset{f: f, addr: addr, name: name}
	h, err := f.header(addr)
	if err != nil {
		return nil, ds.errorf(err)
	}
	ds.h = h
	if h.kind() != KindDataset {
		return nil, fmt.Errorf("%s: %q is not a dataset", f.name, name)
	}
	if err := ds.parse(); err != nil {
		return nil, ds.errorf(err)
	}
	return ds, nil
}

func (ds *Dataset) parse() error {
	f := ds.f
	b, ok, err := ds.h.find(f, msgDatatype)
	if err != nil || !ok {
		return fmt.Errorf("datatype message: %v", orMissing(err))
	}
	if ds.t, err = parseDtype(b, f); err != nil {
		return err
	}
	if ds.t.Size == 0 {
		return errf("zero-size datatype")
	}
	b, ok, err = ds.h.find(f, msgDataspace)
	if err != nil || !ok {
		return fmt.Errorf("dataspace message: %v", orMissing(err))
	}
	if ds.space, err = parseDataspace(b, f); err != nil {
		return err
	}
	b, ok, err = ds.h.find(f, msgLayout)
	if err != nil || !ok {
		return fmt.Errorf("layout message: %v", orMissing(err))
	}
	if ds.lay, err = parseLayout(b, f, len(ds.space.dims)); err != nil {
		return fmt.Errorf("layout: %w", err)
	}
	if b, ok, err = ds.h.find(f, msgFilters); err != nil {
		return err
	} else if ok {
		if ds.filters, err = parseFilters(b); err != nil {
			return fmt.Errorf("filter pipeline: %w", err)
		}
	}
	if _, ok, _ := ds.h.find(f, msgExternal); ok {
		return errf("external storage is not supported")
	}
	if b, ok, err = ds.h.find(f, msgFill); err != nil {
		return err
	} else if ok {
		ds.fill = parseFill(b)
	} else if b, ok, err = ds.h.find(f, msgFillOld); err == nil && ok && len(b) >= 4 {
		n := binary.LittleEndian.Uint32(b)
		if uint64(n) <= uint64(len(b)-4) {
			ds.fill = b[4 : 4+n]
		}
	}
	if len(ds.fill) != ds.t.Size {
		ds.fill = nil
	}
	return nil
}

func orMissing(err error) error {
	if err == nil {
		return errf("missing")
	}
	return err
}

func parseFill(b []byte) []byte {
	d := decoder{b: b}
	switch d.u8() {
	case 1, 2:
		d.skip(2)
		if d.u8() == 0 {
			return nil
		}
	case 3:
		if d.u8()&0x20 == 0 {
			return nil
		}
	default:
		return nil
	}
	n := int(d.u32())
	v := d.bytes(n)
	if d.err != nil {
		return nil
	}
	return v
}

func parseLayout(b []byte, f *File, rank int) (*layout, error) {
	d := decoder{b: b, f: f}
	l := &layout{version: int(d.u8())}
	switch l.version {
	case 1, 2:
		nd := int(d.u8())
		l.class = int(d.u8())
		d.skip(5)
		if l.class != 0 {
			l.addr = d.addr()
		}
		dims := make([]uint64, 0, nd)
		for i := 0; i < nd; i++ {
			dims = append(dims, uint64(d.u32()))
		}
		if l.class == 2 {
			if nd != rank+1 {
				return nil, errf("chunk of %d dimensions for a dataset of rank %d", nd-1, rank)
			}
			l.chunk = dims[:rank]
		}
		if l.class == 0 {
			n := int(d.u32())
			l.compact = d.bytes(n)
		}
	case 3, 4:
		l.class = int(d.u8())
		switch l.class {
		case 0:
			n := int(d.u16())
			l.compact = d.bytes(n)
		case 1:
			l.addr = d.addr()
			d.length()
		case 2:
			if l.version == 3 {
				nd := int(d.u8())
				l.addr = d.addr()
				if nd != rank+1 {
					return nil, errf("chunk of %d dimensions for a dataset of rank %d", nd-1, rank)
				}
				for i := 0; i < nd; i++ {
					v := uint64(d.u32())
					if i < rank {
						l.chunk = append(l.chunk, v)
					}
				}
				break
			}
			l.flags = d.u8()
			nd := int(d.u8())
			enc := int(d.u8())
			if nd != rank+1 || enc < 1 || enc > 8 {
				return nil, errf("chunk of %d dimensions (%d-byte sizes) for a dataset of rank %d", nd-1, enc, rank)
			}
			for i := 0; i < nd; i++ {
				v := d.uint(enc)
				if i < rank {
					l.chunk = append(l.chunk, v)
				}
			}
			l.index = int(d.u8())
			switch l.index {
			case 1:
				if l.flags&2 != 0 {
					l.single.size = d.length()
					l.single.mask = d.u32()
				}
			case 2:
			case 3:
				d.skip(1)
			case 4:
				d.skip(5)
			case 5:
				d.skip(6)
			default:
				return nil, errf("chunk index type %d", l.index)
			}
			l.addr = d.addr()
		case 3:
			return nil, errf("virtual datasets are not supported")
		default:
			return nil, errf("layout class %d", l.class)
		}
	default:
		return nil, errf("layout message version %d", l.version)
	}
	if d.err != nil {
		return nil, d.err
	}
	for _, c := range l.chunk {
		if c == 0 {
			return nil, errf("zero chunk dimension")
		}
	}
	return l, nil
}

func parseFilters(b []byte) ([]filter, error) {
	d := decoder{b: b}
	ver := d.u8()
	n := int(d.u8())
	if ver == 1 {
		d.skip(6)
	} else if ver != 2 {
		return nil, errf("version %d", ver)
	}
	var out []filter
	for i := 0; i < n && d.err == nil; i++ {
		var fl filter
		fl.id = d.u16()
		nameLen := 0
		if ver == 1 || fl.id >= 256 {
			nameLen = int(d.u16())
		}
		fl.flags = d.u16()
		nv := int(d.u16())
		if ver == 1 {
			nameLen = (nameLen + 7) &^ 7
		}
		fl.name = string(bytes.TrimRight(d.bytes(nameLen), "\x00"))
		for j := 0; j < nv && d.err == nil; j++ {
			fl.client = append(fl.client, d.u32())
		}
		if ver == 1 && nv%2 == 1 {
			d.skip(4)
		}
		out = append(out, fl)
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

// Name returns the dataset's path.
func (ds *Dataset) Name() string { return ds.name }

// Address returns the file address of the dataset's object header (what object references
// hold).
func (ds *Dataset) Address() uint64 { return ds.addr }

// Dtype returns the element type.
func (ds *Dataset) Dtype() *Dtype { return ds.t }

// Shape returns the dataset's dimensions (empty for a scalar, [0] for a null dataspace).
func (ds *Dataset) Shape() []int {
	if ds.space.null {
		return []int{0}
	}
	out := make([]int, len(ds.space.dims))
	for i, v := range ds.space.dims {
		out[i] = int(min(v, math.MaxInt32))
	}
	return out
}

// MaxShape returns the maximum dimensions; -1 marks an unlimited dimension.
func (ds *Dataset) MaxShape() []int {
	out := ds.Shape()
	for i := range out {
		if i < len(ds.space.maxdims) {
			if ds.space.maxdims[i] == undef {
				out[i] = -1
			} else {
				out[i] = int(min(ds.space.maxdims[i], math.MaxInt32))
			}
		}
	}
	return out
}

// Chunks returns the chunk shape, or nil when the dataset is not chunked.
func (ds *Dataset) Chunks() []int {
	if ds.lay.class != 2 {
		return nil
	}
	out := make([]int, len(ds.lay.chunk))
	for i, v := range ds.lay.chunk {
		out[i] = int(min(v, math.MaxInt32))
	}
	return out
}

// Attrs returns the dataset's attributes.
func (ds *Dataset) Attrs() ([]*Attribute, error) {
	as, err := ds.f.attributes(ds.h, fmt.Sprintf("dataset %q", ds.name))
	if err != nil {
		return nil, ds.errorf(err)
	}
	return as, nil
}

// Attr returns the attribute called name.
func (ds *Dataset) Attr(name string) (*Attribute, error) {
	as, err := ds.Attrs()
	if err != nil {
		return nil, err
	}
	return findAttr(as, name, ds.f.name, fmt.Sprintf("dataset %q", ds.name))
}

// Len returns the number of elements.
func (ds *Dataset) Len() int {
	n, ok := ds.count()
	if !ok {
		return -1
	}
	return int(n)
}

func (ds *Dataset) count() (int64, bool) {
	if ds.space.null {
		return 0, true
	}
	return mulSize(math.MaxInt64/16, ds.space.dims...)
}

// ReadFloat64 returns every value of a numeric dataset as float64 in row-major order.
func (ds *Dataset) ReadFloat64() ([]float64, error) {
	if !ds.t.IsNumeric() {
		return nil, ds.errorf(fmt.Errorf("%s values cannot be read as numbers", ds.t))
	}
	n, err := ds.checkSize(8)
	if err != nil {
		return nil, err
	}
	out := make([]float64, n)
	err = ds.read(func(dst int64, src []byte) error {
		ds.t.toFloat64(out[dst:dst+int64(len(src)/ds.t.Size)], src)
		return nil
	})
	if err != nil {
		return nil, ds.errorf(err)
	}
	return out, nil
}

// ReadInt64 returns every value of an integer dataset in row-major order.
func (ds *Dataset) ReadInt64() ([]int64, error) {
	if ds.t.intType() == nil {
		return nil, ds.errorf(fmt.Errorf("%s values cannot be read as integers", ds.t))
	}
	n, err := ds.checkSize(8)
	if err != nil {
		return nil, err
	}
	out := make([]int64, n)
	err = ds.read(func(dst int64, src []byte) error {
		if !ds.t.toInt64(out[dst:dst+int64(len(src)/ds.t.Size)], src) {
			return errf("unsigned value beyond int64")
		}
		return nil
	})
	if err != nil {
		return nil, ds.errorf(err)
	}
	return out, nil
}

// ReadStrings returns every value of a fixed- or variable-length string dataset.
func (ds *Dataset) ReadStrings() ([]string, error) {
	if ds.t.Class != ClassString && ds.t.Class != ClassVarString {
		return nil, ds.errorf(fmt.Errorf("%s values are not strings", ds.t))
	}
	n, err := ds.checkSize(16)
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	var total int64
	err = ds.read(func(dst int64, src []byte) error {
		for i := 0; i < len(src)/ds.t.Size; i++ {
			b := src[i*ds.t.Size : (i+1)*ds.t.Size]
			if ds.t.Class == ClassString {
				out[dst+int64(i)] = ds.t.fixedString(b)
			} else {
				s, err := ds.f.vlenString(ds.t, b)
				if err != nil {
					return err
				}
				total += int64(len(s))
				if total > ds.f.Limit {
					return errf("strings longer than the limit of %d bytes", ds.f.Limit)
				}
				out[dst+int64(i)] = s
			}
		}
		return nil
	})
	if err != nil {
		return nil, ds.errorf(err)
	}
	return out, nil
}

// ReadRaw returns the dataset's elements as stored (Dtype().Size bytes each, file byte order).
func (ds *Dataset) ReadRaw() ([]byte, error) {
	n, err := ds.checkSize(int64(ds.t.Size))
	if err != nil {
		return nil, err
	}
	out := make([]byte, n*int64(ds.t.Size))
	err = ds.read(func(dst int64, src []byte) error {
		copy(out[dst*int64(ds.t.Size):], src)
		return nil
	})
	if err != nil {
		return nil, ds.errorf(err)
	}
	return out, nil
}

// checkSize returns the element count after checking that the output (per bytes per element)
// and the stored elements fit the limit.
func (ds *Dataset) checkSize(per int64) (int64, error) {
	n, ok := ds.count()
	if ok {
		_, ok = mulSize(ds.f.Limit, uint64(n), uint64(max(per, int64(ds.t.Size))))
	}
	if !ok {
		return 0, ds.errorf(fmt.Errorf("%v elements of %s exceed the read limit of %d bytes", ds.space.dims, ds.t, ds.f.Limit))
	}
	// contiguous and compact data must be in the file before the output is allocated
	es := int64(ds.t.Size)
	switch l := ds.lay; {
	case l.class == 0 && int64(len(l.compact)) < n*es:
		return 0, ds.errorf(errf("compact data of %d bytes for %d elements of %d bytes", len(l.compact), n, es))
	case l.class == 1 && l.addr != undef && n*es > ds.f.avail(l.addr):
		return 0, ds.errorf(errf("contiguous data of %d bytes at %d beyond the end of the file", n*es, l.addr))
	}
	return n, nil
}

// read calls put with runs of consecutive elements (put(dst, src): the elements starting at
// row-major index dst), chunk by chunk.
func (ds *Dataset) read(put func(dst int64, src []byte) error) error {
	n, _ := ds.count()
	if n == 0 {
		return nil
	}
	es := int64(ds.t.Size)
	l := ds.lay
	switch l.class {
	case 0:
		if int64(len(l.compact)) < n*es {
			return errf("compact data of %d bytes for %d elements of %d bytes", len(l.compact), n, es)
		}
		return put(0, l.compact[:n*es])
	case 1:
		if l.addr == undef {
			return ds.fillRange(0, n, put)
		}
		if uint64(n*es) > uint64(ds.f.avail(l.addr)) {
			return errf("contiguous data of %d bytes at %d beyond the end of the file", n*es, l.addr)
		}
		step := max(1<<20/es, 1)
		for i := int64(0); i < n; i += step {
			k := min(step, n-i)
			b, err := ds.f.readAt(l.addr+uint64(i*es), k*es)
			if err != nil {
				return err
			}
			if err := put(i, b); err != nil {
				return err
			}
		}
		return nil
	case 2:
		return ds.readChunked(put)
	}
	return errf("layout class %d", l.class)
}

func (ds *Dataset) fillRange(start, n int64, put func(dst int64, src []byte) error) error {
	es := int64(ds.t.Size)
	step := max(1<<16/es, 1)
	buf := make([]byte, min(step, n)*es)
	if ds.fill != nil {
		for i := int64(0); i < int64(len(buf)); i += es {
			copy(buf[i:], ds.fill)
		}
	}
	for i := start; i < start+n; i += step {
		k := min(step, start+n-i)
		if err := put(i, buf[:k*es]); err != nil {
			return err
		}
	}
	return nil
}

type chunkRef struct {
	offset []uint64 // element offsets
	addr   uint64
	size   uint64
	mask   uint32
}

func (ds *Dataset) readChunked(put func(dst int64, src []byte) error) error {
	l := ds.lay
	rank := len(ds.space.dims)
	es := uint64(ds.t.Size)
	chunkBytes, ok := mulSize(min(ds.f.Limit, 1<<40), append(append([]uint64(nil), l.chunk...), es)...)
	if !ok {
		return errf("chunks of %v elements of %d bytes exceed the read limit", l.chunk, es)
	}
	// the number of chunks covering the dataset (and, for the array indexes, its maximum shape)
	grid := make([]uint64, rank)
	var total uint64 = 1
	for i := range grid {
		grid[i] = (ds.space.dims[i] + l.chunk[i] - 1) / l.chunk[i]
		total *= grid[i]
	}
	chunks, err := ds.chunkIndex(uint64(chunkBytes))
	if err != nil {
		return err
	}
	if uint64(len(chunks)) < total {
		n, _ := ds.count()
		if err := ds.fillRange(0, n, put); err != nil {
			return err
		}
	}
	var buf []byte // grows to one decoded chunk as data arrive, not as sizes claim
	for _, c := range chunks {
		outside := false
		partial := false
		for i := 0; i < rank; i++ {
			if c.offset[i]%l.chunk[i] != 0 {
				return errf("chunk at %d has offset %v, not a multiple of the chunk shape %v", c.addr, c.offset, l.chunk)
			}
			if c.offset[i] >= ds.space.dims[i] {
				outside = true
			} else if c.offset[i]+l.chunk[i] > ds.space.dims[i] {
				partial = true
			}
		}
		if outside || c.addr == undef {
			continue
		}
		data, err := ds.loadChunk(c, int(chunkBytes), partial && l.flags&1 != 0, buf)
		if err != nil {
			return fmt.Errorf("chunk at offset %v: %w", c.offset, err)
		}
		if cap(data) > cap(buf) {
			buf = data[:0]
		}
		if err := ds.scatter(c.offset, data, put); err != nil {
			return err
		}
	}
	return nil
}

// scatter copies the part of a decoded chunk at offset that lies inside the dataset.
func (ds *Dataset) scatter(offset []uint64, data []byte, put func(dst int64, src []byte) error) error {
	dims, chunk := ds.space.dims, ds.lay.chunk
	rank := len(dims)
	es := int64(ds.t.Size)
	if rank == 0 {
		return put(0, data[:es])
	}
	ext := make([]uint64, rank)
	for i := range ext {
		ext[i] = min(chunk[i], dims[i]-offset[i])
	}
	idx := make([]uint64, rank) // position inside the chunk, last dimension handled as a run
	for {
		var src, dst uint64
		for i := 0; i < rank; i++ {
			src = src*chunk[i] + idx[i]
			dst = dst*dims[i] + offset[i] + idx[i]
		}
		run := int64(ext[rank-1])
		if err := put(int64(dst), data[int64(src)*es:(int64(src)+run)*es]); err != nil {
			return err
		}
		i := rank - 2
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < ext[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return nil
		}
	}
}

// loadChunk reads and decodes one chunk; the result has exactly size bytes.
func (ds *Dataset) loadChunk(c chunkRef, size int, noFilter bool, buf []byte) ([]byte, error) {
	if c.size > uint64(ds.f.avail(c.addr)) {
		return nil, errf("%d stored bytes at %d beyond the end of the file", c.size, c.addr)
	}
	raw, err := ds.f.readAt(c.addr, int64(c.size))
	if err != nil {
		return nil, err
	}
	if !noFilter {
		for i := len(ds.filters) - 1; i >= 0; i-- {
			fl := ds.filters[i]
			if c.mask&(1<<uint(i)) != 0 {
				continue
			}
			if raw, err = applyFilter(fl, raw, size, ds.t.Size, buf); err != nil {
				return nil, err
			}
		}
	}
	if len(raw) < size {
		return nil, errf("chunk decodes to %d bytes, want %d", len(raw), size)
	}
	return raw[:size], nil
}

func applyFilter(fl filter, in []byte, size, elem int, buf []byte) ([]byte, error) {
	switch fl.id {
	case 1: // deflate
		zr, err := zlib.NewReader(bytes.NewReader(in))
		if err != nil {
			return nil, fmt.Errorf("deflate: %w", err)
		}
		out := bytes.NewBuffer(buf[:0])
		n, err := io.Copy(out, io.LimitReader(zr, int64(size)+1))
		if err != nil {
			return nil, fmt.Errorf("deflate: %w", err)
		}
		if n > int64(size) {
			return nil, fmt.Errorf("deflate: chunk inflates to more than %d bytes", size)
		}
		return out.Bytes(), nil
	case 2: // shuffle
		es := elem
		if len(fl.client) > 0 {
			es = int(fl.client[0])
		}
		if es <= 1 || es > len(in) {
			return in, nil // nothing to unshuffle: HDF5 leaves such chunks as they are
		}
		out := make([]byte, len(in))
		n := len(in) / es
		for b := 0; b < es; b++ {
			for i := 0; i < n; i++ {
				out[i*es+b] = in[b*n+i]
			}
		}
		copy(out[n*es:], in[n*es:])
		return out, nil
	case 3: // fletcher32: the last four bytes are the checksum of the rest
		if len(in) < 4 {
			return nil, fmt.Errorf("fletcher32: chunk of %d bytes", len(in))
		}
		data, sum := in[:len(in)-4], binary.LittleEndian.Uint32(in[len(in)-4:])
		got := fletcher32(data)
		swapped := got>>24 | (got>>8)&0xff00 | (got<<8)&0xff0000 | got<<24
		if sum != got && sum != swapped {
			return nil, fmt.Errorf("fletcher32 checksum mismatch: stored %08x, computed %08x", sum, got)
		}
		return data, nil
	}
	if fl.flags&1 != 0 {
		return in, nil // optional filter the library may have skipped; we cannot undo it
	}
	name := map[uint16]string{4: "szip", 5: "nbit", 6: "scaleoffset", 32001: "blosc", 32004: "lz4", 32015: "zstd"}[fl.id]
	if name == "" {
		name = fl.name
	}
	return nil, fmt.Errorf("filter %d (%s) is not supported", fl.id, name)
}

// fletcher32 is HDF5's variant: 16-bit big-endian words, an odd last byte as the high byte.
func fletcher32(b []byte) uint32 {
	var s1, s2 uint32
	n := len(b) / 2
	i := 0
	for n > 0 {
		t := min(n, 360)
		n -= t
		for ; t > 0; t-- {
			s1 += uint32(b[i])<<8 | uint32(b[i+1])
			s2 += s1
			i += 2
		}
		s1 = (s1 & 0xffff) + (s1 >> 16)
		s2 = (s2 & 0xffff) + (s2 >> 16)
	}
	if len(b)%2 == 1 {
		s1 += uint32(b[len(b)-1]) << 8
		s2 += s1
		s1 = (s1 & 0xffff) + (s1 >> 16)
		s2 = (s2 & 0xffff) + (s2 >> 16)
	}
	s1 = (s1 & 0xffff) + (s1 >> 16)
	s2 = (s2 & 0xffff) + (s2 >> 16)
	return s2<<16 | s1
}
