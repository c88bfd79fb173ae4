//go:build amd64 && !purego

package tensor

//go:noescape
func dwPlaneAVX2(dst *float32, rows, n int, src *float32, ld int, offs *int, ks *float32, ntaps int, bias float32)

// dwPlane sets dst[r*n+i] = bias + sum_t ks[t]*src[r*ld+offs[t]+i] for r < rows, i < n.
func dwPlane(dst []float32, rows, n int, src []float32, ld int, offs []int, ks []float32, bias float32) {
	if useAVX2 {
		// The assembly reads src[r*ld+off+i] for every offset: check the largest in Go.
		hi := 0
		for _, o := range offs {
			if o < 0 {
				panic("tensor: negative depthwise tap offset")
			}
			hi = max(hi, o)
		}
		_ = src[(rows-1)*ld+hi+n-1]
		_ = ks[len(offs)-1]
		_ = dst[rows*n-1]
		dwPlaneAVX2(&dst[0], rows, n, &src[0], ld, &offs[0], &ks[0], len(offs), bias)
		return
	}
	dwPlaneGo(dst, rows, n, src, ld, offs, ks, bias)
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
