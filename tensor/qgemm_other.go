//go:build !amd64 || purego

package tensor

func qKernel(a, b []int16, kp int, c []float32, ldc int) { qKernelGo(a, b, kp, c, ldc) }

func packQBStrip(d []int16, b []float32, ldb, k int) bool {
	return packQBStripGo(d, b, ldb, k, qNR)
}

func packQBStrips(d []int16, b []float32, ldb, k, strips int) bool {
	return packQBStripsGo(d, b, ldb, k, strips)
}

func qKernelRq(a, b []int16, kp int, c []float32, ldc int, bias, mult []float32, qlo, qhi float32, panels int) {
	for p := 0; p < panels; p++ {
		qKernelRqGo(a[p*kp*qMR*2:], b, kp, c[p*qMR*ldc:], ldc, bias[p*qMR:], mult[p*qMR:], qlo, qhi)
	}
}

func qKernelRqNT(a, b []int16, kp int, c []float32, ldc int, bias, mult []float32, qlo, qhi float32, panels int) {
	qKernelRq(a, b, kp, c, ldc, bias, mult, qlo, qhi, panels)
}

func qKernelRqRows(a, b []int16, kp int, c []float32, ldc int, bias, mult []float32, qlo, qhi float32, rows int) bool {
	return false
}

const (
	qModeRq = iota
	qModeNT
	qModeRaw
)

func qGemmVNNI(a *QPackedA, b *QPackedB, c []float32, ldc int, bias, mult []float32, qlo, qhi float32, mode int) {
	panic("tensor: no VNNI kernels in this build")
}
