package tensor

import (
	"sync"
	"sync/atomic"
)

// Dense layers: C = A·Wᵀ (+ beta·C) with A the batch (m x k) and W the weights (n x k, a row per
// output). When W is large (AlexNet's fc6 is 4096 x 9216, 151 MB; fc7 4096 x 4096, 67 MB) and the
// batch is small, the product is bound by reading W from memory, and the packed path of Sgemm
// reads W, writes it packed into panels and reads the panels again (~5 GB/s of W at batch 16).
// SgemmNT instead reads W in place, once per call. It computes Cᵀ = W·Aᵀ with a broadcast
// micro-kernel: A, small, is packed once per call into panels of Aᵀ (16 or 8 rows of A wide);
// each step broadcasts one weight from each of 6 W rows and multiplies it with a row of a panel
// (12 FMAs on 2 loads and 6 broadcasts). W goes by k segments of streamNTKC floats: 4 KiB runs
// along 6 rows at a time, the next 6 rows prefetched into L2 (in place, AlexNet's row strides of a
// multiple of 4 KiB would make L1 prefetches evict each other); the Cᵀ tiles live in a buffer
// across the segments.
//
// Measured on the development machine (2-core AMD EPYC, Zen 3), CPU time, the two paths
// alternated in one process, 12-15 rounds, median of the per-round ratios packed/streamed
// [quartiles]:
//
//	shape (m x n x k)   1 thread: packed -> streamed ms       2 threads (CPU ms of both cores)
//	fc6 16x4096x9216    25.8 -> 17.7, 1.47x [1.45 1.47]       23.9 -> 16.5, 1.44x [1.43 1.46]
//	fc7 16x4096x4096    10.9 ->  7.8, 1.41x [1.39 1.41]       11.4 ->  8.0, 1.44x [1.43 1.44]
//	fc8 16x1000x4096     2.3 ->  1.8, 1.27x [1.26 1.30]        2.4 ->  1.8, 1.31x [1.29 1.33]
//	1x4096x9216         15.5 -> 13.0, 1.19x (11.6 GB/s of W)  13.8 -> 12.2, 1.12x
//	64x4096x9216        65.0 -> 65.1, 1.00x                   62.2 -> 63.5, 0.98x
//	128x4096x4096       49.3 -> 56.1, 0.88x (k segments of 256)  51.9 -> 60.6, 0.86x (of 1024)
//
// AlexNet inference (alexnet-torchvision, batch 16): 1.051x [1.044 1.054] at 1 thread (224 -> 215
// CPU ms per batch), 1.051x [1.048 1.056] at 2 threads. A dot-product variant (8-lane partial
// sums of a W row and an A row, 3x4 register blocks, 1 KiB runs along W) reached 1.43x on fc6 and
// 1.66x at batch 1, but 12% less than this one at batch 16. The streamed path loses from a batch
// of about 64 (by 12% at 128, where the packed kernel reuses each packed W panel for more rows),
// but the choice may not depend on m (below), and dense layers this large run at small batches in
// inference.
//
// Batch invariance: the path is chosen by the weight shape only (never by m), and every output is
// one chain of FMAs along k, starting from beta·C, whichever kernel (a tile of 16 or 8 rows of A;
// 6 W rows in place or a zero-padded copy of the last ones) and whichever thread computes it, so
// a sample's outputs are the same bit for bit in any batch and at any thread count
// (TestSgemmNTRowsIndependentOfM).

const (
	// streamNTKC is the k segment: runs of 4 KiB along each W row; a 16-wide panel of Aᵀ
	// (64 KiB) stays in L2. 256 (1 KiB runs) measured 12% slower on fc6, 1536 and 4608 the same.
	streamNTKC = 1024
	// streamNTPFRows is how far ahead along W (in rows) the kernels prefetch: the next block.
	streamNTPFRows = 6
)

