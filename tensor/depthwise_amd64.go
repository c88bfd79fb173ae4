//go:build amd64 && !purego

package tensor

//go:noescape
func dwRowAVX2(dst *float32, n int, src *float32, offs *int, ks *float32, ntaps int, bias float32)

// dwRow sets dst[i] = bias + sum_t ks[t]*src[offs[t]+i] for i < len(dst).
func dwRow(dst, src []float32, offs []int, ks []float32, bias float32) {
	if useAVX2 {
		// The assembly reads src[off+i] for every offset: check the largest in Go.
		hi := 0
		for _, o := range offs {
			if o < 0 {
				panic("tensor: negative depthwise tap offset")
			}
			hi = max(hi, o)
		}
		_ = src[hi+len(dst)-1]
		_ = ks[len(offs)-1]
		dwRowAVX2(&dst[0], len(dst), &src[0], &offs[0], &ks[0], len(offs), bias)
		return
	}
	dwRowGo(dst, src, offs, ks, bias)
}

//go:noescape
func deinterleave2AVX2(even, odd, src *float32, n int)

// deinterleave2 writes src's even elements to even and its odd ones to odd.
func deinterleave2(even, odd, src []float32) {
	n := len(src) / 2
	done := 0
	if useAVX2 && n >= 8 {
		done = n &^ 7
		_, _, _ = even[done-1], odd[done-1], src[2*done-1]
		deinterleave2AVX2(&even[0], &odd[0], &src[0], done)
	}
	deinterleave2Go(even[done:], odd[done:], src[2*done:])
}
