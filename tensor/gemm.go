package tensor

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// The blocking design, kernels and measured throughput are described in doc.go.

const (
	gemmMR = 6  // micro-tile rows
	gemmNR = 16 // micro-tile columns

	// gemmParMin is the number of multiply-adds below which Sgemm stays on one goroutine.
	gemmParMin = 1 << 18
	// gemmChunksPerThread is how many stripes per goroutine a parallel Sgemm is cut into at most;
	// gemmChunkMin is the smallest stripe width (columns or rows) worth its repacking.
	gemmChunksPerThread = 4
	gemmChunkMin        = 128
)

// Blocking parameters (variables so that tuning experiments can change them). Tuned on the 2-core
// AMD EPYC (Zen 3, 32 KiB L1d, 512 KiB L2 per core): kc 192..320 and mc 72..120 measure within
// noise of each other.
var (
	gemmKC       = 256  // k block: a 16-column B micro-panel (16 KiB) stays in L1
	gemmMC       = 120  // m block (multiple of gemmMR): the packed A block (120 KiB) stays in L2
	gemmNC       = 3072 // n block (multiple of gemmNR): the packed B block (3 MiB) stays in L3
	gemmNCSmallM = 256  // n block when all of A fits one m block (packed B used once: keep it in L2)
	gemmDirectM  = 18   // up to this m, op(B) (not transposed) is read in place, not packed

	// Skinny GEMMs (gemmMR < m <= gemmSkinnyM, op(B) not transposed: a dense layer's batch
	// against its weights) stream B once: see gemmSkinny.
)

// Skinny GEMMs (m <= gemmSkinnyM, op(B) = B of at least gemmSkinnyMinB floats, more than L2
// holds: a dense layer's batch against its weights, or their gradients) are bound by reading B
// from memory, once. With a row stride of B that does not alias in the caches (ldb % 128 != 0),
// gemmSkinny reads B in place; otherwise B is packed block by block as usual and the kernels
// prefetch the next block while they compute on this one (gemmWork.pf).
var (
	gemmSkinnyM    = 24
	gemmSkinnyMinB = 1 << 17
	gemmSkinnyPF   = 512 // prefetch distance of gemmSkinny along B's rows, bytes (8 micro-panels)
	// A packed skinny B goes in blocks 512 columns wide (longer runs along its rows); its k blocks
	// are the usual gemmKC (see gemmSerial).
	gemmSkinnyNC = 512
)

var gemmThreads atomic.Int64 // 0: runtime.GOMAXPROCS(0)

// SetThreads sets how many goroutines Sgemm may use; n <= 0 restores the default,
// runtime.GOMAXPROCS(0) at call time.
func SetThreads(n int) {
	if n < 0 {
		n = 0
	}
	gemmThreads.Store(int64(n))
}

// Threads reports how many goroutines Sgemm may use.
func Threads() int {
	if n := int(gemmThreads.Load()); n > 0 {
		return n
	}
	return runtime.GOMAXPROCS(0)
}

