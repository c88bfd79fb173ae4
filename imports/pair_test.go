package imports

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// On the registered MobileNets, as quantized (integer GEMM) and float (float GEMM) networks
// (TFLite's: depthwise layers that end in a fake_quant of real values, a tail applied as a
// pass of its own),
// the inference pass with its fused tails and depth-first pairs (nn/conv2d_pair.go) gives the
// outputs of the pass that runs every layer on its own (Ctx.NoFuse), bit for bit, at one and
// two threads.
func TestPairedNetworksBitForBit(t *testing.T) {
	for _, c := range []struct {
		name  string
		float bool
	}{{"mobilenetv2-imagenet-onnx", false}, {"mobilenetv2-imagenet-onnx", true}, {"mobilenetv1-0.75-imagenet-tfjs", false}, {"mobilenetv2-imagenet-tflite", false}} {
		m, err := NamedOptions(c.name, Options{FloatActivations: c.float})
		if err != nil {
			peer(t, "%v", err)
			continue
		}
		g := m.Graph
		rng := rand.New(rand.NewPCG(9, 9))
		x := tensor.New(append([]int{2}, g.InputShape...)...)
		for i := range x.Data {
			x.Data[i] = float32(rng.NormFloat64())
		}
		// convs counts the convolutions computed on their own (the timed nodes).
		run := func(noFuse bool, threads int) (out []float32, convs int) {
			defer tensor.SetThreads(tensor.Threads())
			tensor.SetThreads(threads)
			ctx := nn.NewCtx(false, 1)
			ctx.NoFuse = noFuse
			ctx.Timings = map[string]time.Duration{}
			tr, err := g.Forward(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			for name := range ctx.Timings {
				if _, ok := g.Node(name).Op.(*nn.Conv2D); ok {
					convs++
				}
			}
			return tr.Output().Clone().Data, convs
		}
		ref, all := run(true, 1)
		for _, threads := range []int{1, 2} {
			got, convs := run(false, threads)
			if convs > all*3/4 {
				t.Errorf("%s (float %v): %d of %d convolutions ran on their own: few pairs formed", c.name, c.float, convs, all)
			}
			for i := range ref {
				if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
					t.Fatalf("%s (float %v), %d threads: output %d = %g, layer by layer %g", c.name, c.float, threads, i, got[i], ref[i])
				}
			}
		}
		// Without timings, the batch is split over the threads (one sample each here).
		func() {
			defer tensor.SetThreads(tensor.Threads())
			tensor.SetThreads(2)
			tr, err := g.Forward(nn.NewCtx(false, 1), x)
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range tr.Output().Data {
				if math.Float32bits(v) != math.Float32bits(ref[i]) {
					t.Fatalf("%s (float %v), batch split over 2 threads: output %d = %g, layer by layer %g", c.name, c.float, i, v, ref[i])
				}
			}
		}()
	}
}
