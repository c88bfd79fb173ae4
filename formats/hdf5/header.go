package hdf5

import (
	"bytes"
)

// Header message types used by this reader.
const (
	msgNIL         = 0x00
	msgDataspace   = 0x01
	msgLinkInfo    = 0x02
	msgDatatype    = 0x03
	msgFillOld     = 0x04
	msgFill        = 0x05
	msgLink        = 0x06
	msgExternal    = 0x07
	msgLayout      = 0x08
	msgFilters     = 0x0B
	msgAttribute   = 0x0C
	msgContinue    = 0x10
	msgSymbolTable = 0x11
	msgAttrInfo    = 0x15
)

const maxHeaderBlocks = 4096

type message struct {
	typ   uint16
	flags uint8
	data  []byte
}

type objectHeader struct {
	addr uint64
	msgs []message
}

type hblock struct{ addr, size uint64 }

type symCache struct {
	btree, heap uint64
}

type symbolEntry struct {
	nameOff uint64
	header  uint64
	cache   *symCache
	softOff int64 // local heap offset of a soft link's value, -1 if none
}

func (d *decoder) symbolEntry() symbolEntry {
	e := symbolEntry{softOff: -1}
	e.nameOff = d.uint(d.f.offSize)
	e.header = d.addr()
	ct := d.u32()
	d.skip(4)
	scratch := d.bytes(16)
	if ct == 2 && d.err == nil {
		e.softOff = int64(le32(scratch))
	}
	if ct == 1 && d.err == nil {
		sd := decoder{b: scratch, f: d.f}
		c := &symCache{btree: sd.addr(), heap: sd.addr()}
		if sd.err == nil {
			e.cache = c
		}
	}
	return e
}

// header reads (and caches) the object header at addr.
func (f *File) header(addr uint64) (*objectHeader, error) {
	if h, ok := f.headers[addr]; ok {
		return h, nil
	}
	h, err := f.readHeader(addr)
	if err != nil {
		return nil, err
	}
	if len(f.headers) > 1<<16 {
		clear(f.headers)
	}
	f.headers[addr] = h
	return h, nil
}

func (f *File) readHeader(addr uint64) (*objectHeader, error) {
	pre, err := f.readUpTo(addr, 16)
	if err != nil {
		return nil, errf("object header at %d: %v", addr, err)
	}
	h := &objectHeader{addr: addr}
	var todo []hblock
	seen := map[uint64]bool{addr: true}
	v2 := bytes.HasPrefix(pre, []byte("OHDR"))
	var flags uint8
	if v2 {
		b, err := f.readUpTo(addr, 64)
		if err != nil {
			return nil, err
		}
		d := decoder{b: b, p: 4, f: f}
		if v := d.u8(); v != 2 {
			return nil, errf("object header at %d: version %d", addr, v)
		}
		flags = d.u8()
		if flags&0x20 != 0 {
			d.skip(16)
		}
		if flags&0x10 != 0 {
			d.skip(4)
		}
		size := d.uint(1 << (flags & 3))
		if d.err != nil {
			return nil, d.err
		}
		start := addr + uint64(d.p)
		if size+4 > uint64(f.avail(start)) {
			return nil, errf("object header at %d: %d bytes of messages beyond the end of the file", addr, size)
		}
		whole, err := f.readAt(addr, int64(uint64(d.p)+size+4))
		if err != nil {
			return nil, err
		}
		if err := checkSum("object header", addr, whole[:len(whole)-4], whole[len(whole)-4:]); err != nil {
			return nil, err
		}
		body := whole[d.p : len(whole)-4]
		if err := h.parseV2(f, body, flags, &todo); err != nil {
			return nil, errf("object header at %d: %v", addr, err)
		}
		for n := 0; len(todo) > 0; n++ {
			c := todo[0]
			todo = todo[1:]
			if n >= maxHeaderBlocks || seen[c.addr] {
				return nil, errf("object header at %d: continuation loop or too many blocks", addr)
			}
			seen[c.addr] = true
			b, err := f.readAt(c.addr, int64(min(c.size, uint64(f.size))))
			if err != nil {
				return nil, errf("object header at %d: continuation: %v", addr, err)
			}
			if !bytes.HasPrefix(b, []byte("OCHK")) || len(b) < 8 {
				return nil, errf("object header at %d: continuation block at %d has no OCHK signature", addr, c.addr)
			}
			if err := checkSum("object header continuation", c.addr, b[:len(b)-4], b[len(b)-4:]); err != nil {
				return nil, err
			}
			if err := h.parseV2(f, b[4:len(b)-4], flags, &todo); err != nil {
				return nil, errf("object header at %d: %v", addr, err)
			}
		}
		return h, nil
	}
	if pre[0] != 1 || len(pre) < 16 {
		return nil, errf("object header at %d: version %d", addr, pre[0])
	}
	nmsgs := int(le16(pre[2:]))
	size := uint64(pre[8]) | uint64(pre[9])<<8 | uint64(pre[10])<<16 | uint64(pre[11])<<24
	body, err := f.readAt(addr+16, int64(min(size, uint64(f.avail(addr+16)))))
	if err != nil {
		return nil, errf("object header at %d: %v", addr, err)
	}
	if uint64(len(body)) < size {
		return nil, errf("object header at %d: %d bytes of messages beyond the end of the file", addr, size)
	}
	if err := h.parseV1(f, body, &todo); err != nil {
		return nil, errf("object header at %d: %v", addr, err)
	}
	for n := 0; len(todo) > 0; n++ {
		c := todo[0]
		todo = todo[1:]
		if n >= maxHeaderBlocks || seen[c.addr] {
			return nil, errf("object header at %d: continuation loop or too many blocks", addr)
		}
		seen[c.addr] = true
		b, err := f.readAt(c.addr, int64(min(c.size, uint64(f.size))))
		if err != nil {
			return nil, errf("object header at %d: continuation: %v", addr, err)
		}
		if err := h.parseV1(f, b, &todo); err != nil {
			return nil, errf("object header at %d: %v", addr, err)
		}
	}
	_ = nmsgs // the count includes messages in continuation blocks; we read until each block ends
	return h, nil
}

