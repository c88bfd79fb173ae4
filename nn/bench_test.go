package nn_test

import (
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

func lenet() *nn.Graph {
	g := &nn.Graph{Name: "lenet5", InputShape: []int{1, 28, 28}}
	g.Chain("conv1", &nn.Conv2D{Out: 6, Kernel: nn.Dims{5}, Pad: nn.Dims{2}}).Chain("relu1", nn.ReLU()).
		Chain("pool1", &nn.MaxPool2D{Kernel: nn.Dims{2}}).
		Chain("conv2", &nn.Conv2D{Out: 16, Kernel: nn.Dims{5}}).Chain("relu2", nn.ReLU()).
		Chain("pool2", &nn.MaxPool2D{Kernel: nn.Dims{2}}).
		Chain("fc1", &nn.Dense{Out: 120}).Chain("relu3", nn.ReLU()).
		Chain("fc2", &nn.Dense{Out: 84}).Chain("relu4", nn.ReLU()).
		Chain("fc3", &nn.Dense{Out: 10})
	return g
}

func cifarCNN() *nn.Graph {
	g := &nn.Graph{Name: "cifar-cnn", InputShape: []int{3, 32, 32}}
	c := func(out int) *nn.Conv2D { return &nn.Conv2D{Out: out, Kernel: nn.Dims{3}, Pad: nn.Dims{1}} }
	g.Chain("conv1", c(32)).Chain("relu1", nn.ReLU()).Chain("conv2", c(32)).Chain("relu2", nn.ReLU()).
		Chain("pool1", &nn.MaxPool2D{Kernel: nn.Dims{2}}).
		Chain("conv3", c(64)).Chain("relu3", nn.ReLU()).Chain("conv4", c(64)).Chain("relu4", nn.ReLU()).
		Chain("pool2", &nn.MaxPool2D{Kernel: nn.Dims{2}}).
		Chain("fc1", &nn.Dense{Out: 512}).Chain("relu5", nn.ReLU()).Chain("fc2", &nn.Dense{Out: 10})
	return g
}

// benchStep measures forward + loss + backward (no optimizer) and reports images/s.
func benchStep(b *testing.B, g *nn.Graph, batch int) {
	if err := g.Build(1); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := tensor.New(append([]int{batch}, g.InputShape...)...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	labels := make([]int, batch)
	for i := range labels {
		labels[i] = rng.IntN(10)
	}
	ctx := nn.NewCtx(true, 1)
	step := func() {
		ctx.Reset()
		tr, err := g.Forward(ctx, x)
		if err != nil {
			b.Fatal(err)
		}
		_, d, _, err := nn.SoftmaxCrossEntropy(tr.Output(), labels)
		if err != nil {
			b.Fatal(err)
		}
		if err := tr.Backward(d); err != nil {
			b.Fatal(err)
		}
	}
	step()
	b.ResetTimer()
	c0 := cpuSeconds()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(batch)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
	// On a shared machine wall time depends on the neighbours; CPU time (all threads) is steadier.
	b.ReportMetric(float64(batch)*float64(b.N)/(cpuSeconds()-c0), "images/cpu-s")
}

// Run with -cpu 1,2 to see the thread scaling (tensor.Threads follows GOMAXPROCS).
func BenchmarkLeNetStep(b *testing.B)    { benchStep(b, lenet(), 64) }
func BenchmarkCifarCNNStep(b *testing.B) { benchStep(b, cifarCNN(), 128) }

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
