package neural

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/formats/mat"
)

// ErrWrongType is wrapped by errors about a variable of the wrong kind (a cell where numbers
// were expected, a 3-D array where a matrix was expected, ...).
var ErrWrongType = errors.New("wrong type")

// ErrMissingVariable is wrapped by errors about a variable or field that is not in the file.
var ErrMissingVariable = errors.New("missing variable")

// MATValue opens a MAT-file and follows a path to a value inside it. The path is a variable
// name followed by field names separated by dots; any step may carry a one-based MATLAB
// linear index in parentheses: "RDMs_mIT_hIT_fig1(2).RDM", "data.resp".
func MATValue(path, varPath string) (*mat.Value, error) {
	f, err := mat.Open(path)
	if err != nil {
		return nil, err
	}
	return matFollow(f, filepath.Base(path), varPath)
}

type matStep struct {
	name  string
	index int // one-based; 0 for none
}

func parseMATPath(p string) ([]matStep, error) {
	if p == "" {
		return nil, fmt.Errorf("empty variable path")
	}
	var steps []matStep
	for _, part := range strings.Split(p, ".") {
		st := matStep{name: part}
		if i := strings.IndexByte(part, '('); i >= 0 {
			if !strings.HasSuffix(part, ")") {
				return nil, fmt.Errorf("variable path %q: bad index in %q", p, part)
			}
			k, err := strconv.Atoi(part[i+1 : len(part)-1])
			if err != nil || k < 1 {
				return nil, fmt.Errorf("variable path %q: index in %q must be a positive integer (MATLAB, one-based)", p, part)
			}
			st.name, st.index = part[:i], k
		}
		if st.name == "" {
			return nil, fmt.Errorf("variable path %q: empty name", p)
		}
		steps = append(steps, st)
	}
	return steps, nil
}

func matFollow(f *mat.File, file, varPath string) (*mat.Value, error) {
	steps, err := parseMATPath(varPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	v, err := f.Var(steps[0].name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %q (variables: %s): %w", file, ErrMissingVariable, steps[0].name, strings.Join(f.Names(), ", "), err)
	}
	for i, st := range steps {
		if i > 0 {
			fv, err := v.Field(st.name)
			if err != nil {
				if errors.Is(err, mat.ErrNotFound) {
					return nil, fmt.Errorf("%s: %w: %w", file, ErrMissingVariable, err)
				}
				return nil, fmt.Errorf("%s: %w: %w", file, ErrWrongType, err)
			}
			v = fv
		}
		if st.index > 0 {
			ev, err := v.Index(st.index - 1)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w: %w", file, varPath, ErrWrongType, err)
			}
			v = ev
		}
	}
	return v, nil
}

// ReadMAT reads an assembly from a numeric array in a MAT-file at varPath (see MATValue). The
// array's dimensions are stimuli x neuroids [x time bins [x repetitions]]; set transpose when
// the first two are neuroids x stimuli. Stimulus ids are "1".."S" (the file's order), neuroid
// ids "0".."N-1"; callers attach metadata afterwards.
func ReadMAT(path, varPath string, transpose bool) (*Assembly, error) {
	v, err := MATValue(path, varPath)
	if err != nil {
		return nil, err
	}
	if !v.Class().IsNumeric() {
		return nil, fmt.Errorf("%s: %q: %w: expected a numeric array, found %s", filepath.Base(path), varPath, ErrWrongType, v)
	}
	data, dims, err := v.RowMajor()
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w: %w", filepath.Base(path), varPath, ErrWrongType, err)
	}
	a, err := fromDims(filepath.Base(path)+":"+varPath, data, dims, transpose)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// fromDims builds an assembly from a row-major array with dims [S N (T (R))].
func fromDims(name string, data []float64, dims []int, transpose bool) (*Assembly, error) {
	for len(dims) > 2 && dims[len(dims)-1] == 1 {
		dims = dims[:len(dims)-1]
	}
	if len(dims) < 2 || len(dims) > 4 {
		return nil, fmt.Errorf("%s: %w: expected 2 to 4 dimensions (stimuli x neuroids [x time [x repetitions]]), found %v", name, ErrWrongType, dims)
	}
	S, N, T, R := dims[0], dims[1], 1, 1
	if len(dims) > 2 {
		T = dims[2]
	}
	if len(dims) > 3 {
		R = dims[3]
	}
	rest := T * R
	if transpose {
		S, N = N, S
		td := make([]float64, len(data))
		for n := 0; n < N; n++ {
			for s := 0; s < S; s++ {
				copy(td[(s*N+n)*rest:(s*N+n+1)*rest], data[(n*S+s)*rest:(n*S+s+1)*rest])
			}
		}
		data = td
	}
	a := New(NumberedIDs("", S), NumberedIDs("", N), NumberedIDs("", T), R)
	for i := range a.Stimuli {
		a.Stimuli[i] = strconv.Itoa(i + 1)
	}
	a.Name = name
	copy(a.Data, data)
	return a, nil
}

// MATRDMOptions says where the RDMs of a struct array are.
type MATRDMOptions struct {
	Field     string   // field holding each RDM (default "RDM")
	NameField string   // field holding each RDM's name (default "name", used when present)
	DimNames  []string // metadata names of the struct array's dimensions, e.g. {"", "subject", "session"}
}

