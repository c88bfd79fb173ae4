package tensor

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// QGemm (AVX2 and the Go fallback) against an int64 reference, bit for bit, on shapes with
// every edge (m % 6, n % 16, odd k) and levels at the bounds, packing B out of a wider matrix.
func TestQGemm(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for avx := range eachLevel(t) {
		for trial := 0; trial < 60; trial++ {
			m, n, k := 1+r.IntN(20), 1+r.IntN(70), 1+r.IntN(50)
			if trial == 0 {
				m, n, k = 13, 40, QGemmMaxK // the largest sums
			}
			lda, ldb, ldc := k+r.IntN(3), n+r.IntN(5), n+r.IntN(4)
			a, b := make([]float32, m*lda), make([]float32, k*ldb)
			lvl := func() float32 {
				if trial == 0 {
					return float32([]int{-QGemmMaxLevel, QGemmMaxLevel}[r.IntN(2)])
				}
				return float32(r.IntN(2*QGemmMaxLevel+1) - QGemmMaxLevel)
			}
			for i := range a {
				a[i] = lvl()
			}
			for i := range b {
				b[i] = lvl()
			}
			var pa QPackedA
			var pb QPackedB
			if !PackQA(&pa, m, k, a, lda) || !PackQB(&pb, k, n, b, ldb) {
				t.Fatalf("avx %v %dx%dx%d: integer levels rejected", avx, m, n, k)
			}
			c := make([]float32, m*ldc)
			for i := range c {
				c[i] = float32(math.NaN())
			}
			QGemm(&pa, &pb, c, ldc)
			for i := 0; i < m; i++ {
				for j := 0; j < ldc; j++ {
					if j >= n {
						if !math.IsNaN(float64(c[i*ldc+j])) {
							t.Fatalf("avx %v: wrote past column %d", avx, n)
						}
						continue
					}
					var s int64
					for p := 0; p < k; p++ {
						s += int64(a[i*lda+p]) * int64(b[p*ldb+j])
					}
					if c[i*ldc+j] != float32(s) {
						t.Fatalf("avx %v %dx%dx%d: C[%d][%d] = %g, want %d", avx, m, n, k, i, j, c[i*ldc+j], s)
					}
				}
			}
		}
	}
}

// Packing refuses what the integer kernel cannot compute exactly: fractions, levels beyond
// QGemmMaxLevel, NaN, infinities, -2^31 (which converts to itself), and k beyond QGemmMaxK;
// in full AVX2 strips, the odd last row and the Go edge strip alike.
func TestQGemmRejects(t *testing.T) {
	bad := []float32{0.5, -1.25, QGemmMaxLevel + 1, -QGemmMaxLevel - 1, float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), -2147483648, 3e9}
	for avx := range eachLevel(t) {
		const k, n = 5, 37
		for _, v := range bad {
			for _, pos := range []int{0, 3*n + 9, 4*n + 2, 2*n + 35} { // strip, middle row, odd last row, edge strip
				b := make([]float32, k*n)
				b[pos] = v
				var pb QPackedB
				if PackQB(&pb, k, n, b, n) {
					t.Errorf("avx %v: B with %g at %d accepted", avx, v, pos)
				}
				var pa QPackedA
				if PackQA(&pa, k, n, b, n) && n <= QGemmMaxK {
					t.Errorf("avx %v: A with %g at %d accepted", avx, v, pos)
				}
			}
		}
		var pb QPackedB
		if PackQB(&pb, QGemmMaxK+1, 1, make([]float32, QGemmMaxK+1), 1) {
			t.Error("k beyond QGemmMaxK accepted")
		}
	}
}

