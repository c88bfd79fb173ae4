package bench

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ventral-lab/ventral/tensor"
)

//go:embed peers/numpy_gemm.py
var numpyGemmScript []byte

// peerBLASUnset are environment variables that pin OpenBLAS to a core type or cache size: they
// may be set on a machine for old builds, and would make the peer run a kernel other than its
// native one. They are removed from the peer's own environment only.
var peerBLASUnset = []string{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"}

// BLASInfo is what the numpy peer reports about the BLAS it loaded.
type BLASInfo struct {
	Numpy  string // numpy version
	Lib    string // the OpenBLAS library numpy loaded ("" when not OpenBLAS)
	Core   string // openblas_get_corename: the kernel family OpenBLAS chose for this CPU
	Config string // openblas_get_config
	// Threads is openblas_get_num_threads in the peer (what OPENBLAS_NUM_THREADS gave).
	Threads int
}

func (b BLASInfo) String() string {
	if b.Lib == "" {
		return "numpy " + b.Numpy + " (no OpenBLAS library found in the process)"
	}
	return fmt.Sprintf("numpy %s, OpenBLAS core=%s threads=%d (%s; %s)", b.Numpy, b.Core, b.Threads, b.Config, b.Lib)
}

// peerEnv is this process's environment for a BLAS peer at the given thread count, without
// the variables of peerBLASUnset.
func peerEnv(threads int) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		drop := k == "OPENBLAS_NUM_THREADS" || k == "OMP_NUM_THREADS"
		for _, u := range peerBLASUnset {
			drop = drop || k == u
		}
		if !drop {
			env = append(env, kv)
		}
	}
	t := strconv.Itoa(threads)
	return append(env, "OPENBLAS_NUM_THREADS="+t, "OMP_NUM_THREADS="+t)
}

// PeerRate is a peer's GEMM throughput: by wall time and by the process's CPU time (GFLOP/s per
// busy core).
type PeerRate struct{ GFLOPS, CPUGFLOPS float64 }

// NumpyGemm measures numpy's float32 matmul (OpenBLAS on Debian) for the shapes, at the given
// thread count, keyed "MxNxK", for about minTime per shape (default 0.5 s), and reports which
// BLAS and kernel ran. The script ships inside the binary.
func NumpyGemm(shapes []tensor.GemmShape, threads int, minTime time.Duration, python string) (map[string]PeerRate, BLASInfo, error) {
	if python == "" {
		python = "/usr/bin/python3"
	}
	if minTime <= 0 {
		minTime = 500 * time.Millisecond
	}
	dir, err := os.MkdirTemp("", "ventral-peer")
	if err != nil {
		return nil, BLASInfo{}, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "numpy_gemm.py")
	if err := os.WriteFile(script, numpyGemmScript, 0o644); err != nil {
		return nil, BLASInfo{}, err
	}
	args := []string{script, "--min-time", strconv.FormatFloat(minTime.Seconds(), 'f', 3, 64)}
	for _, s := range shapes {
		args = append(args, fmt.Sprintf("%dx%dx%d", s.M, s.N, s.K))
	}
	cmd := exec.Command(python, args...)
	cmd.Env = peerEnv(threads)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, BLASInfo{}, fmt.Errorf("numpy peer: %v: %s (is python3-numpy installed?)", err, lastLine(stderr.String()))
	}
	out, info := parseNumpyGemm(string(b))
	return out, info, nil
}

// parseNumpyGemm reads the script's "PEER gemm MxNxK GFLOPS CPU-GFLOPS" and "PEER blas-KEY
// VALUE" lines.
func parseNumpyGemm(s string) (map[string]PeerRate, BLASInfo) {
	out := map[string]PeerRate{}
	var info BLASInfo
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "PEER" {
			continue
		}
		rest := strings.TrimSpace(strings.SplitN(line, f[1], 2)[1])
		switch f[1] {
		case "gemm":
			if len(f) != 5 {
				continue
			}
			w, err1 := strconv.ParseFloat(f[3], 64)
			c, err2 := strconv.ParseFloat(f[4], 64)
			if err1 == nil && err2 == nil {
				out[f[2]] = PeerRate{w, c}
			}
		case "blas-numpy":
			info.Numpy = rest
		case "blas-lib":
			info.Lib = rest
		case "blas-core":
			info.Core = rest
		case "blas-config":
			info.Config = rest
		case "blas-threads":
			info.Threads, _ = strconv.Atoi(rest)
		}
	}
	return out, info
}

// GemmOptions control `ventral bench gemm`.
type GemmOptions struct {
	Threads []int              // thread counts (default 1 and 2), for ours, gonum and numpy
	MinTime time.Duration      // measuring time per shape and implementation (default 0.5 s)
	Shapes  []tensor.GemmShape // default ZooGemmShapes
	NoPeer  bool
	Python  string
}

// GemmRow is one shape at one thread count.
type GemmRow struct {
	tensor.GemmResult
	Threads int
	Numpy   PeerRate // zero without the peer
}

