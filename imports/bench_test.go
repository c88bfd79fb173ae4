package imports

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// BenchmarkQuantizedMobileNetV2 times the int8 ONNX MobileNetV2 (exact integer simulation) at
// batch 16, 224 px, the workload of `ventral bench import`; cpu-ms/op is the CPU time per batch,
// steadier than wall time on a shared machine. Profile at one thread with GOMAXPROCS=1.
func BenchmarkQuantizedMobileNetV2(b *testing.B) { benchQuantizedMobileNetV2(b, 16) }

// BenchmarkQuantizedMobileNetV2OneImage is the same at batch 1, where the convolutions split
// each sample's GEMM over the threads (run with -cpu 2 to see it).
func BenchmarkQuantizedMobileNetV2OneImage(b *testing.B) { benchQuantizedMobileNetV2(b, 1) }

func benchQuantizedMobileNetV2(b *testing.B, batch int) {
	m, err := Named("mobilenetv2-imagenet-onnx")
	if err != nil {
		b.Skip(err)
	}
	g := m.Graph
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(append([]int{batch}, g.InputShape...)...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	ctx := nn.NewCtx(false, 1)
	c0 := cpuNow()
	for b.Loop() {
		if _, err := g.Forward(ctx, x); err != nil {
			b.Fatal(err)
		}
		ctx.Reset()
	}
	b.ReportMetric(float64(cpuNow()-c0)/1e6/float64(b.N), "cpu-ms/op")
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
