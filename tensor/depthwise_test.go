package tensor

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// naiveDW is the definition: dst[oy][ox] = sum over taps of k[ki][kj] * src[iy][ix], zero
// outside the image.
func naiveDW(g *DWGeom, src, k []float32) []float32 {
	dst := make([]float32, g.OH*g.OW)
	for oy := 0; oy < g.OH; oy++ {
		for ox := 0; ox < g.OW; ox++ {
			var s float64
			for ki := 0; ki < g.KH; ki++ {
				for kj := 0; kj < g.KW; kj++ {
					iy, ix := oy*g.StrideH-g.PadH+ki*g.DilH, ox*g.StrideW-g.PadW+kj*g.DilW
					if iy >= 0 && iy < g.H && ix >= 0 && ix < g.W {
						s += float64(k[ki*g.KW+kj]) * float64(src[iy*g.W+ix])
					}
				}
			}
			dst[oy*g.OW+ox] = float32(s)
		}
	}
	return dst
}

// The plane kernels against the definition and its adjoints (<dy, conv(x)> = <conv^T(dy), x>,
// and each kernel-gradient entry is <dy, conv of x with that unit tap>), on random geometries
// and channel multipliers. The work buffer starts as NaN garbage.
func TestDepthwisePlane(t *testing.T) {
	for range eachLevel(t) {
		testDepthwisePlane(t)
	}
}

