package nn_test

import (
	"testing"

	"github.com/ventral-lab/ventral/models"
	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// BenchmarkInferAlexNet and BenchmarkInferCORnetZ time the inference workloads of `ventral bench
// engine` (batch 16) with and without the Winograd path of 3x3 convolutions; cpu-ms/op is the
// CPU time per batch.
func BenchmarkInferAlexNet(b *testing.B) { benchInfer(b, "alexnet-torchvision") }
func BenchmarkInferCORnetZ(b *testing.B) { benchInfer(b, "cornet-z") }

func benchInfer(b *testing.B, name string) {
	for _, wino := range []bool{true, false} {
		b.Run(map[bool]string{true: "winograd", false: "im2col"}[wino], func(b *testing.B) {
			defer nn.SetWinograd(wino)()
			g, err := models.Get(name)
			if err != nil {
				b.Fatal(err)
			}
			if err := g.Build(1); err != nil {
				b.Fatal(err)
			}
			x := tensor.New(append([]int{16}, g.InputShape...)...)
			for i := range x.Data {
				x.Data[i] = float32(i%251)/125 - 1
			}
			ctx := nn.NewCtx(false, 1)
			step := func() {
				if _, err := g.Forward(ctx, x); err != nil {
					b.Fatal(err)
				}
				ctx.Reset()
			}
			step()
			c0 := cpuNow()
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(cpuNow()-c0)/1e6/float64(b.N), "cpu-ms/op")
		})
	}
}
