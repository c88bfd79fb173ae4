package tensor

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkQGemm compares the integer GEMM (packing B included) with Sgemm on a MobileNetV2
// pointwise shape (144 x 24 x 3136 and 24 x 144 x 3136).
func BenchmarkQGemm(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sh := range [][3]int{{144, 3136, 24}, {24, 3136, 144}, {160, 64, 960}} {
		m, n, k := sh[0], sh[1], sh[2]
		a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for i := range a {
			a[i] = float32(r.IntN(255) - 127)
		}
		for i := range bb {
			bb[i] = float32(r.IntN(255) - 127)
		}
		var pa QPackedA
		var pb QPackedB
		PackQA(&pa, m, k, a, k)
		b.Run("int", func(b *testing.B) {
			for b.Loop() {
				PackQB(&pb, k, n, bb, n)
				QGemm(&pa, &pb, c, n)
			}
			b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
		b.Run("intkernel", func(b *testing.B) {
			for b.Loop() {
				QGemm(&pa, &pb, c, n)
			}
			b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
		b.Run("float", func(b *testing.B) {
			for b.Loop() {
				gemmSerial(false, false, m, n, k, 1, a, k, bb, n, 0, c, n)
			}
			b.ReportMetric(float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		})
	}
}

// qMobileNetV2Shapes are the integer GEMMs of one MobileNetV2 image (224 px): m (output
// channels), k (input channels x kernel taps), n (output positions), and how many layers have
// the shape.
var qMobileNetV2Shapes = [][4]int{
	{32, 27, 12544, 1}, {16, 32, 12544, 1}, {96, 16, 12544, 1}, {24, 96, 3136, 1},
	{144, 24, 3136, 2}, {24, 144, 3136, 1}, {32, 144, 784, 1}, {192, 32, 784, 3},
	{32, 192, 784, 2}, {64, 192, 196, 1}, {384, 64, 196, 4}, {64, 384, 196, 3},
	{96, 384, 196, 1}, {576, 96, 196, 3}, {96, 576, 196, 2}, {160, 576, 49, 1},
	{960, 160, 49, 3}, {160, 960, 49, 2}, {320, 960, 49, 1}, {1280, 320, 49, 1},
}

// BenchmarkQGemmMobileNetV2 packs B and runs the requantizing GEMM on every integer GEMM shape
// of one MobileNetV2 image, in the column blocks that nn.Conv2D uses (64 Ki floats of output
// or of input columns per block), each layer's activations a fresh matrix as in the network.
func BenchmarkQGemmMobileNetV2(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	type layer struct {
		m, k, n    int
		pa         QPackedA
		bb, c      []float32
		bias, mult []float32
	}
	var ls []*layer
	macs := 0
	for _, sh := range qMobileNetV2Shapes {
		for range sh[3] {
			l := &layer{m: sh[0], k: sh[1], n: sh[2]}
			a := make([]float32, l.m*l.k)
			for i := range a {
				a[i] = float32(r.IntN(255) - 127)
			}
			PackQA(&l.pa, l.m, l.k, a, l.k)
			l.bb, l.c = make([]float32, l.k*l.n), make([]float32, l.m*l.n)
			for i := range l.bb {
				l.bb[i] = float32(r.IntN(256) - 128)
			}
			l.bias, l.mult = make([]float32, l.m), make([]float32, l.m)
			for i := range l.mult {
				l.bias[i], l.mult[i] = float32(r.IntN(2000)-1000), 1e-3
			}
			ls = append(ls, l)
			macs += l.m * l.k * l.n
		}
	}
	var pb QPackedB
	for b.Loop() {
		for _, l := range ls {
			nb := l.n
			if l.m*l.n > 1<<16 {
				nb = max((1<<16)/l.m/64*64, 64)
			}
			if l.k*l.n > 1<<16 {
				nb = min(nb, max((1<<16)/l.k/16*16, 16))
			}
			for j0 := 0; j0 < l.n; j0 += nb {
				n := min(nb, l.n-j0)
				PackQB(&pb, l.k, n, l.bb[j0:], l.n)
				QGemmRequant(&l.pa, &pb, l.c[j0:], l.n, l.bias, l.mult, -128, 127)
			}
		}
	}
	b.ReportMetric(float64(macs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/image")
}