// QGemmRequant equals QGemm followed by AffineClampQuant's requantization, bit for bit (the
// sign of zero too), AVX2 and Go, on edge shapes with levels clamped at both bounds and exact
// halves before the rounding.
func TestQGemmRequant(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	inf := float32(math.Inf(1))
	for avx := range eachLevel(t) {
		for trial := 0; trial < 40; trial++ {
			m, n, k := 1+r.IntN(20), 1+r.IntN(60), 1+r.IntN(40)
			a, b := make([]float32, m*k), make([]float32, k*n)
			for i := range a {
				a[i] = float32(r.IntN(255) - 127)
			}
			for i := range b {
				b[i] = float32(r.IntN(256) - 128)
			}
			bias, mult := make([]float32, m), make([]float32, m)
			for i := range bias {
				bias[i] = float32(r.IntN(2001) - 1000)
				mult[i] = float32(r.Float64()*0.01 + 0.001)
				if i%3 == 0 {
					mult[i] = 0.5 // exact halves
				}
			}
			var pa QPackedA
			var pb QPackedB
			PackQA(&pa, m, k, a, k)
			PackQB(&pb, k, n, b, n)
			want := make([]float32, m*n)
			QGemm(&pa, &pb, want, n)
			zp := float32(r.IntN(200))
			for i := 0; i < m; i++ {
				AffineClampQuant(want[i*n:(i+1)*n], want[i*n:(i+1)*n], bias[i], mult[i], 0, -inf, inf, 1, zp, 0, 255)
			}
			got := make([]float32, m*n)
			QGemmRequant(&pa, &pb, got, n, bias, mult, -zp, 255-zp)
			clamped := 0
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("avx %v %dx%dx%d: [%d] = %g, want %g", avx, m, n, k, i, got[i], want[i])
				}
				if got[i] == -zp || got[i] == 255-zp {
					clamped++
				}
			}
			if trial == 0 && clamped == 0 {
				t.Logf("avx %v: no clamped outputs in the first trial", avx)
			}
		}
	}
}

// QGemmRequantStream (non-temporal stores where C is aligned) stores what QGemmRequant
// stores, bit for bit, into aligned and unaligned outputs, with row strides that allow the
// streaming stores and strides that do not, leaving the columns beyond n alone.
func TestQGemmRequantStream(t *testing.T) {
	r := rand.New(rand.NewPCG(35, 36))
	for trial := 0; trial < 30; trial++ {
		m, n, k := 1+r.IntN(40), 1+r.IntN(100), 1+r.IntN(60)
		ldc := n + []int{0, (8 - n%8) % 8, 3}[trial%3]
		a, b := make([]float32, m*k), make([]float32, k*n)
		for i := range a {
			a[i] = float32(r.IntN(255) - 127)
		}
		for i := range b {
			b[i] = float32(r.IntN(256) - 128)
		}
		bias, mult := make([]float32, m), make([]float32, m)
		for i := range bias {
			bias[i], mult[i] = float32(r.IntN(2001)-1000), float32(r.Float64()*0.01+0.001)
		}
		var pa QPackedA
		var pb QPackedB
		PackQA(&pa, m, k, a, k)
		PackQB(&pb, k, n, b, n)
		want := make([]float32, m*ldc)
		QGemmRequant(&pa, &pb, want, ldc, bias, mult, -100, 155)
		buf := make([]float32, m*ldc+24)
		base := int((32 - uintptr(unsafe.Pointer(&buf[0]))%32) % 32 / 4)
		for _, off := range []int{base, base + 1, base + 8} {
			// base and base+8 are 32-byte aligned (streamed when ldc%8 == 0); base+1 is not.
			got := buf[off : off+m*ldc]
			for i := range got {
				got[i] = float32(math.NaN())
			}
			QGemmRequantStream(&pa, &pb, got, ldc, bias, mult, -100, 155)
			for i := 0; i < m; i++ {
				for j := 0; j < ldc; j++ {
					g, w := got[i*ldc+j], want[i*ldc+j]
					if j >= n {
						if !math.IsNaN(float64(g)) {
							t.Fatalf("%dx%dx%d ldc %d offset %d: wrote past column %d", m, n, k, ldc, off, n)
						}
						continue
					}
					if math.Float32bits(g) != math.Float32bits(w) {
						t.Fatalf("%dx%dx%d ldc %d offset %d: [%d][%d] = %g, want %g", m, n, k, ldc, off, i, j, g, w)
					}
				}
			}
		}
	}
}

