package subject

import (
	"archive/zip"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/formats/npy"
)

// source is a file of named arrays: an .npz archive (or, with formats/hdf5, an HDF5/NetCDF4
// file), opened once per Activations call.
type source interface {
	names() []string
	// read returns an array as float32 in C order.
	read(name string) (*npy.Array32, error)
	// ids returns a 1-D array of stimulus ids as strings.
	ids(name string) ([]string, error)
	close() error
}

// sources maps a file extension to its opener.
var sources = map[string]func(path string) (source, error){
	".npz": openNPZ,
}

func sourceKinds() string {
	var k []string
	for e := range sources {
		k = append(k, e)
	}
	slices.Sort(k)
	return strings.Join(k, ", ")
}

func openSource(path string) (source, error) {
	open, ok := sources[strings.ToLower(filepath.Ext(path))]
	if !ok {
		return nil, fmt.Errorf("%s: precomputed activations must be %s, not %q", path, sourceKinds(), filepath.Ext(path))
	}
	return open(path)
}

type npzSource struct {
	path string
	zr   *zip.ReadCloser
}

func openNPZ(path string) (source, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: not an .npz (zip) archive: %w", path, err)
	}
	return &npzSource{path: path, zr: zr}, nil
}

func (s *npzSource) names() []string {
	var out []string
	for _, zf := range s.zr.File {
		out = append(out, strings.TrimSuffix(zf.Name, ".npy"))
	}
	return out
}

func (s *npzSource) close() error { return s.zr.Close() }

func (s *npzSource) read(name string) (*npy.Array32, error) {
	b, err := memberBytes(&s.zr.Reader, s.path, name)
	if err != nil {
		return nil, err
	}
	return npy.Decode32(filepath.Base(s.path)+": "+name, b)
}

// ids reads integer ids (the .npy reader takes numeric dtypes only), exactly up to 2^53.
func (s *npzSource) ids(name string) ([]string, error) {
	b, err := memberBytes(&s.zr.Reader, s.path, name)
	if err != nil {
		return nil, err
	}
	a, err := npy.Decode(filepath.Base(s.path)+": "+name, b)
	if err != nil {
		return nil, err
	}
	if len(a.Shape) != 1 {
		return nil, fmt.Errorf("%s: array %q: shape %v, expected one id per row (1-D)", s.path, name, a.Shape)
	}
	out := make([]string, len(a.Data))
	for r, v := range a.Data {
		if v != math.Trunc(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: array %q: row %d holds %v, expected integer stimulus ids", s.path, name, r, v)
		}
		out[r] = strconv.FormatInt(int64(v), 10)
	}
	return out, nil
}

// memberBytes reads one .npy member of an open .npz archive.
func memberBytes(zr *zip.Reader, path, name string) ([]byte, error) {
	for _, zf := range zr.File {
		if strings.TrimSuffix(zf.Name, ".npy") != name {
			continue
		}
		// Deflate expands at most about 1032:1; a member claiming more is corrupt.
		if limit := zf.CompressedSize64*1100 + 1024; zf.UncompressedSize64 > limit {
			return nil, fmt.Errorf("%s: array %q claims %d bytes from %d compressed", path, name, zf.UncompressedSize64, zf.CompressedSize64)
		}
		rc, err := zf.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: array %q: %w", path, name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: array %q: %w", path, name, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%s: no array %q", path, name)
}
