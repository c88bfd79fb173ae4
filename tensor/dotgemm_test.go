package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSgemmABt(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for avx := range eachLevel(t) {
		for _, c := range []struct{ m, n, k int }{{1, 1, 1}, {3, 4, 8}, {6, 25, 1568}, {16, 150, 2000}, {7, 9, 13}, {5, 6, 300}, {32, 288, 520}} {
			lda, ldb, ldc := c.k+3, c.k+1, c.n+2
			a := make([]float32, c.m*lda)
			b := make([]float32, c.n*ldb)
			cm := make([]float32, c.m*ldc)
			for i := range a {
				a[i] = float32(rng.NormFloat64())
			}
			for i := range b {
				b[i] = float32(rng.NormFloat64())
			}
			for i := range cm {
				cm[i] = float32(rng.NormFloat64())
			}
			want := append([]float32(nil), cm...)
			SgemmABt(c.m, c.n, c.k, a, lda, b, ldb, cm, ldc)
			for i := 0; i < c.m; i++ {
				for j := 0; j < c.n; j++ {
					s := float64(want[i*ldc+j])
					for p := 0; p < c.k; p++ {
						s += float64(a[i*lda+p]) * float64(b[j*ldb+p])
					}
					if math.Abs(float64(cm[i*ldc+j])-s) > 1e-4*math.Sqrt(float64(c.k)) {
						t.Fatalf("%+v avx=%v: c[%d,%d] = %v, want %v", c, avx, i, j, cm[i*ldc+j], s)
					}
				}
				for j := c.n; j < ldc && i < c.m; j++ {
					if cm[i*ldc+j] != want[i*ldc+j] {
						t.Fatalf("%+v: padding c[%d,%d] changed", c, i, j)
					}
				}
			}
		}
	}
}