// A Rows view computes the rows it covers as the whole operand does, bit for bit, partial
// last panel included; a view not starting on a panel is refused.
func TestQPackedARows(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	for avx := range eachLevel(t) {
		const m, n, k = 23, 37, 19
		a, b := make([]float32, m*k), make([]float32, k*n)
		for i := range a {
			a[i] = float32(r.IntN(255) - 127)
		}
		for i := range b {
			b[i] = float32(r.IntN(256))
		}
		var pa QPackedA
		var pb QPackedB
		if !PackQA(&pa, m, k, a, k) || !PackQB(&pb, k, n, b, n) {
			t.Fatal("levels rejected")
		}
		whole := make([]float32, m*n)
		QGemm(&pa, &pb, whole, n)
		for _, rows := range [][2]int{{0, 6}, {6, 18}, {12, 23}, {18, 23}, {0, 23}} {
			v := pa.Rows(rows[0], rows[1])
			part := make([]float32, (rows[1]-rows[0])*n)
			QGemm(&v, &pb, part, n)
			for i := range part {
				if part[i] != whole[rows[0]*n+i] {
					t.Fatalf("avx %v: rows %v: element %d = %g, whole operand %g", avx, rows, i, part[i], whole[rows[0]*n+i])
				}
			}
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Error("Rows(3, 9) did not panic")
				}
			}()
			pa.Rows(3, 9)
		}()
	}
}

// QGemm, QGemmRequant and QGemmRequantStream store the same bits at every kernel level (the
// avx512 VNNI kernels, the AVX2 ones, the Go code) over shapes with every edge: m not a multiple
// of 6 (the 4- and 2-row paths and the others), n not a multiple of 16 and odd and even numbers
// of strips, odd k and k up to QGemmMaxK, levels at ±QGemmMaxLevel, outputs clamped at both
// bounds and at a bound of 0 (where -0 must become +0), exact halves before the rounding, and C
// at offsets and strides that allow the non-temporal stores of either level or of neither.
// Columns beyond n are left alone.
func TestQGemmLevelsAgree(t *testing.T) {
	if len(AvailableKernelLevels()) < 2 {
		t.Skip("one kernel level on this machine: ", KernelSummary())
	}
	saved := CurrentKernelLevel()
	defer SetKernelLevel(saved)
	r := rand.New(rand.NewPCG(41, 42))
	for trial := 0; trial < 160; trial++ {
		m, n, k := 1+r.IntN(40), 1+r.IntN(100), 1+r.IntN(70)
		switch trial % 8 {
		case 1:
			n = 16 * (1 + r.IntN(6)) // whole strips, even and odd counts
		case 2:
			m = 6 * (1 + r.IntN(6))
		case 3:
			m, n, k = 1+r.IntN(14), 1+r.IntN(70), QGemmMaxK-r.IntN(2)
		case 4:
			m, n, k = 96+r.IntN(12), 49+r.IntN(3)*147, 16+r.IntN(2)*144
		}
		extreme := trial%5 == 0
		lvl := func() float32 {
			if extreme {
				return float32([]int{-QGemmMaxLevel, QGemmMaxLevel, 0, 1, -1}[r.IntN(5)])
			}
			if k > 100 {
				return float32(r.IntN(2*QGemmMaxLevel+1) - QGemmMaxLevel)
			}
			return float32(r.IntN(255) - 127)
		}
		a, b := make([]float32, m*k), make([]float32, k*n)
		for i := range a {
			a[i] = lvl()
		}
		for i := range b {
			b[i] = lvl()
		}
		bias, mult := make([]float32, m), make([]float32, m)
		for i := range bias {
			bias[i] = float32(r.IntN(4001) - 2000)
			switch r.IntN(4) {
			case 0:
				mult[i] = 0.5 // exact halves
			case 1:
				mult[i] = -float32(r.Float64() * 0.01)
			default:
				mult[i] = float32(r.Float64()*0.02 + 1e-4)
			}
			if k > 100 {
				mult[i] *= 1e-4
			}
		}
		qlo, qhi := [][2]float32{{-128, 127}, {0, 255}, {-3, 4}, {0, 6}}[trial%4][0], [][2]float32{{-128, 127}, {0, 255}, {-3, 4}, {0, 6}}[trial%4][1]
		var pa QPackedA
		var pb QPackedB
		if !PackQA(&pa, m, k, a, k) || !PackQB(&pb, k, n, b, n) {
			t.Fatalf("%dx%dx%d: integer levels rejected", m, n, k)
		}
		ldc := []int{n, (n + 15) / 16 * 16, (n+7)/8*8 + 8*((n+7)/8%2^1), n + 3}[r.IntN(4)]
		buf := make([]float32, m*ldc+32)
		base := int((64 - uintptr(unsafe.Pointer(&buf[0]))%64) % 64 / 4)
		off := base + []int{0, 8, 1}[r.IntN(3)] // 64-byte aligned, 32 only, 4 only
		for f, name := range []string{"QGemm", "QGemmRequant", "QGemmRequantStream"} {
			var ref []float32
			var refLevel KernelLevel
			for _, l := range AvailableKernelLevels() {
				if err := SetKernelLevel(l); err != nil {
					t.Fatal(err)
				}
				c := buf[off : off+m*ldc]
				for i := range c {
					c[i] = float32(math.NaN())
				}
				switch f {
				case 0:
					QGemm(&pa, &pb, c, ldc)
				case 1:
					QGemmRequant(&pa, &pb, c, ldc, bias, mult, qlo, qhi)
				case 2:
					QGemmRequantStream(&pa, &pb, c, ldc, bias, mult, qlo, qhi)
				}
				if ref == nil {
					ref, refLevel = append([]float32(nil), c...), l
					continue
				}
				for i := range c {
					if g, w := math.Float32bits(c[i]), math.Float32bits(ref[i]); g != w && !(i%ldc >= n && math.IsNaN(float64(c[i])) && math.IsNaN(float64(ref[i]))) {
						t.Fatalf("%s %dx%dx%d ldc %d offset %d: [%d][%d] = %g at %s, %g at %s", name, m, n, k, ldc, off-base, i/ldc, i%ldc, c[i], l, ref[i], refLevel)
					}
				}
			}
			for i := range ref {
				if i%ldc >= n && !math.IsNaN(float64(ref[i])) {
					t.Fatalf("%s %dx%dx%d ldc %d: wrote past column %d", name, m, n, k, ldc, n)
				}
			}
		}
	}
}

