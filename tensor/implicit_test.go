package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

// SgemmImplicit equals Sgemm on the materialised matrix bit for bit, for any offsets (the
// gather does not assume a convolution's), over several m, k and n blocks, with any number of
// columns per call, at every kernel level.
func TestSgemmImplicitMatchesSgemm(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	for range eachLevel(t) {
		for _, s := range [][3]int{{130, 600, 700}, {64, 363, 300}, {5, 40, 37}, {192, 100, 64}} {
			m, k, n := s[0], s[1], s[2]
			src := randSlice(r, 5000)
			b := ConvCols{Src: src, RowOff: make([]int32, k), ColOff: make([]int32, n)}
			for i := range b.RowOff {
				b.RowOff[i] = int32(r.IntN(2500))
			}
			for j := range b.ColOff {
				// Runs of consecutive offsets (a unit-stride row) and jumps between them.
				if j > 0 && r.IntN(8) != 0 {
					b.ColOff[j] = b.ColOff[j-1] + 1
				} else {
					b.ColOff[j] = int32(r.IntN(2400))
				}
			}
			bm := make([]float32, k*n)
			for i := 0; i < k; i++ {
				for j := 0; j < n; j++ {
					bm[i*n+j] = src[b.RowOff[i]+b.ColOff[j]]
				}
			}
			a := randSlice(r, m*k)
			want := make([]float32, m*n)
			Sgemm(false, false, m, n, k, 1, a, k, bm, n, 0, want, n)
			var pa PackedA
			PackA(&pa, m, k, a, k)
			for _, part := range [][2]int{{0, n}, {3, n - 20}, {n - 17, 17}} {
				j0, nc := part[0], part[1]
				got := make([]float32, m*nc)
				for i := range got {
					got[i] = float32(math.NaN()) // C is not read
				}
				cols := ConvCols{Src: src, RowOff: b.RowOff, ColOff: b.ColOff[j0 : j0+nc]}
				SgemmImplicit(&pa, &cols, nc, got, nc)
				for i := 0; i < m; i++ {
					for j := 0; j < nc; j++ {
						if math.Float32bits(got[i*nc+j]) != math.Float32bits(want[i*n+j0+j]) {
							t.Fatalf("%s %dx%dx%d, columns from %d: C[%d,%d] = %v, Sgemm gives %v", CurrentKernelLevel(), m, n, k, j0, i, j0+j, got[i*nc+j], want[i*n+j0+j])
						}
					}
				}
			}
		}
	}
}

// Offsets that reach outside the source panic rather than read past it.
func TestSgemmImplicitChecksOffsets(t *testing.T) {
	var pa PackedA
	PackA(&pa, 2, 3, make([]float32, 6), 3)
	b := ConvCols{Src: make([]float32, 10), RowOff: []int32{0, 1, 2}, ColOff: []int32{0, 8}}
	defer func() {
		if recover() == nil {
			t.Fatal("offsets past the source did not panic")
		}
	}()
	SgemmImplicit(&pa, &b, 2, make([]float32, 4), 2)
}
