package rsa

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/ventral-lab/ventral/metrics/stats"
)

// Distance names a dissimilarity measure between two stimulus patterns (rows).
type Distance string

const (
	// Correlation is 1 - Pearson r between the two rows (scipy's 'correlation').
	Correlation Distance = "correlation"
	// Cosine is 1 - cosine similarity of the two rows (scipy's 'cosine').
	Cosine Distance = "cosine"
	// Euclidean is the Euclidean norm of the difference (scipy's 'euclidean').
	Euclidean Distance = "euclidean"
	// SquaredEuclidean is the sum of squared differences (scipy's 'sqeuclidean').
	SquaredEuclidean Distance = "sqeuclidean"
)

// FromPatterns computes the RDM of patterns (stimuli x features) under distance d. All four
// measures come from one Gram matrix G = Z Zᵀ (a single GEMM) of the rows Z after centring and
// normalising (correlation), normalising (cosine) or as given (Euclidean: |a|²+|b|²-2a·b, clamped
// at zero). A constant row (correlation) or zero row (cosine) is an error.
func FromPatterns(patterns *mat.Dense, d Distance, labels []string) (*RDM, error) {
	n, p := patterns.Dims()
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("rsa: %d patterns but %d labels", n, len(labels))
	}
	if i, j, bad := stats.HasNaN(patterns); bad {
		return nil, fmt.Errorf("rsa: patterns have non-finite value at (%d,%d)", i, j)
	}
	z := mat.DenseCopyOf(patterns)
	switch d {
	case Correlation, Cosine:
		for i := 0; i < n; i++ {
			row := z.RawRowView(i)
			if d == Correlation {
				var m float64
				for _, v := range row {
					m += v
				}
				m /= float64(p)
				for k := range row {
					row[k] -= m
				}
			}
			var ss float64
			for _, v := range row {
				ss += v * v
			}
			if ss == 0 {
				what := "zero"
				if d == Correlation {
					what = "constant"
				}
				return nil, fmt.Errorf("rsa: %s distance undefined: pattern %d is %s", d, i, what)
			}
			s := 1 / math.Sqrt(ss)
			for k := range row {
				row[k] *= s
			}
		}
	case Euclidean, SquaredEuclidean:
	default:
		return nil, fmt.Errorf("rsa: unknown distance %q", d)
	}
	var g mat.Dense
	g.Mul(z, z.T())
	out := &RDM{n: n, vec: make([]float64, n*(n-1)/2), Labels: labels}
	k := 0
	for i := 0; i < n; i++ {
		gi := g.RawRowView(i)
		for j := i + 1; j < n; j++ {
			var v float64
			switch d {
			case Correlation, Cosine:
				v = 1 - gi[j]
			default:
				v = gi[i] + g.At(j, j) - 2*gi[j]
				if v < 0 {
					v = 0
				}
				if d == Euclidean {
					v = math.Sqrt(v)
				}
			}
			out.vec[k] = v
			k++
		}
	}
	return out, nil
}

// Crossnobis computes the cross-validated squared Mahalanobis (crossnobis) RDM of Walther et al.
// 2016 from K >= 2 independent partitions (runs), each stimuli x features in the same stimulus
// order:
//
//	d(i,j) = 1/(K(K-1)) Σ_{k≠l} (b_i^k - b_j^k) Λ (b_i^l - b_j^l)ᵀ / p
//
// where Λ is the noise precision matrix (p x p; nil means the identity, giving the cross-validated
// squared Euclidean distance) and p the number of features (the per-feature normalisation that
// rsatoolbox's calc_rdm uses). Because noise is independent across partitions the estimate is
// unbiased, so distances can be negative. Computed as G = (S Λ Sᵀ - Σ_k B_k Λ B_kᵀ)/(K(K-1)) with
// S = Σ_k B_k, and d(i,j) = (G_ii + G_jj - G_ij - G_ji)/p.
func Crossnobis(runs []*mat.Dense, noisePrecision *mat.Dense, labels []string) (*RDM, error) {
	if len(runs) < 2 {
		return nil, fmt.Errorf("rsa: crossnobis needs at least 2 partitions, got %d", len(runs))
	}
	n, p := runs[0].Dims()
	if labels != nil && len(labels) != n {
		return nil, fmt.Errorf("rsa: %d patterns but %d labels", n, len(labels))
	}
	sum := mat.NewDense(n, p, nil)
	for k, b := range runs {
		r, c := b.Dims()
		if r != n || c != p {
			return nil, fmt.Errorf("rsa: crossnobis partition %d is %dx%d, partition 0 is %dx%d", k, r, c, n, p)
		}
		if i, j, bad := stats.HasNaN(b); bad {
			return nil, fmt.Errorf("rsa: crossnobis partition %d has non-finite value at (%d,%d)", k, i, j)
		}
		sum.Add(sum, b)
	}
	if noisePrecision != nil {
		r, c := noisePrecision.Dims()
		if r != p || c != p {
			return nil, fmt.Errorf("rsa: noise precision is %dx%d, want %dx%d", r, c, p, p)
		}
	}
	gram := func(a *mat.Dense) *mat.Dense {
		var g mat.Dense
		if noisePrecision == nil {
			g.Mul(a, a.T())
		} else {
			var al mat.Dense
			al.Mul(a, noisePrecision)
			g.Mul(&al, a.T())
		}
		return &g
	}
	g := gram(sum)
	for _, b := range runs {
		g.Sub(g, gram(b))
	}
	K := float64(len(runs))
	g.Scale(1/(K*(K-1)*float64(p)), g)
	out := &RDM{n: n, vec: make([]float64, n*(n-1)/2), Labels: labels}
	k := 0
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			out.vec[k] = g.At(i, i) + g.At(j, j) - g.At(i, j) - g.At(j, i)
			k++
		}
	}
	return out, nil
}
