package hdf5

import (
	"bytes"
	"fmt"
)

// maxChunks bounds the chunk records read from one index.
const maxChunks = 1 << 24

// chunkIndex lists the dataset's allocated chunks.
func (ds *Dataset) chunkIndex(chunkBytes uint64) ([]chunkRef, error) {
	l := ds.lay
	f := ds.f
	rank := len(ds.space.dims)
	if l.addr == undef {
		return nil, nil
	}
	var out []chunkRef
	switch {
	case l.version < 4:
		keySize := 8 + 8*(rank+1)
		err := f.btreeV1(l.addr, 1, keySize, func(key []byte, child uint64) error {
			d := decoder{b: key, f: f}
			c := chunkRef{addr: child, size: uint64(d.u32()), mask: d.u32()}
			for i := 0; i < rank; i++ {
				c.offset = append(c.offset, d.u64())
			}
			if len(out) >= maxChunks {
				return errf("more than %d chunks", maxChunks)
			}
			out = append(out, c)
			return d.err
		})
		return out, err
	case l.index == 1: // single chunk
		c := chunkRef{offset: make([]uint64, rank), addr: l.addr, size: chunkBytes}
		if l.flags&2 != 0 {
			c.size, c.mask = l.single.size, l.single.mask
		}
		return []chunkRef{c}, nil
	case l.index == 2: // implicit: every chunk, stored in order, unfiltered
		grid := ds.maxGrid()
		n, ok := mulSize(maxChunks, grid...)
		if !ok {
			return nil, errf("more than %d chunks", maxChunks)
		}
		if _, ok := mulSize(f.avail(l.addr), uint64(n), chunkBytes); !ok {
			return nil, errf("implicit chunk index: %d chunks of %d bytes at %d beyond the end of the file", n, chunkBytes, l.addr)
		}
		for i := int64(0); i < n; i++ {
			out = append(out, chunkRef{offset: ds.gridOffset(grid, uint64(i)), addr: l.addr + uint64(i)*chunkBytes, size: chunkBytes})
		}
		return out, nil
	case l.index == 3:
		return ds.fixedArray(chunkBytes)
	case l.index == 5:
		err := f.btree2Records(l.addr, func(rec []byte) error {
			d := decoder{b: rec, f: f}
			c := chunkRef{addr: d.addr(), size: chunkBytes}
			if len(ds.filters) > 0 {
				sizeLen := len(rec) - f.offSize - 4 - 8*rank
				if sizeLen < 1 || sizeLen > 8 {
					return errf("v2 B-tree chunk record of %d bytes", len(rec))
				}
				c.size = d.uint(sizeLen)
				c.mask = d.u32()
			}
			for i := 0; i < rank; i++ {
				c.offset = append(c.offset, d.u64()*l.chunk[i])
			}
			if len(out) >= maxChunks {
				return errf("more than %d chunks", maxChunks)
			}
			out = append(out, c)
			return d.err
		})
		return out, err
	case l.index == 4:
		return ds.extensibleArray(chunkBytes)
	}
	return nil, errf("chunk index type %d", l.index)
}

// maxGrid is the number of chunks along each dimension of the maximum shape, which orders
// the entries of the array chunk indexes.
func (ds *Dataset) maxGrid() []uint64 {
	grid := make([]uint64, len(ds.space.dims))
	for i := range grid {
		d := ds.space.dims[i]
		if i < len(ds.space.maxdims) && ds.space.maxdims[i] != undef {
			d = max(d, ds.space.maxdims[i])
		}
		grid[i] = (d + ds.lay.chunk[i] - 1) / ds.lay.chunk[i]
	}
	return grid
}

func (ds *Dataset) gridOffset(grid []uint64, i uint64) []uint64 {
	off := make([]uint64, len(grid))
	for k := len(grid) - 1; k >= 0; k-- {
		off[k] = (i % grid[k]) * ds.lay.chunk[k]
		i /= grid[k]
	}
	return off
}

// fixedArray reads a fixed-array chunk index (layout version 4, index type 3).
func (ds *Dataset) fixedArray(chunkBytes uint64) ([]chunkRef, error) {
	f := ds.f
	l := ds.lay
	hb, err := f.readUpTo(l.addr, int64(12+f.lenSize+f.offSize))
	if err != nil || !bytes.HasPrefix(hb, []byte("FAHD")) {
		return nil, errf("fixed array header at %d: no FAHD signature", l.addr)
	}
	d := decoder{b: hb, p: 5, f: f}
	client := d.u8()
	entrySize := int(d.u8())
	pageBits := int(d.u8())
	n := d.length()
	dblock := d.addr()
	if d.err != nil {
		return nil, fmt.Errorf("fixed array header: %w", d.err)
	}
	filtered := client == 1
	if entrySize < f.offSize || (filtered && entrySize < f.offSize+5) || pageBits > 32 || n > maxChunks {
		return nil, errf("fixed array header at %d: entry size %d, page bits %d, %d entries", l.addr, entrySize, pageBits, n)
	}
	grid := ds.maxGrid()
	if want, ok := mulSize(maxChunks, grid...); !ok || uint64(want) != n {
		return nil, errf("fixed array of %d entries for a chunk grid %v", n, grid)
	}
	if dblock == undef {
		return nil, nil
	}
	if _, ok := mulSize(f.avail(dblock), n, uint64(entrySize)); !ok {
		return nil, errf("fixed array data block at %d: %d entries beyond the end of the file", dblock, n)
	}
	perPage := uint64(1) << pageBits
	paged := n > perPage
	prefix := uint64(6 + f.offSize)
	var bitmap []byte
	if paged {
		npages := (n + perPage - 1) / perPage
		bitmap, err = f.readAt(dblock+prefix, int64((npages+7)/8))
		if err != nil {
			return nil, err
		}
		prefix += uint64(len(bitmap)) + 4
	}
	es := uint64(entrySize)
	var out []chunkRef
	for i := uint64(0); i < n; i++ {
		pos := prefix + i*es
		if paged {
			p := i / perPage
			if bitmap[p/8]&(0x80>>(p%8)) == 0 {
				i = (p+1)*perPage - 1
				continue
			}
			pos = prefix + p*(perPage*es+4) + (i%perPage)*es
		}
		b, err := f.readAt(dblock+pos, int64(es))
		if err != nil {
			return nil, fmt.Errorf("fixed array entry %d: %w", i, err)
		}
		ed := decoder{b: b, f: f}
		c := chunkRef{addr: ed.addr(), size: chunkBytes, offset: ds.gridOffset(grid, i)}
		if filtered {
			c.size = ed.uint(entrySize - f.offSize - 4)
			c.mask = ed.u32()
		}
		if c.addr != undef {
			out = append(out, c)
		}
	}
	return out, nil
}
