package npy

import (
	"encoding/binary"
	"io"
)

// Header describes a .npy file's array without reading its data, for readers that fetch rows
// on demand from large files.
type Header struct {
	Descr      string // e.g. "<f8"
	Shape      []int
	Fortran    bool
	DataOffset int64 // where the data begin in the file
	h          *header
}

// ReadHeader reads and validates the header at the start of r; name is used in errors.
func ReadHeader(name string, r io.Reader) (*Header, error) {
	pre := make([]byte, 12)
	if _, err := io.ReadFull(r, pre[:10]); err != nil {
		return nil, errf(name, "reading the header: %v", err)
	}
	n := 10
	if pre[6] == 2 || pre[6] == 3 {
		if _, err := io.ReadFull(r, pre[10:12]); err != nil {
			return nil, errf(name, "reading the header: %v", err)
		}
		n = 12
	}
	var hlen uint32
	if n == 10 {
		hlen = uint32(binary.LittleEndian.Uint16(pre[8:]))
	} else {
		hlen = binary.LittleEndian.Uint32(pre[8:])
	}
	if hlen > maxHeader {
		return nil, errf(name, "header length %d exceeds %d bytes", hlen, maxHeader)
	}
	b := make([]byte, n+int(hlen))
	copy(b, pre[:n])
	if _, err := io.ReadFull(r, b[n:]); err != nil {
		return nil, errf(name, "reading the header: %v", err)
	}
	h, start, err := parseMeta(name, b)
	if err != nil {
		return nil, err
	}
	return &Header{Descr: h.descr, Shape: h.shape, Fortran: h.fortran, DataOffset: int64(start), h: h}, nil
}

// ItemSize is the number of bytes per element.
func (h *Header) ItemSize() int { return h.h.size }

// Value decodes element i of raw data bytes b (in the file's dtype and byte order).
func (h *Header) Value(b []byte, i int) float64 { return h.h.at(b, i) }
