//go:build amd64 && !purego

package tensor

// streamNT3x4AVX2 adds to the 3x4 block of C at c (rows ldc apart) the dot products over k (a
// multiple of 8) of 3 rows of A and 4 rows of B, prefetching B pfd bytes ahead.
//
//go:noescape
func streamNT3x4AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, pfd int)

// streamNT2x4AVX2 is streamNT3x4AVX2 for 2 rows of A.
//
//go:noescape
func streamNT2x4AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, pfd int)

// streamNT1x4AVX2 is streamNT3x4AVX2 for 1 row of A.
//
//go:noescape
func streamNT1x4AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, pfd int)
