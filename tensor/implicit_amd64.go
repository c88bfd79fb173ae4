//go:build amd64 && !purego

package tensor

//go:noescape
func packConvPanelAVX2(dst, src *float32, rows *int32, kc int, idx *int32)

// packConvPanel gathers one full micro-panel: d[p*16+j] = src[rows[p]+idx[j]]. The caller has
// checked that every offset lies in src (ConvCols.check).
func packConvPanel(src []float32, rows []int32, idx *[gemmNR]int32, d []float32) {
	if !useAVX2 || len(rows) == 0 {
		packConvPanelGo(src, rows, idx, d)
		return
	}
	_ = d[len(rows)*gemmNR-1]
	packConvPanelAVX2(&d[0], &src[0], &rows[0], len(rows), &idx[0])
}

//go:noescape
func packConvPanel2AVX2(dst, src *float32, rows *int32, kc, o1, o2 int, mask *int32)

// blendMasks[16-a:32-a] selects the second run from column a on (packConvPanel2AVX2).
var blendMasks = [2 * gemmNR]int32{16: -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1}

// packConvPanel2 packs a full micro-panel of two runs (see packConvPanel2Go). The caller has
// checked that src[rows[p]+o1 ...] through src[rows[p]+o2+15] lie in src.
func packConvPanel2(src []float32, rows []int32, o1, o2, a int, d []float32) {
	if !useAVX2 || len(rows) == 0 {
		packConvPanel2Go(src, rows, o1, o2, a, d)
		return
	}
	_ = d[len(rows)*gemmNR-1]
	packConvPanel2AVX2(&d[0], &src[0], &rows[0], len(rows), o1, o2, &blendMasks[gemmNR-a])
}

//go:noescape
func packConvPanel1AVX2(dst, src *float32, rows *int32, kc, o1 int)

// packConvPanel1 packs a full micro-panel of consecutive offsets: d[p*16+j] = src[rows[p]+o1+j].
// The caller has checked that the offsets lie in src.
func packConvPanel1(src []float32, rows []int32, o1 int, d []float32) {
	if !useAVX2 || len(rows) == 0 {
		packConvPanel1Go(src, rows, o1, d)
		return
	}
	_ = d[len(rows)*gemmNR-1]
	packConvPanel1AVX2(&d[0], &src[0], &rows[0], len(rows), o1)
}
