package tensor

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
)

// Peak floating-point throughput of the machine, the yardstick every benchmark figure is also
// reported against (as a fraction of it). The loop (peak_amd64.s) issues only independent
// FMAs from registers, 512-bit where the CPU runs the avx512 level and 256-bit otherwise, so it
// measures the FMA units and the clock, not memory or the compiler: the ceiling for every kernel.

const (
	peakChains       = 12
	peakLanes        = peakChains * 16 // float32 lanes of 12 zmm accumulators (ymm use half)
	peakItersPerCall = 1 << 18         // about 50-100 MFLOP per goroutine and call
)

// PeakResult is the measured FMA peak at a thread count.
type PeakResult struct {
	Threads int
	// GFLOPS is the float32 throughput of all threads together: the best of many short runs
	// (about half a millisecond each) by wall time. A ceiling is estimated by its best run: on a
	// machine shared with other jobs most runs are interrupted, a median would measure the load.
	GFLOPS float64
	// MedianGFLOPS is the median of the same runs.
	MedianGFLOPS float64
	// CPUGFLOPS is the median of the runs by the process's busy CPU time: GFLOP/s per busy
	// core, steady under load (0 where there is no rusage).
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
	lanes := fmaPeak(3, &probe)
	if lanes == 0 {
		return PeakResult{}, fmt.Errorf("no FMA peak benchmark here: it needs the amd64 AVX2+FMA assembly (%s)", KernelSummary())
	}
	for i, v := range probe[:lanes] {
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
	flops := float64(threads) * peakItersPerCall * 2 * float64(lanes) // an FMA is two flops a lane
	run()                                                             // warm up: clocks, goroutines, OS threads
	var rates, cpuRates []float64
	for start := time.Now(); len(rates) < 20 || (time.Since(start) < minDur && len(rates) < 20000); {
		c0, t0 := processCPUTime(), time.Now()
		run()
		el, cpuEl := time.Since(t0).Seconds(), (processCPUTime() - c0).Seconds()
		rates = append(rates, flops/el/1e9)
		if cpuEl > 0 {
			cpuRates = append(cpuRates, flops/cpuEl/1e9)
		}
	}
	slices.Sort(rates)
	res := PeakResult{Threads: threads, GFLOPS: rates[len(rates)-1], MedianGFLOPS: rates[len(rates)/2], Kernel: peakKernel()}
	if len(cpuRates) > 0 {
		slices.Sort(cpuRates)
		res.CPUGFLOPS = cpuRates[len(cpuRates)/2]
	}
	for t := range outs {
		if outs[t][lanes-1] != peakItersPerCall {
			return PeakResult{}, fmt.Errorf("FMA peak loop: thread %d ended with %g, want %d", t, outs[t][lanes-1], peakItersPerCall)
		}
	}
	return res, nil
}
