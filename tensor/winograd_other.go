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

func winoGather6(dst []float32, dstride int, row []float32, n int) {
	if n > 0 {
		winoGather6Go(dst, dstride, row, n)
	}
}

func winoScatter4(dst, src []float32, sstride, n int, b float32) {
	if n > 0 {
		winoScatter4Go(dst, src, sstride, n, b)
	}
}

func winoBT6P(src *[6]*float32, dst []float32, dstride, n, jump int) {
	if n > 0 {
		_ = dst[5*dstride+(n-1)+(n-1)/16*jump]
		winoBT6PGo(src, dst, dstride, n, jump)
	}
}