func testDepthwisePlane(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	checked := 0
	for trial := 0; trial < 300; trial++ {
		g := DWGeom{H: 1 + r.IntN(12), W: 1 + r.IntN(45), KH: 1 + r.IntN(5), KW: 1 + r.IntN(5),
			PadH: r.IntN(3), PadW: r.IntN(3), StrideH: 1 + r.IntN(3), StrideW: 1 + r.IntN(3), DilH: 1 + r.IntN(2), DilW: 1 + r.IntN(2)}
		if trial%4 == 0 {
			g.PadH, g.PadW, g.StrideH, g.StrideW = 0, 0, 1, 1 // the unsplit path
		}
		if g.Check() != nil {
			continue
		}
		checked++
		mult := 1 + r.IntN(3)
		kk, op := g.KH*g.KW, g.OH*g.OW
		src, k, bias := randSlice(r, g.H*g.W), randSlice(r, mult*kk), randSlice(r, mult)
		work := make([]float32, g.ScratchLen())
		for i := range work {
			work[i] = float32(math.NaN())
		}
		dst := make([]float32, mult*op)
		DepthwiseForward(&g, src, k, bias, dst, work, mult)
		dy := randSlice(r, mult*op)
		dx := randSlice(r, g.H*g.W)
		dx0 := append([]float32(nil), dx...)
		dk := make([]float32, mult*kk)
		DepthwiseBackward(&g, src, k, dy, dk, dx, work, mult)
		var lhs, rx float64
		for m := 0; m < mult; m++ {
			want := naiveDW(&g, src, k[m*kk:(m+1)*kk])
			for i := range want {
				got := dst[m*op+i]
				if math.Abs(float64(got-want[i]-bias[m])) > 1e-5*(1+math.Abs(float64(want[i]))) {
					t.Fatalf("%+v m %d: out[%d] = %g, want %g", g, m, i, got, want[i]+bias[m])
				}
				lhs += float64(dy[m*op+i]) * float64(want[i])
			}
			ki := r.IntN(kk)
			e := make([]float32, kk)
			e[ki] = 1
			var want1 float64
			for i, v := range naiveDW(&g, src, e) {
				want1 += float64(v) * float64(dy[m*op+i])
			}
			if math.Abs(float64(dk[m*kk+ki])-want1) > 1e-4*(1+math.Abs(want1)) {
				t.Fatalf("%+v m %d: dk[%d] = %g, want %g", g, m, ki, dk[m*kk+ki], want1)
			}
		}
		for i := range dx {
			rx += float64(dx[i]-dx0[i]) * float64(src[i])
		}
		if math.Abs(lhs-rx) > 1e-4*(1+math.Abs(lhs)) {
			t.Fatalf("%+v: <dy, y> = %g, <dx, x> = %g", g, lhs, rx)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d geometries checked", checked)
	}
	if (&DWGeom{H: 2, W: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, DilH: 1, DilW: 1}).Check() == nil {
		t.Error("a kernel larger than the image passed Check")
	}
}

// The direct forward pass (column stride 1 or 2, read straight from the input plane) against the
// definition, Go and AVX2, on planes wide enough for its 32-output blocks and narrow enough for a
// single masked block. The plane lies between NaN guards (a load outside it would poison an
// output) and so does each output plane (a store outside it would overwrite a guard). With
// integer inputs (a quantized network's levels) every sum is exact, so the result must equal the
// definition bit for bit.
func TestDepthwiseForwardDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	nan := float32(math.NaN())
	for avx := range eachLevel(t) {
		checked := 0
		for trial := 0; trial < 300; trial++ {
			g := DWGeom{H: 1 + r.IntN(12), W: 1 + r.IntN(140), KH: 1 + r.IntN(4), KW: 1 + r.IntN(4),
				PadH: r.IntN(3), PadW: r.IntN(3), StrideH: 1 + r.IntN(2), StrideW: 1 + r.IntN(2), DilH: 1 + r.IntN(2), DilW: 1 + r.IntN(2)}
			if trial%3 == 0 {
				g.KH, g.KW, g.DilH, g.DilW, g.PadH, g.PadW = 3, 3, 1, 1, r.IntN(2), r.IntN(2) // MobileNets' layers
			}
			if g.Check() != nil {
				continue
			}
			if g.rows == nil {
				t.Fatalf("%+v: no direct plan", g)
			}
			checked++
			levels := trial%2 == 0
			mult := 1 + r.IntN(2)
			kk, op, ip := g.KH*g.KW, g.OH*g.OW, g.H*g.W
			buf := make([]float32, ip+64)
			for i := range buf {
				buf[i] = nan
			}
			src := buf[32 : 32+ip]
			k, bias := randSlice(r, mult*kk), randSlice(r, mult)
			for i := range src {
				src[i] = float32(r.NormFloat64())
				if levels {
					src[i] = float32(r.IntN(256) - 128)
				}
			}
			if levels {
				for i := range k {
					k[i] = float32(r.IntN(255) - 127)
				}
				for i := range bias {
					bias[i] = float32(r.IntN(20001) - 10000)
				}
			}
			out := make([]float32, mult*op+16)
			for i := range out {
				out[i] = nan
			}
			dst := out[8 : 8+mult*op]
			DepthwiseForward(&g, src, k, bias, dst, nil, mult)
			for i := 0; i < 8; i++ {
				if !math.IsNaN(float64(out[i])) || !math.IsNaN(float64(out[len(out)-1-i])) {
					t.Fatalf("avx %v %+v: wrote outside the output", avx, g)
				}
			}
			for m := 0; m < mult; m++ {
				want := naiveDW(&g, src, k[m*kk:(m+1)*kk])
				for i, w := range want {
					got, w := dst[m*op+i], w+bias[m]
					bad := math.Abs(float64(got-w)) > 1e-5*(1+math.Abs(float64(w))) || math.IsNaN(float64(got))
					if levels {
						bad = got != w
					}
					if bad {
						t.Fatalf("avx %v %+v m %d (%d,%d): %g, want %g", avx, g, m, i/g.OW, i%g.OW, got, w)
					}
				}
			}
		}
		if checked < 150 {
			t.Fatalf("only %d geometries checked", checked)
		}
	}
}

