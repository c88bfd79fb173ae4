package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestEltwiseKernels(t *testing.T) {
	for range eachLevel(t) {
		testEltwise(t)
	}
}

func testEltwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	same := func(a, b float32) bool {
		return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
	}
	for _, n := range []int{1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 100} {
		src := make([]float32, n)
		dy := make([]float32, n)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
			dy[i] = float32(rng.NormFloat64())
		}
		src[0] = float32(math.Copysign(0, -1))
		if n > 2 {
			src[2] = float32(math.NaN())
		}
		for i := range src {
			want := float32(0)
			if src[i] > 0 || src[i] != src[i] {
				want = src[i]
			}
			got := make([]float32, n)
			ReluTo(got, src)
			if !same(got[i], want) {
				t.Fatalf("ReluTo n=%d i=%d: %v, want %v", n, i, got[i], want)
			}
			dx := make([]float32, n)
			ReluGradTo(dx, dy, src)
			wg := float32(0)
			if src[i] > 0 {
				wg = dy[i]
			}
			if !same(dx[i], wg) {
				t.Fatalf("ReluGradTo n=%d i=%d: %v, want %v", n, i, dx[i], wg)
			}
			cp := make([]float32, n)
			AddConstCopy(cp, src, 0.5)
			if !same(cp[i], src[i]+0.5) {
				t.Fatalf("AddConstCopy n=%d i=%d", n, i)
			}
			acc := append([]float32(nil), dy...)
			AddTo(acc, src)
			if !same(acc[i], dy[i]+src[i]) {
				t.Fatalf("AddTo n=%d i=%d", n, i)
			}
			for _, relu := range []bool{false, true} {
				x := append([]float32(nil), src...)
				AddConstTo(x, 0.25, relu)
				w := src[i] + 0.25
				if relu && !(w > 0) && w == w {
					w = 0
				}
				if !same(x[i], w) {
					t.Fatalf("AddConstTo relu=%v n=%d i=%d: %v, want %v", relu, n, i, x[i], w)
				}
			}
		}
	}
}

func TestRows(t *testing.T) {
	for avx := range eachLevel(t) {
		for _, c := range []struct{ rows, cols, ld int }{{1, 1, 1}, {3, 5, 7}, {4, 8, 8}, {5, 10, 14}, {28, 28, 32}, {2, 17, 17}, {3, 3, 2}} {
			src := make([]float32, (c.rows-1)*c.ld+c.cols)
			for i := range src {
				src[i] = float32(i + 1)
			}
			dst := make([]float32, c.rows*c.cols)
			CopyRows(dst, src, c.rows, c.cols, c.ld)
			acc := make([]float32, len(src))
			copy(acc, src)
			AddRows(acc, c.ld, dst, c.rows, c.cols)
			for r := 0; r < c.rows; r++ {
				for j := 0; j < c.cols; j++ {
					if dst[r*c.cols+j] != src[r*c.ld+j] {
						t.Fatalf("CopyRows %+v: [%d,%d] = %v", c, r, j, dst[r*c.cols+j])
					}
				}
			}
			want := make([]float32, len(src))
			copy(want, src)
			for r := 0; r < c.rows; r++ {
				for j := 0; j < c.cols; j++ {
					want[r*c.ld+j] += src[r*c.ld+j]
				}
			}
			for i := range want {
				if acc[i] != want[i] {
					t.Fatalf("AddRows %+v avx=%v: [%d] = %v, want %v", c, avx, i, acc[i], want[i])
				}
			}
		}
	}
}
