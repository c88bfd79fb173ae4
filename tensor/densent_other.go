//go:build !amd64 || purego

package tensor

func streamNT3x4AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, pfd int) {
	panic("no AVX2")
}

func streamNT2x4AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, pfd int) {
	panic("no AVX2")
}

func streamNT1x4AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, pfd int) {
	panic("no AVX2")
}
