//go:build amd64 && !purego

package tensor

//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func dotAVX2(x, y *float32, n int) float32

// len(y) == len(x) > 0 for both.
func axpy(alpha float32, x, y []float32) {
	if useAVX2 {
		axpyAVX2(alpha, &x[0], &y[0], len(x))
		return
	}
	axpyGo(alpha, x, y)
}

func dot(x, y []float32) float32 {
	if useAVX2 {
		return dotAVX2(&x[0], &y[0], len(x))
	}
	return dotGo(x, y)
}
