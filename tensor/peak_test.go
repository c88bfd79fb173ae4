package tensor

import (
	"testing"
	"time"
)

// The peak loop does the arithmetic it claims (every lane ends at the iteration count) and its
// throughput bounds what the GEMM kernel reaches on an L1-resident problem.
func TestFMAPeak(t *testing.T) {
	var out [peakLanes]float32
	lanes := fmaPeak(1000, &out)
	if want := map[KernelLevel]int{KernelsGeneric: 0, KernelsAVX2: 96, KernelsAVX512: 192}[MaxKernelLevel()]; lanes != want {
		t.Fatalf("peak loop of %d lanes at level %s, want %d", lanes, MaxKernelLevel(), want)
	}
	if lanes == 0 {
		if MaxKernelLevel() >= KernelsAVX2 {
			t.Fatal("no peak loop on an AVX2+FMA machine")
		}
		if _, err := FMAPeak(1, time.Millisecond); err == nil {
			t.Fatal("FMAPeak without the loop gave no error")
		}
		t.Skip("no AVX2+FMA assembly: ", KernelSummary())
	}
	for i, v := range out[:lanes] {
		if v != 1000 {
			t.Fatalf("lane %d: %g after 1000 iterations", i, v)
		}
	}
	fmaPeak(0, &out)
	if out[0] != 0 {
		t.Fatalf("0 iterations left %g", out[0])
	}
	p, err := FMAPeak(1, 50*time.Millisecond)
	if err != nil || !(p.GFLOPS > 0) || p.Threads != 1 {
		t.Fatalf("peak %+v %v", p, err)
	}
	// One core's GEMM on a 48x64x256 problem (all in L1 and L2) against the peak; CPU time
	// divides both, so other jobs on the machine do not skew the ratio.
	defer SetThreads(Threads())
	SetThreads(1)
	const m, n, k = 48, 64, 256
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	_, gemm := medianGFLOPS(2*m*n*k, 50*time.Millisecond, func() { Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n) })
	if p.CPUGFLOPS > 0 && gemm > 1.1*p.CPUGFLOPS {
		t.Fatalf("GEMM %.1f GFLOP/s per core above the FMA peak %.1f", gemm, p.CPUGFLOPS)
	}
	t.Logf("FMA peak %.1f GFLOP/s (%.1f per busy core), GEMM %.1f per busy core = %.2f of peak", p.GFLOPS, p.CPUGFLOPS, gemm, gemm/p.CPUGFLOPS)
}
