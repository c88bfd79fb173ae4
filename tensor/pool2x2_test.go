package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestMaxPool2x2(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for avx := range eachLevel(t) {
		for _, c := range []struct{ h, w int }{{2, 2}, {4, 6}, {5, 5}, {28, 28}, {10, 10}, {32, 32}, {9, 35}, {6, 33}} {
			src := make([]float32, c.h*c.w)
			for i := range src {
				src[i] = float32(rng.IntN(5)) // many ties
			}
			src[len(src)/3] = float32(math.NaN())
			oh, ow := c.h/2, c.w/2
			dst := make([]float32, oh*ow)
			arg := make([]float32, oh*ow)
			MaxPool2x2(src, c.w, oh, ow, dst, arg)
			dy := make([]float32, oh*ow)
			for i := range dy {
				dy[i] = float32(rng.NormFloat64())
			}
			dx := make([]float32, c.h*c.w)
			for i := range dx {
				dx[i] = 99
			}
			MaxPool2x2Grad(dx, c.w, c.h, oh, ow, dy, arg)
			want := make([]float32, c.h*c.w)
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					// The documented tournament: each pair's winner, then the bottom
					// winner only if it is greater than the top one.
					pair := func(j int) int {
						if src[j+1] > src[j] {
							return j + 1
						}
						return j
					}
					bi := pair(2*oy*c.w + 2*ox)
					if b := pair(2*oy*c.w + c.w + 2*ox); src[b] > src[bi] {
						bi = b
					}
					best := src[bi]
					o := oy*ow + ox
					if got := int(math.Float32bits(arg[o])); got != bi {
						t.Fatalf("%+v avx=%v window %d,%d: argmax %d, want %d", c, avx, oy, ox, got, bi)
					}
					if math.Float32bits(dst[o]) != math.Float32bits(best) {
						t.Fatalf("%+v avx=%v window %d,%d: max %v, want %v", c, avx, oy, ox, dst[o], best)
					}
					want[bi] = dy[o]
				}
			}
			for i := range want {
				if dx[i] != want[i] {
					t.Fatalf("%+v avx=%v: dx[%d] = %v, want %v", c, avx, i, dx[i], want[i])
				}
			}
		}
	}
}

func TestMaxPoolPlane(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for avx := range eachLevel(t) {
		for _, c := range []struct{ h, w, k, s, p int }{{55, 55, 3, 2, 0}, {56, 56, 3, 2, 1}, {13, 13, 3, 2, 0}, {9, 20, 2, 2, 0}, {7, 7, 3, 1, 1}, {12, 17, 5, 3, 2}} {
			src := make([]float32, c.h*c.w)
			for i := range src {
				src[i] = float32(rng.NormFloat64())
			}
			src[rng.IntN(len(src))] = float32(math.NaN())
			oh := (c.h+2*c.p-c.k)/c.s + 1
			ow := (c.w+2*c.p-c.k)/c.s + 1
			dst := make([]float32, oh*ow)
			MaxPoolPlane(src, c.h, c.w, c.k, c.k, c.p, c.p, c.s, c.s, oh, ow, dst, make([]float32, c.w))
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					best := float32(math.Inf(-1))
					for ky := 0; ky < c.k; ky++ {
						for kx := 0; kx < c.k; kx++ {
							y, x := oy*c.s-c.p+ky, ox*c.s-c.p+kx
							if y < 0 || y >= c.h || x < 0 || x >= c.w {
								continue
							}
							if v := src[y*c.w+x]; v > best || v != v {
								best = v
							}
						}
					}
					got := dst[oy*ow+ox]
					if got != best && !(got != got && best != best) {
						t.Fatalf("%+v avx=%v (%d,%d): %v, want %v", c, avx, oy, ox, got, best)
					}
				}
			}
		}
	}
}
