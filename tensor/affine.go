package tensor

// AffineClamp writes min(max(src[i]*a + c, lo), hi) to dst[i] for i < len(src): the epilogue of
// a layer whose per-channel scale and shift (bias, an inference batch norm) and clamp (ReLU,
// ReLU6) are fused into one pass over its output. dst may be src. A NaN input stays NaN.
func AffineClamp(dst, src []float32, a, c, lo, hi float32) {
	if len(src) == 0 {
		return
	}
	affineClamp(dst[:len(src)], src, a, c, lo, hi)
}

func affineClampGo(dst, src []float32, a, c, lo, hi float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		u := v*a + c
		if u < lo {
			u = lo
		}
		if u > hi {
			u = hi
		}
		dst[i] = u
	}
}
