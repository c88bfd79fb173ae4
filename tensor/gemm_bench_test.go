package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

var benchGemmShapes = []struct {
	name    string
	m, n, k int
	ta, tb  bool
}{
	{"512x512x512", 512, 512, 512, false, false},
	{"lenet-conv1", 6, 784, 25, false, false},
	{"lenet-conv1-b16", 6, 784 * 16, 25, false, false},
	{"lenet-conv2", 16, 100, 150, false, false},
	{"lenet-conv2-b16", 16, 1600, 150, false, false},
	{"cifar-conv1", 32, 1024, 27, false, false},
	{"cifar-conv2", 32, 1024, 288, false, false},
	{"cifar-conv3", 64, 256, 288, false, false},
	{"cifar-conv4", 64, 256, 576, false, false},
	{"alexnet-conv2", 192, 729, 1600, false, false},
	{"fc4096-b16", 16, 4096, 4096, false, true},     // Y = X W^T
	{"fc4096-b16-nn", 16, 4096, 4096, false, false}, // Y = X W, W stored in x out
	{"cifar-conv2-dW", 32, 288, 1024, false, true},  // dW = dY * col^T
	{"cifar-conv2-dX", 288, 1024, 32, true, false},  // dcol = W^T * dY
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range benchGemmShapes {
		r := rand.New(rand.NewPCG(1, 1))
		lda, ldb := s.k, s.n
		if s.ta {
			lda = s.m
		}
		if s.tb {
			ldb = s.k
		}
		x, y, z := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n), make([]float32, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		b.Run(s.name, func(b *testing.B) {
			c0 := processCPUTime()
			for b.Loop() {
				Sgemm(s.ta, s.tb, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, z, s.n)
			}
			reportGFLOPS(b, flops, c0)
		})
		ta, tb := blas.NoTrans, blas.NoTrans
		if s.ta {
			ta = blas.Trans
		}
		if s.tb {
			tb = blas.Trans
		}
		b.Run(fmt.Sprintf("gonum/%s", s.name), func(b *testing.B) {
			c0 := processCPUTime()
			for b.Loop() {
				gonum.Implementation{}.Sgemm(ta, tb, s.m, s.n, s.k, 1, x, lda, y, ldb, 0, z, s.n)
			}
			reportGFLOPS(b, flops, c0)
		})
	}
}

// reportGFLOPS reports wall-clock GFLOP/s and GFLOP/s per busy CPU-second (cpu-GFLOP/s), the latter
// being robust against other jobs on a shared machine.
func reportGFLOPS(b *testing.B, flopsPerOp float64, cpu0 time.Duration) {
	total := flopsPerOp * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	if cpu := processCPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(total/cpu.Seconds()/1e9, "cpu-GFLOP/s")
	}
}

func TestGemmTable(t *testing.T) {
	res := GemmTable([]GemmShape{{"tiny", 3, 5, 2}, {"lenet-conv1", 6, 784, 25}}, 5*time.Millisecond)
	if len(res) != 2 || res[1].Name != "lenet-conv1" || res[1].K != 25 || !(res[1].OursGFLOPS > 0) || !(res[1].GonumGFLOPS > 0) {
		t.Fatalf("GemmTable: %+v", res)
	}
	if len(DefaultGemmShapes()) == 0 {
		t.Fatal("no default shapes")
	}
}
