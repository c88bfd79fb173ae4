package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// forceStreamNT makes SgemmNT stream W for every shape (the tests use small weights) until the
// returned function restores the threshold.
func forceStreamNT() func() {
	saved := streamNTMinW
	streamNTMinW = 0
	return func() { streamNTMinW = saved }
}

// SgemmNT against a float64 reference: every kernel level, 1 and 2 threads, edges in m (tiles of
// 16 and 8 rows of A, zero-padded), n (W rows past the 6-row blocks) and k (several segments and a
// short last one), beta 0 (C holding NaN), 1 and another value; the padding of C is left alone.
// One shape is above the real threshold, unforced.
func TestSgemmNT(t *testing.T) {
	defer SetThreads(0)
	r := rand.New(rand.NewPCG(51, 52))
	shapes := [][3]int{{1, 4, 8}, {2, 5, 9}, {3, 4, 300}, {4, 7, 17}, {5, 130, 520}, {16, 257, 777}, {7, 9, 3}, {17, 1029, 2100}}
	for range eachLevel(t) {
		for _, threads := range []int{1, 2} {
			SetThreads(threads)
			for si, s := range shapes {
				m, n, k := s[0], s[1], s[2]
				restore := func() {}
				if si < len(shapes)-1 {
					restore = forceStreamNT()
				} else if k*n < streamNTMinW {
					t.Fatalf("shape %v is meant to be above the threshold %d", s, streamNTMinW)
				}
				for _, beta := range []float32{0, 1, -0.5} {
					lda, ldw, ldc := k+2, k+1, n+3
					a, wt := randSlice(r, m*lda), randSlice(r, n*ldw)
					c := randSlice(r, m*ldc)
					c0 := append([]float32(nil), c...)
					if beta == 0 {
						for i := 0; i < m; i++ {
							for j := 0; j < n; j++ {
								c[i*ldc+j] = float32(math.NaN())
							}
						}
					}
					SgemmNT(m, n, k, a, lda, wt, ldw, beta, c, ldc)
					for i := 0; i < m; i++ {
						for j := 0; j < ldc; j++ {
							got := c[i*ldc+j]
							if j >= n {
								if got != c0[i*ldc+j] {
									t.Fatalf("%s %d threads %v: padding C[%d,%d] changed", CurrentKernelLevel(), threads, s, i, j)
								}
								continue
							}
							want := float64(beta) * float64(c0[i*ldc+j])
							for p := 0; p < k; p++ {
								want += float64(a[i*lda+p]) * float64(wt[j*ldw+p])
							}
							if d := math.Abs(float64(got) - want); !(d <= 1e-5*math.Sqrt(float64(k))*4) {
								t.Fatalf("%s %d threads %v beta=%g: C[%d,%d] = %v, want %v", CurrentKernelLevel(), threads, s, beta, i, j, got, want)
							}
						}
					}
				}
				restore()
			}
		}
	}
}

// A row of C (a sample's outputs) does not depend on how many rows share the product: bit for bit
// the same at any m, at every level, on 1 and 2 threads (m = 40 on 2 threads is the reference;
// other batches at other offsets put the row in a 16- or an 8-row tile at another position, and
// batches above 32 take shorter k segments).
func TestSgemmNTRowsIndependentOfM(t *testing.T) {
	defer SetThreads(0)
	defer forceStreamNT()()
	r := rand.New(rand.NewPCG(53, 54))
	for range eachLevel(t) {
		for _, s := range [][2]int{{1030, 523}, {515, 2048}, {2048, 300}} {
			n, k := s[0], s[1]
			const m = 40
			a, w := randSlice(r, m*k), randSlice(r, n*k)
			SetThreads(2)
			full := make([]float32, m*n)
			SgemmNT(m, n, k, a, k, w, k, 0, full, n)
			for _, threads := range []int{1, 2} {
				SetThreads(threads)
				for _, part := range [][2]int{{0, 40}, {0, 1}, {39, 1}, {4, 2}, {7, 5}, {1, 3}, {9, 4}, {2, 17}, {0, 16}, {5, 9}, {3, 33}} {
					i0, mm := part[0], part[1]
					c := make([]float32, mm*n)
					SgemmNT(mm, n, k, a[i0*k:], k, w, k, 0, c, n)
					for i := 0; i < mm; i++ {
						for j := 0; j < n; j++ {
							if c[i*n+j] != full[(i0+i)*n+j] {
								t.Fatalf("%s, %d threads, n=%d k=%d: C[%d,%d] is %v computed with %d rows, %v with %d on 2 threads",
									CurrentKernelLevel(), threads, n, k, i0+i, j, c[i*n+j], mm, full[(i0+i)*n+j], m)
							}
						}
					}
				}
			}
		}
	}
}
