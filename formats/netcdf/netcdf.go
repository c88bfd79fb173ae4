// Package netcdf reads NetCDF files: NetCDF-4 (HDF5-based, formats NETCDF4 and
// NETCDF4_CLASSIC, through formats/hdf5) and the classic formats CDF-1, CDF-2 and CDF-5
// (NETCDF3_CLASSIC, NETCDF3_64BIT_OFFSET, NETCDF3_64BIT_DATA), which xarray writes with
// engine="scipy". Both come out as one data model: dimensions, variables with the names of
// their dimensions, and attributes. It exists so that Brain-Score's assemblies (xarray
// DataArrays saved with to_netcdf) can be read by a static Go binary; no pure-Go NetCDF module
// is available to this project, so the reader is hand-written from Unidata's "NetCDF Classic
// Format Specification" and the NetCDF-4 conventions for HDF5 (dimension scales,
// _Netcdf4Dimid, _Netcdf4Coordinates).
//
// Only the root group of a NetCDF-4 file is read, and a NetCDF-4 variable shorter than its
// unlimited dimension keeps its own length in Shape (netCDF-C would pad it with fill values).
// Values come back as stored: Float64s does not apply _FillValue, scale_factor or add_offset
// (the attributes are there for the caller; neural.ReadNetCDF applies them).
//
//	f, err := netcdf.Open("assembly.nc")
//	v, err := f.Var("data")                 // v.Dims: [presentation neuroid time_bin]
//	vals, err := v.Float64s()               // row-major, len = product of v.Shape
//	ids, err := f.Var("stimulus_id")
//	names, err := ids.Strings()
package netcdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// DefaultLimit is the largest variable, in bytes of decoded values, that a File reads unless
// its Limit is changed.
const DefaultLimit = 4 << 30

// ErrFormat is wrapped by errors about malformed or unsupported content in classic files
// (NetCDF-4 files report hdf5.ErrFormat).
var ErrFormat = errors.New("netcdf: invalid or unsupported file")

// File is an open NetCDF file.
type File struct {
	Name string
	// Format is "NETCDF4" (HDF5-based), "CDF-1", "CDF-2" or "CDF-5".
	Format string
	Dims   []Dim
	Vars   []*Var
	Attrs  []Attr
	close  func() error
}

// Dim is a dimension.
type Dim struct {
	Name      string
	Len       int
	Unlimited bool
}

// Var is a variable.
type Var struct {
	Name  string
	Dims  []string
	Shape []int
	// Type is the NetCDF type: byte, ubyte, char, short, ushort, int, uint, int64, uint64,
	// float, double or string.
	Type  string
	Attrs []Attr
	file  string
	src   source
}

// Attr is an attribute: Value holds a string (text attributes), []string, []float64 (float
// and double) or []int64 (the integer types).
type Attr struct {
	Name  string
	Value any
}

type source interface {
	float64s() ([]float64, error)
	int64s() ([]int64, error)
	// strings returns one string per element (for char variables, one per character).
	strings() ([]string, error)
}

// Open opens a NetCDF-4 or classic NetCDF file.
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
	f, err := NewReader(filepath.Base(path), fh, st.Size(), DefaultLimit)
	if err != nil {
		fh.Close()
		return nil, err
	}
	f.close = fh.Close
	return f, nil
}

