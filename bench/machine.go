package bench

import (
	"fmt"
	"runtime"
	"time"

	"github.com/ventral-lab/ventral/internal/sysinfo"
	"github.com/ventral-lab/ventral/tensor"
)

// Header is the line every `ventral bench` subcommand prints first: the processor, the kernel
// level in use and the CPU features that decide it, so a figure is never read without knowing
// which code produced it.
func Header() string {
	return fmt.Sprintf("# machine: %s, %d CPUs, %s/%s, %s; %s",
		sysinfo.CPUModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version(), tensor.KernelSummary())
}

// Peak measures the machine's float32 FMA peak at each thread count (tensor.FMAPeak), for
// about minTime each (default 1 s).
func Peak(threads []int, minTime time.Duration) ([]tensor.PeakResult, error) {
	if len(threads) == 0 {
		threads = []int{1, 2}
	}
	if minTime <= 0 {
		minTime = time.Second
	}
	var out []tensor.PeakResult
	for _, t := range threads {
		if t < 1 {
			return out, fmt.Errorf("peak: %d threads; expected 1 or more", t)
		}
		p, err := tensor.FMAPeak(t, minTime)
		if err != nil {
			return out, err
		}
		out = append(out, p)
	}
	return out, nil
}

// PeakLine is the line `ventral bench peak` prints for one thread count.
func PeakLine(p tensor.PeakResult) string {
	s := fmt.Sprintf("BENCH peak-fma threads=%d gflops=%.1f per_thread=%.1f median=%.1f", p.Threads, p.GFLOPS, p.PerThread(), p.MedianGFLOPS)
	if p.CPUGFLOPS > 0 {
		s += fmt.Sprintf(" per_busy_core=%.1f", p.CPUGFLOPS)
	}
	return s + " (" + p.Kernel + ")"
}
