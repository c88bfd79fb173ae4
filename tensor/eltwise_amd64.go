//go:build amd64 && !purego

package tensor

//go:noescape
func reluAVX2(dst, src *float32, n int)

//go:noescape
func reluGradAVX2(dx, dy, out *float32, n int)

//go:noescape
func addAVX2(dst, src *float32, n int)

//go:noescape
func addConstAVX2(x *float32, v float32, relu bool, n int)

// The slices are non-empty and of equal length.
func reluTo(dst, src []float32) {
	if useAVX2 {
		reluAVX2(&dst[0], &src[0], len(src))
		return
	}
	reluToGo(dst, src)
}

func reluGradTo(dx, dy, out []float32) {
	if useAVX2 {
		reluGradAVX2(&dx[0], &dy[0], &out[0], len(dx))
		return
	}
	reluGradToGo(dx, dy, out)
}

func addTo(dst, src []float32) {
	if useAVX2 {
		addAVX2(&dst[0], &src[0], len(src))
		return
	}
	addToGo(dst, src)
}

func addConstTo(x []float32, v float32, relu bool) {
	if useAVX2 {
		addConstAVX2(&x[0], v, relu, len(x))
		return
	}
	addConstToGo(x, v, relu)
}

//go:noescape
func copyRowsAVX2(dst, src *float32, rows, cols, ld int)

//go:noescape
func addRowsAVX2(dst *float32, ld int, src *float32, rows, cols int)

// The bounds are checked by the callers.
func copyRows(dst, src []float32, rows, cols, ld int) {
	if useAVX2 {
		copyRowsAVX2(&dst[0], &src[0], rows, cols, ld)
		return
	}
	copyRowsGo(dst, src, rows, cols, ld)
}

func addRows(dst []float32, ld int, src []float32, rows, cols int) {
	if useAVX2 {
		addRowsAVX2(&dst[0], ld, &src[0], rows, cols)
		return
	}
	addRowsGo(dst, ld, src, rows, cols)
}

// maxPool2x2RowAVX2 pools n (a multiple of 8) windows of the row pair starting at src (the
// second row w further), writing n maxima to dst and their plane indices (base + offset) to arg.
//
//go:noescape
func maxPool2x2RowAVX2(src, dst, arg *float32, n, base, w int)

// maxPool2x2GradRowAVX2 writes the gradient of n (a multiple of 8) windows of one row pair.
//
//go:noescape
func maxPool2x2GradRowAVX2(dx, dy, arg *float32, n, base, w int)

// maxAVX2 computes dst[i] = max(a[i], b[i]), NaN if either is; n is a multiple of 8.
//
//go:noescape
func maxAVX2(dst, a, b *float32, n int)

//go:noescape
func addConstCopyAVX2(dst, src *float32, v float32, n int)

func addConstCopy(dst, src []float32, v float32) {
	if useAVX2 {
		addConstCopyAVX2(&dst[0], &src[0], v, len(src))
		return
	}
	addConstCopyGo(dst, src, v)
}

// dot3x4AVX2 adds to the 3x4 block of C at c the dot products over k (a multiple of 8) of 3 rows
// of A and 4 rows of B.
//
//go:noescape
func dot3x4AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int)

// adamAVX2 runs adamGo's arithmetic on n (a multiple of 4) elements, four doubles at a time.
//
//go:noescape
func adamAVX2(wp, gp, mp, vp *float32, n int, p *AdamParams)
