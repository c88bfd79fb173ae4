//go:build !amd64 || purego

package tensor

func dwPlane(dst []float32, rows, n int, src []float32, ld int, offs []int, ks []float32, bias float32) {
	dwPlaneGo(dst, rows, n, src, ld, offs, ks, bias)
}

func deinterleave2(even, odd, src []float32) { deinterleave2Go(even, odd, src) }
