//go:build !amd64 || purego

package tensor

func dwPlane(dst []float32, rows, n int, src []float32, ld int, offs []int, ks []float32, bias float32) {
	dwPlaneGo(dst, rows, n, src, ld, offs, ks, bias)
}

func stridedRows(dst []float32, ds int, src []float32, ss, w, rows int) {
	stridedRowsGo(dst, ds, src, ss, w, rows)
}

func deinterleaveRows(even, odd []float32, ds int, src []float32, ss, w, rows int) {
	deinterleaveRowsGo(even, odd, ds, src, ss, w, rows)
}

func dwRowsPlane(g *DWGeom, dst, src, ks []float32, bias float32) {
	dwRowsPlaneGo(g, dst, src, ks, bias)
}

func (g *DWGeom) fusesTail() bool { return false }

func dwRowsPlaneTail(g *DWGeom, dst, src, ks []float32, bias float32, t *dwTail) {
	if t != nil {
		panic("tensor: a tail fused into a depthwise kernel that cannot apply it")
	}
	dwRowsPlaneGo(g, dst, src, ks, bias)
}
