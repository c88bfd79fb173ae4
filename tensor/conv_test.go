package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
)

type convGeom struct{ c, h, w, kh, kw, ph, pw, sh, sw, dh, dw int }

var convGeoms = []convGeom{
	{1, 28, 28, 5, 5, 0, 0, 1, 1, 1, 1},
	{3, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1},
	{2, 7, 9, 3, 2, 1, 0, 2, 1, 1, 1},
	{3, 11, 10, 3, 3, 2, 1, 2, 3, 1, 1},
	{2, 9, 9, 3, 3, 2, 2, 1, 1, 2, 2},
	{1, 5, 6, 2, 3, 3, 3, 3, 2, 2, 1},
	{4, 13, 13, 11, 11, 2, 2, 4, 4, 1, 1},
	{1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1},
	{1, 3, 3, 5, 5, 2, 2, 1, 1, 1, 1},
	{1, 2, 2, 3, 3, 4, 4, 1, 1, 1, 1}, // padding wider than the image
}

// convNaive is a direct convolution of x (c x h x w) with weights wt (oc x c x kh x kw).
func convNaive(g convGeom, x, wt []float32, oc int) []float32 {
	oh, ow := ConvOut(g.h, g.kh, g.ph, g.sh, g.dh), ConvOut(g.w, g.kw, g.pw, g.sw, g.dw)
	out := make([]float32, oc*oh*ow)
	for o := 0; o < oc; o++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				var s float64
				for ci := 0; ci < g.c; ci++ {
					for ki := 0; ki < g.kh; ki++ {
						for kj := 0; kj < g.kw; kj++ {
							iy, ix := oy*g.sh-g.ph+ki*g.dh, ox*g.sw-g.pw+kj*g.dw
							if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w {
								continue
							}
							s += float64(wt[((o*g.c+ci)*g.kh+ki)*g.kw+kj]) * float64(x[(ci*g.h+iy)*g.w+ix])
						}
					}
				}
				out[(o*oh+oy)*ow+ox] = float32(s)
			}
		}
	}
	return out
}

func TestIm2colConv(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, g := range convGeoms {
		oh, ow := ConvOut(g.h, g.kh, g.ph, g.sh, g.dh), ConvOut(g.w, g.kw, g.pw, g.sw, g.dw)
		rows, cols := g.c*g.kh*g.kw, oh*ow
		x := randSlice(r, g.c*g.h*g.w)
		oc := 3
		wt := randSlice(r, oc*rows)
		col := make([]float32, rows*cols)
		for i := range col {
			col[i] = float32(math.NaN()) // Im2col must write every element
		}
		Im2col(x, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, col)
		got := make([]float32, oc*cols)
		Sgemm(false, false, oc, cols, rows, 1, wt, rows, col, cols, 0, got, cols)
		want := convNaive(g, x, wt, oc)
		for i := range want {
			if d := math.Abs(float64(got[i] - want[i])); !(d < 1e-4) {
				t.Fatalf("%+v: out[%d]=%g want %g", g, i, got[i], want[i])
			}
		}
	}
}

func TestCol2imAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, g := range convGeoms {
		oh, ow := ConvOut(g.h, g.kh, g.ph, g.sh, g.dh), ConvOut(g.w, g.kw, g.pw, g.sw, g.dw)
		n := g.c * g.kh * g.kw * oh * ow
		x := randSlice(r, g.c*g.h*g.w)
		y := randSlice(r, n)
		col := make([]float32, n)
		Im2col(x, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, col)
		base := randSlice(r, len(x))
		img := append([]float32(nil), base...)
		Col2im(y, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, img)
		var lhs, rhs float64
		for i := range col {
			lhs += float64(col[i]) * float64(y[i])
		}
		for i := range x {
			rhs += float64(x[i]) * float64(img[i]-base[i]) // Col2im accumulates onto base
		}
		if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
			t.Fatalf("%+v: <Im2col(x), y> = %g, <x, Col2im(y)> = %g", g, lhs, rhs)
		}
	}
}

func TestConvOut(t *testing.T) {
	for _, c := range [][6]int{{28, 5, 0, 1, 1, 24}, {32, 3, 1, 1, 1, 32}, {227, 11, 0, 4, 1, 55}, {9, 3, 2, 1, 2, 9}, {7, 3, 1, 2, 1, 4}} {
		if got := ConvOut(c[0], c[1], c[2], c[3], c[4]); got != c[5] {
			t.Errorf("ConvOut%v = %d", c[:5], got)
		}
	}
}

func TestVecKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	forKernels(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 3, 7, 8, 9, 31, 32, 33, 100, 1000} {
			x, y := randSlice(r, n), randSlice(r, n+3)
			want := append([]float32(nil), y...)
			axpyGo(0.75, x, want[:n])
			got := append([]float32(nil), y...)
			Axpy(0.75, x, got)
			for i := range got {
				if math.Abs(float64(got[i]-want[i])) > 1e-6 {
					t.Fatalf("Axpy n=%d: y[%d]=%g want %g", n, i, got[i], want[i])
				}
			}
			var d float64
			for i := 0; i < n; i++ {
				d += float64(x[i]) * float64(y[i])
			}
			if g := Dot(x, y); math.Abs(float64(g)-d) > 1e-5*float64(n+1) {
				t.Fatalf("Dot n=%d: %g want %g", n, g, d)
			}
		}
	})
	x := []float32{-1, 2, float32(math.NaN()), 0, 3}
	ReluInPlace(x)
	if x[0] != 0 || x[1] != 2 || x[2] != 0 || x[4] != 3 {
		t.Fatalf("ReluInPlace: %v", x)
	}
	g := []float32{1, 1, 1, 1, 1}
	ReluBackward(g, x)
	if g[0] != 0 || g[1] != 1 || g[2] != 0 || g[3] != 0 || g[4] != 1 {
		t.Fatalf("ReluBackward: %v", g)
	}
	s := []float32{1, 2, 3, 4, 5}
	Scale(2, s)
	AddConst(1, s)
	Add([]float32{1, 1}, s)
	if Sum(s) != 2+4+6+8+10+5+2 {
		t.Fatalf("Scale/AddConst/Add/Sum: %v", s)
	}
}

func TestConvOutWindowLargerThanInput(t *testing.T) {
	// in 4, kernel 6, no padding: the window does not fit anywhere.
	if got := ConvOut(4, 6, 0, 2, 1); got > 0 {
		t.Errorf("ConvOut(4, 6, 0, 2, 1) = %d, want <= 0", got)
	}
	if got := ConvOut(5, 3, 1, 2, 1); got != 3 {
		t.Errorf("ConvOut(5, 3, 1, 2, 1) = %d, want 3", got)
	}
}

// Im2col with a horizontal stride of 2 (gathered in vector calls, the odd elements parked in
// the next row) equals the definition element for element, NaN-filled output fully written,
// on random geometries with padding, dilation and vertical strides.
func TestIm2colStride2(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 200; trial++ {
		g := convGeom{1 + r.IntN(3), 3 + r.IntN(18), 3 + r.IntN(40), 1 + r.IntN(4), 1 + r.IntN(4), r.IntN(3), r.IntN(3), 1 + r.IntN(3), 2, 1 + r.IntN(2), 1 + r.IntN(2)}
		oh, ow := ConvOut(g.h, g.kh, g.ph, g.sh, g.dh), ConvOut(g.w, g.kw, g.pw, g.sw, g.dw)
		if oh <= 0 || ow <= 0 {
			continue
		}
		x := randSlice(r, g.c*g.h*g.w)
		col := make([]float32, g.c*g.kh*g.kw*oh*ow)
		for i := range col {
			col[i] = float32(math.NaN())
		}
		Im2col(x, g.c, g.h, g.w, g.kh, g.kw, g.ph, g.pw, g.sh, g.sw, g.dh, g.dw, col)
		for ci := 0; ci < g.c; ci++ {
			for ki := 0; ki < g.kh; ki++ {
				for kj := 0; kj < g.kw; kj++ {
					row := (ci*g.kh+ki)*g.kw + kj
					for oy := 0; oy < oh; oy++ {
						for ox := 0; ox < ow; ox++ {
							iy, ix := oy*g.sh-g.ph+ki*g.dh, ox*g.sw-g.pw+kj*g.dw
							var want float32
							if iy >= 0 && iy < g.h && ix >= 0 && ix < g.w {
								want = x[(ci*g.h+iy)*g.w+ix]
							}
							if got := col[row*oh*ow+oy*ow+ox]; math.Float32bits(got) != math.Float32bits(want) {
								t.Fatalf("%+v: row %d (%d,%d) = %g, want %g", g, row, oy, ox, got, want)
							}
						}
					}
				}
			}
		}
	}
}
