package tensor

import (
	"math/rand/v2"
	"testing"
)

var benchConvGeoms = []struct {
	name string
	g    convGeom
}{
	{"lenet-conv1", convGeom{1, 28, 28, 5, 5, 0, 0, 1, 1, 1, 1}},
	{"cifar-conv2", convGeom{32, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1}},
	{"alexnet-conv1", convGeom{3, 227, 227, 11, 11, 0, 0, 4, 4, 1, 1}},
	{"dilated", convGeom{16, 32, 32, 3, 3, 2, 2, 1, 1, 2, 2}},
	{"mobilenet-conv1", convGeom{3, 224, 224, 3, 3, 1, 1, 2, 2, 1, 1}},
}

// BenchmarkIm2col reports the rate of written column-matrix elements (GB/s of float32 output).
func BenchmarkIm2col(b *testing.B) {
	for _, bc := range benchConvGeoms {
		g := bc.g
		r := rand.New(rand.NewPCG(1, 2))
		oh, ow := ConvOut(g.h, g.kh, g.ph, g.sh, g.dh), ConvOut(g.w, g.kw, g.pw, g.sw, g.dw)
		x := randSlice(r, g.c*g.h*g.w)
		col := make([]float32, g.c*g.kh*g.kw*oh*ow)
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				Im2col(x, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, col)
			}
			b.ReportMetric(float64(4*len(col))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
		b.Run("col2im/"+bc.name, func(b *testing.B) {
			for b.Loop() {
				Col2im(col, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, x)
			}
			b.ReportMetric(float64(4*len(col))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

func BenchmarkAxpyDot(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := randSlice(r, 4096), randSlice(r, 4096)
	b.Run("axpy-4096", func(b *testing.B) {
		for b.Loop() {
			Axpy(0.5, x, y)
		}
	})
	b.Run("axpyGo-4096", func(b *testing.B) {
		for b.Loop() {
			axpyGo(0.5, x, y)
		}
	})
	b.Run("dot-4096", func(b *testing.B) {
		for b.Loop() {
			Dot(x, y)
		}
	})
	b.Run("dotGo-4096", func(b *testing.B) {
		for b.Loop() {
			dotGo(x, y)
		}
	})
}
