//go:build amd64 && !purego

package tensor

//go:noescape
func winoBT6AVX2(src *[6]*float32, dst *float32, dstride, n int)

//go:noescape
func winoAT6AVX2(src *[6]*float32, dst *float32, dstride, n int)

// winoBT6 applies Bᵀ across n elements (a multiple of 8) of the six rows src, writing six rows
// dstride apart from dst[0].
func winoBT6(src *[6]*float32, dst []float32, dstride, n int) {
	if n <= 0 {
		return
	}
	_ = dst[5*dstride+n-1]
	if !useAVX2 {
		winoBT6Go(src, dst, dstride, n)
		return
	}
	winoBT6AVX2(src, &dst[0], dstride, n)
}

// winoAT6 applies Aᵀ across n elements (a multiple of 8) of the six rows src, writing four rows
// dstride apart from dst[0].
func winoAT6(src *[6]*float32, dst []float32, dstride, n int) {
	if n <= 0 {
		return
	}
	_ = dst[3*dstride+n-1]
	if !useAVX2 {
		winoAT6Go(src, dst, dstride, n)
		return
	}
	winoAT6AVX2(src, &dst[0], dstride, n)
}
