package neural

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/formats/netcdf"
)

// NetCDFOptions chooses what ReadNetCDF reads.
type NetCDFOptions struct {
	// Variable is the data variable; empty picks the only variable with two or more
	// dimensions, else one called "data" or xarray's "__xarray_dataarray_variable__".
	Variable string
	// StimulusID is the coordinate along the presentation dimension that names stimuli;
	// empty means stimulus_id, else image_id, else the dimension's own coordinate variable,
	// else row numbers.
	StimulusID string
}

// Dimension names ReadNetCDF maps onto the assembly's axes.
var (
	netcdfStimulusDims   = []string{"presentation", "stimulus", "stimulus_id", "image", "image_id"}
	netcdfNeuroidDims    = []string{"neuroid", "neuroid_id", "neuron", "unit"}
	netcdfTimeDims       = []string{"time_bin", "time_bins", "time"}
	netcdfRepetitionDims = []string{"repetition", "repetitions", "trial"}
)

// ReadNetCDF reads a Brain-Score style assembly: an xarray DataArray saved with to_netcdf as
// NetCDF-4/HDF5 (.nc, .h5) or classic NetCDF (engine="scipy"). The data variable's dimensions
// are named, in any order: presentation (or stimulus), neuroid, and optionally time_bin and
// repetition; other dimensions must have length 1. Coordinates are the 1-D variables along
// those dimensions, as Brain-Score stores its MultiIndex levels after reset_index:
//
//   - presentation: the stimulus id (NetCDFOptions.StimulusID, default stimulus_id). Rows with
//     the same id are repetitions of that stimulus, in the order of a "repetition" coordinate
//     when there is one, else in file order; stimuli with fewer rows than the most repeated one
//     are NaN-padded. Stimuli keep the order of their first row. Every other coordinate whose
//     value is the same in all rows of each stimulus (object_name, category, ...) becomes
//     StimulusMeta; ones that vary within a stimulus (repetition, trial times) are dropped.
//   - neuroid: neuroid_id (else the dimension's coordinate variable, else numbers) names the
//     neuroids; every other coordinate (region, animal, arr, ...) becomes NeuroidMeta.
//   - time_bin: labels "start-end" from time_bin_start and time_bin_end, else the dimension's
//     coordinate variable, else numbers.
//
// Values equal to _FillValue or missing_value become NaN and scale_factor/add_offset are
// applied, as xarray decodes them. A plain HDF5 file needs dimension scales (DIMENSION_LIST)
// naming the data's dimensions, as netCDF4, h5netcdf and h5py's dims API write them.
func ReadNetCDF(path string, opts NetCDFOptions) (*Assembly, error) {
	f, err := netcdf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	base := filepath.Base(path)
	v, err := pickDataVar(f, base, opts.Variable)
	if err != nil {
		return nil, err
	}
	name := base + ":" + v.Name
	axis := map[string]int{} // assembly axis -> position in v.Dims
	for i, d := range v.Dims {
		var ax string
		switch {
		case slices.Contains(netcdfStimulusDims, d):
			ax = AxisStimulus
		case slices.Contains(netcdfNeuroidDims, d):
			ax = AxisNeuroid
		case slices.Contains(netcdfTimeDims, d):
			ax = AxisTimeBin
		case slices.Contains(netcdfRepetitionDims, d):
			ax = AxisRepetition
		case v.Shape[i] == 1:
			continue
		default:
			hint := ""
			if strings.HasPrefix(d, "phony_dim_") {
				hint = "; the file names no dimensions: write it with xarray, netCDF4 or h5netcdf, or attach HDF5 dimension scales"
			}
			return nil, fmt.Errorf("%s: dimension %q: expected one of presentation/stimulus, neuroid, time_bin, repetition (or length 1)%s", name, d, hint)
		}
		if j, dup := axis[ax]; dup {
			return nil, fmt.Errorf("%s: dimensions %q and %q are both the %s axis", name, v.Dims[j], d, ax)
		}
		axis[ax] = i
	}
	for _, ax := range []string{AxisStimulus, AxisNeuroid} {
		if _, ok := axis[ax]; !ok {
			return nil, fmt.Errorf("%s: dimensions %v: no %s dimension (expected one of %s)", name, v.Dims, ax,
				strings.Join(map[string][]string{AxisStimulus: netcdfStimulusDims, AxisNeuroid: netcdfNeuroidDims}[ax], ", "))
		}
	}
	coords, err := readCoords(f, v)
	if err != nil {
		return nil, err
	}
	size := func(ax string) int {
		if i, ok := axis[ax]; ok {
			return v.Shape[i]
		}
		return 1
	}
	P, N, T, Rd := size(AxisStimulus), size(AxisNeuroid), size(AxisTimeBin), size(AxisRepetition)
	pdim := v.Dims[axis[AxisStimulus]]
	ndim := v.Dims[axis[AxisNeuroid]]

	// stimuli: group presentation rows by id
	idCol := opts.StimulusID
	if idCol == "" {
		for _, c := range []string{"stimulus_id", "image_id", pdim} {
			if _, ok := coords[pdim][c]; ok {
				idCol = c
				break
			}
		}
	}
	var pids []string
	if idCol == "" {
		pids = NumberedIDs("", P)
	} else if col, ok := coords[pdim][idCol]; ok {
		pids = col
	} else {
		return nil, fmt.Errorf("%s: no coordinate %q along %q (have: %s)", name, idCol, pdim, strings.Join(sortedKeys(coords[pdim]), ", "))
	}
	rows := map[string][]int{}
	var stimuli []string
	for p, id := range pids {
		if _, ok := rows[id]; !ok {
			stimuli = append(stimuli, id)
		}
		rows[id] = append(rows[id], p)
	}
	if repCol, ok := coords[pdim]["repetition"]; ok {
		for _, id := range stimuli {
			slices.SortStableFunc(rows[id], func(a, b int) int { return compareLabels(repCol[a], repCol[b]) })
		}
	}
	perStim := 0
	for _, id := range stimuli {
		perStim = max(perStim, len(rows[id]))
	}
	R := perStim * Rd
	if R == 0 {
		R = 1
	}

	// neuroids and time bins
	neuroids := NumberedIDs("", N)
	for _, c := range []string{"neuroid_id", ndim} {
		if col, ok := coords[ndim][c]; ok {
			neuroids = col
			break
		}
	}
	bins := NumberedIDs("", T)
	if i, ok := axis[AxisTimeBin]; ok {
		td := v.Dims[i]
		st, ok1 := coords[td]["time_bin_start"]
		en, ok2 := coords[td]["time_bin_end"]
		if col, ok := coords[td][td]; ok {
			bins = col
		}
		if ok1 && ok2 {
			for t := range bins {
				bins[t] = st[t] + "-" + en[t]
			}
		}
	}

	// NaN padding grows the data when repetition counts are very unequal; refuse absurd sizes
	if total, ok := mulInts(len(stimuli), N, T, R); !ok || total > 1<<28 {
		return nil, fmt.Errorf("%s: %d stimuli x %d neuroids x %d time bins x %d repetitions (the most repeated stimulus has %d rows) is too large",
			name, len(stimuli), N, T, R, perStim)
	}
	a := New(stimuli, neuroids, bins, R)
	a.Name = name
	for id, col := range coords[ndim] {
		if id != "neuroid_id" && id != ndim {
			a.NeuroidMeta[id] = col
		}
	}
	for id, col := range coords[pdim] {
		if id == idCol {
			continue
		}
		vals := make([]string, len(stimuli))
		constant := true
		for s, sid := range stimuli {
			vals[s] = col[rows[sid][0]]
			for _, p := range rows[sid][1:] {
				constant = constant && col[p] == vals[s]
			}
		}
		if constant {
			a.StimulusMeta[id] = vals
		}
	}

	data, err := decodedValues(v)
	if err != nil {
		return nil, err
	}
	for i := range a.Data {
		a.Data[i] = math.NaN()
	}
	stride := make([]int, len(v.Shape))
	st := 1
	for i := len(v.Shape) - 1; i >= 0; i-- {
		stride[i] = st
		st *= v.Shape[i]
	}
	str := func(ax string) int {
		if i, ok := axis[ax]; ok {
			return stride[i]
		}
		return 0
	}
	sp, sn, stt, sr := str(AxisStimulus), str(AxisNeuroid), str(AxisTimeBin), str(AxisRepetition)
	for s, sid := range stimuli {
		for k, p := range rows[sid] {
			for n := 0; n < N; n++ {
				for t := 0; t < T; t++ {
					for r := 0; r < Rd; r++ {
						a.Set(s, n, t, k*Rd+r, data[p*sp+n*sn+t*stt+r*sr])
					}
				}
			}
		}
	}
	return a, a.Validate()
}

