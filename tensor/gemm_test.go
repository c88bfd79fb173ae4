package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = r.Float32()*2 - 1
	}
	return s
}

// checkGemmCase runs Sgemm and the reference on the same inputs and compares every element of C,
// including the padding between rows (which must be left untouched).
func checkGemmCase(t *testing.T, r *rand.Rand, ta, tb bool, m, n, k int, alpha, beta float32, pad int) {
	t.Helper()
	ar, ac := m, k
	if ta {
		ar, ac = k, m
	}
	br, bc := k, n
	if tb {
		br, bc = n, k
	}
	lda, ldb, ldc := ac+r.IntN(pad+1), bc+r.IntN(pad+1), n+r.IntN(pad+1)
	lda, ldb, ldc = max(lda, 1), max(ldb, 1), max(ldc, 1)
	a := randSlice(r, max(ar*lda, 1))
	b := randSlice(r, max(br*ldb, 1))
	c0 := randSlice(r, max(m*ldc, 1))
	got := append([]float32(nil), c0...)
	want := append([]float32(nil), c0...)
	if beta == 0 {
		// C must not be read: fill the matrix part with NaN.
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				got[i*ldc+j] = float32(math.NaN())
			}
		}
	}
	Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, got, ldc)
	sgemmRef(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, want, ldc)
	tol := 1e-5 * float64(k+2) * float64(max(abs32(alpha), 1)+abs32(beta))
	for i := range want {
		d := math.Abs(float64(got[i] - want[i]))
		if d > tol || math.IsNaN(float64(got[i])) {
			t.Fatalf("ta=%v tb=%v m=%d n=%d k=%d alpha=%g beta=%g lda=%d ldb=%d ldc=%d: c[%d,%d]=%g want %g",
				ta, tb, m, n, k, alpha, beta, lda, ldb, ldc, i/ldc, i%ldc, got[i], want[i])
		}
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

func forKernels(t *testing.T, f func(t *testing.T)) {
	forEachLevel(t, func(t *testing.T, _ KernelLevel) { f(t) })
}

func TestSgemmRandom(t *testing.T) {
	forKernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(1, 2))
		alphas := []float32{1, -0.5, 2}
		betas := []float32{0, 1, 0.25}
		for it := 0; it < 300; it++ {
			m, n, k := 1+r.IntN(40), 1+r.IntN(50), 1+r.IntN(40)
			checkGemmCase(t, r, r.IntN(2) == 1, r.IntN(2) == 1, m, n, k, alphas[r.IntN(3)], betas[r.IntN(3)], 5)
		}
	})
}

func TestSgemmShapes(t *testing.T) {
	defer SetThreads(0)
	r := rand.New(rand.NewPCG(3, 4))
	shapes := [][3]int{
		{1, 1, 1}, {1, 7, 1}, {7, 1, 3}, {6, 16, 1}, {6, 16, 5}, {5, 15, 4}, {7, 17, 9},
		{6, 784, 25}, {16, 100, 150}, {13, 37, 300}, {121, 33, 257}, {130, 200, 513},
		{64, 256, 576}, {250, 3100, 20}, {3, 5000, 7},
	}
	// Every shape runs every transpose combination once, on 1, 2 or 3 threads in rotation.
	for si, s := range shapes {
		for combo := 0; combo < 4; combo++ {
			SetThreads(1 + (si+combo)%3)
			ta, tb := combo&1 == 1, combo&2 == 2
			checkGemmCase(t, r, ta, tb, s[0], s[1], s[2], 1.5, 0, 3)
			if s[0]*s[1]*s[2] < 1<<20 {
				checkGemmCase(t, r, ta, tb, s[0], s[1], s[2], -1, 0.5, 0)
			}
		}
	}
}

func TestSgemmDegenerate(t *testing.T) {
	// k == 0 and alpha == 0 only scale C; beta == 0 clears NaN.
	c := []float32{float32(math.NaN()), 2, 3, 4}
	Sgemm(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	for _, v := range c {
		if v != 0 {
			t.Fatalf("k=0 beta=0: %v", c)
		}
	}
	c = []float32{1, 2, 3, 4}
	a := []float32{1, 1, 1, 1}
	Sgemm(false, false, 2, 2, 2, 0, a, 2, a, 2, 2, c, 2)
	if c[3] != 8 {
		t.Fatalf("alpha=0 beta=2: %v", c)
	}
	Sgemm(false, false, 0, 5, 3, 1, nil, 3, nil, 5, 0, nil, 5)
}

func TestSgemmNoAlloc(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a, b, c := randSlice(r, 6*25), randSlice(r, 25*784), make([]float32, 6*784)
	Sgemm(false, false, 6, 784, 25, 1, a, 25, b, 784, 0, c, 784)
	n := testing.AllocsPerRun(20, func() {
		Sgemm(false, false, 6, 784, 25, 1, a, 25, b, 784, 0, c, 784)
	})
	if n > 0 {
		t.Fatalf("%v allocations per small Sgemm", n)
	}
}

// TestSgemmSkinny covers the paths for few rows of C against a B larger than L2 (dense layers at
// small batch): B read in place with a non-aliasing row stride (gemmSkinny, with an N edge and
// several k blocks) and packed with the next block prefetched (row stride a multiple of 128),
// on every kernel level and on 1 and 2 threads.
func TestSgemmSkinny(t *testing.T) {
	defer SetThreads(0)
	forKernels(t, func(t *testing.T) {
		r := rand.New(rand.NewPCG(7, 8))
		for _, s := range [][3]int{{16, 300, 500}, {7, 1000, 140}, {24, 1030, 130}, {16, 512, 260}, {6, 1024, 300}, {13, 256, 1100}} {
			for th := 1; th <= 2; th++ {
				SetThreads(th)
				checkGemmCase(t, r, false, false, s[0], s[1], s[2], 1, 0, 0)
				checkGemmCase(t, r, true, false, s[0], s[1], s[2], -0.5, 0.25, 0)
			}
		}
	})
}

// A column of C does not depend on how many columns share the GEMM: a sample's activations are
// the same in any batch (the skinny paths, chosen by n, once split k differently and moved
// LeNet-5's scores with the batch size). Bit for bit, at every level, on 1 and 2 threads.
func TestSgemmColumnsIndependentOfN(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	defer SetThreads(0)
	for range eachLevel(t) {
		for _, threads := range []int{1, 2} {
			SetThreads(threads)
			for _, s := range [][2]int{{6, 150}, {16, 150}, {16, 600}, {24, 300}, {16, 4096}, {64, 576}} {
				m, k := s[0], s[1]
				n := 3000
				a, b := make([]float32, m*k), make([]float32, k*n)
				for i := range a {
					a[i] = float32(r.NormFloat64())
				}
				for i := range b {
					b[i] = float32(r.NormFloat64())
				}
				full := make([]float32, m*n)
				Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, full, n)
				for _, part := range [][2]int{{0, 100}, {37, 53}, {2000, 1000}} {
					j0, nn := part[0], part[1]
					c := make([]float32, m*nn)
					Sgemm(false, false, m, nn, k, 1, a, k, b[j0:], n, 0, c, nn)
					for i := 0; i < m; i++ {
						for j := 0; j < nn; j++ {
							if c[i*nn+j] != full[i*n+j0+j] {
								t.Fatalf("%s, %d threads, %dx%dx%d: C[%d,%d] is %v computed with %d columns, %v with %d",
									CurrentKernelLevel(), threads, m, n, k, i, j0+j, c[i*nn+j], nn, full[i*n+j0+j], n)
							}
						}
					}
				}
			}
		}
	}
}
