package bench

import (
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/tensor"
)

func TestParseNumpyGemm(t *testing.T) {
	out := "PEER blas-numpy 1.24.2\nPEER blas-lib /usr/lib/libopenblasp-r0.3.21.so\nPEER blas-core Zen\n" +
		"PEER blas-config OpenBLAS 0.3.21 DYNAMIC_ARCH Zen\nPEER blas-threads 2\nPEER gemm 512x512x512 60.5 61.25\nPEER gemm 1x2x3 oops 1\n"
	rates, info := parseNumpyGemm(out)
	if len(rates) != 1 || rates["512x512x512"] != (PeerRate{60.5, 61.25}) {
		t.Errorf("rates %v", rates)
	}
	want := BLASInfo{Numpy: "1.24.2", Lib: "/usr/lib/libopenblasp-r0.3.21.so", Core: "Zen", Config: "OpenBLAS 0.3.21 DYNAMIC_ARCH Zen", Threads: 2}
	if info != want {
		t.Errorf("info %+v", info)
	}
}

// The peer's environment drops the OpenBLAS pins and sets its thread count; ours keeps them.
func TestPeerEnv(t *testing.T) {
	t.Setenv("OPENBLAS_CORETYPE", "Prescott")
	t.Setenv("OPENBLAS_L2_SIZE", "262144")
	t.Setenv("OPENBLAS_NUM_THREADS", "7")
	env := peerEnv(2)
	for _, kv := range env {
		if strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") || strings.HasPrefix(kv, "OPENBLAS_L2_SIZE=") || kv == "OPENBLAS_NUM_THREADS=7" {
			t.Errorf("peer environment keeps %s", kv)
		}
	}
	if !slices.Contains(env, "OPENBLAS_NUM_THREADS=2") || !slices.Contains(env, "OMP_NUM_THREADS=2") {
		t.Errorf("thread count not set: %v", env)
	}
	if os.Getenv("OPENBLAS_CORETYPE") != "Prescott" {
		t.Error("our own environment changed")
	}
}

// With OPENBLAS_CORETYPE pinned to an old core in our environment, the numpy peer still runs
// OpenBLAS's native kernel at the thread count asked for, and says which.
func TestNumpyGemmNativeKernel(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("numpy peer missing: ", err)
		}
		t.Skip("numpy not installed: ", err)
	}
	t.Setenv("OPENBLAS_CORETYPE", "Prescott")
	t.Setenv("OPENBLAS_L2_SIZE", "65536")
	shapes := []tensor.GemmShape{{Name: "small", M: 32, N: 48, K: 64}}
	rates, info, err := NumpyGemm(shapes, 1, 20*time.Millisecond, "")
	if err != nil {
		t.Fatal(err)
	}
	if r := rates["32x48x64"]; !(r.GFLOPS > 0) {
		t.Fatalf("rates %v", rates)
	}
	if info.Numpy == "" {
		t.Fatalf("no numpy version: %+v", info)
	}
	if info.Lib == "" {
		t.Skipf("numpy does not use OpenBLAS here: %+v", info)
	}
	if info.Core == "" || strings.EqualFold(info.Core, "Prescott") || info.Threads != 1 || !strings.Contains(info.Config, "OpenBLAS") {
		t.Fatalf("peer BLAS %+v", info)
	}
	t.Log(info)
}

// A short GEMM benchmark without the peer: one row per shape and thread count, figures positive,
// the peak measured, thread settings restored.
func TestGemmRun(t *testing.T) {
	prev := tensor.Threads()
	runs, err := Gemm(GemmOptions{Threads: []int{1, 2}, MinTime: 10 * time.Millisecond, NoPeer: true,
		Shapes: []tensor.GemmShape{{Name: "tiny", M: 8, N: 40, K: 16}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || len(runs[1].Rows) != 1 || runs[1].Rows[0].Threads != 2 || !(runs[0].Rows[0].OursGFLOPS > 0) {
		t.Fatalf("runs %+v", runs)
	}
	if tensor.MaxKernelLevel() >= tensor.KernelsAVX2 && (runs[0].PeakErr != nil || !(runs[0].Peak.GFLOPS > 0)) {
		t.Fatalf("no peak: %v", runs[0].PeakErr)
	}
	if tensor.Threads() != prev {
		t.Errorf("threads left at %d, were %d", tensor.Threads(), prev)
	}
	var b strings.Builder
	runs[0].Print(&b)
	if !strings.Contains(b.String(), "tiny") || !strings.Contains(b.String(), "8x40x16") {
		t.Errorf("table:\n%s", b.String())
	}
	if _, err := Gemm(GemmOptions{Threads: []int{0}}, nil); err == nil {
		t.Error("0 threads accepted")
	}
}

func TestHeaderAndPeakLine(t *testing.T) {
	h := Header()
	for _, want := range []string{"kernels=" + tensor.CurrentKernelLevel().String(), "avx512f", "avx2"} {
		if !strings.Contains(h, want) {
			t.Errorf("header %q lacks %q", h, want)
		}
	}
	line := PeakLine(tensor.PeakResult{Threads: 2, GFLOPS: 180, MedianGFLOPS: 150, CPUGFLOPS: 91, Kernel: "k"})
	if line != "BENCH peak-fma threads=2 gflops=180.0 per_thread=90.0 median=150.0 per_busy_core=91.0 (k)" {
		t.Errorf("line %q", line)
	}
}
