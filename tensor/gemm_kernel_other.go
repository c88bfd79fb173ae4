//go:build !amd64 || purego

package tensor

// haveAsmAVX2: no assembly in this build, so the kernel level is always generic (cpulevel.go).
const haveAsmAVX2 = false

// microKernel computes a rows x 16 tile with the portable Go kernel.
func microKernel(rows, kc int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	microKernelGo(rows, kc, a, b, ldb, c, ldc, alpha, beta)
}

// packBFull packs np full 16-column micro-panels of the kc x 16*np row-major block b (stride ldb)
// into dst; see packB.
func packBFull(b []float32, ldb, kc, np int, dst []float32) { packBFullGo(b, ldb, kc, np, dst) }

// packBTransPanel packs the first kc values of 16 rows of b (stride ldb) into d (kc x 16).
func packBTransPanel(b []float32, ldb, kc int, d []float32) { packBTransPanelGo(b, ldb, kc, d) }

// packA6 packs the first kc values of 6 rows of a (stride lda) into d (kc x 6).
func packA6(a []float32, lda, kc int, d []float32) { packA6Go(a, lda, kc, d) }

// microKernelPack computes a 6 x 16 tile with b read in place and copies b's rows to bp.
func microKernelPack(kc int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, bp []float32, _ int) {
	microKernelPackGo(kc, a, b, ldb, c, ldc, alpha, beta, bp)
}

// microKernelPF is microKernel for 6 rows (the prefetch hint is an amd64 matter).
func microKernelPF(kc int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, _ []float32, _ int) {
	microKernel(gemmMR, kc, a, b, ldb, c, ldc, alpha, beta)
}

// packBEdge packs the first cols < 16 values of kc rows of b (stride ldb) into d, zero-padded.
func packBEdge(b []float32, ldb, kc, cols int, d []float32) { packBEdgeGo(b, ldb, kc, cols, d) }

func wideKernel() bool { return false }

func microKernelWide(rows, kc int, a, b0, b1 []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	microKernelHalves(rows, kc, a, b0, b1, ldb, c, ldc, alpha, beta)
}

func microKernelWidePF(rows, kc int, a, b0, b1 []float32, ldb int, c []float32, ldc int, alpha, beta float32, _ []float32, _ int) {
	microKernelHalves(rows, kc, a, b0, b1, ldb, c, ldc, alpha, beta)
}
