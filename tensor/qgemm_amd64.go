//go:build amd64 && !purego

package tensor

import "unsafe"

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
func packQBAVX2(d *int16, r0, r1 *float32, count, r0step, r1step, dstep int) bool

//go:noescape
func packQBZ(d *int16, r0, r1 *float32, count, r0step, r1step, dstep int) bool

// packQB is packQBAVX2, or its zmm form packQBZ at the avx512 level.
func packQB(d *int16, r0, r1 *float32, count, r0step, r1step, dstep int) bool {
	if useAVX512 {
		return packQBZ(d, r0, r1, count, r0step, r1step, dstep)
	}
	return packQBAVX2(d, r0, r1, count, r0step, r1step, dstep)
}

// qZeroRow pairs with the odd last row of B.
var qZeroRow [qNR]float32

// packQBStrip packs a full 16-column strip of k rows (row stride ldb).
func packQBStrip(d []int16, b []float32, ldb, k int) bool {
	if !useAVX2 {
		return packQBStripGo(d, b, ldb, k, qNR)
	}
	full := k / 2
	if full > 0 {
		_, _ = d[full*qNR*2-1], b[(2*full-1)*ldb+qNR-1]
		if !packQB(&d[0], &b[0], &b[ldb], full, 8*ldb, 8*ldb, 4*qNR) {
			return false
		}
	}
	if k%2 == 1 {
		// The last row pairs with zeros.
		_, _ = d[(full+1)*qNR*2-1], b[(k-1)*ldb+qNR-1]
		return packQB(&d[full*qNR*2], &b[(k-1)*ldb], &qZeroRow[0], 1, 0, 0, 0)
	}
	return true
}

// packQBStrips packs the first strips full 16-column strips of the k rows of b (row stride
// ldb) into d, strip s at d[s*kp*32:]. It streams along the rows, a pair of rows at a time
// across all strips: reading sequentially, where a strip at a time reads 64 bytes of each of
// k rows.
func packQBStrips(d []int16, b []float32, ldb, k, strips int) bool {
	if !useAVX2 {
		return packQBStripsGo(d, b, ldb, k, strips)
	}
	kp := qPairs(k)
	_, _ = d[((strips-1)*kp+kp)*qNR*2-1], b[(k-1)*ldb+strips*qNR-1]
	for p := 0; p < k/2; p++ {
		if !packQB(&d[p*qNR*2], &b[2*p*ldb], &b[(2*p+1)*ldb], strips, 4*qNR, 4*qNR, kp*qNR*4) {
			return false
		}
	}
	if k%2 == 1 {
		p := k / 2
		return packQB(&d[p*qNR*2], &b[2*p*ldb], &qZeroRow[0], strips, 4*qNR, 0, kp*qNR*4)
	}
	return true
}

//go:noescape
func qKernelRqAVX2(a, b *int16, kp int, c *float32, ldc int, bias, mult, zeros *float32, qlo, qhi float32, panels int)

//go:noescape
func qKernelRqNTAVX2(a, b *int16, kp int, c *float32, ldc int, bias, mult, zeros *float32, qlo, qhi float32, panels int)

//go:noescape
func qKernelRq4AVX2(a, b *int16, kp int, c *float32, ldc int, bias, mult, zeros *float32, qlo, qhi float32)

//go:noescape
func qKernelRq2AVX2(a, b *int16, kp int, c *float32, ldc int, bias, mult, zeros *float32, qlo, qhi float32)

// qKernelRqRows runs the requantizing micro-kernel on the first rows rows of one panel of a,
// storing only those into c, and reports whether it could (AVX2, rows 4 or 2; the caller
// goes through a whole-panel tile otherwise).
func qKernelRqRows(a, b []int16, kp int, c []float32, ldc int, bias, mult []float32, qlo, qhi float32, rows int) bool {
	if !useAVX2 || (rows != 4 && rows != 2) {
		return false
	}
	_, _, _ = a[kp*qMR*2-1], b[kp*qNR*2-1], c[(rows-1)*ldc+qNR-1]
	_, _ = bias[rows-1], mult[rows-1]
	if rows == 4 {
		qKernelRq4AVX2(&a[0], &b[0], kp, &c[0], ldc, &bias[0], &mult[0], &qZeros[0], qlo, qhi)
	} else {
		qKernelRq2AVX2(&a[0], &b[0], kp, &c[0], ldc, &bias[0], &mult[0], &qZeros[0], qlo, qhi)
	}
	return true
}

var qZeros [8]float32

