//go:build amd64 && !purego

package tensor

import "golang.org/x/sys/cpu"

// useAVX2 selects the assembly micro-kernel; tests may switch it off to exercise the Go kernel.
var useAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func sgemmKernel6x16AVX2(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// microKernel computes a full 6x16 tile; c must hold (6-1)*ldc+16 values, a kc*6, b kc*16.
func microKernel(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	if useAVX2 && kc > 0 {
		_ = a[kc*gemmMR-1]
		_ = b[kc*gemmNR-1]
		_ = c[(gemmMR-1)*ldc+gemmNR-1]
		sgemmKernel6x16AVX2(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
		return
	}
	microKernelGo(kc, a, b, c, ldc, alpha, beta)
}
