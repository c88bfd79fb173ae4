package hdf5

import (
	"fmt"
	"strings"
)

// Class is a datatype class.
type Class int

// Datatype classes this reader recognises.
const (
	ClassInteger   Class = iota // fixed-point
	ClassFloat                  // IEEE floating point, 16, 32 or 64 bits
	ClassString                 // fixed-length string
	ClassVarString              // variable-length string
	ClassReference              // object (or region) reference
	ClassEnum
	ClassCompound
	ClassArray
	ClassVarSeq // variable-length sequence of Base
	ClassOpaque
	ClassBitfield
	ClassTime
)

// Dtype describes the type of a dataset's or attribute's elements.
type Dtype struct {
	Class     Class
	Size      int // bytes per element in the file
	Signed    bool
	BigEndian bool
	// Pad is a string's padding: 0 null-terminated, 1 null-padded, 2 space-padded.
	Pad  int
	UTF8 bool
	// RegionRef is set for a dataset-region reference (Class ClassReference).
	RegionRef bool
	Base      *Dtype  // enum, array and variable-length sequence base type
	Dims      []int   // array dimensions
	Fields    []Field // compound members
	float     floatLayout
}

// Field is a member of a compound datatype.
type Field struct {
	Name   string
	Offset int
	Type   *Dtype
}

type floatLayout struct {
	expBits, mantBits int
}

// String returns a numpy-like name: int32, uint8, float64, string(5), vlen string, ...
func (t *Dtype) String() string {
	switch t.Class {
	case ClassInteger:
		if t.Signed {
			return fmt.Sprintf("int%d", 8*t.Size)
		}
		return fmt.Sprintf("uint%d", 8*t.Size)
	case ClassFloat:
		return fmt.Sprintf("float%d", 8*t.Size)
	case ClassString:
		return fmt.Sprintf("string(%d)", t.Size)
	case ClassVarString:
		return "vlen string"
	case ClassReference:
		if t.RegionRef {
			return "region reference"
		}
		return "object reference"
	case ClassEnum:
		return "enum(" + t.Base.String() + ")"
	case ClassCompound:
		var parts []string
		for _, m := range t.Fields {
			parts = append(parts, m.Name+" "+m.Type.String())
		}
		return "compound{" + strings.Join(parts, ", ") + "}"
	case ClassArray:
		return fmt.Sprintf("array%v(%s)", t.Dims, t.Base)
	case ClassVarSeq:
		return "vlen(" + t.Base.String() + ")"
	case ClassOpaque:
		return fmt.Sprintf("opaque(%d)", t.Size)
	case ClassBitfield:
		return fmt.Sprintf("bitfield(%d)", t.Size)
	case ClassTime:
		return "time"
	}
	return "unknown"
}

// IsNumeric reports whether ReadFloat64 can read values of this type.
func (t *Dtype) IsNumeric() bool {
	return t.Class == ClassInteger || t.Class == ClassFloat || (t.Class == ClassEnum && t.Base.Class == ClassInteger)
}

func parseDtype(b []byte, f *File) (*Dtype, error) {
	d := decoder{b: b, f: f}
	t := d.dtype(0)
	if d.err != nil {
		return nil, fmt.Errorf("datatype: %w", d.err)
	}
	return t, nil
}

// padded8 reads a NUL-terminated name padded with NULs to a multiple of 8 bytes.
func (d *decoder) padded8() string {
	if d.err != nil {
		return ""
	}
	rest := d.b[d.p:]
	i := strings.IndexByte(string(rest), 0)
	if i < 0 {
		d.err = errf("unterminated name")
		return ""
	}
	n := (i + 8) &^ 7
	s := string(rest[:i])
	d.skip(min(n, len(rest)))
	return s
}

func (d *decoder) cstring() string {
	if d.err != nil {
		return ""
	}
	rest := d.b[d.p:]
	i := strings.IndexByte(string(rest), 0)
	if i < 0 {
		d.err = errf("unterminated name")
		return ""
	}
	d.skip(i + 1)
	return string(rest[:i])
}

