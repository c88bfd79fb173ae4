package stimuli

import (
	"fmt"
	"github.com/ventral-lab/ventral/formats/npy"
	"hash"
	"os"
	"strconv"

	"github.com/ventral-lab/ventral/tensor"
)

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
	// HWC says each row is stored height x width x channels (as images usually are in
	// Python); the default is channels first, as Shape.
	HWC bool
}

type npySource struct {
	path  string
	hd    *npy.Header
	shape []int // C H W
	row   int   // values per row
	scale float64
	hwc   bool // rows are stored H W C
}

func (n *npySource) image(i int) (*tensor.Tensor, error) {
	f, err := os.Open(n.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n.row*n.hd.ItemSize())
	if _, err := f.ReadAt(buf, n.hd.DataOffset+int64(i)*int64(len(buf))); err != nil {
		return nil, fmt.Errorf("%s: reading row %d: %w", n.path, i, err)
	}
	t := tensor.New(n.shape...)
	inv := 1 / n.scale
	if n.hwc {
		C, HW := n.shape[0], n.shape[1]*n.shape[2]
		for p := 0; p < HW; p++ {
			for c := 0; c < C; c++ {
				t.Data[c*HW+p] = float32(n.hd.Value(buf, p*C+c) * inv)
			}
		}
		return t, nil
	}
	for k := range t.Data {
		t.Data[k] = float32(n.hd.Value(buf, k) * inv)
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

// FromNpy makes a set from a NumPy .npy array (any numeric dtype formats/npy reads, C order) whose first
// axis indexes stimuli and whose remaining values are a flattened image of o.Shape. Rows are read
// from the file on demand.
func FromNpy(name, path string, o NpyOptions) (*Set, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("stimulus array: %w", err)
	}
	defer f.Close()
	hd, err := npy.ReadHeader(path, f)
	if err != nil {
		return nil, err
	}
	if hd.Fortran {
		return nil, fmt.Errorf("%s: Fortran-ordered .npy arrays are not supported for stimuli (rows are read on demand)", path)
	}
	if len(hd.Shape) < 2 {
		return nil, fmt.Errorf("%s: .npy shape %v: need stimuli x pixels", path, hd.Shape)
	}
	row := tensor.Numel(hd.Shape[1:])
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
			path, o.Shape, tensor.Numel(shape), hd.Shape, row)
	}
	n := hd.Shape[0]
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if want := hd.DataOffset + int64(n)*int64(row*hd.ItemSize()); st.Size() < want {
		return nil, fmt.Errorf("%s: truncated .npy file: %d bytes, shape %v needs %d", path, st.Size(), hd.Shape, want)
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
	return newSet(name, append([]string(nil), ids...), &npySource{path: path, hd: hd, shape: shape, row: row, scale: scale, hwc: o.HWC})
}
