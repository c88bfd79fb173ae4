package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// directConv64 is the 3x3, stride-1 convolution of x (n x C x H x W) in float64, summed
// straight from the definition.
func directConv64(g *WinogradGeom, n int, x, w, bias []float32) []float64 {
	y := make([]float64, n*g.Out*g.OH*g.OW)
	for s := 0; s < n; s++ {
		for o := 0; o < g.Out; o++ {
			for oy := 0; oy < g.OH; oy++ {
				for ox := 0; ox < g.OW; ox++ {
					var acc float64
					if bias != nil {
						acc = float64(bias[o])
					}
					for ci := 0; ci < g.C; ci++ {
						for ki := 0; ki < 3; ki++ {
							iy := oy - g.PadH + ki
							if iy < 0 || iy >= g.H {
								continue
							}
							for kj := 0; kj < 3; kj++ {
								ix := ox - g.PadW + kj
								if ix < 0 || ix >= g.W {
									continue
								}
								acc += float64(x[((s*g.C+ci)*g.H+iy)*g.W+ix]) * float64(w[((o*g.C+ci)*3+ki)*3+kj])
							}
						}
					}
					y[((s*g.Out+o)*g.OH+oy)*g.OW+ox] = acc
				}
			}
		}
	}
	return y
}

// maxRel is max |got - want| / max |want|, the oracle tests' measure.
func maxRel(got []float32, want []float64) float64 {
	var d, m float64
	for i, w := range want {
		d = math.Max(d, math.Abs(float64(got[i])-w))
		m = math.Max(m, math.Abs(w))
	}
	return d / m
}

// TestWinogradConv checks F(4x4, 3x3) against a float64 direct convolution over sizes that do
// and do not fill whole tiles, paddings 0..2, a bias, several images and block splits, and
// checks that it stays within 20 times the error of im2col + SGEMM in float32 (measured: 2.5 to
// 13 times, up to 4.4e-6 of the largest output; F(4x4, 3x3)'s constants cost that much).
func TestWinogradConv(t *testing.T) {
	for avx := range eachLevel(t) {
		t.Run(map[bool]string{false: "go", true: "avx2"}[avx], testWinogradConv)
	}
}

func testWinogradConv(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	defer func(b, m int) { winogradBlockBytes, winogradMinTiles = b, m }(winogradBlockBytes, winogradMinTiles)
	for _, tc := range []struct {
		n, c, h, w, out, ph, pw int
		block                   int // tiles per block when not 0: many blocks over threads
	}{
		{1, 1, 6, 6, 1, 0, 0, 0},
		{1, 3, 8, 8, 5, 1, 1, 0},
		{2, 7, 13, 13, 9, 1, 1, 0},
		{3, 4, 7, 11, 6, 2, 0, 3},
		{2, 16, 14, 14, 24, 1, 1, 3},
		{1, 5, 3, 5, 2, 1, 2, 0},
		{4, 32, 9, 10, 16, 1, 1, 3},
		// Rows of 18 and 34 tiles: runs of 8 in vector code, the rest, a partial last tile.
		{2, 3, 6, 70, 5, 1, 1, 0},
		{3, 4, 9, 134, 3, 0, 2, 21},
		// Rows of 8 and 16 tiles, the last one cut short: whole runs that would pass the row.
		{2, 3, 6, 31, 5, 1, 1, 0},
		{2, 3, 10, 63, 4, 1, 1, 0},
		// Two k blocks of the products (C > 256), Out past one 6-row panel and one 120-row block.
		{1, 300, 6, 9, 13, 1, 1, 0},
		{2, 8, 5, 5, 130, 1, 1, 0},
	} {
		g, err := NewWinogradGeom(tc.c, tc.h, tc.w, tc.out, tc.ph, tc.pw)
		if err != nil {
			t.Fatal(err)
		}
		winogradBlockBytes, winogradMinTiles = 4<<20, 128
		if tc.block > 0 {
			winogradBlockBytes, winogradMinTiles = 1, tc.block
		}
		x := randSlice(rng, tc.n*tc.c*tc.h*tc.w)
		w := randSlice(rng, tc.out*tc.c*9)
		bias := randSlice(rng, tc.out)
		want := directConv64(&g, tc.n, x, w, bias)
		u := make([]float32, g.WinogradWeightLen())
		WinogradWeights(&g, w, u)
		y := make([]float32, tc.n*tc.out*g.OH*g.OW)
		for i := range y {
			y[i] = float32(math.NaN()) // every output must be written
		}
		WinogradConv(&g, tc.n, x, u, bias, y, nil)
		wino := maxRel(y, want)

		// im2col + SGEMM in float32, the path Winograd replaces.
		p := g.OH * g.OW
		col := make([]float32, tc.c*9*p)
		ref := make([]float32, len(y))
		for s := 0; s < tc.n; s++ {
			Im2col(x[s*tc.c*tc.h*tc.w:], tc.c, tc.h, tc.w, 3, 3, tc.ph, tc.pw, 1, 1, 1, 1, col)
			ys := ref[s*tc.out*p : (s+1)*tc.out*p]
			Sgemm(false, false, tc.out, p, tc.c*9, 1, w, tc.c*9, col, p, 0, ys, p)
			for o := 0; o < tc.out; o++ {
				for i := range p {
					ys[o*p+i] += bias[o]
				}
			}
		}
		gemm := maxRel(ref, want)
		t.Logf("%+v: max relative error winograd %.2g, im2col %.2g", tc, wino, gemm)
		if !(wino <= 1e-5) || !(wino <= 20*gemm+1e-6) {
			t.Errorf("%+v: winograd error %.3g (im2col %.3g)", tc, wino, gemm)
		}
	}
}

