package hdf5

import (
	"bytes"
	"fmt"
)

// extensibleArray reads an extensible-array chunk index (layout version 4, index type 4: what
// HDF5 1.10 writes for one unlimited dimension when the file allows the latest format).
// Entries are looked up by chunk number; the unlimited dimension counts slowest ("swizzled").
func (ds *Dataset) extensibleArray(chunkBytes uint64) ([]chunkRef, error) {
	f := ds.f
	l := ds.lay
	hb, err := f.readUpTo(l.addr, int64(16+6*f.lenSize+f.offSize))
	if err != nil || !bytes.HasPrefix(hb, []byte("EAHD")) {
		return nil, errf("extensible array header at %d: no EAHD signature", l.addr)
	}
	d := decoder{b: hb, p: 5, f: f}
	client := d.u8()
	elemSize := int(d.u8())
	maxBits := int(d.u8())
	idxElems := uint64(d.u8())
	dblkMin := uint64(d.u8())
	sblkMinPtrs := uint64(d.u8())
	pageBits := int(d.u8())
	for i := 0; i < 6; i++ {
		d.length()
	}
	iblock := d.addr()
	if d.err != nil {
		return nil, fmt.Errorf("extensible array header: %w", d.err)
	}
	filtered := client == 1
	isPow2 := func(v uint64) bool { return v != 0 && v&(v-1) == 0 }
	if elemSize < f.offSize || (filtered && elemSize < f.offSize+5) || maxBits < 1 || maxBits > 64 ||
		!isPow2(dblkMin) || !isPow2(sblkMinPtrs) || pageBits > 32 || log2(dblkMin) > maxBits {
		return nil, errf("extensible array header at %d: implausible parameters", l.addr)
	}
	if iblock == undef {
		return nil, nil
	}
	// super block geometry (H5EAhdr.c)
	nsblks := 1 + maxBits - log2(dblkMin)
	type sblkInfo struct{ ndblks, dblkElems, startIdx, startDblk uint64 }
	info := make([]sblkInfo, nsblks)
	var startIdx, startDblk uint64
	for u := range info {
		info[u] = sblkInfo{ndblks: 1 << (u / 2), dblkElems: (1 << ((u + 1) / 2)) * dblkMin, startIdx: startIdx, startDblk: startDblk}
		startIdx += info[u].ndblks * info[u].dblkElems
		startDblk += info[u].ndblks
	}
	iblkSblks := 2 * log2(sblkMinPtrs)
	ndblkAddrs := 2 * (sblkMinPtrs - 1)
	nsblkAddrs := uint64(max(nsblks-iblkSblks, 0))
	es := uint64(elemSize)
	ib, err := f.readAt(iblock, int64(6+uint64(f.offSize)+idxElems*es+(ndblkAddrs+nsblkAddrs)*uint64(f.offSize)))
	if err != nil || !bytes.HasPrefix(ib, []byte("EAIB")) {
		return nil, errf("extensible array index block at %d: no EAIB signature", iblock)
	}
	ibElems := ib[6+f.offSize:]
	ibd := decoder{b: ib, p: 6 + f.offSize + int(idxElems*es), f: f}
	dblkAddrs := make([]uint64, ndblkAddrs)
	for i := range dblkAddrs {
		dblkAddrs[i] = ibd.addr()
	}
	sblkAddrs := make([]uint64, nsblkAddrs)
	for i := range sblkAddrs {
		sblkAddrs[i] = ibd.addr()
	}
	blockOffSize := uint64((maxBits + 7) / 8)
	dblkPrefix := 6 + uint64(f.offSize) + blockOffSize
	sblkCache := map[uint64][]uint64{}

	// entry returns the raw element for chunk number idx (nil when not allocated).
	entry := func(idx uint64) ([]byte, error) {
		if idx < idxElems {
			return ibElems[idx*es : (idx+1)*es], nil
		}
		e := idx - idxElems
		s := log2(e/dblkMin + 1)
		if s >= nsblks {
			return nil, errf("chunk %d beyond the extensible array", idx)
		}
		si := info[s]
		within := e - si.startIdx
		var dblk uint64
		if s < iblkSblks {
			k := si.startDblk + within/si.dblkElems
			if k >= uint64(len(dblkAddrs)) {
				return nil, errf("data block %d of %d", k, len(dblkAddrs))
			}
			dblk = dblkAddrs[k]
		} else {
			sa := sblkAddrs[s-iblkSblks]
			if sa == undef {
				return nil, nil
			}
			ptrs, ok := sblkCache[sa]
			if !ok {
				if si.dblkElems > 1<<pageBits {
					return nil, errf("paged extensible-array data blocks (more than %d chunks) are not supported", 1<<pageBits)
				}
				sb, err := f.readAt(sa, int64(6+uint64(f.offSize)+blockOffSize+si.ndblks*uint64(f.offSize)))
				if err != nil || !bytes.HasPrefix(sb, []byte("EASB")) {
					return nil, errf("extensible array super block at %d: no EASB signature", sa)
				}
				sd := decoder{b: sb, p: int(6 + uint64(f.offSize) + blockOffSize), f: f}
				for i := uint64(0); i < si.ndblks; i++ {
					ptrs = append(ptrs, sd.addr())
				}
				sblkCache[sa] = ptrs
			}
			dblk = ptrs[within/si.dblkElems]
		}
		if dblk == undef {
			return nil, nil
		}
		if si.dblkElems > 1<<pageBits {
			return nil, errf("paged extensible-array data blocks (more than %d chunks) are not supported", 1<<pageBits)
		}
		return f.readAt(dblk+dblkPrefix+(within%si.dblkElems)*es, int64(es))
	}

	rank := len(ds.space.dims)
	unlim := -1
	for i := 0; i < rank && i < len(ds.space.maxdims); i++ {
		if ds.space.maxdims[i] == undef {
			unlim = i
			break
		}
	}
	if unlim < 0 {
		return nil, errf("extensible array index without an unlimited dimension")
	}
	// chunk numbers: the unlimited dimension moved first, strides from the maximum shape
	grid := make([]uint64, rank) // chunks along each dimension now
	maxg := ds.maxGrid()
	for i := range grid {
		grid[i] = (ds.space.dims[i] + l.chunk[i] - 1) / l.chunk[i]
	}
	order := append([]int{unlim}, func() []int {
		var o []int
		for i := 0; i < rank; i++ {
			if i != unlim {
				o = append(o, i)
			}
		}
		return o
	}()...)
	down := make([]uint64, rank) // stride of each swizzled position
	acc := uint64(1)
	for k := rank - 1; k >= 0; k-- {
		down[k] = acc
		acc *= maxg[order[k]]
	}
	total, ok := mulSize(maxChunks, grid...)
	if !ok {
		return nil, errf("more than %d chunks", maxChunks)
	}
	var out []chunkRef
	scaled := make([]uint64, rank)
	for n := int64(0); n < total; n++ {
		rem := uint64(n)
		for i := rank - 1; i >= 0; i-- {
			scaled[i] = rem % grid[i]
			rem /= grid[i]
		}
		var idx uint64
		for k, dim := range order {
			idx += scaled[dim] * down[k]
		}
		b, err := entry(idx)
		if err != nil {
			return nil, err
		}
		if b == nil {
			continue
		}
		ed := decoder{b: b, f: f}
		c := chunkRef{addr: ed.addr(), size: chunkBytes}
		if filtered {
			c.size = ed.uint(elemSize - f.offSize - 4)
			c.mask = ed.u32()
		}
		if c.addr == undef || c.addr == 0 {
			continue
		}
		c.offset = make([]uint64, rank)
		for i := range c.offset {
			c.offset[i] = scaled[i] * l.chunk[i]
		}
		out = append(out, c)
	}
	return out, nil
}