// streamNTMinW is the number of weights (k*n, 4 MiB) from which SgemmNT streams W instead of
// packing it: W well beyond L2, read from memory on every call (fc8's 4 M weights gain 1.3x).
var streamNTMinW = 1 << 20

// streamNTOn switches the streamed path (tests and measurements compare it with the packed path).
var streamNTOn = true

// SgemmNT computes C = A·Wᵀ + beta·C, where A is m x k (rows lda apart) and W is n x k (rows ldw
// apart): a dense layer's batch against its weights. Weights of at least 2^20 floats are read in
// place (see above); smaller ones go through Sgemm. When beta == 0, C is not read.
func SgemmNT(m, n, k int, a []float32, lda int, w []float32, ldw int, beta float32, c []float32, ldc int) {
	if !streamNTOn || k*n < streamNTMinW {
		Sgemm(false, true, m, n, k, 1, a, lda, w, ldw, beta, c, ldc)
		return
	}
	checkGemm(false, true, m, n, k, a, lda, w, ldw, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	scaleC(m, n, beta, c, ldc)
	if k == 0 {
		return
	}
	wk := streamNTPool.Get().(*streamNTWork)
	defer streamNTPool.Put(wk)
	mp, _ := streamNTTiles(m)
	wk.at = grow(wk.at, mp*k)
	at := wk.at
	streamNTPackA(m, k, a, lda, at)
	threads := Threads()
	units := (n + 5) / 6
	if threads <= 1 || units < 2 {
		streamNTRange(0, n, m, k, at, w, ldw, c, ldc)
		return
	}
	// Stripes of whole 6-row W blocks, handed out dynamically as in gemmParallel: each goroutine
	// streams its own rows of W (at least 128 of them) against the shared Aᵀ panels.
	chunks := min(units, threads*gemmChunksPerThread, max(threads, n/gemmChunkMin))
	threads = min(threads, chunks)
	var next atomic.Int64
	work := func() {
		for {
			t := int(next.Add(1) - 1)
			if t >= chunks {
				return
			}
			lo := units * t / chunks * 6
			hi := min(units*(t+1)/chunks*6, n)
			streamNTRange(lo, hi, m, k, at, w, ldw, c, ldc)
		}
	}
	onThreads(threads, work)
}

type streamNTWork struct{ ct, at, edge []float32 }

var streamNTPool = sync.Pool{New: func() any { return new(streamNTWork) }}

// streamNTTiles splits m rows of A into tiles of 16 and at most one of 8 (the kernels' widths):
// it returns the padded width and the width of the last tile.
func streamNTTiles(m int) (mp, last int) {
	mp, last = m/16*16, 16
	switch r := m % 16; {
	case r > 8:
		mp += 16
	case r > 0:
		mp, last = mp+8, 8
	}
	return mp, last
}

// streamNTPanelMax bounds the floats of Aᵀ panels per k segment (128 KiB: at batch 128, 0.88x the
// packed path against 0.82x with 1024-float segments; 64 and 256 KiB measured worse).
var streamNTPanelMax = 1 << 15

// streamNTSegment is the k segment for mp (padded) rows of A: streamNTKC, shorter where the
// segment's panels of Aᵀ would outgrow streamNTPanelMax floats (large batches). The segment does
// not change the arithmetic (each output is one chain of FMAs along k, stored and reloaded
// exactly between segments), so it may depend on m.
func streamNTSegment(mp int) int {
	if mp*streamNTKC <= streamNTPanelMax {
		return streamNTKC
	}
	return max(128, streamNTPanelMax/mp&^15)
}

// streamNTPackA packs the rows of A into panels of Aᵀ for streamNTRange: for each k segment
// (at offset p0*mp), a panel of kc rows per tile of 16 (or 8) rows of A (at p0*mp + i0*kc),
// zero past m.
func streamNTPackA(m, k int, a []float32, lda int, at []float32) {
	mp, last := streamNTTiles(m)
	seg := streamNTSegment(mp)
	for p0 := 0; p0 < k; p0 += seg {
		kc := min(seg, k-p0)
		for i0 := 0; i0 < mp; i0 += 16 {
			tw := 16
			if i0+16 >= mp {
				tw = last
			}
			pan := at[p0*mp+i0*kc : p0*mp+(i0+tw)*kc]
			for ii := 0; ii < tw; ii++ {
				if i0+ii >= m {
					for p := 0; p < kc; p++ {
						pan[p*tw+ii] = 0
					}
					continue
				}
				for p, v := range a[(i0+ii)*lda+p0 : (i0+ii)*lda+p0+kc] {
					pan[p*tw+ii] = v
				}
			}
		}
	}
}

// streamNTRange adds A·Wᵀ to columns j0..j1-1 of C. Cᵀ for those columns is kept in a buffer (a
// row per W row, the rows of A padded to whole tiles) across the k segments; in each segment each
// block of 6 W rows, read in place, goes through every panel of Aᵀ (packed by streamNTPackA).
func streamNTRange(j0, j1, m, k int, at []float32, w []float32, ldw int, c []float32, ldc int) {
	mp, last := streamNTTiles(m)
	rows := (j1 - j0 + 5) / 6 * 6
	wk := streamNTPool.Get().(*streamNTWork)
	defer streamNTPool.Put(wk)
	wk.ct = grow(wk.ct, rows*mp)
	ct := wk.ct
	clear(ct)
	for r := 0; r < j1-j0; r++ {
		for i := 0; i < m; i++ {
			ct[r*mp+i] = c[i*ldc+j0+r]
		}
	}
	wk.edge = grow(wk.edge, 6*min(k, streamNTSegment(mp)))
	edge := wk.edge
	avx := useAVX2
	seg := streamNTSegment(mp)
	for p0 := 0; p0 < k; p0 += seg {
		kc := min(seg, k-p0)
		for j := j0; j < j1; j += 6 {
			wp, ld, pfd := w[j*ldw+p0:], ldw, streamNTPFRows*4*ldw
			if j+6 > j1 {
				// The last W rows of the range: a zero-padded copy of their segment.
				clear(edge[:6*kc])
				for r := 0; r < j1-j; r++ {
					copy(edge[r*kc:(r+1)*kc], w[(j+r)*ldw+p0:(j+r)*ldw+p0+kc])
				}
				wp, ld, pfd = edge, kc, 0
			}
			for i0 := 0; i0 < mp; i0 += 16 {
				tw := 16
				if i0+16 >= mp {
					tw = last
				}
				ctp := ct[(j-j0)*mp+i0:]
				switch {
				case !avx:
					streamNT6Go(kc, tw, wp, ld, at[p0*mp+i0*kc:], ctp, mp)
				case tw == 16:
					streamNT6x16AVX2(kc, &wp[0], ld, &at[p0*mp+i0*kc], &ctp[0], mp, pfd)
				default:
					streamNT6x8AVX2(kc, &wp[0], ld, &at[p0*mp+i0*kc], &ctp[0], mp, pfd)
				}
			}
		}
	}
	for r := 0; r < j1-j0; r++ {
		for i := 0; i < m; i++ {
			c[i*ldc+j0+r] = ct[r*mp+i]
		}
	}
}

// streamNT6Go is the pure-Go kernel: the same chain of multiply-adds along k for every output
// (Go does not fuse them on amd64, so the last bits may differ from the assembly).
func streamNT6Go(kc, tw int, w []float32, ldw int, at []float32, ct []float32, ldct int) {
	for r := 0; r < 6; r++ {
		wr := w[r*ldw : r*ldw+kc]
		out := ct[r*ldct : r*ldct+tw]
		for p, x := range wr {
			pa := at[p*tw : p*tw+tw]
			for i, v := range pa {
				out[i] += x * v
			}
		}
	}
}
