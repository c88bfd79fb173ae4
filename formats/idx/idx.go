// Package idx reads and writes the IDX format of the MNIST distribution (idx1-ubyte label
// files, idx3-ubyte image files), plain or gzip-compressed.
//
// An IDX file starts with the magic bytes 0x00 0x00, a type code (only 0x08, unsigned byte,
// is supported), the number of dimensions, and one big-endian uint32 per dimension; the
// row-major data follows. Every error names the file it came from.
package idx

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// TypeUbyte is the only supported IDX element type: unsigned 8-bit.
const TypeUbyte = 0x08

// MaxElements bounds the element count that a header may announce (1<<31), so that a corrupt
// header cannot trigger a huge allocation.
const MaxElements = 1 << 31

// File is a decoded IDX file of unsigned bytes.
type File struct {
	Dims []int  // sizes, outermost first: [N] for idx1, [N, rows, cols] for idx3
	Data []byte // row-major elements, len = product of Dims
}

// Len returns the product of the dimensions.
func (f *File) Len() int {
	n := 1
	for _, d := range f.Dims {
		n *= d
	}
	return n
}

// ReadFile reads an IDX file from disk, gunzipping it when it starts with the gzip magic.
func ReadFile(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return Read(fh, path)
}

// Read decodes an IDX stream (plain or gzip); name is used in error messages.
func Read(r io.Reader, name string) (*File, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(2)
	if err != nil {
		return nil, fmt.Errorf("idx %s: truncated header: %w", name, noEOF(err))
	}
	var src io.Reader = br
	if magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("idx %s: gzip: %w", name, noEOF(err))
		}
		defer zr.Close()
		src = zr
	}
	return readRaw(src, name)
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func readRaw(r io.Reader, name string) (*File, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("idx %s: truncated header: %w", name, noEOF(err))
	}
	if hdr[0] != 0 || hdr[1] != 0 {
		return nil, fmt.Errorf("idx %s: bad magic % x (want 00 00)", name, hdr[:2])
	}
	if hdr[2] != TypeUbyte {
		return nil, fmt.Errorf("idx %s: unsupported element type 0x%02x (only 0x08 unsigned byte)", name, hdr[2])
	}
	nd := int(hdr[3])
	if nd < 1 || nd > 8 {
		return nil, fmt.Errorf("idx %s: bad number of dimensions %d", name, nd)
	}
	dimb := make([]byte, 4*nd)
	if _, err := io.ReadFull(r, dimb); err != nil {
		return nil, fmt.Errorf("idx %s: truncated header (dimensions): %w", name, noEOF(err))
	}
	dims := make([]int, nd)
	total := uint64(1)
	for i := range dims {
		d := binary.BigEndian.Uint32(dimb[4*i:])
		dims[i] = int(d)
		total *= uint64(d)
		if total > MaxElements {
			return nil, fmt.Errorf("idx %s: dimensions %v exceed %d elements", name, dims[:i+1], MaxElements)
		}
	}
	// Read in chunks so that a header announcing a lot of data on a short stream fails
	// without allocating everything first.
	data := make([]byte, 0, min(total, 1<<20))
	for uint64(len(data)) < total {
		chunk := min(total-uint64(len(data)), 1<<20)
		start := len(data)
		data = append(data, make([]byte, chunk)...)
		if n, err := io.ReadFull(r, data[start:]); err != nil {
			return nil, fmt.Errorf("idx %s: truncated data: got %d of %d bytes for dims %v: %w",
				name, start+n, total, dims, noEOF(err))
		}
	}
	// Trailing bytes mean the header and the payload disagree.
	var extra [1]byte
	if n, err := io.ReadFull(r, extra[:]); n > 0 {
		return nil, fmt.Errorf("idx %s: trailing data after %d elements (dims %v)", name, total, dims)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("idx %s: %w", name, err)
	}
	return &File{Dims: dims, Data: data}, nil
}

// Write encodes dims and data as an IDX ubyte stream (uncompressed).
func Write(w io.Writer, dims []int, data []byte) error {
	if len(dims) < 1 || len(dims) > 8 {
		return fmt.Errorf("idx: bad number of dimensions %d", len(dims))
	}
	n := 1
	hdr := []byte{0, 0, TypeUbyte, byte(len(dims))}
	for _, d := range dims {
		if d < 0 || uint64(d) > 0xffffffff {
			return fmt.Errorf("idx: dimension %d out of range", d)
		}
		n *= d
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	if n != len(data) {
		return fmt.Errorf("idx: dims %v need %d elements, have %d", dims, n, len(data))
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}

// Encode returns the IDX encoding of dims and data, gzip-compressed when gz is set.
func Encode(dims []int, data []byte, gz bool) ([]byte, error) {
	var buf bytes.Buffer
	if !gz {
		err := Write(&buf, dims, data)
		return buf.Bytes(), err
	}
	zw := gzip.NewWriter(&buf)
	if err := Write(zw, dims, data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
