//go:build !amd64 || purego

package tensor

func affineClamp(dst, src []float32, b, a, c, lo, hi float32) {
	affineClampGo(dst, src, b, a, c, lo, hi)
}

func fakeQuant(dst, src []float32, scale, zp, qmin, qmax float32) {
	fakeQuantGo(dst, src, scale, zp, qmin, qmax)
}

func affineClampQuant(dst, src []float32, b, a, c, lo, hi, scale, zp, qmin, qmax float32) {
	affineClampQuantGo(dst, src, b, a, c, lo, hi, scale, zp, qmin, qmax)
}
