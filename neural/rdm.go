package neural

import (
	"fmt"
	"math"
	"slices"
)

// RDMSet is a set of representational dissimilarity matrices over the same N stimuli, for
// data that come as RDMs rather than responses (Kriegeskorte et al. 2008). Each RDM is a
// row-major N x N symmetric matrix.
type RDMSet struct {
	Name    string
	Stimuli []string    // stimulus ids of the rows, length N (default "1".."N", the file's order)
	Names   []string    // one name per RDM (e.g. "monkey IT", "RDMs(1,2,1)")
	RDMs    [][]float64 // each N*N, row-major
	// Meta holds per-RDM metadata columns (for 92_brainRDMs.mat: subject, session).
	Meta map[string][]string
}

// N is the number of stimuli.
func (r *RDMSet) N() int { return len(r.Stimuli) }

// Len is the number of RDMs.
func (r *RDMSet) Len() int { return len(r.RDMs) }

// SymmetryTolerance is the largest |d[i][j] - d[j][i]| (relative to the largest |d|) accepted
// as symmetric.
const SymmetryTolerance = 1e-6

// Validate checks that every RDM is N x N, finite and symmetric, and that names and metadata
// have one entry per RDM.
func (r *RDMSet) Validate() error {
	n := r.N()
	if len(r.Names) != len(r.RDMs) {
		return fmt.Errorf("neural: RDM set %q: %d names for %d RDMs", r.Name, len(r.Names), len(r.RDMs))
	}
	for k, v := range r.Meta {
		if len(v) != len(r.RDMs) {
			return fmt.Errorf("neural: RDM set %q: metadata %q has %d values for %d RDMs", r.Name, k, len(v), len(r.RDMs))
		}
	}
	for i, d := range r.RDMs {
		if err := checkRDM(d, n); err != nil {
			return fmt.Errorf("neural: RDM set %q: RDM %q: %w", r.Name, r.Names[i], err)
		}
	}
	return nil
}

func checkRDM(d []float64, n int) error {
	if len(d) != n*n {
		return fmt.Errorf("has %d values, expected %d x %d", len(d), n, n)
	}
	maxAbs := 0.0
	for _, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("non-finite dissimilarity %v", v)
		}
		maxAbs = max(maxAbs, math.Abs(v))
	}
	tol := SymmetryTolerance * max(maxAbs, 1e-300)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if math.Abs(d[i*n+j]-d[j*n+i]) > tol {
				return fmt.Errorf("not symmetric: d[%d,%d] = %g but d[%d,%d] = %g", i+1, j+1, d[i*n+j], j+1, i+1, d[j*n+i])
			}
		}
	}
	return nil
}

// Get returns the RDM with the given name.
func (r *RDMSet) Get(name string) ([]float64, error) {
	for i, nm := range r.Names {
		if nm == name {
			return r.RDMs[i], nil
		}
	}
	return nil, fmt.Errorf("neural: RDM set %q has no RDM named %q (names: %s)", r.Name, name, few(r.Names))
}

// UpperTriangle returns the N(N-1)/2 entries above the diagonal of RDM i, row by row.
func (r *RDMSet) UpperTriangle(i int) []float64 { return UpperTriangle(r.RDMs[i], r.N()) }

// UpperTriangle returns the entries above the diagonal of a row-major n x n matrix, row by row.
func UpperTriangle(d []float64, n int) []float64 {
	out := make([]float64, 0, n*(n-1)/2)
	for i := 0; i < n; i++ {
		out = append(out, d[i*n+i+1:(i+1)*n]...)
	}
	return out
}

// Mean returns the element-wise mean RDM.
func (r *RDMSet) Mean() []float64 {
	n := r.N()
	out := make([]float64, n*n)
	for _, d := range r.RDMs {
		for i, v := range d {
			out[i] += v
		}
	}
	for i := range out {
		out[i] /= float64(len(r.RDMs))
	}
	return out
}

// Select returns the RDMs at the given indices.
func (r *RDMSet) Select(idx []int) *RDMSet {
	out := &RDMSet{Name: r.Name, Stimuli: slices.Clone(r.Stimuli), Meta: map[string][]string{}}
	for _, i := range idx {
		out.Names = append(out.Names, r.Names[i])
		out.RDMs = append(out.RDMs, r.RDMs[i])
	}
	for k, v := range r.Meta {
		for _, i := range idx {
			out.Meta[k] = append(out.Meta[k], v[i])
		}
	}
	return out
}

// AlignStimuli reorders rows and columns of every RDM to the order of ids; the error wraps
// ErrStimulusMismatch when the id sets differ.
func (r *RDMSet) AlignStimuli(ids []string) (*RDMSet, error) {
	perm, err := alignIDs("RDM set "+r.Name, r.Stimuli, ids)
	if err != nil {
		return nil, err
	}
	n, m := r.N(), len(ids)
	out := &RDMSet{Name: r.Name, Stimuli: slices.Clone(ids), Names: slices.Clone(r.Names), Meta: r.Meta}
	for _, d := range r.RDMs {
		nd := make([]float64, m*m)
		for i, pi := range perm {
			for j, pj := range perm {
				nd[i*m+j] = d[pi*n+pj]
			}
		}
		out.RDMs = append(out.RDMs, nd)
	}
	return out, nil
}
