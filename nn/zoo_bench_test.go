package nn_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
)

// BenchmarkZooInfer runs zoo models at inference, batch 16: ResNet-18 (batchnorm after every
// convolution; CIFAR and ImageNet stems) and the engine benchmark's AlexNet and CORnet-Z (bias
// and relu in the convolutions' epilogue). Each iteration runs the fused pass (cpu-ms/op) and
// the unfused one (Ctx.NoFuse, unfused-cpu-ms/op) back to back, so that the two see the same
// load on a shared machine.
func BenchmarkZooInfer(b *testing.B) {
	for _, name := range []string{"resnet18-cifar", "resnet18", "alexnet-torchvision", "cornet-z"} {
		b.Run(name, func(b *testing.B) {
			g, err := models.Get(name)
			if err != nil {
				b.Fatal(err)
			}
			if err := g.Build(1); err != nil {
				b.Fatal(err)
			}
			x := randN(rand.New(rand.NewPCG(1, 1)), 1, append([]int{16}, g.InputShape...)...)
			fused, unfused := nn.NewCtx(false, 1), nn.NewCtx(false, 1)
			unfused.NoFuse = true
			var cpu [2]time.Duration
			for i, ctx := range []*nn.Ctx{fused, unfused} {
				if _, err := g.Forward(ctx, x); err != nil { // warm the arena
					b.Fatal(err)
				}
				ctx.Reset()
				cpu[i] = 0
			}
			for b.Loop() {
				for i, ctx := range []*nn.Ctx{fused, unfused} {
					c0 := cpuNow()
					if _, err := g.Forward(ctx, x); err != nil {
						b.Fatal(err)
					}
					ctx.Reset()
					cpu[i] += cpuNow() - c0
				}
			}
			b.ReportMetric(float64(cpu[0])/1e6/float64(b.N), "cpu-ms/op")
			b.ReportMetric(float64(cpu[1])/1e6/float64(b.N), "unfused-cpu-ms/op")
		})
	}
}