func (h *objectHeader) add(f *File, typ uint16, flags uint8, data []byte, todo *[]hblock) error {
	if typ == msgContinue {
		d := decoder{b: data, f: f}
		a, n := d.addr(), d.length()
		if d.err != nil {
			return d.err
		}
		*todo = append(*todo, hblock{a, n})
		return nil
	}
	if typ != msgNIL {
		h.msgs = append(h.msgs, message{typ: typ, flags: flags, data: data})
	}
	return nil
}

func (h *objectHeader) parseV1(f *File, b []byte, todo *[]hblock) error {
	d := decoder{b: b, f: f}
	for d.left() >= 8 {
		typ := d.u16()
		size := int(d.u16())
		flags := d.u8()
		d.skip(3)
		data := d.bytes(size)
		if d.err != nil {
			return d.err
		}
		if err := h.add(f, typ, flags, data, todo); err != nil {
			return err
		}
	}
	return nil
}

func (h *objectHeader) parseV2(f *File, b []byte, hflags uint8, todo *[]hblock) error {
	d := decoder{b: b, f: f}
	hdr := 4
	if hflags&0x04 != 0 {
		hdr = 6
	}
	for d.left() >= hdr {
		typ := uint16(d.u8())
		size := int(d.u16())
		flags := d.u8()
		if hflags&0x04 != 0 {
			d.skip(2)
		}
		data := d.bytes(size)
		if d.err != nil {
			return d.err
		}
		if err := h.add(f, typ, flags, data, todo); err != nil {
			return err
		}
	}
	return nil
}

// find returns the first message of type typ, resolving a shared message.
func (h *objectHeader) find(f *File, typ uint16) ([]byte, bool, error) {
	for _, m := range h.msgs {
		if m.typ == typ {
			b, err := f.unshare(m)
			return b, true, err
		}
	}
	return nil, false, nil
}

// unshare returns a message's own data, following a shared-message pointer to the object
// header (a committed datatype) that holds it.
func (f *File) unshare(m message) ([]byte, error) {
	if m.flags&0x02 == 0 {
		return m.data, nil
	}
	return f.sharedMessage(m.typ, m.data, 0)
}

func (f *File) sharedMessage(typ uint16, data []byte, depth int) ([]byte, error) {
	if depth > 8 {
		return nil, errf("shared message chain too deep")
	}
	d := decoder{b: data, f: f}
	ver := d.u8()
	kind := d.u8()
	switch ver {
	case 1:
		d.skip(6)
	case 2:
	case 3:
		if kind == 1 {
			return nil, errf("message type %d in the shared object header message heap: not supported", typ)
		}
	default:
		return nil, errf("shared message version %d", ver)
	}
	a := d.addr()
	if d.err != nil {
		return nil, d.err
	}
	h, err := f.header(a)
	if err != nil {
		return nil, err
	}
	for _, m := range h.msgs {
		if m.typ == typ {
			if m.flags&0x02 != 0 {
				return f.sharedMessage(typ, m.data, depth+1)
			}
			return m.data, nil
		}
	}
	return nil, errf("shared message type %d: object header at %d does not hold one", typ, a)
}
