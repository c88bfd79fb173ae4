package tensor

import (
	"sync"
	"sync/atomic"
)

// Dense layers: C = A·Wᵀ (+ beta·C) with A the batch (m x k) and W the weights (n x k, a row per
// output). When W is large (AlexNet's fc6 is 4096 x 9216, 151 MB; fc7 4096 x 4096, 67 MB) and the
// batch is small, the product is bound by reading W from memory, and the packed path of Sgemm
// reads W, writes it packed into panels and reads the panels again (~4.7 GB/s of W at batch 16).
// SgemmNT instead reads W in place, once per call: dot products of rows of A and rows of W in
// 8-lane partial sums over k segments of streamNTKC floats. A segment of 4 W rows stays in L1
// while every row block of A uses it (A's segment is copied with a row stride that does not alias
// in L1: AlexNet's row strides are multiples of 4 KiB), the kernels prefetch the W rows two
// blocks on, and each segment's reduced sums are added to C.
//
// Measured on the development machine (2-core AMD EPYC, Zen 3), CPU time, the two paths
// alternated in one process, 15-20 rounds, median of the per-round ratios packed/streamed
// [quartiles]:
//
//	shape (m x n x k)   1 thread: packed -> streamed ms       2 threads (CPU ms of both cores)
//	fc6 16x4096x9216    31.6 -> 22.2, 1.43x [1.38 1.44]       24.8 -> 18.9, 1.31x [1.29 1.32]
//	fc7 16x4096x4096    13.7 ->  9.9, 1.37x [1.33 1.40]       10.9 ->  8.9, 1.22x [1.21 1.23]
//	fc8 16x1000x4096     2.7 ->  2.1, 1.27x [1.24 1.35]        2.6 ->  2.0, 1.31x [1.25 1.31]
//	1x4096x9216         19.0 -> 11.1, 1.66x (13.6 GB/s of W)  14.9 ->  9.4, 1.59x
//	64x4096x9216        71.8 -> 76.5, 0.94x                   64.8 -> 69.5, 0.93x
//	128x4096x4096       55.8 -> 65.0, 0.86x                   52.7 -> 61.0, 0.86x
//
// AlexNet inference (alexnet-torchvision, batch 16): 1.045x [1.041 1.048] at 1 thread (234 -> 224
// CPU ms per batch), 1.040x [1.032 1.046] at 2 threads. The streamed path loses from a batch of
// about 48 (at 128, where A's segment no longer fits L1 beside W's, by 14%), but the choice may
// not depend on m (below), and dense layers this large run at small batches in inference.
//
// Batch invariance: the path is chosen by the weight shape only (never by m), and every output is
// computed by the same sequence of operations whichever kernel (3, 2 or 1 rows of A; 4 or 1 rows
// of W) and whichever thread computes it, so a sample's outputs are the same bit for bit in any
// batch and at any thread count (TestSgemmNTRowsIndependentOfM).

const (
	// streamNTKC is the k segment: 4 W rows (4 KiB) and A's segment for 16 rows (17 KiB) stay in L1.
	streamNTKC = 256
	// streamNTLDA is the row stride of the copied A segment: one cache line more than the segment.
	streamNTLDA = streamNTKC + 16
	// streamNTPFRows is how far ahead along W (in rows) the kernels prefetch: two 4-row blocks
	// (1, 4 and 8 blocks measured within noise of it on fc6).
	streamNTPFRows = 8
)

// streamNTMinW is the number of weights (k*n, 4 MiB) from which SgemmNT streams W instead of
// packing it: W well beyond L2, read from memory on every call (fc8's 4 M weights gain 1.27x).
var streamNTMinW = 1 << 20

// streamNTOn switches the streamed path (tests and measurements compare it with the packed path).
var streamNTOn = true

