//go:build amd64 && !purego

package tensor

//go:noescape
func fmaPeakAVX2(iters int, out *float32)

//go:noescape
func fmaPeakAVX512(iters int, out *float32)

// fmaPeak runs the FMA peak loop (peak_amd64.s) of the widest vectors this CPU has for iters
// iterations, storing its accumulators to out; it returns the number of lanes (each 2 flops an
// iteration), 0 where the CPU has no AVX2+FMA.
func fmaPeak(iters int, out *[peakLanes]float32) int {
	switch MaxKernelLevel() {
	case KernelsAVX512:
		fmaPeakAVX512(iters, &out[0])
		return peakChains * 16
	case KernelsAVX2:
		fmaPeakAVX2(iters, &out[0])
		return peakChains * 8
	}
	return 0
}

func peakKernel() string {
	if MaxKernelLevel() == KernelsAVX512 {
		return "12 independent VFMADD231PS zmm chains"
	}
	return "12 independent VFMADD231PS ymm chains"
}
