package tensor

import (
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// GemmShape is one C(MxN) = A(MxK) * B(KxN) problem (no transposes) for GemmTable.
type GemmShape struct {
	Name    string
	M, N, K int
}

// GemmResult is the measured throughput of one shape: ours (Sgemm with the current Threads())
// and gonum's pure-Go blas32 Sgemm (gonum.org/v1/gonum/blas/gonum, which parallelises over
// GOMAXPROCS), medians of repeated timings.
// The *CPUGFLOPS fields divide by the process's busy CPU time instead of wall time (GFLOP/s per
// busy core; 0 where the platform has no rusage): on a machine shared with other jobs they stay
// meaningful when wall-clock figures do not.
type GemmResult struct {
	Name           string
	M, N, K        int
	OursGFLOPS     float64
	GonumGFLOPS    float64
	OursCPUGFLOPS  float64
	GonumCPUGFLOPS float64
}

// DefaultGemmShapes are the benchmark shapes: a square 512^3 problem and the GEMMs of the
// convolution and fully connected layers of LeNet, a small CIFAR CNN and AlexNet (M = output
// channels, N = output pixels times batch, K = input channels times kernel area).
func DefaultGemmShapes() []GemmShape {
	return []GemmShape{
		{"square-512", 512, 512, 512},
		{"lenet-conv1", 6, 784, 25},
		{"lenet-conv1-b16", 6, 784 * 16, 25},
		{"lenet-conv2", 16, 100, 150},
		{"lenet-conv2-b16", 16, 100 * 16, 150},
		{"cifar-conv1", 32, 1024, 27},
		{"cifar-conv2", 32, 1024, 288},
		{"cifar-conv3", 64, 256, 288},
		{"cifar-conv4", 64, 256, 576},
		{"alexnet-conv2", 192, 729, 1600},
		{"fc4096-b16", 16, 4096, 4096},
	}
}

// GemmTable times each shape for about minDur per implementation and returns the median
// GFLOP/s (2*M*N*K flops per call) of ours and of gonum.
func GemmTable(shapes []GemmShape, minDur time.Duration) []GemmResult {
	res := make([]GemmResult, 0, len(shapes))
	for _, s := range shapes {
		r := rand.New(rand.NewPCG(uint64(s.M), uint64(s.N*s.K)))
		fill := func(n int) []float32 {
			x := make([]float32, n)
			for i := range x {
				x[i] = r.Float32()*2 - 1
			}
			return x
		}
		a, b, c := fill(s.M*s.K), fill(s.K*s.N), make([]float32, s.M*s.N)
		flops := 2 * float64(s.M) * float64(s.N) * float64(s.K)
		ours, oursCPU := medianGFLOPS(flops, minDur, func() {
			Sgemm(false, false, s.M, s.N, s.K, 1, a, s.K, b, s.N, 0, c, s.N)
		})
		gn, gnCPU := medianGFLOPS(flops, minDur, func() {
			gonum.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, s.M, s.N, s.K, 1, a, s.K, b, s.N, 0, c, s.N)
		})
		res = append(res, GemmResult{Name: s.Name, M: s.M, N: s.N, K: s.K, OursGFLOPS: ours, GonumGFLOPS: gn,
			OursCPUGFLOPS: oursCPU, GonumCPUGFLOPS: gnCPU})
	}
	return res
}

// medianGFLOPS runs f in batches sized to take about minDur/8 each, for at least minDur and at
// least 5 batches (at most 25), and returns the median throughput of the batches by wall time and
// by process CPU time.
func medianGFLOPS(flops float64, minDur time.Duration, f func()) (wall, cpu float64) {
	f() // warm caches and pack buffers
	reps := 1
	for {
		t0 := time.Now()
		for i := 0; i < reps; i++ {
			f()
		}
		if el := time.Since(t0); el >= minDur/8 || reps >= 1<<20 {
			break
		}
		reps *= 2
	}
	var rates, cpuRates []float64
	start := time.Now()
	for len(rates) < 5 || (time.Since(start) < minDur && len(rates) < 25) {
		c0, t0 := processCPUTime(), time.Now()
		for i := 0; i < reps; i++ {
			f()
		}
		el, cpuEl := time.Since(t0).Seconds(), (processCPUTime() - c0).Seconds()
		rates = append(rates, flops*float64(reps)/el/1e9)
		if cpuEl > 0 {
			cpuRates = append(cpuRates, flops*float64(reps)/cpuEl/1e9)
		}
	}
	slices.Sort(rates)
	wall = rates[len(rates)/2]
	if len(cpuRates) > 0 {
		slices.Sort(cpuRates)
		cpu = cpuRates[len(cpuRates)/2]
	}
	return wall, cpu
}