// SgemmNT computes C = A·Wᵀ + beta·C, where A is m x k (rows lda apart) and W is n x k (rows ldw
// apart): a dense layer's batch against its weights. Weights of at least 2^20 floats are read in
// place (see above); smaller ones go through Sgemm. When beta == 0, C is not read.
func SgemmNT(m, n, k int, a []float32, lda int, w []float32, ldw int, beta float32, c []float32, ldc int) {
	if !streamNTOn || k*n < streamNTMinW || k < 8 {
		Sgemm(false, true, m, n, k, 1, a, lda, w, ldw, beta, c, ldc)
		return
	}
	checkGemm(false, true, m, n, k, a, lda, w, ldw, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	scaleC(m, n, beta, c, ldc)
	threads := Threads()
	units := (n + 3) / 4
	if threads <= 1 || units < 2 {
		streamNTRange(0, n, m, k, a, lda, w, ldw, c, ldc)
		return
	}
	// Stripes of whole 4-row W blocks, handed out dynamically as in gemmParallel: each goroutine
	// streams its own rows of W; a stripe is at least 128 rows so that its runs along W are long.
	chunks := min(units, threads*gemmChunksPerThread, max(threads, n/gemmChunkMin))
	threads = min(threads, chunks)
	var next atomic.Int64
	work := func() {
		for {
			t := int(next.Add(1) - 1)
			if t >= chunks {
				return
			}
			lo := units * t / chunks * 4
			hi := min(units*(t+1)/chunks*4, n)
			streamNTRange(lo, hi, m, k, a, lda, w, ldw, c, ldc)
		}
	}
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

// streamNTRange adds A·Wᵀ to columns j0..j1-1 of C.
func streamNTRange(j0, j1, m, k int, a []float32, lda int, w []float32, ldw int, c []float32, ldc int) {
	k8 := k &^ 7
	avx := useAVX2
	// A's segment is copied into rows streamNTLDA apart: rows of A whose stride is a multiple of
	// 4 KiB (9216 or 4096 floats) would all fall in the same L1 sets and evict each other.
	wk := gemmPool.Get().(*gemmWork)
	wk.a = grow(wk.a, m*streamNTLDA)
	ap := wk.a
	for p0 := 0; p0 < k8; p0 += streamNTKC {
		kc := min(streamNTKC, k8-p0)
		for i := 0; i < m; i++ {
			copy(ap[i*streamNTLDA:i*streamNTLDA+kc], a[i*lda+p0:i*lda+p0+kc])
		}
		j := j0
		for ; j+4 <= j1; j += 4 {
			if avx {
				streamNTBlockAVX2(kc, m, ap, streamNTLDA, w[j*ldw+p0:], ldw, 4, c[j:], ldc, streamNTPFRows*4*ldw)
			} else {
				streamNTBlockGo(kc, m, ap, streamNTLDA, w[j*ldw+p0:], ldw, 4, c[j:], ldc)
			}
		}
		for ; j < j1; j++ {
			if avx {
				streamNTBlockAVX2(kc, m, ap, streamNTLDA, w[j*ldw+p0:], ldw, 1, c[j:], ldc, 0)
			} else {
				streamNTBlockGo(kc, m, ap, streamNTLDA, w[j*ldw+p0:], ldw, 1, c[j:], ldc)
			}
		}
	}
	gemmPool.Put(wk)
	if k8 == k {
		return
	}
	// The k tail, the same for every output.
	for i := 0; i < m; i++ {
		ar := a[i*lda+k8 : i*lda+k]
		for j := j0; j < j1; j++ {
			wr := w[j*ldw+k8 : j*ldw+k]
			var s float32
			for p, x := range ar {
				s += x * wr[p]
			}
			c[i*ldc+j] += s
		}
	}
}

// streamNTBlockAVX2 adds to C's columns 0..nr-1 (nr = 4, or 1 with a scratch tile) the dot
// products over kc (a multiple of 8) of every row of A with nr rows of W; the kernel calls
// prefetch the same columns pfd bytes further along W.
func streamNTBlockAVX2(kc, m int, a []float32, lda int, w []float32, ldw, nr int, c []float32, ldc int, pfd int) {
	if nr == 4 {
		// Blocks of 3 rows of A; 4 rows left go as 2+2 (a 1-row kernel waits on its FMA latency).
		m3 := m - m%3
		if m%3 == 1 && m > 1 {
			m3 -= 3
		}
		i := 0
		for ; i < m3; i += 3 {
			streamNT3x4AVX2(kc, &a[i*lda], lda, &w[0], ldw, &c[i*ldc], ldc, pfd)
		}
		for ; i+2 <= m; i += 2 {
			streamNT2x4AVX2(kc, &a[i*lda], lda, &w[0], ldw, &c[i*ldc], ldc, pfd)
		}
		if i < m {
			streamNT1x4AVX2(kc, &a[i*lda], lda, &w[0], ldw, &c[i*ldc], ldc, pfd)
		}
		return
	}
	// One W row: the kernel reads it four times (ldw = 0) into a scratch tile whose first column
	// is C's; the arithmetic of that column is the same as in a 4-row block.
	var tile [12]float32
	for i := 0; i < m; i += 3 {
		r := min(3, m-i)
		for ii := 0; ii < r; ii++ {
			tile[ii*4] = c[(i+ii)*ldc]
		}
		switch r {
		case 3:
			streamNT3x4AVX2(kc, &a[i*lda], lda, &w[0], 0, &tile[0], 4, 0)
		case 2:
			streamNT2x4AVX2(kc, &a[i*lda], lda, &w[0], 0, &tile[0], 4, 0)
		case 1:
			streamNT1x4AVX2(kc, &a[i*lda], lda, &w[0], 0, &tile[0], 4, 0)
		}
		for ii := 0; ii < r; ii++ {
			c[(i+ii)*ldc] = tile[ii*4]
		}
	}
}

// streamNTBlockGo is the pure-Go kernel: the same 8-lane partial sums and reduction tree as the
// assembly (Go does not fuse the multiply-add on amd64, so the last bits may differ from it).
func streamNTBlockGo(kc, m int, a []float32, lda int, w []float32, ldw, nr int, c []float32, ldc int) {
	for jj := 0; jj < nr; jj++ {
		wr := w[jj*ldw : jj*ldw+kc]
		for i := 0; i < m; i++ {
			ar := a[i*lda : i*lda+kc]
			var s [8]float32
			for p := 0; p+8 <= kc; p += 8 {
				x := (*[8]float32)(ar[p:])
				y := (*[8]float32)(wr[p:])
				s[0] += x[0] * y[0]
				s[1] += x[1] * y[1]
				s[2] += x[2] * y[2]
				s[3] += x[3] * y[3]
				s[4] += x[4] * y[4]
				s[5] += x[5] * y[5]
				s[6] += x[6] * y[6]
				s[7] += x[7] * y[7]
			}
			c[i*ldc+jj] += ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
		}
	}
}
