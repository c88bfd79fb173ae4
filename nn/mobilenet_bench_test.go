package nn_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ventral-lab/ventral/nn"
)

// mobileNetV2 is torchvision's MobileNetV2 (width 1.0, 224 px; batch norm folded into the
// convolutions, as an importer does), with random weights: the engine's reference workload for
// imported networks.
func mobileNetV2(t testing.TB) *nn.Graph {
	g := &nn.Graph{Name: "mnv2", InputShape: []int{3, 224, 224}}
	g.Chain("c0", &nn.Conv2D{Out: 32, Kernel: nn.Dims{3}, Stride: nn.Dims{2}, Pad: nn.Dims{1}}).Chain("r0", nn.ReLU6())
	in, prev := 32, "r0"
	cfg := [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}
	k := 0
	for _, c := range cfg {
		for i := 0; i < c[2]; i++ {
			s := 1
			if i == 0 {
				s = c[3]
			}
			hid := in * c[0]
			name := fmt.Sprintf("b%d", k)
			cur := prev
			if c[0] != 1 {
				g.Add(name+"e", &nn.Conv2D{Out: hid, Kernel: nn.Dims{1}}, cur).Chain(name+"er", nn.ReLU6())
				cur = name + "er"
			}
			g.Add(name+"d", &nn.Conv2D{Out: hid, Kernel: nn.Dims{3}, Stride: nn.Dims{s}, Pad: nn.Dims{1}, Groups: hid}, cur).Chain(name+"dr", nn.ReLU6())
			g.Chain(name+"p", &nn.Conv2D{Out: c[1], Kernel: nn.Dims{1}})
			out := name + "p"
			if s == 1 && in == c[1] {
				g.Add(name+"s", &nn.Add{}, prev, out)
				out = name + "s"
			}
			prev, in = out, c[1]
			k++
		}
	}
	g.Add("cl", &nn.Conv2D{Out: 1280, Kernel: nn.Dims{1}}, prev).Chain("clr", nn.ReLU6()).Chain("gp", &nn.GlobalAvgPool{}).Chain("fc", &nn.Dense{Out: 1000})
	if err := g.Build(1); err != nil {
		t.Fatal(err)
	}
	return g
}

// BenchmarkMobileNetV2 times inference at batch 16 with and without fusion (CPU ms per batch
// beside wall time, for a shared machine).
func BenchmarkMobileNetV2(b *testing.B) {
	g := mobileNetV2(b)
	x := randN(rand.New(rand.NewPCG(1, 1)), 1, 16, 3, 224, 224)
	for _, fuse := range []bool{false, true} {
		b.Run(map[bool]string{false: "unfused", true: "fused"}[fuse], func(b *testing.B) {
			ctx := nn.NewCtx(false, 1)
			ctx.NoFuse = !fuse
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
