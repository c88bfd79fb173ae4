package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// AffineClamp (AVX2 and Go) against the formula, in place and copying, at every length mod 32,
// with NaN propagating and infinite bounds meaning no clamp.
func TestAffineClamp(t *testing.T) {
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	r := rand.New(rand.NewPCG(4, 4))
	inf := float32(math.Inf(1))
	for _, avx := range []bool{false, true} {
		if avx && !saved {
			continue
		}
		useAVX2 = avx
		for n := 1; n < 80; n++ {
			src := randSlice(r, n)
			src[r.IntN(n)] = float32(math.NaN())
			for _, b := range [][2]float32{{0, 6}, {-inf, inf}, {0, inf}, {-0.5, 0.25}} {
				a, c := float32(r.NormFloat64()), float32(r.NormFloat64())
				dst := make([]float32, n)
				AffineClamp(dst, src, a, c, b[0], b[1])
				in := append([]float32(nil), src...)
				AffineClamp(in, in, a, c, b[0], b[1])
				for i, v := range src {
					want := min(max(v*a+c, b[0]), b[1])
					if math.IsNaN(float64(v)) {
						if !math.IsNaN(float64(dst[i])) || !math.IsNaN(float64(in[i])) {
							t.Fatalf("avx %v n %d: NaN at %d became %g", avx, n, i, dst[i])
						}
						continue
					}
					if math.Abs(float64(dst[i]-want)) > 1e-6*(1+math.Abs(float64(want))) || dst[i] != in[i] {
						t.Fatalf("avx %v n %d bounds %v: [%d] = %g (in place %g), want %g", avx, n, b, i, dst[i], in[i], want)
					}
				}
			}
		}
	}
}
