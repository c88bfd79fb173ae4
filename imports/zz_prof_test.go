package imports

import (
	"math/rand/v2"
	"os"
	"testing"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

func TestZZProf(t *testing.T) {
	if os.Getenv("ZZPROF") == "" {
		t.Skip()
	}
	m, err := NamedOptions("mobilenetv2-imagenet-onnx", Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := m.Graph
	rng := rand.New(rand.NewPCG(9, 9))
	x := tensor.New(append([]int{16}, g.InputShape...)...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	tensor.SetThreads(1)
	for i := 0; i < 8; i++ {
		ctx := nn.NewCtx(false, 1)
		if _, err := g.Forward(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
}