// The tails fused into the 3x3 kernel's stores against DepthwiseForward followed by the
// separate pass they replace (AffineClampQuant for a requantization, AffineClamp for a folded
// batch norm and ReLU6), bit for bit, on integer levels as a quantized network feeds them and
// on plain floats (with zeros of both signs in the input, where the order of the operations
// shows in the sign of a zero).
func TestDepthwiseForwardTail(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	checked := 0
	for trial := 0; trial < 300; trial++ {
		g := DWGeom{H: 1 + r.IntN(20), W: 1 + r.IntN(80), KH: 3, KW: 3, PadH: r.IntN(2), PadW: r.IntN(2),
			StrideH: 1 + r.IntN(2), StrideW: 1 + r.IntN(2), DilH: 1, DilW: 1}
		if g.Check() != nil {
			continue
		}
		if !g.FusesTail() {
			t.Skip("no fused tail on this machine")
		}
		checked++
		requant := trial%2 == 0
		mult := 1 + r.IntN(2)
		kk, op := g.KH*g.KW, g.OH*g.OW
		src, k, bias := randSlice(r, g.H*g.W), randSlice(r, mult*kk), randSlice(r, mult)
		if requant {
			for i := range src {
				src[i] = float32(r.IntN(256) - 128)
			}
			for i := range k {
				k[i] = float32(r.IntN(255) - 127)
			}
			for i := range bias {
				bias[i] = float32(r.IntN(4001) - 2000)
			}
		} else if trial%3 == 0 {
			for i := range src {
				src[i] = 0
			}
			for i := range bias {
				bias[i] = negZero
			}
			for i := range k {
				k[i] = -float32(math.Abs(float64(k[i]))) // -0 sums in the blocks of 32
			}
		}
		tail := &DWTail{Requant: requant, A: make([]float32, mult), C: make([]float32, mult), Lo: 0, Hi: 6}
		for m := range tail.A {
			tail.A[m] = float32(r.Float64() * 2)
			tail.C[m] = float32(r.NormFloat64())
			if trial%3 == 0 {
				tail.C[m] = negZero
			}
		}
		zp, qmin, qmax := float32(r.IntN(256)-128), float32(-128), float32(127)
		if requant {
			for m := range tail.A {
				tail.A[m] = float32(r.Float64() * 0.02)
			}
			tail.Lo, tail.Hi = qmin-zp, qmax-zp
		}
		want := make([]float32, mult*op)
		DepthwiseForward(&g, src, k, bias, want, make([]float32, g.ScratchLen()), mult)
		for m := 0; m < mult; m++ {
			w := want[m*op : (m+1)*op]
			if requant {
				AffineClampQuant(w, w, 0, tail.A[m], 0, -inf, inf, 1, zp, qmin, qmax)
			} else {
				AffineClamp(w, w, 0, tail.A[m], tail.C[m], tail.Lo, tail.Hi)
			}
		}
		got := make([]float32, mult*op)
		DepthwiseForwardTail(&g, src, k, bias, got, mult, tail)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v requant %v: out[%d] = %g, want %g", g, requant, i, got[i], want[i])
			}
		}
	}
	if checked < 150 {
		t.Fatalf("only %d geometries checked", checked)
	}
}

// DepthwiseForwardTailPlanes gives, plane by plane, DepthwiseForwardTail's outputs bit for bit
// (planes strided apart in the input and the output, with and without bias, both tails), and
// writes nothing between the output planes.
func TestDepthwiseForwardTailPlanes(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for trial := 0; trial < 60; trial++ {
		g := DWGeom{H: 3 + r.IntN(12), W: 1 + r.IntN(40), KH: 3, KW: 3, PadH: r.IntN(2), PadW: 1,
			StrideH: 1 + r.IntN(2), StrideW: 1 + r.IntN(2), DilH: 1, DilW: 1}
		if g.Check() != nil {
			continue
		}
		if !g.FusesTail() {
			t.Skip("no fused tail on this machine")
		}
		planes := 1 + r.IntN(7)
		ip, op := g.H*g.W, g.OH*g.OW
		ss, ds := ip+r.IntN(9), op+r.IntN(9)
		src := make([]float32, (planes-1)*ss+ip)
		for i := range src {
			src[i] = float32(r.IntN(256) - 128)
		}
		k, bias := randSlice(r, planes*9), randSlice(r, planes)
		if trial%3 == 0 {
			bias = nil
		}
		tail := &DWTail{Requant: trial%2 == 0, A: randSlice(r, planes), C: randSlice(r, planes), Lo: -50, Hi: 60}
		got := make([]float32, (planes-1)*ds+op)
		for i := range got {
			got[i] = float32(math.NaN())
		}
		DepthwiseForwardTailPlanes(&g, src, ss, k, bias, got, ds, planes, tail)
		for m := 0; m < planes; m++ {
			var b []float32
			if bias != nil {
				b = bias[m : m+1]
			}
			one := &DWTail{Requant: tail.Requant, A: tail.A[m : m+1], C: tail.C[m : m+1], Lo: tail.Lo, Hi: tail.Hi}
			want := make([]float32, op)
			DepthwiseForwardTail(&g, src[m*ss:m*ss+ip], k[m*9:(m+1)*9], b, want, 1, one)
			for i := range want {
				if math.Float32bits(got[m*ds+i]) != math.Float32bits(want[i]) {
					t.Fatalf("%+v plane %d: out[%d] = %g, one plane at a time %g", g, m, i, got[m*ds+i], want[i])
				}
			}
			if m < planes-1 {
				for i := m*ds + op; i < (m+1)*ds; i++ {
					if !math.IsNaN(float64(got[i])) {
						t.Fatalf("%+v: wrote between planes %d and %d", g, m, m+1)
					}
				}
			}
		}
	}
}

