//go:build !amd64 || purego

package tensor

// packConvPanel gathers one full micro-panel: d[p*16+j] = src[rows[p]+idx[j]].
func packConvPanel(src []float32, rows []int32, idx *[gemmNR]int32, d []float32) {
	packConvPanelGo(src, rows, idx, d)
}

// packConvPanel2 packs a full micro-panel of two runs (see packConvPanel2Go).
func packConvPanel2(src []float32, rows []int32, o1, o2, a int, d []float32) {
	packConvPanel2Go(src, rows, o1, o2, a, d)
}

// packConvPanel1 packs a full micro-panel of consecutive offsets (see packConvPanel1Go).
func packConvPanel1(src []float32, rows []int32, o1 int, d []float32) {
	packConvPanel1Go(src, rows, o1, d)
}
