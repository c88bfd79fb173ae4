package netcdf

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/ventral-lab/ventral/formats/hdf5"
)

// attributes the NetCDF-4 library and the HDF5 dimension-scale API use for bookkeeping; they
// are not NetCDF attributes.
var hiddenAttrs = map[string]bool{
	"CLASS": true, "NAME": true, "DIMENSION_LIST": true, "REFERENCE_LIST": true,
	"_Netcdf4Dimid": true, "_Netcdf4Coordinates": true, "_NCProperties": true, "_nc3_strict": true,
	"_IsNetcdf4": true, "_SuperblockVersion": true,
}

const pureDim = "This is a netCDF dimension but not a netCDF variable."

type nc4Source struct{ ds *hdf5.Dataset }

func (s nc4Source) float64s() ([]float64, error) { return s.ds.ReadFloat64() }
func (s nc4Source) int64s() ([]int64, error)     { return s.ds.ReadInt64() }
func (s nc4Source) strings() ([]string, error)   { return s.ds.ReadStrings() }

func readNC4(name string, r io.ReaderAt, size, limit int64) (*File, error) {
	h, err := hdf5.NewReader(name, r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: neither a classic NetCDF nor an HDF5 file: %w", name, err)
	}
	h.Limit = limit
	root := h.Root()
	f := &File{Name: name, Format: "NETCDF4"}
	if f.Attrs, err = nc4Attrs(root.Attrs()); err != nil {
		return nil, err
	}
	members, err := root.Members()
	if err != nil {
		return nil, err
	}
	type scale struct {
		dim   Dim
		id    int64
		pure  bool
		index int
	}
	var sets []*hdf5.Dataset
	scales := map[uint64]*scale{}
	var order []*scale
	for _, m := range members {
		k, err := root.Kind(m)
		if err != nil {
			return nil, err
		}
		if k != hdf5.KindDataset {
			continue // groups (not read) and committed datatypes
		}
		ds, err := root.Dataset(m)
		if err != nil {
			return nil, err
		}
		sets = append(sets, ds)
		if !isScale(ds) {
			continue
		}
		shape, maxShape := ds.Shape(), ds.MaxShape()
		if len(shape) != 1 {
			return nil, fmt.Errorf("%s: dimension scale %q has %d dimensions", name, m, len(shape))
		}
		sc := &scale{dim: Dim{Name: m, Len: shape[0], Unlimited: maxShape[0] < 0}, id: -1, index: len(order)}
		if a, err := ds.Attr("_Netcdf4Dimid"); err == nil {
			if v, err := a.Int64s(); err == nil && len(v) == 1 {
				sc.id = v[0]
			}
		}
		if a, err := ds.Attr("NAME"); err == nil {
			if s, err := a.String(); err == nil && strings.HasPrefix(s, pureDim) {
				sc.pure = true
				// an unlimited pure dimension's length is kept in the text, the dataset
				// itself may be empty
				var n int
				if _, err := fmt.Sscan(strings.TrimPrefix(s, pureDim), &n); err == nil && n >= 0 {
					sc.dim.Len = max(sc.dim.Len, n)
				}
			}
		}
		scales[ds.Address()] = sc
		order = append(order, sc)
	}
	slices.SortStableFunc(order, func(a, b *scale) int {
		if a.id >= 0 && b.id >= 0 && a.id != b.id {
			return int(a.id - b.id)
		}
		return a.index - b.index
	})
	byID := map[int64]string{}
	for _, sc := range order {
		f.Dims = append(f.Dims, sc.dim)
		if sc.id >= 0 {
			byID[sc.id] = sc.dim.Name
		}
	}
	scaleNames := map[uint64]string{}
	for a, sc := range scales {
		scaleNames[a] = sc.dim.Name
	}
	phony := map[int]string{} // netCDF-C names dimensions without scales phony_dim_N
	for _, ds := range sets {
		name := strings.TrimPrefix(ds.Name(), "/")
		sc := scales[ds.Address()]
		if sc != nil && sc.pure {
			continue
		}
		v := &Var{Name: name, Shape: ds.Shape(), file: f.Name, src: nc4Source{ds}}
		if v.Type, err = nc4Type(ds.Dtype()); err != nil {
			return nil, fmt.Errorf("%s: variable %q: %w", f.Name, name, err)
		}
		if v.Attrs, err = nc4Attrs(ds.Attrs()); err != nil {
			return nil, err
		}
		if v.Dims, err = varDims(ds, sc != nil, scaleNames, byID); err != nil {
			return nil, fmt.Errorf("%s: variable %q: %w", f.Name, name, err)
		}
		for i := range v.Dims {
			if v.Dims[i] != "" {
				continue
			}
			n := v.Shape[i]
			if phony[n] == "" {
				phony[n] = fmt.Sprintf("phony_dim_%d", len(phony))
				f.Dims = append(f.Dims, Dim{Name: phony[n], Len: n})
			}
			v.Dims[i] = phony[n]
		}
		f.Vars = append(f.Vars, v)
	}
	// as netCDF-C does, an unlimited dimension is as long as the longest variable along it
	for i, d := range f.Dims {
		if !d.Unlimited {
			continue
		}
		for _, v := range f.Vars {
			for j, dn := range v.Dims {
				if dn == d.Name {
					f.Dims[i].Len = max(f.Dims[i].Len, v.Shape[j])
				}
			}
		}
	}
	return f, nil
}

