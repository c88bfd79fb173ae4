package neural

import (
	"archive/zip"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Axis names accepted by FromArray and ReadArrayFile.
const (
	AxisStimulus   = "stimulus"
	AxisNeuroid    = "neuroid"
	AxisTimeBin    = "time_bin"
	AxisRepetition = "repetition"
)

// ReadArray reads a numeric array, row-major with its shape, from a .npy file, a member of an
// .npz archive or a variable of a MAT-file (variable: the member or MAT path).
func ReadArray(path, variable string) ([]float64, []int, error) {
	base := filepath.Base(path)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		if variable != "" {
			return nil, nil, fmt.Errorf("%s: a .npy file holds one array; variable %q applies to .npz and .mat files", base, variable)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, err
		}
		data, dims, err := DecodeNPY(b)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", base, err)
		}
		return data, dims, nil
	case ".npz":
		if variable == "" {
			return nil, nil, fmt.Errorf("%s: an .npz archive needs variable (the member to read)", base)
		}
		zr, err := zip.OpenReader(path)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", base, err)
		}
		defer zr.Close()
		want := strings.TrimSuffix(variable, ".npy") + ".npy"
		var names []string
		for _, f := range zr.File {
			names = append(names, strings.TrimSuffix(f.Name, ".npy"))
			if f.Name != want {
				continue
			}
			rc, err := f.Open()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %w", base, variable, err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %w", base, variable, err)
			}
			data, dims, err := DecodeNPY(b)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %s: %w", base, variable, err)
			}
			return data, dims, nil
		}
		return nil, nil, fmt.Errorf("%s: %w: array %q (arrays: %s)", base, ErrMissingVariable, variable, strings.Join(names, ", "))
	case ".mat":
		v, err := MATValue(path, variable)
		if err != nil {
			return nil, nil, err
		}
		if !v.Class().IsNumeric() {
			return nil, nil, fmt.Errorf("%s: %q: %w: expected a numeric array, found %s", base, variable, ErrWrongType, v)
		}
		data, dims, err := v.RowMajor()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %q: %w: %w", base, variable, ErrWrongType, err)
		}
		return data, dims, nil
	}
	return nil, nil, fmt.Errorf("%s: named dims need a .npy, .npz or .mat array", base)
}

// FromArray builds an assembly from a row-major array whose axes are named by dims: each of
// stimulus, neuroid, time_bin and repetition at most once, stimulus and neuroid required (a
// MAT-file's trailing singleton axes may be left unnamed). Ids are row numbers from 0; a
// missing repetition is NaN.
func FromArray(name string, data []float64, shape []int, dims []string) (*Assembly, error) {
	for len(shape) > len(dims) && shape[len(shape)-1] == 1 {
		shape = shape[:len(shape)-1]
	}
	if len(shape) != len(dims) {
		return nil, fmt.Errorf("%s: dims %v name %d axes, the array has shape %v", name, dims, len(dims), shape)
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(data) {
		return nil, fmt.Errorf("%s: shape %v needs %d values, have %d", name, shape, n, len(data))
	}
	order := []string{AxisStimulus, AxisNeuroid, AxisTimeBin, AxisRepetition}
	pos := map[string]int{}
	for i, d := range dims {
		if !slices.Contains(order, d) {
			return nil, fmt.Errorf("%s: dims: unknown axis %q (expected stimulus, neuroid, time_bin, repetition)", name, d)
		}
		if _, dup := pos[d]; dup {
			return nil, fmt.Errorf("%s: dims: axis %q named twice", name, d)
		}
		pos[d] = i
	}
	for _, d := range order[:2] {
		if _, ok := pos[d]; !ok {
			return nil, fmt.Errorf("%s: dims %v: no %s axis", name, dims, d)
		}
	}
	size := func(d string) int {
		if i, ok := pos[d]; ok {
			return shape[i]
		}
		return 1
	}
	S, N, T, R := size(AxisStimulus), size(AxisNeuroid), size(AxisTimeBin), size(AxisRepetition)
	stride := make([]int, len(shape))
	st := 1
	for i := len(shape) - 1; i >= 0; i-- {
		stride[i] = st
		st *= shape[i]
	}
	str := func(d string) int {
		if i, ok := pos[d]; ok {
			return stride[i]
		}
		return 0
	}
	ss, sn, stt, sr := str(AxisStimulus), str(AxisNeuroid), str(AxisTimeBin), str(AxisRepetition)
	a := New(NumberedIDs("", S), NumberedIDs("", N), NumberedIDs("", T), R)
	a.Name = name
	k := 0
	for s := 0; s < S; s++ {
		for nn := 0; nn < N; nn++ {
			for t := 0; t < T; t++ {
				for r := 0; r < R; r++ {
					a.Data[k] = data[s*ss+nn*sn+t*stt+r*sr]
					k++
				}
			}
		}
	}
	return a, nil
}

// ReadArrayFile reads an assembly from a .npy/.npz/.mat array with named axes (FromArray).
// Stimulus ids are row numbers from 0.
func ReadArrayFile(path, variable string, dims []string) (*Assembly, error) {
	data, shape, err := ReadArray(path, variable)
	if err != nil {
		return nil, err
	}
	name := filepath.Base(path)
	if variable != "" {
		name += ":" + variable
	}
	return FromArray(name, data, shape, dims)
}

// IDsFromArray formats a numeric vector of ids (integers print without a decimal point).
func IDsFromArray(where string, v []float64) ([]string, error) {
	out := make([]string, len(v))
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%s: id %d is %v", where, i, x)
		}
		out[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return out, nil
}

// RepCounts returns, for each stimulus and neuroid (over time bins: the fewest), how many
// repetitions are present (finite).
func (a *Assembly) RepCounts() [][]int {
	S, N, T, R := a.Shape()
	out := make([][]int, S)
	for s := 0; s < S; s++ {
		out[s] = make([]int, N)
		for n := 0; n < N; n++ {
			c := R
			for t := 0; t < T; t++ {
				k := 0
				for r := 0; r < R; r++ {
					if v := a.At(s, n, t, r); !math.IsNaN(v) && !math.IsInf(v, 0) {
						k++
					}
				}
				c = min(c, k)
			}
			out[s][n] = c
		}
	}
	return out
}