// ReadRDMsMAT reads an RDM set from a MAT-file: varPath (see MATValue) is a struct array whose
// elements hold one N x N RDM (or its upper-triangle vector, squareform order) each (in column-major element order, names from NameField or
// MATLAB subscripts), a numeric N x N matrix, or a numeric N x N x K array. Non-square,
// asymmetric or non-finite RDMs are errors.
func ReadRDMsMAT(path, varPath string, opt MATRDMOptions) (*RDMSet, error) {
	file := filepath.Base(path)
	v, err := MATValue(path, varPath)
	if err != nil {
		return nil, err
	}
	if opt.Field == "" {
		opt.Field = "RDM"
	}
	if opt.NameField == "" {
		opt.NameField = "name"
	}
	set := &RDMSet{Name: file + ":" + varPath, Meta: map[string][]string{}}
	n := -1
	add := func(name string, rows, cols int, d []float64) error {
		if rows == 1 || cols == 1 {
			// A dissimilarity vector in MATLAB's squareform/pdist order: (1,2), (1,3), ..., (2,3), ...
			if m, ok := squareSide(len(d)); ok && len(d) > 1 {
				d, rows, cols = SquareForm(d, m), m, m
			}
		}
		if rows != cols {
			return fmt.Errorf("%s: %q: RDM %q is %d x %d, not square", file, varPath, name, rows, cols)
		}
		if n >= 0 && rows != n {
			return fmt.Errorf("%s: %q: RDM %q is %d x %d, the others %d x %d", file, varPath, name, rows, cols, n, n)
		}
		n = rows
		set.Names = append(set.Names, name)
		set.RDMs = append(set.RDMs, d)
		return nil
	}
	switch {
	case v.Class().IsNumeric():
		data, dims, err := v.RowMajor()
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w: %w", file, varPath, ErrWrongType, err)
		}
		switch {
		case len(dims) == 2:
			if err := add(varPath, dims[0], dims[1], data); err != nil {
				return nil, err
			}
		case len(dims) == 3:
			// Row-major [N, N, K]: element (i, j, k) at (i*N+j)*K+k.
			K := dims[2]
			for k := 0; k < K; k++ {
				d := make([]float64, dims[0]*dims[1])
				for ij := range d {
					d[ij] = data[ij*K+k]
				}
				if err := add(fmt.Sprintf("%s(:,:,%d)", varPath, k+1), dims[0], dims[1], d); err != nil {
					return nil, err
				}
			}
		default:
			return nil, fmt.Errorf("%s: %q: %w: expected an N x N or N x N x K array, found dims %v", file, varPath, ErrWrongType, dims)
		}
	case v.Class() == mat.ClassStruct || v.Class() == mat.ClassObject:
		dims := v.Dims()
		hasName := false
		for _, f := range v.Fields() {
			hasName = hasName || f == opt.NameField
		}
		for k := 0; k < v.Len(); k++ {
			el, err := v.Index(k)
			if err != nil {
				return nil, fmt.Errorf("%s: %q: %w", file, varPath, err)
			}
			sub := subscripts(k, dims)
			name := fmt.Sprintf("%s(%s)", varPath, joinInts(sub))
			if hasName {
				if nv, err := el.Field(opt.NameField); err == nil {
					if s, err := nv.Text(); err == nil && s != "" {
						name = s
					}
				}
			}
			rv, err := el.Field(opt.Field)
			if err != nil {
				if errors.Is(err, mat.ErrNotFound) {
					return nil, fmt.Errorf("%s: %q: %w: %w", file, varPath, ErrMissingVariable, err)
				}
				return nil, fmt.Errorf("%s: %q: %w: %w", file, varPath, ErrWrongType, err)
			}
			if !rv.Class().IsNumeric() {
				return nil, fmt.Errorf("%s: %q element %d field %q: %w: expected a numeric matrix, found %s", file, varPath, k+1, opt.Field, ErrWrongType, rv)
			}
			rows, cols, d, err := rv.Matrix()
			if err != nil {
				return nil, fmt.Errorf("%s: %q element %d field %q: %w: %w", file, varPath, k+1, opt.Field, ErrWrongType, err)
			}
			if err := add(name, rows, cols, d); err != nil {
				return nil, err
			}
			for di, dn := range opt.DimNames {
				if dn != "" && di < len(sub) {
					set.Meta[dn] = append(set.Meta[dn], strconv.Itoa(sub[di]))
				}
			}
		}
	default:
		return nil, fmt.Errorf("%s: %q: %w: expected a struct array of RDMs or a numeric array, found %s", file, varPath, ErrWrongType, v)
	}
	if len(set.RDMs) == 0 {
		return nil, fmt.Errorf("%s: %q: no RDMs", file, varPath)
	}
	set.Stimuli = make([]string, n)
	for i := range set.Stimuli {
		set.Stimuli[i] = strconv.Itoa(i + 1)
	}
	if err := set.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return set, nil
}

// subscripts converts a zero-based column-major linear index to one-based subscripts.
func subscripts(k int, dims []int) []int {
	out := make([]int, len(dims))
	for i, d := range dims {
		out[i] = k%d + 1
		k /= d
	}
	return out
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

// squareSide returns m with m(m-1)/2 == k.
func squareSide(k int) (int, bool) {
	m := int(math.Round((1 + math.Sqrt(1+8*float64(k))) / 2))
	return m, m*(m-1)/2 == k
}

// SquareForm expands a dissimilarity vector (the upper triangle row by row, which is MATLAB's
// pdist/squareform order) into a row-major m x m symmetric matrix with a zero diagonal.
func SquareForm(v []float64, m int) []float64 {
	out := make([]float64, m*m)
	k := 0
	for i := 0; i < m; i++ {
		for j := i + 1; j < m; j++ {
			out[i*m+j], out[j*m+i] = v[k], v[k]
			k++
		}
	}
	return out
}
