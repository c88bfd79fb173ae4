package benchmarks

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/ventral-lab/ventral/neural"
	"github.com/ventral-lab/ventral/stimuli"
)

// NewOptions describe the files a starting spec is written for (NewSpec).
type NewOptions struct {
	// Stimuli is a folder, .zip, .npy, .npz or .mat of images; Data the responses (.npy, .npz,
	// .mat with Variable, or .csv).
	Stimuli, Data, Variable string
	// Dims names the data array's axes (default: guessed, see NewSpec).
	Dims []string
	// Name, Region and Metric (pls, ridge needs a split and is not offered; rsa) of the new
	// benchmark; defaults: the data file's name, "IT", pls.
	Name, Region, Metric string
	// Out is where the spec will be written: paths in it are made relative to its folder
	// (when the files are at most two folders up).
	Out string
}

// NewSpec writes a starting spec for a stimulus file and a data file, and checks it as Check
// does (a spec it returns can be scored). Without Dims an array's axes are guessed: the axis
// whose length is the number of stimuli is the stimulus axis; of the others, the first is the
// neuroid axis and a third is the repetition axis (the layout of NaN-padded recordings such
// as neuroid x stimulus x repetition); the guess is stated in the spec's description. Array
// rows are matched to the stimuli by order. The ceiling is split-half when the data have
// repetitions, else none. The citation is left for the author to fill in.
func NewSpec(o NewOptions) (*Spec, *CheckReport, error) {
	if o.Stimuli == "" || o.Data == "" {
		return nil, nil, fmt.Errorf("a new spec needs a stimulus file and a data file")
	}
	set, err := stimuli.Open(o.Stimuli, stimuli.OpenOptions{})
	if err != nil {
		return nil, nil, err
	}
	S := set.Len()
	set.Close()
	if o.Metric == "" {
		o.Metric = "pls"
	}
	if o.Metric != "pls" && o.Metric != "rsa" {
		return nil, nil, fmt.Errorf("metric %q: a new spec offers pls or rsa (ridge needs a shipped train/test split)", o.Metric)
	}
	if o.Region == "" {
		o.Region = "IT"
	}
	base := strings.TrimSuffix(filepath.Base(o.Data), filepath.Ext(o.Data))
	if o.Name == "" {
		o.Name = base + "-" + o.Metric
	}
	s := &Spec{Name: o.Name, Version: 1, Citation: "fill in: the data's publication", Region: o.Region}
	rel := func(p string) string {
		if o.Out == "" {
			return p
		}
		abs, err1 := filepath.Abs(p)
		dir, err2 := filepath.Abs(filepath.Dir(o.Out))
		if err1 != nil || err2 != nil {
			return p
		}
		// Relative when the data sit beside or at most two folders above the spec, so the
		// folder can move as a whole; absolute otherwise.
		if r, err := filepath.Rel(dir, abs); err == nil && !strings.HasPrefix(r, filepath.Join("..", "..", "..")) {
			return r
		}
		return abs
	}
	s.Stimuli = StimuliSpec{Path: rel(o.Stimuli)}
	s.Data = DataSpec{Kind: "assembly", Path: rel(o.Data), Variable: o.Variable}
	ext := strings.ToLower(filepath.Ext(o.Data))
	reps := 1
	var guess string
	switch ext {
	case ".csv", ".nc", ".nc4", ".cdf", ".h5", ".hdf5":
		// CSV names its columns and a NetCDF/HDF5 assembly its dimensions: no dims to give.
		if len(o.Dims) > 0 {
			return nil, nil, fmt.Errorf("%s: a CSV or NetCDF/HDF5 assembly names its own axes; dims apply to .npy, .npz and .mat arrays", o.Data)
		}
		a, err := neural.ReadFile(o.Data, "", false)
		if err != nil {
			return nil, nil, err
		}
		reps = a.Reps
	case ".npy", ".npz", ".mat":
		_, shape, err := neural.ReadArray(o.Data, o.Variable)
		if err != nil {
			return nil, nil, err
		}
		dims := o.Dims
		if len(dims) == 0 {
			if dims, err = guessDims(o.Data, shape, S); err != nil {
				return nil, nil, err
			}
			guess = fmt.Sprintf(" The data's axes %v were guessed as %v from the %d stimuli: check them.", shape, dims, S)
		}
		s.Data.Dims = dims
		s.Data.StimulusIDs = "order"
		for i, d := range dims {
			if d == neural.AxisRepetition && i < len(shape) {
				reps = shape[i]
			}
		}
	default:
		if len(o.Dims) > 0 {
			return nil, nil, fmt.Errorf("%s: dims apply to .npy, .npz and .mat arrays", o.Data)
		}
	}
	s.Description = fmt.Sprintf("Written by ventral benchmark new for %s and %s.%s", filepath.Base(o.Stimuli), filepath.Base(o.Data), guess)
	s.Metric = MetricSpec{Type: o.Metric}
	if o.Metric == "pls" {
		s.Metric.Folds = min(10, max(2, S/4))
		s.Metric.Components = min(25, max(1, S/2*(s.Metric.Folds-1)/s.Metric.Folds/2))
	}
	switch {
	case reps >= 2 && o.Metric == "pls":
		s.Ceiling = CeilingSpec{Type: "split-half"}
	case reps >= 2:
		s.Ceiling = CeilingSpec{Type: "none", Note: "metric rsa takes no split-half ceiling; give per-subject RDMs for rsa-noise-ceiling"}
	default:
		s.Ceiling = CeilingSpec{Type: "none", Note: "The data have no repetitions, so no split-half ceiling can be computed: scores are raw."}
	}
	if err := s.Validate(); err != nil {
		return nil, nil, fmt.Errorf("new spec: %w", err)
	}
	if o.Out != "" {
		s.dir = filepath.Dir(o.Out)
	}
	check, err := Check(s)
	if err != nil {
		return nil, nil, err
	}
	if !check.OK() {
		return s, check, fmt.Errorf("the new spec does not check: %s", strings.Join(check.Problems, "; "))
	}
	return s, check, nil
}

// guessDims names an array's axes from the number of stimuli (see NewSpec).
func guessDims(file string, shape []int, S int) ([]string, error) {
	for len(shape) > 2 && shape[len(shape)-1] == 1 {
		shape = shape[:len(shape)-1]
	}
	var at []int
	for i, d := range shape {
		if d == S {
			at = append(at, i)
		}
	}
	if len(at) != 1 {
		return nil, fmt.Errorf("%s: shape %v has %d axes of length %d (the number of stimuli): give dims", filepath.Base(file), shape, len(at), S)
	}
	if len(shape) < 2 || len(shape) > 3 {
		return nil, fmt.Errorf("%s: shape %v: give dims for arrays of other than 2 or 3 axes", filepath.Base(file), shape)
	}
	dims := make([]string, len(shape))
	rest := []string{neural.AxisNeuroid, neural.AxisRepetition}
	for i := range shape {
		if i == at[0] {
			dims[i] = neural.AxisStimulus
			continue
		}
		dims[i], rest = rest[0], rest[1:]
	}
	return dims, nil
}
