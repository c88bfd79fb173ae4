package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// The avx512 level's GEMM kernels keep the AVX2 kernels' arithmetic: every entry point gives
// the same bits at both levels, over shapes that reach the 6x32 tile, its partial row panels
// and partial micro-panels, packed and in-place B, both transpositions, alpha and beta.
func TestGemmAVX512MatchesAVX2(t *testing.T) {
	skipWithoutAVX512(t)
	saved, savedThreads := CurrentKernelLevel(), Threads()
	defer func() { SetKernelLevel(saved); SetThreads(savedThreads) }()
	r := rand.New(rand.NewPCG(51, 2))
	vec := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	type shape struct {
		m, n, k     int
		ta, tb      bool
		alpha, beta float32
		threads     int
	}
	shapes := []shape{
		{6, 32, 5, false, false, 1, 0, 1},
		{6, 48, 300, false, false, 1, 0, 1},
		{13, 64, 257, false, false, 0.5, 0.25, 1},
		{96, 3136, 64, false, false, 1, 0, 1},
		{64, 200, 600, true, false, 1, 1, 2},
		{37, 77, 29, true, true, 1, -1, 1},
		{300, 260, 700, false, false, 0.5, 0.25, 2},
		{128, 1000, 33, false, true, 1, 0, 2},
		{5, 512, 512, false, false, 1, 0, 1},
		{512, 512, 512, false, false, 1, 0, 2},
	}
	for i := 0; i < 30; i++ {
		shapes = append(shapes, shape{1 + r.IntN(80), 1 + r.IntN(150), 1 + r.IntN(400), r.IntN(2) == 0, r.IntN(2) == 0, 1, float32(r.IntN(3)) / 2, 1 + r.IntN(2)})
	}
	for _, s := range shapes {
		lda, ldb := s.k, s.n
		if s.ta {
			lda = s.m
		}
		if s.tb {
			ldb = s.k
		}
		a, b, c0 := vec(s.m*s.k), vec(s.k*s.n), vec(s.m*s.n)
		run := func(l KernelLevel) []float32 {
			if err := SetKernelLevel(l); err != nil {
				t.Fatal(err)
			}
			SetThreads(s.threads)
			c := append([]float32(nil), c0...)
			Sgemm(s.ta, s.tb, s.m, s.n, s.k, s.alpha, a, lda, b, ldb, s.beta, c, s.n)
			return c
		}
		want, got := run(KernelsAVX2), run(KernelsAVX512)
		name := fmt.Sprintf("%+v", s)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%s: C[%d] = %v at avx512, %v at avx2", name, i, got[i], want[i])
			}
		}
	}
}

// skipWithoutAVX512 skips a test of the avx512 level's kernels on a machine without the level,
// failing instead under CI on a CPU that has the features the level needs.
func skipWithoutAVX512(t *testing.T) {
	t.Helper()
	if MaxKernelLevel() < KernelsAVX512 {
		if os.Getenv("CI") != "" && hasAVX512() && haveAsmAVX2 {
			t.Fatal("an AVX-512 CPU without the avx512 level: ", KernelSummary())
		}
		t.Skip("no avx512 level here: ", KernelSummary())
	}
}

// The Winograd transforms at the avx512 level (16 lanes, then a last 8) write the AVX2 ones' bits,
// and nothing past the elements they are given (the panel jumps of winoBT6P included).
func TestWinogradTransformsAVX512(t *testing.T) {
	skipWithoutAVX512(t)
	saved := CurrentKernelLevel()
	defer SetKernelLevel(saved)
	r := rand.New(rand.NewPCG(8, 9))
	for _, n := range []int{8, 16, 24, 32, 40, 56, 200} {
		var src [6]*float32
		for i := range src {
			row := make([]float32, n)
			for j := range row {
				row[j] = float32(r.NormFloat64())
			}
			src[i] = &row[0]
		}
		const jump = 5
		dstride := n + n/16*jump + 3
		run := func(l KernelLevel) []float32 {
			if err := SetKernelLevel(l); err != nil {
				t.Fatal(err)
			}
			out := make([]float32, 3*6*dstride)
			for i := range out {
				out[i] = float32(math.NaN())
			}
			winoBT6(&src, out, dstride, n)
			winoAT6(&src, out[6*dstride:], dstride, n)
			winoBT6P(&src, out[12*dstride:], dstride, n, jump)
			return out
		}
		want, got := run(KernelsAVX2), run(KernelsAVX512)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: element %d is %v at avx512, %v at avx2", n, i, got[i], want[i])
			}
		}
	}
}