func pickDataVar(f *netcdf.File, base, want string) (*netcdf.Var, error) {
	if want != "" {
		return f.Var(want)
	}
	var cands []*netcdf.Var
	for _, v := range f.Vars {
		if len(v.Dims) >= 2 && v.Type != "char" && v.Type != "string" {
			cands = append(cands, v)
		}
	}
	if len(cands) == 1 {
		return cands[0], nil
	}
	var names []string
	for _, v := range cands {
		if v.Name == "data" || v.Name == "__xarray_dataarray_variable__" {
			return v, nil
		}
		names = append(names, v.Name)
	}
	if len(cands) == 0 {
		return nil, fmt.Errorf("%s: no numeric variable with two or more dimensions", base)
	}
	return nil, fmt.Errorf("%s: several data variables (%s): name one", base, strings.Join(names, ", "))
}

// readCoords returns, for each dimension of v, its 1-D variables as strings.
func readCoords(f *netcdf.File, v *netcdf.Var) (map[string]map[string][]string, error) {
	out := map[string]map[string][]string{}
	length := map[string]int{}
	for i, d := range v.Dims {
		out[d] = map[string][]string{}
		length[d] = v.Shape[i]
	}
	for _, c := range f.Vars {
		if c == v {
			continue
		}
		dims := c.Dims
		if c.Type == "char" && len(dims) == 2 {
			dims = dims[:1]
		}
		if len(dims) != 1 || out[dims[0]] == nil {
			continue
		}
		var vals []string
		switch c.Type {
		case "char", "string":
			s, err := c.Strings()
			if err != nil {
				return nil, err
			}
			vals = s
		default:
			x, err := decodedValues(c)
			if err != nil {
				return nil, err
			}
			vals = make([]string, len(x))
			for i, val := range x {
				vals[i] = strconv.FormatFloat(val, 'g', -1, 64)
			}
		}
		if len(vals) != length[dims[0]] {
			return nil, fmt.Errorf("%s: coordinate %q has %d values, %q has length %d in %q", f.Name, c.Name, len(vals), dims[0], length[dims[0]], v.Name)
		}
		out[dims[0]][c.Name] = vals
	}
	return out, nil
}

