package tensor

import "math"

// AffineClamp writes min(max((src[i] + b)*a + c, lo), hi) to dst[i] for i < len(src): the
// epilogue of a layer whose bias b, per-channel scale a and shift c (an inference batch norm) and
// clamp (ReLU, ReLU6) are fused into one pass over its output. Each operation rounds on its own
// (no fused multiply-add), so the result is bit for bit that of the separate layers. dst may be
// src. A NaN input stays NaN.
func AffineClamp(dst, src []float32, b, a, c, lo, hi float32) {
	if len(src) == 0 {
		return
	}
	affineClamp(dst[:len(src)], src, b, a, c, lo, hi)
}

func affineClampGo(dst, src []float32, b, a, c, lo, hi float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		u := float32(float32(v+b)*a) + c // conversions forbid fusing into an FMA
		if u < lo {
			u = lo
		}
		if u > hi {
			u = hi
		}
		dst[i] = u
	}
}

// FakeQuant writes (clamp(round(src[i]/scale) + zp, qmin, qmax) - zp) * scale to dst[i] for
// i < len(src), rounding half to even: a per-tensor integer activation (ONNX QuantizeLinear then
// DequantizeLinear) simulated in float32. zp, qmin and qmax are integers held as float32. The
// quotient is a float32 division, as in onnxruntime. dst may be src; NaN stays NaN.
func FakeQuant(dst, src []float32, scale, zp, qmin, qmax float32) {
	if len(src) == 0 {
		return
	}
	fakeQuant(dst[:len(src)], src, scale, zp, qmin, qmax)
}

func fakeQuantGo(dst, src []float32, scale, zp, qmin, qmax float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		q := float32(math.RoundToEven(float64(v/scale))) + zp
		q = min(max(q, qmin), qmax)
		dst[i] = (q - zp) * scale
	}
}

// AffineClampQuant is AffineClamp followed by FakeQuant in one pass: the epilogue of a
// quantized layer (requantization multiplier a, clamp, rounding to integer levels) applied to
// each output row while it is in registers. The result is bit for bit that of the two calls.
func AffineClampQuant(dst, src []float32, b, a, c, lo, hi, scale, zp, qmin, qmax float32) {
	if len(src) == 0 {
		return
	}
	affineClampQuant(dst[:len(src)], src, b, a, c, lo, hi, scale, zp, qmin, qmax)
}

func affineClampQuantGo(dst, src []float32, b, a, c, lo, hi, scale, zp, qmin, qmax float32) {
	affineClampGo(dst, src, b, a, c, lo, hi)
	fakeQuantGo(dst, dst, scale, zp, qmin, qmax)
}
