package benchmarks

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The pivoted Cholesky factor of a rank-5 Gram matrix of 40 points has 5 columns and
// reproduces the matrix; a zero matrix has none.
func TestPivotedCholesky(t *testing.T) {
	const n, rank, f = 40, 5, 9
	rng := rand.New(rand.NewPCG(1, 2))
	B := make([]float64, n*rank)
	for i := range B {
		B[i] = rng.NormFloat64()
	}
	Z := make([]float64, n*f) // Z = B W: rank 5 with 9 features
	W := make([]float64, rank*f)
	for i := range W {
		W[i] = rng.NormFloat64()
	}
	for i := 0; i < n; i++ {
		for c := 0; c < f; c++ {
			for k := 0; k < rank; k++ {
				Z[i*f+c] += B[i*rank+k] * W[k*f+c]
			}
		}
	}
	K := make([]float64, n*n)
	top := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			for c := 0; c < f; c++ {
				K[i*n+j] += Z[i*f+c] * Z[j*f+c]
			}
			top = math.Max(top, math.Abs(K[i*n+j]))
		}
	}
	X := pivotedCholesky(K, n, 1e-9)
	if _, r := X.Dims(); r != rank {
		t.Fatalf("rank %d, want %d", r, rank)
	}
	worst := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var v float64
			for k := 0; k < rank; k++ {
				v += X.At(i, k) * X.At(j, k)
			}
			worst = math.Max(worst, math.Abs(v-K[i*n+j]))
		}
	}
	if worst > 1e-9*top {
		t.Errorf("max |L Lᵀ - K| = %.3g (K up to %.3g)", worst, top)
	}
	if pivotedCholesky(make([]float64, n*n), n, 1e-9) != nil {
		t.Error("a zero matrix has a factor")
	}
}
