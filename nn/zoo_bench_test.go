package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
)

// BenchmarkZooInfer runs zoo models at inference, batch 16, with the default fusion: ResNet-18
// (batchnorm after every convolution; CIFAR and ImageNet stems) and the engine benchmark's
// AlexNet and CORnet-Z (bias and relu in the convolutions' epilogue).
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
			ctx := nn.NewCtx(false, 1)
			if _, err := g.Forward(ctx, x); err != nil { // warm the arena
				b.Fatal(err)
			}
			ctx.Reset()
			c0 := cpuNow()
			for b.Loop() {
				if _, err := g.Forward(ctx, x); err != nil {
					b.Fatal(err)
				}
				ctx.Reset()
			}
			b.ReportMetric(float64(cpuNow()-c0)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}
