package main

import (
	"bytes"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/datasets"
	"github.com/ventral-lab/ventral/train"
)

const mlpSpec = `name: mlp
input: [1, 28, 28]
meta: {preprocess: '{"mean":[0.1307],"std":[0.3081]}'}
layers:
  - {name: flatten, type: flatten}
  - {name: fc1, type: dense, out: 128}
  - {name: relu1, type: relu}
  - {name: fc2, type: dense, out: 10}
`

func execute(t *testing.T, args ...string) string {
	t.Helper()
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetErr(&out)
	rootCmd.SetArgs(args)
	if err := rootCmd.Execute(); err != nil {
		t.Fatalf("ventral %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return out.String()
}

// Trains the MLP for one epoch on an MNIST subset through the CLI, then checks the outputs and
// that `ventral eval` on the checkpoint reproduces the recorded test accuracy.
func TestTrainEvalMNIST(t *testing.T) {
	if _, err := datasets.Load("mnist", "test"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	dir := t.TempDir()
	spec := filepath.Join(t.TempDir(), "mlp.yaml")
	if err := os.WriteFile(spec, []byte(mlpSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	log := execute(t, "train", "--model", spec, "--data", "mnist", "--limit", "2000", "--test-limit", "1000",
		"--epochs", "1", "--batch", "50", "--seed", "3", "--lr", "0.05", "--out", dir, "--threads", "1")
	if !strings.Contains(log, "epoch 1/1 step 40") {
		t.Fatalf("log: %s", log)
	}
	rows, err := train.ReadMetrics(filepath.Join(dir, train.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].TestAcc < 0.7 {
		t.Fatalf("rows %+v", rows)
	}
	f, err := os.Open(filepath.Join(dir, train.CurvesFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, train.SpecFile)); err != nil {
		t.Fatal(err)
	}
	out := execute(t, "eval", "--model", dir, "--data", "mnist", "--test-limit", "1000")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if want := fmt.Sprintf("accuracy=%.4f", rows[0].TestAcc); lines[len(lines)-1] != want {
		t.Fatalf("eval printed %q, want last line %q", out, want)
	}
}
