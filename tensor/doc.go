package tensor

// Single-precision GEMM: design and measurements
//
// Sgemm follows the GotoBLAS/BLIS scheme. C (m x n) is a sum over k blocks of products of packed
// panels:
//
//	for jc in steps of nc over n:        packed B block kc x nc (L3: 256 x 3072 floats = 3 MiB)
//	  for pc in steps of kc over k:
//	    pack op(B)[pc:pc+kc, jc:jc+nc] into 16-column micro-panels (kc x 16, zero padded)
//	    for ic in steps of mc over m:    packed A block mc x kc (L2: 120 x 256 floats = 120 KiB)
//	      pack op(A)[ic:ic+mc, pc:pc+kc] into 6-row micro-panels (kc x 6, zero padded)
//	      for jr in steps of 16:         B micro-panel (16 KiB) stays in L1
//	        for ir in steps of 6:
//	          micro-kernel: C[ir:ir+6, jr:jr+16] (+)= alpha * A micro-panel * B micro-panel
//
// Special cases that matter for convolution-shaped problems (few output channels m, many pixels n):
//
//   - When all of A fits one m block the loop runs k-outer: A is packed once per k block and B is
//     streamed in L2-sized blocks (nc = 256) read as whole rows.
//   - For m <= 6 (or m <= 18 with a row stride that does not alias in L1), op(B) not transposed is
//     not packed at all: the kernels take a B row stride and read B in place, since a packed panel
//     would be used by at most three micro-kernel calls.
//   - Skinny products (m <= 24 rows against an op(B) = B larger than L2: a dense layer at batch 16
//     and its input gradient) are bound by reading B from memory, once. With a row stride that
//     does not alias in the caches, gemmSkinny reads B in place: the first row panel's kernel
//     copies each 16-column micro-panel into an L1 buffer for the other row panels as it
//     multiplies, and prefetches B's rows 512 bytes ahead. With a power-of-two stride (4096
//     columns) in-place reads thrash a cache set, so B is packed in 128 x 512 blocks and the
//     kernels prefetch the next block while they compute on this one. On 2 threads such a GEMM
//     is cut into 2 column stripes per thread.
//   - A dense layer's forward product against a large weight matrix, C = A·Wᵀ with W n x k read
//     along its rows (op(B) = Bᵀ), goes through SgemmNT (densent.go) when W has at least 2^20
//     floats: W is read in place, once, by a broadcast kernel against packed panels of Aᵀ,
//     instead of being packed on every call (AlexNet's fc6 at batch 16: 1.47x at one thread). The
//     choice depends on W's shape only, so a sample's outputs do not depend on the batch.
//   - C narrower than 16 columns and partial micro-panels pack with AVX2 masked loads (B) and
//     against zero rows (A), not element by element.
//   - kc, mc and nc are balanced (k = 300 gives two k blocks of 150, not 256 + 44).
//   - M edges use kernels with 1..5 rows (no wasted FMAs, direct stores); N edges (n % 16) run the
//     kernel into a 6x16 scratch tile and copy the valid columns.
//
// Micro-kernels (gemm_kernel_amd64.s, AVX2+FMA, used when the kernel level of cpulevel.go is avx2):
// an R x 16 tile (R = 1..6) lives in 2R ymm accumulators; each k step loads two 8-wide vectors of B,
// broadcasts R values of A and issues 2R VFMADD231PS; the k loop is unrolled by 4. beta is applied
// in the kernel on the first k block only (later blocks accumulate with beta = 1), and C is not read
// when beta == 0, so C may hold NaN garbage. All transpose combinations are absorbed by the packing
// routines (AVX2 copies for op(B) = B, 8x8 register transposes for op(B) = B^T), so the kernels see
// one layout. Pack buffers come from a sync.Pool: no allocation per call in steady state. Without
// AVX2+FMA, on other architectures, or with the purego build tag, a pure-Go kernel of the same
// shape is used with the same packing.
//
// At the avx512 level (gemm512_amd64.s) a 6x16 tile lives in 6 zmm accumulators, and where two
// whole micro-panels sit side by side a 6x32 tile takes both in one pass over the A panel (12
// chains, enough for both FMA pipes), with a variant that prefetches the next block of a B
// streamed from memory. Each output is the same FMA chain over k as in the AVX2 kernel, so the two
// levels give the same bits. On a Zen 5 EPYC (FMA peak 237 GFLOP/s a core with zmm, 120 with ymm)
// the conv shapes below run at 140-190 GFLOP/s, 1.6-1.8x the AVX2 level, and square 512 at 194
// against OpenBLAS's 200 (its AVX-512 kernels); see the README's measuring section.
//
// Threads: problems of at least 2^18 multiply-adds are cut into stripes (whole 16-column panels
// when n >= m, else whole 6-row panels): up to 4 per goroutine, but at least 128 wide where that
// still leaves one per goroutine, since each stripe repacks the other operand. At most Threads()
// goroutines (and at most one per 2^17 multiply-adds) take stripes from an atomic counter, each
// with its own pack buffers. The caller works too, so a helper whose core is busy elsewhere only
// means the caller does more stripes. Smaller problems run on the calling goroutine.
//
// Measured (GFLOP/s, float32, medians of repeated timings, via GemmTable and numpy's matmul) on an
// earlier development machine: 2-core AMD EPYC (Zen 3, 2.45 GHz nominal, AVX2+FMA, no AVX-512), shared with
// other jobs (load average about 4 during this run, 8-20 at other times), so wall-clock figures
// vary from run to run. "cpu" divides by the process's busy CPU time (GFLOP/s per busy core) and
// is the steadier figure. The 6x16 kernel alone (L1-resident panels) measures 80-86 cpu-GFLOP/s,
// against the core's FMA peak of 92-100 (FMAPeak: independent FMAs only, `ventral bench peak`). "1 thread" is GOMAXPROCS=1 / SetThreads(1) (gonum included) and
// OPENBLAS_NUM_THREADS=1; "2 threads" likewise with 2. gonum is gonum.org/v1/gonum/blas/gonum
// Sgemm (pure Go); numpy 1.24 uses OpenBLAS. wall / cpu:
//
//	shape            MxNxK          ours wall/cpu gonum wall/cpu numpy wall/cpu
//	1 thread:
//	square-512       512x512x512     81.5 /  81.1     5.9 /   6.0    64.7 /  64.6
//	lenet-conv1      6x784x25        67.9 /  67.5     6.6 /   6.5    15.9 /  15.9
//	lenet-conv1-b16  6x12544x25      43.9 /  43.6     5.2 /   5.1    20.6 /  20.6
//	lenet-conv2      16x100x150      42.8 /  42.5     8.1 /   8.0    35.4 /  35.4
//	lenet-conv2-b16  16x1600x150     69.0 /  70.1     8.8 /   8.8    45.9 /  45.8
//	cifar-conv1      32x1024x27      50.7 /  50.3     7.9 /   7.9    33.5 /  33.5
//	cifar-conv2      32x1024x288     67.1 /  66.6     7.8 /   7.7    52.3 /  52.3
//	cifar-conv3      64x256x288      79.2 /  78.7     9.8 /   9.7    60.2 /  60.3
//	cifar-conv4      64x256x576      65.2 /  64.7     6.2 /   6.2    61.8 /  61.7
//	alexnet-conv2    192x729x1600    78.7 /  78.0     7.4 /   7.4    68.8 /  68.7
//	fc4096-b16       16x4096x4096    38.5 /  38.3     3.1 /   3.1    36.9 /  36.9
//	2 threads:
//	square-512       512x512x512    141.0 /  73.2    12.0 /   6.1   132.1 /  66.0
//	lenet-conv1      6x784x25        46.4 /  46.2     5.1 /   4.6    24.7 /  15.5
//	lenet-conv1-b16  6x12544x25      40.4 /  35.0     4.3 /   3.6    20.5 /  10.3
//	lenet-conv2      16x100x150      44.0 /  44.2     8.8 /   8.8    33.1 /  20.4
//	lenet-conv2-b16  16x1600x150     47.9 /  48.0     4.1 /   5.5    70.7 /  35.3
//	cifar-conv1      32x1024x27      34.5 /  35.2     5.7 /   4.1    48.9 /  24.5
//	cifar-conv2      32x1024x288     70.1 /  46.1    12.1 /   6.3    87.8 /  43.8
//	cifar-conv3      64x256x288      55.3 /  45.9    10.4 /   5.7   100.4 /  50.2
//	cifar-conv4      64x256x576      80.5 /  56.0    11.4 /   6.0   109.2 /  54.6
//	alexnet-conv2    192x729x1600   123.3 /  63.5     9.3 /   4.7   119.6 /  59.8
//	fc4096-b16       16x4096x4096    53.6 /  27.2     7.5 /   3.8    61.9 /  30.9
//
// The 2-thread rows were measured with a static two-stripe split (commit 49a263a); stripes are now
// handed out dynamically, which matters when one core is busy with other work. Reproduce with
// `go test ./tensor -bench Sgemm -benchtime=200ms -cpu 1,2` (reports GFLOP/s and cpu-GFLOP/s),
// GemmTable, and bench/peers/numpy_gemm.py.
