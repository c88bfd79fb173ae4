package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
)

// DefaultLimit is the largest dataset or attribute, in bytes of its decoded values, that a
// File reads unless its Limit is changed.
const DefaultLimit = 4 << 30

// undef is HDF5's undefined address (all bits set).
const undef = ^uint64(0)

var signature = []byte("\x89HDF\r\n\x1a\n")

// ErrFormat is wrapped by errors about malformed or unsupported content.
var ErrFormat = errors.New("hdf5: invalid or unsupported file")

// File is an open HDF5 file.
type File struct {
	name  string
	r     io.ReaderAt
	size  int64
	close func() error
	// Limit bounds the decoded size in bytes of one dataset or attribute read (and of one
	// chunk); larger reads fail with an error.
	Limit int64

	offSize, lenSize int
	base             uint64
	superVersion     int
	root             uint64
	rootHint         *symCache // v0/v1 root symbol-table entry cache
	gheaps           map[uint64]*globalHeap
	headers          map[uint64]*objectHeader
	links            map[uint64][]link
	heapsRead        int64
}

// Open opens the HDF5 file at path.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	f, err := NewReader(filepath.Base(path), fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.close = fh.Close
	return f, nil
}

// NewReader reads an HDF5 file of the given size from r; name is used in errors.
func NewReader(name string, r io.ReaderAt, size int64) (*File, error) {
	f := &File{name: name, r: r, size: size, Limit: DefaultLimit,
		gheaps: map[uint64]*globalHeap{}, headers: map[uint64]*objectHeader{}, links: map[uint64][]link{}}
	if err := f.readSuperblock(); err != nil {
		return nil, fmt.Errorf("%s: superblock: %w", name, err)
	}
	return f, nil
}

// Close closes the underlying file when it was opened by Open.
func (f *File) Close() error {
	if f.close != nil {
		return f.close()
	}
	return nil
}

// Name returns the file name given to Open or NewReader.
func (f *File) Name() string { return f.name }

// Root returns the root group.
func (f *File) Root() *Group {
	return &Group{f: f, addr: f.root, path: "/", hint: f.rootHint}
}

// SuperblockVersion returns the version of the file's superblock (0 to 3).
func (f *File) SuperblockVersion() int { return f.superVersion }

func errf(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, a...)...)
}

// readAt returns n bytes at the file address addr (relative to the base address), after
// checking that they lie inside the file.
func (f *File) readAt(addr uint64, n int64) ([]byte, error) {
	if addr == undef {
		return nil, errf("undefined address")
	}
	abs := addr + f.base
	if abs < addr || n < 0 || abs > uint64(f.size) || uint64(n) > uint64(f.size)-abs {
		return nil, errf("%d bytes at address %d lie beyond the end of the file (%d bytes)", n, addr, f.size)
	}
	b := make([]byte, n)
	if _, err := f.r.ReadAt(b, int64(abs)); err != nil && !(err == io.EOF && n == 0) {
		if err == io.EOF {
			return nil, errf("%d bytes at address %d: unexpected end of file", n, addr)
		}
		return nil, err
	}
	return b, nil
}

// avail returns how many bytes of the file follow addr (0 when addr is outside).
func (f *File) avail(addr uint64) int64 {
	abs := addr + f.base
	if addr == undef || abs < addr || abs >= uint64(f.size) {
		return 0
	}
	return int64(uint64(f.size) - abs)
}

// readUpTo reads at most n bytes at addr, fewer when the file ends first.
func (f *File) readUpTo(addr uint64, n int64) ([]byte, error) {
	if a := f.avail(addr); a < n {
		n = a
	}
	if n == 0 {
		return nil, errf("address %d lies beyond the end of the file (%d bytes)", addr, f.size)
	}
	return f.readAt(addr, n)
}

