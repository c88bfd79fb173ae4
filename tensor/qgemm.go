package tensor

import (
	"fmt"
	"math"
)

// Exact integer GEMM for quantized networks.
//
// An imported int8 network (see package imports) runs its convolutions on integer levels held
// as float32: q - zero point, at most a few hundred in magnitude. The float GEMM computes those
// sums exactly (integers below 2^24), but at float speed: 8 multiply-adds per FMA. Here the
// same levels are packed as int16 and multiplied with VPMADDWD, which multiplies 16 pairs of
// int16 and adds adjacent products into 8 int32 lanes: twice the FMA's work per instruction,
// and exact (the products and their int32 sums are exact for the bounds below, unlike the
// saturating int16 pair sums of VPMADDUBSW that onnxruntime uses on CPUs without VNNI).
//
// Layout. A (m x k, the weights) is packed once into 6-row panels of k pairs: for pair p and
// row i the two int16 a[i][2p], a[i][2p+1], so one 32-bit broadcast feeds a row. B (k x n, the
// activations) is packed per call into 16-column strips: for pair p the 16 int16 pairs
// (b[2p][j], b[2p+1][j]), two ymm registers; packed a pair of rows at a time across all
// strips, so that the float32 activations are read sequentially. The 6x16 micro-kernel keeps 12 int32 accumulators
// over all of k (no k blocking: k is at most QGemmMaxK, so a strip is at most 64 KiB) and
// stores float32: the int32 sums converted once.
//
// Exactness is checked, not assumed: PackQA and PackQB report false when a value is not an
// integer of magnitude at most QGemmMaxLevel (the caller then uses the float path), and
// k*QGemmMaxLevel^2 < 2^31 bounds every sum.

const (
	// QGemmMaxLevel is the largest magnitude of a packed level (uint8 and int8 levels minus
	// their zero points reach 255).
	QGemmMaxLevel = 1024
	// QGemmMaxK is the largest k: k * QGemmMaxLevel^2 stays below 2^31.
	QGemmMaxK = 2047

	qMR = 6
	qNR = 16
)

// QPackedA is a packed integer A operand (see PackQA).
type QPackedA struct {
	M, K int
	data []int16 // panels of qMR rows, each kp pairs x qMR rows x 2
}

func qPairs(k int) int { return (k + 1) / 2 }

// PackQA packs the m x k row-major matrix a (row stride lda) of integer levels for QGemm. It
// returns false, and packs nothing usable, when k exceeds QGemmMaxK or an entry is not an
// integer of magnitude at most QGemmMaxLevel. dst is reused when large enough.
func PackQA(dst *QPackedA, m, k int, a []float32, lda int) bool {
	if k > QGemmMaxK || m <= 0 || k <= 0 {
		return false
	}
	kp := qPairs(k)
	panels := (m + qMR - 1) / qMR
	n := panels * kp * qMR * 2
	if cap(dst.data) < n {
		dst.data = make([]int16, n)
	}
	dst.data = dst.data[:n]
	dst.M, dst.K = m, k
	for pn := 0; pn < panels; pn++ {
		d := dst.data[pn*kp*qMR*2 : (pn+1)*kp*qMR*2]
		for i := 0; i < qMR; i++ {
			r := pn*qMR + i
			if r >= m {
				for p := 0; p < kp; p++ {
					d[(p*qMR+i)*2], d[(p*qMR+i)*2+1] = 0, 0
				}
				continue
			}
			row := a[r*lda : r*lda+k]
			for p := 0; p < kp; p++ {
				var v0, v1 int16
				var ok bool
				if v0, ok = qLevel(row[2*p]); !ok {
					return false
				}
				if 2*p+1 < k {
					if v1, ok = qLevel(row[2*p+1]); !ok {
						return false
					}
				}
				d[(p*qMR+i)*2], d[(p*qMR+i)*2+1] = v0, v1
			}
		}
	}
	return true
}

// QPanelRows is the height of QPackedA's panels: Rows views start at a multiple of it.
const QPanelRows = qMR

// Rows returns a view of rows [i0, i1) of a (i0 a multiple of QPanelRows), for a GEMM that
// computes those output rows alone; it shares a's storage.
func (a *QPackedA) Rows(i0, i1 int) QPackedA {
	if i0%qMR != 0 || i0 < 0 || i1 > a.M || i0 >= i1 {
		panic(fmt.Sprintf("tensor.QPackedA.Rows: rows %d..%d of %d (the first a multiple of %d)", i0, i1, a.M, qMR))
	}
	kp := qPairs(a.K)
	return QPackedA{M: i1 - i0, K: a.K, data: a.data[i0/qMR*kp*qMR*2 : (i1+qMR-1)/qMR*kp*qMR*2]}
}

// qLevel converts an integer level held as float32.
func qLevel(v float32) (int16, bool) {
	if !(v >= -QGemmMaxLevel && v <= QGemmMaxLevel) || v != float32(math.Trunc(float64(v))) {
		return 0, false
	}
	return int16(v), true
}

