package bench

import (
	"math"
	"testing"

	"github.com/ventral-lab/ventral/models"
)

// Multiply-adds of the conv and fully connected layers against published counts: torchvision's
// AlexNet is 0.714 GMAC per 224 px image (conv 655.6 M + fc 58.6 M; torchvision's model table
// lists 0.71 "GFLOPS", counted as multiply-adds), and LeNet-5 (28 px, padded conv1) is
// 6*25*784 + 16*150*100 + 400*120 + 120*84 + 84*10 = 416,520.
func TestForwardFLOPs(t *testing.T) {
	for _, c := range []struct {
		model string
		macs  float64
		tol   float64
	}{
		{"alexnet-torchvision", 714.2e6, 0.005},
		{"lenet5", 416520, 0},
	} {
		g, err := models.Get(c.model)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(1); err != nil {
			t.Fatal(err)
		}
		got := ForwardFLOPs(g) / 2
		if math.Abs(got-c.macs) > c.tol*c.macs {
			t.Errorf("%s: %.0f multiply-adds, want %.0f", c.model, got, c.macs)
		}
	}
}

// The zoo's GEMM shapes: LeNet-5's first convolution per image (6 maps of 28x28 from 25 taps),
// CORnet-Z's V1 (64 maps of 112x112 from 3x7x7), AlexNet's fc6 at batch 16, each listed once.
func TestZooGemmShapes(t *testing.T) {
	shapes, err := ZooGemmShapes()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[[3]int]string{}
	for _, s := range shapes {
		k := [3]int{s.M, s.N, s.K}
		if prev, dup := seen[k]; dup {
			t.Errorf("%s repeats %s", s.Name, prev)
		}
		seen[k] = s.Name
	}
	for _, want := range [][3]int{{512, 512, 512}, {6, 784, 25}, {64, 112 * 112, 147}, {16, 4096, 9216}} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no %dx%dx%d in %v", want[0], want[1], want[2], shapes)
		}
	}
}
