//go:build !amd64 || purego

package tensor

func reluTo(dst, src []float32)                    { reluToGo(dst, src) }
func reluGradTo(dx, dy, out []float32)             { reluGradToGo(dx, dy, out) }
func addTo(dst, src []float32)                     { addToGo(dst, src) }
func addConstTo(x []float32, v float32, relu bool) { addConstToGo(x, v, relu) }

func copyRows(dst, src []float32, rows, cols, ld int) { copyRowsGo(dst, src, rows, cols, ld) }
func addRows(dst []float32, ld int, src []float32, rows, cols int) {
	addRowsGo(dst, ld, src, rows, cols)
}

func maxPool2x2RowAVX2(src, dst, arg *float32, n, base, w int)   { panic("no AVX2") }
func maxPool2x2GradRowAVX2(dx, dy, arg *float32, n, base, w int) { panic("no AVX2") }

func maxAVX2(dst, a, b *float32, n int) { panic("no AVX2") }

func addConstCopy(dst, src []float32, v float32) { addConstCopyGo(dst, src, v) }

func dot3x4AVX2(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int) {
	panic("no AVX2")
}

func adamAVX2(wp, gp, mp, vp *float32, n int, p *AdamParams) { panic("no AVX2") }
