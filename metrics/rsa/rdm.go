// Package rsa implements representational similarity analysis (Kriegeskorte, Mur & Bandettini
// 2008, "Representational similarity analysis – connecting the branches of systems neuroscience",
// Front. Syst. Neurosci. 2:4), following the split of rsatoolbox (Nili et al. 2014, "A toolbox for
// representational similarity analysis", PLoS Comput. Biol. 10:e1003553; Schütt et al. 2023):
//
//	data (stimuli x features) -> RDM (FromPatterns, Crossnobis) -> comparison (Compare)
//	-> inference (NoiseCeiling, Bootstrap, BootstrapTest)
//
// An RDM is stored as its condensed upper triangle (row-major over i<j, as scipy's squareform).
// Comparisons use only the upper triangle. Cross-validated distances follow Walther et al. 2016
// ("Reliability of dissimilarity measures for multi-voxel pattern analysis", NeuroImage 137:188).
package rsa

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// RDM is a representational dissimilarity matrix: n x n, symmetric, zero diagonal, stored as
// the condensed upper triangle. Labels (stimulus ids, one per row) are optional.
type RDM struct {
	n      int
	vec    []float64
	Labels []string
}

// condIndex is the position of (i, j), i < j, in the condensed upper triangle.
func condIndex(n, i, j int) int { return i*n - i*(i+1)/2 + j - i - 1 }

// NewRDM validates a full dissimilarity matrix (square, symmetric within a relative tolerance of
// 1e-8, zero diagonal, no NaN or Inf) and stores its upper triangle. labels may be nil.
func NewRDM(full mat.Matrix, labels []string) (*RDM, error) {
	r, c := full.Dims()
	if r != c {
		return nil, fmt.Errorf("rsa: RDM %dx%d is not square", r, c)
	}
	if labels != nil && len(labels) != r {
		return nil, fmt.Errorf("rsa: RDM %dx%d has %d labels", r, c, len(labels))
	}
	n := r
	out := &RDM{n: n, vec: make([]float64, n*(n-1)/2), Labels: labels}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			v := full.At(i, j)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("rsa: RDM has non-finite value %v at (%d,%d)", v, i, j)
			}
		}
		if d := full.At(i, i); math.Abs(d) > 1e-8 {
			return nil, fmt.Errorf("rsa: RDM diagonal is not zero at (%d,%d): %v", i, i, d)
		}
		for j := i + 1; j < n; j++ {
			a, b := full.At(i, j), full.At(j, i)
			tol := 1e-8 * math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
			if math.Abs(a-b) > tol {
				return nil, fmt.Errorf("rsa: RDM not symmetric at (%d,%d): %v vs %v", i, j, a, b)
			}
			out.vec[condIndex(n, i, j)] = (a + b) / 2
		}
	}
	return out, nil
}

// NewRDMFromVector builds an RDM from its condensed upper triangle (length n(n-1)/2, the order
// of scipy.spatial.distance.pdist). The slice is copied.
func NewRDMFromVector(vec []float64, labels []string) (*RDM, error) {
	m := len(vec)
	n := int((1 + math.Sqrt(1+8*float64(m))) / 2)
	if n*(n-1)/2 != m {
		return nil, fmt.Errorf("rsa: condensed RDM length %d is not n(n-1)/2 for any n", m)
	}
	if m == 0 {
		n = 1
		if labels != nil {
			n = len(labels)
		}
		if n > 1 {
			return nil, fmt.Errorf("rsa: empty condensed RDM with %d labels", n)
		}
	}
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("rsa: RDM %dx%d has %d labels", n, n, len(labels))
	}
	for k, v := range vec {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("rsa: condensed RDM has non-finite value %v at %d", v, k)
		}
	}
	return &RDM{n: n, vec: append([]float64(nil), vec...), Labels: labels}, nil
}

// N returns the number of stimuli.
func (r *RDM) N() int { return r.n }

// At returns the dissimilarity of stimuli i and j (0 on the diagonal).
func (r *RDM) At(i, j int) float64 {
	if i == j {
		return 0
	}
	if i > j {
		i, j = j, i
	}
	return r.vec[condIndex(r.n, i, j)]
}

// Vector returns a copy of the condensed upper triangle.
func (r *RDM) Vector() []float64 { return append([]float64(nil), r.vec...) }

// Dense returns the full n x n matrix.
func (r *RDM) Dense() *mat.Dense {
	d := mat.NewDense(r.n, r.n, nil)
	for i := 0; i < r.n; i++ {
		for j := i + 1; j < r.n; j++ {
			v := r.vec[condIndex(r.n, i, j)]
			d.Set(i, j, v)
			d.Set(j, i, v)
		}
	}
	return d
}
