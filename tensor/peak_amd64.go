//go:build amd64 && !purego

package tensor

//go:noescape
func fmaPeakAVX2(iters int, out *float32)

// fmaPeak runs the FMA peak loop (peak_amd64.s) for iters iterations of peakFlopsPerIter
// flops, storing its accumulators to out; false where the CPU has no AVX2+FMA.
func fmaPeak(iters int, out *[peakLanes]float32) bool {
	if MaxKernelLevel() < KernelsAVX2 {
		return false
	}
	fmaPeakAVX2(iters, &out[0])
	return true
}