// The AVX-512 3x3 kernel against the AVX2 one, bit for bit, with and without each tail: plain
// floats (where the order of the FMAs shows), zeros of both signs, widths on either side of the
// 16- and 32-output blocks, both strides, paddings 0 and 1, several planes per call. The input
// and the output lie between NaN guards.
func TestDepthwiseAVX512(t *testing.T) {
	skipWithoutAVX512(t)
	saved := CurrentKernelLevel()
	defer SetKernelLevel(saved)
	r := rand.New(rand.NewPCG(51, 52))
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	widths := []int{1, 2, 3, 5, 7, 8, 9, 13, 14, 15, 16, 17, 18, 23, 24, 25, 28, 31, 32, 33, 34, 35, 39, 40, 41, 44, 47, 48, 49, 56, 63, 64, 65, 66, 70, 79, 80, 96, 97, 100, 112, 113, 127, 128, 130, 150, 200, 229, 260}
	checked := 0
	for trial := 0; trial < 2000; trial++ {
		w := widths[trial%len(widths)]
		if trial >= 2*len(widths) {
			w = 1 + r.IntN(140)
		}
		g := DWGeom{H: 1 + r.IntN(9), W: w, KH: 3, KW: 3, PadH: r.IntN(3), PadW: r.IntN(2),
			StrideH: 1 + r.IntN(2), StrideW: 1 + (trial/len(widths))%2, DilH: 1, DilW: 1}
		if trial%5 == 0 {
			g.PadH, g.PadW = 1, 1
		}
		if trial%11 == 0 {
			// Wide rows of several row pairs at either stride (the blocks of 64).
			g.W, g.H, g.StrideH = 130+r.IntN(140), 5+r.IntN(6), g.StrideW
		}
		if g.Check() != nil || !g.FusesTail() {
			continue
		}
		checked++
		planes := 1 + r.IntN(3)
		ip, op := g.H*g.W, g.OH*g.OW
		ss, ds := ip+r.IntN(5), op+r.IntN(5)
		buf := make([]float32, (planes-1)*ss+ip+64)
		for i := range buf {
			buf[i] = nan
		}
		src := buf[32 : 32+(planes-1)*ss+ip]
		k, bias := randSlice(r, planes*9), randSlice(r, planes)
		for i := range src {
			src[i] = float32(r.NormFloat64())
			switch trial % 7 {
			case 1:
				src[i] = float32(r.IntN(256) - 128)
			case 2:
				src[i] = 0
			}
		}
		if trial%7 == 2 {
			for i := range bias {
				bias[i] = negZero
			}
			for i := range k {
				k[i] = -float32(math.Abs(float64(k[i])))
			}
		}
		if trial%7 == 1 {
			for i := range k {
				k[i] = float32(r.IntN(255) - 127)
			}
			for i := range bias {
				bias[i] = float32(r.IntN(4001) - 2000)
			}
		}
		tail := &DWTail{Requant: trial%3 == 1, A: randSlice(r, planes), C: randSlice(r, planes), Lo: -2, Hi: 3}
		if tail.Requant {
			for m := range tail.A {
				tail.A[m] = float32(r.Float64() * 0.02)
			}
			tail.Lo, tail.Hi = -60, 70
		}
		run := func(l KernelLevel) []float32 {
			if err := SetKernelLevel(l); err != nil {
				t.Fatal(err)
			}
			out := make([]float32, (planes-1)*ds+op+32)
			for i := range out {
				out[i] = nan
			}
			dst := out[16 : 16+(planes-1)*ds+op]
			if trial%3 == 0 {
				for m := 0; m < planes; m++ {
					DepthwiseForward(&g, src[m*ss:m*ss+ip], k[m*9:(m+1)*9], bias[m:m+1], dst[m*ds:m*ds+op], nil, 1)
				}
			} else {
				DepthwiseForwardTailPlanes(&g, src, ss, k, bias, dst, ds, planes, tail)
			}
			return out
		}
		want, got := run(KernelsAVX2), run(KernelsAVX512)
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
				t.Fatalf("trial %d %+v planes %d tail %d: out[%d] = %g, AVX2 %g", trial, g, planes, trial%3, i-16, got[i], want[i])
			}
		}
		for i := 0; i < 16; i++ {
			if !math.IsNaN(float64(got[i])) || !math.IsNaN(float64(got[len(got)-1-i])) {
				t.Fatalf("%+v: wrote outside the output", g)
			}
		}
	}
	if checked < 1500 {
		t.Fatalf("only %d geometries checked", checked)
	}
}

