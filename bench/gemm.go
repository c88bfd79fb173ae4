package bench

import (
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ventral-lab/ventral/tensor"
)

//go:embed peers/numpy_gemm.py
var numpyGemmScript []byte

// NumpyGemm measures numpy's float32 matmul (OpenBLAS on Debian) for the shapes, at the given
// thread count, keyed "MxNxK". The script ships inside the binary.
func NumpyGemm(shapes []tensor.GemmShape, threads int, python string) (map[string]float64, error) {
	if python == "" {
		python = "/usr/bin/python3"
	}
	dir, err := os.MkdirTemp("", "ventral-peer")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "numpy_gemm.py")
	if err := os.WriteFile(script, numpyGemmScript, 0o644); err != nil {
		return nil, err
	}
	args := []string{script}
	for _, s := range shapes {
		args = append(args, fmt.Sprintf("%dx%dx%d", s.M, s.N, s.K))
	}
	cmd := exec.Command(python, args...)
	t := strconv.Itoa(threads)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS="+t, "OMP_NUM_THREADS="+t)
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("numpy peer: %v (is python3-numpy installed?)", err)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 4 && f[0] == "PEER" && f[1] == "gemm" {
			if v, err := strconv.ParseFloat(f[3], 64); err == nil {
				out[f[2]] = v
			}
		}
	}
	return out, nil
}