// QPackedB is a packed integer B operand (see PackQB); its buffer is reused across calls.
type QPackedB struct {
	K, N int
	data []int16   // strips of qNR columns, each kp pairs x qNR columns x 2
	edge []float32 // the last, partial strip's columns, zero padded to qNR
	tile []float32 // QGemmRequant's output for the partial strip, qNR columns per row
}

// PackQB packs the k x n block of integer levels b (row stride ldb) into 16-column strips. It
// returns false when k exceeds QGemmMaxK or an entry is not an integer of magnitude at most
// QGemmMaxLevel.
func PackQB(dst *QPackedB, k, n int, b []float32, ldb int) bool {
	if k > QGemmMaxK || n <= 0 || k <= 0 {
		return false
	}
	kp := qPairs(k)
	strips := (n + qNR - 1) / qNR
	sz := strips * kp * qNR * 2
	if cap(dst.data) < sz {
		dst.data = make([]int16, sz)
	}
	dst.data = dst.data[:sz]
	dst.K, dst.N = k, n
	_ = b[(k-1)*ldb+n-1]
	full := n / qNR
	if full > 0 && !packQBStrips(dst.data, b, ldb, k, full) {
		return false
	}
	if full < strips {
		// The partial strip through a zero-padded copy, so that it too is packed (and
		// checked) by the vector code.
		j0, cols := full*qNR, n-full*qNR
		if cap(dst.edge) < k*qNR {
			dst.edge = make([]float32, k*qNR)
		}
		e := dst.edge[:k*qNR]
		for r := 0; r < k; r++ {
			copy(e[r*qNR:r*qNR+cols], b[r*ldb+j0:r*ldb+n])
			clear(e[r*qNR+cols : (r+1)*qNR])
		}
		if !packQBStrip(dst.data[full*kp*qNR*2:], e, qNR, k) {
			return false
		}
	}
	return true
}

// packQBStripsGo packs full strips one at a time.
func packQBStripsGo(d []int16, b []float32, ldb, k, strips int) bool {
	kp := qPairs(k)
	for s := 0; s < strips; s++ {
		if !packQBStripGo(d[s*kp*qNR*2:(s+1)*kp*qNR*2], b[s*qNR:], ldb, k, qNR) {
			return false
		}
	}
	return true
}

// packQBStripGo packs cols (<= 16) columns of a strip; the rest of the strip is zero.
func packQBStripGo(d []int16, b []float32, ldb, k, cols int) bool {
	kp := qPairs(k)
	for p := 0; p < kp; p++ {
		for j := 0; j < qNR; j++ {
			var v0, v1 int16
			if j < cols {
				var ok bool
				if v0, ok = qLevel(b[2*p*ldb+j]); !ok {
					return false
				}
				if 2*p+1 < k {
					if v1, ok = qLevel(b[(2*p+1)*ldb+j]); !ok {
						return false
					}
				}
			}
			d[(p*qNR+j)*2], d[(p*qNR+j)*2+1] = v0, v1
		}
	}
	return true
}

// QGemm sets C[i][j] = sum_k A[i][k]*B[k][j] (exact, in int32, stored as float32) for the packed
// operands (A m x k, B k x n with the same k), C row-major with stride ldc.
func QGemm(a *QPackedA, b *QPackedB, c []float32, ldc int) {
	if a.K != b.K {
		panic("tensor.QGemm: operands packed with different k")
	}
	if useAVX512 {
		qGemmVNNI(a, b, c, ldc, nil, nil, 0, 0, qModeRaw)
		return
	}
	m, n, kp := a.M, b.N, qPairs(a.K)
	_ = c[(m-1)*ldc+n-1]
	var tile [qMR * qNR]float32
	strips := (n + qNR - 1) / qNR
	for s := 0; s < strips; s++ {
		j0 := s * qNR
		bs := b.data[s*kp*qNR*2 : (s+1)*kp*qNR*2]
		for i0 := 0; i0 < m; i0 += qMR {
			as := a.data[i0/qMR*kp*qMR*2 : (i0/qMR+1)*kp*qMR*2]
			if i0+qMR <= m && j0+qNR <= n {
				qKernel(as, bs, kp, c[i0*ldc+j0:], ldc)
				continue
			}
			qKernel(as, bs, kp, tile[:], qNR)
			for i := 0; i < min(qMR, m-i0); i++ {
				copy(c[(i0+i)*ldc+j0:(i0+i)*ldc+min(j0+qNR, n)], tile[i*qNR:])
			}
		}
	}
}

// qKernelGo is the portable micro-kernel: the 6x16 tile at c (stride ldc) from kp pairs.
func qKernelGo(a, b []int16, kp int, c []float32, ldc int) {
	var acc [qMR][qNR]int32
	for p := 0; p < kp; p++ {
		ap, bp := a[p*qMR*2:(p+1)*qMR*2], b[p*qNR*2:(p+1)*qNR*2]
		for i := 0; i < qMR; i++ {
			a0, a1 := int32(ap[2*i]), int32(ap[2*i+1])
			for j := 0; j < qNR; j++ {
				acc[i][j] += a0*int32(bp[2*j]) + a1*int32(bp[2*j+1])
			}
		}
	}
	for i := 0; i < qMR; i++ {
		for j := 0; j < qNR; j++ {
			c[i*ldc+j] = float32(acc[i][j])
		}
	}
}