// The AVX-512 3x3 kernel against the AVX2 one on MobileNetV2's depthwise layers (224 px, one
// image: every plane of the layer, the requantizing tail), alternating the levels round by round
// in one process (CPU time); it reports the median of the per-round time ratios. Only with
// VENTRAL_DWSPEED=rounds set (a shared machine's timings are noisy).
func TestDepthwiseAVX512Speed(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("VENTRAL_DWSPEED"))
	if rounds <= 0 || MaxKernelLevel() < KernelsAVX512 {
		t.Skip("set VENTRAL_DWSPEED=rounds on an AVX-512 machine")
	}
	saved := CurrentKernelLevel()
	defer SetKernelLevel(saved)
	r := rand.New(rand.NewPCG(61, 62))
	layers := []struct{ hw, c, s, band int }{{112, 32, 1, 0}, {112, 96, 2, 0}, {56, 144, 1, 0}, {56, 144, 2, 0}, {28, 192, 1, 0},
		{28, 192, 2, 0}, {14, 384, 1, 0}, {14, 576, 1, 0}, {14, 576, 2, 0}, {7, 960, 1, 0},
		// Bands of output rows, as nn's depth-first pairs run them (in cache): 16 planes.
		{112, 16, 1, 8}, {112, 16, 2, 4}, {56, 16, 1, 8}, {56, 16, 2, 4}, {28, 16, 1, 8}, {28, 16, 2, 4}, {14, 16, 1, 8}, {14, 16, 2, 4}, {7, 16, 1, 7}}
	for _, l := range layers {
		g := DWGeom{H: l.hw, W: l.hw, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: l.s, StrideW: l.s, DilH: 1, DilW: 1}
		if l.band > 0 {
			g.H, g.PadH = (l.band-1)*l.s+3, 0
		}
		if g.Check() != nil {
			t.Fatal(g)
		}
		ip, op := g.H*g.W, g.OH*g.OW
		// Inside a larger allocation, as a network's planes lie: a masked lane before the first
		// plane (or after the last) on a page not yet touched costs a fault-suppression assist
		// per load (7x7 planes: 0.9x instead of 1.7x).
		src := make([]float32, l.c*ip+128)[64 : 64+l.c*ip]
		for i := range src {
			src[i] = float32(r.IntN(256) - 128)
		}
		k, bias := randSlice(r, 9*l.c), randSlice(r, l.c)
		tail := &DWTail{Requant: true, A: randSlice(r, l.c), Lo: -100, Hi: 100}
		dst := make([]float32, l.c*op)
		reps := max(1, 20_000_000/(l.c*op))
		pass := func(lv KernelLevel) time.Duration {
			SetKernelLevel(lv)
			t0 := processCPUTime()
			for i := 0; i < reps; i++ {
				DepthwiseForwardTailPlanes(&g, src, ip, k, bias, dst, op, l.c, tail)
			}
			return processCPUTime() - t0
		}
		var ratios []float64
		var t2, t5 []time.Duration
		for i := 0; i < rounds; i++ {
			a, b := pass(KernelsAVX2), pass(KernelsAVX512)
			if i%2 == 1 {
				b, a = pass(KernelsAVX512), pass(KernelsAVX2)
			}
			t2, t5 = append(t2, a), append(t5, b)
			ratios = append(ratios, float64(a)/float64(b))
		}
		slices.Sort(ratios)
		slices.Sort(t2)
		slices.Sort(t5)
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(reps) }
		t.Logf("%3dx%-3d s%d C=%3d band %d: avx2 %7.1f us, avx512 %7.1f us (medians), avx2/avx512 median %.2f (range %.2f-%.2f)",
			l.hw, l.hw, l.s, l.c, l.band, per(t2[rounds/2]), per(t5[rounds/2]), ratios[rounds/2], ratios[0], ratios[rounds-1])
	}
}
