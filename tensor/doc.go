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
//   - kc, mc and nc are balanced (k = 300 gives two k blocks of 150, not 256 + 44).
//   - M edges use kernels with 1..5 rows (no wasted FMAs, direct stores); N edges (n % 16) run the
//     kernel into a 6x16 scratch tile and copy the valid columns.
//
// Micro-kernels (gemm_kernel_amd64.s, AVX2+FMA, selected at run time via golang.org/x/sys/cpu):
// an R x 16 tile (R = 1..6) lives in 2R ymm accumulators; each k step loads two 8-wide vectors of B,
// broadcasts R values of A and issues 2R VFMADD231PS; the k loop is unrolled by 4. beta is applied
// in the kernel on the first k block only (later blocks accumulate with beta = 1), and C is not read
// when beta == 0, so C may hold NaN garbage. All transpose combinations are absorbed by the packing
// routines (AVX2 copies for op(B) = B, 8x8 register transposes for op(B) = B^T), so the kernels see
// one layout. Pack buffers come from a sync.Pool: no allocation per call in steady state. Without
// AVX2+FMA, on other architectures, or with the purego build tag, a pure-Go kernel of the same
// shape is used with the same packing. There is no AVX-512 kernel (the development machine has none
// to test it on).
//
// Threads: problems of at least 2^18 multiply-adds are cut into stripes (whole 16-column panels
// when n >= m, else whole 6-row panels): up to 4 per goroutine, but at least 128 wide where that
// still leaves one per goroutine, since each stripe repacks the other operand. At most Threads()
// goroutines (and at most one per 2^17 multiply-adds) take stripes from an atomic counter, each
// with its own pack buffers. The caller works too, so a helper whose core is busy elsewhere only
// means the caller does more stripes. Smaller problems run on the calling goroutine.
//
// Measured (GFLOP/s, float32, medians of repeated timings, via GemmTable and numpy_gemm.py) on the
// development machine: 2-core AMD EPYC (Zen 3, 2.45 GHz nominal, AVX2+FMA, no AVX-512), shared with
// other jobs at load average 10-14 during the runs, so wall-clock numbers understate what an idle
// machine gives. "cpu" divides by the process's busy CPU time (per busy core) and is the stable
// figure; peak for one core at ~2.7-3 GHz is 86-96 GFLOP/s (the 6x16 kernel alone, L1 resident,
// measures 80-86 cpu-GFLOP/s). "1 thread" is GOMAXPROCS=1 / SetThreads(1) (gonum included) and
// OPENBLAS_NUM_THREADS=1; "2 threads" likewise with 2. gonum is gonum.org/v1/gonum/blas/gonum
// Sgemm (pure Go); numpy 1.24 uses OpenBLAS. GFLOP/s, wall / cpu:
//
//	shape            MxNxK          ours wall/cpu gonum wall/cpu numpy wall/cpu
//	1 thread:
//	square-512       512x512x512     32.5 /  62.7     2.6 /   5.2    35.5 /  75.2
//	lenet-conv1      6x784x25        22.0 /  43.6     1.8 /   3.7    10.6 /  22.7
//	lenet-conv1-b16  6x12544x25      18.7 /  37.0     2.6 /   5.8    12.1 /  24.4
//	lenet-conv2      16x100x150       7.1 /  40.6     4.7 /  12.5    21.6 /  45.3
//	lenet-conv2-b16  16x1600x150     24.2 /  71.1     2.5 /   7.0    25.8 /  53.3
//	cifar-conv1      32x1024x27      20.9 /  49.4     2.1 /   5.7    20.3 /  42.2
//	cifar-conv2      32x1024x288     18.4 /  57.2     2.1 /   6.4    26.0 /  50.5
//	cifar-conv3      64x256x288      26.0 /  70.3     3.5 /   8.9    35.3 /  72.9
//	cifar-conv4      64x256x576      27.2 /  67.8     3.2 /   8.6    38.0 /  72.0
//	alexnet-conv2    192x729x1600    21.7 /  70.2     2.4 /   6.6    37.1 /  75.5
//	fc4096-b16       16x4096x4096    14.8 /  35.8     1.1 /   3.1    17.3 /  34.5
//	2 threads:
//	square-512       512x512x512     22.1 /  62.2     3.2 /   6.3    26.7 /  56.4
//	lenet-conv1      6x784x25        25.7 /  49.2     4.9 /   4.9    11.4 /  23.6
//	lenet-conv1-b16  6x12544x25      39.7 /  39.5     3.5 /   3.5     7.5 /  15.3
//	lenet-conv2      16x100x150      17.9 /  33.4     3.6 /   7.1    23.7 /  45.5
//	lenet-conv2-b16  16x1600x150     20.1 /  36.7     3.9 /   7.3    21.3 /  45.0
//	cifar-conv1      32x1024x27      22.0 /  39.8     2.7 /   5.5    16.2 /  32.6
//	cifar-conv2      32x1024x288     49.3 /  50.6     3.8 /   5.3    23.0 /  45.5
//	cifar-conv3      64x256x288      27.4 /  52.3     9.8 /   9.8    28.6 /  61.9
//	cifar-conv4      64x256x576      54.4 /  54.2     3.2 /   5.5    30.8 /  62.2
//	alexnet-conv2    192x729x1600    24.8 /  60.0     3.3 /   6.6    35.4 /  70.9
//	fc4096-b16       16x4096x4096    12.3 /  26.0     1.8 /   3.8    16.9 /  34.2
//
// With two threads the wall-clock figures above are limited by the other jobs on the two cores
// (the process rarely had both); the per-core cpu figures show the split itself costs little.
// Reproduce with `go test ./tensor -bench Sgemm -benchtime=200ms -cpu 1,2` (reports GFLOP/s and
// cpu-GFLOP/s), GemmTable, and bench/peers/numpy_gemm.py.