// decodedValues reads a numeric variable as xarray decodes it: fill and missing values to
// NaN, then scale_factor and add_offset.
func decodedValues(v *netcdf.Var) ([]float64, error) {
	x, err := v.Float64s()
	if err != nil {
		return nil, err
	}
	var missing []float64
	for _, k := range []string{"_FillValue", "missing_value"} {
		if a, ok := v.Attr(k); ok {
			missing = append(missing, a.Float64s()...)
		}
	}
	scale, offset := 1.0, 0.0
	if a, ok := v.Attr("scale_factor"); ok && len(a.Float64s()) == 1 {
		scale = a.Float64s()[0]
	}
	if a, ok := v.Attr("add_offset"); ok && len(a.Float64s()) == 1 {
		offset = a.Float64s()[0]
	}
	for i, val := range x {
		for _, m := range missing {
			if val == m {
				val = math.NaN()
			}
		}
		x[i] = val*scale + offset
	}
	return x, nil
}

// compareLabels orders numeric labels by value, others as text.
func compareLabels(a, b string) int {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 == nil && err2 == nil {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

func mulInts(n ...int) (int, bool) {
	p := 1
	for _, v := range n {
		if v < 0 || (v > 0 && p > math.MaxInt32/v) {
			return 0, false
		}
		p *= v
	}
	return p, true
}
