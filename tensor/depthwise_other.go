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

type dwRq struct{ a, qlo, qhi float32 }

func (g *DWGeom) fusesRequant() bool { return false }

func dwRowsPlaneRq(g *DWGeom, dst, src, ks []float32, bias float32, rq *dwRq) {
	if rq != nil {
		panic("tensor: requantization fused into a depthwise kernel that cannot apply it")
	}
	dwRowsPlaneGo(g, dst, src, ks, bias)
}