func TestWinogradGeomErrors(t *testing.T) {
	for _, c := range [][6]int{{0, 4, 4, 1, 0, 0}, {1, 2, 4, 1, 0, 0}, {1, 4, 4, 0, 0, 0}, {1, 4, 4, 1, -1, 0}} {
		if _, err := NewWinogradGeom(c[0], c[1], c[2], c[3], c[4], c[5]); err == nil {
			t.Errorf("%v: no error", c)
		}
	}
}

// BenchmarkWinograd times F(4x4, 3x3) and im2col + SGEMM on ResNet-18's and AlexNet's 3x3
// stride-1 layers at batch 16 (cpu-ms/op: CPU time per batch; GFLOP/s counts the direct
// convolution's 2·9 flops per output and input channel).
func BenchmarkWinograd(b *testing.B) {
	const n = 16
	for _, l := range []struct {
		name        string
		c, hw, outC int
	}{
		{"resnet-56x56x64", 64, 56, 64}, {"resnet-28x28x128", 128, 28, 128},
		{"resnet-14x14x256", 256, 14, 256}, {"resnet-7x7x512", 512, 7, 512},
		{"alexnet-13x13x384", 384, 13, 384},
	} {
		g, err := NewWinogradGeom(l.c, l.hw, l.hw, l.outC, 1, 1)
		if err != nil {
			b.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		x := randSlice(rng, n*l.c*l.hw*l.hw)
		w := randSlice(rng, l.outC*l.c*9)
		y := make([]float32, n*l.outC*g.OH*g.OW)
		flops := 2 * 9 * float64(n*l.c*l.outC*g.OH*g.OW)
		report := func(b *testing.B, c0 time.Duration) {
			cpu := float64(processCPUTime()-c0) / float64(b.N)
			b.ReportMetric(cpu/1e6, "cpu-ms/op")
			b.ReportMetric(flops/cpu, "GFLOP/s")
		}
		b.Run(l.name+"/winograd", func(b *testing.B) {
			u := make([]float32, g.WinogradWeightLen())
			WinogradWeights(&g, w, u)
			c0 := processCPUTime()
			for b.Loop() {
				WinogradConv(&g, n, x, u, nil, y, nil)
			}
			report(b, c0)
		})
		b.Run(l.name+"/im2col", func(b *testing.B) {
			p := g.OH * g.OW
			col := make([]float32, l.c*9*p)
			c0 := processCPUTime()
			for b.Loop() {
				for s := 0; s < n; s++ {
					Im2col(x[s*l.c*l.hw*l.hw:], l.c, l.hw, l.hw, 3, 3, 1, 1, 1, 1, 1, 1, col)
					Sgemm(false, false, l.outC, p, l.c*9, 1, w, l.c*9, col, p, 0, y[s*l.outC*p:], p)
				}
			}
			report(b, c0)
		})
	}
}
