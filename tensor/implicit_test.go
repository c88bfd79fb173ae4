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

// FillSource's layout and Offsets describe Im2col's matrix element for element, for strides,
// dilations and paddings in either direction.
func TestImplicitGeomMatchesIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	for _, g := range []ImplicitGeom{
		{C: 3, H: 30, W: 31, KH: 11, KW: 11, PadH: 2, PadW: 2, StrideH: 4, StrideW: 4, DilH: 1, DilW: 1},
		{C: 2, H: 17, W: 16, KH: 7, KW: 7, PadH: 3, PadW: 3, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1},
		{C: 4, H: 9, W: 12, KH: 3, KW: 5, PadH: 0, PadW: 4, StrideH: 1, StrideW: 3, DilH: 2, DilW: 2},
		{C: 1, H: 8, W: 8, KH: 1, KW: 1, PadH: 0, PadW: 0, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1},
		{C: 3, H: 19, W: 21, KH: 5, KW: 5, PadH: 2, PadW: 2, StrideH: 2, StrideW: 2, DilH: 1, DilW: 1},
		{C: 2, H: 12, W: 13, KH: 3, KW: 2, PadH: 1, PadW: 1, StrideH: 3, StrideW: 4, DilH: 1, DilW: 2},
		{C: 2, H: 23, W: 27, KH: 5, KW: 5, PadH: 3, PadW: 3, StrideH: 4, StrideW: 4, DilH: 1, DilW: 1},
		{C: 1, H: 9, W: 6, KH: 4, KW: 4, PadH: 0, PadW: 0, StrideH: 4, StrideW: 4, DilH: 1, DilW: 1},
		{C: 2, H: 6, W: 7, KH: 5, KW: 3, PadH: 2, PadW: 0, StrideH: 1, StrideW: 1, DilH: 1, DilW: 3},
	} {
		oh, ow := g.out()
		k, p := g.C*g.KH*g.KW, oh*ow
		img := randSlice(r, g.C*g.H*g.W)
		want := make([]float32, k*p)
		Im2col(img, g.C, g.H, g.W, g.KH, g.KW, g.PadH, g.PadW, g.StrideH, g.StrideW, g.DilH, g.DilW, want)
		src := randSlice(r, g.SourceLen()) // every value is written
		g.FillSource(src, img)
		rowOff, colOff := make([]int32, k), make([]int32, p)
		g.Offsets(rowOff, colOff)
		for i := 0; i < k; i++ {
			for j := 0; j < p; j++ {
				if got := src[rowOff[i]+colOff[j]]; got != want[i*p+j] {
					t.Fatalf("%+v: element (%d, %d) is %v, Im2col gives %v", g, i, j, got, want[i*p+j])
				}
			}
		}
		// Along an output row the offsets are consecutive, whatever the stride.
		for j := 1; j < p; j++ {
			if j%ow != 0 && colOff[j] != colOff[j-1]+1 {
				t.Fatalf("%+v: column offsets %d and %d are not adjacent", g, colOff[j-1], colOff[j])
			}
		}
	}
}
