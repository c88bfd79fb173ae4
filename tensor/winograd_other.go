//go:build !amd64 || purego

package tensor

func winoBT6(src *[6]*float32, dst []float32, dstride, n int) {
	if n > 0 {
		_ = dst[5*dstride+n-1]
		winoBT6Go(src, dst, dstride, n)
	}
}

func winoAT6(src *[6]*float32, dst []float32, dstride, n int) {
	if n > 0 {
		_ = dst[3*dstride+n-1]
		winoAT6Go(src, dst, dstride, n)
	}
}
