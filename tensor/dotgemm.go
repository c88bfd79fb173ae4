package tensor

// SgemmABt accumulates C += A·Bᵀ, where A is m x k (rows lda apart) and B is n x k (rows ldb
// apart), both row-major with the reduction running along their rows: every entry of C is a dot
// product of a row of A and a row of B. It suits small m and n with a long k (a convolution's
// weight gradient: output-gradient rows against column rows over a batch of output positions),
// where a packed GEMM would spend more time transposing B than multiplying. Blocks of 3 rows of
// A and 4 rows of B accumulate in twelve AVX2 registers, over k in cache-sized slices.
func SgemmABt(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m <= 0 || n <= 0 || k <= 0 {
		return
	}
	_ = a[(m-1)*lda+k-1]
	_ = b[(n-1)*ldb+k-1]
	_ = c[(m-1)*ldc+n-1]
	k8 := 0
	if useAVX2 {
		k8 = k &^ 7
	}
	const kb = 256
	m3, n4 := m-m%3, n-n%4
	for p0 := 0; p0 < k8; p0 += kb {
		kc := min(kb, k8-p0)
		for j := 0; j < n4; j += 4 {
			for i := 0; i < m3; i += 3 {
				dot3x4AVX2(kc, &a[i*lda+p0], lda, &b[j*ldb+p0], ldb, &c[i*ldc+j], ldc)
			}
		}
	}
	// The edges: rows of A past m3, rows of B past n4 and the k tail.
	for i := 0; i < m; i++ {
		ar := a[i*lda : i*lda+k]
		cr := c[i*ldc : i*ldc+n]
		for j := 0; j < n; j++ {
			br := b[j*ldb : j*ldb+k]
			if i < m3 && j < n4 {
				if k8 < k {
					cr[j] += dotGo(ar[k8:], br[k8:])
				}
				continue
			}
			cr[j] += Dot(ar, br)
		}
	}
}
