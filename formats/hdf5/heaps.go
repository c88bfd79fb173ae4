package hdf5

import (
	"bytes"
	"math/bits"
)

// localHeap returns the data segment of the local heap at addr.
func (f *File) localHeap(addr uint64) ([]byte, error) {
	b, err := f.readUpTo(addr, 8+2*int64(f.lenSize)+int64(f.offSize))
	if err != nil {
		return nil, errf("local heap at %d: %v", addr, err)
	}
	if !bytes.HasPrefix(b, []byte("HEAP")) {
		return nil, errf("local heap at %d: no HEAP signature", addr)
	}
	d := decoder{b: b, p: 8, f: f}
	size := d.length()
	d.length() // free list
	data := d.addr()
	if d.err != nil {
		return nil, errf("local heap at %d: %v", addr, d.err)
	}
	if size > uint64(f.avail(data)) {
		return nil, errf("local heap at %d: %d-byte data segment beyond the end of the file", addr, size)
	}
	return f.readAt(data, int64(size))
}

func heapString(heap []byte, off uint64) (string, error) {
	if off >= uint64(len(heap)) {
		return "", errf("name offset %d outside the %d-byte local heap", off, len(heap))
	}
	rest := heap[off:]
	i := bytes.IndexByte(rest, 0)
	if i < 0 {
		return "", errf("unterminated name in local heap")
	}
	return string(rest[:i]), nil
}

type globalHeap struct {
	objs map[uint16][]byte
}

// globalObject returns object idx of the global heap collection at addr.
func (f *File) globalObject(addr uint64, idx uint32) ([]byte, error) {
	h, ok := f.gheaps[addr]
	if !ok {
		b, err := f.readUpTo(addr, 16)
		if err != nil || !bytes.HasPrefix(b, []byte("GCOL")) || len(b) < 16 {
			return nil, errf("global heap collection at %d: no GCOL signature", addr)
		}
		d := decoder{b: b, p: 8, f: f}
		size := d.length()
		if d.err != nil || size > uint64(f.avail(addr)) || size < 16 {
			return nil, errf("global heap collection at %d: size %d beyond the end of the file", addr, size)
		}
		// The heaps held in memory are bounded: all of them are parts of the file, and we
		// drop the cache when it holds more than Limit bytes.
		if f.heapsRead+int64(size) > max(f.Limit, 1<<20) {
			clear(f.gheaps)
			f.heapsRead = 0
		}
		f.heapsRead += int64(size)
		b, err = f.readAt(addr, int64(size))
		if err != nil {
			return nil, err
		}
		h = &globalHeap{objs: map[uint16][]byte{}}
		d = decoder{b: b, p: 8 + f.lenSize, f: f}
		for d.left() >= 8+f.lenSize {
			i := d.u16()
			d.skip(6)
			n := d.length()
			if i == 0 { // free space: the rest of the collection
				break
			}
			if n > uint64(d.left()) {
				return nil, errf("global heap collection at %d: object %d of %d bytes overflows the collection", addr, i, n)
			}
			h.objs[i] = d.bytes(int(n))
			d.skip(min(int((n+7)&^7-n), d.left()))
		}
		f.gheaps[addr] = h
	}
	if idx > 0xffff {
		return nil, errf("global heap object index %d", idx)
	}
	o, ok := h.objs[uint16(idx)]
	if !ok {
		return nil, errf("global heap collection at %d has no object %d", addr, idx)
	}
	return o, nil
}

// fractalHeap is the part of a fractal heap header needed to find managed and tiny objects.
type fractalHeap struct {
	addr          uint64
	idLen         int
	width         int
	startBlock    uint64
	maxDirect     uint64
	maxHeapBits   int
	rootAddr      uint64
	rootRows      int
	checksummed   bool
	offBytes      int
	lenBytes      int
	maxDirectRows int
	filtered      bool
	hugeTree      uint64
}