// PackQB accepts and refuses the same matrices at every level and packs the same int16: -0
// is the level 0, a fraction, a level beyond ±QGemmMaxLevel, NaN or an infinity anywhere (a
// full strip, the partial one, the odd last row) refuses the whole matrix.
func TestPackQBLevelsAgree(t *testing.T) {
	saved := CurrentKernelLevel()
	defer SetKernelLevel(saved)
	r := rand.New(rand.NewPCG(43, 44))
	odd := []float32{float32(math.Copysign(0, -1)), 0.5, -1023.5, QGemmMaxLevel + 1, -QGemmMaxLevel - 1, float32(math.NaN()), float32(math.Inf(-1)), 65536 + 7, -2147483648, QGemmMaxLevel, -QGemmMaxLevel}
	for trial := 0; trial < 300; trial++ {
		k, n := 1+r.IntN(40), 1+r.IntN(90)
		ldb := n + r.IntN(5)
		b := make([]float32, k*ldb)
		for i := range b {
			b[i] = float32(r.IntN(2*QGemmMaxLevel+1) - QGemmMaxLevel)
		}
		if trial%3 != 0 {
			b[r.IntN(k)*ldb+r.IntN(n)] = odd[r.IntN(len(odd))]
		}
		var ref []int16
		var refOK bool
		for i, l := range AvailableKernelLevels() {
			SetKernelLevel(l)
			var pb QPackedB
			ok := PackQB(&pb, k, n, b, ldb)
			if i == 0 {
				ref, refOK = pb.data, ok
				continue
			}
			if ok != refOK {
				t.Fatalf("%dx%d trial %d: %s accepts: %v, %s: %v", k, n, trial, l, ok, AvailableKernelLevels()[0], refOK)
			}
			if ok {
				for j := range ref {
					if ref[j] != pb.data[j] {
						t.Fatalf("%dx%d: packed [%d] = %d at %s, %d at %s", k, n, j, pb.data[j], l, ref[j], AvailableKernelLevels()[0])
					}
				}
			}
		}
	}
}
