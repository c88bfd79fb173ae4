package tensor

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
	"time"
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

// TestQGemmLevelSpeed (run with VENTRAL_QSPEED=1) times QGemmRequant at the avx512 and avx2
// levels alternately, round by round in one process, on MobileNetV2-like shapes (B packed
// beforehand), and logs the median per-round ratio avx2/avx512 time for each shape.
func TestQGemmLevelSpeed(t *testing.T) {
	if os.Getenv("VENTRAL_QSPEED") == "" || MaxKernelLevel() < KernelsAVX512 {
		t.Skip("set VENTRAL_QSPEED=1 on an avx512 machine")
	}
	saved := CurrentKernelLevel()
	defer SetKernelLevel(saved)
	r := rand.New(rand.NewPCG(7, 8))
	shapes := [][3]int{ // m, k, n
		{96, 16, 3136}, {144, 24, 3136}, {24, 144, 3136}, {192, 32, 784}, {32, 192, 784},
		{384, 64, 196}, {64, 384, 196}, {576, 96, 196}, {96, 576, 196},
		{960, 160, 49}, {160, 960, 49}, {1280, 320, 49}, {144, 24, 1024}, {24, 144, 448},
	}
	if s := os.Getenv("VENTRAL_QSHAPE"); s != "" {
		var m, k, n int
		fmt.Sscanf(s, "%d,%d,%d", &m, &k, &n)
		shapes = [][3]int{{m, k, n}}
	}
	rounds := 15
	for _, sh := range shapes {
		m, k, n := sh[0], sh[1], sh[2]
		a, bb, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
		for i := range a {
			a[i] = float32(r.IntN(255) - 127)
		}
		for i := range bb {
			bb[i] = float32(r.IntN(256) - 128)
		}
		bias, mult := make([]float32, m), make([]float32, m)
		for i := range mult {
			bias[i], mult[i] = float32(r.IntN(2000)-1000), 1e-3
		}
		var pa QPackedA
		var pb QPackedB
		PackQA(&pa, m, k, a, k)
		PackQB(&pb, k, n, bb, n)
		reps := max(1, int(2e8/float64(m*n*k)))
		var ratios []float64
		var best [2]float64
		for round := 0; round < rounds; round++ {
			var dt [2]float64
			for i, l := range []KernelLevel{KernelsAVX2, KernelsAVX512} {
				SetKernelLevel(l)
				t0 := time.Now()
				for range reps {
					QGemmRequant(&pa, &pb, c, n, bias, mult, -128, 127)
				}
				dt[i] = time.Since(t0).Seconds() / float64(reps)
				if round == 0 || dt[i] < best[i] {
					best[i] = dt[i]
				}
			}
			ratios = append(ratios, dt[0]/dt[1])
		}
		sort.Float64s(ratios)
		gmac := func(s float64) float64 { return float64(m*n*k) / s / 1e9 }
		t.Logf("m %4d k %4d n %5d: avx512 %.2fx avx2 (median of %d rounds; best %.1f vs %.1f GMAC/s)", m, k, n, ratios[len(ratios)/2], rounds, gmac(best[1]), gmac(best[0]))
	}
}