func (f *File) readSuperblock() error {
	var off int64 = -1
	buf := make([]byte, 8)
	for o := int64(0); o+8 <= f.size; o = nextSuperOffset(o) {
		if _, err := f.r.ReadAt(buf, o); err != nil {
			return err
		}
		if bytes.Equal(buf, signature) {
			off = o
			break
		}
	}
	if off < 0 {
		return errf("no HDF5 signature found")
	}
	b, err := f.readAt(uint64(off), min(f.size-off, 256))
	if err != nil {
		return err
	}
	if len(b) < 16 {
		return errf("superblock truncated")
	}
	f.superVersion = int(b[8])
	switch f.superVersion {
	case 0, 1:
		f.offSize, f.lenSize = int(b[13]), int(b[14])
		if err := f.checkSizes(); err != nil {
			return err
		}
		d := decoder{b: b, p: 24, f: f}
		if f.superVersion == 1 {
			d.skip(4)
		}
		f.base = d.addr()
		d.addr() // free-space info
		d.addr() // end of file
		d.addr() // driver info
		ent := d.symbolEntry()
		if d.err != nil {
			return d.err
		}
		f.root = ent.header
		f.rootHint = ent.cache
	case 2, 3:
		f.offSize, f.lenSize = int(b[9]), int(b[10])
		if err := f.checkSizes(); err != nil {
			return err
		}
		d := decoder{b: b, p: 12, f: f}
		f.base = d.addr()
		d.addr() // superblock extension
		d.addr() // end of file
		f.root = d.addr()
		sum := d.bytes(4)
		if d.err != nil {
			return d.err
		}
		if err := checkSum("superblock", uint64(off), b[:d.p-4], sum); err != nil {
			return err
		}
	default:
		return errf("superblock version %d", f.superVersion)
	}
	if f.base != 0 && f.base != uint64(off) {
		return errf("base address %d (superblock at %d)", f.base, off)
	}
	return nil
}

func nextSuperOffset(o int64) int64 {
	if o == 0 {
		return 512
	}
	return o * 2
}

func (f *File) checkSizes() error {
	ok := func(n int) bool { return n == 2 || n == 4 || n == 8 }
	if !ok(f.offSize) || !ok(f.lenSize) {
		return errf("size of offsets %d, size of lengths %d (want 2, 4 or 8)", f.offSize, f.lenSize)
	}
	return nil
}

// decoder reads little-endian fields from a buffer, remembering the first error (reading past
// the end) so that parsers check once at the end.
type decoder struct {
	b   []byte
	p   int
	f   *File
	err error
}

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || d.p+n > len(d.b) || d.p+n < d.p {
		d.err = errf("structure truncated: need %d bytes at position %d of %d", n, d.p, len(d.b))
		return false
	}
	return true
}

func (d *decoder) bytes(n int) []byte {
	if !d.need(n) {
		return nil
	}
	d.p += n
	return d.b[d.p-n : d.p]
}

func (d *decoder) skip(n int) { d.bytes(n) }

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	d.p++
	return d.b[d.p-1]
}

func (d *decoder) u16() uint16 { return uint16(d.uint(2)) }
func (d *decoder) u32() uint32 { return uint32(d.uint(4)) }
func (d *decoder) u64() uint64 { return d.uint(8) }

// uint reads an n-byte little-endian unsigned integer (n up to 8).
func (d *decoder) uint(n int) uint64 {
	if n > 8 {
		d.err = errf("%d-byte integer", n)
		return 0
	}
	b := d.bytes(n)
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// addr reads an address (all bits set means undefined, returned as undef).
func (d *decoder) addr() uint64 {
	n := d.f.offSize
	v := d.uint(n)
	if n < 8 && v == 1<<(8*n)-1 {
		return undef
	}
	return v
}

// length reads a length field.
func (d *decoder) length() uint64 { return d.uint(d.f.lenSize) }

func (d *decoder) left() int { return len(d.b) - d.p }

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// mulSize multiplies non-negative sizes, reporting overflow past max.
func mulSize(max int64, n ...uint64) (int64, bool) {
	var p uint64 = 1
	for _, v := range n {
		hi, lo := bits.Mul64(p, v)
		if hi != 0 || lo > uint64(max) {
			return 0, false
		}
		p = lo
	}
	return int64(p), true
}
