package hdf5

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
)

func (t *Dtype) order() binary.ByteOrder {
	if t.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// intType returns the integer type behind t (itself, or an enum's base), or nil.
func (t *Dtype) intType() *Dtype {
	if t.Class == ClassInteger {
		return t
	}
	if t.Class == ClassEnum && t.Base != nil && t.Base.Class == ClassInteger {
		return t.Base
	}
	return nil
}

// toFloat64 converts len(dst) elements of type t from src.
func (t *Dtype) toFloat64(dst []float64, src []byte) {
	o := t.order()
	if it := t.intType(); it != nil {
		for i := range dst {
			b := src[i*it.Size:]
			switch it.Size {
			case 1:
				if it.Signed {
					dst[i] = float64(int8(b[0]))
				} else {
					dst[i] = float64(b[0])
				}
			case 2:
				if it.Signed {
					dst[i] = float64(int16(o.Uint16(b)))
				} else {
					dst[i] = float64(o.Uint16(b))
				}
			case 4:
				if it.Signed {
					dst[i] = float64(int32(o.Uint32(b)))
				} else {
					dst[i] = float64(o.Uint32(b))
				}
			case 8:
				if it.Signed {
					dst[i] = float64(int64(o.Uint64(b)))
				} else {
					dst[i] = float64(o.Uint64(b))
				}
			}
		}
		return
	}
	for i := range dst {
		b := src[i*t.Size:]
		switch t.Size {
		case 2:
			dst[i] = half(o.Uint16(b))
		case 4:
			dst[i] = float64(math.Float32frombits(o.Uint32(b)))
		case 8:
			dst[i] = math.Float64frombits(o.Uint64(b))
		}
	}
}

// half converts an IEEE binary16 value.
func half(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant, -24)
	case 31:
		if mant != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1+mant/1024, exp-15)
}

// toInt64 converts integer elements; ok is false when an unsigned value exceeds MaxInt64.
func (t *Dtype) toInt64(dst []int64, src []byte) (ok bool) {
	it := t.intType()
	o := it.order()
	ok = true
	for i := range dst {
		b := src[i*it.Size:]
		switch it.Size {
		case 1:
			if it.Signed {
				dst[i] = int64(int8(b[0]))
			} else {
				dst[i] = int64(b[0])
			}
		case 2:
			if it.Signed {
				dst[i] = int64(int16(o.Uint16(b)))
			} else {
				dst[i] = int64(o.Uint16(b))
			}
		case 4:
			if it.Signed {
				dst[i] = int64(int32(o.Uint32(b)))
			} else {
				dst[i] = int64(o.Uint32(b))
			}
		case 8:
			u := o.Uint64(b)
			if !it.Signed && u > math.MaxInt64 {
				ok = false
			}
			dst[i] = int64(u)
		}
	}
	return ok
}

// fixedString decodes one fixed-length string element according to its padding.
func (t *Dtype) fixedString(b []byte) string {
	switch t.Pad {
	case 0: // null-terminated
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
	case 1:
		b = bytes.TrimRight(b, "\x00")
	case 2:
		b = bytes.TrimRight(b, " ")
	}
	return string(b)
}

// vlenRef splits a variable-length element: element count, global heap collection, index.
func (f *File) vlenRef(b []byte) (n uint32, coll uint64, idx uint32, err error) {
	d := decoder{b: b, f: f}
	n = d.u32()
	coll = d.addr()
	idx = d.u32()
	return n, coll, idx, d.err
}

// vlenData returns the bytes of one variable-length element.
func (f *File) vlenData(b []byte, elemSize int) ([]byte, error) {
	n, coll, idx, err := f.vlenRef(b)
	if err != nil {
		return nil, err
	}
	if n == 0 || coll == 0 || coll == undef {
		return nil, nil
	}
	o, err := f.globalObject(coll, idx)
	if err != nil {
		return nil, err
	}
	want := uint64(n) * uint64(elemSize)
	if want > uint64(len(o)) {
		return nil, errf("variable-length element of %d bytes in a %d-byte heap object", want, len(o))
	}
	return o[:want], nil
}

// vlenString decodes one variable-length string element.
func (f *File) vlenString(t *Dtype, b []byte) (string, error) {
	o, err := f.vlenData(b, 1)
	if err != nil {
		return "", err
	}
	s := string(o)
	if t.Pad == 0 {
		if i := strings.IndexByte(s, 0); i >= 0 {
			s = s[:i]
		}
	}
	return s, nil
}
