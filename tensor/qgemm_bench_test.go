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
