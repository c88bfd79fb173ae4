//go:build !amd64 || purego

package tensor

func affineClamp(dst, src []float32, a, c, lo, hi float32) { affineClampGo(dst, src, a, c, lo, hi) }