// NewReader reads a NetCDF file of the given size from r; name is used in errors and limit
// bounds the bytes one variable read may decode.
func NewReader(name string, r io.ReaderAt, size int64, limit int64) (*File, error) {
	magic := make([]byte, 4)
	if size >= 4 {
		if _, err := r.ReadAt(magic, 0); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if bytes.HasPrefix(magic, []byte("CDF")) {
		return readClassic(name, r, size, limit)
	}
	return readNC4(name, r, size, limit)
}

// Close closes the file when Open opened it.
func (f *File) Close() error {
	if f.close != nil {
		return f.close()
	}
	return nil
}

// Var returns the variable called name.
func (f *File) Var(name string) (*Var, error) {
	var names []string
	for _, v := range f.Vars {
		if v.Name == name {
			return v, nil
		}
		names = append(names, v.Name)
	}
	return nil, fmt.Errorf("%s: no variable %q (variables: %s)", f.Name, name, strings.Join(names, ", "))
}

// Dim returns the dimension called name.
func (f *File) Dim(name string) (Dim, bool) {
	for _, d := range f.Dims {
		if d.Name == name {
			return d, true
		}
	}
	return Dim{}, false
}

// Attr returns the global attribute called name.
func (f *File) Attr(name string) (Attr, bool) { return findAttr(f.Attrs, name) }

// Attr returns the variable's attribute called name.
func (v *Var) Attr(name string) (Attr, bool) { return findAttr(v.Attrs, name) }

func findAttr(as []Attr, name string) (Attr, bool) {
	for _, a := range as {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// Float64s returns a text attribute's value as nil and a numeric one's values as float64.
func (a Attr) Float64s() []float64 {
	switch v := a.Value.(type) {
	case []float64:
		return v
	case []int64:
		out := make([]float64, len(v))
		for i, x := range v {
			out[i] = float64(x)
		}
		return out
	}
	return nil
}

// String returns a text attribute, or the values of any other joined by spaces.
func (a Attr) String() string {
	switch v := a.Value.(type) {
	case string:
		return v
	case []string:
		return strings.Join(v, " ")
	}
	return strings.Trim(fmt.Sprint(a.Value), "[]")
}

// IsCoord reports whether v is a coordinate variable: one-dimensional and named after its
// dimension.
func (v *Var) IsCoord() bool { return len(v.Dims) == 1 && v.Dims[0] == v.Name }

// Len returns the number of elements.
func (v *Var) Len() int {
	n := 1
	for _, s := range v.Shape {
		n *= s
	}
	return n
}

func (v *Var) errorf(err error) error {
	return fmt.Errorf("%s: variable %q: %w", v.file, v.Name, err)
}

// Float64s returns a numeric variable's values in row-major order.
func (v *Var) Float64s() ([]float64, error) {
	if v.Type == "char" || v.Type == "string" {
		return nil, v.errorf(fmt.Errorf("%s values are not numbers", v.Type))
	}
	out, err := v.src.float64s()
	if err != nil {
		return nil, v.errorf(err)
	}
	return out, nil
}

// Int64s returns an integer variable's values in row-major order.
func (v *Var) Int64s() ([]int64, error) {
	switch v.Type {
	case "char", "string", "float", "double":
		return nil, v.errorf(fmt.Errorf("%s values are not integers", v.Type))
	}
	out, err := v.src.int64s()
	if err != nil {
		return nil, v.errorf(err)
	}
	return out, nil
}

// Strings returns a string variable's values. For a char variable the last dimension is the
// string length: the result has one string per element of the other dimensions, with trailing
// NULs removed, as xarray decodes them.
func (v *Var) Strings() ([]string, error) {
	if v.Type != "char" && v.Type != "string" {
		return nil, v.errorf(fmt.Errorf("%s values are not strings", v.Type))
	}
	s, err := v.src.strings()
	if err != nil {
		return nil, v.errorf(err)
	}
	if v.Type != "char" || len(v.Shape) == 0 {
		return s, nil
	}
	w := v.Shape[len(v.Shape)-1]
	if w == 0 {
		return make([]string, 0), nil
	}
	out := make([]string, len(s)/w)
	var b strings.Builder
	for i := range out {
		b.Reset()
		for _, c := range s[i*w : (i+1)*w] {
			if c == "" {
				c = "\x00"
			}
			b.WriteString(c)
		}
		out[i] = strings.TrimRight(b.String(), "\x00")
	}
	return out, nil
}
