package stimuli

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/tensor"
)

// npyHeader is the part of a .npy header this package needs.
type npyHeader struct {
	dtype  string // "f8", "f4", "u1"
	order  binary.ByteOrder
	shape  []int
	offset int64 // where the data starts
}

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([<>|=])([a-z][0-9]+)'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// readNpyHeader parses the header of a NumPy .npy file (format versions 1 to 3).
func readNpyHeader(path string, r io.Reader) (*npyHeader, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("%s: reading .npy header: %w", path, err)
	}
	if !bytes.Equal(pre[:6], []byte("\x93NUMPY")) {
		return nil, fmt.Errorf("%s: not a .npy file (bad magic)", path)
	}
	var hlen, off int
	switch pre[6] {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		var more [2]byte
		if _, err := io.ReadFull(r, more[:]); err != nil {
			return nil, fmt.Errorf("%s: reading .npy header: %w", path, err)
		}
		hlen = int(binary.LittleEndian.Uint32(append(pre[8:10:10], more[:]...)))
		off = 12
	default:
		return nil, fmt.Errorf("%s: unsupported .npy version %d.%d", path, pre[6], pre[7])
	}
	if hlen > 1<<20 {
		return nil, fmt.Errorf("%s: .npy header of %d bytes is too long", path, hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("%s: reading .npy header: %w", path, err)
	}
	h := string(hb)
	d := npyDescr.FindStringSubmatch(h)
	if d == nil {
		return nil, fmt.Errorf("%s: .npy header has no simple 'descr': %q", path, strings.TrimSpace(h))
	}
	hd := &npyHeader{dtype: d[2], order: binary.LittleEndian, offset: int64(off + hlen)}
	if d[1] == ">" {
		hd.order = binary.BigEndian
	}
	switch hd.dtype {
	case "f8", "f4", "u1":
	default:
		return nil, fmt.Errorf("%s: unsupported .npy dtype %q (want float64, float32 or uint8)", path, d[1]+d[2])
	}
	if f := npyFortran.FindStringSubmatch(h); f != nil && f[1] == "True" {
		return nil, fmt.Errorf("%s: Fortran-ordered .npy arrays are not supported", path)
	}
	s := npyShape.FindStringSubmatch(h)
	if s == nil {
		return nil, fmt.Errorf("%s: .npy header has no 'shape'", path)
	}
	for _, part := range strings.Split(s[1], ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%s: bad .npy shape %q", path, s[1])
		}
		hd.shape = append(hd.shape, n)
	}
	return hd, nil
}

func (h *npyHeader) itemSize() int {
	n, _ := strconv.Atoi(h.dtype[1:])
	return n
}

// NpyOptions describes how rows of an .npy array are images.
type NpyOptions struct {
	// Shape is the per-image shape, [H W] (greyscale) or [C H W]; its product must equal the
	// row length of the array (the product of all axes after the first).
	Shape []int
	// Scale divides every value so that images land in [0,1] (e.g. 255 for 0-255 data);
	// 0 means 1.
	Scale float64
	// IDs names the stimuli; default "0", "1", ... (the row number).
	IDs []string
}

type npySource struct {
	path  string
	hd    *npyHeader
	shape []int // C H W
	row   int   // values per row
	scale float64
}

func (n *npySource) image(i int) (*tensor.Tensor, error) {
	f, err := os.Open(n.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	isz := n.hd.itemSize()
	buf := make([]byte, n.row*isz)
	if _, err := f.ReadAt(buf, n.hd.offset+int64(i)*int64(len(buf))); err != nil {
		return nil, fmt.Errorf("%s: reading row %d: %w", n.path, i, err)
	}
	t := tensor.New(n.shape...)
	inv := 1 / n.scale
	for k := range t.Data {
		var v float64
		switch n.hd.dtype {
		case "f8":
			v = math.Float64frombits(n.hd.order.Uint64(buf[8*k:]))
		case "f4":
			v = float64(math.Float32frombits(n.hd.order.Uint32(buf[4*k:])))
		case "u1":
			v = float64(buf[k])
		}
		t.Data[k] = float32(v * inv)
	}
	return t, nil
}

func (n *npySource) hashImage(i int, h hash.Hash) error {
	t, err := n.image(i)
	if err != nil {
		return err
	}
	hashPixels(t, h)
	return nil
}

func (*npySource) close() error { return nil }

// FromNpy makes a set from a NumPy .npy array (float64, float32 or uint8, C order) whose first
// axis indexes stimuli and whose remaining values are a flattened image of o.Shape. Rows are read
// from the file on demand.
func FromNpy(name, path string, o NpyOptions) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("stimulus array: %w", err)
	}
	defer f.Close()
	hd, err := readNpyHeader(path, f)
	if err != nil {
		return nil, err
	}
	if len(hd.shape) < 2 {
		return nil, fmt.Errorf("%s: .npy shape %v: need stimuli x pixels", path, hd.shape)
	}
	row := tensor.Numel(hd.shape[1:])
	shape := o.Shape
	switch len(shape) {
	case 2:
		shape = []int{1, shape[0], shape[1]}
	case 3:
	default:
		return nil, fmt.Errorf("%s: image shape %v must be [H W] or [C H W]", path, o.Shape)
	}
	if tensor.Numel(shape) != row {
		return nil, fmt.Errorf("%s: image shape %v holds %d values, but each row of the .npy array (shape %v) has %d",
			path, o.Shape, tensor.Numel(shape), hd.shape, row)
	}
	n := hd.shape[0]
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if want := hd.offset + int64(n)*int64(row*hd.itemSize()); st.Size() < want {
		return nil, fmt.Errorf("%s: truncated .npy file: %d bytes, shape %v needs %d", path, st.Size(), hd.shape, want)
	}
	ids := o.IDs
	if ids == nil {
		ids = make([]string, n)
		for i := range ids {
			ids[i] = strconv.Itoa(i)
		}
	} else if len(ids) != n {
		return nil, fmt.Errorf("%s: %d ids for %d stimuli", path, len(ids), n)
	}
	scale := o.Scale
	if scale == 0 {
		scale = 1
	}
	return newSet(name, append([]string(nil), ids...), &npySource{path: path, hd: hd, shape: shape, row: row, scale: scale})
}