func log2(v uint64) int { return bits.Len64(v) - 1 }

func (f *File) fractalHeap(addr uint64) (*fractalHeap, error) {
	b, err := f.readUpTo(addr, 256)
	if err != nil || !bytes.HasPrefix(b, []byte("FRHP")) {
		return nil, errf("fractal heap at %d: no FRHP signature", addr)
	}
	d := decoder{b: b, p: 5, f: f}
	h := &fractalHeap{addr: addr}
	h.idLen = int(d.u16())
	filterLen := d.u16()
	flags := d.u8()
	h.checksummed = flags&2 != 0
	maxMan := d.u32()
	d.length() // next huge id
	h.hugeTree = d.addr()
	d.length() // free space
	d.addr()   // free space manager
	d.length() // managed space
	d.length() // allocated managed space
	d.length() // direct block allocation iterator
	d.length() // managed objects
	d.length() // huge objects size
	d.length() // huge objects count
	d.length() // tiny objects size
	d.length() // tiny objects count
	h.width = int(d.u16())
	h.startBlock = d.length()
	h.maxDirect = d.length()
	h.maxHeapBits = int(d.u16())
	d.u16() // starting rows of root indirect block
	h.rootAddr = d.addr()
	h.rootRows = int(d.u16())
	if d.err != nil {
		return nil, errf("fractal heap at %d: %v", addr, d.err)
	}
	h.filtered = filterLen > 0
	pow2 := func(v uint64) bool { return v != 0 && v&(v-1) == 0 }
	if h.width == 0 || h.width > 1<<12 || !pow2(uint64(h.width)) || !pow2(h.startBlock) || !pow2(h.maxDirect) ||
		h.maxDirect < h.startBlock || h.maxHeapBits < 1 || h.maxHeapBits > 64 || h.idLen < 2 || h.idLen > 1<<10 || h.rootRows > 64 {
		return nil, errf("fractal heap at %d: implausible parameters", addr)
	}
	h.offBytes = (h.maxHeapBits + 7) / 8
	h.lenBytes = min((log2(h.maxDirect)+7)/8, limitEncSize(uint64(maxMan)))
	h.maxDirectRows = log2(h.maxDirect) - log2(h.startBlock) + 2
	return h, nil
}

// limitEncSize is the number of bytes needed to encode values up to l.
func limitEncSize(l uint64) int { return max(log2(l), 0)/8 + 1 }

// rowSize is the size of the blocks in row r of a doubling table.
func (h *fractalHeap) rowSize(r int) uint64 {
	if r < 2 {
		return h.startBlock
	}
	if r-1 >= 63 {
		return 0
	}
	return h.startBlock << (r - 1)
}

// object returns the object whose heap ID is id.
func (f *File) heapObject(h *fractalHeap, id []byte) ([]byte, error) {
	if len(id) < 1 {
		return nil, errf("empty fractal heap ID")
	}
	switch (id[0] >> 4) & 3 {
	case 2: // tiny: the object is in the ID
		n := int(id[0]&0x0f) + 1
		if 1+n > len(id) {
			return nil, errf("tiny fractal heap object of %d bytes in a %d-byte ID", n, len(id))
		}
		return id[1 : 1+n], nil
	case 1:
		return f.hugeObject(h, id[1:])
	case 0:
	default:
		return nil, errf("fractal heap ID type %d", (id[0]>>4)&3)
	}
	if h.filtered {
		return nil, errf("fractal heap at %d: filtered heaps are not supported", h.addr)
	}
	d := decoder{b: id, p: 1, f: f}
	off := d.uint(h.offBytes)
	n := d.uint(h.lenBytes)
	if d.err != nil {
		return nil, d.err
	}
	if n > h.maxDirect {
		return nil, errf("fractal heap object of %d bytes", n)
	}
	addr, blockOff, err := f.findDirect(h, h.rootAddr, h.rootRows, 0, off, 0)
	if err != nil {
		return nil, errf("fractal heap at %d: object at offset %d: %v", h.addr, off, err)
	}
	pos := addr + (off - blockOff)
	if pos < addr || n > uint64(f.avail(pos)) {
		return nil, errf("fractal heap at %d: object beyond the end of the file", h.addr)
	}
	return f.readAt(pos, int64(n))
}

