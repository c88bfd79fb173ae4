package subject

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/formats/hdf5"
	"github.com/ventral-lab/ventral/formats/npy"
)

func init() {
	for _, ext := range []string{".h5", ".hdf5", ".nc"} {
		sources[ext] = openHDF5
	}
}

// h5Source reads activations from an HDF5 file (h5py: one dataset per layer at the root) or a
// NetCDF4 file (xarray: one variable per layer). Datasets that only describe dimensions (netCDF
// dimensions without values, and dimension scales, i.e. coordinate variables) are not layers;
// an ids array may be such a coordinate ("stimulus_id") and may hold strings.
type h5Source struct {
	path string
	f    *hdf5.File
	list []string
}

func openHDF5(path string) (source, error) {
	f, err := hdf5.Open(path)
	if err != nil {
		return nil, err
	}
	s := &h5Source{path: path, f: f}
	members, err := f.Root().Members()
	if err != nil {
		f.Close()
		return nil, err
	}
	for _, m := range members {
		k, err := f.Root().Kind(m)
		if err != nil {
			f.Close()
			return nil, err
		}
		if k != hdf5.KindDataset {
			continue
		}
		base, _, _ := strings.Cut(m, "@")
		isID := false
		for _, n := range IDArrays {
			isID = isID || base == n
		}
		if !isID {
			ds, err := f.Root().Dataset(m)
			if err != nil {
				f.Close()
				return nil, err
			}
			if dimensionOnly(ds) {
				continue
			}
		}
		s.list = append(s.list, m)
	}
	return s, nil
}

// dimensionOnly reports a dataset that describes a dimension rather than holding values of a
// layer: a netCDF dimension without a variable, or a dimension scale (a coordinate variable).
func dimensionOnly(ds *hdf5.Dataset) bool {
	if a, err := ds.Attr("CLASS"); err == nil {
		if v, err := a.String(); err == nil && v == "DIMENSION_SCALE" {
			return true
		}
	}
	if a, err := ds.Attr("NAME"); err == nil {
		if v, err := a.String(); err == nil && strings.HasPrefix(v, "This is a netCDF dimension but not a netCDF variable") {
			return true
		}
	}
	return false
}

func (s *h5Source) close() error { return s.f.Close() }

func (s *h5Source) names() []string { return s.list }

func (s *h5Source) read(name string) (*npy.Array32, error) {
	ds, err := s.f.Root().Dataset(name)
	if err != nil {
		return nil, err
	}
	if !ds.Dtype().IsNumeric() {
		return nil, fmt.Errorf("%s: dataset %q holds %s values, expected numbers", s.path, name, ds.Dtype())
	}
	v, err := ds.ReadFloat64()
	if err != nil {
		return nil, err
	}
	out := &npy.Array32{Shape: ds.Shape(), Data: make([]float32, len(v))}
	for i, x := range v {
		out.Data[i] = float32(x)
	}
	return out, nil
}

// ids reads string ids as they are, integer (or integer-valued float) ids formatted in base 10.
func (s *h5Source) ids(name string) ([]string, error) {
	ds, err := s.f.Root().Dataset(name)
	if err != nil {
		return nil, err
	}
	if sh := ds.Shape(); len(sh) != 1 {
		return nil, fmt.Errorf("%s: dataset %q: shape %v, expected one id per row (1-D)", s.path, name, sh)
	}
	switch ds.Dtype().Class {
	case hdf5.ClassString, hdf5.ClassVarString:
		return ds.ReadStrings()
	case hdf5.ClassInteger:
		v, err := ds.ReadInt64()
		if err != nil {
			return nil, err
		}
		out := make([]string, len(v))
		for r, x := range v {
			out[r] = strconv.FormatInt(x, 10)
		}
		return out, nil
	}
	v, err := ds.ReadFloat64()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(v))
	for r, x := range v {
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%s: dataset %q: row %d holds %v, expected integer or string stimulus ids", s.path, name, r, x)
		}
		out[r] = strconv.FormatInt(int64(x), 10)
	}
	return out, nil
}
