//go:build !amd64 || purego

package tensor

// useAVX2 is always false without the amd64 assembly.
var useAVX2 = false

// microKernel computes a full 6x16 tile with the portable Go kernel.
func microKernel(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	microKernelGo(kc, a, b, c, ldc, alpha, beta)
}