// GemmRun is the GEMM benchmark at one thread count: the FMA peak measured in the same run,
// the peer's BLAS and the rows.
type GemmRun struct {
	Threads int
	Peak    tensor.PeakResult // zero where there is no peak loop (PeakErr)
	PeakErr error
	BLAS    BLASInfo
	PeerErr error
	Rows    []GemmRow
}

// Gemm times single-precision GEMM (ours, gonum, numpy/OpenBLAS) on the shapes at each thread
// count, beside the machine's FMA peak at that count. Figures are medians of repeated batches.
func Gemm(o GemmOptions, progress func(string)) ([]GemmRun, error) {
	if len(o.Threads) == 0 {
		o.Threads = []int{1, 2}
	}
	if o.MinTime <= 0 {
		o.MinTime = 500 * time.Millisecond
	}
	if len(o.Shapes) == 0 {
		var err error
		if o.Shapes, err = ZooGemmShapes(); err != nil {
			return nil, err
		}
	}
	prevProcs, prevThreads := runtime.GOMAXPROCS(0), tensor.Threads()
	defer func() { runtime.GOMAXPROCS(prevProcs); tensor.SetThreads(prevThreads) }()
	var runs []GemmRun
	for _, t := range o.Threads {
		if t < 1 {
			return runs, fmt.Errorf("gemm: %d threads; expected 1 or more", t)
		}
		runtime.GOMAXPROCS(t) // gonum parallelises over GOMAXPROCS
		tensor.SetThreads(t)
		run := GemmRun{Threads: t}
		if progress != nil {
			progress(fmt.Sprintf("threads=%d: FMA peak, then ours and gonum on %d shapes", t, len(o.Shapes)))
		}
		run.Peak, run.PeakErr = tensor.FMAPeak(t, o.MinTime)
		var peer map[string]PeerRate
		if !o.NoPeer {
			if progress != nil {
				progress(fmt.Sprintf("threads=%d: numpy", t))
			}
			peer, run.BLAS, run.PeerErr = NumpyGemm(o.Shapes, t, o.MinTime, o.Python)
		}
		for _, r := range tensor.GemmTable(o.Shapes, o.MinTime) {
			run.Rows = append(run.Rows, GemmRow{GemmResult: r, Threads: t, Numpy: peer[fmt.Sprintf("%dx%dx%d", r.M, r.N, r.K)]})
		}
		runs = append(runs, run)
	}
	return runs, nil
}

// Print writes the run's table. GFLOP/s by wall time first; then by CPU time (per busy core),
// which stays meaningful on a machine shared with other jobs: ours over numpy, and ours and
// numpy as fractions of the FMA peak per busy core at the same thread count. (OpenBLAS threads
// spin while they wait, which lowers its per-busy-core figure at 2 threads.)
func (run GemmRun) Print(w io.Writer) {
	fmt.Fprintf(w, "# threads=%d: ", run.Threads)
	if run.PeakErr != nil {
		fmt.Fprintf(w, "no FMA peak (%v)\n", run.PeakErr)
	} else {
		fmt.Fprintf(w, "FMA peak %.1f GFLOP/s (best run; median %.1f), %.1f per busy core (%s)\n", run.Peak.GFLOPS, run.Peak.MedianGFLOPS, run.Peak.CPUGFLOPS, run.Peak.Kernel)
	}
	switch {
	case run.PeerErr != nil:
		fmt.Fprintf(w, "# threads=%d: peer unavailable: %v\n", run.Threads, run.PeerErr)
	case run.BLAS.Numpy != "":
		fmt.Fprintf(w, "# threads=%d: peer %s; %s unset for the peer\n", run.Threads, run.BLAS, strings.Join(peerBLASUnset, " and "))
	}
	fmt.Fprintf(w, "%-28s %-14s %3s | %7s %7s %7s %6s | %8s %8s %6s | %9s %9s\n", "shape", "MxNxK", "thr",
		"ours", "gonum", "numpy", "ratio", "ours/cpu", "npy/cpu", "ratio", "ours/peak", "npy/peak")
	f1 := func(v float64) string {
		if v <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f", v)
	}
	div := func(a, b float64) string {
		if a <= 0 || b <= 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", a/b)
	}
	for _, r := range run.Rows {
		fmt.Fprintf(w, "%-28s %-14s %3d | %7.1f %7.1f %7s %6s | %8s %8s %6s | %9s %9s\n", r.Name, fmt.Sprintf("%dx%dx%d", r.M, r.N, r.K), r.Threads,
			r.OursGFLOPS, r.GonumGFLOPS, f1(r.Numpy.GFLOPS), div(r.OursGFLOPS, r.Numpy.GFLOPS),
			f1(r.OursCPUGFLOPS), f1(r.Numpy.CPUGFLOPS), div(r.OursCPUGFLOPS, r.Numpy.CPUGFLOPS),
			div(r.OursCPUGFLOPS, run.Peak.CPUGFLOPS), div(r.Numpy.CPUGFLOPS, run.Peak.CPUGFLOPS))
	}
}