func isScale(ds *hdf5.Dataset) bool {
	a, err := ds.Attr("CLASS")
	if err != nil {
		return false
	}
	s, err := a.String()
	return err == nil && s == "DIMENSION_SCALE"
}

// varDims names a variable's dimensions: from _Netcdf4Coordinates when netCDF-C wrote it, else
// from the DIMENSION_LIST references to dimension scales; a dimension scale that is itself the
// variable names its own dimension. Unnamed dimensions are left "".
func varDims(ds *hdf5.Dataset, isScale bool, scaleNames map[uint64]string, byID map[int64]string) ([]string, error) {
	rank := len(ds.Shape())
	dims := make([]string, rank)
	if isScale && rank == 1 {
		dims[0] = strings.TrimPrefix(ds.Name(), "/")
		return dims, nil
	}
	if a, err := ds.Attr("_Netcdf4Coordinates"); err == nil {
		if ids, err := a.Int64s(); err == nil && len(ids) == rank {
			ok := true
			for i, id := range ids {
				dims[i], ok = byID[id]
				if !ok {
					break
				}
			}
			if ok {
				return dims, nil
			}
			clear(dims)
		}
	}
	a, err := ds.Attr("DIMENSION_LIST")
	if err != nil {
		return dims, nil
	}
	refs, err := a.References()
	if err != nil {
		return nil, err
	}
	if len(refs) != rank {
		return nil, fmt.Errorf("DIMENSION_LIST has %d entries for %d dimensions", len(refs), rank)
	}
	for i, r := range refs {
		if len(r) > 0 {
			dims[i] = scaleNames[r[0]]
		}
	}
	return dims, nil
}

func nc4Type(t *hdf5.Dtype) (string, error) {
	switch t.Class {
	case hdf5.ClassInteger:
		names := map[int]string{1: "byte", 2: "short", 4: "int", 8: "int64"}
		n := names[t.Size]
		if !t.Signed {
			n = "u" + n
		}
		return n, nil
	case hdf5.ClassFloat:
		switch t.Size {
		case 4:
			return "float", nil
		case 8:
			return "double", nil
		}
		return "", fmt.Errorf("%s: not a NetCDF type", t)
	case hdf5.ClassString:
		if t.Size == 1 {
			return "char", nil
		}
		return "string", nil
	case hdf5.ClassVarString:
		return "string", nil
	case hdf5.ClassEnum:
		return nc4Type(t.Base)
	}
	return "", fmt.Errorf("%s: not supported", t)
}

func nc4Attrs(as []*hdf5.Attribute, err error) ([]Attr, error) {
	if err != nil {
		return nil, err
	}
	var out []Attr
	for _, a := range as {
		if hiddenAttrs[a.Name] {
			continue
		}
		t := a.Dtype()
		var v any
		switch {
		case t.Class == hdf5.ClassString || t.Class == hdf5.ClassVarString:
			s, err := a.Strings()
			if err != nil {
				return nil, err
			}
			if len(a.Shape()) == 0 || (t.Class == hdf5.ClassString && len(s) == 1) {
				v = strings.Join(s, "")
			} else {
				v = s
			}
		case t.Class == hdf5.ClassFloat:
			if v, err = a.Float64s(); err != nil {
				return nil, err
			}
		case t.IsNumeric():
			if v, err = a.Int64s(); err != nil {
				if v, err = a.Float64s(); err != nil { // uint64 beyond int64
					return nil, err
				}
			}
		default:
			continue // references, compounds: not NetCDF attributes
		}
		out = append(out, Attr{Name: a.Name, Value: v})
	}
	return out, nil
}
