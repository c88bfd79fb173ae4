package benchmarks

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/formats/npy"
)

// python is the independent implementation the end-to-end tests check Score against.
const python = "/usr/bin/python3"

// runPython runs script (with args) in dir under /usr/bin/python3 with numpy, scipy and
// scikit-learn, and decodes the JSON it prints into out. Without them the test skips, or fails
// when CI is set.
func runPython(t *testing.T, dir, script string, out any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, python, "-c", "import numpy, scipy, sklearn").Run(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s with numpy, scipy and sklearn is required under CI: %v", python, err)
		}
		t.Skipf("%s with numpy, scipy and sklearn not available: %v", python, err)
	}
	p := filepath.Join(dir, "check.py")
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, python, append([]string{p}, args...)...)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("python output: %v\n%s", err, b)
	}
}

// writeNpy writes a float64 array for python.
func writeNpy(t *testing.T, dir, name string, shape []int, data []float64) {
	t.Helper()
	if err := npy.Write(filepath.Join(dir, name), &npy.Array{Shape: shape, Data: data}); err != nil {
		t.Fatal(err)
	}
}

func intsToFloats(x []int) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
