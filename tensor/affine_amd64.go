//go:build amd64 && !purego

package tensor

import "math"

//go:noescape
func affineClampAVX2(dst, src *float32, n int, b, a, c, lo, hi float32)

func affineClamp(dst, src []float32, b, a, c, lo, hi float32) {
	if useAVX2 {
		affineClampAVX2(&dst[0], &src[0], len(src), b, a, c, lo, hi)
		return
	}
	affineClampGo(dst, src, b, a, c, lo, hi)
}

//go:noescape
func fakeQuantAVX2(dst, src *float32, n int, scale, zp, qmin, qmax float32)

func fakeQuant(dst, src []float32, scale, zp, qmin, qmax float32) {
	if useAVX2 && len(src) >= 8 {
		m := len(src) &^ 7
		fakeQuantAVX2(&dst[0], &src[0], m, scale, zp, qmin, qmax)
		fakeQuantGo(dst[m:], src[m:], scale, zp, qmin, qmax)
		return
	}
	fakeQuantGo(dst, src, scale, zp, qmin, qmax)
}

//go:noescape
func requantAVX2(dst, src *float32, n int, b, a, qlo, qhi float32)

//go:noescape
func affineClampQuantAVX2(dst, src *float32, n int, b, a, c, lo, hi, scale, zp, qmin, qmax float32)

func affineClampQuant(dst, src []float32, b, a, c, lo, hi, scale, zp, qmin, qmax float32) {
	if !useAVX2 {
		affineClampQuantGo(dst, src, b, a, c, lo, hi, scale, zp, qmin, qmax)
		return
	}
	inf := float32(math.Inf(1))
	// Requantization to levels (scale 1, no shift, no clamp before the rounding) has a shorter
	// form; qmin - zp and qmax - zp are exact (the bounds are at most 2^24).
	short := scale == 1 && c == 0 && lo == -inf && hi == inf
	run := func(d, s *float32, n int) {
		if short {
			requantAVX2(d, s, n, b, a, qmin-zp, qmax-zp)
		} else {
			affineClampQuantAVX2(d, s, n, b, a, c, lo, hi, scale, zp, qmin, qmax)
		}
	}
	m := len(src) &^ 7
	if m > 0 {
		run(&dst[0], &src[0], m)
	}
	if m < len(src) {
		// The tail through a register-sized buffer: the Go form (float64 rounding) costs
		// more than the vector pass on the short rows of small feature maps.
		var t [8]float32
		copy(t[:], src[m:])
		run(&t[0], &t[0], 8)
		copy(dst[m:], t[:])
	}
}