// Sgemm computes C = alpha*op(A)*op(B) + beta*C for row-major matrices, where op(X) is X or its
// transpose. op(A) is m x k, op(B) is k x n, C is m x n; lda, ldb, ldc are row strides (of the
// stored, untransposed matrices). When beta == 0, C is not read (it may hold NaN).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	work := m * n * k
	threads := Threads()
	if threads <= 1 || work < gemmParMin {
		gemmSerial(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	if p := work / (gemmParMin / 2); p < threads {
		threads = max(p, 1)
	}
	gemmParallel(threads, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("tensor.Sgemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	need := func(name string, rows, cols, ld int, s []float32) {
		if ld < max(cols, 1) {
			panic(fmt.Sprintf("tensor.Sgemm: ld%s=%d < %d", name, ld, cols))
		}
		if m > 0 && n > 0 && rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("tensor.Sgemm: len(%s)=%d < %d", name, len(s), (rows-1)*ld+cols))
		}
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	need("a", ar, ac, lda, a)
	need("b", br, bc, ldb, b)
	need("c", m, n, ldc, c)
}

// scaleC sets C = beta*C (C = 0 when beta == 0, without reading it).
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemmParallel splits C into stripes (column stripes of whole 16-column panels when n >= m, else
// row stripes of whole 6-row panels) and hands them out dynamically: up to threads-1 helper
// goroutines and the caller take the next stripe from an atomic counter until none is left, so a
// helper that starts late (its core busy with other work) delays nothing; the caller does its
// share and the rest.
func gemmParallel(threads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	byCols := n >= m
	unit, total := gemmMR, m
	if byCols {
		unit, total = gemmNR, n
	}
	units := (total + unit - 1) / unit
	// Each stripe repacks the whole other operand (A for column stripes, B for row stripes), so
	// stripes are kept at least gemmChunkMin wide where that still leaves one per goroutine.
	chunks := min(units, threads*gemmChunksPerThread, max(threads, total/gemmChunkMin))
	if !transB && m <= gemmSkinnyM && k*n >= gemmSkinnyMinB {
		// A skinny GEMM streams B from memory: wider stripes, longer runs along its rows.
		chunks = min(chunks, 2*threads)
	}
	threads = min(threads, chunks)
	var next atomic.Int64
	work := func() {
		for {
			t := int(next.Add(1) - 1)
			if t >= chunks {
				return
			}
			lo := units * t / chunks * unit
			hi := min(units*(t+1)/chunks*unit, total)
			if byCols {
				bo := lo
				if transB {
					bo = lo * ldb
				}
				gemmSerial(transA, transB, m, hi-lo, k, alpha, a, lda, b[bo:], ldb, beta, c[lo:], ldc)
			} else {
				ao := lo * lda
				if transA {
					ao = lo
				}
				gemmSerial(transA, transB, hi-lo, n, k, alpha, a[ao:], lda, b, ldb, beta, c[lo*ldc:], ldc)
			}
		}
	}
	onThreads(threads, work)
}

// onThreads runs work on threads goroutines, the caller's among them, and waits for them all.
func onThreads(threads int, work func()) {
	var wg sync.WaitGroup
	wg.Add(threads - 1)
	for i := 1; i < threads; i++ {
		go func() {
			defer wg.Done()
			work()
		}()
	}
	work()
	wg.Wait()
}

type gemmWork struct {
	a, b []float32
	tile [gemmMR * gemmNR]float32
	// pf, when set, is a matrix whose next block the macro-kernel prefetches while it computes:
	// the first row panel's kernel for micro-panel jr prefetches pf[pfOff+jr+p*pfld], p < kc.
	pf          []float32
	pfOff, pfld int
	t           []float32 // C transposed, for narrow C (gemmNarrow)
}

var gemmPool = sync.Pool{New: func() any { return new(gemmWork) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// blockSize splits total into ceil(total/max) near-equal blocks rounded up to a multiple of unit.
func blockSize(total, maxBlock, unit int) int {
	if total <= maxBlock {
		return total
	}
	nb := (total + maxBlock - 1) / maxBlock
	bs := (total + nb - 1) / nb
	return (bs + unit - 1) / unit * unit
}

func gemmSerial(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	w := gemmPool.Get().(*gemmWork)
	if transB && n < gemmNR && m >= gemmNR {
		gemmNarrow(w, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		gemmPool.Put(w)
		return
	}
	skinny := !transB && m <= gemmSkinnyM && k*n >= gemmSkinnyMinB
	if skinny && m > gemmMR && n >= gemmNR && ldb%128 != 0 {
		gemmSkinny(w, transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		gemmPool.Put(w)
		return
	}
	kcb := blockSize(k, gemmKC, 1)
	mcb := blockSize(m, gemmMC, gemmMR)
	ncb := blockSize(n, gemmNC, gemmNR)
	if m <= mcb {
		// One A block: packed B is used once, so keep each packed B block L2-resident.
		ncb = blockSize(n, gemmNCSmallM, gemmNR)
		if skinny {
			// B streamed from memory: longer runs along its rows, as much packed per block.
			ncb = blockSize(n, gemmSkinnyNC, gemmNR)
		}
	}
	mcp := (min(mcb, m) + gemmMR - 1) / gemmMR * gemmMR
	ncp := (min(ncb, n) + gemmNR - 1) / gemmNR * gemmNR
	// With few rows of A a packed B micro-panel would be used by at most gemmDirectM/6 micro-kernel
	// calls, so packing it costs more than it saves: read op(B) in place.
	direct := !transB && (m <= gemmMR || m <= gemmDirectM && ldb%128 != 0)
	if direct {
		ncb, ncp = n, gemmNR
	}
	w.a = grow(w.a, mcp*kcb)
	w.b = grow(w.b, ncp*kcb)
	if m <= mcb {
		// One A block: pack it once per k block and stream B through in L2-sized blocks, reading
		// whole rows of B (k-outer order) rather than narrow column strips.
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			packA(transA, a, lda, 0, pc, m, kc, w.a)
			for jc := 0; jc < n; jc += ncb {
				nc := min(ncb, n-jc)
				var bsrc []float32
				if direct {
					bsrc = b[pc*ldb+jc:]
				} else {
					packB(transB, b, ldb, pc, jc, kc, nc, w.b)
					if skinny && m >= gemmMR {
						// Few rows: B streams from memory once, so fetch its next block during this one.
						switch {
						case jc+ncb < n:
							w.pf, w.pfOff = b, pc*ldb+jc+ncb
						case pc+kc < k:
							w.pf, w.pfOff = b, (pc+kc)*ldb
						}
						w.pfld = ldb
					}
				}
				macroKernel(w, m, nc, kc, alpha, bet, c[jc:], ldc, bsrc, ldb)
				w.pf = nil
			}
		}
		gemmPool.Put(w)
		return
	}
	for jc := 0; jc < n; jc += ncb {
		nc := min(ncb, n-jc)
		for pc := 0; pc < k; pc += kcb {
			kc := min(kcb, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			var bsrc []float32
			if direct {
				bsrc = b[pc*ldb+jc:]
			} else {
				packB(transB, b, ldb, pc, jc, kc, nc, w.b)
			}
			for ic := 0; ic < m; ic += mcb {
				mc := min(mcb, m-ic)
				packA(transA, a, lda, ic, pc, mc, kc, w.a)
				macroKernel(w, mc, nc, kc, alpha, bet, c[ic*ldc+jc:], ldc, bsrc, ldb)
			}
		}
	}
	gemmPool.Put(w)
}

// gemmSkinny is gemmSerial for few rows of C (gemmMR < m <= gemmSkinnyM), op(B) = B: the
// whole of A is packed per k block and B is read in place, each 16-column micro-panel once: the
// first row panel's kernel (microKernelPack) copies the micro-panel into an L1-resident packed
// panel as it multiplies, the other row panels read that copy, and the same kernel prefetches
// B's rows a few micro-panels ahead, so that B (megabytes of weights, in memory rather than
// cache) streams in while the FMAs run instead of in a separate packing pass.
func gemmSkinny(w *gemmWork, transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// The k blocks are those of every other path (blockSize(k, gemmKC, 1)): where a sum is split
	// sets its rounding, and a sample's outputs must not depend on how many samples share the GEMM
	// (a skinny GEMM is chosen by the batch size through n).
	kcb := blockSize(k, gemmKC, 1)
	mcp := (m + gemmMR - 1) / gemmMR * gemmMR
	w.a = grow(w.a, mcp*kcb)
	w.b = grow(w.b, gemmNR*kcb)
	n16 := n &^ (gemmNR - 1)
	for pc := 0; pc < k; pc += kcb {
		kc := min(kcb, k-pc)
		bet := beta
		if pc > 0 {
			bet = 1
		}
		packA(transA, a, lda, 0, pc, m, kc, w.a)
		a0 := w.a[:kc*gemmMR]
		bp := w.b[:kc*gemmNR]
		// The prefetches run gemmSkinnyPF bytes ahead along B's rows; near the end of the rows
		// they fetch the first micro-panels of the next k block instead.
		pfCols := gemmSkinnyPF / 4
		wrap := 0
		if pc+kc < k {
			wrap = kc*ldb - n16
		}
		for jr := 0; jr < n16; jr += gemmNR {
			pf := pfCols
			if jr+pfCols >= n16 {
				pf = max(pfCols+wrap, 0)
			}
			microKernelPack(kc, a0, b[pc*ldb+jr:], ldb, c[jr:], ldc, alpha, bet, bp, 4*pf)
			for ir := gemmMR; ir < m; ir += gemmMR {
				rows := min(gemmMR, m-ir)
				microKernel(rows, kc, w.a[ir*kc:ir*kc+kc*gemmMR], bp, gemmNR, c[ir*ldc+jr:(ir+rows-1)*ldc+jr+gemmNR], ldc, alpha, bet)
			}
		}
		if n16 < n {
			macroKernel(w, m, n-n16, kc, alpha, bet, c[n16:], ldc, b[pc*ldb+n16:], ldb)
		}
	}
}

// gemmNarrow is gemmSerial for C with fewer than 16 columns and at least 16 rows and op(B) =
// B^T (a classifier's 10 outputs at batch 16: x W^T): it computes C^T = B op(A)^T into w.t, whose
// 16-column panels are full and pack with the AVX2 routines, and writes its transpose to C.
// Directly, op(B) would be one partial micro-panel gathered element by element.
func gemmNarrow(w *gemmWork, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	w.t = grow(w.t, n*m)
	t := w.t
	gemmSerial(!transB, !transA, n, m, k, 1, b, ldb, a, lda, 0, t, m)
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		if beta == 0 {
			for j := range crow {
				crow[j] = alpha * t[j*m+i]
			}
			continue
		}
		for j := range crow {
			crow[j] = alpha*t[j*m+i] + beta*crow[j]
		}
	}
}

// microKernelPackGo is the portable microKernelPack (without the prefetch).
func microKernelPackGo(kc int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, bp []float32) {
	for p := 0; p < kc; p++ {
		copy(bp[p*gemmNR:(p+1)*gemmNR], b[p*ldb:p*ldb+gemmNR])
	}
	microKernelGo(gemmMR, kc, a, bp, gemmNR, c, ldc, alpha, beta)
}

// packA packs op(A)[i0:i0+mc, p0:p0+kc] into 6-row micro-panels: panel r holds, for each p,
// the 6 values op(A)[i0+6r+i, p0+p], i = 0..5 (rows past mc are zero).
func packA(trans bool, a []float32, lda, i0, p0, mc, kc int, dst []float32) {
	for ir := 0; ir < mc; ir += gemmMR {
		rows := min(gemmMR, mc-ir)
		d := dst[ir*kc : ir*kc+kc*gemmMR]
		if !trans {
			if rows == gemmMR {
				packA6(a[(i0+ir)*lda+p0:], lda, kc, d)
				continue
			}
			if kc <= len(zeroRow) {
				// Rows past mc read as zeros: the same interleaving loop as a full panel.
				var src [gemmMR][]float32
				for i := range src {
					src[i] = zeroRow[:kc]
					if i < rows {
						base := (i0+ir+i)*lda + p0
						src[i] = a[base : base+kc]
					}
				}
				interleave6(&src, d)
				continue
			}
			clear(d)
			for i := 0; i < rows; i++ {
				base := (i0+ir+i)*lda + p0
				row := a[base : base+kc]
				for p, v := range row {
					d[p*gemmMR+i] = v
				}
			}
			continue
		}
		// op(A)[i, p] = a[p*lda + i]: each p contributes a contiguous run of rows.
		if rows == gemmMR {
			for p := 0; p < kc; p++ {
				base := (p0+p)*lda + i0 + ir
				// Two short array copies: a 6-float array copy would call memmove.
				*(*[4]float32)(d[p*gemmMR:]) = *(*[4]float32)(a[base:])
				*(*[2]float32)(d[p*gemmMR+4:]) = *(*[2]float32)(a[base+4:])
			}
			continue
		}
		clear(d)
		for p := 0; p < kc; p++ {
			base := (p0+p)*lda + i0 + ir
			// An element loop: copy would call memmove for a handful of floats.
			for i, v := range a[base : base+rows] {
				d[p*gemmMR+i] = v
			}
		}
	}
}

// packB packs op(B)[p0:p0+kc, j0:j0+nc] into 16-column micro-panels: panel r holds, for each p,
// the 16 values op(B)[p0+p, j0+16r+j] (columns past nc are zero).
func packB(trans bool, b []float32, ldb, p0, j0, kc, nc int, dst []float32) {
	if !trans {
		full := nc / gemmNR
		packBFull(b[p0*ldb+j0:], ldb, kc, full, dst)
		if jr := full * gemmNR; jr < nc {
			packBEdge(b[p0*ldb+j0+jr:], ldb, kc, nc-jr, dst[jr*kc:jr*kc+kc*gemmNR])
		}
		return
	}
	// op(B)[p, j] = b[j*ldb + p]: full panels read 16 stored rows in parallel and write each
	// packed row of 16 contiguously.
	for jr := 0; jr < nc; jr += gemmNR {
		cols := min(gemmNR, nc-jr)
		d := dst[jr*kc : jr*kc+kc*gemmNR]
		if cols == gemmNR {
			packBTransPanel(b[(j0+jr)*ldb+p0:], ldb, kc, d)
			continue
		}
		if kc <= len(zeroRow) {
			// Columns past nc read as zeros: the same interleaving loop as a full panel.
			var rows [gemmNR][]float32
			for j := range rows {
				rows[j] = zeroRow[:kc]
				if j < cols {
					base := (j0+jr+j)*ldb + p0
					rows[j] = b[base : base+kc]
				}
			}
			packBTrans16(&rows, d)
			continue
		}
		clear(d)
		for j := 0; j < cols; j++ {
			base := (j0+jr+j)*ldb + p0
			row := b[base : base+kc]
			for p, v := range row {
				d[p*gemmNR+j] = v
			}
		}
	}
}

// packBEdgeGo packs the first cols < 16 values of kc rows of b (stride ldb) into d (kc x 16),
// zero-padded.
func packBEdgeGo(b []float32, ldb, kc, cols int, d []float32) {
	clear(d)
	for p := 0; p < kc; p++ {
		// An element loop: copy would call memmove for a handful of floats.
		dr := (*[gemmNR]float32)(d[p*gemmNR:])
		for j, v := range b[p*ldb : p*ldb+cols] {
			dr[j] = v
		}
	}
}

// packBTransPanelGo packs the first kc values of 16 rows of b (stride ldb) into d (kc x 16).
func packBTransPanelGo(b []float32, ldb, kc int, d []float32) {
	var rows [gemmNR][]float32
	for j := range rows {
		rows[j] = b[j*ldb : j*ldb+kc]
	}
	packBTrans16(&rows, d)
}

// packBTrans16 interleaves 16 rows of equal length kc into d (kc x 16).
func packBTrans16(rows *[gemmNR][]float32, d []float32) {
	kc := len(rows[0])
	r0, r1, r2, r3 := rows[0], rows[1][:kc], rows[2][:kc], rows[3][:kc]
	r4, r5, r6, r7 := rows[4][:kc], rows[5][:kc], rows[6][:kc], rows[7][:kc]
	r8, r9, r10, r11 := rows[8][:kc], rows[9][:kc], rows[10][:kc], rows[11][:kc]
	r12, r13, r14, r15 := rows[12][:kc], rows[13][:kc], rows[14][:kc], rows[15][:kc]
	d = d[:kc*gemmNR]
	for p := range r0 {
		q := (*[gemmNR]float32)(d[p*gemmNR:])
		q[0], q[1], q[2], q[3] = r0[p], r1[p], r2[p], r3[p]
		q[4], q[5], q[6], q[7] = r4[p], r5[p], r6[p], r7[p]
		q[8], q[9], q[10], q[11] = r8[p], r9[p], r10[p], r11[p]
		q[12], q[13], q[14], q[15] = r12[p], r13[p], r14[p], r15[p]
	}
}

// zeroRow stands in for the missing rows of a partial A micro-panel.
var zeroRow [1024]float32

// interleave6 interleaves 6 rows of equal length kc into d (kc x 6).
func interleave6(rows *[gemmMR][]float32, d []float32) {
	r0 := rows[0]
	r1, r2, r3, r4, r5 := rows[1][:len(r0)], rows[2][:len(r0)], rows[3][:len(r0)], rows[4][:len(r0)], rows[5][:len(r0)]
	d = d[:len(r0)*gemmMR]
	for p := range r0 {
		q := (*[gemmMR]float32)(d[p*gemmMR:])
		q[0], q[1], q[2], q[3], q[4], q[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// packA6Go packs the first kc values of 6 rows of a (stride lda) into d (kc x 6).
func packA6Go(a []float32, lda, kc int, d []float32) {
	r0 := a[:kc]
	r1 := a[lda:][:len(r0)]
	r2 := a[2*lda:][:len(r0)]
	r3 := a[3*lda:][:len(r0)]
	r4 := a[4*lda:][:len(r0)]
	r5 := a[5*lda:][:len(r0)]
	d = d[:len(r0)*gemmMR]
	for p := range r0 {
		q := (*[gemmMR]float32)(d[p*gemmMR:])
		q[0], q[1], q[2], q[3], q[4], q[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// packBFullGo is the portable packBFull.
func packBFullGo(b []float32, ldb, kc, np int, dst []float32) {
	for p := 0; p < kc; p++ {
		row := b[p*ldb : p*ldb+np*gemmNR]
		for q := 0; q < np; q++ {
			copy(dst[(q*kc+p)*gemmNR:(q*kc+p+1)*gemmNR], row[q*gemmNR:(q+1)*gemmNR])
		}
	}
}

// microKernelHalves computes a rows x 32 tile as two rows x 16 ones (see microKernelWide).
func microKernelHalves(rows, kc int, a, b0, b1 []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	microKernel(rows, kc, a, b0, ldb, c, ldc, alpha, beta)
	microKernel(rows, kc, a, b1, ldb, c[gemmNR:], ldc, alpha, beta)
}

// macroKernel multiplies the packed mc x kc block of A (w.a) by a kc x nc block of B into C. B is
// either packed into 16-column micro-panels (w.b, bsrc == nil) or read in place from the row-major
// bsrc with row stride ldb (its last partial micro-panel is then packed into w.b).
func macroKernel(w *gemmWork, mc, nc, kc int, alpha, beta float32, c []float32, ldc int, bsrc []float32, ldb int) {
	ap, bp := w.a, w.b
	for jr := 0; jr < nc; jr += gemmNR {
		cols := min(gemmNR, nc-jr)
		if jr+2*gemmNR <= nc && wideKernel() {
			// Two whole micro-panels at once (the avx512 level's 6x32 kernel).
			var b0, b1 []float32
			bld := gemmNR
			if bsrc == nil {
				b0, b1 = bp[jr*kc:(jr+gemmNR)*kc], bp[(jr+gemmNR)*kc:(jr+2*gemmNR)*kc]
			} else {
				b0, b1, bld = bsrc[jr:(kc-1)*ldb+jr+gemmNR], bsrc[jr+gemmNR:(kc-1)*ldb+jr+2*gemmNR], ldb
			}
			for ir := 0; ir < mc; ir += gemmMR {
				rows := min(gemmMR, mc-ir)
				apan := ap[ir*kc : ir*kc+kc*gemmMR]
				ct := c[ir*ldc+jr : (ir+rows-1)*ldc+jr+2*gemmNR]
				if ir == 0 && bsrc == nil && w.pf != nil {
					microKernelWidePF(rows, kc, apan, b0, b1, bld, ct, ldc, alpha, beta, w.pf[min(w.pfOff+jr, len(w.pf)-1):], w.pfld)
					continue
				}
				microKernelWide(rows, kc, apan, b0, b1, bld, ct, ldc, alpha, beta)
			}
			jr += gemmNR
			continue
		}
		var bpan []float32
		bld := gemmNR
		switch {
		case bsrc == nil:
			bpan = bp[jr*kc : jr*kc+kc*gemmNR]
			if w.pf != nil && mc >= gemmMR && cols == gemmNR {
				ct := c[jr : (gemmMR-1)*ldc+jr+gemmNR]
				microKernelPF(kc, ap[:kc*gemmMR], bpan, gemmNR, ct, ldc, alpha, beta, w.pf[min(w.pfOff+jr, len(w.pf)-1):], w.pfld)
				for ir := gemmMR; ir < mc; ir += gemmMR {
					rows := min(gemmMR, mc-ir)
					microKernel(rows, kc, ap[ir*kc:ir*kc+kc*gemmMR], bpan, gemmNR, c[ir*ldc+jr:(ir+rows-1)*ldc+jr+gemmNR], ldc, alpha, beta)
				}
				continue
			}
		case cols == gemmNR:
			bpan, bld = bsrc[jr:(kc-1)*ldb+jr+gemmNR], ldb
		default:
			bpan = bp[:kc*gemmNR]
			packB(false, bsrc, ldb, 0, jr, kc, cols, bpan)
		}
		for ir := 0; ir < mc; ir += gemmMR {
			rows := min(gemmMR, mc-ir)
			apan := ap[ir*kc : ir*kc+kc*gemmMR]
			if cols == gemmNR {
				ct := c[ir*ldc+jr : (ir+rows-1)*ldc+jr+gemmNR]
				microKernel(rows, kc, apan, bpan, bld, ct, ldc, alpha, beta)
				continue
			}
			t := w.tile[:]
			microKernel(rows, kc, apan, bpan, bld, t, gemmNR, 1, 0)
			for i := 0; i < rows; i++ {
				crow := c[(ir+i)*ldc+jr : (ir+i)*ldc+jr+cols]
				trow := t[i*gemmNR : i*gemmNR+cols]
				switch beta {
				case 0:
					for j, v := range trow {
						crow[j] = alpha * v
					}
				case 1:
					for j, v := range trow {
						crow[j] += alpha * v
					}
				default:
					for j, v := range trow {
						crow[j] = alpha*v + beta*crow[j]
					}
				}
			}
		}
	}
}

// microKernelGo is the portable micro-kernel for a rows x 16 tile (rows <= 6):
// c[i*ldc+j] = alpha*sum_p a[p*6+i]*b[p*ldb+j] + beta*c[i*ldc+j], c not read when beta == 0.
func microKernelGo(rows, kc int, a, b []float32, ldb int, c []float32, ldc int, alpha, beta float32) {
	var acc [gemmMR][gemmNR]float32
	a = a[:kc*gemmMR]
	for p := 0; p < kc; p++ {
		bv := (*[gemmNR]float32)(b[p*ldb:])
		av := (*[gemmMR]float32)(a[p*gemmMR:])
		for i := 0; i < rows; i++ {
			x := av[i]
			r := &acc[i]
			r[0] += x * bv[0]
			r[1] += x * bv[1]
			r[2] += x * bv[2]
			r[3] += x * bv[3]
			r[4] += x * bv[4]
			r[5] += x * bv[5]
			r[6] += x * bv[6]
			r[7] += x * bv[7]
			r[8] += x * bv[8]
			r[9] += x * bv[9]
			r[10] += x * bv[10]
			r[11] += x * bv[11]
			r[12] += x * bv[12]
			r[13] += x * bv[13]
			r[14] += x * bv[14]
			r[15] += x * bv[15]
		}
	}
	for i := 0; i < rows; i++ {
		crow := c[i*ldc : i*ldc+gemmNR]
		if beta == 0 {
			for j := range crow {
				crow[j] = alpha * acc[i][j]
			}
		} else {
			for j := range crow {
				crow[j] = alpha*acc[i][j] + beta*crow[j]
			}
		}
	}
}

// sgemmRef is the naive reference implementation used by the tests.
func sgemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float32
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}
