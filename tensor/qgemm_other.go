//go:build !amd64 || purego

package tensor

func qKernel(a, b []int16, kp int, c []float32, ldc int) { qKernelGo(a, b, kp, c, ldc) }

func packQBStrip(d []int16, b []float32, ldb, k int) bool {
	return packQBStripGo(d, b, ldb, k, qNR)
}
