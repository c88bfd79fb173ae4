package hdf5

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Group is an HDF5 group.
type Group struct {
	f    *File
	addr uint64
	path string
	hint *symCache
}

// Kind is the kind of object a link points to.
type Kind int

// Object kinds.
const (
	KindGroup Kind = iota
	KindDataset
	KindDatatype
	KindOther
)

type link struct {
	name     string
	addr     uint64 // hard link target
	soft     string // soft link path
	external bool
	corder   int64 // creation order, -1 when not recorded
}

// Path returns the group's path from the root ("/" for the root).
func (g *Group) Path() string { return g.path }

// Address returns the file address of the group's object header (what object references
// hold).
func (g *Group) Address() uint64 { return g.addr }

func (g *Group) errorf(err error) error {
	return fmt.Errorf("%s: group %q: %w", g.f.name, g.path, err)
}

func (g *Group) links() ([]link, error) {
	if ls, ok := g.f.links[g.addr]; ok {
		return ls, nil
	}
	h, err := g.f.header(g.addr)
	if err != nil {
		return nil, g.errorf(err)
	}
	ls, err := g.f.groupLinks(h, g.hint)
	if err != nil {
		return nil, g.errorf(err)
	}
	// as h5py lists them: by creation order when the file tracks it, else by name
	byOrder := len(ls) > 0
	for _, l := range ls {
		byOrder = byOrder && l.corder >= 0
	}
	slices.SortStableFunc(ls, func(a, b link) int {
		if byOrder {
			return cmp.Compare(a.corder, b.corder)
		}
		return strings.Compare(a.name, b.name)
	})
	// path lookups list the group again for every member: remember the listing
	if len(g.f.links) > 1<<12 {
		clear(g.f.links)
	}
	g.f.links[g.addr] = ls
	return ls, nil
}