func (d *decoder) dtype(depth int) *Dtype {
	if depth > 16 {
		d.err = errf("datatype nested too deeply")
		return nil
	}
	cv := d.u8()
	cls, ver := cv&0x0f, cv>>4
	bf := d.bytes(3)
	size := d.u32()
	if d.err != nil {
		return nil
	}
	if size == 0 || size > 1<<24 {
		d.err = errf("datatype size %d", size)
		return nil
	}
	t := &Dtype{Size: int(size)}
	bits := uint32(bf[0]) | uint32(bf[1])<<8 | uint32(bf[2])<<16
	switch cls {
	case 0: // fixed-point
		t.Class = ClassInteger
		t.BigEndian = bits&1 != 0
		t.Signed = bits&8 != 0
		off, prec := d.u16(), d.u16()
		if d.err == nil && (off != 0 || int(prec) != 8*t.Size) {
			d.err = errf("integer with bit offset %d and precision %d in %d bytes", off, prec, t.Size)
		}
		if d.err == nil && t.Size != 1 && t.Size != 2 && t.Size != 4 && t.Size != 8 {
			d.err = errf("%d-byte integer", t.Size)
		}
	case 1: // floating point
		t.Class = ClassFloat
		t.BigEndian = bits&1 != 0
		if bits&0x40 != 0 {
			d.err = errf("VAX floating point")
			return nil
		}
		d.u16() // bit offset
		d.u16() // precision
		d.u8()  // exponent location
		t.float.expBits = int(d.u8())
		d.u8() // mantissa location
		t.float.mantBits = int(d.u8())
		d.u32() // exponent bias
		if d.err == nil {
			ok := (t.Size == 2 && t.float.expBits == 5 && t.float.mantBits == 10) ||
				(t.Size == 4 && t.float.expBits == 8 && t.float.mantBits == 23) ||
				(t.Size == 8 && t.float.expBits == 11 && t.float.mantBits == 52)
			if !ok {
				d.err = errf("%d-byte float with %d exponent and %d mantissa bits", t.Size, t.float.expBits, t.float.mantBits)
			}
		}
	case 2:
		t.Class = ClassTime
		t.BigEndian = bits&1 != 0
		d.u16()
	case 3:
		t.Class = ClassString
		t.Pad = int(bits & 0x0f)
		t.UTF8 = (bits>>4)&0x0f == 1
	case 4:
		t.Class = ClassBitfield
		t.BigEndian = bits&1 != 0
		d.u16()
		d.u16()
	case 5:
		t.Class = ClassOpaque
		d.skip(int(bits & 0xff))
	case 6:
		t.Class = ClassCompound
		n := int(bits & 0xffff)
		for i := 0; i < n && d.err == nil; i++ {
			var m Field
			switch ver {
			case 1:
				m.Name = d.padded8()
				m.Offset = int(d.u32())
				d.skip(28) // dimensionality, reserved, permutation, reserved, four dimension sizes
			case 2:
				m.Name = d.padded8()
				m.Offset = int(d.u32())
			case 3:
				m.Name = d.cstring()
				m.Offset = int(d.uint(offsetBytes(t.Size)))
			default:
				d.err = errf("compound datatype version %d", ver)
			}
			m.Type = d.dtype(depth + 1)
			if d.err == nil && (m.Offset < 0 || m.Offset+m.Type.Size > t.Size) {
				d.err = errf("compound member %q at offset %d overflows the %d-byte element", m.Name, m.Offset, t.Size)
			}
			t.Fields = append(t.Fields, m)
		}
	case 7:
		t.Class = ClassReference
		t.RegionRef = bits&0x0f == 1
	case 8:
		t.Class = ClassEnum
		n := int(bits & 0xffff)
		t.Base = d.dtype(depth + 1)
		for i := 0; i < n && d.err == nil; i++ {
			if ver >= 3 {
				d.cstring()
			} else {
				d.padded8()
			}
		}
		if d.err == nil {
			d.skip(n * t.Base.Size)
		}
		if d.err == nil && (t.Base.Class != ClassInteger || t.Base.Size != t.Size) {
			d.err = errf("enum of %s", t.Base)
		}
	case 9:
		switch bits & 0x0f {
		case 0:
			t.Class = ClassVarSeq
		case 1:
			t.Class = ClassVarString
			t.Pad = int(bits>>4) & 0x0f
			t.UTF8 = (bits>>8)&0x0f == 1
		default:
			d.err = errf("variable-length type %d", bits&0x0f)
		}
		t.Base = d.dtype(depth + 1)
	case 10:
		t.Class = ClassArray
		nd := int(d.u8())
		if ver < 3 {
			d.skip(3)
		}
		for i := 0; i < nd && d.err == nil; i++ {
			t.Dims = append(t.Dims, int(d.u32()))
		}
		if ver < 3 {
			d.skip(4 * nd)
		}
		t.Base = d.dtype(depth + 1)
	default:
		d.err = errf("datatype class %d", cls)
	}
	if d.err != nil {
		return nil
	}
	return t
}

// offsetBytes is the width of a compound member offset in a version 3 datatype message.
func offsetBytes(size int) int {
	switch {
	case size < 1<<8:
		return 1
	case size < 1<<16:
		return 2
	case size < 1<<24:
		return 3
	}
	return 4
}

type dataspace struct {
	dims, maxdims []uint64
	null          bool
}

func parseDataspace(b []byte, f *File) (*dataspace, error) {
	d := decoder{b: b, f: f}
	ver := d.u8()
	rank := int(d.u8())
	flags := d.u8()
	s := &dataspace{}
	switch ver {
	case 1:
		d.skip(5)
	case 2:
		s.null = d.u8() == 2
	default:
		return nil, errf("dataspace version %d", ver)
	}
	if rank > 32 {
		return nil, errf("dataspace of rank %d", rank)
	}
	for i := 0; i < rank; i++ {
		s.dims = append(s.dims, d.length())
	}
	if flags&1 != 0 {
		for i := 0; i < rank; i++ {
			s.maxdims = append(s.maxdims, d.length())
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("dataspace: %w", d.err)
	}
	return s, nil
}
