//go:build amd64 && !purego

package tensor

//go:noescape
func winoBT6AVX2(src *[6]*float32, dst *float32, dstride, n int)

//go:noescape
func winoAT6AVX2(src *[6]*float32, dst *float32, dstride, n int)

//go:noescape
func winoBT6AVX512(src *[6]*float32, dst *float32, dstride, n int)

//go:noescape
func winoAT6AVX512(src *[6]*float32, dst *float32, dstride, n int)

//go:noescape
func winoBT6PAVX512(src *[6]*float32, dst *float32, dstride, n, jump int)

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
	if useAVX512 {
		winoBT6AVX512(src, &dst[0], dstride, n)
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
	if useAVX512 {
		winoAT6AVX512(src, &dst[0], dstride, n)
		return
	}
	winoAT6AVX2(src, &dst[0], dstride, n)
}

//go:noescape
func winoGather6AVX2(dst *float32, dstride int, row *float32, n int)

//go:noescape
func winoScatter4AVX2(dst, src *float32, sstride, n int, b float32)

// winoGather6 writes dst[k*dstride + j] = row[4j + k] for k = 0..5, j < n (a multiple of 8);
// it reads row[:4n+4].
func winoGather6(dst []float32, dstride int, row []float32, n int) {
	if n <= 0 {
		return
	}
	_ = dst[5*dstride+n-1]
	_ = row[4*n+3]
	if !useAVX2 {
		winoGather6Go(dst, dstride, row, n)
		return
	}
	winoGather6AVX2(&dst[0], dstride, &row[0], n)
}

// winoScatter4 writes dst[4j + c] = src[c*sstride + j] + b for c = 0..3, j < n (a multiple of
// 8).
func winoScatter4(dst, src []float32, sstride, n int, b float32) {
	if n <= 0 {
		return
	}
	_ = dst[4*n-1]
	_ = src[3*sstride+n-1]
	if !useAVX2 {
		winoScatter4Go(dst, src, sstride, n, b)
		return
	}
	winoScatter4AVX2(&dst[0], &src[0], sstride, n, b)
}

//go:noescape
func winoBT6PAVX2(src *[6]*float32, dst *float32, dstride, n, jump int)

// winoBT6P is winoBT6 writing into panels of 16: element k of a row goes to k + k/16*jump.
func winoBT6P(src *[6]*float32, dst []float32, dstride, n, jump int) {
	if n <= 0 {
		return
	}
	_ = dst[5*dstride+(n-1)+(n-1)/16*jump]
	if !useAVX2 {
		winoBT6PGo(src, dst, dstride, n, jump)
		return
	}
	if useAVX512 {
		winoBT6PAVX512(src, &dst[0], dstride, n, jump)
		return
	}
	winoBT6PAVX2(src, &dst[0], dstride, n, jump)
}
