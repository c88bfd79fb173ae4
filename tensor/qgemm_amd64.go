//go:build amd64 && !purego

package tensor

//go:noescape
func qKernelAVX2(a, b *int16, kp int, c *float32, ldc int)

func qKernel(a, b []int16, kp int, c []float32, ldc int) {
	if useAVX2 {
		_, _, _ = a[kp*qMR*2-1], b[kp*qNR*2-1], c[(qMR-1)*ldc+qNR-1]
		qKernelAVX2(&a[0], &b[0], kp, &c[0], ldc)
		return
	}
	qKernelGo(a, b, kp, c, ldc)
}

//go:noescape
func packQBPairsAVX2(d *int16, r0, r1 *float32, pairs, ldb2 int) bool

// packQBStrip packs a full 16-column strip of k rows (row stride ldb).
func packQBStrip(d []int16, b []float32, ldb, k int) bool {
	if !useAVX2 {
		return packQBStripGo(d, b, ldb, k, qNR)
	}
	full := k / 2
	if full > 0 {
		_, _ = d[full*qNR*2-1], b[(2*full-1)*ldb+qNR-1]
		if !packQBPairsAVX2(&d[0], &b[0], &b[ldb], full, 2*ldb) {
			return false
		}
	}
	if k%2 == 1 {
		// The last row pairs with zeros.
		last := b[(k-1)*ldb : (k-1)*ldb+qNR]
		dd := d[full*qNR*2 : (full+1)*qNR*2]
		for j, v := range last {
			l, ok := qLevel(v)
			if !ok {
				return false
			}
			dd[2*j], dd[2*j+1] = l, 0
		}
	}
	return true
}

//go:noescape
func qKernelRqAVX2(a, b *int16, kp int, c *float32, ldc int, bias, mult, zeros *float32, qlo, qhi float32, panels int)

var qZeros [8]float32

// qKernelRq runs the requantizing micro-kernel on panels consecutive 6-row panels of a (the
// tiles at c, 6*ldc apart; bias and mult hold 6*panels entries).
func qKernelRq(a, b []int16, kp int, c []float32, ldc int, bias, mult []float32, qlo, qhi float32, panels int) {
	if useAVX2 {
		_, _, _ = a[panels*kp*qMR*2-1], b[kp*qNR*2-1], c[(panels*qMR-1)*ldc+qNR-1]
		_, _ = bias[panels*qMR-1], mult[panels*qMR-1]
		qKernelRqAVX2(&a[0], &b[0], kp, &c[0], ldc, &bias[0], &mult[0], &qZeros[0], qlo, qhi, panels)
		return
	}
	for p := 0; p < panels; p++ {
		qKernelRqGo(a[p*kp*qMR*2:], b, kp, c[p*qMR*ldc:], ldc, bias[p*qMR:], mult[p*qMR:], qlo, qhi)
	}
}
