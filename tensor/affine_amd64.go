//go:build amd64 && !purego

package tensor

//go:noescape
func affineClampAVX2(dst, src *float32, n int, a, c, lo, hi float32)

func affineClamp(dst, src []float32, a, c, lo, hi float32) {
	if useAVX2 {
		affineClampAVX2(&dst[0], &src[0], len(src), a, c, lo, hi)
		return
	}
	affineClampGo(dst, src, a, c, lo, hi)
}
