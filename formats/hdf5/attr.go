package hdf5

import (
	"fmt"
	"strings"
)

// Attribute is an attribute of a group or dataset, read in full with its object header.
type Attribute struct {
	Name  string
	f     *File
	t     *Dtype
	shape []int
	data  []byte
	owner string
}

// Dtype returns the attribute's element type.
func (a *Attribute) Dtype() *Dtype { return a.t }

// Shape returns the attribute's dimensions (empty for a scalar).
func (a *Attribute) Shape() []int { return append([]int(nil), a.shape...) }

func (a *Attribute) len() int {
	n := 1
	for _, d := range a.shape {
		n *= d
	}
	return n
}

func (a *Attribute) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %s: attribute %q: %s", a.f.name, a.owner, a.Name, fmt.Sprintf(format, args...))
}

// Float64s returns a numeric attribute's values.
func (a *Attribute) Float64s() ([]float64, error) {
	if !a.t.IsNumeric() {
		return nil, a.errorf("%s is not numeric", a.t)
	}
	out := make([]float64, a.len())
	a.t.toFloat64(out, a.data)
	return out, nil
}

// Int64s returns an integer attribute's values.
func (a *Attribute) Int64s() ([]int64, error) {
	if a.t.intType() == nil {
		return nil, a.errorf("%s is not an integer type", a.t)
	}
	out := make([]int64, a.len())
	if !a.t.toInt64(out, a.data) {
		return nil, a.errorf("unsigned value beyond int64")
	}
	return out, nil
}

// Strings returns a string attribute's values (fixed- or variable-length).
func (a *Attribute) Strings() ([]string, error) {
	out := make([]string, a.len())
	for i := range out {
		b := a.data[i*a.t.Size : (i+1)*a.t.Size]
		switch a.t.Class {
		case ClassString:
			out[i] = a.t.fixedString(b)
		case ClassVarString:
			s, err := a.f.vlenString(a.t, b)
			if err != nil {
				return nil, a.errorf("%v", err)
			}
			out[i] = s
		default:
			return nil, a.errorf("%s is not a string type", a.t)
		}
	}
	return out, nil
}

// String returns a scalar or one-element string attribute, or the strings joined by ", ".
func (a *Attribute) String() (string, error) {
	s, err := a.Strings()
	if err != nil {
		return "", err
	}
	return strings.Join(s, ", "), nil
}

// References returns the object addresses held by an attribute of object references, or of
// variable-length sequences of object references (as DIMENSION_LIST is): one slice per element.
func (a *Attribute) References() ([][]uint64, error) {
	out := make([][]uint64, a.len())
	osz := a.f.offSize
	for i := range out {
		b := a.data[i*a.t.Size : (i+1)*a.t.Size]
		switch {
		case a.t.Class == ClassReference && !a.t.RegionRef:
			d := decoder{b: b, f: a.f}
			out[i] = []uint64{d.uint(osz)}
		case a.t.Class == ClassVarSeq && a.t.Base.Class == ClassReference && !a.t.Base.RegionRef:
			o, err := a.f.vlenData(b, a.t.Base.Size)
			if err != nil {
				return nil, a.errorf("%v", err)
			}
			d := decoder{b: o, f: a.f}
			for d.left() >= a.t.Base.Size {
				out[i] = append(out[i], d.uint(osz))
				d.skip(a.t.Base.Size - osz)
			}
		default:
			return nil, a.errorf("%s is not an object reference type", a.t)
		}
	}
	return out, nil
}

func findAttr(as []*Attribute, name, file, owner string) (*Attribute, error) {
	var names []string
	for _, a := range as {
		if a.Name == name {
			return a, nil
		}
		names = append(names, a.Name)
	}
	return nil, fmt.Errorf("%s: %s has no attribute %q (attributes: %s)", file, owner, name, few(names))
}

// attributes reads the attributes of an object: attribute messages in the header and, when an
// attribute info message points to one, dense storage in a fractal heap.
func (f *File) attributes(h *objectHeader, owner string) ([]*Attribute, error) {
	var out []*Attribute
	for _, m := range h.msgs {
		switch m.typ {
		case msgAttribute:
			a, err := f.parseAttr(m.data)
			if err != nil {
				return nil, err
			}
			a.owner = owner
			out = append(out, a)
		case msgAttrInfo:
			d := decoder{b: m.data, p: 1, f: f}
			flags := d.u8()
			if flags&1 != 0 {
				d.skip(2)
			}
			heap, names := d.addr(), d.addr()
			if d.err != nil {
				return nil, fmt.Errorf("attribute info: %w", d.err)
			}
			if heap == undef {
				continue
			}
			fh, err := f.fractalHeap(heap)
			if err != nil {
				return nil, err
			}
			err = f.btree2Records(names, func(rec []byte) error {
				obj, err := f.heapObject(fh, rec[:min(len(rec), fh.idLen)])
				if err != nil {
					return err
				}
				a, err := f.parseAttr(obj)
				if err != nil {
					return err
				}
				a.owner = owner
				out = append(out, a)
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (f *File) parseAttr(b []byte) (*Attribute, error) {
	d := decoder{b: b, f: f}
	ver := d.u8()
	flags := d.u8()
	nameLen := int(d.u16())
	typeLen := int(d.u16())
	spaceLen := int(d.u16())
	pad := func(n int) int { return n }
	switch ver {
	case 1:
		pad = func(n int) int { return (n + 7) &^ 7 }
	case 2:
	case 3:
		d.skip(1)
	default:
		return nil, errf("attribute message version %d", ver)
	}
	nb := d.bytes(pad(nameLen))
	tb := d.bytes(pad(typeLen))
	sb := d.bytes(pad(spaceLen))
	if d.err != nil {
		return nil, fmt.Errorf("attribute message: %w", d.err)
	}
	name := string(nb[:nameLen])
	name = strings.TrimRight(name, "\x00")
	var err error
	tb = tb[:typeLen]
	if flags&1 != 0 {
		if tb, err = f.sharedMessage(msgDatatype, tb, 0); err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
	}
	sb = sb[:spaceLen]
	if flags&2 != 0 {
		if sb, err = f.sharedMessage(msgDataspace, sb, 0); err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
	}
	t, err := parseDtype(tb, f)
	if err != nil {
		return nil, fmt.Errorf("attribute %q: %w", name, err)
	}
	sp, err := parseDataspace(sb, f)
	if err != nil {
		return nil, fmt.Errorf("attribute %q: %w", name, err)
	}
	a := &Attribute{Name: name, f: f, t: t}
	n := uint64(1)
	if sp.null {
		n = 0
	}
	for _, v := range sp.dims {
		a.shape = append(a.shape, int(min(v, 1<<40)))
	}
	size, ok := mulSize(int64(d.left()), append(append([]uint64(nil), sp.dims...), n, uint64(t.Size))...)
	if !ok {
		return nil, fmt.Errorf("attribute %q: %w", name, errf("%v values of %d bytes in a %d-byte message", sp.dims, t.Size, d.left()))
	}
	if n == 0 {
		a.shape = []int{0}
	}
	a.data = d.bytes(int(size))
	return a, nil
}
