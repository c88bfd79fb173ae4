package neural

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ReadNPY reads an assembly from a NumPy .npy file holding a numeric array of 2 to 4
// dimensions: stimuli x neuroids [x time bins [x repetitions]] (transpose swaps the first
// two). Stimulus ids are "0".."S-1" (row numbers), neuroid ids "0".."N-1".
func ReadNPY(path string, transpose bool) (*Assembly, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	data, dims, err := DecodeNPY(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return npyAssembly(filepath.Base(path), data, dims, transpose)
}

// ReadNPZ reads the array called name (with or without ".npy") from a NumPy .npz archive, as
// ReadNPY does.
func ReadNPZ(path, name string, transpose bool) (*Assembly, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	defer zr.Close()
	want := strings.TrimSuffix(name, ".npy") + ".npy"
	var names []string
	for _, f := range zr.File {
		names = append(names, strings.TrimSuffix(f.Name, ".npy"))
		if f.Name != want {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", filepath.Base(path), name, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", filepath.Base(path), name, err)
		}
		data, dims, err := DecodeNPY(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", filepath.Base(path), name, err)
		}
		return npyAssembly(filepath.Base(path)+":"+name, data, dims, transpose)
	}
	return nil, fmt.Errorf("%s: %w: array %q (arrays: %s)", filepath.Base(path), ErrMissingVariable, name, strings.Join(names, ", "))
}

func npyAssembly(name string, data []float64, dims []int, transpose bool) (*Assembly, error) {
	a, err := fromDims(name, data, dims, transpose)
	if err != nil {
		return nil, err
	}
	for i := range a.Stimuli {
		a.Stimuli[i] = strconv.Itoa(i)
	}
	return a, nil
}

// DecodeNPY decodes a .npy file (format versions 1 to 3) holding a numeric array of any
// little- or big-endian float, int, uint or bool dtype, returned as float64 in row-major order
// with its shape. Fortran-ordered arrays are converted.
func DecodeNPY(b []byte) ([]float64, []int, error) {
	if len(b) < 10 || !bytes.Equal(b[:6], []byte("\x93NUMPY")) {
		return nil, nil, fmt.Errorf("npy: not a .npy file (bad magic)")
	}
	major := b[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, nil, fmt.Errorf("npy: truncated header")
		}
		hlen, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return nil, nil, fmt.Errorf("npy: unsupported format version %d", major)
	}
	if off+hlen > len(b) {
		return nil, nil, fmt.Errorf("npy: truncated header")
	}
	hdr := string(b[off : off+hlen])
	body := b[off+hlen:]
	descr, err := npyField(hdr, "descr")
	if err != nil {
		return nil, nil, err
	}
	descr = strings.Trim(descr, "'\"")
	fortran, err := npyField(hdr, "fortran_order")
	if err != nil {
		return nil, nil, err
	}
	shapeStr, err := npyField(hdr, "shape")
	if err != nil {
		return nil, nil, err
	}
	var dims []int
	for _, s := range strings.Split(strings.Trim(shapeStr, "()"), ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		d, err := strconv.Atoi(s)
		if err != nil || d < 0 {
			return nil, nil, fmt.Errorf("npy: bad shape %q", shapeStr)
		}
		dims = append(dims, d)
	}
	n := 1
	for _, d := range dims {
		n *= d
	}
	if len(descr) < 3 {
		return nil, nil, fmt.Errorf("npy: unsupported dtype %q", descr)
	}
	var order binary.ByteOrder = binary.LittleEndian
	if descr[0] == '>' {
		order = binary.BigEndian
	}
	kind := descr[1]
	size, err := strconv.Atoi(descr[2:])
	if err != nil {
		return nil, nil, fmt.Errorf("npy: unsupported dtype %q", descr)
	}
	if len(body) < n*size {
		return nil, nil, fmt.Errorf("npy: %v %s array needs %d bytes, have %d", dims, descr, n*size, len(body))
	}
	out := make([]float64, n)
	for i := range out {
		p := body[i*size : (i+1)*size]
		switch {
		case kind == 'f' && size == 8:
			out[i] = math.Float64frombits(order.Uint64(p))
		case kind == 'f' && size == 4:
			out[i] = float64(math.Float32frombits(order.Uint32(p)))
		case (kind == 'i' || kind == 'u' || kind == 'b') && size == 1:
			if kind == 'i' {
				out[i] = float64(int8(p[0]))
			} else {
				out[i] = float64(p[0])
			}
		case kind == 'i' && size == 2:
			out[i] = float64(int16(order.Uint16(p)))
		case kind == 'u' && size == 2:
			out[i] = float64(order.Uint16(p))
		case kind == 'i' && size == 4:
			out[i] = float64(int32(order.Uint32(p)))
		case kind == 'u' && size == 4:
			out[i] = float64(order.Uint32(p))
		case kind == 'i' && size == 8:
			out[i] = float64(int64(order.Uint64(p)))
		case kind == 'u' && size == 8:
			out[i] = float64(order.Uint64(p))
		default:
			return nil, nil, fmt.Errorf("npy: %w: unsupported dtype %q", ErrWrongType, descr)
		}
	}
	if strings.TrimSpace(fortran) == "True" && len(dims) > 1 {
		out = fortranToC(out, dims)
	}
	return out, dims, nil
}

func npyField(hdr, key string) (string, error) {
	i := strings.Index(hdr, "'"+key+"'")
	if i < 0 {
		return "", fmt.Errorf("npy: header has no %q: %s", key, hdr)
	}
	rest := strings.TrimSpace(hdr[i+len(key)+2:])
	rest = strings.TrimSpace(strings.TrimPrefix(rest, ":"))
	if strings.HasPrefix(rest, "(") {
		j := strings.IndexByte(rest, ')')
		if j < 0 {
			return "", fmt.Errorf("npy: bad header %s", hdr)
		}
		return rest[:j+1], nil
	}
	j := strings.IndexAny(rest, ",}")
	if j < 0 {
		return "", fmt.Errorf("npy: bad header %s", hdr)
	}
	return strings.TrimSpace(rest[:j]), nil
}

// fortranToC reorders a column-major array with the given dims to row-major.
func fortranToC(in []float64, dims []int) []float64 {
	out := make([]float64, len(in))
	nd := len(dims)
	idx := make([]int, nd)
	for k := range in {
		// k is a column-major linear index; compute subscripts then the row-major index.
		r := k
		for i := 0; i < nd; i++ {
			idx[i] = r % dims[i]
			r /= dims[i]
		}
		c := 0
		for i := 0; i < nd; i++ {
			c = c*dims[i] + idx[i]
		}
		out[c] = in[k]
	}
	return slices.Clip(out)
}