// QGemmRequant is QGemm with each output requantized to levels as it is stored:
// C[i][j] = min(max(round((sum + bias[i]) * mult[i]), qlo), qhi), rounding half to even. It
// is AffineClampQuant's requantization (scale 1, no shift, no clamp before the rounding, qlo
// and qhi the level bounds minus the zero point) applied to QGemm's output, bit for bit,
// without a second pass over C. bias and mult have at least m entries. A partial last strip
// of columns is computed into a buffer kept in b (so b serves one call at a time).
func QGemmRequant(a *QPackedA, b *QPackedB, c []float32, ldc int, bias, mult []float32, qlo, qhi float32) {
	qGemmRequant(a, b, c, ldc, bias, mult, qlo, qhi, false)
}

// QGemmRequantStream is QGemmRequant for an output that is not read again soon (larger than
// the caches): its whole tiles are stored past the caches (non-temporal stores, where C's
// alignment allows), which spares reading C's lines from memory before writing them.
func QGemmRequantStream(a *QPackedA, b *QPackedB, c []float32, ldc int, bias, mult []float32, qlo, qhi float32) {
	qGemmRequant(a, b, c, ldc, bias, mult, qlo, qhi, true)
}

func qGemmRequant(a *QPackedA, b *QPackedB, c []float32, ldc int, bias, mult []float32, qlo, qhi float32, stream bool) {
	if a.K != b.K || len(bias) < a.M || len(mult) < a.M {
		panic("tensor.QGemmRequant: operands packed with different k, or fewer than m biases or multipliers")
	}
	if useAVX512 {
		mode := qModeRq
		if stream {
			mode = qModeNT
		}
		qGemmVNNI(a, b, c, ldc, bias, mult, qlo, qhi, mode)
		return
	}
	m, n, kp := a.M, b.N, qPairs(a.K)
	_ = c[(m-1)*ldc+n-1]
	full, rows := m/qMR, m%qMR // whole panels, and the rows of the last, partial one
	strips := (n + qNR - 1) / qNR
	// The partial panel's biases and multipliers, zero padded to a whole panel.
	var bp, mp [qMR]float32
	copy(bp[:], bias[full*qMR:m])
	copy(mp[:], mult[full*qMR:m])
	var tile [qMR * qNR]float32
	for s := 0; s < strips; s++ {
		j0 := s * qNR
		bs := b.data[s*kp*qNR*2 : (s+1)*kp*qNR*2]
		if j0+qNR > n {
			// The partial strip: every panel into a 16-column buffer, then its columns copied.
			cols := n - j0
			if cap(b.tile) < (full+1)*qMR*qNR {
				b.tile = make([]float32, (full+1)*qMR*qNR)
			}
			t := b.tile[:(full+1)*qMR*qNR]
			if full > 0 {
				qKernelRq(a.data, bs, kp, t, qNR, bias, mult, qlo, qhi, full)
			}
			if rows > 0 {
				qKernelRq(a.data[full*kp*qMR*2:], bs, kp, t[full*qMR*qNR:], qNR, bp[:], mp[:], qlo, qhi, 1)
			}
			for i := 0; i < m; i++ {
				copy(c[i*ldc+j0:i*ldc+n], t[i*qNR:i*qNR+cols])
			}
			continue
		}
		if full > 0 && stream {
			qKernelRqNT(a.data, bs, kp, c[j0:], ldc, bias, mult, qlo, qhi, full)
		} else if full > 0 {
			qKernelRq(a.data, bs, kp, c[j0:], ldc, bias, mult, qlo, qhi, full)
		}
		if rows > 0 && !qKernelRqRows(a.data[full*kp*qMR*2:], bs, kp, c[full*qMR*ldc+j0:], ldc, bias[full*qMR:], mult[full*qMR:], qlo, qhi, rows) {
			qKernelRq(a.data[full*kp*qMR*2:], bs, kp, tile[:], qNR, bp[:], mp[:], qlo, qhi, 1)
			for i := 0; i < rows; i++ {
				copy(c[(full*qMR+i)*ldc+j0:(full*qMR+i)*ldc+j0+qNR], tile[i*qNR:(i+1)*qNR])
			}
		}
	}
}

// qKernelRqGo is the portable form of the requantizing micro-kernel.
func qKernelRqGo(a, b []int16, kp int, c []float32, ldc int, bias, mult []float32, qlo, qhi float32) {
	qKernelGo(a, b, kp, c, ldc)
	for i := 0; i < qMR; i++ {
		for j := 0; j < qNR; j++ {
			u := float32(float32(c[i*ldc+j]+bias[i]) * mult[i])
			r := float32(math.RoundToEven(float64(u)))
			c[i*ldc+j] = min(max(r, qlo), qhi) + 0
		}
	}
}