func (f *File) groupLinks(h *objectHeader, hint *symCache) ([]link, error) {
	if b, ok, err := h.find(f, msgSymbolTable); err != nil {
		return nil, err
	} else if ok {
		d := decoder{b: b, f: f}
		bt, heap := d.addr(), d.addr()
		if d.err != nil {
			return nil, d.err
		}
		return f.symbolTableLinks(bt, heap)
	}
	if b, ok, err := h.find(f, msgLinkInfo); err != nil {
		return nil, err
	} else if ok {
		d := decoder{b: b, p: 1, f: f}
		flags := d.u8()
		if flags&1 != 0 {
			d.skip(8)
		}
		heap := d.addr()
		names := d.addr()
		order := undef
		if flags&2 != 0 {
			order = d.addr()
		}
		if d.err != nil {
			return nil, fmt.Errorf("link info: %w", d.err)
		}
		if heap != undef {
			return f.denseLinks(heap, names, order)
		}
	}
	var out []link
	for _, m := range h.msgs {
		if m.typ != msgLink {
			continue
		}
		l, err := f.parseLink(m.data)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	if len(out) == 0 && hint != nil {
		return f.symbolTableLinks(hint.btree, hint.heap)
	}
	return out, nil
}

func (f *File) parseLink(b []byte) (link, error) {
	d := decoder{b: b, f: f}
	if v := d.u8(); v != 1 {
		return link{}, errf("link message version %d", v)
	}
	flags := d.u8()
	typ := uint8(0)
	if flags&0x08 != 0 {
		typ = d.u8()
	}
	corder := int64(-1)
	if flags&0x04 != 0 {
		corder = int64(d.u64() & (1<<62 - 1))
	}
	if flags&0x10 != 0 {
		d.skip(1)
	}
	n := d.uint(1 << (flags & 3))
	if n > uint64(d.left()) {
		return link{}, errf("link name of %d bytes in a %d-byte message", n, len(b))
	}
	l := link{name: string(d.bytes(int(n))), corder: corder}
	switch typ {
	case 0:
		l.addr = d.addr()
	case 1:
		sn := int(d.u16())
		l.soft = string(d.bytes(sn))
	case 64:
		l.external = true
	default:
		return link{}, errf("link %q of type %d", l.name, typ)
	}
	if d.err != nil {
		return link{}, fmt.Errorf("link message: %w", d.err)
	}
	return l, nil
}

func (f *File) denseLinks(heapAddr, names, order uint64) ([]link, error) {
	h, err := f.fractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	tree, idOff := names, 4 // name index records: hash, heap ID
	if order != undef {
		tree, idOff = order, 8 // creation order records: order, heap ID
	}
	var out []link
	err = f.btree2Records(tree, func(rec []byte) error {
		if len(rec) < idOff+1 {
			return errf("link index record of %d bytes", len(rec))
		}
		obj, err := f.heapObject(h, rec[idOff:min(len(rec), idOff+h.idLen)])
		if err != nil {
			return err
		}
		l, err := f.parseLink(obj)
		if err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// symbolTableLinks lists an old-style group: a v1 B-tree of symbol table nodes whose names
// are in a local heap.
func (f *File) symbolTableLinks(bt, heapAddr uint64) ([]link, error) {
	heap, err := f.localHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	var out []link
	entSize := 2*f.offSize + 24
	err = f.btreeV1(bt, 0, f.lenSize, func(_ []byte, child uint64) error {
		b, err := f.readUpTo(child, 8)
		if err != nil || !bytes.HasPrefix(b, []byte("SNOD")) || len(b) < 8 {
			return errf("symbol table node at %d: no SNOD signature", child)
		}
		n := int(le16(b[6:]))
		b, err = f.readAt(child+8, int64(n*entSize))
		if err != nil {
			return errf("symbol table node at %d: %v", child, err)
		}
		d := decoder{b: b, f: f}
		for i := 0; i < n; i++ {
			e := d.symbolEntry()
			if d.err != nil {
				return d.err
			}
			name, err := heapString(heap, e.nameOff)
			if err != nil {
				return err
			}
			l := link{name: name, addr: e.header, corder: -1}
			if e.softOff >= 0 {
				if l.soft, err = heapString(heap, uint64(e.softOff)); err != nil {
					return err
				}
			}
			out = append(out, l)
			if len(out) > 1<<24 {
				return errf("too many links")
			}
		}
		return nil
	})
	return out, err
}

// btreeV1 calls visit for every leaf entry (key before the child, child address) of the
// version 1 B-tree at addr of the given node type.
func (f *File) btreeV1(addr uint64, typ uint8, keySize int, visit func(key []byte, child uint64) error) error {
	seen := map[uint64]bool{}
	var walk func(a uint64, depth int) error
	walk = func(a uint64, depth int) error {
		if depth > 64 || seen[a] {
			return errf("v1 B-tree at %d: cycle or too deep", addr)
		}
		seen[a] = true
		hdr := 8 + 2*f.offSize
		b, err := f.readUpTo(a, int64(hdr))
		if err != nil || !bytes.HasPrefix(b, []byte("TREE")) || len(b) < hdr {
			return errf("v1 B-tree node at %d: no TREE signature", a)
		}
		if b[4] != typ {
			return errf("v1 B-tree node at %d: type %d, want %d", a, b[4], typ)
		}
		level := int(b[5])
		n := int(le16(b[6:]))
		body, err := f.readAt(a+uint64(hdr), int64(n*(keySize+f.offSize)+keySize))
		if err != nil {
			return errf("v1 B-tree node at %d: %v", a, err)
		}
		d := decoder{b: body, f: f}
		for i := 0; i < n; i++ {
			key := d.bytes(keySize)
			child := d.addr()
			if d.err != nil {
				return d.err
			}
			if level > 0 {
				if err := walk(child, depth+1); err != nil {
					return err
				}
			} else if err := visit(key, child); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(addr, 0)
}

// Members returns the names of the group's links: in creation order when the file tracks it,
// else sorted by name (as h5py lists them).
func (g *Group) Members() ([]string, error) {
	ls, err := g.links()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.name
	}
	return out, nil
}

// Kind returns the kind of object the member name is.
func (g *Group) Kind(name string) (Kind, error) {
	addr, err := g.resolve(name)
	if err != nil {
		return KindOther, err
	}
	h, err := g.f.header(addr)
	if err != nil {
		return KindOther, g.errorf(err)
	}
	return h.kind(), nil
}

func (h *objectHeader) kind() Kind {
	has := map[uint16]bool{}
	for _, m := range h.msgs {
		has[m.typ] = true
	}
	switch {
	case has[msgLayout]:
		return KindDataset
	case has[msgSymbolTable] || has[msgLinkInfo] || has[msgLink]:
		return KindGroup
	case has[msgDatatype]:
		return KindDatatype
	}
	return KindOther
}

// resolve follows path (relative to g, or absolute with a leading "/") to an object address.
func (g *Group) resolve(path string) (uint64, error) {
	return g.resolveDepth(path, 0)
}

func (g *Group) resolveDepth(path string, depth int) (uint64, error) {
	if depth > 16 {
		return 0, fmt.Errorf("%s: %q: too many soft links", g.f.name, path)
	}
	cur := g
	if strings.HasPrefix(path, "/") {
		cur = g.f.Root()
	}
	parts := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	addr := cur.addr
	for i, p := range parts {
		if p == "." {
			continue
		}
		ls, err := cur.links()
		if err != nil {
			return 0, err
		}
		var found *link
		for j := range ls {
			if ls[j].name == p {
				found = &ls[j]
				break
			}
		}
		if found == nil {
			names := make([]string, 0, len(ls))
			for _, l := range ls {
				names = append(names, l.name)
			}
			return 0, fmt.Errorf("%s: group %q has no member %q (members: %s)", g.f.name, cur.path, p, few(names))
		}
		switch {
		case found.external:
			return 0, fmt.Errorf("%s: %q is an external link: not supported", g.f.name, joinPath(cur.path, p))
		case found.soft != "":
			a, err := cur.resolveDepth(found.soft, depth+1)
			if err != nil {
				return 0, err
			}
			addr = a
		default:
			addr = found.addr
		}
		if i < len(parts)-1 {
			cur = &Group{f: g.f, addr: addr, path: joinPath(cur.path, p)}
		}
	}
	return addr, nil
}

func joinPath(dir, name string) string {
	if dir == "/" {
		return "/" + name
	}
	return dir + "/" + name
}

func few(names []string) string {
	if len(names) > 12 {
		return strings.Join(names[:12], ", ") + fmt.Sprintf(" and %d more", len(names)-12)
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Group returns the group at path (relative to g, or absolute).
func (g *Group) Group(path string) (*Group, error) {
	addr, err := g.resolve(path)
	if err != nil {
		return nil, err
	}
	p := path
	if !strings.HasPrefix(p, "/") {
		p = joinPath(g.path, path)
	}
	h, err := g.f.header(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", g.f.name, p, err)
	}
	if h.kind() != KindGroup {
		return nil, fmt.Errorf("%s: %q is not a group", g.f.name, p)
	}
	return &Group{f: g.f, addr: addr, path: p}, nil
}

// Dataset returns the dataset at path (relative to g, or absolute).
func (g *Group) Dataset(path string) (*Dataset, error) {
	addr, err := g.resolve(path)
	if err != nil {
		return nil, err
	}
	p := path
	if !strings.HasPrefix(p, "/") {
		p = joinPath(g.path, path)
	}
	return g.f.dataset(addr, p)
}

// DatasetAt returns the dataset whose object header is at addr (as an object reference
// holds); name is used in errors.
func (f *File) DatasetAt(addr uint64, name string) (*Dataset, error) {
	return f.dataset(addr, name)
}

// Attrs returns the group's attributes.
func (g *Group) Attrs() ([]*Attribute, error) {
	h, err := g.f.header(g.addr)
	if err != nil {
		return nil, g.errorf(err)
	}
	as, err := g.f.attributes(h, "group "+strconvQuote(g.path))
	if err != nil {
		return nil, g.errorf(err)
	}
	return as, nil
}

// Attr returns the attribute called name.
func (g *Group) Attr(name string) (*Attribute, error) {
	as, err := g.Attrs()
	if err != nil {
		return nil, err
	}
	return findAttr(as, name, g.f.name, "group "+strconvQuote(g.path))
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// Datasets returns the group's member datasets (not those of subgroups), in Members order.
func (g *Group) Datasets() ([]*Dataset, error) {
	ls, err := g.links()
	if err != nil {
		return nil, err
	}
	var out []*Dataset
	for _, l := range ls {
		if l.external {
			continue
		}
		addr := l.addr
		if l.soft != "" {
			if addr, err = g.resolve(l.name); err != nil {
				return nil, err
			}
		}
		h, err := g.f.header(addr)
		if err != nil {
			return nil, g.errorf(err)
		}
		if h.kind() != KindDataset {
			continue
		}
		ds, err := g.f.dataset(addr, joinPath(g.path, l.name))
		if err != nil {
			return nil, err
		}
		out = append(out, ds)
	}
	return out, nil
}
