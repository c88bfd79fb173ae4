package tensor

// SgemmSerial is Sgemm on the calling goroutine only, whatever Threads() says: for callers that
// already split their work over Threads() goroutines (a convolution's samples), where a nested
// parallel Sgemm would only add goroutines and repack operands per stripe.
func SgemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	gemmSerial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