// qKernelRqNT is qKernelRq with non-temporal stores where AVX2 runs and c is 32-byte aligned
// with rows a multiple of 8 floats apart (qKernelRq otherwise).
func qKernelRqNT(a, b []int16, kp int, c []float32, ldc int, bias, mult []float32, qlo, qhi float32, panels int) {
	if useAVX2 && uintptr(unsafe.Pointer(&c[0]))%32 == 0 && ldc%8 == 0 {
		_, _, _ = a[panels*kp*qMR*2-1], b[kp*qNR*2-1], c[(panels*qMR-1)*ldc+qNR-1]
		_, _ = bias[panels*qMR-1], mult[panels*qMR-1]
		qKernelRqNTAVX2(&a[0], &b[0], kp, &c[0], ldc, &bias[0], &mult[0], &qZeros[0], qlo, qhi, panels)
		return
	}
	qKernelRq(a, b, kp, c, ldc, bias, mult, qlo, qhi, panels)
}

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

//go:noescape
func qKernelZ1(a, b *int16, kp int, c *float32, ldc int, bias, mult *float32, bstep int, qlo, qhi float32, panels, rows, sstride, mask, mode int)

//go:noescape
func qKernelZ3(a, b *int16, kp int, c *float32, ldc int, bias, mult *float32, bstep int, qlo, qhi float32, panels, rows, sstride, mask, mode int)

// qThree lets qGemmVNNI run three strips a pass where 33 to 48 columns remain (for
// measurements; true). Three strips a pass throughout measured no faster than two, and 0.92x
// for n 49 (three, then one for a column, against two and two).
var qThree = true

//go:noescape
func qKernelZ2(a, b *int16, kp int, c *float32, ldc int, bias, mult *float32, bstep int, qlo, qhi float32, panels, rows, sstride, mask, mode int)

// The modes of the VNNI kernels: requantized stores, the same non-temporal, plain sums.
const (
	qModeRq = iota
	qModeNT
	qModeRaw
)

// qGemmVNNI is QGemm (mode qModeRaw; bias and mult unused) and QGemmRequant(Stream) (qModeRq,
// qModeNT) at the avx512 level: all of C in one call of a VNNI kernel per pair of strips (three
// where 33 to 48 columns remain: MobileNetV2's n of 48 then reads A once, 1.05-1.15x), the
// partial last panel's rows and the partial last strip's columns stored directly (the kernel
// computes the panel's zero rows and the strip's zero columns and stores only the real ones).
// Non-temporal stores need C 64-byte aligned with rows a multiple of 16 floats apart, and a
// whole strip; the kernel stores normally otherwise.
func qGemmVNNI(a *QPackedA, b *QPackedB, c []float32, ldc int, bias, mult []float32, qlo, qhi float32, mode int) {
	m, n, kp := a.M, b.N, qPairs(a.K)
	panels := (m + qMR - 1) / qMR
	rows := m - (panels-1)*qMR
	strips := (n + qNR - 1) / qNR
	_, _, _ = a.data[panels*kp*qMR*2-1], b.data[strips*kp*qNR*2-1], c[(m-1)*ldc+n-1]
	pb, pm, bstep := &qZeros[0], &qZeros[0], 0
	if mode != qModeRaw {
		_, _ = bias[m-1], mult[m-1]
		pb, pm, bstep = &bias[0], &mult[0], qMR*4
	}
	if mode == qModeNT && (uintptr(unsafe.Pointer(&c[0]))%64 != 0 || ldc%16 != 0) {
		mode = qModeRq
	}
	sstride := kp * qNR * 2 * 2 // bytes from a strip to the next
	for s := 0; s < strips; {
		j0 := s * qNR
		w := min(2, strips-s) // strips this pass
		if qThree && n-j0 > 2*qNR && n-j0 <= 3*qNR {
			w = 3
		}
		cols := min(n-j0, w*qNR)
		mask := 1<<(cols-(w-1)*qNR) - 1 // the last strip's real columns
		md := mode
		if mask != 0xffff && md == qModeNT {
			md = qModeRq
		}
		pa, pbs, pc := &a.data[0], &b.data[s*kp*qNR*2], &c[j0]
		switch w {
		case 3:
			qKernelZ3(pa, pbs, kp, pc, ldc, pb, pm, bstep, qlo, qhi, panels, rows, sstride, mask, md)
		case 2:
			qKernelZ2(pa, pbs, kp, pc, ldc, pb, pm, bstep, qlo, qhi, panels, rows, sstride, mask, md)
		default:
			qKernelZ1(pa, pbs, kp, pc, ldc, pb, pm, bstep, qlo, qhi, panels, rows, sstride, mask, md)
		}
		s += w
	}
}
