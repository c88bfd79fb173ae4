package train

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ventral-lab/ventral/nn"
)

// A checkpoint whose weights hold NaN (or Inf) is refused when loaded, naming the file and the
// tensor; evaluating it used to report "training diverged; lower the learning rate".
func TestCheckpointWithNaNWeightsRefused(t *testing.T) {
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(-1))} {
		g, err := nn.ParseSpec([]byte("name: wee\ninput: [1, 4, 4]\nlayers:\n  - {name: conv1, type: conv2d, out: 2, kernel: 3}\n  - {name: flat, type: flatten}\n  - {name: fc, type: dense, out: 3}\n"), "wee")
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Build(1); err != nil {
			t.Fatal(err)
		}
		ModelTensors(g)["conv1.weight"].Data[4] = v
		p := filepath.Join(t.TempDir(), CheckpointFile)
		if err := SaveWeights(p, g, nil); err != nil {
			t.Fatal(err)
		}
		for what, load := range map[string]func() error{
			"LoadModel":   func() error { _, err := LoadModel(p); return err },
			"LoadWeights": func() error { return LoadWeights(g, p) },
		} {
			err := load()
			if err == nil || !strings.Contains(err.Error(), `"conv1.weight"`) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "NaN or infinite") || strings.Contains(err.Error(), "diverged;") {
				t.Errorf("%v in conv1.weight, %s: %v", v, what, err)
			}
		}
	}
}

// Resuming a folder without a checkpoint says so (it used to be a raw "open ...: no such file"
// from the reader), and leaves no folder or lock behind.
func TestResumeWithoutCheckpoint(t *testing.T) {
	never := filepath.Join(t.TempDir(), "never")
	for _, dir := range []string{never, t.TempDir()} {
		_, err := Resume(dir, Config{})
		if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "no checkpoint") || strings.Contains(err.Error(), "no such file") {
			t.Errorf("%s: %v", dir, err)
		}
	}
	if _, err := os.Stat(never); err == nil {
		t.Error("resume created the folder")
	}
}
