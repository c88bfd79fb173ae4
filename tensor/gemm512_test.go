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
	if MaxKernelLevel() < KernelsAVX512 {
		if os.Getenv("CI") != "" && DetectCPU().AVX512F && DetectCPU().AVX512VNNI {
			t.Fatal("an AVX-512 CPU without the avx512 level: ", KernelSummary())
		}
		t.Skip("no avx512 level here: ", KernelSummary())
	}
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