// findDirect returns the address and heap offset of the direct block holding heap offset off,
// starting at the block at addr (a direct block when rows is 0, else an indirect block with
// that many rows) whose heap offset is base.
func (f *File) findDirect(h *fractalHeap, addr uint64, rows int, base, off uint64, depth int) (uint64, uint64, error) {
	if depth > 16 {
		return 0, 0, errf("indirect blocks nested too deeply")
	}
	if addr == undef {
		return 0, 0, errf("no block")
	}
	if rows == 0 {
		if off-base >= h.startBlock && depth == 0 {
			return 0, 0, errf("offset beyond the root direct block")
		}
		return addr, base, nil
	}
	// an indirect block: header, then width entries per row (direct block addresses for the
	// first maxDirectRows rows, indirect block addresses after)
	hdr := 5 + uint64(f.offSize) + uint64(h.offBytes)
	pos := base
	for r := 0; r < rows; r++ {
		sz := h.rowSize(r)
		if sz == 0 {
			break
		}
		for c := 0; c < h.width; c++ {
			if off >= pos && off-pos < sz {
				entry := uint64(r*h.width + c)
				b, err := f.readAt(addr+hdr+entry*uint64(f.offSize), int64(f.offSize))
				if err != nil {
					return 0, 0, err
				}
				cd := decoder{b: b, f: f}
				child := cd.addr()
				if r < h.maxDirectRows {
					return f.findDirect(h, child, 0, pos, off, depth+1)
				}
				childRows := log2(sz) - log2(h.startBlock) - log2(uint64(h.width)) + 1
				return f.findDirect(h, child, childRows, pos, off, depth+1)
			}
			pos += sz
		}
	}
	return 0, 0, errf("offset %d outside the heap", off)
}

