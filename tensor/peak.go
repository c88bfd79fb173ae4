package tensor

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Peak floating-point throughput of the machine, the yardstick every benchmark figure is also
// reported against (as a fraction of it). The loop (peak_amd64.s) issues only independent
// 256-bit FMAs from registers, so it measures the FMA units and the clock, not memory or the
// compiler; it is the ceiling for every AVX2 kernel. There is no AVX-512 loop (see cpulevel.go).

const (
	peakChains       = 12
	peakLanes        = peakChains * 8 // float32 lanes of the 12 ymm accumulators
	peakFlopsPerIter = 2 * peakLanes  // a fused multiply-add is two flops per lane
	peakItersPerCall = 1 << 18        // about 50 MFLOP per goroutine and call
	peakKernelName   = "12 independent VFMADD231PS ymm chains"
)

// PeakResult is the measured FMA peak at a thread count.
type PeakResult struct {
	Threads int
	// GFLOPS is the float32 throughput of all threads together (median over batches, wall time).
	GFLOPS float64
	// CPUGFLOPS divides by the process's busy CPU time: GFLOP/s per busy core, the steadier
	// figure on a machine shared with other jobs (0 where there is no rusage).
	CPUGFLOPS float64
	Kernel    string
}

// PerThread is GFLOPS divided by the thread count.
func (p PeakResult) PerThread() float64 { return p.GFLOPS / float64(max(p.Threads, 1)) }

// FMAPeak measures float32 FMA throughput with threads goroutines, each on its own OS thread
// running the peak loop, for about minDur. It needs the AVX2+FMA assembly (amd64, a CPU with
// both), whatever the current kernel level: the peak is the machine's.
func FMAPeak(threads int, minDur time.Duration) (PeakResult, error) {
	threads = max(threads, 1)
	var probe [peakLanes]float32
	if !fmaPeak(3, &probe) {
		return PeakResult{}, fmt.Errorf("no FMA peak benchmark here: it needs the amd64 AVX2+FMA assembly (%s)", KernelSummary())
	}
	for i, v := range probe {
		if v != 3 {
			return PeakResult{}, fmt.Errorf("FMA peak loop: lane %d holds %g after 3 iterations, want 3", i, v)
		}
	}
	if runtime.GOMAXPROCS(0) < threads {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	}
	outs := make([][peakLanes]float32, threads)
	run := func() {
		var wg sync.WaitGroup
		for t := 1; t < threads; t++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				fmaPeak(peakItersPerCall, &outs[t])
			}()
		}
		fmaPeak(peakItersPerCall, &outs[0])
		wg.Wait()
	}
	flops := float64(threads) * peakItersPerCall * peakFlopsPerIter
	wall, cpu := medianGFLOPS(flops, minDur, run)
	for t := range outs {
		if outs[t][peakLanes-1] != peakItersPerCall {
			return PeakResult{}, fmt.Errorf("FMA peak loop: thread %d ended with %g, want %d", t, outs[t][peakLanes-1], peakItersPerCall)
		}
	}
	return PeakResult{Threads: threads, GFLOPS: wall, CPUGFLOPS: cpu, Kernel: peakKernelName}, nil
}
