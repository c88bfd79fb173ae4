package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// AffineClamp (AVX2 and Go) against the formula, in place and copying, at every length mod 32,
// with NaN propagating and infinite bounds meaning no clamp.
func TestAffineClamp(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	inf := float32(math.Inf(1))
	for avx := range eachLevel(t) {
		for n := 1; n < 80; n++ {
			src := randSlice(r, n)
			src[r.IntN(n)] = float32(math.NaN())
			for _, b := range [][2]float32{{0, 6}, {-inf, inf}, {0, inf}, {-0.5, 0.25}} {
				bias, a, c := float32(r.NormFloat64()), float32(r.NormFloat64()), float32(r.NormFloat64())
				dst := make([]float32, n)
				AffineClamp(dst, src, bias, a, c, b[0], b[1])
				in := append([]float32(nil), src...)
				AffineClamp(in, in, bias, a, c, b[0], b[1])
				for i, v := range src {
					// Each step rounded on its own: bit-identical to a bias add, a channel
					// affine and a clamp done as separate passes.
					u := float32(float32(v+bias)*a) + c
					want := min(max(u, b[0]), b[1])
					if math.IsNaN(float64(v)) {
						if !math.IsNaN(float64(dst[i])) || !math.IsNaN(float64(in[i])) {
							t.Fatalf("avx %v n %d: NaN at %d became %g", avx, n, i, dst[i])
						}
						continue
					}
					if dst[i] != want || dst[i] != in[i] {
						t.Fatalf("avx %v n %d bounds %v: [%d] = %g (in place %g), want %g", avx, n, b, i, dst[i], in[i], want)
					}
				}
			}
		}
	}
}

// FakeQuant (AVX2 and Go) against the definition computed in float64, bit for bit, including
// exact halves (rounded to even), clamped values and NaN.
func TestFakeQuant(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for avx := range eachLevel(t) {
		for n := 1; n < 60; n++ {
			src := randSlice(r, n)
			for i := range src {
				src[i] *= 3
				if i%5 == 0 {
					src[i] = float32(r.IntN(41)-20) * 0.125 // exact multiples of scale/2
				}
			}
			src[r.IntN(n)] = float32(math.NaN())
			dst := make([]float32, n)
			FakeQuant(dst, src, 0.25, 3, 0, 20)
			for i, v := range src {
				lv := math.RoundToEven(float64(v)/0.25) + 3
				want := float32((math.Min(math.Max(lv, 0), 20) - 3) * 0.25)
				if math.IsNaN(float64(v)) {
					if !math.IsNaN(float64(dst[i])) {
						t.Fatalf("avx %v: NaN became %g", avx, dst[i])
					}
					continue
				}
				if dst[i] != want {
					t.Fatalf("avx %v n %d: fake_quant(%g) = %g, want %g", avx, n, v, dst[i], want)
				}
			}
		}
	}
}

// AffineClampQuant (AVX2 and Go, scale 1 and not, the short requantization form included)
// equals AffineClamp then FakeQuant bit for bit (the sign of zero too), at every length mod 8,
// with exact halves, clamped values, -0 and NaN.
func TestAffineClampQuant(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	inf := float32(math.Inf(1))
	for avx := range eachLevel(t) {
		for n := 1; n < 40; n++ {
			src := randSlice(r, n)
			for i := range src {
				src[i] *= 40
				if i%3 == 0 {
					src[i] = float32(r.IntN(81)-40) * 0.5 // exact halves after a = 1
				}
			}
			src[0] = -0.75 // (src + 0.5)*1 rounds to -0
			src[r.IntN(n)] = float32(math.NaN())
			for _, q := range [][4]float32{{1, 0, 0, 255}, {1, 3, -128, 127}, {0.25, 3, 0, 20}} {
				for _, cl := range [][2]float32{{-inf, inf}, {0, 6}} {
					a := float32(1)
					if n%2 == 0 {
						a = float32(r.Float64() + 0.5)
					}
					want := make([]float32, n)
					AffineClamp(want, src, 0.5, a, 0, cl[0], cl[1])
					FakeQuant(want, want, q[0], q[1], q[2], q[3])
					got := append([]float32(nil), src...)
					AffineClampQuant(got, got, 0.5, a, 0, cl[0], cl[1], q[0], q[1], q[2], q[3])
					for i := range want {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
							t.Fatalf("avx %v n %d quant %v clamp %v: [%d] = %g, want %g", avx, n, q, cl, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
}