// btree2Records calls visit with every record of the v2 B-tree at addr.
func (f *File) btree2Records(addr uint64, visit func(rec []byte) error) error {
	b, err := f.readUpTo(addr, 64)
	if err != nil || !bytes.HasPrefix(b, []byte("BTHD")) {
		return errf("v2 B-tree at %d: no BTHD signature", addr)
	}
	d := decoder{b: b, p: 6, f: f}
	nodeSize := d.u32()
	recSize := int(d.u16())
	depth := int(d.u16())
	d.skip(2)
	root := d.addr()
	rootN := int(d.u16())
	d.length()
	sum := d.bytes(4)
	if d.err != nil {
		return errf("v2 B-tree at %d: %v", addr, d.err)
	}
	if err := checkSum("v2 B-tree header", addr, b[:d.p-4], sum); err != nil {
		return err
	}
	if recSize == 0 || nodeSize < 16 || int64(nodeSize) > f.size || depth > 32 {
		return errf("v2 B-tree at %d: node size %d, record size %d, depth %d", addr, nodeSize, recSize, depth)
	}
	if root == undef || rootN == 0 {
		return nil
	}
	// The widths of the child-pointer counts depend on how many records fit in a node
	// (H5B2hdr.c): leaves hold (nodeSize-10)/recSize records.
	const prefix = 10
	maxRec := make([]uint64, depth+1)
	cumMax := make([]uint64, depth+1)
	cumSize := make([]int, depth+1)
	maxRec[0] = uint64((int(nodeSize) - prefix) / recSize)
	cumMax[0] = maxRec[0]
	nrecSize := limitEncSize(maxRec[0])
	for u := 1; u <= depth; u++ {
		ptr := f.offSize + nrecSize
		if u > 1 {
			ptr += cumSize[u-1]
		}
		if int(nodeSize) < prefix+ptr {
			return errf("v2 B-tree at %d: node size %d too small", addr, nodeSize)
		}
		maxRec[u] = uint64((int(nodeSize) - prefix - ptr) / (recSize + ptr))
		cumMax[u] = (maxRec[u]+1)*cumMax[u-1] + maxRec[u]
		if cumMax[u] < cumMax[u-1] { // overflow
			cumMax[u] = ^uint64(0)
		}
		cumSize[u] = limitEncSize(cumMax[u])
	}
	seen := map[uint64]bool{}
	var walk func(a uint64, n, dep int) error
	walk = func(a uint64, n, dep int) error {
		if seen[a] {
			return errf("v2 B-tree at %d: node %d visited twice", addr, a)
		}
		seen[a] = true
		nb, err := f.readAt(a, int64(nodeSize))
		if err != nil {
			return errf("v2 B-tree at %d: node at %d: %v", addr, a, err)
		}
		sig := "BTLF"
		if dep > 0 {
			sig = "BTIN"
		}
		if !bytes.HasPrefix(nb, []byte(sig)) {
			return errf("v2 B-tree at %d: node at %d: no %s signature", addr, a, sig)
		}
		if uint64(n) > maxRec[dep] {
			return errf("v2 B-tree at %d: node at %d claims %d records", addr, a, n)
		}
		nd := decoder{b: nb, p: 6, f: f}
		recs := nd.bytes(n * recSize)
		if nd.err != nil {
			return errf("v2 B-tree at %d: node at %d: %v", addr, a, nd.err)
		}
		if dep == 0 {
			if err := checkSum("v2 B-tree leaf", a, nb[:nd.p], nb[nd.p:]); err != nil {
				return err
			}
		}
		type child struct {
			a uint64
			n int
		}
		var kids []child
		if dep > 0 {
			for i := 0; i <= n; i++ {
				ca := nd.addr()
				cn := nd.uint(nrecSize)
				if dep > 1 {
					nd.uint(cumSize[dep-1])
				}
				kids = append(kids, child{ca, int(min(cn, 1<<30))})
			}
			if nd.err != nil {
				return errf("v2 B-tree at %d: node at %d: %v", addr, a, nd.err)
			}
			if err := checkSum("v2 B-tree internal node", a, nb[:nd.p], nb[nd.p:]); err != nil {
				return err
			}
		}
		for i := 0; i <= n; i++ {
			if dep > 0 {
				if err := walk(kids[i].a, kids[i].n, dep-1); err != nil {
					return err
				}
			}
			if i < n {
				if err := visit(recs[i*recSize : (i+1)*recSize]); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(root, rootN, depth)
}

// hugeObject returns a huge object: one too large for the heap's blocks, stored on its own
// and found through the heap's v2 B-tree of huge objects (or, with long IDs, directly).
func (f *File) hugeObject(h *fractalHeap, id []byte) ([]byte, error) {
	if h.filtered {
		return nil, errf("fractal heap at %d: filtered huge objects are not supported", h.addr)
	}
	var addr, n uint64
	if len(id) >= f.offSize+f.lenSize {
		d := decoder{b: id, f: f}
		addr, n = d.addr(), d.length()
	} else {
		d := decoder{b: id, f: f}
		want := d.uint(min(len(id), 8))
		found := false
		err := f.btree2Records(h.hugeTree, func(rec []byte) error {
			rd := decoder{b: rec, f: f}
			a, l, i := rd.addr(), rd.length(), rd.length()
			if rd.err == nil && i == want && !found {
				addr, n, found = a, l, true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, errf("fractal heap at %d: no huge object %d", h.addr, want)
		}
	}
	if n > uint64(f.avail(addr)) {
		return nil, errf("fractal heap at %d: huge object of %d bytes at %d beyond the end of the file", h.addr, n, addr)
	}
	return f.readAt(addr, int64(n))
}
