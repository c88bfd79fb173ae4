package stimuli

import (
	"fmt"
	"hash"
	"strconv"

	"github.com/ventral-lab/ventral/formats/mat"
	"github.com/ventral-lab/ventral/tensor"
)

type matSource struct {
	path  string
	elems []*mat.Value // the image field of each element
}

func (m *matSource) image(i int) (*tensor.Tensor, error) {
	return matImage(m.elems[i])
}

func (m *matSource) hashImage(i int, h hash.Hash) error {
	t, err := m.image(i)
	if err != nil {
		return err
	}
	hashPixels(t, h)
	return nil
}

func (*matSource) close() error { return nil }

// matImage converts an H x W (grey) or H x W x C MATLAB array to [C H W] in [0,1]: uint8
// values are divided by 255, floating-point values are taken as already in [0,1].
func matImage(v *mat.Value) (*tensor.Tensor, error) {
	dims := v.Dims()
	if len(dims) == 2 {
		dims = append(dims, 1)
	}
	if len(dims) != 3 || (dims[2] != 1 && dims[2] != 3) {
		return nil, fmt.Errorf("%s: image has dims %v, expected H x W or H x W x 3", v.Name(), v.Dims())
	}
	h, w, c := dims[0], dims[1], dims[2]
	var get func(k int) float32
	if v.Class() == mat.ClassUint8 {
		b, _, err := v.Uint8s()
		if err != nil {
			return nil, err
		}
		get = func(k int) float32 { return float32(b[k]) / 255 }
	} else {
		d, _, err := v.Float64s()
		if err != nil {
			return nil, err
		}
		get = func(k int) float32 { return float32(d[k]) }
	}
	t := tensor.New(c, h, w)
	// MATLAB is column-major: element (y, x, ch) is at y + x*h + ch*h*w.
	for ch := 0; ch < c; ch++ {
		for x := 0; x < w; x++ {
			for y := 0; y < h; y++ {
				t.Data[(ch*h+y)*w+x] = get(y + x*h + ch*h*w)
			}
		}
	}
	return t, nil
}

// matText renders a scalar or char field value as a metadata string; ok is false for values
// that are neither (matrices, cells, structs), which are skipped.
func matText(v *mat.Value) (string, bool) {
	if v.Class() == mat.ClassChar {
		s, err := v.Text()
		return s, err == nil
	}
	if v.Class().IsNumeric() && v.Len() == 1 {
		x, err := v.Scalar()
		if err != nil {
			return "", false
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return "", false
}

// FromMat makes a set from a struct array variable of a MATLAB v5 file: element i is stimulus
// i (id "1", "2", ... as MATLAB numbers them), its imageField holds the image (H x W or
// H x W x 3, uint8 or floating point in [0,1]) and every other field whose values are scalars
// or strings in all elements becomes a metadata column of the same name.
func FromMat(name, path, variable, imageField string) (*Set, error) {
	f, err := mat.Open(path)
	if err != nil {
		return nil, err
	}
	v, err := f.Var(variable)
	if err != nil {
		return nil, err
	}
	if v.Class() != mat.ClassStruct {
		return nil, fmt.Errorf("%s: variable %q is %s, expected a struct array", path, variable, v)
	}
	n := v.Len()
	if n == 0 {
		return nil, fmt.Errorf("%s: variable %q is empty", path, variable)
	}
	fields := v.Fields()
	found := false
	for _, fl := range fields {
		found = found || fl == imageField
	}
	if !found {
		return nil, fmt.Errorf("%s: variable %q has no field %q (fields: %v)", path, variable, imageField, fields)
	}
	src := &matSource{path: path, elems: make([]*mat.Value, n)}
	ids := make([]string, n)
	cols := map[string][]string{}
	usable := map[string]bool{}
	for _, fl := range fields {
		if fl != imageField {
			cols[fl] = make([]string, n)
			usable[fl] = true
		}
	}
	for i := 0; i < n; i++ {
		ids[i] = strconv.Itoa(i + 1)
		e, err := v.Index(i)
		if err != nil {
			return nil, err
		}
		if src.elems[i], err = e.Field(imageField); err != nil {
			return nil, err
		}
		for fl := range cols {
			fv, err := e.Field(fl)
			if err != nil {
				return nil, err
			}
			s, ok := matText(fv)
			if !ok {
				usable[fl] = false
			}
			cols[fl][i] = s
		}
	}
	s, err := newSet(name, ids, src)
	if err != nil {
		return nil, err
	}
	for _, fl := range fields {
		if usable[fl] {
			if err := s.SetMeta(fl, cols[fl]); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}
